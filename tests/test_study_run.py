"""A study run writes its maps, report and exports in order, in one process (``Study.run_on``)."""

from __future__ import annotations

import base64
import json
import os
import threading

import geopandas as gpd
import pandas as pd
import pytest

import assetmap as am

TITLE = "Ector County <test> & map"
STEPS = ("html", "png", "svg", "report", "markdown", "csv", "gpkg")
STEM = "ector_county__tx"  # "Ector County, TX" as a file name


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("study") / "out"
    study = am.Study.from_dict({
        "study": {"name": "Ector County, TX", "title": TITLE},
        "area": {"state": "TX", "counties": ["Ector"], "district": "4818000"},
        "plan": {"k": 2},
        "outputs": {"dir": str(out)},
    })
    sources = am.load_demo()
    forks: list[str] = []

    def no_fork() -> int:
        forks.append("fork")
        raise AssertionError("a study run must not fork")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(os, "fork", no_fork)
        result = study.run_on(sources, steps=STEPS)
    threads = [t.name for t in threading.enumerate() if t.name.startswith("assetmap-")]
    return {"out": out.resolve(), "result": result, "forks": forks, "threads": threads}


def test_a_run_writes_each_format_inside_the_folder_in_one_process(run):
    paths = run["result"].paths
    for key in ("html", "png", "svg", "report", "markdown", "tracts.csv", "tracts.gpkg",
                "plan.csv", "evidence.gpkg", "challenge_candidates.csv", "manifest"):
        assert key in paths, key
    assert "pdf" not in paths  # only the formats asked for
    for path in paths.values():
        assert path.parent == run["out"]
        assert path.stat().st_size > 0
    assert all(p.name.startswith(STEM) for k, p in paths.items() if k != "manifest")
    assert run["forks"] == []
    assert run["threads"] == []  # the side threads of loading and analysis are joined


def test_the_report_embeds_the_print_map_and_escapes_the_title(run):
    paths = run["result"].paths
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = paths["report"].read_text(encoding="utf-8")
    assert base64.b64encode(paths["png"].read_bytes()).decode("ascii") in report
    assert "Ector County &lt;test&gt; &amp; map" in report
    assert "<test>" not in report
    assert "Ector County" in paths["markdown"].read_text(encoding="utf-8")
    assert paths["svg"].read_text(encoding="utf-8").startswith("<?xml")


def test_the_html_map_escapes_the_title_and_holds_every_tract(run):
    html = run["result"].paths["html"].read_text(encoding="utf-8")
    assert "<test>" not in html
    assert all(geoid in html for geoid in run["result"].scored["GEOID"])


def test_exports_hold_the_scored_tracts(run):
    paths, scored = run["result"].paths, run["result"].scored
    assert paths["tracts.csv"] == run["out"] / f"{STEM}_tracts.csv"
    table = pd.read_csv(paths["tracts.csv"], dtype={"GEOID": str})
    assert sorted(table["GEOID"]) == sorted(scored["GEOID"])
    assert (run["out"] / f"{STEM}_tracts.report.json").is_file()  # the run report beside it
    layer = gpd.read_file(paths["tracts.gpkg"])
    assert len(layer) == len(scored)
    assert layer.crs.to_epsg() == 4326
    plan = pd.read_csv(paths["plan.csv"])
    assert len(plan) == 2  # [plan] k


def test_the_manifest_lists_what_was_written(run):
    manifest = json.loads(run["result"].paths["manifest"].read_text(encoding="utf-8"))
    written = {k: p.name for k, p in run["result"].paths.items() if k != "manifest"}
    assert manifest["outputs"] == written
    assert manifest["study"]["title"] == TITLE

