"""Coordinates in a user's table: parse, repair swapped lat/lon, test against the study area.

Shared by the schools, partner-site and survey readers. All functions are vectorised over
arrays and never put a coordinate value in a message when ``private=True`` (the survey).

Swapped latitude/longitude is detected against a reference box: the study area's bounds
(padded by 0.05 degrees) when an area is given, else the box holding the middle 90% of the
file's own correctly oriented points (padded by 0.5 degrees). A point is swapped when it lies
outside the box as given and inside it with the two values exchanged; it is then repaired and
counted in the report with a :class:`~assetmap.errors.RepairWarning`.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from assetmap._report import count_repair
from assetmap.errors import SchemaError, where

__all__ = ["area_geometry", "inside", "parse_coordinates", "repair_swapped"]


def area_geometry(area: Any) -> BaseGeometry | None:
    """Return a study area (GeoDataFrame, GeoSeries or shapely geometry) as one geometry in 4326.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> area_geometry(box(0, 0, 1, 1)).area
    1.0
    """
    if area is None:
        return None
    if isinstance(area, BaseGeometry):
        return area
    if isinstance(area, gpd.GeoDataFrame | gpd.GeoSeries):
        if area.crs is None:
            raise SchemaError("the study area has no CRS; set one (e.g. area.set_crs(4326))")
        geoms = area.to_crs("EPSG:4326").geometry
        return shapely.union_all(shapely.make_valid(geoms.to_numpy()))
    raise TypeError(
        f"area must be a GeoDataFrame, GeoSeries or shapely geometry, not {type(area).__name__}"
    )


def parse_coordinates(
    frame: pd.DataFrame,
    *,
    lat: str,
    lon: str,
    source: str,
    private: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Return latitude and longitude as float arrays (NaN where the cell is empty).

    A non-empty cell that is not a number raises :class:`SchemaError` naming file, row and
    column (and the value, unless ``private``).
    """
    out = []
    for column in (lat, lon):
        raw = frame[column]
        text = raw.astype("string").str.strip()
        values = pd.to_numeric(text, errors="coerce")
        bad = values.isna() & text.notna() & (text != "")
        if bad.any():
            row = bad[bad].index[0]
            shown = "" if private else f": {raw.loc[row]!r}"
            raise SchemaError(
                f"{where(source, row=int(row), column=column)}: not a number{shown}; "
                f"{int(bad.sum())} cell(s) in this column are not numbers"
            )
        out.append(values.to_numpy(dtype=float, na_value=np.nan))
    return out[0], out[1]


def _reference_box(
    lat: np.ndarray, lon: np.ndarray, area: BaseGeometry | None
) -> tuple[float, float, float, float] | None:
    if area is not None:
        minx, miny, maxx, maxy = area.bounds
        pad = 0.05
        return minx - pad, miny - pad, maxx + pad, maxy + pad
    ok = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    if ok.sum() < 3:
        return None
    # The majority orientation: in the US, latitude > 0 and longitude < 0.
    lat_ok, lon_ok = lat[ok], lon[ok]
    qx = np.quantile(lon_ok, [0.05, 0.95])
    qy = np.quantile(lat_ok, [0.05, 0.95])
    pad = 0.5
    return qx[0] - pad, qy[0] - pad, qx[1] + pad, qy[1] + pad


def _in_box(x: np.ndarray, y: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    return (x >= box[0]) & (x <= box[2]) & (y >= box[1]) & (y <= box[3])


def repair_swapped(
    lat: np.ndarray,
    lon: np.ndarray,
    *,
    area: BaseGeometry | None,
    report: dict[str, Any],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Swap back points whose latitude and longitude were exchanged; count them.

    Returns ``(lat, lon, swapped)`` as new arrays (the inputs are not changed).
    """
    lat, lon = lat.copy(), lon.copy()
    box = _reference_box(lat, lon, area)
    finite = np.isfinite(lat) & np.isfinite(lon)
    out_of_range = finite & ((np.abs(lat) > 90) | (np.abs(lon) > 180))
    if box is None:
        swapped = out_of_range & (np.abs(lon) <= 90) & (np.abs(lat) <= 180)
    else:
        as_given = _in_box(lon, lat, box)
        exchanged = _in_box(lat, lon, box)
        swapped = finite & ~as_given & exchanged
    if swapped.any():
        lat[swapped], lon[swapped] = lon[swapped].copy(), lat[swapped].copy()
        count_repair(report, "latitude and longitude were swapped", int(swapped.sum()))
    return lat, lon, swapped


def inside(lat: np.ndarray, lon: np.ndarray, area: BaseGeometry | None) -> np.ndarray:
    """Return True where the point lies in (or on the edge of) the area; all True without one."""
    if area is None:
        return np.ones(len(lat), dtype=bool)
    finite = np.isfinite(lat) & np.isfinite(lon)
    result = np.zeros(len(lat), dtype=bool)
    if finite.any():
        shapely.prepare(area)
        points = shapely.points(lon[finite], lat[finite])
        result[finite] = shapely.covers(area, points)
    return result
