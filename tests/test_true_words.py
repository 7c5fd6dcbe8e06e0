"""Only true, study-specific words: no district's own names in another study's outputs, the
illustrative label lists only the layers that are illustrative, the ACS period comes from the
data, and every funding program named is a dated fact ("as of") that a study can update."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/ helper modules
import outputs_fixtures as fx

import assetmap as am
from assetmap._report import (  # internal: builds another study's report; no public writer
    attach_report,
    start_report,
)
from assetmap.outputs.summary import summary_lines  # internal: the CLI's console summary

#: Words of the shipped demo's place and programs (word-bounded: "vector" is no match).
DEMO_WORDS = re.compile(r"\b(ector|odessa|midland|texas|starlink|ecisd|permian)\b", re.I)
#: Names of the programs in assetmap/analysis/funding_programs.json.
PROGRAM_NAMES = ("Affordable Connectivity", "Lifeline", "E-Rate", "Digital Equity Act",
                 "Broadband Equity, Access, and Deployment", "low-cost service option")


def other_study(*, illustrative: bool = False, acs_vintage: str = "ACS 5-year 2018-2022"):
    """A study of another place: the fixture tracts renamed, with its own sources."""
    frame = fx.scored_ector().copy()
    frame["GEOID"] = "06113" + frame["GEOID"].str[5:]
    frame["STATEFP"], frame["COUNTYFP"] = "06", "113"
    frame["NAMELSAD"] = "Census Tract " + frame["NAME"].astype(str)
    served = frame.index[:8]  # served but offline and poor: affordability and adoption
    frame.loc[served, ["unserved_share", "underserved_share"]] = 0.0
    frame.loc[served, ["no_internet_share", "poverty_share"]] = [0.3, 0.35]
    frame.attrs = {}
    report = start_report(None, kind="scored_tracts", rows_read=len(frame), sources=[
        {"name": "US Census Bureau, American Community Survey 5-year estimates",
         "vintage": None if "period" in acs_vintage else acs_vintage.removeprefix("ACS 5-year ")}],
        vintages={"no_internet_share": acs_vintage}, illustrative=illustrative)
    report["score_spec"] = am.get_report(fx.scored_ector())["score_spec"]
    return attach_report(frame, report)


def with_interventions(scored, **options):
    out = am.recommend_interventions(scored, **options)
    return scored.assign(**{c: out[c] for c in out.columns})


def report_text(scored, tmp_path, name="r") -> str:
    html = am.write_report(scored, tmp_path / f"{name}.html", title="Yolo study")
    md = am.write_report(scored, tmp_path / f"{name}.md", title="Yolo study")
    return html.read_text(encoding="utf-8") + "\n" + md.read_text(encoding="utf-8")


def test_no_demo_place_or_program_words_in_another_study(tmp_path):
    scored = with_interventions(other_study())
    assert set(scored["intervention"].astype(str)) >= {
        "affordability_adoption", "wireless_or_satellite"}
    words = [*scored["intervention_reason"], *scored["intervention_funding"],
             report_text(scored, tmp_path), *summary_lines(scored)]
    found = sorted({m.group(0) for text in words for m in DEMO_WORDS.finditer(str(text))})
    assert found == []


def _attribution(m) -> str:
    html = m.get_root().render()
    found = re.search(r"addAttribution\((\"(?:[^\"\\]|\\.)*\")\)", html)
    return json.loads(found.group(1)) if found else ""


def _evidence(scored, *, tests: float, responses: float, illustrative: bool):
    frame = pd.DataFrame({
        "GEOID": scored["GEOID"], "served_share": 0.9, "claimed_served": True,
        "flag_claimed_served_contradicted": False, "flag_claimed_unserved_contradicted": False,
        "evidence_strength": 0.0, "tests": tests, "devices": tests, "too_few_tests": True,
        "survey_usable": responses > 0, "survey_responses": responses,
        "survey_not_available": 0.0})
    return attach_report(frame, start_report(None, kind="test", illustrative=illustrative))


def test_illustrative_label_lists_only_this_studys_illustrative_layers():
    scored = other_study(illustrative=False)
    change = attach_report(pd.DataFrame({"GEOID": scored["GEOID"], "newly_served": 0}),
                           start_report(None, kind="test", illustrative=False))
    # the survey is synthetic, no speed tests were supplied, the releases are real
    evidence = _evidence(scored, tests=0.0, responses=12.0, illustrative=True)
    text = _attribution(am.equity_map(scored, evidence=evidence, change=change,
                                      change_since="June 2025", tiles=None))
    assert "Illustrative (synthetic) data: claims vs evidence (family survey)" in text
    for absent in ("speed tests", "previous BDC release", "tract scores"):
        assert absent not in text
    # nothing illustrative: no label at all
    real = _evidence(scored, tests=40.0, responses=0.0, illustrative=False)
    assert "Illustrative" not in _attribution(am.equity_map(scored, evidence=real, tiles=None))


def _acs_file(folder: Path, name: str) -> Path:
    path = folder / name
    path.write_text('"GEO_ID","NAME","B28002_001E","B28002_013E"\n'
                    '"Geography","Geographic Area Name","Total","No internet"\n'
                    '"1400000US06113000100","Census Tract 1","500","60"\n', encoding="utf-8")
    return path


def test_acs_period_comes_from_the_acs_frame(tmp_path):
    dated = am.read_acs_csv(_acs_file(tmp_path, "acs.csv"), year=2022)
    vintage = am.get_report(dated)["vintages"]["no_internet_share"]
    assert vintage == "ACS 5-year 2018-2022"
    text = report_text(other_study(acs_vintage=vintage), tmp_path, "dated")
    assert "have no internet subscription at home (ACS 5-year 2018-2022)" in text
    assert "period not stated" not in text
    assert "period unknown" not in text
    # the demo's own ACS frame states its periods, and the report repeats them
    demo_vintage = am.get_report(am.load_demo().acs)["vintages"]["no_internet_share"]
    assert re.match(r"ACS 5-year \d{4}-\d{4}", demo_vintage)
    assert demo_vintage in report_text(other_study(acs_vintage=demo_vintage), tmp_path, "demo")


def test_unknown_acs_period_is_said_plainly(tmp_path):
    undated = am.read_acs_csv(_acs_file(tmp_path, "acs_no_year.csv"))  # no year anywhere
    vintage = am.get_report(undated)["vintages"]["no_internet_share"]
    text = report_text(other_study(acs_vintage=vintage), tmp_path)
    assert "(period not stated)" not in text
    assert "ACS 5-year, period unknown: no ACS year was recorded with the data" in text


def test_every_funding_mention_is_dated_and_ended_programs_say_so(tmp_path):
    scored = with_interventions(other_study())
    md = am.write_report(scored, tmp_path / "f.md").read_text(encoding="utf-8")
    lines = [*md.splitlines(), *summary_lines(scored), *scored["intervention_funding"]]
    named = [line for line in lines if any(p in line for p in PROGRAM_NAMES)]
    assert len(named) >= 6
    for line in named:
        for part in line.split(" | "):
            if any(p in part for p in PROGRAM_NAMES):
                assert re.search(r"\(as of [A-Z][a-z]+ \d{1,2}, \d{4}\)", part), part
    assert "Affordable Connectivity Program (ACP): ended" in md
    assert "no longer funds off-campus Wi-Fi hotspot lending" in md
    assert "Digital Equity Act grants: cancelled" in md


def test_a_study_entry_overrides_the_shipped_one(tmp_path):
    path = tmp_path / "programs.json"
    path.write_text(json.dumps({"programs": [
        {"key": "erate", "status": "active", "status_date": "2031-07-01",
         "status_text": "funds off-campus hotspot lending again"}]}), encoding="utf-8")
    scored = with_interventions(other_study(), programs=path)
    text = report_text(scored, tmp_path)
    assert "E-Rate: funds off-campus hotspot lending again (as of July 1, 2031)" in text
    assert "no longer funds off-campus" not in text
    assert "Lifeline: active" in text  # the other shipped entries stay


@pytest.mark.parametrize("method", ["rules", "ddi"])
def test_input_frame_is_not_changed(method):
    scored = other_study()
    before = scored.copy()
    am.recommend_interventions(scored, method=method, programs=[
        {"key": "lifeline", "status_text": "changed text"}])
    pd.testing.assert_frame_equal(pd.DataFrame(scored), pd.DataFrame(before))
    assert np.isfinite(scored["priority"]).all()
