"""Capacity-aware two-step floating catchment area (2SFCA) accessibility.

Luo & Wang (2003), with the optional distance decays of :mod:`assetmap.analysis.decay`
(enhanced and Gaussian 2SFCA). Distances in the study's metric space, as in
:mod:`assetmap.analysis.access`; formulas and sources in ``docs/methods.md``.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from assetmap.analysis._access_points import area_coords, site_coords
from assetmap.analysis._space import _Space, study_crs
from assetmap.analysis.decay import Decay
from assetmap.errors import ConfigError, SchemaError

__all__ = ["fca_inputs", "fca_values", "two_step_fca"]


def two_step_fca(
    demand: gpd.GeoDataFrame,
    supply: gpd.GeoDataFrame,
    *,
    demand_col: str,
    capacity_col: str,
    d0: float,
    decay: Decay | None = None,
    points: gpd.GeoDataFrame | None = None,
    crs: Any = None,
) -> pd.Series:
    """Capacity-aware two-step floating catchment area (2SFCA) accessibility.

    Step 1, per site j: ``R_j = S_j / sum_k(P_k * w(d_kj))`` over areas k within ``d0``.
    Step 2, per area i: ``A_i = sum_j(R_j * w(d_ij))`` over sites j within ``d0``.
    ``w`` is 1 (classic 2SFCA, Luo & Wang 2003) or a decay from :func:`step_fn`,
    :func:`linear` or :func:`gaussian` (enhanced/Gaussian 2SFCA). A site with no demand in
    its catchment has ``R_j = 0``.

    Parameters
    ----------
    demand : geopandas.GeoDataFrame
        Areas with the demand column (children or households) and ``GEOID``.
    supply : geopandas.GeoDataFrame
        Sites with the capacity column (seats, devices, hotspots).
    demand_col, capacity_col : str
        Column names. Missing demand counts as 0 people; missing capacity is an error.
    d0 : float
        Catchment radius in metres.
    decay : callable, optional
        Distance (metres) -> weight in [0, 1].
    points, crs :
        As in :func:`nearest_site_distance`.

    Returns
    -------
    pandas.Series
        ``access_2sfca``: capacity per unit of demand, aligned to ``demand.index``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> d = gpd.GeoDataFrame({"GEOID": ["48135000100", "48135000200"], "children": [100, 300]},
    ...                      geometry=[Point(-102.40, 31.90), Point(-102.39, 31.90)], crs=4326)
    >>> s = gpd.GeoDataFrame({"capacity_seats": [40.0]}, geometry=[Point(-102.395, 31.90)],
    ...                      crs=4326)
    >>> two_step_fca(d, s, demand_col="children", capacity_col="capacity_seats",
    ...              d0=3000).tolist()
    [0.1, 0.1]
    """
    pop, capacity = fca_inputs(demand, supply, demand_col=demand_col,
                                capacity_col=capacity_col, d0=d0)
    out = pd.Series(0.0, index=demand.index, name="access_2sfca")
    if supply.empty:
        return out
    space = _Space(study_crs(demand, supply, crs=crs))
    out[:] = fca_values(area_coords(demand, points, space), site_coords(supply, space),
                         space,
                  pop=pop, capacity=capacity, d0=d0, decay=decay)
    return out


def fca_inputs(demand: pd.DataFrame, supply: pd.DataFrame, *, demand_col: str,
                capacity_col: str, d0: float) -> tuple[np.ndarray, np.ndarray]:
    """Return the checked demand and capacity arrays of :func:`two_step_fca`."""
    for frame, col, name in ((demand, demand_col, "demand"), (supply, capacity_col, "supply")):
        if col not in frame.columns:
            raise SchemaError(f"{name}: no column {col!r}")
    if d0 <= 0:
        raise ConfigError("two_step_fca: d0 must be a positive number of metres")
    capacity = pd.to_numeric(supply[capacity_col], errors="coerce").to_numpy(float)
    if np.isnan(capacity).any() or (capacity < 0).any():
        row = int(np.flatnonzero(~(capacity >= 0))[0]) + 1
        raise SchemaError(f"supply: column {capacity_col!r} has missing or negative values "
                          f"(first: row {row}); choose the sites or fill capacity explicitly")
    pop = pd.to_numeric(demand[demand_col], errors="coerce").fillna(0).to_numpy(float)
    return pop, capacity


def fca_values(area_xy: np.ndarray, site_xy: np.ndarray, space: _Space, *, pop: np.ndarray,
         capacity: np.ndarray, d0: float, decay: Decay | None) -> np.ndarray:
    """Return the 2SFCA value of each area point (see :func:`two_step_fca`)."""
    tree_a = cKDTree(area_xy)
    tree_s = cKDTree(site_xy)
    pairs = tree_a.sparse_distance_matrix(tree_s, space.radius(d0), output_type="ndarray")
    i, j = pairs["i"], pairs["j"]
    w = np.ones(len(pairs)) if decay is None else np.asarray(decay(space.metres(pairs["v"])))
    denom = np.bincount(j, weights=pop[i] * w, minlength=len(capacity))
    ratio = np.divide(capacity, denom, out=np.zeros_like(capacity), where=denom > 0)
    return np.bincount(i, weights=ratio[j] * w, minlength=len(pop))
