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
from assetmap.loaders._tables import parse_numbers

__all__ = ["IMPOSSIBLE", "area_geometry", "impossible", "inside", "parse_coordinates", "point_xy",
           "repair_swapped"]


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

    A non-empty cell that is not a finite number raises :class:`SchemaError` naming file,
    row and column (and the value, unless ``private``). A ``;`` file's decimal commas
    (``frame.attrs["decimal"] == ","``) are read as decimal points.
    """
    decimal = frame.attrs.get("decimal", ".")
    return tuple(  # type: ignore[return-value]
        parse_numbers(frame[column], source=source, column=column, decimal=decimal,
                      minimum=None, private=private).to_numpy(dtype=float, na_value=np.nan)
        for column in (lat, lon))


def point_xy(geometry: gpd.GeoSeries, *, source: str) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(lat, lon)`` of a layer of points (NaN where a geometry is missing or empty).

    A polygon or line where a point is expected is a :class:`SchemaError` naming the first
    such row (never its coordinates): the reader takes one place per row.

    Examples
    --------
    >>> from shapely.geometry import Point, box
    >>> point_xy(gpd.GeoSeries([Point(-102, 31), None]), source="s.geojson")
    (array([31., nan]), array([-102.,  nan]))
    >>> point_xy(gpd.GeoSeries([box(0, 0, 1, 1)]), source="s.geojson")
    Traceback (most recent call last):
    ...
    assetmap.errors.SchemaError: s.geojson, row 1: a Polygon where a point is expected; ...
    """
    present = geometry.notna().to_numpy() & ~geometry.is_empty.to_numpy()
    kinds = geometry.geom_type.to_numpy()
    wrong = present & (kinds != "Point")
    if wrong.any():
        first = int(np.flatnonzero(wrong)[0])
        raise SchemaError(
            f"{where(source, row=first + 1)}: a {kinds[first]} where a point is expected; "
            f"{int(wrong.sum())} row(s) are not points: give one point per row (e.g. save "
            "the centroids: layer.geometry.representative_point())")
    x = np.full(len(geometry), np.nan)
    y = np.full(len(geometry), np.nan)
    x[present] = shapely.get_x(geometry.to_numpy()[present])
    y[present] = shapely.get_y(geometry.to_numpy()[present])
    return y, x


def impossible(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Return True where a point cannot be a place: 0,0, or not longitude/latitude at all.

    Run after :func:`repair_swapped`: what is still outside +-90 / +-180 degrees is projected
    metres or feet typed into latitude/longitude columns; 0,0 ("null island") is a missing
    value written as zero.

    Examples
    --------
    >>> impossible(np.array([0.0, 31.8, 3528000.0]), np.array([0.0, -102.3, 773000.0])).tolist()
    [True, False, True]
    """
    finite = np.isfinite(lat) & np.isfinite(lon)
    with np.errstate(invalid="ignore"):
        return finite & (((lat == 0) & (lon == 0)) | (np.abs(lat) > 90) | (np.abs(lon) > 180))


IMPOSSIBLE = "coordinates 0,0 or not longitude/latitude (projected metres?)"


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
