"""score_tracts and weight_sensitivity on hand-computed cases, and on the real Ector tracts."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Geod
from shapely.geometry import Point, box

import assetmap as am
from assetmap.errors import ConfigError, SchemaError

GEOD = Geod(ellps="WGS84")
LAT = 31.85


def tracts(n: int, points: bool = False, **cols) -> gpd.GeoDataFrame:
    ids = [f"48135{i + 1:04d}00" for i in range(n)]
    if points:  # points 5 km apart along a parallel: the tract point is the geometry itself
        geom = [Point(GEOD.fwd(-102.4, LAT, 90, 5000 * i)[0], LAT) for i in range(n)]
    else:
        geom = [box(-102.5 + 0.05 * i, 31.8, -102.45 + 0.05 * i, 31.85) for i in range(n)]
    return gpd.GeoDataFrame({"GEOID": ids, **cols}, geometry=geom, crs=4326)


def score(t, **kw):
    return am.score_tracts(t, sensitivity_draws=kw.pop("sensitivity_draws", 0), **kw)


def test_infrastructure_gap_hand_computed():
    t = tracts(3, unserved_share=[0.5, 0.2, 0.1], underserved_share=[0.1, 0.3, 0.2],
               fiber_share=[0.0, 0.5, 0.9], providers_100_20=[0.0, 1.0, 2.0])
    before = t.copy()
    s = score(t)
    # percentiles: unserved [100, 50, 0], underserved [0, 100, 50], no fiber [100, 50, 0],
    # few providers [100, 50, 0]; weights 1, 0.5, 1, 0.5
    np.testing.assert_allclose(s["infrastructure_gap"], [250 / 3, 175 / 3, 25 / 3])
    np.testing.assert_allclose(s["priority"], s["infrastructure_gap"])  # the only index
    assert s["priority_rank"].tolist() == [1, 2, 3]
    assert s.crs.to_epsg() == 4326
    pd.testing.assert_frame_equal(pd.DataFrame(t), pd.DataFrame(before))
    spec = s.attrs["assetmap"]["score_spec"]
    json.dumps(spec)
    inputs = {i["name"]: i for i in spec["indices"]["infrastructure_gap"]["inputs"]}
    assert inputs["no_fiber"]["direction"] == "lower = more need"
    assert inputs["no_fiber"]["column"] == "fiber_share"
    assert spec["indices"]["adoption_gap"]["absent"][:2] == ["no_internet_share",
                                                             "no_computer_share"]


def test_adoption_gap_reweights_missing_survey_and_says_so():
    t = tracts(4, no_internet_share=[0.1, 0.2, 0.3, 0.4], no_computer_share=[0.4, 0.3, 0.2, 0.1],
               survey_no_internet_rate=[0.5, np.nan, 0.1, 0.3])
    s = score(t)
    # no internet [0, 33.3, 66.7, 100]; no computer [100, 66.7, 33.3, 0]; survey [100, -, 0, 50]
    np.testing.assert_allclose(s["adoption_gap"], [200 / 3, 50, 100 / 3, 50])
    assert s["missing_inputs"].tolist() == ["", "survey_no_internet_rate", "", ""]


def test_need_uses_income_children_share_and_ruca():
    t = tracts(3, income_lt25k_share=[0.1, 0.3, 0.2], children=[100, 200, 300],
               population=[1000, 1000, 1000], ruca_primary=[1, 1, 10])
    s = score(t)
    # low income [0, 100, 50]; children share [0, 50, 100]; RUCA ranks 1.5, 1.5, 3 -> [25, 25,
    # 100]; weights 1, 1, 0.5
    np.testing.assert_allclose(s["need"], [5, 65, 80])
    used = {i["name"]: i["column"] for i in
            s.attrs["assetmap"]["score_spec"]["indices"]["need"]["inputs"]}
    assert used == {"low_income": "income_lt25k_share", "children": "children_share",
                    "rurality": "ruca_primary"}
    np.testing.assert_allclose(s["children_share"], [0.1, 0.2, 0.3])


def test_resource_gap_from_sites():
    t = tracts(3, points=True, households=[100, 100, 100])
    lib = Point(GEOD.fwd(-102.4, LAT, 90, 1000)[0], LAT)
    sites = gpd.GeoDataFrame({"site_type": ["library"]}, geometry=[lib], crs=4326)
    s = score(t, sites=sites)
    np.testing.assert_allclose(s["dist_library_m"], [1000, 4000, 9000], rtol=2e-3)
    assert s["sites_within_reach"].tolist() == [1, 0, 0]
    assert s["reach_m"].tolist() == [3218.7] * 3
    np.testing.assert_allclose(s["access_2sfca"], [0.01, 0, 0])  # 1 site / 100 households
    # distance [0, 50, 100]; fewer sites [0, 75, 75]; lower 2SFCA [0, 75, 75]
    np.testing.assert_allclose(s["resource_gap"], [0, 200 / 3, 250 / 3])
    assert "dist_school_m" not in s.columns
    assert s.attrs["assetmap"]["score_spec"]["access"]["two_step_fca"]["demand"] == "households"


def test_priority_with_user_weights():
    t = tracts(2, unserved_share=[0.5, 0.1], no_internet_share=[0.1, 0.3])
    np.testing.assert_allclose(score(t)["priority"], [50, 50])
    s = score(t, weights={"infrastructure_gap": 3, "adoption_gap": 1})
    np.testing.assert_allclose(s["priority"], [75, 25])
    assert s.attrs["assetmap"]["score_spec"]["priority"]["weights"]["infrastructure_gap"] == 3


def test_within_index_weights_and_zscore():
    t = tracts(3, unserved_share=[0.1, 0.2, 0.3], fiber_share=[0.9, 0.5, 0.4])
    s = score(t, normalise="zscore")
    z1 = (np.array([0.1, 0.2, 0.3]) - 0.2) / np.std([0.1, 0.2, 0.3])
    f = -np.array([0.9, 0.5, 0.4])
    z2 = (f - f.mean()) / f.std()
    m = (z1 + z2) / 2
    np.testing.assert_allclose(s["infrastructure_gap"], (m - m.min()) / (m.max() - m.min()) * 100)
    s = score(t, weights={"no_fiber": 0})
    np.testing.assert_allclose(s["infrastructure_gap"], [0, 50, 100])


def test_weights_are_validated():
    t = tracts(2, unserved_share=[0.5, 0.1])
    with pytest.raises(ConfigError, match=r"unknown weight name.*'speed'.*allowed.*unserved_share"):
        score(t, weights={"speed": 1})
    with pytest.raises(ConfigError, match=">= 0"):
        score(t, weights={"need": -1})
    with pytest.raises(ConfigError, match="normalise"):
        score(t, normalise="minmax")


def test_unreliable_flag_from_cv_of_weighted_inputs_only():
    t = tracts(2, no_internet_share=[0.1, 0.3], no_internet_share_cv=[0.1, 0.45],
               income_lt25k_share=[0.2, 0.1], income_lt25k_share_cv=[0.9, 0.9])
    s = score(t, weights={"low_income": 0})
    assert s["unreliable"].tolist() == [False, True]
    assert s["unreliable_inputs"].tolist() == ["", "no_internet_share"]
    s = score(t)
    assert s["unreliable_inputs"].tolist() == ["low_income", "no_internet_share;low_income"]


def test_tract_missing_from_a_source_is_kept_and_flagged():
    t = tracts(3, unserved_share=[0.3, 0.2, 0.1])
    acs = pd.DataFrame({"GEOID": t["GEOID"].iloc[:2], "no_internet_share": [0.2, 0.1],
                        "no_computer_share": [0.1, 0.2]})
    s = score(t, acs=acs)
    assert len(s) == 3
    assert s["missing_inputs"].iloc[2] == "no_internet_share;no_computer_share;adoption_gap"
    assert np.isnan(s["adoption_gap"].iloc[2])
    assert s["priority"].iloc[2] == s["infrastructure_gap"].iloc[2] == 0  # re-weighted


def test_ddi_scores_hand_computed():
    t = tracts(3, unserved_share=[0.0, 0.5, 1.0], no_computer_share=[0.1, 0.2, 0.3],
               no_internet_share=[0.3, 0.2, 0.1], poverty_share=[0.2, 0.1, 0.3])
    s = score(t)
    np.testing.assert_allclose(s["ddi_infa"], [0, 50, 100])
    np.testing.assert_allclose(s["ddi_se"], [50, 0, 100])
    z = np.array([0.0, -1.0, 1.0]) / np.std([0.0, -1.0, 1.0])  # poverty z
    infa = np.array([-1.0, 0.0, 1.0]) / np.std([-1.0, 0.0, 1.0]) / 3  # mean of 3 z (two agree)
    total = infa + z
    np.testing.assert_allclose(s["ddi"], (total - total.min()) / np.ptp(total) * 100)
    ddi = s.attrs["assetmap"]["score_spec"]["ddi"]
    assert ddi["se_absent"] == ["age65_share", "less_than_hs_share", "disability_share"]


def test_sensitivity_clear_leader_always_top():
    t = tracts(5, unserved_share=[0.9, 0.3, 0.2, 0.1, 0.0],
               no_internet_share=[0.9, 0.1, 0.3, 0.2, 0.0])
    s = am.score_tracts(t, top_n=1, sensitivity_draws=100)
    assert s["top_n_stability"].tolist() == [1.0, 0.0, 0.0, 0.0, 0.0]
    summary = s.attrs["assetmap"]["sensitivity"]
    assert summary["baseline_top"] == [t["GEOID"].iloc[0]]
    assert summary["mean_share_of_baseline_top_kept"] == 1.0


def test_sensitivity_two_mirror_tracts_swap_about_half_the_time():
    # A is worst on infrastructure, B on adoption, by the same percentile: a tie that the
    # ratio of the two index weights decides, and both weights move by +-25% independently
    t = tracts(4, unserved_share=[0.9, 0.2, 0.1, 0.0], no_internet_share=[0.2, 0.9, 0.1, 0.0])
    s = am.score_tracts(t, top_n=1, sensitivity_draws=400, seed=3)
    assert s["priority"].iloc[0] == s["priority"].iloc[1]
    a, b = s["top_n_stability"].iloc[:2]
    assert a + b == 1.0
    assert 0.4 < a < 0.6
    again = am.weight_sensitivity(s, top_n=1, draws=400, seed=3)
    assert again["top_n_stability"].tolist() == s["top_n_stability"].tolist()


def test_sensitivity_exact_duplicates_split_by_random_tiebreak():
    t = tracts(3, unserved_share=[0.5, 0.5, 0.1])
    s = am.score_tracts(t, top_n=1, sensitivity_draws=400)
    assert 0.4 < s["top_n_stability"].iloc[0] < 0.6
    assert s["top_n_stability"].iloc[2] == 0.0


def test_sensitivity_needs_a_spec_and_valid_options():
    with pytest.raises(SchemaError, match="score_spec"):
        am.weight_sensitivity(pd.DataFrame({"priority": [1.0]}))
    s = score(tracts(2, unserved_share=[0.5, 0.1]))
    with pytest.raises(ConfigError, match="spread"):
        am.weight_sensitivity(s, spread=1.5)


@pytest.fixture(scope="module")
def ector(ector_dir):
    t = gpd.read_file(ector_dir / "boundaries" / "ector_tracts_2020.geojson")
    ruca = pd.read_csv(ector_dir / "rural" / "usda_ruca_2020_tracts2020.csv", dtype={"GEOID": str})
    raw = pd.read_csv(ector_dir / "sites"
                      / "anchor_sites_fqhc_shelter_hospital_library_permian.csv")
    sites = gpd.GeoDataFrame(
        {"site_type": raw["site_type"].replace({"public_library": "library"}),
         "name": raw["name"]},
        geometry=gpd.points_from_xy(raw["lon"], raw["lat"]), crs=4326)
    raw = pd.read_csv(ector_dir / "schools" / "tea_schools_2023_24_ector_midland_andrews.csv")
    raw = raw[raw["County"] == "ECTOR"]
    schools = gpd.GeoDataFrame(
        {"school_id": [f"s{i}" for i in range(len(raw))], "name": raw["School_name"].to_numpy()},
        geometry=gpd.points_from_xy(raw["lon"], raw["lat"]), crs=4326)
    bg = gpd.read_file(ector_dir / "population" / "ector_blockgroups_2020_popcentroids.geojson")
    return t, ruca, sites, schools, bg


def test_real_ector_scoring(ector):
    t, ruca, sites, schools, bg = ector
    before = sites.copy()
    s = am.score_tracts(t, rurality=ruca, sites=sites, schools=schools, points=bg,
                        sensitivity_draws=50)
    assert len(s) == 33
    assert s["reach_m"][s["rural"].astype(bool)].tolist() == [16093.4, 16093.4]
    assert s["priority"].between(0, 100).all()
    assert s["priority_rank"].min() == 1
    assert s["top_n_stability"].between(0, 1).all()
    assert s.attrs["assetmap"]["score_spec"]["access"]["point_source"] == {"weighted": 33}
    # independent check of one distance: block-group-weighted point -> nearest school
    g = "48135003001"
    pts = bg[bg["GEOID"].str.startswith(g)]
    lon = np.average(pts.geometry.x, weights=pts["POP2020"])
    lat = np.average(pts.geometry.y, weights=pts["POP2020"])
    near = min(GEOD.inv(lon, lat, p.x, p.y)[2] for p in schools.geometry)
    assert s.loc[s["GEOID"] == g, "dist_school_m"].iloc[0] == pytest.approx(near, rel=0.01,
                                                                            abs=20)
    pd.testing.assert_frame_equal(pd.DataFrame(sites), pd.DataFrame(before))


def test_box_bound_equals_corner_enumeration():
    from itertools import product

    from assetmap.analysis.sensitivity import _box_max  # internal: the bound inside the pruning

    rng = np.random.default_rng(1)
    x = rng.uniform(0, 100, (40, 4))
    x[rng.random(x.shape) < 0.2] = np.nan
    w = np.array([1.0, 0.5, 2.0, 1.0])
    got = _box_max(x, w, 0.75, 1.25)
    for row, value in zip(x, got, strict=True):
        ok = ~np.isnan(row)
        if not ok.any():
            assert np.isnan(value)
            continue
        best = max(np.sum(row[ok] * w[ok] * np.array(f)) / np.sum(w[ok] * np.array(f))
                   for f in product((0.75, 1.25), repeat=int(ok.sum())))
        assert value == pytest.approx(best)


def test_pruned_tracts_never_reach_the_top_in_brute_force_draws():
    # the draws skip tracts whose best case is below the N-th best worst case; check against
    # 300 independent brute-force weight draws over all tracts
    from assetmap.analysis._indices import (  # internal: the draws' matrices, not in the result
        combine,
        normalised_inputs,
        weight_matrices,
    )
    from assetmap.analysis.sensitivity import _candidates  # internal: which tracts were pruned

    rng = np.random.default_rng(7)
    n = 300
    t = tracts(n, unserved_share=rng.random(n), fiber_share=rng.random(n),
               no_internet_share=rng.random(n), no_computer_share=rng.random(n),
               poverty_share=rng.random(n), ruca_primary=rng.integers(1, 11, n))
    s = score(t)
    spec = s.attrs["assetmap"]["score_spec"]
    norm = normalised_inputs(s, spec).to_numpy(float)
    w_in, w_idx, members = weight_matrices(spec)
    cand = _candidates(norm, w_in, w_idx, members, 0.25, 10)
    assert cand.sum() < n  # something was pruned
    f_in = rng.uniform(0.75, 1.25, (len(w_in), 300))
    f_idx = rng.uniform(0.75, 1.25, (len(w_idx), 300))
    _, p = combine(norm, w_in[:, None] * f_in, w_idx[:, None] * f_idx, members, rescale=False)
    ever = np.zeros(n, dtype=bool)
    ever[np.argsort(-p, axis=0)[:10].ravel()] = True
    assert not (ever & ~cand).any()


def test_a_tract_with_no_households_is_not_ranked_and_the_report_says_so():
    t = tracts(3, households=[0.0, 120.0, 300.0], unserved_share=[1.0, 0.2, 0.1],
               underserved_share=[0.0, 0.3, 0.2], fiber_share=[0.0, 0.5, 0.9])
    s = score(t)
    assert np.isnan(s["priority"].iloc[0])
    assert s["priority_rank"].isna().tolist() == [True, False, False]
    assert s["priority_rank"].iloc[1:].tolist() == [1, 2]
    notes = am.get_report(s)["notes"]
    assert any("1 tract(s) with no households or residents are not scored or ranked: "
               "48135000100" in n for n in notes)
