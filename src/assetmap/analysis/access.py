"""Access to resources: distance to the nearest site, sites within reach, 2SFCA, coverage.

Every measure starts from one point per area: the weighted mean of the area's ``points``
(block-group population centres, BDC locations or H3 cell centres weighted by location counts),
else the tract's internal point (``INTPTLAT``/``INTPTLON``), else a representative point.
Distances are computed in metres in one projected CRS for the whole study:

* the UTM zone of the study area's centre (as ``estimate_utm_crs`` picks it) when the
  areas and sites span at most 18 degrees of longitude (three UTM zones: every US state but
  Alaska). One zone is used for the whole study even when it straddles a zone boundary, so
  distances are consistent; the scale error stays under about 1% at 9 degrees from the
  central meridian;
* wider studies (several states, the nation, Alaska) use Earth-centred coordinates
  (EPSG:4978), where the straight-line chord is converted to the great-circle distance.

Pass ``crs=`` to choose a CRS yourself. All searches use ``scipy.spatial.cKDTree``; there is
no Python loop over rows. Formulas and sources: ``docs/methods.md``. The area and site points
live in :mod:`assetmap.analysis._access_points`, the 2SFCA in :mod:`assetmap.analysis.fca`
(:func:`area_points` and :func:`two_step_fca` are importable from here too).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from assetmap.analysis._access_points import (
    WEIGHT_COLUMNS,
    area_coords,
    area_points,
    point_tracts,
    select_sites,
    site_coords,
    weights,
)
from assetmap.analysis._space import _Space, study_crs, utm_crs
from assetmap.analysis.decay import Decay, gaussian, linear, step_fn
from assetmap.analysis.fca import fca_inputs, fca_values, two_step_fca
from assetmap.errors import ConfigError, SchemaError

__all__ = [
    "RURAL_REACH_M",
    "URBAN_REACH_M",
    "Decay",
    "area_points",
    "coverage_share",
    "gaussian",
    "linear",
    "nearest_site_distance",
    "sites_within_reach",
    "step_fn",
    "study_crs",
    "two_step_fca",
    "utm_crs",
]

URBAN_REACH_M = 3218.7  # 2 miles
RURAL_REACH_M = 16093.4  # 10 miles
# Old names of helpers that moved to _access_points and fca: analysis.score and
# analysis.rollup import them from here.
_WEIGHT_COLUMNS, _point_tracts = WEIGHT_COLUMNS, point_tracts
_area_coords, _site_coords = area_coords, site_coords
_fca_inputs, _fca = fca_inputs, fca_values


# --- sites -------------------------------------------------------------------------------------

def nearest_site_distance(
    areas: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    service: str | None = None,
    site_type: str | Iterable[str] | None = None,
    points: gpd.GeoDataFrame | None = None,
    crs: Any = None,
) -> pd.Series:
    """Distance in metres from each area's point to the nearest (matching) site.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        Tracts (``GEOID``; ``INTPTLAT``/``INTPTLON`` used when there are no ``points``).
    sites : geopandas.GeoDataFrame
        Partner sites (points) in the data-model schema.
    service : str, optional
        Only sites offering this service (``svc_<service>`` is True), e.g. ``"public_wifi"``.
    site_type : str or list of str, optional
        Only sites of these types, e.g. ``"library"``.
    points : geopandas.GeoDataFrame, optional
        Weighted points per tract (see :func:`area_points`).
    crs : optional
        Override the distance CRS (see :func:`study_crs`).

    Returns
    -------
    pandas.Series
        Metres, aligned to ``areas.index``; NaN for every area when no site matches.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> a = gpd.GeoDataFrame({"GEOID": ["48135000100"]}, geometry=[Point(-102.40, 31.90)],
    ...                      crs=4326)
    >>> s = gpd.GeoDataFrame({"site_type": ["library"]}, geometry=[Point(-102.40, 31.91)],
    ...                      crs=4326)
    >>> round(float(nearest_site_distance(a, s, site_type="library").iloc[0]), -1)
    1110.0
    """
    chosen = select_sites(sites, service, site_type)
    name = f"dist_{service or (site_type if isinstance(site_type, str) else 'site')}_m"
    if chosen.empty:
        return pd.Series(np.nan, index=areas.index, name=name)
    space = _Space(study_crs(areas, chosen, crs=crs))
    return _nearest(area_coords(areas, points, space), site_coords(chosen, space), space,
                    index=areas.index, name=name)


def _nearest(area_xy: np.ndarray, site_xy: np.ndarray, space: _Space, *, index: pd.Index,
             name: str) -> pd.Series:
    """Return metres from each area point to its nearest site (coordinates in ``space``)."""
    dist, _ = cKDTree(site_xy).query(area_xy, k=1)
    return pd.Series(space.metres(dist), index=index, name=name)


def sites_within_reach(
    areas: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    reach_m: float | pd.Series | None = None,
    rural: pd.Series | str | None = None,
    urban_reach_m: float = URBAN_REACH_M,
    rural_reach_m: float = RURAL_REACH_M,
    service: str | None = None,
    site_type: str | Iterable[str] | None = None,
    points: gpd.GeoDataFrame | None = None,
    crs: Any = None,
) -> pd.DataFrame:
    """Count the (matching) sites within reach of each area's point.

    The reach is ``reach_m`` when given (one value, or a Series aligned to ``areas``);
    otherwise ``rural_reach_m`` (10 miles) for rural areas and ``urban_reach_m`` (2 miles)
    for the others. Rurality comes from ``rural`` (a boolean Series or a column name),
    else the areas' ``rural`` column; an area of unknown rurality gets the urban reach.

    Returns
    -------
    pandas.DataFrame
        ``sites_within_reach`` (int) and ``reach_m`` (float), aligned to ``areas.index``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> a = gpd.GeoDataFrame({"GEOID": ["48135000100", "48135000200"], "rural": [False, True]},
    ...                      geometry=[Point(-102.4, 31.9), Point(-102.4, 31.9)], crs=4326)
    >>> s = gpd.GeoDataFrame(geometry=[Point(-102.4, 31.92), Point(-102.4, 31.99)], crs=4326)
    >>> sites_within_reach(a, s)["sites_within_reach"].tolist()
    [1, 2]
    """
    reach = _reach(areas, reach_m=reach_m, rural=rural, urban_reach_m=urban_reach_m,
                   rural_reach_m=rural_reach_m)
    chosen = select_sites(sites, service, site_type)
    count = np.zeros(len(areas), dtype=int)
    if not chosen.empty:
        space = _Space(study_crs(areas, chosen, crs=crs))
        count = _count_within(area_coords(areas, points, space), site_coords(chosen, space),
                              space, reach)
    return pd.DataFrame({"sites_within_reach": np.asarray(count, dtype=int),
                         "reach_m": reach.to_numpy(float)}, index=areas.index)


def _count_within(area_xy: np.ndarray, site_xy: np.ndarray, space: _Space,
                  reach: pd.Series) -> np.ndarray:
    """Return how many sites lie within each area point's reach (coordinates in ``space``)."""
    return cKDTree(site_xy).query_ball_point(area_xy, r=space.radius(reach.to_numpy(float)),
                                             return_length=True)


def _reach(
    areas: gpd.GeoDataFrame,
    *,
    reach_m: float | pd.Series | None,
    rural: pd.Series | str | None,
    urban_reach_m: float,
    rural_reach_m: float,
) -> pd.Series:
    """Return each area's reach in metres (see :func:`sites_within_reach`), checked."""
    if reach_m is not None:
        reach = pd.Series(reach_m, index=areas.index, dtype=float)
    else:
        if rural is None:
            rural = areas["rural"] if "rural" in areas.columns else pd.Series(False,
                                                                            index=areas.index)
        elif isinstance(rural, str):
            rural = areas[rural]
        flag = pd.Series(rural, index=areas.index).astype("boolean").fillna(False).astype(bool)
        reach = pd.Series(np.where(flag, rural_reach_m, urban_reach_m), index=areas.index)
    if (reach < 0).any() or reach.isna().any():
        raise ConfigError("reach_m: every reach must be a non-negative number of metres")
    return reach


# --- coverage of hotspots / Wi-Fi buses -----------------------------------------------------------

def coverage_share(
    areas: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    points: gpd.GeoDataFrame,
    radius_col: str = "wifi_radius_m",
    weight_col: str | None = None,
    crs: Any = None,
) -> pd.Series:
    """Share of each area's (weighted) points inside any site's coverage radius.

    Sites with a missing or zero radius cover nothing. Areas without points get NaN.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> a = gpd.GeoDataFrame({"GEOID": ["48135000100"]}, geometry=[Point(-102.4, 31.9)],
    ...                      crs=4326)
    >>> p = gpd.GeoDataFrame({"GEOID": ["48135000100"] * 4},
    ...                      geometry=[Point(-102.4, 31.9 + k * 0.001) for k in range(4)],
    ...                      crs=4326)
    >>> s = gpd.GeoDataFrame({"wifi_radius_m": [150.0]}, geometry=[Point(-102.4, 31.9)],
    ...                      crs=4326)
    >>> coverage_share(a, s, points=p).tolist()
    [0.5]
    """
    if radius_col not in sites.columns:
        raise SchemaError(f"sites: no coverage radius column {radius_col!r}")
    radius = pd.to_numeric(sites[radius_col], errors="coerce").to_numpy(float)
    active = sites[np.isfinite(radius) & (radius > 0)]
    radius = radius[np.isfinite(radius) & (radius > 0)]
    key = point_tracts(points).to_numpy()
    w = weights(points, weight_col)
    covered = np.zeros(len(points), dtype=bool)
    if not active.empty and len(points):
        space = _Space(study_crs(areas, active, points, crs=crs))
        pts = points.geometry.to_crs(4326)
        tree_p = cKDTree(space.coords(pts.x.to_numpy(), pts.y.to_numpy()))
        tree_s = cKDTree(site_coords(active, space))
        pairs = tree_p.sparse_distance_matrix(tree_s, space.radius(radius.max()),
                                              output_type="ndarray")
        inside = space.metres(pairs["v"]) <= radius[pairs["j"]]
        covered[pairs["i"][inside]] = True
    frame = pd.DataFrame({"key": key, "w": w, "cw": w * covered}).groupby("key").sum()
    share = (frame["cw"] / frame["w"].where(frame["w"] > 0))
    return pd.Series(share.reindex(areas["GEOID"].astype(str)).to_numpy(), index=areas.index,
                     name="coverage_share")
