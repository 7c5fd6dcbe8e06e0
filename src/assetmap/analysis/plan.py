"""Planning: where to put the next sites, what to do in each tract, and what a plan changes.

- :func:`select_sites` chooses k new sites among candidates to cover the most demand
  (maximal covering location problem; exact with SciPy's MILP solver, HiGHS, when small,
  greedy when large).
- :func:`recommend_interventions` names an intervention per tract, with the reason in words
  (defined in ``assetmap.analysis._typology``).
- :func:`apply_plan` adds sites and upgrades tracts, rescores, and says what changed
  (defined in ``assetmap.analysis._whatif``).

See ``docs/planning.md`` for the formulation, the greedy bound and the typology thresholds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from assetmap._report import count_reject, merge_sources, start_report
from assetmap.analysis import _mclp, _mclp_exact
from assetmap.analysis._site_inputs import (
    candidate_sites,
    capacities,
    check_frame,
    demand_values,
    metric_crs,
    reaches,
    site_points,
)
from assetmap.analysis._site_result import assemble_plan
from assetmap.analysis._typology import InterventionThresholds, recommend_interventions
from assetmap.analysis._whatif import apply_plan
from assetmap.errors import ConfigError, SchemaError

__all__ = [
    "AUTO_EXACT_MAX_NNZ",
    "AUTO_EXACT_MAX_NNZ_CAPACITATED",
    "CANDIDATE_STATUS",
    "InterventionThresholds",
    "apply_plan",
    "recommend_interventions",
    "select_sites",
]

#: Registry statuses that make a partner site a candidate for a new site.
CANDIDATE_STATUS = ("inquiry", "vetted")
#: ``method="auto"`` uses the exact solver when the coverage matrix (demand rows with positive
#: demand x candidates) has at most this many demand-candidate pairs, else greedy.
AUTO_EXACT_MAX_NNZ = 150_000
#: The same limit with capacities (one assignment variable per pair).
AUTO_EXACT_MAX_NNZ_CAPACITATED = 30_000
_METHODS = ("auto", "exact", "greedy")


def select_sites(
    areas: gpd.GeoDataFrame,
    *,
    candidates: gpd.GeoDataFrame,
    k: int,
    weight: str = "unserved_households",
    reach_m: float | str = 3200.0,
    existing: gpd.GeoDataFrame | None = None,
    capacity: float | str | None = None,
    need_weight: str | None = None,
    method: str = "auto",
    time_limit: float = 60.0,
    compare: bool = False,
    points: Any = None,
    id_column: str | None = None,
    candidate_status: Sequence[str] | None = CANDIDATE_STATUS,
) -> gpd.GeoDataFrame:
    """Choose ``k`` new sites among candidates to cover the most demand within reach.

    A maximal covering location problem (MCLP). Demand sits at one point per row of
    ``areas``: the row's point, or for polygons ``points`` (e.g. population-weighted centres)
    if given, else the polygon's representative point (always inside it). A demand point is
    covered when a chosen or existing site lies within ``reach_m`` (straight-line metres in
    the area's UTM zone). Demand already within reach of an ``existing`` site counts as
    covered and is not counted again.

    Parameters
    ----------
    areas : GeoDataFrame
        Demand points or polygons (e.g. scored tracts), any CRS (not None).
    candidates : GeoDataFrame
        Candidate sites. With a ``status`` column (the partner registry) only rows whose
        status is in ``candidate_status`` are used; the others are counted in the report.
    k : int
        Number of new sites (1 <= k <= number of candidates).
    weight : str
        Demand column. If it is ``"unserved_households"`` and absent, it is derived as
        ``(unserved_share + underserved_share) * households`` and the report says so.
    reach_m : float or str
        Reach in metres, or the name of a per-site column (e.g. ``"wifi_radius_m"``) present
        in ``candidates`` (and in ``existing``).
    existing : GeoDataFrame, optional
        Sites kept as they are (e.g. the registry's active sites); uncapacitated.
    capacity : float or str, optional
        Capacity of every candidate, or the name of a candidate column (in demand units).
        Covered demand assigned to a site cannot exceed it; NaN means unlimited.
    need_weight : str, optional
        Column multiplying the demand (e.g. ``"need"``); the covered amounts are then in
        demand x need units, shares are unaffected by its scale.
    method : {"auto", "exact", "greedy"}
        ``"auto"`` is exact (:func:`scipy.optimize.milp`, the HiGHS solver) when the coverage
        matrix has at most ``AUTO_EXACT_MAX_NNZ`` pairs (``AUTO_EXACT_MAX_NNZ_CAPACITATED``
        with capacities), else greedy.
    time_limit : float
        Seconds HiGHS may run; if it stops early the best solution found is kept and the
        status and notes say so.
    compare : bool
        Run both solvers and report the greedy-vs-exact comparison (the result is exact).
    points : GeoSeries, optional
        One point per row of ``areas`` to stand for it (same order).
    id_column : str, optional
        Column identifying areas in the report (default ``GEOID`` if present, else the index).
    candidate_status : sequence of str or None
        Registry statuses eligible as candidates; None uses every row.

    Returns
    -------
    GeoDataFrame
        One row per chosen site in order of addition (EPSG:4326): ``site_id``, ``name``,
        ``order``, ``covered_demand_gain``, ``covered_demand_cumulative``,
        ``coverage_share_cumulative`` (share of all demand covered by existing and chosen
        sites so far), ``geometry``. ``attrs["assetmap"]["plan"]`` holds the coverage curve,
        the uncovered demand per area, the method, solver status and any comparison.

    Raises
    ------
    SchemaError
        Missing CRS or columns, negative demand, no candidates.
    ConfigError
        Bad ``k``, ``method``, reach, capacity or ``time_limit``, or ``time_limit`` ran out
        before the exact solver found any set of sites.
    AssetmapError
        The exact solver failed otherwise (never expected: the model is always feasible).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> areas = gpd.GeoDataFrame({"households": [100, 50, 80]},
    ...     geometry=[Point(0, 0), Point(0, 5000), Point(9000, 0)], crs=32613)
    >>> cands = gpd.GeoDataFrame({"site_id": ["a", "b"]},
    ...     geometry=[Point(0, 2500), Point(9000, 100)], crs=32613)
    >>> plan = select_sites(areas, candidates=cands, k=1, weight="households", reach_m=3000)
    >>> plan[["site_id", "order", "covered_demand_gain"]].to_dict("records")
    [{'site_id': 'a', 'order': 1, 'covered_demand_gain': 150.0}]
    >>> plan.attrs["assetmap"]["plan"]["method"]
    'exact'
    """
    check_frame(areas, "areas")
    check_frame(candidates, "candidates")
    if existing is not None:
        check_frame(existing, "existing")
    if method not in _METHODS:
        raise ConfigError(f"method must be one of {_METHODS}, got {method!r}")
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ConfigError(f"k must be a positive integer, got {k!r}")
    if (isinstance(time_limit, bool) or not isinstance(time_limit, int | float | np.number)
            or not math.isfinite(time_limit) or time_limit <= 0):
        raise ConfigError(f"time_limit must be a positive number of seconds, got {time_limit!r}")
    sources, vintages, illustrative = merge_sources(areas, candidates, existing)
    report = start_report(
        None, kind="plan", rows_read=len(areas), sources=sources, vintages=vintages,
        illustrative=illustrative,
    )
    demand = demand_values(areas, weight, need_weight, report)
    ids = areas[id_column] if id_column else (
        areas["GEOID"] if "GEOID" in areas.columns else pd.Series(areas.index, index=areas.index)
    )
    keep = demand.notna().to_numpy() & ~(areas.geometry.isna() | areas.geometry.is_empty).to_numpy()
    if not keep.all():
        count_reject(
            report, "area without demand value or geometry", int((~keep).sum()),
            rows=np.flatnonzero(~keep) + 1,
        )
    cands = candidate_sites(candidates, candidate_status, report)
    if len(cands) == 0:
        raise SchemaError(
            "no candidate sites" + (f" with status in {tuple(candidate_status)}"
                                    if candidate_status is not None and "status" in
                                    candidates.columns else "")
        )
    if k > len(cands):
        raise ConfigError(f"k={k} is larger than the number of candidate sites ({len(cands)})")
    crs = metric_crs(areas)
    pts = site_points(areas, points)[keep].to_crs(crs)
    xy = np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()])
    w = demand[keep].to_numpy(dtype=float)
    cand_pts = site_points(cands).to_crs(crs)
    cxy = np.column_stack([cand_pts.x.to_numpy(), cand_pts.y.to_numpy()])
    baseline = np.zeros(len(w), dtype=bool)
    if existing is not None and len(existing):
        ex_pts = site_points(existing).to_crs(crs)
        exy = np.column_stack([ex_pts.x.to_numpy(), ex_pts.y.to_numpy()])
        ex_cover = _mclp.coverage_matrix(xy, exy, reaches(existing, reach_m, "existing"))
        baseline = ex_cover.getnnz(1) > 0
    residual = np.where(baseline, 0.0, w)
    cover = _mclp.coverage_matrix(xy, cxy, reaches(cands, reach_m, "candidates"))
    cap = capacities(cands, capacity)
    nnz = int(cover[residual > 0].nnz)
    limit = AUTO_EXACT_MAX_NNZ if cap is None else AUTO_EXACT_MAX_NNZ_CAPACITATED
    chosen_method = method if method != "auto" else ("exact" if nnz <= limit else "greedy")
    solutions = {}
    if chosen_method == "greedy" or compare:
        solutions["greedy"] = _mclp.greedy(residual, cover, int(k), cap)
    if chosen_method == "exact" or compare:
        solutions["exact"] = _mclp_exact.exact(residual, cover, int(k), cap, time_limit)
    best = solutions["exact"] if "exact" in solutions else solutions["greedy"]
    meta = {
        "method_requested": method, "k": int(k), "weight": weight, "need_weight": need_weight,
        "reach_m": reach_m, "capacity": capacity, "coverage_pairs": nnz,
        "auto_exact_max_pairs": limit, "candidates": len(cands),
        "existing_sites": 0 if existing is None else len(existing),
    }
    return assemble_plan(cands, ids=ids[keep], w=w, baseline=baseline, best=best,
                         solutions=solutions, report=report, meta=meta)
