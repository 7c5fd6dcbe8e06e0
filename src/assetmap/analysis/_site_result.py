"""The result of :func:`assetmap.analysis.plan.select_sites`: the chosen sites and the plan report.

One row per chosen site in order of addition (EPSG:4326), and ``attrs["assetmap"]["plan"]``:
the coverage curve, the uncovered demand per area, the method, the solver status, and the
greedy-vs-exact comparison when both solvers ran.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from assetmap._report import attach_report
from assetmap.analysis._mclp import Solution
from assetmap.analysis._site_inputs import site_points

__all__ = ["MAX_UNCOVERED_LISTED", "assemble_plan"]

#: The report lists at most this many uncovered areas (the largest remaining demand first).
MAX_UNCOVERED_LISTED = 1000


def assemble_plan(
    cands: gpd.GeoDataFrame,
    *,
    ids: pd.Series,
    w: np.ndarray,
    baseline: np.ndarray,
    best: Solution,
    solutions: dict[str, Solution],
    report: dict,
    meta: dict,
) -> gpd.GeoDataFrame:
    """Build the chosen-sites frame of ``best`` and attach the plan report to it.

    ``w`` is the demand of the rows kept, ``baseline`` marks those already covered by
    existing sites, ``solutions`` holds every solver run (two with ``compare=True``) and
    ``meta`` the options, copied into the report as they are.
    """
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
        geometry=site_points(chosen).to_crs(4326).to_numpy(),
        crs=4326,
    )
    remaining = best.remaining
    left = np.flatnonzero(remaining > 0)
    left = left[np.argsort(-remaining[left], kind="stable")]
    curve: list[dict[str, Any]] = [
        {"sites": 0, "site_id": None, "covered": base, "share": base / total if total else None}
    ]
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
            for i in left[:MAX_UNCOVERED_LISTED]
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
    if len(left) > MAX_UNCOVERED_LISTED:
        plan["notes"].append(f"uncovered lists the {MAX_UNCOVERED_LISTED} largest areas only")
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
