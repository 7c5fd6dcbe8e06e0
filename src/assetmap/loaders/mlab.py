"""M-Lab NDT speed tests: BigQuery row exports and the stats pipeline's tract aggregates.

M-Lab data are "available to the public without restriction under a No Rights Reserved
Creative Commons Zero Waiver" (CC0), https://www.measurementlab.net/data/; cite as "The M-Lab
NDT Data Set, <date range>". Client locations are IP geolocation (about city level).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from assetmap._report import start_report
from assetmap.errors import SchemaError
from assetmap.geoid import normalize_geoids
from assetmap.loaders._speedtest_common import (
    _MAX_MBPS,
    _filter_shape,
    _finish,
    _geometry,
    _numbers,
    _pick,
    _points,
    _read_csv,
    _reject,
)

__all__ = ["MLAB_COLUMNS", "MLAB_LICENSE", "MLAB_URL", "read_mlab"]

MLAB_LICENSE = "CC0 1.0 (No Rights Reserved)"
MLAB_URL = "https://www.measurementlab.net/data/"
# canonical name -> accepted headers, compared after lower-casing and turning ". -" into "_"
MLAB_COLUMNS: dict[str, list[str]] = {
    "mbps": ["a_meanthroughputmbps", "meanthroughputmbps", "mean_throughput_mbps", "mbps"],
    "down_mbps": ["download_mbps", "download_throughput_mbps", "down_mbps"],
    "up_mbps": ["upload_mbps", "upload_throughput_mbps", "up_mbps"],
    "latency_ms": ["a_minrtt", "minrtt", "min_rtt_ms", "min_rtt"],
    "timestamp": ["a_testtime", "testtime", "test_time", "timestamp", "date"],
    "lat": ["client_geo_latitude", "geo_latitude", "latitude", "lat"],
    "lon": ["client_geo_longitude", "geo_longitude", "longitude", "lon"],
    "accuracy_km": ["client_geo_accuracyradiuskm", "accuracyradiuskm", "accuracy_radius_km"],
    # M-Lab stats-pipeline aggregates (statistics/queries/us_census_tracts_histogram.sql)
    "agg_down": ["download_avg"],
    "agg_up": ["upload_avg"],
    "agg_latency": ["download_minrtt_med"],
    "agg_tests": ["dl_total_samples"],
    "agg_devices": ["dl_stats_samples"],
    "GEOID": ["geoid"],
    "asn": ["asn"],
}


def read_mlab(
    path: str | Path,
    *,
    direction: str | None = None,
    area: Any = None,
    bbox: Sequence[float] | None = None,
    max_accuracy_km: float | None = None,
) -> gpd.GeoDataFrame:
    r"""Read M-Lab NDT test rows or M-Lab's per-tract aggregates exported as CSV.

    Two shapes are recognised from the header (``.``, space and ``-`` count as ``_``, case
    ignored; the accepted names are in :data:`MLAB_COLUMNS`):

    * **rows** from BigQuery ``measurement-lab.ndt.unified_downloads`` / ``unified_uploads``:
      ``a.MeanThroughputMbps`` (or ``MeanThroughputMbps``), ``a.MinRTT`` (ms),
      ``a.TestTime`` or ``date``, ``client.Geo.Latitude``/``Longitude`` (or bare
      ``Latitude``/``Longitude``), optional ``client.Geo.AccuracyRadiusKm``. A row is one
      test in one direction, given by ``direction`` or by "download"/"upload" in the file
      name; exports with ``download_mbps``/``upload_mbps`` columns need neither.
      M-Lab places clients by IP geolocation (city-level precision), so
      ``location_basis="ip_geolocation"``; ``max_accuracy_km`` drops coarser rows.
    * **aggregates** from M-Lab's stats pipeline (``us_census_tracts_histogram.sql``):
      ``date, GEOID, asn, download_AVG, upload_AVG, download_minRTT_MED,
      dl_total_samples, dl_stats_samples`` (histogram rows repeat these per bucket and are
      merged). ``down_mbps``/``up_mbps`` are the published averages, ``tests`` =
      ``dl_total_samples``, ``devices`` = ``dl_stats_samples`` (distinct client IPs a day),
      ``location_basis="area_aggregate"``, no geometry.

    Parameters
    ----------
    path : str or Path
        The CSV export.
    direction : {"download", "upload"}, optional
        For row exports with one throughput column.
    area, bbox : optional
        As in :func:`read_ookla_tiles` (aggregate rows, which have no geometry, are kept).
    max_accuracy_km : float, optional
        Reject rows whose geolocation accuracy radius is larger (counted).

    Returns
    -------
    geopandas.GeoDataFrame
        The speed-test frame, ``source="mlab"``; the report's source carries
        ``license="CC0 1.0 (No Rights Reserved)"``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "ndt_download.csv"
    >>> _ = p.write_text("id,date,a.MeanThroughputMbps,a.MinRTT,client.Geo.Latitude,"
    ...                  "client.Geo.Longitude\nx1,2024-03-01,42.5,18.0,31.85,-102.37\n")
    >>> t = read_mlab(p)
    >>> t[["down_mbps", "up_mbps", "tests"]].to_dict("records")
    [{'down_mbps': 42.5, 'up_mbps': nan, 'tests': 1}]
    """
    path = Path(path)
    raw = _read_csv(path)
    cols = _pick(list(raw.columns), MLAB_COLUMNS)
    box, geom = _filter_shape(area, bbox)
    source = {"name": "M-Lab NDT Data Set", "url": MLAB_URL, "license": MLAB_LICENSE}
    report = start_report(path, kind="speedtests", rows_read=len(raw), sources=[source],
                          illustrative="illustrative" in path.name.lower())
    frame = raw.assign(_row=np.arange(1, len(raw) + 1))
    if "agg_down" in cols:
        return _mlab_aggregates(frame, cols, report, path, geom, box)
    if "mbps" not in cols and "down_mbps" not in cols and "up_mbps" not in cols:
        raise SchemaError(
            f"{path}: no throughput column; expected one of "
            f"{MLAB_COLUMNS['mbps'] + MLAB_COLUMNS['down_mbps']} or the aggregate "
            "'download_AVG' (headers compared case-insensitively, '.' read as '_')"
        )
    down = pd.Series(np.nan, index=frame.index)
    up = pd.Series(np.nan, index=frame.index)
    if "mbps" in cols:
        name = path.name.lower()
        direction = direction or ("download" if "download" in name else
                                  "upload" if "upload" in name else None)
        if direction not in {"download", "upload"}:
            raise SchemaError(
                f"{path}: one throughput column ({cols['mbps']!r}) but no direction; pass "
                "direction='download' or 'upload' (M-Lab keeps them in separate tables)"
            )
        (down if direction == "download" else up)[:] = _numbers(frame[cols["mbps"]], report,
                                                                cols["mbps"])
    if "down_mbps" in cols:
        down = _numbers(frame[cols["down_mbps"]], report, cols["down_mbps"])
    if "up_mbps" in cols:
        up = _numbers(frame[cols["up_mbps"]], report, cols["up_mbps"])
    frame = frame.assign(down_mbps=down, up_mbps=up)
    frame = _reject(report, frame, frame[["down_mbps", "up_mbps"]].isna().all(axis=1)
                    | (frame[["down_mbps", "up_mbps"]] < 0).any(axis=1)
                    | (frame[["down_mbps", "up_mbps"]] > _MAX_MBPS).any(axis=1),
                    "throughput missing, negative or above 10 Gbps")
    if max_accuracy_km is not None and "accuracy_km" in cols:
        acc = pd.to_numeric(frame[cols["accuracy_km"]], errors="coerce")
        frame = _reject(report, frame, acc.isna() | (acc > max_accuracy_km),
                        f"geolocation accuracy radius missing or above {max_accuracy_km} km")
    frame = _points(frame, report, {k: v for k, v in cols.items() if k in {"lat", "lon"}})
    stamp = pd.to_datetime(frame[cols["timestamp"]], utc=True, errors="coerce", format="mixed") \
        if "timestamp" in cols else pd.Series(pd.NaT, index=frame.index)
    future = stamp > pd.Timestamp.now(tz="UTC") + pd.Timedelta(days=1)
    frame, stamp = (_reject(report, frame, future, "test date in the future"),
                    stamp.loc[~future])
    report["notes"].append("M-Lab client locations are IP geolocation (about city level): "
                           "treat tract and cell assignments as advisory.")
    dates = stamp.dropna()
    if len(dates):
        report["vintages"]["mlab"] = f"{dates.min():%Y-%m-%d} to {dates.max():%Y-%m-%d}"
        report["sources"][0]["vintage"] = report["vintages"]["mlab"]
    out = gpd.GeoDataFrame({
        "source": "mlab", "period": stamp.dt.strftime("%Y-%m-%d").to_numpy(dtype=object),
        "timestamp": stamp.to_numpy(), "down_mbps": frame["down_mbps"].to_numpy(),
        "up_mbps": frame["up_mbps"].to_numpy(),
        "latency_ms": pd.to_numeric(frame[cols["latency_ms"]], errors="coerce").to_numpy()
        if "latency_ms" in cols else np.nan,
        "tests": 1, "devices": pd.array([pd.NA] * len(frame), dtype="Int64"),
        "location_basis": "ip_geolocation", "GEOID": frame["GEOID"].to_numpy(dtype=object),
    }, geometry=_geometry(frame), crs=4326)
    return _finish(out, report, geom, box)


def _mlab_aggregates(frame: pd.DataFrame, cols: dict[str, str], report: dict, path: Path,
                     geom: Any, box: tuple | None) -> gpd.GeoDataFrame:
    if "GEOID" not in cols:
        raise SchemaError(f"{path}: M-Lab aggregate without a 'GEOID' column")
    keys = [cols[k] for k in ("timestamp", "GEOID", "asn") if k in cols]
    merged = frame.drop_duplicates(subset=keys)
    report["merged"] = len(frame) - len(merged)
    if report["merged"]:
        report["notes"].append(f"{report['merged']} histogram rows repeat their area's daily "
                               "statistics and were merged")
    frame = merged.assign(
        down_mbps=pd.to_numeric(merged[cols["agg_down"]], errors="coerce"),
        up_mbps=pd.to_numeric(merged[cols["agg_up"]], errors="coerce")
        if "agg_up" in cols else np.nan,
        tests=pd.to_numeric(merged[cols["agg_tests"]], errors="coerce")
        if "agg_tests" in cols else np.nan,
    )
    frame = _reject(report, frame, frame["down_mbps"].isna() | (frame["down_mbps"] < 0),
                    "download_AVG missing or negative")
    frame = _reject(report, frame, frame["tests"].isna() | (frame["tests"] < 1),
                    "dl_total_samples missing or below 1")
    frame = frame.assign(GEOID=normalize_geoids(frame[cols["GEOID"]], level="tract",
                                                source=str(path), column=cols["GEOID"]))
    stamp = pd.to_datetime(frame[cols["timestamp"]], utc=True, errors="coerce") \
        if "timestamp" in cols else pd.Series(pd.NaT, index=frame.index)
    report["notes"].append("M-Lab aggregates: down/up are the published daily averages of "
                           "per-client averages; devices = distinct client IPs a day.")
    devices = pd.to_numeric(frame[cols["agg_devices"]], errors="coerce").astype("Int64") \
        if "agg_devices" in cols else pd.array([pd.NA] * len(frame), dtype="Int64")
    out = gpd.GeoDataFrame({
        "source": "mlab", "period": stamp.dt.strftime("%Y-%m-%d").to_numpy(dtype=object),
        "timestamp": stamp.to_numpy(), "down_mbps": frame["down_mbps"].to_numpy(),
        "up_mbps": frame["up_mbps"].to_numpy(),
        "latency_ms": pd.to_numeric(frame[cols["agg_latency"]], errors="coerce").to_numpy()
        if "agg_latency" in cols else np.nan,
        "tests": frame["tests"].to_numpy(dtype="int64"), "devices": devices,
        "location_basis": "area_aggregate", "GEOID": frame["GEOID"].to_numpy(dtype=object),
    }, geometry=np.full(len(frame), None, dtype=object), crs=4326)
    return _finish(out, report, geom, box)


