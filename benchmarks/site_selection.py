"""Benchmark: site selection (maximal covering location problem).

Sizes (from the planning issue):
  A. greedy selection of 20 sites from 5,000 candidates over 85,000 demand points
     (select_sites end to end, and the solver alone), next to a naive greedy that buffers
     the candidates and runs a geopandas sjoin against the uncovered demand at every step;
  B. 500 candidates x 10,000 demand points, k=10: the exact solver (SciPy's milp, HiGHS),
     greedy on the same case, and greedy's gap to the optimum;
  C. the exact solver before and after the move to SciPy: the same models solved by the PuLP
     + CBC code that select_sites used until then (kept below as `pulp_exact`, run only when
     PuLP and a CBC binary are installed) and by the current `_mclp_exact.exact`, uncapacitated and
     capacitated near the `method="auto"` limits.

Synthetic points (seeded): demand clustered like a small city and its rural fringe inside
a 60 km x 60 km square in UTM zone 13N (the size of Ector County), reach 3,200 m.

Run: .venv/bin/python benchmarks/site_selection.py [--naive-steps N] [--only B,C]
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import geopandas as gpd
import numpy as np
import scipy

from assetmap.analysis import _mclp, _mclp_exact
from assetmap.analysis.plan import select_sites

UTM = 32613
X0, Y0 = 330_000.0, 3_510_000.0
SIDE = 60_000.0
REACH = 3200.0


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def points(rng: np.random.Generator, n: int, clustered: bool) -> np.ndarray:
    if not clustered:
        return rng.uniform(0, SIDE, (n, 2))
    centres = rng.uniform(10_000, SIDE - 10_000, (12, 2))
    urban = int(n * 0.8)
    which = rng.integers(0, len(centres), urban)
    xy = centres[which] + rng.normal(0, 2500, (urban, 2))
    return np.clip(np.vstack([xy, rng.uniform(0, SIDE, (n - urban, 2))]), 0, SIDE)


def frames(seed: int, n_demand: int, n_cand: int) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    rng = np.random.default_rng(seed)
    d = points(rng, n_demand, clustered=True)
    c = points(rng, n_cand, clustered=True)
    areas = gpd.GeoDataFrame(
        {"GEOID": np.arange(n_demand).astype(str), "demand": rng.integers(1, 20, n_demand)},
        geometry=gpd.points_from_xy(X0 + d[:, 0], Y0 + d[:, 1]), crs=UTM,
    )
    cands = gpd.GeoDataFrame(
        {"site_id": [f"c{j}" for j in range(n_cand)]},
        geometry=gpd.points_from_xy(X0 + c[:, 0], Y0 + c[:, 1]), crs=UTM,
    )
    return areas, cands


def naive_greedy(areas: gpd.GeoDataFrame, cands: gpd.GeoDataFrame, k: int, steps: int):
    """Greedy the obvious way: buffer every candidate, sjoin with uncovered demand, each step."""
    buffers = cands[["site_id", "geometry"]].copy()
    buffers["geometry"] = buffers.buffer(REACH, quad_segs=16)
    uncovered = areas[["demand", "geometry"]].copy()
    chosen, gains, times = [], [], []
    for _ in range(min(k, steps)):
        t = time.perf_counter()
        pairs = gpd.sjoin(uncovered, buffers[~buffers["site_id"].isin(chosen)],
                          predicate="within")
        by_site = pairs.groupby("site_id")["demand"].sum()
        best = by_site.idxmax()
        covered = pairs.index[pairs["site_id"] == best]
        gains.append(float(uncovered.loc[covered, "demand"].sum()))
        uncovered = uncovered.drop(index=covered)
        chosen.append(best)
        times.append(time.perf_counter() - t)
    return chosen, gains, times


def pulp_exact(
    demand: np.ndarray, cover, k: int, capacity: np.ndarray | None, time_limit: float
) -> tuple[list[int], float, str]:
    """The exact solver select_sites used before SciPy's milp: the same model in PuLP + CBC.

    Returns the chosen candidates, the covered demand of the model's solution and CBC's status.
    """
    import pulp
    from pulp.apis import coin_api

    rows_used = np.flatnonzero((demand > 0) & (cover.getnnz(1) > 0))
    sub = _mclp.pattern(cover[rows_used])
    sub.sort_indices()
    _, w, first = _mclp_exact._group_rows(sub, demand[rows_used])
    red = sub[first].tocsr()
    m = cover.shape[1]
    prob = pulp.LpProblem("mclp", pulp.LpMaximize)
    new_var = getattr(prob, "add_variable", None) or pulp.LpVariable
    x = [new_var(f"x{j}", 0, 1, "Integer") for j in range(m)]
    prob += pulp.lpSum(x) == k
    if capacity is None:
        y = [new_var(f"y{g}", 0, 1, "Continuous") for g in range(len(w))]
        prob += pulp.LpAffineExpression([(y[g], float(w[g])) for g in range(len(w))])
        for g in range(len(w)):
            cands = red.indices[red.indptr[g]: red.indptr[g + 1]]
            prob += pulp.LpAffineExpression([(y[g], 1.0)] + [(x[j], -1.0) for j in cands]) <= 0
    else:
        z = [new_var(f"z{e}", 0, 1, "Continuous") for e in range(red.nnz)]
        group_of = np.repeat(np.arange(len(w)), np.diff(red.indptr))
        prob += pulp.LpAffineExpression([(z[e], float(w[g])) for e, g in enumerate(group_of)])
        for g in range(len(w)):
            prob += pulp.lpSum(z[red.indptr[g]: red.indptr[g + 1]]) <= 1
        site_of = red.indices
        reach = np.bincount(site_of, weights=w[group_of], minlength=m)
        for j in range(m):
            es = np.flatnonzero(site_of == j)
            if len(es):
                terms = [(z[e], float(w[group_of[e]])) for e in es]
                cap = float(min(capacity[j], reach[j]))
                prob += pulp.LpAffineExpression([*terms, (x[j], -cap)]) <= 0
    bundled = getattr(coin_api, "pulp_cbc_path", None)
    path = str(bundled) if bundled and os.access(bundled, os.X_OK) else None
    prob.solve(pulp.COIN_CMD(path=path, msg=False, timeLimit=time_limit))
    chosen = [j for j in range(m) if (x[j].value() or 0) > 0.5]
    return chosen, float(pulp.value(prob.objective)), pulp.LpStatus[prob.status]


def cbc_available() -> bool:
    try:
        import pulp
        from pulp.apis import coin_api
    except ImportError:
        return False
    bundled = getattr(coin_api, "pulp_cbc_path", None)
    path = str(bundled) if bundled and os.access(bundled, os.X_OK) else None
    return bool(pulp.COIN_CMD(path=path, msg=False).available())


def arrays(areas: gpd.GeoDataFrame, cands: gpd.GeoDataFrame):
    xy = np.column_stack([areas.geometry.x, areas.geometry.y])
    cxy = np.column_stack([cands.geometry.x, cands.geometry.y])
    cover = _mclp.coverage_matrix(xy, cxy, np.full(len(cxy), REACH))
    return areas["demand"].to_numpy(float), cover


def section_a(naive_steps: int) -> None:
    # ---- A: 85,000 demand x 5,000 candidates, k = 20, greedy
    areas, cands = frames(1, 85_000, 5_000)
    xy = np.column_stack([areas.geometry.x, areas.geometry.y])
    cxy = np.column_stack([cands.geometry.x, cands.geometry.y])
    t = time.perf_counter()
    cover = _mclp.coverage_matrix(xy, cxy, np.full(len(cxy), REACH))
    t_cover = time.perf_counter() - t
    w = areas["demand"].to_numpy(float)
    sol = _mclp.greedy(w, cover, 20)
    print(f"\nA. 85,000 demand points x 5,000 candidates, k=20, reach {REACH:.0f} m "
          f"({cover.nnz:,} demand-candidate pairs)")
    print(f"  coverage matrix (KD-tree)           {t_cover:7.2f} s")
    print(f"  greedy solver (incremental gains)   {sol.seconds:7.2f} s   covered {sol.covered:,.0f}"
          f" of {w.sum():,.0f}")
    t = time.perf_counter()
    plan = select_sites(areas, candidates=cands, k=20, weight="demand", reach_m=REACH,
                        method="greedy")
    t_all = time.perf_counter() - t
    assert plan["site_id"].tolist() == cands["site_id"].iloc[sol.chosen].tolist()
    print(f"  select_sites end to end (greedy)    {t_all:7.2f} s   peak RSS {rss_mb():,.0f} MB")
    chosen, gains, times = naive_greedy(areas, cands, 20, naive_steps)
    same = chosen == plan["site_id"].tolist()[: len(chosen)]
    # buffers are inscribed polygons (64 segments), so points just inside 3,200 m can fall out
    diff = np.abs(np.array(gains) - plan["covered_demand_gain"].to_numpy()[: len(gains)])
    rel = float(np.max(diff / np.array(gains)))
    per_step = float(np.mean(times))
    print(f"  naive greedy (buffer + sjoin/step)  {per_step:7.2f} s per step, {len(times)} steps "
          f"timed -> ~{per_step * 20:,.0f} s for 20")
    print(f"    same first sites as greedy: {same}; gains differ by at most {100 * rel:.3f} % "
          "(polygon buffers)")
    print(f"  speed-up of select_sites over naive ~{per_step * 20 / t_all:,.0f}x")



def section_b() -> None:
    # ---- B: 10,000 demand x 500 candidates, k = 10, exact vs greedy
    areas, cands = frames(2, 10_000, 500)
    t = time.perf_counter()
    out = select_sites(areas, candidates=cands, k=10, weight="demand", reach_m=REACH,
                       compare=True, time_limit=600)
    t_both = time.perf_counter() - t
    rep = out.attrs["assetmap"]["plan"]
    c = rep["comparison"]
    print(f"\nB. 10,000 demand points x 500 candidates, k=10 ({rep['coverage_pairs']:,} pairs)")
    print(f"  exact (SciPy milp / HiGHS)          {c['exact_seconds']:7.2f} s   covered "
          f"{c['exact_covered']:,.0f}   status {rep['solver_status']}")
    print(f"  greedy                              {c['greedy_seconds']:7.2f} s   covered "
          f"{c['greedy_covered']:,.0f}")
    print(f"  greedy gap to optimum               {100 * c['gap_share']:7.3f} %  "
          f"(bound: at most {100 / np.e:.1f} %)")
    print(f"  select_sites(compare=True) total    {t_both:7.2f} s   peak RSS {rss_mb():,.0f} MB")
    same = sorted(c["greedy_sites"]) == sorted(c["exact_sites"])
    print(f"  same sites chosen: {same}")




def section_c() -> None:
    cases = [  # name, seed, demand points, candidates, k, capacity (None, or per candidate)
        ("uncapacitated, 10,000 x 500, k=10 (= B)", 2, 10_000, 500, 10, None),
        ("uncapacitated, 20,000 x 400, k=12", 5, 20_000, 400, 12, None),
        ("capacity 4,000 each, 8,000 x 220, k=10", 3, 8_000, 220, 10, "fixed"),
        ("capacity U(1,000, 8,000), 8,000 x 220, k=10", 3, 8_000, 220, 10, "random"),
    ]
    have_cbc = cbc_available()
    print("\nC. exact solvers on the same models"
          + ("" if have_cbc else " (PuLP + CBC not installed: new solver only)"))
    print(f"  {'model':46s} {'pairs':>7s} {'PuLP+CBC s':>10s} {'milp s':>7s}  covered (CBC / milp)")
    for name, seed, n, m, k, cap_kind in cases:
        areas, cands = frames(seed, n, m)
        w, cover = arrays(areas, cands)
        cap = None if cap_kind is None else (
            np.full(m, 4000.0) if cap_kind == "fixed"
            else np.random.default_rng(seed).uniform(1000, 8000, m))
        new = _mclp_exact.exact(w, cover, k, cap, 600)
        old_s, old_cov, old_sites = "-", float("nan"), None
        if have_cbc:
            t = time.perf_counter()
            old_sites, old_cov, _ = pulp_exact(w, cover, k, cap, 600)
            old_s = f"{time.perf_counter() - t:.2f}"
        same = "" if old_sites is None else (
            "same sites" if sorted(old_sites) == sorted(new.chosen) else "other sites, same cover"
            if abs(old_cov - new.covered) <= 1e-6 * max(1.0, old_cov) else "DIFFERENT COVER")
        print(f"  {name:46s} {cover.nnz:7,d} {old_s:>10s} {new.seconds:7.2f}  "
              f"{old_cov:,.3f} / {new.covered:,.3f}  {same}  [{new.status}]")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--naive-steps", type=int, default=3,
                        help="steps of the naive greedy to time at size A (projected to 20)")
    parser.add_argument("--only", default="A,B,C", help="sections to run, e.g. B,C")
    args = parser.parse_args()
    only = {x.strip().upper() for x in args.only.split(",")}
    print("Measured on a shared 2-core machine (other jobs running); seconds are wall time.")
    print(f"SciPy {scipy.__version__}")
    if "A" in only:
        section_a(args.naive_steps)
    if "B" in only:
        section_b()
    if "C" in only:
        section_c()


if __name__ == "__main__":
    main()
