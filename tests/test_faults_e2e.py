"""Network faults end to end: ``assetmap fetch`` / ``build`` against a faulty local server.

A real threaded HTTP server on 127.0.0.1 serves a small study in the real formats: a TIGER/Line
tract zip and the national county zip made from the shipped Ector boundaries, Census API JSON
(array of arrays, header first) and a BDC zip cut from the shipped illustrative Ector file.
Mid-run it answers with HTTP 500, 503, 429 + Retry-After, a truncated body, an HTML error page
and a read timeout. Transient faults are retried inside the run; an HTML page fails the run
(exit code 3) with nothing cached for it; a second run resumes from the cache and finishes; a
process killed (SIGKILL) in the middle of a slow download leaves no partial entry and no
temporary file, and the next run succeeds.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import geopandas as gpd
import pytest

import assetmap as am
from assetmap.cli import main  # internal: the `assetmap` command, run in-process to see hits
from assetmap.datasets import data_path
from tests.http_fixtures import FaultServer, Reply, acs_api_body, shapefile_zip, tiger_tract_zip

ROOT = Path(__file__).resolve().parents[1]
TRACT_PATH = "/TIGER2020/TRACT/tl_2020_48_tract.zip"
COUNTY_PATH = "/TIGER2020/COUNTY/tl_2020_us_county.zip"
ACS_PATH = "/data/2023/acs/acs5"
BDC_PATH = "/bdc/bdc_48_illustrative_ector_fixed_availability_J25.zip"
HTML_PAGE = (b"<!DOCTYPE html><html><head><title>503 Service Temporarily Unavailable</title>"
             b"</head><body>maintenance</body></html>")


def county_zip() -> bytes:
    frame = gpd.read_file(data_path("boundaries", "ector_county_2020.geojson")).to_crs(4269)
    return shapefile_zip(frame, "tl_2020_us_county")


def bdc_zip(rows: int = 3000) -> bytes:
    """The first rows of the shipped illustrative BDC file, zipped as the FCC does."""
    source = data_path("fcc", "bdc_48_illustrative_ector_fixed_availability_J25.zip")
    with zipfile.ZipFile(source) as archive, archive.open(archive.namelist()[0]) as member:
        text = b"".join(member.readline() for _ in range(rows + 1))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bdc_48_illustrative_ector_fixed_availability_J25.csv", text)
    return buffer.getvalue()


def tract_ids() -> list[str]:
    frame = gpd.read_file(data_path("boundaries", "ector_tracts_2020.geojson"))
    return sorted(frame["GEOID"])


class AcsApi:
    """Census API in its real shape; ``faults`` are served first, one per request."""

    def __init__(self, faults: list[Reply]) -> None:
        self.faults = list(faults)
        self.geoids = tract_ids()

    def __call__(self, query: dict[str, list[str]]) -> Reply:
        if self.faults:
            return self.faults.pop(0)
        names = query["get"][0].split(",")
        rows = []
        for i, geoid in enumerate(self.geoids):
            cells = []
            for name in names:
                if name == "NAME":
                    cells.append(f"Census Tract {geoid[5:]}; Ector County; Texas")
                elif name.endswith("_001E"):
                    cells.append(str(1000 + 10 * i))
                elif name.endswith("E"):
                    cells.append(str(100 + i))
                else:
                    cells.append("25")
            rows.append([*cells, geoid[:2], geoid[2:5], geoid[5:]])
        return Reply(body=acs_api_body([*names, "state", "county", "tract"], rows),
                     headers={"Content-Type": "application/json"})


def write_study(folder: Path, server: FaultServer) -> Path:
    path = folder / "study.toml"
    path.write_text(
        '[study]\nname = "ector_faults"\n'
        '[area]\nstate = "TX"\ncounties = ["Ector"]\n'
        f'[census]\nbase_url = "{server.base}"\nacs_base_url = "{server.url("/data")}"\n'
        f'[bdc]\nfiles = ["{server.url(BDC_PATH)}"]\n'
        '[plan]\nk = 0\n'
        '[outputs]\ndir = "out"\nformats = ["csv", "report"]\n',
        encoding="utf-8",
    )
    return path


def cache_state(cache: Path) -> tuple[list[str], list[str]]:
    root = cache / "http"
    files = sorted(p.name for p in root.iterdir()) if root.exists() else []
    return [f for f in files if not f.startswith(".")], [f for f in files if f.startswith(".")]


def assert_cache_consistent(cache: Path) -> None:
    """Every entry has its sidecar, size and SHA-256 match, and no temporary file is left."""
    entries, hidden = cache_state(cache)
    assert not hidden, f"temporary files left in the cache: {hidden}"
    metas = [e for e in entries if e.endswith(".meta.json")]
    bodies = [e for e in entries if not e.endswith(".meta.json")]
    assert len(metas) == len(bodies)
    for meta in metas:
        record = json.loads((cache / "http" / meta).read_text("utf-8"))
        body = cache / "http" / record["file"]
        assert body.stat().st_size == record["size"]
        assert hashlib.sha256(body.read_bytes()).hexdigest() == record["sha256"]


@pytest.fixture
def server():
    running = FaultServer()
    yield running
    running.close()


def test_fetch_through_faults_then_resume_and_load(tmp_path, server, capsys):
    tract = tiger_tract_zip()
    bdc = bdc_zip()
    server.route(TRACT_PATH, Reply(500, b"oops"), Reply(body=tract, send=len(tract) // 2),
                 Reply(body=tract, headers={"Content-Type": "application/zip"}))
    server.route(COUNTY_PATH, Reply(body=HTML_PAGE, headers={"Content-Type": "text/html"}),
                 Reply(body=county_zip(), headers={"Content-Type": "application/zip"}))
    server.respond(ACS_PATH, AcsApi([Reply(429, b"slow down", {"Retry-After": "0"}),
                                     Reply(body=b"[]", delay=2.0)]))
    server.route(BDC_PATH, Reply(503, b"busy", {"Retry-After": "0"}),
                 Reply(body=bdc, headers={"Content-Type": "application/zip"}))
    study = write_study(tmp_path, server)
    cache = Path(am.settings.cache_dir)

    with am.settings.override(timeout=1.0):
        code = main(["fetch", str(study)])
    err = capsys.readouterr().err
    assert code == 3  # the HTML page stops the run: a network/download failure
    assert "HTML page" in err
    assert "503 Service Temporarily Unavailable" in err
    assert server.hits(TRACT_PATH) == 3  # 500, truncated, then the full body
    assert_cache_consistent(cache)
    cached_before = cache_state(cache)[0]
    assert len(cached_before) == 2  # the tracts only: the HTML page was not cached

    with am.settings.override(timeout=1.0):
        code = main(["fetch", str(study)])
    assert code == 0, capsys.readouterr().err
    assert server.hits(TRACT_PATH) == 3  # resumed: served from the cache
    assert server.hits(ACS_PATH) >= 4  # 429, a read timeout, then the real answers
    assert server.hits(BDC_PATH) == 2
    assert_cache_consistent(cache)

    requests_before = len(server.log)
    with am.settings.override(offline=True):
        sources = am.Study.from_toml(study).load()
    assert len(server.log) == requests_before  # everything came from the cache
    assert len(sources.tracts) == 33
    assert len(sources.acs) == 33
    assert len(sources.availability) > 0
    assert am.get_report(sources.availability)["rows_read"] == 3000


@pytest.mark.slow
def test_build_after_faults_in_process_and_as_subprocess(tmp_path, server):
    tract = tiger_tract_zip()
    server.route(TRACT_PATH, Reply(502, b"bad gateway"), Reply(body=tract))
    server.route(COUNTY_PATH, Reply(body=county_zip()))
    server.respond(ACS_PATH, AcsApi([Reply(500, b"oops")]))
    server.route(BDC_PATH, Reply(body=bdc_zip(), send=1000), Reply(body=bdc_zip()))
    study = write_study(tmp_path, server)
    assert main(["build", str(study), "--out", str(tmp_path / "out1")]) == 0
    assert (tmp_path / "out1" / "manifest.json").exists()
    assert_cache_consistent(Path(am.settings.cache_dir))

    env = {**os.environ, "ASSETMAP_CACHE_DIR": str(am.settings.cache_dir),
           "ASSETMAP_OFFLINE": "1", "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [sys.executable, "-m", "assetmap", "build", str(study), "--out", str(tmp_path / "out2")],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out2" / "manifest.json").exists()


class SlowServer:
    """Serves one body slowly (64 KiB every 50 ms) on 127.0.0.1, with its full Content-Length."""

    def __init__(self, body: bytes) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Length", str(len(outer.body)))
                self.send_header("Content-Type", "application/zip")
                self.end_headers()
                try:
                    for start in range(0, len(outer.body), 65536):
                        self.wfile.write(outer.body[start:start + 65536])
                        self.wfile.flush()
                        if outer.slow:
                            time.sleep(0.05)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.body = body
        self.slow = True
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02},
                         daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_sigkill_mid_download_leaves_the_cache_consistent(tmp_path):
    """A process killed in the middle of a slow download leaves no partial entry."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("bdc_48_big.csv", b"x" * (4 * 1024 * 1024))
    payload = buffer.getvalue()
    slow = SlowServer(payload)
    url = slow.url("/slow/bdc_48_big.zip")
    cache = tmp_path / "cache"
    env = {**os.environ, "ASSETMAP_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT / "src")}
    code = f"from assetmap._http import fetch; fetch({url!r}, expect='zip'); print('done')"
    process = subprocess.Popen([sys.executable, "-c", code], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            parts = list((cache / "http").glob(".*.part")) if (cache / "http").exists() else []
            if parts and parts[0].stat().st_size > 0:
                break
            time.sleep(0.02)
        else:
            pytest.fail("the download never started")
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        assert process.returncode == -signal.SIGKILL
        entries, _ = cache_state(cache)
        assert entries == []  # at most a temporary file; never a (partial) cache entry
        slow.slow = False
        with am.settings.override(cache_dir=cache):
            from assetmap._http import (  # internal: one download by URL, not via a study
                cached_path,
                clear_cache,
                fetch,
            )

            assert cached_path(url) is None
            path = fetch(url, expect="zip")
            assert path.read_bytes() == payload
            clear_cache(older_than_days=36500)  # removes stray temporary files, keeps entries
            assert_cache_consistent(cache)
            assert cached_path(url) == path
    finally:
        if process.poll() is None:
            process.kill()
        slow.close()
