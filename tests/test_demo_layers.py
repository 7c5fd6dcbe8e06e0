"""The plan and evidence layers of the equity map: interventions, plan reach, claims vs evidence,
challenge candidates and change since the previous release.

Frames are hand-made on the real Ector County tracts (``outputs_fixtures``); the Ookla case
reads the shipped Ookla-format tiles through the real loader and aggregation.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/ helper modules
import outputs_fixtures as fx

import assetmap as am
from assetmap._report import (  # internal: a loader's report for hand-made frames; no public maker
    attach_report,
    start_report,
)
from assetmap.datasets import data_path
from assetmap.errors import SchemaError
from assetmap.outputs._plan_layers import (  # internal: the legend's words and colours per code
    INTERVENTION_COLORS,
    INTERVENTION_LABELS,
    OKABE_ITO,
)

XSS = "<script>alert(1)</script>"
BRAND = '"><img src=x onerror=alert(2)>'


@pytest.fixture(scope="module")
def scored():
    frame = fx.scored_ector()
    codes = np.array(["monitor"] * len(frame), dtype=object)
    codes[:3] = "fiber_extension"
    codes[3:5] = "new_site"
    codes[5] = "affordability_adoption"
    frame["intervention"] = codes
    frame["intervention_reason"] = "reason for " + frame["GEOID"]
    frame.loc[frame.index[0], "intervention_reason"] = XSS
    return frame


def _report(frame, *, illustrative=True, sources=()):
    return attach_report(frame, start_report(None, kind="test", rows_read=len(frame),
                                             sources=list(sources), illustrative=illustrative))


@pytest.fixture(scope="module")
def evidence(scored):
    geoids = scored["GEOID"].astype(str).tolist()
    n = len(geoids)
    flag = np.zeros(n, dtype=bool)
    flag[:2] = True
    reverse = np.zeros(n, dtype=bool)
    reverse[2] = True
    few = np.zeros(n, dtype=bool)
    few[3:6] = True
    frame = pd.DataFrame({
        "GEOID": geoids, "served_share": 0.9, "claimed_served": ~reverse,
        "flag_claimed_served_contradicted": flag, "flag_claimed_unserved_contradicted": reverse,
        "evidence_strength": np.where(flag, [55.4, 38.8] + [0.0] * (n - 2), 0.0),
        "tests": 100.0, "devices": np.where(few, 5.0, 60.0), "too_few_tests": few,
        "tests_below_25_3": np.where(few, np.nan, 80.0), "down_mbps": 20.0, "up_mbps": 2.0,
        "survey_usable": False, "survey_responses": np.nan, "survey_not_available": np.nan,
        "evidence_summary": [f"{XSS} summary {g}" for g in geoids],
    })
    return _report(frame)


@pytest.fixture(scope="module")
def change(scored):
    geoids = scored["GEOID"].astype(str).tolist()
    n = len(geoids)
    frame = pd.DataFrame({"GEOID": geoids, "newly_served": 0, "lost_service": 0,
                          "fiber_gained": 0, "fiber_lost": 0, "providers_entering": 0,
                          "providers_leaving": 0, "providers_entering_names": "",
                          "providers_leaving_names": "", "served_share_old": 0.9,
                          "served_share_new": 0.9})
    frame.loc[0, "newly_served"] = 40
    frame.loc[1, ["newly_served", "fiber_gained"]] = [10, 5]
    frame.loc[2, "fiber_gained"] = 7
    frame.loc[3, ["providers_entering", "providers_entering_names"]] = [1, BRAND]
    assert n > 4
    return _report(frame)


@pytest.fixture(scope="module")
def challenges():
    cells = [h3.latlng_to_cell(31.85, -102.37, 8), h3.latlng_to_cell(31.87, -102.40, 8)]
    polys = [shapely.Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(c)])
             for c in cells]
    frame = gpd.GeoDataFrame({
        "rank": [1, 1, 2], "area_type": "h3", "area_id": [cells[0], cells[0], cells[1]],
        "GEOID": "48135001100", "provider_id": ["1", "2", "1"], "frn": "0001",
        "brand_name": [BRAND, "Net Co", BRAND], "technology": [50, 40, 50],
        "technology_name": ["fiber", "cable", "fiber"], "claimed_down_mbps": [1000, 300, 1000],
        "claimed_up_mbps": [1000, 20, 1000], "locations_claimed": [12, 9, 4],
        "locations_in_area": [15, 15, 6], "evidence_area": "48135001100",
        "evidence_strength": [55.4, 55.4, 12.0], "evidence_summary": "318 of 349 tests slow",
    }, geometry=[polys[0], polys[0], polys[1]], crs=4326)
    return _report(frame)


@pytest.fixture(scope="module")
def html(scored, evidence, change, challenges):
    plan = gpd.GeoDataFrame({"site_id": ["a", "b"], "name": ["Site A", "Site B"],
                             "order": [1, 2], "covered_demand_gain": [60.0, 20.0],
                             "coverage_share_cumulative": [0.5, 0.6]},
                            geometry=gpd.points_from_xy([-102.37, -102.40], [31.85, 31.88]),
                            crs=4326)
    m = am.equity_map(scored, plan=plan, plan_reach_m=3200.0, evidence=evidence,
                      challenges=challenges, change=change, change_since="December 2024",
                      tiles=None)
    return m.get_root().render()


def _legend(html: str) -> str:
    """The legend's HTML (a JSON string in the page), decoded."""
    blobs = re.findall(r'div\.innerHTML = ("(?:[^"\\]|\\.)*");', html)
    return next(json.loads(b) for b in blobs if "am-legend-section" in json.loads(b))


def _layer_data(html: str, marker: str) -> dict:
    for blob in re.findall(r'<script type="application/json" id="[^"]+">(.*?)</script>', html):
        if marker in blob:
            return json.loads(blob)
    raise AssertionError(f"no data block holds {marker!r}")


def test_user_and_source_text_is_escaped(html):
    for payload in (XSS, BRAND):
        assert payload not in html
    assert "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e" in html  # JSON, shown as text
    assert "\\u003cimg src=x onerror=alert(2)\\u003e" in html


def test_intervention_legend_names_each_category_in_words(html, scored):
    legend = _legend(html)
    counts = scored["intervention"].value_counts()
    for code, n in counts.items():
        label = INTERVENTION_LABELS[code]
        assert f"{label} ({n} tract{'s' if n > 1 else ''})" in legend
        assert INTERVENTION_COLORS[code].lower() in legend.lower()
    assert "Recommended intervention" in legend
    assert set(INTERVENTION_COLORS.values()) - {"#ececec"} <= set(OKABE_ITO)


def test_intervention_properties_carry_the_reason(html, scored):
    data = _layer_data(html, '"iv"')
    props = [f["p"] for f in data["features"]]
    by_id = {p["g"]: p for p in props}
    for _, row in scored.iterrows():
        assert by_id[row["GEOID"]]["ir"] == row["intervention_reason"]
        p = by_id[row["GEOID"]]  # the category, with its class number (colour is not alone)
        assert p["iv"] == f"{INTERVENTION_LABELS[row['intervention']]} (class {p['ic'] + 1})"
    # the class index points at the colour listed for that category
    assert {p["ic"] for p in props} == set(range(scored["intervention"].nunique()))


def test_evidence_layer_counts_and_categories(html, evidence):
    legend = _legend(html)
    assert "Claimed served; tests slow or families report no service (2 tracts)" in legend
    assert "Claimed unserved; tests show fast service (1 tract)" in legend
    insufficient = int((evidence["too_few_tests"]).sum())
    insufficient_text = ("Not enough evidence (too few tests, no published survey cell) "
                         f"({insufficient} tracts)")
    assert insufficient_text in legend
    assert "3 tracts flagged" in legend
    props = {f["p"]["g"]: f["p"] for f in _layer_data(html, '"ev"')["features"]}
    first = props[evidence["GEOID"].iat[0]]
    assert first["es"] == "55"
    assert first["e3"] == "80 of 100"
    assert first["e4"] == "20 / 2 Mbps"
    assert props[evidence["GEOID"].iat[3]]["e2"] == "100 tests, 5 devices (too few to judge)"


def test_suppressed_survey_cell_shows_as_suppressed(scored, evidence):
    survey = pd.DataFrame({"GEOID": scored["GEOID"].astype(str), "responses": 40.0,
                           "survey_limited_rate": 0.3, "suppressed": False})
    survey.loc[0, ["responses", "survey_limited_rate", "suppressed"]] = [np.nan, np.nan, True]
    survey = attach_report(survey, {**start_report(None, kind="survey"), "min_responses": 10})
    m = am.equity_map(scored, survey=survey, evidence=evidence, tiles=None)
    props = {f["p"]["g"]: f["p"] for f in _layer_data(m.get_root().render(), '"ev"')["features"]}
    assert props[survey["GEOID"].iat[0]]["e5"] == "suppressed (fewer than 10 responses)"


def test_change_layer(html, change):
    legend = _legend(html)
    assert "Change since December 2024" in legend
    for text in ("Newly served locations and fiber gained (1 tract)",
                 "Newly served locations (1 tract)", "Fiber gained (1 tract)",
                 "Providers entering or leaving only (1 tract)",
                 f"No change ({len(change) - 4} tracts)"):
        assert text in legend, text
    props = {f["p"]["g"]: f["p"] for f in _layer_data(html, '"hv"')["features"]}
    assert props[change["GEOID"].iat[0]]["h1"] == "40"
    assert props[change["GEOID"].iat[1]]["h3"] == "5"
    assert props[change["GEOID"].iat[3]]["h5"] == BRAND  # stored as data, escaped on display


def test_challenge_layer_lists_claims_per_area(html, challenges):
    data = _layer_data(html, "Challenge candidate #")
    assert len(data["features"]) == challenges["area_id"].nunique()
    first = data["features"][0]["p"]
    assert first["n"] == "Challenge candidate #1"
    assert f"{BRAND}: fiber 1000/1000 Mbps (12 locations)" in first["f2"]
    assert "Net Co: cable 300/20 Mbps (9 locations)" in first["f2"]
    assert "e" in data["features"][0]  # delta-encoded polygon
    legend = _legend(html)
    assert "stronger evidence (50 or more) (1 cell)" in legend
    assert "weaker evidence (strength under 25) (1 cell)" in legend


def test_plan_reach_circles(html):
    assert "L.circle(latlng, {radius: r" in html
    data = re.findall(r'"r":(\d+(?:\.\d+)?)', html)
    assert data
    assert {float(x) for x in data} == {3200.0}
    assert "Its reach: 3.2 km" in _legend(html)


def test_illustrative_layers_are_named_in_the_attribution(html):
    attribution = re.search(r"addAttribution\((\"(?:[^\"\\]|\\.)*\")\)", html)
    text = json.loads(attribution.group(1))
    assert "Illustrative (synthetic) data" in text
    for name in ("speed tests", "challenge candidates", "previous BDC release"):
        assert name in text


def _ookla_evidence(kind: str) -> pd.DataFrame:
    tracts = fx.scored_ector()[["GEOID", "geometry"]]
    if kind == "ookla":
        tests = am.read_ookla_tiles(data_path("speedtests",
                                              "ookla_fixed_tiles_illustrative_ector.parquet"),
                                    period="2025-Q1")  # the shipped tiles' quarter
    else:
        tests = am.read_speedtests(data_path("speedtests", "ector_speedtests_illustrative.csv"))
    agg = am.aggregate_speedtests(tests, areas=tracts, level="tract")
    service = pd.DataFrame({"GEOID": tracts["GEOID"], "locations": 100, "served": 90,
                            "unserved": 0})
    return am.claims_vs_evidence(service, speedtests=agg)


def test_ookla_licence_is_named_when_ookla_data_are_shown(scored):
    with_ookla = am.equity_map(scored, evidence=_ookla_evidence("ookla"),
                               tiles=None).get_root().render()
    assert "CC BY-NC-SA 4.0" in with_ookla
    assert "Speedtest\u00ae by Ookla\u00ae" in with_ookla
    district_only = am.equity_map(scored, evidence=_ookla_evidence("district"),
                                  tiles=None).get_root().render()
    assert "CC BY-NC-SA" not in district_only


def test_layers_are_optional_and_inputs_not_mutated(scored, evidence):
    before = scored.copy()
    plain = am.equity_map(scored.drop(columns=["intervention", "intervention_reason"]),
                          tiles=None).get_root().render()
    for name in ("Recommended intervention", "Claims vs evidence", "Challenge candidates"):
        assert name not in plain
    off = am.equity_map(scored, interventions=False, tiles=None).get_root().render()
    assert "Recommended intervention" not in off
    pd.testing.assert_frame_equal(pd.DataFrame(scored), pd.DataFrame(before))
    with pytest.raises(SchemaError, match="GEOID"):
        am.equity_map(scored, evidence=evidence.drop(columns="GEOID"), tiles=None)
