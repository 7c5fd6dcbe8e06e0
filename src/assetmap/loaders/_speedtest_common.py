"""Shared parts of the speed-test readers: the frame's columns, header matching, filters."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from assetmap._report import attach_report, count_reject, count_repair
from assetmap.errors import SchemaError
from assetmap.geoid import normalize_geoids
from assetmap.loaders._textfile import parse_errors

SPEEDTEST_COLUMNS = [
    "source", "period", "timestamp", "down_mbps", "up_mbps", "latency_ms", "tests", "devices",
    "device_key", "location_basis", "quadkey", "GEOID",
]
_MAX_MBPS = 10_000.0  # faster than any residential service: a unit or data-entry error

# canonical name -> accepted headers, compared after lower-casing, other characters as "_"
DISTRICT_COLUMNS: dict[str, list[str]] = {
    "down_mbps": ["down_mbps", "download_mbps", "download", "download_speed_mbps", "dl_mbps"],
    "up_mbps": ["up_mbps", "upload_mbps", "upload", "upload_speed_mbps", "ul_mbps"],
    "down_kbps": ["down_kbps", "download_kbps"],
    "up_kbps": ["up_kbps", "upload_kbps"],
    "latency_ms": ["latency_ms", "ping_ms", "ping", "latency"],
    "timestamp": ["timestamp", "test_time", "datetime", "date", "time"],
    "lat": ["latitude", "lat", "y"],
    "lon": ["longitude", "lon", "lng", "long", "x"],
    "GEOID": ["geoid", "tract_geoid", "tract", "tract_id"],
    "device_key": ["device_id", "device", "client_id", "device_key"],
    "connection": ["connection_type", "connection", "network_type"],
}
# columns that identify a person or a home: never carried into the frame
_PERSONAL = re.compile(r"^(address|street|name|first_name|last_name|email|phone|household_id"
                       r"|student_id|ip|ip_address|client_ip)$")


def _key(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", str(name).strip().lower()).strip("_")


def _pick(columns: Sequence[str], mapping: Mapping[str, list[str]]) -> dict[str, str]:
    """Map canonical names to the first matching header of ``columns``."""
    keyed = {_key(c): c for c in columns}
    found: dict[str, str] = {}
    for canonical, aliases in mapping.items():
        for alias in aliases:
            if alias in keyed:
                found[canonical] = keyed[alias]
                break
    return found


def _filter_shape(area: Any, bbox: Sequence[float] | None) -> tuple[tuple | None, Any]:
    """Return (bbox, geometry) of the requested area, in EPSG:4326."""
    geom = None
    if area is not None:
        if isinstance(area, gpd.GeoDataFrame | gpd.GeoSeries):
            if area.crs is not None:
                area = area.to_crs(4326)
            geom = shapely.union_all(np.asarray(area.geometry if isinstance(
                area, gpd.GeoDataFrame) else area))
        elif isinstance(area, shapely.Geometry):
            geom = area
        else:
            raise TypeError("area must be a GeoDataFrame, GeoSeries or shapely geometry")
        box = tuple(float(v) for v in geom.bounds)
        if bbox is not None:
            box = (max(box[0], bbox[0]), max(box[1], bbox[1]),
                   min(box[2], bbox[2]), min(box[3], bbox[3]))
        return box, geom
    if bbox is not None:
        if len(bbox) != 4 or bbox[0] > bbox[2] or bbox[1] > bbox[3]:
            raise ValueError(f"bbox must be (west, south, east, north), got {bbox!r}")
        return tuple(float(v) for v in bbox), None
    return None, None


def _finish(
    frame: gpd.GeoDataFrame, report: dict, geom: Any, box: tuple | None
) -> gpd.GeoDataFrame:
    """Apply the area filter (counted), order the columns and attach the report."""
    if box is not None:
        inside = frame.geometry.intersects(shapely.box(*box)) if geom is None else \
            frame.geometry.intersects(geom)
        # rows without geometry (tract-only) are kept: they cannot be placed by shape
        inside |= frame.geometry.isna()
        count_reject(report, "outside the requested area", int((~inside).sum()), warn=False)
        frame = frame.loc[inside]
    for col in SPEEDTEST_COLUMNS:
        if col not in frame.columns:
            frame[col] = pd.NA
    frame = frame[[*SPEEDTEST_COLUMNS, "geometry"]].reset_index(drop=True)
    frame["tests"] = frame["tests"].astype("int64")
    frame["devices"] = frame["devices"].astype("Int64")
    for col in ("down_mbps", "up_mbps", "latency_ms"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    for col in ("source", "period", "device_key", "location_basis", "quadkey", "GEOID"):
        frame[col] = frame[col].astype("object").where(frame[col].notna(), None)
    return attach_report(gpd.GeoDataFrame(frame, geometry="geometry", crs=4326), report)


def _reject(report: dict, frame: pd.DataFrame, bad: pd.Series, reason: str) -> pd.DataFrame:
    """Count and drop rows where ``bad``; row numbers are 1-based data rows."""
    bad = bad.fillna(True).astype(bool)
    if bad.any():
        rows = (np.flatnonzero(bad.to_numpy()) + 1).tolist() if "_row" not in frame else \
            frame.loc[bad, "_row"].tolist()
        count_reject(report, reason, int(bad.sum()), rows=rows)
    return frame.loc[~bad]


def _read_csv(path: Path) -> pd.DataFrame:
    with parse_errors(path):
        frame = pd.read_csv(path, dtype=str, keep_default_na=True, skipinitialspace=True,
                            encoding="utf-8-sig")
    if frame.empty:
        raise SchemaError(f"{path}: the file has a header but no data rows")
    return frame


def _numbers(values: pd.Series, report: dict, column: str) -> pd.Series:
    """Numbers of a speed-test column; ``1,234`` is read as 1234 and counted; text is NaN."""
    text = values.astype("string").str.strip()
    grouped = text.str.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?").fillna(False)
    if grouped.any():
        count_repair(report, f"numbers with thousands separators read as numbers ({column})",
                     int(grouped.sum()))
        text = text.where(~grouped, text.str.replace(",", "", regex=False))
    numbers = pd.to_numeric(text, errors="coerce")
    return pd.Series(numbers.to_numpy(dtype=float, na_value=np.nan), index=values.index)


def _points(frame: pd.DataFrame, report: dict, cols: dict[str, str]) -> pd.DataFrame:
    """Parse lat/lon (repairing swapped pairs) and tract GEOIDs; reject unplaceable rows."""
    lat = _numbers(frame[cols["lat"]], report, "lat") if "lat" in cols else \
        pd.Series(np.nan, index=frame.index)
    lon = _numbers(frame[cols["lon"]], report, "lon") if "lon" in cols else \
        pd.Series(np.nan, index=frame.index)
    swapped = (lat.abs() > 90) & (lon.abs() <= 90)
    if swapped.any():
        lat, lon = lat.where(~swapped, lon), lon.where(~swapped, lat)
        count_repair(report, "latitude and longitude swapped", int(swapped.sum()))
    out_of_range = (lat.abs() > 90) | (lon.abs() > 180) | ((lat == 0) & (lon == 0))
    frame = frame.assign(_lat=lat.where(~out_of_range), _lon=lon.where(~out_of_range))
    frame = _reject(report, frame, out_of_range, "coordinates out of range or 0,0")
    geoid = pd.Series(None, index=frame.index, dtype=object)
    if "GEOID" in cols:
        given = frame[cols["GEOID"]].notna() & (frame[cols["GEOID"]].str.strip() != "")
        if given.any():
            geoid[given] = normalize_geoids(frame.loc[given, cols["GEOID"]], level="tract",
                                            source=str(report["source"]), column=cols["GEOID"])
    frame = frame.assign(GEOID=geoid)
    return _reject(report, frame, frame["_lat"].isna() & frame["GEOID"].isna(),
                   "no coordinates and no tract GEOID")


def _geometry(frame: pd.DataFrame) -> np.ndarray:
    has = frame["_lat"].notna().to_numpy()
    geoms = np.full(len(frame), None, dtype=object)
    geoms[has] = shapely.points(frame["_lon"].to_numpy()[has], frame["_lat"].to_numpy()[has])
    return geoms


