"""Speed tests: Ookla open-data tiles, M-Lab NDT exports and a district's own measurements.

All three readers return one frame (see docs/data-model.md, "Speed tests"): one row per tile
(Ookla), per test or per published aggregate row (M-Lab), or per measurement (district), with
``source, period, timestamp, down_mbps, up_mbps, latency_ms, tests, devices, device_key,
location_basis, quadkey, GEOID, geometry`` in EPSG:4326. Each report's ``sources`` entry
carries the data's licence:

* Ookla open data: CC BY-NC-SA 4.0 (non-commercial use, attribute Ookla, share alike);
  https://github.com/teamookla/ookla-open-data
* M-Lab: "available to the public without restriction under a No Rights Reserved Creative
  Commons Zero Waiver" (CC0); https://www.measurementlab.net/data/
* the district's own tests: the district's data; the points are household locations and must
  stay inside the district (aggregate them with ``aggregate_speedtests`` before sharing).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from assetmap._report import count_reject, count_repair, start_report
from assetmap._safezip import check_zip_file
from assetmap.errors import SchemaError
from assetmap.loaders._quadkey import quadkeys_to_bounds
from assetmap.loaders._speedtest_common import (
    _MAX_MBPS,
    _PERSONAL,
    DISTRICT_COLUMNS,
    SPEEDTEST_COLUMNS,
    _filter_shape,
    _finish,
    _geometry,
    _key,
    _numbers,
    _pick,
    _points,
    _read_csv,
    _reject,
)
from assetmap.loaders._textfile import parse_errors, semicolon_hint
from assetmap.loaders.mlab import MLAB_COLUMNS, MLAB_LICENSE, read_mlab

__all__ = [
    "DISTRICT_COLUMNS",
    "MLAB_COLUMNS",
    "MLAB_LICENSE",
    "OOKLA_LICENSE",
    "SPEEDTEST_COLUMNS",
    "read_mlab",
    "read_ookla_tiles",
    "read_speedtests",
]

OOKLA_LICENSE = "CC BY-NC-SA 4.0"
OOKLA_URL = "https://github.com/teamookla/ookla-open-data"
OOKLA_ATTRIBUTION = (
    "Speedtest® by Ookla® Global Fixed and Mobile Network Performance Maps; "
    "CC BY-NC-SA 4.0. Ookla trademarks used under license and reprinted with permission."
)
_OOKLA_REQUIRED = ["quadkey", "avg_d_kbps", "avg_u_kbps", "avg_lat_ms", "tests", "devices"]
_OOKLA_NAME = re.compile(r"(\d{4})-(\d{2})-01_performance_(fixed|mobile)_tiles")


def _ookla_period(path: Path) -> tuple[str | None, pd.Timestamp | None, str | None]:
    match = _OOKLA_NAME.search(path.name)
    if not match:
        return None, None, None
    year, month, layer = int(match[1]), int(match[2]), match[3]
    return f"{year}-Q{(month - 1) // 3 + 1}", pd.Timestamp(year, month, 1, tz="UTC"), layer


def read_ookla_tiles(
    path: str | Path,
    *,
    area: Any = None,
    bbox: Sequence[float] | None = None,
    period: str | None = None,
) -> gpd.GeoDataFrame:
    """Read Ookla open-data fixed-broadband tiles (Parquet or zipped/unzipped shapefile).

    The published files are named ``YYYY-MM-01_performance_fixed_tiles.parquet`` (or
    ``.zip`` holding a shapefile) and carry ``quadkey`` (zoom-16 tile), ``tile`` (WKT
    polygon; Parquet only), ``avg_d_kbps``, ``avg_u_kbps``, ``avg_lat_ms``, ``tests``,
    ``devices`` and, from 2023, ``tile_x``/``tile_y`` (tile centre) and loaded latency
    ``avg_lat_down_ms``/``avg_lat_up_ms`` (Parquet only). Speeds become Mbps (kbps / 1000).
    Geometry is the published ``tile`` polygon, else the tile computed from the quadkey.

    Parameters
    ----------
    path : str or Path
        A ``.parquet`` file, a shapefile (``.shp``) or its ``.zip``.
    area : GeoDataFrame, GeoSeries or shapely geometry, optional
        Keep tiles intersecting it (e.g. a county). Reprojected to EPSG:4326.
    bbox : (west, south, east, north), optional
        Keep tiles intersecting this box (degrees). Filters before geometry is built.
    period : str, optional
        The quarter, e.g. ``"2024-Q1"``, when the file name does not carry Ookla's
        ``YYYY-MM-01_`` prefix.

    Returns
    -------
    geopandas.GeoDataFrame
        The speed-test frame, ``source="ookla"``, ``location_basis="tile"``; the report's
        source entry carries ``license="CC BY-NC-SA 4.0"`` and Ookla's attribution text.

    Raises
    ------
    SchemaError
        If a required column is missing, or the file is Ookla's mobile (cellular) layer.

    Examples
    --------
    >>> from assetmap import get_report
    >>> from assetmap.datasets import data_path
    >>> tiles = read_ookla_tiles(data_path(
    ...     "speedtests", "ookla_fixed_tiles_illustrative_ector.parquet"))
    >>> tiles["source"].unique().tolist(), tiles.crs.to_epsg()
    (['ookla'], 4326)
    >>> get_report(tiles)["sources"][0]["license"]
    'CC BY-NC-SA 4.0'
    """
    path = Path(path)
    period_from_name, start, layer = _ookla_period(path)
    if period is not None:
        match = re.fullmatch(r"(\d{4})-Q([1-4])", period)
        if not match:
            raise ValueError(f"period must look like '2024-Q1', got {period!r}")
        start = pd.Timestamp(int(match[1]), 3 * int(match[2]) - 2, 1, tz="UTC")
    period = period or period_from_name
    if layer == "mobile":
        raise SchemaError(
            f"{path}: this is Ookla's mobile (cellular) layer; fixed-broadband evidence needs "
            "the performance_fixed_tiles files"
        )
    box, geom = _filter_shape(area, bbox)
    if path.suffix.lower() == ".parquet":
        raw = pd.read_parquet(path)
    elif path.suffix.lower() in {".zip", ".shp"}:
        check_zip_file(path)
        with parse_errors(path, what="shapefile"):
            raw = gpd.read_file(path, bbox=box, engine="pyogrio")
    else:
        raise SchemaError(f"{path}: expected a .parquet, .shp or .zip file of Ookla tiles")
    return _ookla_frame(raw, where=str(path), source=path, period=period, start=start,
                        box=box, geom=geom, illustrative="illustrative" in path.name.lower())


def _ookla_frame(
    raw: pd.DataFrame,
    *,
    where: str,
    source: str | Path,
    period: str | None,
    start: pd.Timestamp | None,
    box: tuple | None,
    geom: Any,
    illustrative: bool = False,
    url: str = OOKLA_URL,
    notes: Sequence[str] = (),
) -> gpd.GeoDataFrame:
    """Check Ookla's tile columns and build the speed-test frame (file reader and download).

    ``where`` names the input in messages, ``source`` goes into the report; geometry is the
    ``tile`` WKT when read, else the tile computed from the quadkey.
    """
    missing = [c for c in _OOKLA_REQUIRED if c not in raw.columns]
    if missing:
        raise SchemaError(
            f"{where}: missing Ookla tile columns {missing} (found {list(raw.columns)}); "
            f"expected {_OOKLA_REQUIRED} as published at {OOKLA_URL}"
        )
    cite = {
        "name": "Speedtest by Ookla Global Fixed Network Performance Maps (fixed tiles)",
        "vintage": period or "unknown quarter", "url": url, "license": OOKLA_LICENSE,
        "attribution": OOKLA_ATTRIBUTION,
    }
    report = start_report(source, kind="speedtests", rows_read=len(raw), sources=[cite],
                          vintages={"ookla": period or "unknown"}, illustrative=illustrative)
    report["notes"].append(
        "Ookla open data are licensed CC BY-NC-SA 4.0: non-commercial use only, credit Ookla, "
        "share derived data under the same licence."
    )
    report["notes"].extend(notes)
    frame = pd.DataFrame({"_row": np.arange(1, len(raw) + 1)}, index=raw.index)
    qk = raw["quadkey"]
    if pd.api.types.is_numeric_dtype(qk):
        # a shapefile/CSV round trip can store quadkeys as numbers and drop leading zeros
        qk_text = qk.astype("Int64").astype("string")
        count_repair(report, "quadkey stored as a number: leading zeros restored",
                     int((qk_text.str.len() < 16).sum()))
        qk = qk_text.str.zfill(16)
    frame["quadkey"] = qk.astype("string").str.strip()
    for col in ("avg_d_kbps", "avg_u_kbps", "avg_lat_ms", "tests", "devices"):
        frame[col] = pd.to_numeric(raw[col], errors="coerce")
    frame = _reject(report, frame, ~frame["quadkey"].str.fullmatch(r"[0-3]{16}"),
                    "quadkey is not a zoom-16 quadkey (16 digits 0-3)")
    frame = _reject(report, frame, (frame["tests"] < 1) | frame["tests"].isna(),
                    "tests missing or below 1")
    frame = _reject(report, frame, frame[["avg_d_kbps", "avg_u_kbps"]].isna().any(axis=1)
                    | (frame[["avg_d_kbps", "avg_u_kbps"]] < 0).any(axis=1),
                    "download or upload speed missing or negative")
    west, south, east, north = quadkeys_to_bounds(frame["quadkey"].to_numpy(dtype=object))
    if box is not None:
        keep = (east >= box[0]) & (west <= box[2]) & (north >= box[1]) & (south <= box[3])
        count_reject(report, "outside the requested area", int((~keep).sum()), warn=False)
        frame, west, south, east, north = (frame.loc[keep], west[keep], south[keep],
                                           east[keep], north[keep])
    if "tile" in raw.columns:
        geometry = shapely.from_wkt(raw.loc[frame.index, "tile"].to_numpy(dtype=object),
                                    on_invalid="ignore")
    elif isinstance(raw, gpd.GeoDataFrame):
        geometry = raw.loc[frame.index].geometry.to_crs(4326).to_numpy() if raw.crs else \
            raw.loc[frame.index].geometry.to_numpy()
    else:
        geometry = np.full(len(frame), None, dtype=object)
    missing_geom = pd.isna(geometry)
    if missing_geom.any():
        geometry = np.where(missing_geom, shapely.box(west, south, east, north), geometry)
    out = pd.DataFrame({
        "source": "ookla", "period": period, "timestamp": start,
        "down_mbps": frame["avg_d_kbps"].to_numpy() / 1000.0,
        "up_mbps": frame["avg_u_kbps"].to_numpy() / 1000.0,
        "latency_ms": frame["avg_lat_ms"].to_numpy(dtype="float64"),
        "tests": frame["tests"].to_numpy(dtype="int64"),
        "devices": frame["devices"].to_numpy(),
        "location_basis": "tile", "quadkey": frame["quadkey"].to_numpy(dtype=object),
    })
    gdf = gpd.GeoDataFrame(out, geometry=np.asarray(geometry), crs=4326)
    return _finish(gdf, report, geom, box if geom is not None else None)


def read_speedtests(
    path: str | Path,
    *,
    area: Any = None,
    bbox: Sequence[float] | None = None,
    name: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a district's own speed tests: a CSV with coordinates or a tract GEOID per test.

    Headers are matched case-insensitively against :data:`DISTRICT_COLUMNS`: download and
    upload in Mbps (``download_mbps``/``upload_mbps``, ``down_mbps``, ...) or kbps
    (``download_kbps``), ``latency_ms``/``ping_ms``, ``timestamp``/``date``,
    ``latitude``/``longitude`` and/or ``GEOID`` (11-digit tract), ``device_id`` (counts
    distinct devices; kept as ``device_key``) and ``connection_type``. Tests over a cellular
    connection are left out (they measure the phone network, not the home's fixed service).
    Columns naming a person or a home (address, name, email, phone, household or student
    id, IP address) are never read into the frame.

    Parameters
    ----------
    path : str or Path
        The CSV file.
    area, bbox : optional
        As in :func:`read_ookla_tiles`; tests with only a GEOID are kept.
    name : str, optional
        The source name for the report (default: the file name).

    Returns
    -------
    geopandas.GeoDataFrame
        The speed-test frame, ``source="district"``, one row per test (``tests=1``,
        ``devices=1`` when a device id is given, else NA), points in EPSG:4326.

    Examples
    --------
    >>> from assetmap import get_report
    >>> from assetmap.datasets import data_path
    >>> t = read_speedtests(data_path("speedtests", "ector_speedtests_illustrative.csv"))
    >>> get_report(t)["illustrative"], t["source"].iat[0], t.crs.to_epsg()
    (True, 'district', 4326)
    """
    path = Path(path)
    raw = _read_csv(path)
    personal = [c for c in raw.columns if _PERSONAL.match(_key(c))]
    cols = _pick([c for c in raw.columns if c not in personal], DISTRICT_COLUMNS)
    if not ({"down_mbps", "down_kbps"} & cols.keys()):
        raise SchemaError(f"{path}: no download speed column; expected one of "
                          f"{DISTRICT_COLUMNS['down_mbps'] + DISTRICT_COLUMNS['down_kbps']}"
                          + semicolon_hint([str(c) for c in raw.columns]))
    if "lat" not in cols and "GEOID" not in cols:
        raise SchemaError(f"{path}: each test needs coordinates (latitude, longitude) or a "
                          "tract GEOID column")
    if ("lat" in cols) != ("lon" in cols):
        raise SchemaError(f"{path}: found only one of latitude/longitude")
    box, geom = _filter_shape(area, bbox)
    source = {"name": name or f"district speed tests ({path.name})",
              "license": "the district's own data (household points: keep private)"}
    report = start_report(path, kind="speedtests", rows_read=len(raw), sources=[source],
                          illustrative="illustrative" in path.name.lower())
    if personal:
        report["notes"].append(f"columns not read (they identify a person or a home): "
                               f"{personal}")
    frame = raw.drop(columns=personal).assign(_row=np.arange(1, len(raw) + 1))

    def speed(mbps: str, kbps: str) -> pd.Series:
        if mbps in cols:
            return _numbers(frame[cols[mbps]], report, cols[mbps])
        if kbps in cols:
            return _numbers(frame[cols[kbps]], report, cols[kbps]) / 1000.0
        return pd.Series(np.nan, index=frame.index)

    frame = frame.assign(down_mbps=speed("down_mbps", "down_kbps"),
                         up_mbps=speed("up_mbps", "up_kbps"))
    if "connection" in cols:
        cellular = frame[cols["connection"]].str.strip().str.lower().isin(
            {"cellular", "mobile", "lte", "4g", "5g", "3g"})
        frame = _reject(report, frame, cellular, "cellular connection (not fixed service)")
    speeds = frame[["down_mbps", "up_mbps"]]
    frame = _reject(report, frame, frame["down_mbps"].isna() | (speeds < 0).any(axis=1)
                    | (speeds > _MAX_MBPS).any(axis=1),
                    "download missing, or a speed negative or above 10 Gbps")
    frame = _points(frame, report, cols)
    stamp = pd.Series(pd.NaT, index=frame.index)
    if "timestamp" in cols:
        with warnings.catch_warnings():
            # pandas 2 drops an unknown time zone ("...0AZ") with this warning; pandas 3 gives NaT
            warnings.filterwarnings("ignore", "Parsed string .* timezone", FutureWarning)
            stamp = pd.to_datetime(frame[cols["timestamp"]], utc=True, errors="coerce",
                                   format="mixed")
    dates = stamp.dropna()
    if len(dates):
        report["vintages"]["district"] = f"{dates.min():%Y-%m-%d} to {dates.max():%Y-%m-%d}"
        report["sources"][0]["vintage"] = report["vintages"]["district"]
    device = frame[cols["device_key"]].astype(object) if "device_key" in cols else None
    out = gpd.GeoDataFrame({
        "source": "district", "period": stamp.dt.strftime("%Y-%m-%d").to_numpy(dtype=object),
        "timestamp": stamp.to_numpy(), "down_mbps": frame["down_mbps"].to_numpy(),
        "up_mbps": frame["up_mbps"].to_numpy(),
        "latency_ms": _numbers(frame[cols["latency_ms"]], report, cols["latency_ms"]).to_numpy()
        if "latency_ms" in cols else np.nan,
        "tests": 1,
        "devices": pd.array([1 if device is not None else pd.NA] * len(frame), dtype="Int64"),
        "device_key": device.to_numpy() if device is not None else None,
        "location_basis": np.where(frame["_lat"].notna(), "point", "tract"),
        "GEOID": frame["GEOID"].to_numpy(dtype=object),
    }, geometry=_geometry(frame), crs=4326)
    return _finish(out, report, geom, box)
