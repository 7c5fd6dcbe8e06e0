"""Site selection (maximal covering location problem): known optima, bounds, ties, errors."""

from __future__ import annotations

import itertools
import math
import sys

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from geopandas.testing import assert_geodataframe_equal
from scipy.optimize import OptimizeResult
from scipy.optimize import milp as real_milp
from shapely.geometry import Point, box

import assetmap as am
from assetmap.analysis import _mclp_exact  # internal: its milp is faked for solver statuses
from assetmap.analysis import plan as plan_mod  # internal: the size threshold of method="auto"
from assetmap.errors import AssetmapError, ConfigError, RejectedRowsWarning, SchemaError

UTM = 32613  # UTM zone 13N (Ector County)
X0, Y0 = 500_000.0, 3_530_000.0


def line_case():
    """Four demand points on a line and three candidates, reach 1000 m.

    u1 (5) at 0, u2 (6) at 1500, u3 (6) at 2500, u4 (5) at 4000.
    L at 750 covers u1+u2 = 11, M at 2000 covers u2+u3 = 12, R at 3250 covers u3+u4 = 11.
    k=2: L+R = 22 (optimum, everything), L+M = M+R = 17; greedy takes M first -> 17.
    """
    areas = gpd.GeoDataFrame(
        {"GEOID": ["u1", "u2", "u3", "u4"], "hh": [5.0, 6.0, 6.0, 5.0]},
        geometry=[Point(X0 + x, Y0) for x in (0, 1500, 2500, 4000)],
        crs=UTM,
    )
    cands = gpd.GeoDataFrame(
        {"site_id": ["L", "M", "R"], "name": ["Left", "Middle", "Right"],
         "status": ["vetted", "inquiry", "vetted"], "cap": [100.0, 100.0, 3.0]},
        geometry=[Point(X0 + x, Y0) for x in (750, 2000, 3250)],
        crs=UTM,
    )
    return areas, cands


def test_exact_finds_known_optimum_and_greedy_is_strictly_worse_within_bound():
    areas, cands = line_case()
    exact = am.select_sites(areas, candidates=cands, k=2, weight="hh", reach_m=1000, method="exact")
    assert set(exact["site_id"]) == {"L", "R"}
    assert exact["covered_demand_cumulative"].iloc[-1] == pytest.approx(22.0)
    assert exact["coverage_share_cumulative"].iloc[-1] == pytest.approx(1.0)
    greedy = am.select_sites(areas, candidates=cands, k=2, weight="hh", reach_m=1000,
                          method="greedy")
    assert greedy["site_id"].tolist() == ["M", "L"]
    assert greedy["covered_demand_gain"].tolist() == [12.0, 5.0]
    g_total = greedy["covered_demand_cumulative"].iloc[-1]
    e_total = exact["covered_demand_cumulative"].iloc[-1]
    assert g_total < e_total
    assert g_total >= (1 - 1 / math.e) * e_total
    rep = greedy.attrs["assetmap"]["plan"]
    assert rep["method"] == "greedy"
    assert rep["uncovered"] == [{"area_id": "u4", "demand": 5.0}]


def test_compare_reports_gap_and_both_site_lists():
    areas, cands = line_case()
    out = am.select_sites(areas, candidates=cands, k=2, weight="hh", reach_m=1000, compare=True)
    cmp_ = out.attrs["assetmap"]["plan"]["comparison"]
    assert cmp_["exact_covered"] == pytest.approx(22.0)
    assert cmp_["greedy_covered"] == pytest.approx(17.0)
    assert cmp_["gap"] == pytest.approx(5.0)
    assert cmp_["gap_share"] == pytest.approx(5 / 22)
    assert cmp_["greedy_sites"] == ["M", "L"]
    assert set(cmp_["exact_sites"]) == {"L", "R"}


def test_plan_columns_order_and_curve():
    areas, cands = line_case()
    out = am.select_sites(areas, candidates=cands, k=1, weight="hh", reach_m=1000)
    assert list(out.columns) == [
        "site_id", "name", "order", "covered_demand_gain", "covered_demand_cumulative",
        "coverage_share_cumulative", "geometry",
    ]
    assert out.crs.to_epsg() == 4326
    assert out["site_id"].tolist() == ["M"]
    assert out["name"].tolist() == ["Middle"]
    rep = out.attrs["assetmap"]["plan"]
    assert [c["covered"] for c in rep["coverage_curve"]] == [0.0, 12.0]
    assert sorted((u["area_id"], u["demand"]) for u in rep["uncovered"]) == [
        ("u1", 5.0), ("u4", 5.0)]
    assert rep["uncovered_demand"] == pytest.approx(10.0)
    # the chosen site's point is the candidate's, back in EPSG:4326
    back = gpd.GeoSeries(out.geometry, crs=4326).to_crs(UTM).iloc[0]
    assert back.distance(Point(X0 + 2000, Y0)) < 0.01


def test_existing_sites_count_as_covered():
    areas, cands = line_case()
    existing = gpd.GeoDataFrame({"site_id": ["E"]}, geometry=[Point(X0 + 750, Y0)], crs=UTM)
    out = am.select_sites(areas, candidates=cands, k=1, weight="hh", reach_m=1000,
                       existing=existing)
    # u1, u2 already covered: R adds u3+u4 = 11, M would add only u3 = 6
    assert out["site_id"].tolist() == ["R"]
    assert out["covered_demand_gain"].tolist() == [11.0]
    rep = out.attrs["assetmap"]["plan"]
    assert rep["covered_by_existing"] == pytest.approx(11.0)
    assert out["coverage_share_cumulative"].iloc[0] == pytest.approx(1.0)
    assert rep["coverage_curve"][0]["covered"] == pytest.approx(11.0)


@pytest.mark.parametrize("method", ["exact", "greedy"])
def test_capacity_column_respected(method):
    areas, cands = line_case()
    out = am.select_sites(areas, candidates=cands, k=2, weight="hh", reach_m=1000,
                       capacity="cap", method=method)
    # hand: L (cap 100) + M (cap 100) cover u1+u2+u3 = 17; L+R = 11+3 = 14; M+R = 12+3 = 15
    assert set(out["site_id"]) == {"L", "M"}
    assert out["covered_demand_cumulative"].iloc[-1] == pytest.approx(17.0)
    caps = cands.set_index("site_id")["cap"]
    assert (out["covered_demand_gain"].to_numpy() <= caps[out["site_id"]].to_numpy() + 1e-9).all()


@pytest.mark.parametrize("method", ["exact", "greedy"])
def test_scalar_capacity_caps_every_site(method):
    areas, cands = line_case()
    out = am.select_sites(areas, candidates=cands, k=2, weight="hh", reach_m=1000, capacity=6.0,
                       method=method)
    assert (out["covered_demand_gain"] <= 6.0 + 1e-9).all()
    assert out["covered_demand_cumulative"].iloc[-1] == pytest.approx(12.0)
    rep = out.attrs["assetmap"]["plan"]
    assert rep["uncovered_demand"] == pytest.approx(22.0 - 12.0)
    assert "no approximation guarantee" in rep["approximation"]


def random_case(seed, n=60, m=12):
    rng = np.random.default_rng(seed)
    d = rng.uniform(0, 10_000, (n, 2))
    c = rng.uniform(0, 10_000, (m, 2))
    w = rng.integers(1, 30, n).astype(float)
    areas = gpd.GeoDataFrame({"w": w}, geometry=[Point(X0 + x, Y0 + y) for x, y in d], crs=UTM)
    cands = gpd.GeoDataFrame({"site_id": [f"c{j}" for j in range(m)]},
                             geometry=[Point(X0 + x, Y0 + y) for x, y in c], crs=UTM)
    return areas, cands, d, c, w


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_exact_matches_brute_force_and_greedy_within_bound(seed):
    areas, cands, d, c, w = random_case(seed)
    reach, k = 2500.0, 3
    within = np.hypot(d[:, None, 0] - c[None, :, 0], d[:, None, 1] - c[None, :, 1]) <= reach
    best = max(w[within[:, list(s)].any(axis=1)].sum()
               for s in itertools.combinations(range(len(c)), k))
    exact = am.select_sites(areas, candidates=cands, k=k, weight="w", reach_m=reach, method="exact")
    greedy = am.select_sites(areas, candidates=cands, k=k, weight="w", reach_m=reach,
                          method="greedy")
    assert exact["covered_demand_cumulative"].iloc[-1] == pytest.approx(best)
    got = greedy["covered_demand_cumulative"].iloc[-1]
    assert (1 - 1 / math.e) * best - 1e-9 <= got <= best + 1e-9
    # the greedy curve never increases its gains (submodularity)
    assert (np.diff(greedy["covered_demand_gain"].to_numpy()) <= 1e-9).all()


def test_geographic_input_gives_same_answer_as_projected():
    areas, cands = line_case()
    a = am.select_sites(areas, candidates=cands, k=2, weight="hh", reach_m=1000, method="exact")
    b = am.select_sites(areas.to_crs(4326), candidates=cands.to_crs(4326), k=2, weight="hh",
                     reach_m=1000, method="exact")
    assert set(a["site_id"]) == set(b["site_id"])
    assert a["covered_demand_cumulative"].iloc[-1] == b["covered_demand_cumulative"].iloc[-1]


def test_method_auto_switches_on_size(monkeypatch):
    areas, cands = line_case()
    out = am.select_sites(areas, candidates=cands, k=2, weight="hh", reach_m=1000)
    assert out.attrs["assetmap"]["plan"]["method"] == "exact"
    assert out.attrs["assetmap"]["plan"]["coverage_pairs"] == 6
    monkeypatch.setattr(plan_mod, "AUTO_EXACT_MAX_NNZ", 5)
    out = am.select_sites(areas, candidates=cands, k=2, weight="hh", reach_m=1000)
    assert out.attrs["assetmap"]["plan"]["method"] == "greedy"


def test_polygons_and_derived_unserved_households():
    # two square tracts; a site in the first's centre covers only the first
    tracts = gpd.GeoDataFrame(
        {"GEOID": ["48135000100", "48135000200"], "households": [200, 100],
         "unserved_share": [0.25, 0.5], "underserved_share": [0.25, 0.0]},
        geometry=[box(X0, Y0, X0 + 1000, Y0 + 1000), box(X0 + 8000, Y0, X0 + 9000, Y0 + 1000)],
        crs=UTM,
    )
    cands = gpd.GeoDataFrame({"site_id": ["a", "b"]},
                             geometry=[Point(X0 + 500, Y0 + 500), Point(X0 + 4000, Y0)], crs=UTM)
    out = am.select_sites(tracts, candidates=cands, k=1, reach_m=1000)
    # unserved_households = (0.25 + 0.25) * 200 = 100 and 0.5 * 100 = 50
    assert out["site_id"].tolist() == ["a"]
    assert out["covered_demand_gain"].tolist() == [100.0]
    rep = out.attrs["assetmap"]["plan"]
    assert "unserved_share + underserved_share" in rep["demand"]
    assert rep["total_demand"] == pytest.approx(150.0)
    assert rep["uncovered"] == [{"area_id": "48135000200", "demand": 50.0}]


def test_need_weight_multiplies_demand():
    areas, cands = line_case()
    areas["need"] = [10.0, 0.0, 0.0, 10.0]
    out = am.select_sites(areas, candidates=cands, k=1, weight="hh", reach_m=1000,
                       need_weight="need")
    assert out["site_id"].tolist() in (["L"], ["R"])
    assert out["covered_demand_gain"].tolist() == [50.0]


def test_candidate_status_filter_and_reach_column():
    areas, cands = line_case()
    cands["status"] = ["active", "inquiry", "vetted"]
    out = am.select_sites(areas, candidates=cands, k=2, weight="hh", reach_m=1000)
    assert set(out["site_id"]) == {"M", "R"}
    assert out.attrs["assetmap"]["plan"]["candidates_excluded_by_status"] == 1
    cands["radius"] = [1000.0, 100.0, 1000.0]
    out = am.select_sites(areas, candidates=cands, k=1, weight="hh", reach_m="radius",
                       candidate_status=None)
    assert out["site_id"].tolist() == ["L"]  # M reaches nobody with 100 m


def test_inputs_not_mutated():
    areas, cands = line_case()
    a0, c0 = areas.copy(), cands.copy()
    am.select_sites(areas, candidates=cands, k=2, weight="hh", reach_m=1000, compare=True,
                 capacity="cap")
    assert_geodataframe_equal(areas, a0)
    assert_geodataframe_equal(cands, c0)


def test_nan_demand_is_counted_and_warned():
    areas, cands = line_case()
    areas.loc[0, "hh"] = np.nan
    with pytest.warns(RejectedRowsWarning, match="1 of 4"):
        out = am.select_sites(areas, candidates=cands, k=1, weight="hh", reach_m=1000)
    rep = out.attrs["assetmap"]
    assert sum(rep["rejected"].values()) == 1
    assert rep["plan"]["total_demand"] == pytest.approx(17.0)


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"k": 4}, ConfigError, "larger than the number of candidate"),
        ({"k": 0}, ConfigError, "positive integer"),
        ({"method": "fast"}, ConfigError, "method must be one of"),
        ({"weight": "children"}, SchemaError, "no demand column 'children'"),
        ({"weight": "unserved_households"}, SchemaError, "cannot derive"),
        ({"reach_m": -5}, ConfigError, "positive number of metres"),
        ({"capacity": "seats"}, SchemaError, "no capacity column"),
        ({"time_limit": 0}, ConfigError, "time_limit must be a positive number"),
        ({"time_limit": float("nan")}, ConfigError, "time_limit must be a positive number"),
        ({"time_limit": "60"}, ConfigError, "time_limit must be a positive number"),
    ],
)
def test_bad_options(change, error, match):
    areas, cands = line_case()
    kwargs = {"candidates": cands, "k": 2, "weight": "hh", "reach_m": 1000, **change}
    with pytest.raises(error, match=match):
        am.select_sites(areas, **kwargs)


def test_negative_demand_missing_crs_and_no_candidates():
    areas, cands = line_case()
    bad = areas.copy()
    bad.loc[2, "hh"] = -1.0
    with pytest.raises(SchemaError, match="negative"):
        am.select_sites(bad, candidates=cands, k=1, weight="hh")
    with pytest.raises(SchemaError, match="no CRS"):
        am.select_sites(gpd.GeoDataFrame(areas.drop(columns="geometry"),
                                      geometry=list(areas.geometry)),
                     candidates=cands, k=1, weight="hh")
    gone = cands.assign(status="active")
    with pytest.raises(SchemaError, match="no candidate sites with status"):
        am.select_sites(areas, candidates=gone, k=1, weight="hh")
    with pytest.raises(SchemaError, match="GeoDataFrame"):
        am.select_sites(pd.DataFrame(areas), candidates=cands, k=1, weight="hh")


def test_equally_good_sets_prefer_the_earlier_candidates():
    # with k=1, L covers u1+u2 = 11 and R covers u3+u4 = 11; M reaches nobody with 100 m.
    # Solvers pick among equal optima arbitrarily; the answer is the earlier-listed site.
    areas, cands = line_case()
    cands["radius"] = [1000.0, 100.0, 1000.0]
    for order in (cands, cands.iloc[::-1]):
        out = am.select_sites(areas, candidates=order, k=1, weight="hh", reach_m="radius",
                              method="exact")
        assert out["site_id"].tolist() == [order["site_id"].iloc[0]]
        assert out["covered_demand_gain"].tolist() == [11.0]


def test_capacitated_exact_is_optimal_where_highs_presolve_is_not():
    # HiGHS 1.2-1.8 (SciPy 1.11-1.16) with presolve on calls {c0, c1, c4} (463.09) optimal
    # here; enumerating all 220 sets with an assignment LP each gives {c0, c2, c4}
    rng = np.random.default_rng(6)
    d, c = rng.uniform(0, 10_000, (60, 2)), rng.uniform(0, 10_000, (12, 2))
    w = rng.integers(1, 30, 60).astype(float)
    cap = rng.uniform(20, 200, 12)
    areas = gpd.GeoDataFrame({"w": w}, geometry=[Point(X0 + x, Y0 + y) for x, y in d], crs=UTM)
    cands = gpd.GeoDataFrame({"site_id": [f"c{j}" for j in range(12)], "cap": cap},
                             geometry=[Point(X0 + x, Y0 + y) for x, y in c], crs=UTM)
    out = am.select_sites(areas, candidates=cands, k=3, weight="w", reach_m=2500,
                          capacity="cap", method="exact")
    assert set(out["site_id"]) == {"c0", "c2", "c4"}
    assert out["covered_demand_cumulative"].iloc[-1] == pytest.approx(467.8073246952, rel=1e-9)
    assert (out["covered_demand_gain"].to_numpy()
            <= cands.set_index("site_id")["cap"][out["site_id"]].to_numpy() + 1e-9).all()


def test_exact_runs_without_pulp(monkeypatch):
    # Python 3.13 resolves PuLP 4, which ships no CBC: the exact solver must not need it
    monkeypatch.setitem(sys.modules, "pulp", None)
    areas, cands = line_case()
    out = am.select_sites(areas, candidates=cands, k=2, weight="hh", reach_m=1000, compare=True)
    rep = out.attrs["assetmap"]["plan"]
    assert rep["method"] == "exact"
    assert rep["solver_status"].startswith("Optimal")
    assert rep["comparison"]["exact_covered"] == pytest.approx(22.0)


def _milp_reporting(status, keep_x):
    """A stand-in for scipy's milp: solve for real, then report ``status``."""
    def fake(c, **kwargs):
        res = real_milp(c, **kwargs)
        return OptimizeResult(status=status, message=f"(fake status {status})", fun=res.fun,
                              x=res.x if keep_x else None, mip_dual_bound=res.fun - 1.0)
    return fake


@pytest.mark.parametrize(
    ("capacity", "sites", "bound"), [(None, {"L", "R"}, 23), ("cap", {"L", "M"}, 18)]
)
def test_time_limit_keeps_the_best_sets_found(monkeypatch, capacity, sites, bound):
    monkeypatch.setattr(_mclp_exact, "milp", _milp_reporting(1, keep_x=True))
    areas, cands = line_case()
    out = am.select_sites(areas, candidates=cands, k=2, weight="hh", reach_m=1000,
                          capacity=capacity, method="exact", time_limit=5)
    rep = out.attrs["assetmap"]["plan"]
    assert set(out["site_id"]) == sites
    assert rep["solver_status"].startswith("Not proven optimal")
    assert any("time_limit=5 s" in n and f"no set covers more than {bound}" in n
               for n in rep["notes"])


def test_unknown_capacity_is_unlimited_and_demand_goes_to_earlier_sites_first():
    # L (unlimited) + M (unlimited) cover u1+u2+u3 = 17; u2 is within reach of both and goes
    # to L, listed first, whichever of the equally good assignments the solver returns
    areas, cands = line_case()
    cands["cap"] = [np.nan, np.nan, 3.0]
    out = am.select_sites(areas, candidates=cands, k=2, weight="hh", reach_m=1000,
                          capacity="cap", method="exact")
    assert out["site_id"].tolist() == ["L", "M"]
    assert out["covered_demand_gain"].tolist() == pytest.approx([11.0, 6.0])
    assert out.attrs["assetmap"]["plan"]["uncovered"] == [{"area_id": "u4", "demand": 5.0}]


@pytest.mark.parametrize(
    ("status", "keep_x", "error", "match"),
    [
        (1, False, ConfigError, "no feasible set of sites within time_limit=5 s"),
        (2, False, AssetmapError, "HiGHS status 2"),
        (4, False, AssetmapError, "report this as a bug"),
    ],
)
def test_solver_failures_raise_clear_errors(monkeypatch, status, keep_x, error, match):
    monkeypatch.setattr(_mclp_exact, "milp", _milp_reporting(status, keep_x))
    areas, cands = line_case()
    for capacity in (None, "cap"):
        with pytest.raises(error, match=match):
            am.select_sites(areas, candidates=cands, k=2, weight="hh", reach_m=1000,
                            capacity=capacity, method="exact", time_limit=5)


def test_greedy_needs_no_solver(monkeypatch):
    monkeypatch.setattr(_mclp_exact, "milp", _milp_reporting(4, keep_x=False))
    areas, cands = line_case()
    out = am.select_sites(areas, candidates=cands, k=2, weight="hh", reach_m=1000,
                          method="greedy")
    assert out["site_id"].tolist() == ["M", "L"]
