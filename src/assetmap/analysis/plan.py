"""Planning: where to put the next sites, what to do in each tract, and what a plan changes.

- :func:`select_sites` chooses k new sites among candidates to cover the most demand
  (maximal covering location problem; exact with PuLP/CBC when small, greedy when large).
- :func:`recommend_interventions` names an intervention per tract, with the reason in words
  (defined in ``assetmap.analysis._typology``).
- :func:`apply_plan` adds sites and upgrades tracts, rescores, and says what changed
  (defined in ``assetmap.analysis._whatif``).

See ``docs/planning.md`` for the formulation, the greedy bound and the typology thresholds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from assetmap._crs import estimate_utm
from assetmap._report import attach_report, count_reject, merge_sources, start_report
from assetmap.analysis import _mclp
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
_MAX_UNCOVERED_LISTED = 1000


def _demand(areas: pd.DataFrame, weight: str, need_weight: str | None, report: dict) -> pd.Series:
    if weight in areas.columns:
        values = pd.to_numeric(areas[weight], errors="coerce").astype(float)
        derivation = f"column {weight!r}"
    elif weight == "unserved_households":
        needed = ["unserved_share", "underserved_share", "households"]
        missing = [c for c in needed if c not in areas.columns]
        if missing:
            raise SchemaError(
                f"areas has no demand column 'unserved_households' and cannot derive it: "
                f"missing {missing}; pass weight= the name of a demand column"
            )
        values = (
            pd.to_numeric(areas["unserved_share"], errors="coerce")
            + pd.to_numeric(areas["underserved_share"], errors="coerce")
        ) * pd.to_numeric(areas["households"], errors="coerce")
        derivation = "unserved_households = (unserved_share + underserved_share) x households"
    else:
        raise SchemaError(
            f"areas has no demand column {weight!r}; columns are {list(areas.columns)}"
        )
    if need_weight is not None:
        if need_weight not in areas.columns:
            raise SchemaError(f"areas has no need_weight column {need_weight!r}")
        values = values * pd.to_numeric(areas[need_weight], errors="coerce")
        derivation += f", multiplied by {need_weight!r}"
    negative = np.flatnonzero(values.to_numpy() < 0)
    if len(negative):
        label = areas.index[negative[0]]
        raise SchemaError(
            f"demand {weight!r} is negative in {len(negative)} rows (first: index {label!r}, "
            f"value {values.iloc[negative[0]]}); demand must be >= 0"
        )
    report["plan_demand"] = derivation
    return values


def _points(frame: gpd.GeoDataFrame, points: Any = None) -> gpd.GeoSeries:
    """Points standing for each row: the geometry if a point, else a representative point."""
    if points is not None:
        pts = gpd.GeoSeries(points)
        if len(pts) != len(frame):
            raise SchemaError(f"points has {len(pts)} rows but areas has {len(frame)}")
        pts.index = frame.index
        if pts.crs is None:
            pts = pts.set_crs(frame.crs)
        return pts.to_crs(frame.crs)
    geom = frame.geometry
    is_point = (geom.geom_type == "Point").to_numpy()
    if is_point.all():
        return geom
    return gpd.GeoSeries(
        np.where(is_point, geom.to_numpy(), geom.representative_point().to_numpy()),
        index=frame.index,
        crs=frame.crs,
    )


def _metric_crs(frame: gpd.GeoDataFrame) -> Any:
    """Return the frame's CRS if projected in metres, else its UTM zone."""
    crs = frame.crs
    if crs.is_projected and crs.axis_info and crs.axis_info[0].unit_name in ("metre", "meter"):
        return crs
    return estimate_utm(frame)


def _check_frame(frame: Any, name: str) -> None:
    if not isinstance(frame, gpd.GeoDataFrame):
        raise SchemaError(f"{name} must be a GeoDataFrame, got {type(frame).__name__}")
    if frame.crs is None:
        raise SchemaError(
            f"{name} has no CRS; set it, e.g. {name}.set_crs(4326) for longitude/latitude"
        )


def _reach(frame: gpd.GeoDataFrame, reach_m: float | str, name: str) -> np.ndarray:
    if isinstance(reach_m, str):
        if reach_m not in frame.columns:
            raise SchemaError(f"{name} has no reach column {reach_m!r}")
        reach = pd.to_numeric(frame[reach_m], errors="coerce").to_numpy(dtype=float)
    else:
        reach = np.full(len(frame), float(reach_m))
    if len(reach) and not (np.isfinite(reach) & (reach > 0)).all():
        raise ConfigError(f"reach must be a positive number of metres for every {name} row")
    return reach


def _capacity(cands: pd.DataFrame, capacity: float | str | None) -> np.ndarray | None:
    if capacity is None:
        return None
    if isinstance(capacity, str):
        if capacity not in cands.columns:
            raise SchemaError(f"candidates has no capacity column {capacity!r}")
        cap = pd.to_numeric(cands[capacity], errors="coerce").to_numpy(dtype=float)
    else:
        cap = np.full(len(cands), float(capacity))
    cap = np.where(np.isnan(cap), np.inf, cap)  # unknown capacity: unlimited (documented)
    if (cap < 0).any():
        raise ConfigError("capacity must be >= 0")
    return cap


def _candidates(
    candidates: gpd.GeoDataFrame, status: Sequence[str] | None, report: dict
) -> gpd.GeoDataFrame:
    cands = candidates
    if status is not None and "status" in cands.columns:
        keep = cands["status"].astype("string").str.lower().isin([s.lower() for s in status])
        report["plan_candidates_excluded_by_status"] = int((~keep).sum())
        cands = cands[keep.to_numpy()]
    bad = cands.geometry.isna() | cands.geometry.is_empty
    if bad.any():
        count_reject(report, "candidate without geometry", int(bad.sum()))
        cands = cands[~bad.to_numpy()]
    return cands


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
        ``"auto"`` is exact (PuLP/CBC) when the coverage matrix has at most
        ``AUTO_EXACT_MAX_NNZ`` pairs (``AUTO_EXACT_MAX_NNZ_CAPACITATED`` with capacities) and
        PuLP is installed, else greedy.
    time_limit : float
        Seconds CBC may run; if it stops early the best solution found is kept and the
        status says so.
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
        Bad ``k``, ``method``, reach or capacity.

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
    _check_frame(areas, "areas")
    _check_frame(candidates, "candidates")
    if existing is not None:
        _check_frame(existing, "existing")
    if method not in _METHODS:
        raise ConfigError(f"method must be one of {_METHODS}, got {method!r}")
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ConfigError(f"k must be a positive integer, got {k!r}")
    sources, vintages, illustrative = merge_sources(areas, candidates, existing)
    report = start_report(
        None, kind="plan", rows_read=len(areas), sources=sources, vintages=vintages,
        illustrative=illustrative,
    )
    demand = _demand(areas, weight, need_weight, report)
    ids = areas[id_column] if id_column else (
        areas["GEOID"] if "GEOID" in areas.columns else pd.Series(areas.index, index=areas.index)
    )
    keep = demand.notna().to_numpy() & ~(areas.geometry.isna() | areas.geometry.is_empty).to_numpy()
    if not keep.all():
        count_reject(
            report, "area without demand value or geometry", int((~keep).sum()),
            rows=np.flatnonzero(~keep) + 1,
        )
    cands = _candidates(candidates, candidate_status, report)
    if len(cands) == 0:
        raise SchemaError(
            "no candidate sites" + (f" with status in {tuple(candidate_status)}"
                                    if candidate_status is not None and "status" in
                                    candidates.columns else "")
        )
    if k > len(cands):
        raise ConfigError(f"k={k} is larger than the number of candidate sites ({len(cands)})")
    crs = _metric_crs(areas)
    pts = _points(areas, points)[keep].to_crs(crs)
    xy = np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()])
    w = demand[keep].to_numpy(dtype=float)
    cand_pts = _points(cands).to_crs(crs)
    cxy = np.column_stack([cand_pts.x.to_numpy(), cand_pts.y.to_numpy()])
    baseline = np.zeros(len(w), dtype=bool)
    if existing is not None and len(existing):
        ex_pts = _points(existing).to_crs(crs)
        exy = np.column_stack([ex_pts.x.to_numpy(), ex_pts.y.to_numpy()])
        ex_cover = _mclp.coverage_matrix(xy, exy, _reach(existing, reach_m, "existing"))
        baseline = ex_cover.getnnz(1) > 0
    residual = np.where(baseline, 0.0, w)
    cover = _mclp.coverage_matrix(xy, cxy, _reach(cands, reach_m, "candidates"))
    cap = _capacity(cands, capacity)
    nnz = int(cover[residual > 0].nnz)
    limit = AUTO_EXACT_MAX_NNZ if cap is None else AUTO_EXACT_MAX_NNZ_CAPACITATED
    if method == "auto":
        chosen_method = "exact" if nnz <= limit and _mclp.pulp_available() else "greedy"
    else:
        chosen_method = method
    if (chosen_method == "exact" or compare) and not _mclp.pulp_available():
        raise ConfigError("the exact solver needs PuLP: pip install 'assetmap[plan]'")
    solutions = {}
    if chosen_method == "greedy" or compare:
        solutions["greedy"] = _mclp.greedy(residual, cover, int(k), cap)
    if chosen_method == "exact" or compare:
        solutions["exact"] = _mclp.exact(residual, cover, int(k), cap, time_limit)
    best = solutions["exact"] if "exact" in solutions else solutions["greedy"]
    return _assemble(areas, cands, ids[keep], w, baseline, best, solutions, report, {
        "method_requested": method, "k": int(k), "weight": weight, "need_weight": need_weight,
        "reach_m": reach_m, "capacity": capacity, "coverage_pairs": nnz,
        "auto_exact_max_pairs": limit, "candidates": len(cands),
        "existing_sites": 0 if existing is None else len(existing),
    })


def _assemble(
    areas: gpd.GeoDataFrame,
    cands: gpd.GeoDataFrame,
    ids: pd.Series,
    w: np.ndarray,
    baseline: np.ndarray,
    best: _mclp.Solution,
    solutions: dict[str, _mclp.Solution],
    report: dict,
    meta: dict,
) -> gpd.GeoDataFrame:
    total = float(w.sum())
    base = float(w[baseline].sum())
    chosen = cands.iloc[best.chosen]
    site_id = chosen["site_id"].astype(str).to_numpy() if "site_id" in chosen.columns else (
        np.asarray(chosen.index.astype(str))
    )
    name = chosen["name"].astype(str).to_numpy() if "name" in chosen.columns else site_id
    gains = np.asarray(best.gains, dtype=float)
    cumulative = np.cumsum(gains)
    share = (base + cumulative) / total if total > 0 else np.full(len(gains), np.nan)
    out = gpd.GeoDataFrame(
        {
            "site_id": site_id,
            "name": name,
            "order": np.arange(1, len(gains) + 1),
            "covered_demand_gain": gains,
            "covered_demand_cumulative": cumulative,
            "coverage_share_cumulative": share,
        },
        geometry=_points(chosen).to_crs(4326).to_numpy(),
        crs=4326,
    )
    remaining = best.remaining
    left = np.flatnonzero(remaining > 0)
    left = left[np.argsort(-remaining[left], kind="stable")]
    curve = [{"sites": 0, "site_id": None, "covered": base,
              "share": base / total if total else None}]
    curve += [
        {"sites": int(i + 1), "site_id": str(s), "covered": float(base + c),
         "share": float(sh) if total else None}
        for i, (s, c, sh) in enumerate(zip(site_id, cumulative, share, strict=True))
    ]
    plan: dict[str, Any] = {
        **meta,
        "method": best.method,
        "solver_status": best.status,
        "seconds": {name: s.seconds for name, s in solutions.items()},
        "demand": report.pop("plan_demand"),
        "total_demand": total,
        "covered_by_existing": base,
        "covered": float(base + best.covered),
        "coverage_curve": curve,
        "uncovered_demand": float(remaining.sum()),
        "uncovered_areas": len(left),
        "uncovered": [
            {"area_id": str(ids.iloc[i]), "demand": float(remaining[i])}
            for i in left[:_MAX_UNCOVERED_LISTED]
        ],
        "candidates_excluded_by_status": report.pop("plan_candidates_excluded_by_status", 0),
        "approximation": (
            "greedy covers at least 1 - 1/e (63.2%) of the optimal new coverage"
            if meta["capacity"] is None else
            "with capacities greedy fills each site with its nearest uncovered demand and "
            "never revises it: feasible, no approximation guarantee"
        ),
        "notes": best.notes,
        "comparison": None,
    }
    if len(left) > _MAX_UNCOVERED_LISTED:
        plan["notes"].append(f"uncovered lists the {_MAX_UNCOVERED_LISTED} largest areas only")
    if len(solutions) == 2:
        g, e = solutions["greedy"], solutions["exact"]
        plan["comparison"] = {
            "greedy_covered": g.covered,
            "exact_covered": e.covered,
            "gap": e.covered - g.covered,
            "gap_share": (e.covered - g.covered) / e.covered if e.covered > 0 else 0.0,
            "greedy_sites": [str(x) for x in cands.iloc[g.chosen].get(
                "site_id", pd.Series(cands.index[g.chosen])).tolist()],
            "exact_sites": [str(x) for x in site_id],
            "greedy_seconds": g.seconds,
            "exact_seconds": e.seconds,
        }
    report["plan"] = plan
    return attach_report(out, report)
