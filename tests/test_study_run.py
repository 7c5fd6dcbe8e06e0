"""A study run writes its maps, report and exports in order, in one process (``Study.run_on``)."""

from __future__ import annotations

import base64
import json
import os
import threading
import tomllib
from pathlib import Path

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



# --- [bdc] rules reach every BDC step; the "ntia" format ---------------------------------------

FIBER_GIG = {"name": "fiber-gig", "reliable_technologies": [50], "low_latency_required": True,
             "served": [1000, 100], "underserved": [100, 20]}
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "ector_county" / "study.toml"


@pytest.fixture(scope="module")
def custom_run(tmp_path_factory: pytest.TempPathFactory):
    """The example study (both BDC releases, speed tests) under a fiber-only rule set."""
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["bdc"]["rules"] = FIBER_GIG
    data["outputs"].update(dir=str(tmp_path_factory.mktemp("custom") / "out"),
                           formats=["csv", "ntia"])
    with (
        am.settings.override(cache_dir=tmp_path_factory.mktemp("cache"), offline=True),
        pytest.warns(am.errors.RejectedRowsWarning, match="write_ntia_files: left out"),
    ):
        return am.Study.from_dict(data, path=EXAMPLE).run()


def _rules_name(frame) -> str:
    return am.get_report(frame)["rules"]["name"]


def test_the_study_rule_set_reaches_every_bdc_step(custom_run):
    sources, results = custom_run.sources, custom_run.results
    assert sources.previous_availability is not None  # both releases were loaded
    for frame in (sources.locations, sources.service, sources.previous_service,
                  results.h3_cells, results.change, results.speed_tracts, results.speed_h3,
                  results.evidence, results.scored):
        assert _rules_name(frame) == "fiber-gig"
    assert results.release_change.summary["rules"] == "fiber-gig"
    assert "fiber-gig" in results.release_change.markdown  # the Markdown names it too


def test_the_manifest_records_the_rule_set(custom_run):
    rules = am.rule_set(FIBER_GIG)
    manifest = json.loads(custom_run.paths["manifest"].read_text(encoding="utf-8"))
    assert manifest["rules"] == rules.as_dict()
    assert manifest["definition"] == rules.describe()
    assert manifest["bdc_download"] is None  # local files, not the FCC API


def test_ntia_files_follow_the_study_rule_set_and_count_every_bsl(custom_run):
    out, sources = custom_run.paths["manifest"].parent, custom_run.sources
    paths = custom_run.paths
    assert {k: p.relative_to(out).as_posix() for k, p in paths.items() if k.startswith("ntia")} \
        == {"ntia.cai": "ntia/cai.csv", "ntia.unserved": "ntia/unserved.csv",
            "ntia.underserved": "ntia/underserved.csv"}
    manifest = json.loads(paths["manifest"].read_text(encoding="utf-8"))
    assert manifest["outputs"]["ntia.cai"] == "ntia/cai.csv"
    levels = am.service_levels(sources.availability, rules=FIBER_GIG, codes=None)
    bead = am.service_levels(sources.availability, rules="bead", codes=None)
    rows = manifest["ntia"]["files"]
    for name in ("unserved", "underserved"):
        ids = paths[f"ntia.{name}"].read_text(encoding="utf-8").split()
        assert len(ids) == rows[f"{name}.csv"] == (levels["service_level"] == name).sum()
        assert set(ids) == set(levels.loc[levels["service_level"] == name, "location_id"])
    # fiber only at 1000/100 leaves far more locations unserved than BEAD's definition
    assert rows["unserved.csv"] > 2 * (bead["service_level"] == "unserved").sum()
    # every location of the study's BDC rows was classified (codes=None: R, B and X)
    assert manifest["ntia"]["locations"]["rows_read"] == len(levels)
    cai = pd.read_csv(paths["ntia.cai"], dtype=str, keep_default_na=False)
    assert len(cai) == rows["cai.csv"] > 40  # 43 district campuses and the partner CAIs
    assert manifest["ntia"]["rules"] == "fiber-gig"
    assert manifest["ntia"]["rejected"]  # left-out sites are listed with their reason


def test_sources_classified_under_another_rule_set_are_refused(tmp_path):
    study = am.Study.from_dict({"area": {"state": "TX", "counties": ["Ector"]},
                                "bdc": {"rules": "bead_2025"},
                                "outputs": {"dir": str(tmp_path / "out")}})
    with pytest.raises(am.errors.ConfigError, match=r"rule set 'bead'.*\[bdc\] rules is "
                                                    r"'bead_2025'"):
        study.run_on(am.load_demo(), steps=("csv",))
    assert not (tmp_path / "out").exists()
