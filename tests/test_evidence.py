"""Claims vs evidence, challenge candidates (CSV and layer) and the release-change report."""

from __future__ import annotations

import csv

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
import shapely

import assetmap as am
from assetmap import get_report
from assetmap.errors import PrivacyError, SchemaError
from assetmap.outputs.challenges import (  # internal: the cell rule itself, on a plain frame
    neutralize_csv_cells,
)

T1, T2, T3 = "48135000100", "48135000200", "48135000300"


def _service():
    # T1: 90 of 100 served (claimed served); T2: 80 of 100 served; T3: 70 of 100 unserved
    return pd.DataFrame({"GEOID": [T1, T2, T3], "locations": [100, 100, 100],
                         "served": [90, 80, 10], "underserved": [10, 20, 20],
                         "unserved": [0, 0, 70]})


def _speed(**overrides):
    base = pd.DataFrame({
        "GEOID": [T1, T2, T3], "tests": [40.0, 6.0, 50.0], "devices": [40.0, 5.0, 50.0],
        "too_few_tests": [False, True, False], "down_mbps": [9.0, np.nan, 250.0],
        "up_mbps": [1.0, np.nan, 30.0], "tests_below_25_3": [40.0, np.nan, 0.0],
        "share_below_25_3": [1.0, np.nan, 0.0], "tests_at_100_20": [0.0, np.nan, 45.0],
        "share_at_100_20": [0.0, np.nan, 0.9]})
    return base.assign(**overrides)


def _survey(*, suppressed_t2=True):
    return pd.DataFrame({
        "GEOID": [T1, T2, T3], "responses": [40.0, np.nan if suppressed_t2 else 12.0, 8.0],
        "reason_not_available": [10.0, np.nan if suppressed_t2 else 9.0, 6.0],
        "suppressed": [False, suppressed_t2, False]})


def test_claimed_served_where_every_test_is_slow():
    out = am.claims_vs_evidence(_service(), speedtests=_speed()).set_index("GEOID")
    t1 = out.loc[T1]
    assert t1["claimed_served"]
    assert t1["evidence_tests_slow"]
    assert t1["flag_claimed_served_contradicted"]
    # 60 x share 1.0 x min(1, 40/100) + no survey
    assert t1["evidence_strength"] == pytest.approx(60 * 1.0 * 0.4)
    assert t1["evidence_summary"] == "40 of 40 tests (40 devices) below 25/3, 0 at 100/20"
    assert (t1["tests"], t1["devices"], t1["tests_below_25_3"]) == (40, 40, 40)


def test_the_rule_set_of_the_service_frame_is_used_and_checked():
    from assetmap.bdc.rules import rule_set  # internal: stamps hand-made frames as am's do

    custom = {"name": "low", "reliable_technologies": [10, 40, 50], "low_latency_required": True,
              "served": [50, 10], "underserved": [10, 1]}
    service = _service()
    service.attrs["assetmap"] = {"rules": rule_set(custom).as_dict()}
    out = am.claims_vs_evidence(service, speedtests=_speed()).set_index("GEOID")
    assert get_report(out)["rules"]["name"] == "low"
    # T1's tests average 9/1 Mbps: below the set's 10/1, so still slow evidence
    assert out.loc[T1, "evidence_tests_slow"]
    assert out.loc[T1, "evidence_summary"] == "40 of 40 tests (40 devices) below 10/1, 0 at 50/10"
    with pytest.raises(ValueError, match="made under rule set 'low'"):
        am.claims_vs_evidence(service, speedtests=_speed(), rules="bead")
    tests = _speed()
    tests.attrs["assetmap"] = {"rules": rule_set("bead").as_dict()}
    with pytest.raises(ValueError, match="thresholds of rule set 'bead'"):
        am.claims_vs_evidence(service, speedtests=tests)


def test_too_few_tests_are_not_evidence():
    out = am.claims_vs_evidence(_service(), speedtests=_speed()).set_index("GEOID")
    t2 = out.loc[T2]
    assert t2["too_few_tests"]
    assert not t2["evidence_tests_slow"]
    assert not t2["flag_claimed_served_contradicted"]
    assert t2["evidence_strength"] == 0
    assert t2["evidence_summary"] == "6 tests from 5 devices: too few"


def test_reverse_flag_unserved_but_fast():
    out = am.claims_vs_evidence(_service(), speedtests=_speed()).set_index("GEOID")
    t3 = out.loc[T3]
    assert t3["claimed_unserved"]
    assert t3["flag_claimed_unserved_contradicted"]
    assert t3["evidence_strength"] == pytest.approx(100 * 0.9 * 0.5)


def test_survey_counts_only_published_cells():
    out = am.claims_vs_evidence(_service(), survey=_survey()).set_index("GEOID")
    # T1: 10 of 40 not available, published -> flag; strength 40 x 0.25 x min(1, 40/30)
    assert out.loc[T1, "flag_claimed_served_contradicted"]
    assert out.loc[T1, "evidence_strength"] == pytest.approx(10.0)
    assert out.loc[T1, "evidence_summary"] == "10 of 40 survey responses: not available"
    # T2 suppressed: nothing from it, even if the frame had numbers in it
    leaky = _survey().assign(responses=[40.0, 12.0, 8.0], reason_not_available=[10.0, 9.0, 6.0])
    for survey in (_survey(), leaky):
        t2 = am.claims_vs_evidence(_service(), survey=survey).set_index("GEOID").loc[T2]
        assert not t2["survey_usable"]
        assert np.isnan(t2["survey_not_available"])
        assert not t2["flag_claimed_served_contradicted"]
    # T3 has 8 responses: below the default threshold of 10, so it cannot count
    assert np.isnan(out.loc[T3, "survey_responses"])
    # a higher threshold published in the survey's report wins over the default
    strict = _survey()
    strict.attrs["assetmap"] = {"min_cell_size": 50}
    assert not am.claims_vs_evidence(_service(), survey=strict)["survey_usable"].any()


def test_household_level_survey_is_refused():
    rows = pd.DataFrame({"GEOID": [T1, T1], "responses": [1, 1],
                         "reason_not_available": [1, 0], "suppressed": [False, False]})
    with pytest.raises(PrivacyError, match="several rows"):
        am.claims_vs_evidence(_service(), survey=rows)
    with pytest.raises(PrivacyError, match="household"):
        am.claims_vs_evidence(_service(), survey=_survey().assign(latitude=31.8))


def test_raw_tests_are_refused():
    raw = pd.DataFrame({"GEOID": [T1], "down_mbps": [3.0], "location_basis": ["point"]})
    with pytest.raises(SchemaError, match="aggregate_speedtests"):
        am.claims_vs_evidence(_service(), speedtests=raw)


def test_h3_level_ignores_survey():
    cell = h3.latlng_to_cell(31.85, -102.37, 8)
    service = pd.DataFrame({"h3_res8_id": [cell], "locations": [10], "served": [10],
                            "unserved": [0]})
    speed = _speed().iloc[[0]].drop(columns="GEOID").assign(h3_res8_id=cell)
    out = am.claims_vs_evidence(service, speedtests=speed, survey=_survey(), level="h3")
    assert out["flag_claimed_served_contradicted"].tolist() == [True]
    assert "survey ignored" in get_report(out)["notes"][0]


# --- challenge candidates -----------------------------------------------------------------

CELL_A = h3.latlng_to_cell(31.85, -102.37, 8)
CELL_B = h3.latlng_to_cell(31.87, -102.33, 8)


def _avail():
    rows = [
        # location, block, cell, provider, brand, tech, down, up, low_latency, code
        ("L1", T1 + "1000", CELL_A, "101", "=CableCo", 40, 300, 20, 1, "R"),
        ("L2", T1 + "1000", CELL_A, "101", "=CableCo", 40, 300, 20, 1, "R"),
        ("L2", T1 + "1000", CELL_A, "202", "FiberNet", 50, 1000, 1000, 1, "R"),
        ("L3", T1 + "2000", CELL_B, "101", "=CableCo", 40, 300, 20, 1, "X"),
        ("L3", T1 + "2000", CELL_B, "303", "SkySat", 61, 250, 25, 1, "R"),
        ("L4", T1 + "2000", CELL_B, "404", "@Biz", 50, 1000, 1000, 1, "B"),
        ("L5", T3 + "1000", CELL_B, "101", "=CableCo", 40, 300, 20, 1, "R"),
    ]
    frame = pd.DataFrame(rows, columns=[
        "location_id", "block_geoid", "h3_res8_id", "provider_id", "brand_name", "technology",
        "max_advertised_download_speed", "max_advertised_upload_speed", "low_latency",
        "business_residential_code"])
    return frame.assign(frn="0000" + frame["provider_id"], state_usps="TX")


def test_challenge_candidates_by_block():
    evidence = am.claims_vs_evidence(_service(), speedtests=_speed())
    cand = am.challenge_candidates(_avail(), evidence)
    assert "location_id" not in cand.columns
    assert set(cand["area_id"]) == {T1 + "1000", T1 + "2000"}  # T3 is not flagged
    # block 1000 has 2 locations, block 2000 one residential: equal strength, more first
    assert cand.groupby("area_id")["rank"].first().to_dict() == {T1 + "1000": 1, T1 + "2000": 2}
    first = cand[cand["area_id"] == T1 + "1000"].set_index("brand_name")
    assert first.loc["=CableCo", "locations_claimed"] == 2
    assert first.loc["FiberNet", "claimed_down_mbps"] == 1000
    assert first.loc["FiberNet", "technology_name"] == "fiber"
    # satellite and business-only claims never make a candidate
    assert set(cand["brand_name"]) == {"=CableCo", "FiberNet"}
    second = cand[cand["area_id"] == T1 + "2000"]
    assert second["locations_in_area"].tolist() == [1]
    # the layer: H3 cells of the block's locations
    assert cand.crs.to_epsg() == 4326
    cell_b = shapely.Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(CELL_B)])
    assert second.geometry.iloc[0].equals(cell_b)
    assert len(am.challenge_candidates(_avail(), evidence, top=1)["area_id"].unique()) == 1


def test_challenge_candidates_follow_the_rule_set():
    # a set where NGSO satellite (61) is reliable and fiber is not: SkySat's 250/25 claim
    # now makes block 2000 served, FiberNet's claims never do
    sky = {"name": "sky", "reliable_technologies": [40, 61], "low_latency_required": True,
           "served": [100, 20], "underserved": [25, 3]}
    evidence = am.claims_vs_evidence(_service(), speedtests=_speed(), rules=sky)
    cand = am.challenge_candidates(_avail(), evidence)
    assert get_report(cand)["rules"]["name"] == "sky"
    assert set(cand["brand_name"]) == {"=CableCo", "SkySat"}
    assert cand.set_index("brand_name").loc["SkySat", "technology_name"] == "NGSO satellite"
    with pytest.raises(ValueError, match="made under rule set 'sky'"):
        am.challenge_candidates(_avail(), evidence, rules="bead")


def test_challenge_candidates_by_h3_and_csv(tmp_path):
    evidence = am.claims_vs_evidence(_service(), speedtests=_speed())
    cand = am.challenge_candidates(_avail(), evidence, level="h3")
    assert set(cand["area_id"]) == {CELL_A, CELL_B}
    assert set(cand["area_type"]) == {"h3"}
    path = am.write_challenge_csv(cand, tmp_path / "candidates.csv")
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["brand_name"] for r in rows} == {"'=CableCo", "FiberNet"}
    assert "geometry" not in rows[0]
    assert "location_id" not in rows[0]
    text = path.read_text(encoding="utf-8")
    for location in ("L1", "L2", "L3", "L5"):
        assert f",{location}," not in text


def test_neutralize_csv_cells():
    frame = pd.DataFrame({"a": ["=SUM(A1)", "+1", "-2", "@x", "\tx", "safe", None],
                          "n": [-1.5, 2, 3, 4, 5, 6, 7]})
    out = neutralize_csv_cells(frame)
    # plain numbers cannot run as formulas and stay readable; everything else is prefixed
    assert out["a"].tolist()[:6] == ["'=SUM(A1)", "+1", "-2", "'@x", "'\tx", "safe"]
    assert pd.isna(out["a"].iat[6])
    assert out["n"].tolist() == frame["n"].tolist()
    assert frame["a"].iat[0] == "=SUM(A1)"  # input untouched


# --- release change -----------------------------------------------------------------------


def _bdc(rows):
    frame = pd.DataFrame(rows, columns=["location_id", "block_geoid", "h3_res8_id",
                                        "provider_id", "brand_name", "technology",
                                        "max_advertised_download_speed",
                                        "max_advertised_upload_speed"])
    return frame.assign(frn="0001", low_latency=1, business_residential_code="R",
                        state_usps="TX")


def test_release_diff_with_known_changes():
    b1, b3 = T1 + "1000", T3 + "1000"
    old = _bdc([
        ("L1", b1, CELL_A, "1", "DSL Co", 10, 50, 5),      # underserved
        ("L2", b1, CELL_A, "2", "CableCo", 40, 300, 20),   # served
        ("L3", b1, CELL_A, "2", "CableCo", 40, 300, 20),   # served, no fiber
        ("L5", b3, CELL_B, "1", "DSL Co", 10, 10, 1),      # unserved; gone from the new Fabric
    ])
    new = _bdc([
        ("L1", b1, CELL_A, "1", "DSL Co", 10, 50, 5),
        ("L1", b1, CELL_A, "3", "FiberNet", 50, 1000, 1000),  # newly served + fiber gained
        ("L2", b1, CELL_A, "1", "DSL Co", 10, 50, 5),         # CableCo left: lost service
        ("L3", b1, CELL_A, "3", "FiberNet", 50, 1000, 1000),  # fiber gained, stays served
        ("L4", b3, CELL_B, "3", "FiberNet", 50, 1000, 1000),  # a new location
    ])
    tracts = gpd.GeoDataFrame({"GEOID": [T1, T2, T3]},
                              geometry=[shapely.box(0, 0, 1, 1)] * 3, crs=4326)
    schools = gpd.GeoDataFrame({"school_id": ["S1", "S2"], "name": ["North <b>&", "South"]},
                               geometry=[shapely.Point(-102.37, 31.85),
                                         shapely.Point(-102.33, 31.87)], crs=4326)
    change = am.release_change_report(old, new, tracts=tracts, schools=schools,
                                      old_label="June 2024", new_label="June 2025")
    t = change.tracts.set_index("GEOID")
    assert (t.loc[T1, "newly_served"], t.loc[T1, "lost_service"]) == (1, 1)
    assert t.loc[T1, "fiber_gained"] == 2
    assert t.loc[T1, "providers_entering_names"] == "FiberNet"
    assert t.loc[T1, "providers_leaving_names"] == "CableCo"
    assert (t.loc[T1, "providers_entering"], t.loc[T1, "providers_leaving"]) == (1, 1)
    # L4 is new to the Fabric and served by fiber: newly served and fiber gained in T3
    assert (t.loc[T3, "newly_served"], t.loc[T3, "fiber_gained"]) == (1, 1)
    assert (t.loc[T3, "locations_added"], t.loc[T3, "locations_removed"]) == (1, 1)
    assert t.loc[T3, "providers_leaving_names"] == "DSL Co"
    assert t.loc[T3, "providers_entering"] == 1
    assert t.loc[T2, "locations_new"] == 0  # every tract is in the layer
    assert t.loc[T1, "served_share_old"] == pytest.approx(2 / 3)
    assert t.loc[T1, "served_share_new"] == pytest.approx(2 / 3)
    assert change.summary["newly_served"] == 2
    assert change.summary["fiber_gained"] == 3
    # the tract counts equal am.compare_releases' (one definition of each count)
    counts = am.compare_releases(old, new, level="tract").set_index("GEOID")
    for col in ("newly_served", "lost_service", "fiber_gained", "locations_added",
                "providers_entering", "providers_leaving"):
        assert t.loc[counts.index, col].tolist() == counts[col].tolist(), col
    for col in ("newly_served", "lost_service", "fiber_gained", "locations_added"):
        assert change.tracts[col].sum() == change.summary[col]
    s = change.schools.set_index("school_id")
    assert s.loc["S1", "newly_served"] == 1
    assert s.loc["S2", "locations_added"] == 1
    assert "North &lt;b&gt;&amp;" in change.markdown
    assert "<b>" not in change.markdown
    assert "June 2025" in change.markdown


def test_release_diff_from_service_levels_and_zones():
    def levels(values, fiber):
        return pd.DataFrame({"location_id": ["1", "2", "3"], "block_geoid": T1 + "1000",
                             "h3_res8_id": CELL_A, "service_level": values,
                             "has_fiber": fiber})
    zones = gpd.GeoDataFrame({"school_id": ["Z1"]},
                             geometry=[shapely.Point(-102.37, 31.85).buffer(0.05)], crs=4326)
    change = am.release_change_report(levels(["unserved", "served", "underserved"], [False] * 3),
                                      levels(["served", "underserved", "unserved"],
                                             [True, False, False]), zones=zones)
    row = change.tracts.iloc[0]
    # served: 2 -> 1 (newly served), 1 -> 2 (lost); under -> unserved is no served change
    assert (row["newly_served"], row["lost_service"], row["fiber_gained"]) == (1, 1, 1)
    assert "providers_entering" not in change.tracts.columns  # not knowable from levels
    assert change.schools["school_id"].tolist() == ["Z1"]
    with pytest.raises(SchemaError):
        am.release_change_report(pd.DataFrame({"x": [1]}), levels(["served"] * 3, [False] * 3))
