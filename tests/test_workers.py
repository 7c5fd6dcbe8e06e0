"""The second process that draws the print map and the report (``assetmap.pipeline._workers``)."""

from __future__ import annotations

import base64
import subprocess
import sys
import threading
from concurrent.futures import Future
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/ helper modules
import outputs_fixtures as fx

import assetmap as am
from assetmap.pipeline._workers import OutputWorker, _start_method, collect, output_worker, write_drawn
from assetmap.errors import ConfigError, RepairWarning, SchemaError

START_METHODS = [
    pytest.param("fork", marks=pytest.mark.skipif(
        sys.platform != "linux", reason="the worker is forked only on Linux")),
    "interpreter",
]


@pytest.fixture(params=START_METHODS)
def worker(request):
    pool = OutputWorker(start=request.param)
    yield pool
    pool.close()


def _job(folder: Path) -> dict:
    return {
        "scored": fx.scored_ector(),
        "paths": {"png": folder / "map.png", "report": folder / "report.html"},
        "title": "Ector County <test> & map",
        "context": fx.ector_county(),
    }


def test_worker_writes_the_same_files_as_one_process(worker, tmp_path):
    here, there = tmp_path / "one", tmp_path / "two"
    here.mkdir()
    there.mkdir()
    write_drawn(**_job(here))
    written = collect(worker.submit(**_job(there)))
    assert written == {"png": there / "map.png", "report": there / "report.html"}
    assert (there / "map.png").read_bytes() == (here / "map.png").read_bytes()
    report_here = (here / "report.html").read_text(encoding="utf-8")
    report_there = (there / "report.html").read_text(encoding="utf-8")
    assert report_there == report_here
    assert "Ector County &lt;test&gt; &amp; map" in report_there


def test_the_worker_writes_the_exports_after_the_drawing(worker, tmp_path):
    here, there = tmp_path / "one", tmp_path / "two"
    here.mkdir()
    there.mkdir()
    jobs = []
    for folder in (here, there):
        job = _job(folder)
        job["exports"] = {"layers": {"t_tracts": fx.scored_ector()}, "challenges": None,
                          "out_dir": folder, "stem": "t", "formats": ("csv", "gpkg")}
        jobs.append(job)
    in_process = write_drawn(**jobs[0])
    written = collect(worker.submit(**jobs[1]))
    assert set(written) == set(in_process) == {"png", "report", "tracts.csv", "tracts.gpkg"}
    assert written["tracts.csv"] == there / "t_tracts.csv"
    assert (there / "t_tracts.csv").read_bytes() == (here / "t_tracts.csv").read_bytes()
    assert written["tracts.gpkg"].stat().st_size > 0


def test_an_error_in_the_worker_is_raised_in_the_caller(worker, tmp_path):
    job = _job(tmp_path)
    job["scored"] = job["scored"].drop(columns="priority")
    with pytest.raises(SchemaError, match="priority"):
        collect(worker.submit(**job))


def test_a_worker_runs_its_jobs_in_order_and_an_idle_worker_exits_on_close(worker, tmp_path):
    first = worker.submit(scored=fx.scored_ector(), title="t", paths={"png": tmp_path / "m.png"})
    second = worker.submit(scored=fx.scored_ector(), title="t", map_image=tmp_path / "m.png",
                           paths={"report": tmp_path / "r.html"})
    assert collect(second) == {"report": tmp_path / "r.html"}  # waits for the first too
    assert collect(first) == {"png": tmp_path / "m.png"}
    embedded = base64.b64encode((tmp_path / "m.png").read_bytes()).decode("ascii")
    assert embedded in (tmp_path / "r.html").read_text(encoding="utf-8")  # the first job's
    idle = OutputWorker(start=worker_start(worker))
    idle.close()
    assert idle._process.returncode == 0
    assert not idle._folder.exists()


def test_an_error_in_one_job_leaves_the_next_to_run(worker, tmp_path):
    bad = _job(tmp_path)
    bad["scored"] = bad["scored"].drop(columns="priority")
    failed = worker.submit(**bad)
    fine = worker.submit(scored=fx.scored_ector(), title="t", paths={"svg": tmp_path / "m.svg"})
    with pytest.raises(SchemaError, match="priority"):
        collect(failed)
    assert collect(fine)["svg"].read_text(encoding="utf-8").startswith("<?xml")


def test_the_worker_draws_the_html_map_as_one_process_does(worker, tmp_path):
    here, there = tmp_path / "one", tmp_path / "two"
    for folder in (here, there):
        folder.mkdir()
    jobs = [{"scored": fx.scored_ector(), "title": "Ector <b>County</b>",
             "paths": {"html": folder / "map.html"},
             "html": {"district": fx.ector_county(), "offline": True}}
            for folder in (here, there)]
    write_drawn(**jobs[0])
    assert collect(worker.submit(**jobs[1])) == {"html": there / "map.html"}
    html = (there / "map.html").read_text(encoding="utf-8")
    assert "<b>County</b>" not in html  # the title is escaped there too
    assert all(geoid in html for geoid in fx.scored_ector()["GEOID"])
    # the same map but for the random element ids folium gives
    assert len(html) == len((here / "map.html").read_text(encoding="utf-8"))


def worker_start(pool: OutputWorker) -> str:
    return "interpreter" if isinstance(pool._process, subprocess.Popen) else "fork"


@pytest.mark.parametrize("start", START_METHODS)
def test_a_dead_worker_is_replaced_by_drawing_here(tmp_path, start):
    pool = OutputWorker(start=start)
    pool._process.kill()
    pool._process.wait()
    with pytest.warns(RuntimeWarning, match="drawing here"):
        written = collect(pool.submit(**_job(tmp_path)))
    pool.close()
    assert written["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_script_without_a_main_guard_can_run_a_study(tmp_path):
    script = tmp_path / "build.py"
    script.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})\n"
        "import outputs_fixtures as fx\n"
        "from assetmap.pipeline._workers import collect, output_worker\n"
        "with output_worker(('png',)) as worker:\n"
        f"    png = r'{tmp_path / 'm.png'}'\n"
        "    job = dict(scored=fx.scored_ector(), title='t', paths={'png': png})\n"
        "    print(sorted(collect(worker.submit(**job))))\n",
        encoding="utf-8",
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['png']"
    assert (tmp_path / "m.png").is_file()


def test_a_fork_is_used_only_on_linux_while_one_thread_runs(monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    assert _start_method() == "fork"
    monkeypatch.setattr(threading, "active_count", lambda: 2)
    assert _start_method() == "interpreter"
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    monkeypatch.setattr(sys, "platform", "darwin")
    assert _start_method() == "interpreter"


@pytest.mark.parametrize("start", START_METHODS)
def test_a_killed_worker_during_its_job_is_replaced(tmp_path, start):
    pool = OutputWorker(start=start)
    pool._process.kill()
    with pytest.warns(RuntimeWarning, match="stopped"):
        written = collect(pool.submit(**_job(tmp_path)))
    pool.close()
    assert written["report"].is_file()


def test_warnings_from_the_worker_are_raised_again_in_the_caller():
    done: Future = Future()
    done.set_result(({}, [(RepairWarning, "speed tests: repaired 3 of 10 rows: swapped")]))
    with pytest.warns(RepairWarning, match="repaired 3 of 10 rows"):
        assert collect(done) == {}


def test_no_worker_without_drawn_outputs_or_with_one_process():
    with output_worker(("html", "csv", "gpkg")) as pool:
        assert pool is None
    with am.settings.override(output_workers=1), output_worker(("png", "report")) as pool:
        assert pool is None


def test_output_workers_setting_is_validated():
    with pytest.raises(ConfigError, match="between 1 and 64"):
        am.settings.output_workers = 0
    with pytest.raises(ConfigError, match="whole number"):
        am.settings.output_workers = "two"
