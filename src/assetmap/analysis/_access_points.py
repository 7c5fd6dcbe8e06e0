"""Where each area and each site is: the points every access measure starts from.

One point per area (:func:`area_points`): the weighted mean of the area's ``points``
(block-group population centres, BDC locations or H3 cell centres weighted by location counts),
else the tract's internal point (``INTPTLAT``/``INTPTLON``), else a representative point. The
sites a measure uses (by service and type) and their coordinates, in the study's distance space
(:class:`assetmap.analysis._space._Space`). Used by :mod:`assetmap.analysis.access` and
:mod:`assetmap.analysis.fca`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from assetmap.analysis._space import _Space, study_crs
from assetmap.errors import SchemaError

__all__ = [
    "WEIGHT_COLUMNS",
    "area_coords",
    "area_points",
    "point_tracts",
    "select_sites",
    "site_coords",
    "weights",
]

WEIGHT_COLUMNS = ("weight", "locations", "households", "population", "POP2020")


def weights(points: pd.DataFrame, weight_col: str | None) -> np.ndarray:
    """Return each point's weight (>= 0; missing is 0); the first known column, else 1 each."""
    if weight_col is None:
        weight_col = next((c for c in WEIGHT_COLUMNS if c in points.columns), None)
    if weight_col is None:
        return np.ones(len(points))
    if weight_col not in points.columns:
        raise SchemaError(f"points: no weight column {weight_col!r}")
    w = pd.to_numeric(points[weight_col], errors="coerce").to_numpy(float)
    if (w < 0).any():
        raise SchemaError(f"points: negative weights in column {weight_col!r}")
    return np.nan_to_num(w, nan=0.0)


def point_tracts(points: pd.DataFrame) -> pd.Series:
    """Return each point's tract GEOID (the first 11 characters of its GEOID)."""
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
        w = weights(pts, weight_col)
        xy = space.coords(pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy())
        frame = pd.DataFrame(xy * w[:, None]).assign(w=w, key=point_tracts(pts).to_numpy())
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


def select_sites(
    sites: gpd.GeoDataFrame, service: str | None, site_type: str | Iterable[str] | None
) -> gpd.GeoDataFrame:
    """Return the sites offering ``service`` and of ``site_type`` (None: any)."""
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


def site_coords(sites: gpd.GeoDataFrame, space: _Space) -> np.ndarray:
    """Return the sites' coordinates in ``space``; a site without geometry is an error."""
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


def area_coords(
    areas: gpd.GeoDataFrame, points: gpd.GeoDataFrame | None, space: _Space
) -> np.ndarray:
    """Return each area's point (see :func:`area_points`) in ``space``."""
    geom = areas.geometry.to_numpy()
    if (points is None and "INTPTLAT" not in areas.columns and areas.crs is not None
            and areas.crs.equals(CRS.from_epsg(4326))
            and (shapely.get_type_id(geom) == 0).all()):  # already one point each
        return space.coords(shapely.get_x(geom), shapely.get_y(geom))
    pts = area_points(areas, points=points, crs=space.crs)
    return space.coords(pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy())
