"""Intervention typology: each rule fires on the tract built for it, and only there."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from geopandas.testing import assert_geodataframe_equal
from shapely.geometry import box

import assetmap as am
from assetmap.analysis.plan import InterventionThresholds  # internal: thresholds= type, not in am
from assetmap.errors import ConfigError, SchemaError


def hand_tracts() -> gpd.GeoDataFrame:
    """Five tracts, one per rule outcome.

    A dense gap next to F (fiber 80%) -> fiber_extension; F itself -> monitor;
    W rural, sparse, no fiber, gap -> wireless_or_satellite; P served but poor and offline ->
    affordability_adoption; N served, fine, no site within reach -> new_site.
    """
    rows = {
        #        gap parts      loc   ALAND km2 fiber rural noint pov  nocomp sites
        "A": (0.30, 0.20, 1000, 2.0, 0.00, False, 0.10, 0.15, 0.05, 3),
        "F": (0.01, 0.01, 1200, 2.0, 0.80, False, 0.05, 0.10, 0.05, 2),
        "W": (0.70, 0.20, 300, 200.0, 0.00, True, 0.25, 0.20, 0.10, 1),
        "P": (0.02, 0.01, 900, 3.0, 0.60, False, 0.30, 0.35, 0.20, 2),
        "N": (0.01, 0.01, 800, 3.0, 0.60, False, 0.05, 0.10, 0.05, 0),
    }
    geoms = {
        "A": box(0.00, 0, 0.01, 0.01), "F": box(0.01, 0, 0.02, 0.01),
        "W": box(1, 1, 1.1, 1.1), "P": box(2, 2, 2.01, 2.01), "N": box(3, 3, 3.01, 3.01),
    }
    cols = ["unserved_share", "underserved_share", "locations", "ALAND", "fiber_share", "rural",
            "no_internet_share", "poverty_share", "no_computer_share", "sites_within_reach"]
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=cols)
    frame["ALAND"] = frame["ALAND"] * 1e6
    frame.insert(0, "GEOID", frame.index)
    return gpd.GeoDataFrame(frame, geometry=[geoms[g] for g in frame.index], crs=4326)


EXPECTED = {"A": "fiber_extension", "F": "monitor", "W": "wireless_or_satellite",
            "P": "affordability_adoption", "N": "new_site"}


def test_each_rule_fires_only_on_its_tract():
    out = am.recommend_interventions(hand_tracts())
    assert out["intervention"].astype(str).to_dict() == EXPECTED
    # no other rule held anywhere: every tract matched exactly its own rule (or none)
    assert out["interventions_all"].to_dict() == {
        k: ("" if v == "monitor" else v) for k, v in EXPECTED.items()}
    assert isinstance(out["intervention"].dtype, pd.CategoricalDtype)
    assert list(out.index) == list(hand_tracts().index)


def test_reasons_name_the_numbers():
    out = am.recommend_interventions(hand_tracts())["intervention_reason"]
    assert "50% of 1,000 locations" in out["A"]
    assert "500 locations per km²" in out["A"]
    assert "80%" in out["A"]
    assert "fiber extension" in out["A"]
    assert "rural" in out["W"]
    assert "fixed wireless or a satellite pilot" in out["W"]
    assert "Starlink" not in out["W"]
    assert "Ector" not in out["W"]
    assert "30% of households have no internet" in out["P"]
    assert "35% in poverty" in out["P"]
    assert "device lending" in out["P"]
    assert "new learning center" in out["N"]
    assert "monitor" in out["F"]


def test_adjacency_is_what_makes_fiber_extension():
    t = hand_tracts()
    t.loc["F", "fiber_share"] = 0.0
    out = am.recommend_interventions(t)
    assert out.loc["A", "intervention"] == "wireless_or_satellite"
    assert "no fiber in or next to the tract" in out.loc["A", "intervention_reason"]
    # without geometry only the tract's own fiber counts (A has none)
    plain = pd.DataFrame(hand_tracts().drop(columns="geometry"))
    out = am.recommend_interventions(plain)
    assert out.loc["A", "intervention"] == "wireless_or_satellite"
    assert any("itself" in n for n in out.attrs["assetmap"]["notes"])


def test_thresholds_override_and_validation():
    out = am.recommend_interventions(hand_tracts(), thresholds={"dense_min_per_km2": 1000})
    assert out.loc["A", "intervention"] == "wireless_or_satellite"  # 500 per km² is now sparse
    out = am.recommend_interventions(hand_tracts(),
                                     thresholds=InterventionThresholds(poverty_min=0.5))
    assert out.loc["P", "intervention"] == "monitor"
    assert out.attrs["assetmap"]["thresholds"]["poverty_min"] == 0.5
    with pytest.raises(ConfigError, match="unknown threshold"):
        am.recommend_interventions(hand_tracts(), thresholds={"density": 3})
    with pytest.raises(ConfigError, match="non-negative"):
        am.recommend_interventions(hand_tracts(), thresholds={"ddi_cut": -1})


def test_rule_subset_and_order():
    out = am.recommend_interventions(hand_tracts(), rules=["new_site"])
    assert out["intervention"].astype(str).tolist() == [
        "monitor", "monitor", "monitor", "monitor", "new_site"]
    t = hand_tracts()
    t.loc["W", "sites_within_reach"] = 0  # W now also has no site
    out = am.recommend_interventions(t, rules=["new_site", "wireless_or_satellite"])
    assert out.loc["W", "intervention"] == "new_site"
    assert out.loc["W", "interventions_all"] == "new_site;wireless_or_satellite"
    with pytest.raises(ConfigError, match="unknown rule"):
        am.recommend_interventions(t, rules=["hotspots"])
    with pytest.raises(ConfigError, match="method"):
        am.recommend_interventions(t, method="ml")


def test_income_fallback_distances_and_missing_inputs():
    t = pd.DataFrame(hand_tracts().drop(columns=["geometry", "poverty_share"]))
    t["income_lt25k_share"] = [0.1, 0.1, 0.1, 0.3, 0.1]
    t["dist_library_m"] = [100.0, 100.0, 100.0, 100.0, 5000.0]
    t = t.drop(columns="sites_within_reach")
    out = am.recommend_interventions(t)
    assert out.loc["P", "intervention"] == "affordability_adoption"
    assert "under $25k" in out.loc["P", "intervention_reason"]
    assert out.loc["N", "intervention"] == "new_site"  # 5 km > 3.2 km reach
    t.loc["W", ["unserved_share", "underserved_share"]] = float("nan")
    assert am.recommend_interventions(t).loc["W", "intervention"] == "monitor"


def test_ddi_quadrants():
    t = pd.DataFrame({"infrastructure_gap": [80.0, 30.0, 20.0, 60.0],
                      "need": [60.0, 70.0, 10.0, float("nan")]}, index=list("abcd"))
    out = am.recommend_interventions(t, method="ddi")
    assert out["intervention"].astype(str).tolist() == [
        "infrastructure", "adoption", "monitor", "monitor"]
    assert "infrastructure_gap 80 vs need 60" in out.loc["a", "intervention_reason"]
    t2 = t.assign(ddi_infa=[10.0, 90.0, 10.0, 10.0], ddi_se=[20.0, 10.0, 10.0, 60.0])
    out = am.recommend_interventions(t2, method="ddi")  # DDI columns take precedence
    assert out["intervention"].astype(str).tolist() == [
        "monitor", "infrastructure", "monitor", "adoption"]
    with pytest.raises(SchemaError, match="ddi_infa"):
        am.recommend_interventions(t[["need"]], method="ddi")


def test_input_not_mutated():
    t = hand_tracts()
    before = t.copy()
    am.recommend_interventions(t)
    am.recommend_interventions(t.assign(infrastructure_gap=1.0, need=2.0), method="ddi")
    assert_geodataframe_equal(t, before)


def test_funding_column_is_dated_and_ended_programs_say_so():
    out = am.recommend_interventions(hand_tracts())
    funding = out["intervention_funding"]
    assert funding["F"] == ""  # monitor names no program
    for sentence in "|".join(funding[funding != ""]).split("|"):
        assert "(as of " in sentence
    assert "Affordable Connectivity Program (ACP): ended" in funding["P"]
    assert "no longer funds off-campus Wi-Fi hotspot lending" in funding["P"]
    assert "(as of September 30, 2025)" in funding["P"]
    assert "Digital Equity Act grants: cancelled" in funding["N"]
    assert "BEAD" in funding["W"]
    assert "BEAD" in funding["A"]
    # the ended program's caveat comes before the active ones
    assert funding["P"].index("ACP") < funding["P"].index("Lifeline:")
    keys = [p["key"] for p in out.attrs["assetmap"]["funding_programs"]]
    assert keys[:3] == ["acp", "lifeline", "erate"]


def test_study_programs_update_and_add(tmp_path):
    path = tmp_path / "programs.csv"
    path.write_text(
        "key,name,status,status_date,status_text,interventions,source\n"
        "erate,,active,2031-07-01,funds hotspot lending again,,https://example.org/erate\n"
        "state_fund,State Connect Fund,active,2026-01-15,open for device lending,"
        "affordability_adoption;new_site,\n")
    out = am.recommend_interventions(hand_tracts(), programs=path)
    text = out.loc["P", "intervention_funding"]
    assert "E-Rate: funds hotspot lending again (as of July 1, 2031)" in text
    assert "no longer funds off-campus" not in text
    assert "State Connect Fund: open for device lending (as of January 15, 2026)" in text
    table = {p["key"]: p for p in out.attrs["assetmap"]["funding_programs"]}
    assert table["erate"]["name"] == "E-Rate"  # blank cell keeps the shipped value
    frame = pd.DataFrame([{"key": "acp", "status": "active", "status_date": "2032-02-02",
                           "status_text": "refunded by Congress"}])
    out = am.recommend_interventions(hand_tracts(), programs=frame)
    text = out.loc["P", "intervention_funding"]
    assert "ACP): refunded by Congress (as of February 2, 2032)" in text


@pytest.mark.parametrize(("entry", "match"), [
    ({"key": "acp", "status": "paused"}, "status must be one of"),
    ({"key": "acp", "status_date": "June 2024"}, "ISO date"),
    ({"key": "new", "name": "New"}, "lacks"),
    ({"key": "acp", "colour": "red"}, "unknown field"),
    ({"name": "no key"}, "no 'key'"),
])
def test_bad_program_entries_are_refused(entry, match):
    with pytest.raises(ConfigError, match=match):
        am.recommend_interventions(hand_tracts(), programs=[entry])
