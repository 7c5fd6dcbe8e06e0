"""The inputs of :func:`assetmap.analysis.plan.select_sites`, checked and turned into arrays.

Demand per area (a column, or unserved households derived from shares), one point per row,
the metric CRS to measure reach in, reach and capacity per site, and the eligible candidates.
Every function here raises :class:`~assetmap.errors.SchemaError` or
:class:`~assetmap.errors.ConfigError` with the fix in the message; none mutates its input.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from assetmap._crs import estimate_utm
from assetmap._report import count_reject
from assetmap.errors import ConfigError, SchemaError

__all__ = [
    "candidate_sites",
    "capacities",
    "check_frame",
    "demand_values",
    "metric_crs",
    "reaches",
    "site_points",
]


def demand_values(
    areas: pd.DataFrame, weight: str, need_weight: str | None, report: dict
) -> pd.Series:
    """Demand per row: ``weight`` (or unserved households derived), times ``need_weight``.

    Writes how it was derived to ``report["plan_demand"]``; NaN stays NaN (counted later).
    """
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


def site_points(frame: gpd.GeoDataFrame, points: Any = None) -> gpd.GeoSeries:
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


def metric_crs(frame: gpd.GeoDataFrame) -> Any:
    """Return the frame's CRS if projected in metres, else its UTM zone."""
    crs = frame.crs
    if crs.is_projected and crs.axis_info and crs.axis_info[0].unit_name in ("metre", "meter"):
        return crs
    return estimate_utm(frame)


def check_frame(frame: Any, name: str) -> None:
    """Refuse anything but a GeoDataFrame with a CRS."""
    if not isinstance(frame, gpd.GeoDataFrame):
        raise SchemaError(f"{name} must be a GeoDataFrame, got {type(frame).__name__}")
    if frame.crs is None:
        raise SchemaError(
            f"{name} has no CRS; set it, e.g. {name}.set_crs(4326) for longitude/latitude"
        )


def reaches(frame: gpd.GeoDataFrame, reach_m: float | str, name: str) -> np.ndarray:
    """Reach in metres per row: one number for all, or a column of ``frame``."""
    if isinstance(reach_m, str):
        if reach_m not in frame.columns:
            raise SchemaError(f"{name} has no reach column {reach_m!r}")
        reach = pd.to_numeric(frame[reach_m], errors="coerce").to_numpy(dtype=float)
    else:
        reach = np.full(len(frame), float(reach_m))
    if len(reach) and not (np.isfinite(reach) & (reach > 0)).all():
        raise ConfigError(f"reach must be a positive number of metres for every {name} row")
    return reach


def capacities(cands: pd.DataFrame, capacity: float | str | None) -> np.ndarray | None:
    """Capacity per candidate (NaN: unlimited), or None when there are no capacities."""
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


def candidate_sites(
    candidates: gpd.GeoDataFrame, status: Sequence[str] | None, report: dict
) -> gpd.GeoDataFrame:
    """Candidates whose registry ``status`` is eligible and that have a geometry (counted)."""
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


