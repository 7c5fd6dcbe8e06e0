"""What-if: apply a plan and rescore; exactly the affected columns and tracts change."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from geopandas.testing import assert_geodataframe_equal
from shapely.geometry import Point, box

import assetmap as am
from assetmap.errors import GeoidError, SchemaError

UTM = 32613
X0, Y0 = 500_000.0, 3_530_000.0
REACH = 1500.0


def hand_scorer(tracts, *, sites, reach_m=REACH):
    """A transparent scorer: sites within reach of the tract centre, gap and a priority."""
    out = tracts.copy()
    centres = out.geometry.to_crs(UTM).representative_point()
    if sites is None or len(sites) == 0:
        counts = np.zeros(len(out), dtype=int)
    else:
        s = sites.geometry.to_crs(UTM)
        dx = centres.x.to_numpy()[:, None] - s.x.to_numpy()[None, :]
        dy = centres.y.to_numpy()[:, None] - s.y.to_numpy()[None, :]
        counts = (np.hypot(dx, dy) <= reach_m).sum(axis=1)
    out["sites_within_reach"] = counts
    out["infrastructure_gap"] = 100 * (out["unserved_share"] + out["underserved_share"])
    out["resource_gap"] = np.where(counts == 0, 100.0, 0.0)
    out["priority"] = (out["infrastructure_gap"] + out["resource_gap"]) / 2
    out["priority_rank"] = out["priority"].rank(ascending=False, method="first").astype(int)
    return out


def base_tracts() -> gpd.GeoDataFrame:
    """Three 1-km tracts 5 km apart; one site near tract 1."""
    frame = pd.DataFrame({
        "GEOID": ["48135000100", "48135000200", "48135000300"],
        "households": [500.0, 300.0, 200.0],
        "locations": [600, 400, 250],
        "unserved": [60, 200, 25],
        "underserved": [60, 100, 25],
        "served": [480, 100, 200],
    })
    frame["unserved_share"] = frame["unserved"] / frame["locations"]
    frame["underserved_share"] = frame["underserved"] / frame["locations"]
    frame["served_share"] = frame["served"] / frame["locations"]
    frame["fiber_share"] = [0.5, 0.1, 0.0]
    geoms = [box(X0 + 5000 * i, Y0, X0 + 5000 * i + 1000, Y0 + 1000) for i in range(3)]
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=UTM).to_crs(4326)


def current_sites() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"site_id": ["lib"], "name": ["Library"], "site_type": ["library"],
                             "svc_public_wifi": [True], "status": ["active"]},
                            geometry=[Point(X0 + 500, Y0 + 500)], crs=UTM).to_crs(4326)


def scored_and_sites():
    sites = current_sites()
    return hand_scorer(base_tracts(), sites=sites), sites


def test_no_plan_reproduces_the_scores():
    scored, sites = scored_and_sites()
    out = am.apply_plan(scored, sites=sites, rescore=hand_scorer, reach_m=REACH)
    pd.testing.assert_frame_equal(
        pd.DataFrame(out[scored.columns].drop(columns="geometry")),
        pd.DataFrame(scored.drop(columns="geometry")))
    w = out.attrs["assetmap"]["whatif"]
    assert w["households_newly_within_reach"] == 0.0
    assert w["tracts_newly_within_reach"] == []
    assert w["upgraded_tracts"] == []
    assert all(c["tracts_changed"] == 0 for c in w["index_change"].values())


def test_new_site_changes_only_the_tract_it_reaches():
    scored, sites = scored_and_sites()
    new = gpd.GeoDataFrame({"site_id": ["n1"]}, geometry=[Point(X0 + 10_500, Y0 + 500)],
                           crs=UTM)
    out = am.apply_plan(scored, new_sites=new, sites=sites, rescore=hand_scorer, reach_m=REACH)
    assert out["sites_within_reach"].tolist() == [1, 0, 1]
    assert out["resource_gap"].tolist() == [0.0, 100.0, 0.0]
    untouched = [c for c in scored.columns
                 if c not in ("sites_within_reach", "resource_gap", "priority", "priority_rank")]
    pd.testing.assert_frame_equal(pd.DataFrame(out[untouched]), pd.DataFrame(scored[untouched]))
    # tract 3's priority falls by 50 (resource gap 100 -> 0); the others keep theirs
    assert (out["priority"] - scored["priority"]).tolist() == [0.0, 0.0, -50.0]
    assert out["plan_new_reach"].tolist() == [False, False, True]
    assert out["priority_before"].tolist() == scored["priority"].tolist()
    w = out.attrs["assetmap"]["whatif"]
    assert w["households_newly_within_reach"] == 200.0
    assert w["tracts_newly_within_reach"] == ["48135000300"]
    assert w["new_sites"] == 1
    ch = w["index_change"]["priority"]
    assert ch["tracts_changed"] == 1
    assert ch["mean_change"] == pytest.approx(-50.0 / 3)


def test_upgrade_makes_locations_served_and_nothing_else():
    scored, sites = scored_and_sites()
    out = am.apply_plan(scored, upgraded_tracts=["48135000200"], sites=sites, rescore=hand_scorer,
                        reach_m=REACH, top_n=2)
    row = out.set_index("GEOID").loc["48135000200"]
    assert (row["unserved"], row["underserved"], row["served"]) == (0, 0, 400)
    assert (row["unserved_share"], row["underserved_share"], row["served_share"]) == (0, 0, 1)
    assert row["infrastructure_gap"] == 0.0
    assert row["fiber_share"] == 0.1  # technology of the upgrade is not assumed
    others = out[out["GEOID"] != "48135000200"]
    before = scored[scored["GEOID"] != "48135000200"]
    cols = [c for c in scored.columns if c != "priority_rank"]
    pd.testing.assert_frame_equal(pd.DataFrame(others[cols]), pd.DataFrame(before[cols]))
    w = out.attrs["assetmap"]["whatif"]
    assert w["upgraded_locations"] == 300.0
    assert w["upgraded_households"] == 300.0
    # priority before: tract 2 (75+100)/2 = 87.5, tract 3 (20+100)/2 = 60, tract 1 20/2 = 10
    assert w["priority_tracts"] == ["48135000200", "48135000300"]
    assert w["priority_tracts_addressed"] == ["48135000200"]
    assert out["plan_upgraded"].tolist() == [False, True, False]


def test_inputs_not_mutated_and_output_crs():
    scored, sites = scored_and_sites()
    s0, t0 = scored.copy(), sites.copy()
    new = gpd.GeoDataFrame({"site_id": ["n1"]}, geometry=[Point(X0 + 10_500, Y0)], crs=UTM)
    n0 = new.copy()
    out = am.apply_plan(scored.to_crs(UTM), new_sites=new, upgraded_tracts=["48135000100"],
                        sites=sites, rescore=hand_scorer, reach_m=REACH)
    assert_geodataframe_equal(scored, s0)
    assert_geodataframe_equal(sites, t0)
    assert_geodataframe_equal(new, n0)
    assert out.crs.to_epsg() == 4326


def test_bad_inputs():
    scored, _sites = scored_and_sites()
    with pytest.raises(GeoidError, match="48135999999"):
        am.apply_plan(scored, upgraded_tracts=["48135999999"], rescore=hand_scorer)
    with pytest.raises(SchemaError, match="not a GeoDataFrame"):
        am.apply_plan(scored, rescore=lambda t, *, sites: pd.DataFrame(t))
    with pytest.raises(SchemaError, match="no id column"):
        am.apply_plan(scored.drop(columns="GEOID"), rescore=hand_scorer)
    with pytest.raises(SchemaError, match="CRS"):
        am.apply_plan(scored, new_sites=pd.DataFrame({"a": [1]}), rescore=hand_scorer)


def test_with_real_score_tracts():
    _scored, sites = scored_and_sites()
    base = am.score_tracts(base_tracts(), sites=sites)
    new = gpd.GeoDataFrame({"site_id": ["n1"], "name": ["New"], "site_type": ["library"],
                            "svc_public_wifi": [True]},
                           geometry=[Point(X0 + 10_500, Y0 + 500)], crs=UTM)
    out = am.apply_plan(base, new_sites=new, sites=sites, reach_m=REACH)
    assert len(out) == 3
    w = out.attrs["assetmap"]["whatif"]
    assert w["tracts_newly_within_reach"] == ["48135000300"]
    assert w["households_newly_within_reach"] == 200.0
    if "sites_within_reach" in out.columns:  # the real scorer's own access column agrees
        assert out.set_index("GEOID")["sites_within_reach"].to_dict() == {
            "48135000100": 1, "48135000200": 0, "48135000300": 1}
