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
no Python loop over rows. Formulas and sources: ``docs/methods.md``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from scipy.spatial import cKDTree

from assetmap.analysis._space import _Space, study_crs, utm_crs
from assetmap.analysis.decay import Decay, gaussian, linear, step_fn
from assetmap.errors import ConfigError, SchemaError

__all__ = [
    "RURAL_REACH_M",
    "URBAN_REACH_M",
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
_WEIGHT_COLUMNS = ("weight", "locations", "households", "population", "POP2020")


# --- one point per area ------------------------------------------------------------------------

def _weights(points: pd.DataFrame, weight_col: str | None) -> np.ndarray:
    if weight_col is None:
        weight_col = next((c for c in _WEIGHT_COLUMNS if c in points.columns), None)
    if weight_col is None:
        return np.ones(len(points))
    if weight_col not in points.columns:
        raise SchemaError(f"points: no weight column {weight_col!r}")
    w = pd.to_numeric(points[weight_col], errors="coerce").to_numpy(float)
    if (w < 0).any():
        raise SchemaError(f"points: negative weights in column {weight_col!r}")
    return np.nan_to_num(w, nan=0.0)


def _point_tracts(points: pd.DataFrame) -> pd.Series:
    col = "GEOID" if "GEOID" in points.columns else "block_geoid"
    if col not in points.columns:
        raise SchemaError("points: needs a 'GEOID' (tract, block group or block) column")
    return points[col].astype(str).str.slice(0, 11)


def area_points(
    areas: gpd.GeoDataFrame,
    *,
    points: gpd.GeoDataFrame | None = None,
    weight_col: str | None = None,
    crs: Any = None,
) -> gpd.GeoDataFrame:
    """Return one representative point per area: weighted, internal, or representative.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        Areas with ``GEOID`` (tracts); ``INTPTLAT``/``INTPTLON`` are used when present.
    points : geopandas.GeoDataFrame, optional
        Weighted points with a ``GEOID`` column (tract, block group or block GEOIDs: the first
        11 characters name the tract), e.g. block-group population centres or BDC locations.
    weight_col : str, optional
        Weight column of ``points``; default the first of ``weight``, ``locations``,
        ``households``, ``population``, ``POP2020`` present, else 1 per point.
    crs : optional
        The CRS for the weighted mean (default :func:`study_crs` of areas and points).

    Returns
    -------
    geopandas.GeoDataFrame
        Aligned to ``areas.index``: ``point_source`` (``weighted``, ``internal`` or
        ``representative``) and point geometry in EPSG:4326.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point, box
    >>> a = gpd.GeoDataFrame({"GEOID": ["48135000100"]}, geometry=[box(0, 0, 1, 1)], crs=4326)
    >>> p = gpd.GeoDataFrame({"GEOID": ["481350001001"] * 2, "weight": [3, 1]},
    ...                      geometry=[Point(0.2, 0.5), Point(0.6, 0.5)], crs=4326)
    >>> pt = area_points(a, points=p)
    >>> round(float(pt.geometry.x.iloc[0]), 3), pt["point_source"].iloc[0]
    (0.3, 'weighted')
    """
    geo = areas.to_crs(4326)
    lon = np.full(len(geo), np.nan)
    lat = np.full(len(geo), np.nan)
    source = np.full(len(geo), "representative", dtype=object)
    if {"INTPTLAT", "INTPTLON"} <= set(geo.columns):
        ilat = pd.to_numeric(geo["INTPTLAT"], errors="coerce").to_numpy(float)
        ilon = pd.to_numeric(geo["INTPTLON"], errors="coerce").to_numpy(float)
        ok = np.isfinite(ilat) & np.isfinite(ilon)
        lon[ok], lat[ok], source[ok] = ilon[ok], ilat[ok], "internal"
    todo = ~np.isfinite(lon)
    if todo.any():
        rep = geo.geometry[todo].representative_point()
        lon[todo], lat[todo] = rep.x.to_numpy(), rep.y.to_numpy()
    if points is not None and len(points):
        if "GEOID" not in geo.columns:
            raise SchemaError("areas: needs a 'GEOID' column to match weighted points")
        space = _Space(study_crs(geo, points, crs=crs))
        pts = points.to_crs(4326)
        w = _weights(pts, weight_col)
        xy = space.coords(pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy())
        frame = pd.DataFrame(xy * w[:, None]).assign(w=w, key=_point_tracts(pts).to_numpy())
        sums = frame.groupby("key").sum()
        sums = sums[sums["w"] > 0]
        pos = pd.Index(sums.index).get_indexer(geo["GEOID"].astype(str))
        hit = pos >= 0
        if hit.any():
            mean = sums.iloc[pos[hit], : xy.shape[1]].to_numpy() / sums["w"].to_numpy()[
                pos[hit], None]
            lon[hit], lat[hit] = space.lonlat(mean)
            source[hit] = "weighted"
    return gpd.GeoDataFrame(
        {"point_source": source}, geometry=gpd.points_from_xy(lon, lat), crs=4326,
        index=areas.index,
    )


# --- sites -------------------------------------------------------------------------------------

def _select_sites(
    sites: gpd.GeoDataFrame, service: str | None, site_type: str | Iterable[str] | None
) -> gpd.GeoDataFrame:
    out = sites
    if service is not None:
        col = service if service.startswith("svc_") else f"svc_{service}"
        if col not in sites.columns:
            have = [c for c in sites.columns if str(c).startswith("svc_")]
            raise SchemaError(f"sites: no column {col!r} for service {service!r}; "
                              f"service columns are {have}")
        out = out[out[col].astype("boolean").fillna(False)]
    if site_type is not None:
        if "site_type" not in sites.columns:
            raise SchemaError("sites: no 'site_type' column")
        types = [site_type] if isinstance(site_type, str) else list(site_type)
        out = out[out["site_type"].isin(types)]
    return out


def _site_coords(sites: gpd.GeoDataFrame, space: _Space) -> np.ndarray:
    if sites.crs is None:
        raise SchemaError("sites: the GeoDataFrame has no CRS; set it (EPSG:4326) first")
    geom = sites.geometry
    if not sites.crs.equals(CRS.from_epsg(4326)):
        geom = geom.to_crs(4326)
    bad = geom.isna() | geom.is_empty
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 1
        raise SchemaError(f"sites: {int(bad.sum())} sites have no geometry (first: row {row})")
    if not (geom.geom_type == "Point").all():
        geom = geom.representative_point()
    return space.coords(geom.x.to_numpy(), geom.y.to_numpy())


def _area_coords(
    areas: gpd.GeoDataFrame, points: gpd.GeoDataFrame | None, space: _Space
) -> np.ndarray:
    geom = areas.geometry.to_numpy()
    if (points is None and "INTPTLAT" not in areas.columns and areas.crs is not None
            and areas.crs.equals(CRS.from_epsg(4326))
            and (shapely.get_type_id(geom) == 0).all()):  # already one point each
        return space.coords(shapely.get_x(geom), shapely.get_y(geom))
    pts = area_points(areas, points=points, crs=space.crs)
    return space.coords(pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy())


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
    chosen = _select_sites(sites, service, site_type)
    name = f"dist_{service or (site_type if isinstance(site_type, str) else 'site')}_m"
    if chosen.empty:
        return pd.Series(np.nan, index=areas.index, name=name)
    space = _Space(study_crs(areas, chosen, crs=crs))
    return _nearest(_area_coords(areas, points, space), _site_coords(chosen, space), space,
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
    chosen = _select_sites(sites, service, site_type)
    count = np.zeros(len(areas), dtype=int)
    if not chosen.empty:
        space = _Space(study_crs(areas, chosen, crs=crs))
        count = _count_within(_area_coords(areas, points, space), _site_coords(chosen, space),
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


# --- 2SFCA ---------------------------------------------------------------------------------------

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
    pop, capacity = _fca_inputs(demand, supply, demand_col=demand_col,
                                capacity_col=capacity_col, d0=d0)
    out = pd.Series(0.0, index=demand.index, name="access_2sfca")
    if supply.empty:
        return out
    space = _Space(study_crs(demand, supply, crs=crs))
    out[:] = _fca(_area_coords(demand, points, space), _site_coords(supply, space), space,
                  pop=pop, capacity=capacity, d0=d0, decay=decay)
    return out


def _fca_inputs(demand: pd.DataFrame, supply: pd.DataFrame, *, demand_col: str,
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


def _fca(area_xy: np.ndarray, site_xy: np.ndarray, space: _Space, *, pop: np.ndarray,
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
    key = _point_tracts(points).to_numpy()
    w = _weights(points, weight_col)
    covered = np.zeros(len(points), dtype=bool)
    if not active.empty and len(points):
        space = _Space(study_crs(areas, active, points, crs=crs))
        pts = points.geometry.to_crs(4326)
        tree_p = cKDTree(space.coords(pts.x.to_numpy(), pts.y.to_numpy()))
        tree_s = cKDTree(_site_coords(active, space))
        pairs = tree_p.sparse_distance_matrix(tree_s, space.radius(radius.max()),
                                              output_type="ndarray")
        inside = space.metres(pairs["v"]) <= radius[pairs["j"]]
        covered[pairs["i"][inside]] = True
    frame = pd.DataFrame({"key": key, "w": w, "cw": w * covered}).groupby("key").sum()
    share = (frame["cw"] / frame["w"].where(frame["w"] > 0))
    return pd.Series(share.reindex(areas["GEOID"].astype(str)).to_numpy(), index=areas.index,
                     name="coverage_share")
