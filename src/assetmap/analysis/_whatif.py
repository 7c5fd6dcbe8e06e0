"""What-if: apply a plan (new sites, upgraded tracts), rescore, and say what changed.

Public through :mod:`assetmap.analysis.plan` as :func:`apply_plan`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from assetmap._crs import estimate_utm
from assetmap._report import Report, get_report
from assetmap.errors import GeoidError, SchemaError

__all__ = ["DERIVED_COLUMNS", "INDEX_COLUMNS", "apply_plan"]

#: Score indices whose change the summary reports.
INDEX_COLUMNS = (
    "infrastructure_gap", "adoption_gap", "need", "resource_gap", "priority",
    "ddi_infa", "ddi_se", "ddi",
)
#: Columns a scorer derives; they are dropped before rescoring (dist_*_m too).
DERIVED_COLUMNS = (
    "sites_within_reach", "reach_m", "access_2sfca", *INDEX_COLUMNS, "priority_rank",
    "unreliable", "unreliable_inputs", "missing_inputs", "drivers", "top_n_stability",
)


def _default_rescore(tracts: gpd.GeoDataFrame, **kwargs: Any) -> gpd.GeoDataFrame:
    from assetmap.analysis.score import score_tracts  # lazy: scoring is a later stage

    return score_tracts(tracts, **kwargs)


def _upgrade(tracts: gpd.GeoDataFrame, mask: np.ndarray) -> None:
    """Make the unserved and underserved locations of ``mask`` rows served (in place, a copy)."""
    if not mask.any():
        return
    cols = tracts.columns
    if {"unserved", "underserved", "served"} <= set(cols):
        moved = tracts.loc[mask, "unserved"].fillna(0) + tracts.loc[mask, "underserved"].fillna(0)
        tracts.loc[mask, "served"] = tracts.loc[mask, "served"].fillna(0) + moved
        tracts.loc[mask, ["unserved", "underserved"]] = 0
    for col in ("unserved_share", "underserved_share"):
        if col in cols:
            tracts.loc[mask, col] = 0.0
    if "served_share" in cols:
        tracts.loc[mask, "served_share"] = 1.0


def _within(points: np.ndarray, sites: np.ndarray, reach: float) -> np.ndarray:
    if len(sites) == 0 or len(points) == 0:
        return np.zeros(len(points), dtype=np.int64)
    return np.asarray(
        cKDTree(sites).query_ball_point(points, reach, return_length=True), dtype=np.int64
    )


def _mean(values: np.ndarray) -> float | None:
    finite = values[~np.isnan(values)]
    return float(finite.mean()) if len(finite) else None


def _xy(geoms: gpd.GeoSeries, crs: Any) -> np.ndarray:
    g = geoms.to_crs(crs)
    g = g.where(g.geom_type == "Point", g.representative_point())
    return np.column_stack([g.x.to_numpy(), g.y.to_numpy()])


def apply_plan(
    scored: gpd.GeoDataFrame,
    *,
    new_sites: gpd.GeoDataFrame | None = None,
    upgraded_tracts: Iterable[str] | None = None,
    sites: gpd.GeoDataFrame | None = None,
    rescore: Callable[..., gpd.GeoDataFrame] | None = None,
    reach_m: float = 3200.0,
    tract_points: gpd.GeoSeries | None = None,
    top_n: int = 10,
    id_column: str = "GEOID",
    score_kwargs: Mapping[str, Any] | None = None,
) -> gpd.GeoDataFrame:
    """Apply a plan to scored tracts, rescore them and say what the plan changes.

    1. Tracts in ``upgraded_tracts`` have their unserved and underserved locations made
       served (``unserved``/``underserved`` -> 0, added to ``served``; shares 0, 0 and 1).
       Fiber share and ACS columns are left as they are.
    2. ``new_sites`` join ``sites`` (with ``status="active"`` and ``planned=True``).
    3. The derived columns (``DERIVED_COLUMNS`` and ``dist_*_m``) are dropped and the frame is
       rescored with ``rescore(tracts, sites=all_sites, **score_kwargs)`` (plus
       ``reach_m=`` if the scorer takes it); by default :func:`assetmap.score_tracts`.

    The summary in ``attrs["assetmap"]["whatif"]`` counts sites within ``reach_m`` of each
    tract's point (``tract_points`` if given, else the representative point) before and after:
    households newly within reach (of tracts with no site within reach before and one after),
    upgraded locations and households, the top-``top_n`` priority tracts addressed (upgraded
    or newly within reach), and each index's mean before and after.

    Parameters
    ----------
    scored : GeoDataFrame
        Scored tracts (docs/data-model.md "Scored tracts"), with ``id_column``.
    new_sites : GeoDataFrame, optional
        Sites to add (e.g. the result of :func:`select_sites`).
    upgraded_tracts : iterable of str, optional
        Tract ids whose unserved and underserved locations become served.
    sites : GeoDataFrame, optional
        The current site set (the partner registry).
    rescore : callable, optional
        ``rescore(tracts, *, sites, **score_kwargs) -> GeoDataFrame``.
    reach_m : float
        Reach for the summary's within-reach counts (metres).
    tract_points : GeoSeries, optional
        One point per tract (e.g. population-weighted), aligned with ``scored``.
    top_n : int
        How many of the highest-priority tracts (``priority_rank``) count as priority tracts.
    id_column : str
        Tract id column.
    score_kwargs : mapping, optional
        Extra keyword arguments for ``rescore`` (e.g. ``weights``).

    Returns
    -------
    GeoDataFrame
        The rescored tracts (EPSG:4326) plus ``plan_upgraded`` and ``plan_new_reach`` (bool)
        and ``priority_before`` / ``priority_rank_before`` when the input had them.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point, box
    >>> t = gpd.GeoDataFrame({"GEOID": ["1", "2"], "households": [100, 40],
    ...     "unserved_share": [0.5, 0.0], "underserved_share": [0.1, 0.0]},
    ...     geometry=[box(0, 0, .01, .01), box(.1, 0, .11, .01)], crs=4326)
    >>> new = gpd.GeoDataFrame({"site_id": ["n1"]}, geometry=[Point(.105, .005)], crs=4326)
    >>> def scorer(tracts, *, sites):
    ...     return tracts.assign(need=tracts["unserved_share"] * 100)
    >>> out = apply_plan(t, new_sites=new, upgraded_tracts=["1"], rescore=scorer)
    >>> out["need"].tolist(), out["plan_new_reach"].tolist()
    ([0.0, 0.0], [False, True])
    >>> out.attrs["assetmap"]["whatif"]["households_newly_within_reach"]
    40.0
    """
    if not isinstance(scored, gpd.GeoDataFrame) or scored.crs is None:
        raise SchemaError("scored must be a GeoDataFrame with a CRS")
    if id_column not in scored.columns:
        raise SchemaError(f"scored has no id column {id_column!r}")
    ids = scored[id_column].astype(str)
    upgraded = [str(u) for u in (upgraded_tracts or [])]
    unknown = sorted(set(upgraded) - set(ids))
    if unknown:
        raise GeoidError(f"upgraded_tracts not in scored[{id_column!r}]: {unknown[:10]}")
    for name, frame in (("sites", sites), ("new_sites", new_sites)):
        if frame is not None and (not isinstance(frame, gpd.GeoDataFrame) or frame.crs is None):
            raise SchemaError(f"{name} must be a GeoDataFrame with a CRS")
    tracts = scored.copy()
    up_mask = ids.isin(upgraded).to_numpy()
    _upgrade(tracts, up_mask)
    parts = []
    if sites is not None:
        parts.append(sites.to_crs(4326).assign(planned=False))
    if new_sites is not None:
        parts.append(new_sites.to_crs(4326).assign(status="active", planned=True))
    all_sites = (
        gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=4326) if parts else None
    )
    drop = [c for c in tracts.columns
            if c in DERIVED_COLUMNS or (c.startswith("dist_") and c.endswith("_m"))]
    scorer = rescore or _default_rescore
    kwargs = dict(score_kwargs or {})
    params = inspect.signature(scorer).parameters
    if "reach_m" in params and "reach_m" not in kwargs:
        kwargs["reach_m"] = reach_m
    result = scorer(tracts.drop(columns=drop), sites=all_sites, **kwargs)
    if not isinstance(result, gpd.GeoDataFrame):
        raise SchemaError(f"rescore returned {type(result).__name__}, not a GeoDataFrame")
    result = result.to_crs(4326) if result.crs is not None else result.set_crs(4326)
    return _summarise(scored, result, ids, up_mask, sites, all_sites, reach_m, tract_points,
                      top_n, id_column)


def _summarise(
    scored: gpd.GeoDataFrame,
    result: gpd.GeoDataFrame,
    ids: pd.Series,
    up_mask: np.ndarray,
    sites: gpd.GeoDataFrame | None,
    all_sites: gpd.GeoDataFrame | None,
    reach_m: float,
    points: gpd.GeoSeries | None,
    top_n: int,
    id_column: str,
) -> gpd.GeoDataFrame:
    crs = estimate_utm(scored)
    pts = scored.geometry if points is None else gpd.GeoSeries(points).set_axis(scored.index)
    if pts.crs is None:
        pts = pts.set_crs(scored.crs)
    txy = _xy(pts, crs)
    before = _within(txy, _xy(sites.geometry, crs) if sites is not None else np.empty((0, 2)),
                     reach_m)
    after = _within(txy, _xy(all_sites.geometry, crs) if all_sites is not None
                    else np.empty((0, 2)), reach_m)
    new_reach = (before == 0) & (after > 0)
    households = pd.to_numeric(scored.get("households", pd.Series(np.nan, index=scored.index)),
                               errors="coerce").to_numpy(dtype=float)
    if {"unserved", "underserved"} <= set(scored.columns):
        locs = (scored["unserved"].fillna(0) + scored["underserved"].fillna(0)).to_numpy()
        upgraded_locations: float | None = float(locs[up_mask].sum())
    else:
        upgraded_locations = None
    priority_ids: list[str] = []
    if "priority_rank" in scored.columns:
        rank = pd.to_numeric(scored["priority_rank"], errors="coerce")
        priority_ids = ids[(rank <= top_n).to_numpy()].tolist()
    addressed = set(ids[up_mask | new_reach]) & set(priority_ids)
    # align by id: the scorer may reorder rows
    key = result[id_column].astype(str)
    pos = pd.Series(np.arange(len(ids)), index=ids.to_numpy())
    at = pos.reindex(key.to_numpy()).to_numpy()
    found = ~np.isnan(at)
    at_i = np.where(found, at, 0).astype(np.int64)
    result = result.copy()
    result["plan_upgraded"] = np.where(found, up_mask[at_i], False)
    result["plan_new_reach"] = np.where(found, new_reach[at_i], False)
    for col in ("priority", "priority_rank"):
        if col in scored.columns:
            result[f"{col}_before"] = np.where(found, scored[col].to_numpy()[at_i], np.nan)
    changes = {}
    for col in INDEX_COLUMNS:
        if col in scored.columns and col in result.columns:
            old = pd.to_numeric(scored[col], errors="coerce").to_numpy(dtype=float)[at_i]
            new = pd.to_numeric(result[col], errors="coerce").to_numpy(dtype=float)
            changed = ~np.isclose(old, new, equal_nan=True)
            mb, ma = _mean(old), _mean(new)
            changes[col] = {
                "mean_before": mb, "mean_after": ma,
                "mean_change": None if mb is None or ma is None else ma - mb,
                "tracts_changed": int(changed.sum()),
            }
    report = get_report(result)
    report["whatif"] = {
        "reach_m": reach_m,
        "new_sites": int(0 if all_sites is None else all_sites["planned"].sum()),
        "upgraded_tracts": ids[up_mask].tolist(),
        "upgraded_locations": upgraded_locations,
        "upgraded_households": float(np.nansum(households[up_mask])),
        "tracts_newly_within_reach": ids[new_reach].tolist(),
        "households_newly_within_reach": float(np.nansum(households[new_reach])),
        "priority_tracts": priority_ids,
        "priority_tracts_addressed": sorted(addressed),
        "index_change": changes,
    }
    result.attrs["assetmap"] = Report(report)
    return result
