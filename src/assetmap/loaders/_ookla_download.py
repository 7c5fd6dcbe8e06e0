"""Ookla open-data fixed tiles by download: one quarter, cut to a bounding box or an area.

Ookla publishes one **global** file per layer and quarter (no per-country files), at
``{ookla_open_data_url}/parquet/performance/type=fixed/year=YYYY/quarter=Q/``
``YYYY-MM-01_performance_fixed_tiles.parquet`` (MM the quarter's first month), with the same
key under ``/shapefiles/...`` as a zipped shapefile; see
https://github.com/teamookla/ookla-open-data. The file is downloaded once through
:func:`assetmap._http.fetch` (cached, atomic, bounded retries, offline mode) and then read
with a pyarrow dataset scan that keeps only rows whose quadkey starts with one of the
prefixes covering the box, so the whole file is never loaded into pandas.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from assetmap.errors import DownloadError, SchemaError
from assetmap.loaders._quadkey import MAX_LATITUDE, lonlat_to_tile, tiles_to_quadkeys
from assetmap.loaders._speedtest_common import _filter_shape
from assetmap.loaders.speedtests import _OOKLA_REQUIRED, OOKLA_URL, _ookla_frame
from assetmap.settings import settings

__all__ = ["load_ookla_tiles", "ookla_tiles_url"]

_FIRST_YEAR = 2019  # Ookla's open data start with 2019 Q1
_ZOOM = 16
_MAX_PREFIXES = 256  # quadkey prefixes in the scan filter (a coarser zoom for larger boxes)
_OPTIONAL = ["avg_lat_down_ms", "avg_lat_up_ms"]


def ookla_tiles_url(*, year: int, quarter: int, kind: str = "fixed") -> str:
    """Return the URL of Ookla's Parquet tile file for a quarter (checked, not fetched).

    Examples
    --------
    >>> ookla_tiles_url(year=2024, quarter=1).split("/parquet/")[1]
    'performance/type=fixed/year=2024/quarter=1/2024-01-01_performance_fixed_tiles.parquet'
    """
    _check_quarter(year, quarter)
    if kind != "fixed":
        raise ValueError(
            f"kind must be 'fixed', got {kind!r}: Ookla's 'mobile' layer measures cellular "
            "networks, not the home's fixed service this frame is evidence of"
        )
    month = 3 * quarter - 2
    return (f"{settings.ookla_open_data_url}/parquet/performance/type={kind}/year={year}/"
            f"quarter={quarter}/{year}-{month:02d}-01_performance_{kind}_tiles.parquet")


def _check_quarter(year: Any, quarter: Any) -> None:
    if isinstance(year, bool) or not isinstance(year, int | np.integer):
        raise ValueError(f"year must be a whole number such as 2024, got {year!r}")
    if isinstance(quarter, bool) or not isinstance(quarter, int | np.integer) \
            or not 1 <= quarter <= 4:
        raise ValueError(f"quarter must be 1, 2, 3 or 4, got {quarter!r}")
    if year < _FIRST_YEAR:
        raise ValueError(f"Ookla's open data start with {_FIRST_YEAR} Q1; got {year} Q{quarter}")
    end = dt.date(year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1)
    if end > dt.datetime.now(dt.UTC).date():
        raise ValueError(
            f"{year} Q{quarter} has not ended yet (it ends {end - dt.timedelta(days=1)}); Ookla "
            "publishes a quarter's tiles some weeks after it ends"
        )


def _check_bbox(bbox: Any, what: str = "bbox") -> tuple[float, float, float, float]:
    """Return ``bbox`` as floats, refusing swapped lat/lon, metres and reversed edges."""
    try:
        values = tuple(float(v) for v in bbox)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must be four numbers (minx, miny, maxx, maxy), got "
                         f"{bbox!r}") from exc
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise ValueError(f"{what} must be four finite numbers (minx, miny, maxx, maxy) = "
                         f"(west, south, east, north) in degrees, got {bbox!r}")
    minx, miny, maxx, maxy = values
    if any(abs(v) > 360 for v in values):
        raise ValueError(
            f"{what} {values} looks like projected coordinates (metres), not degrees: give "
            "(west, south, east, north) in longitude/latitude (EPSG:4326), e.g. "
            "gdf.to_crs(4326).total_bounds"
        )
    if any(abs(v) > 90 for v in (miny, maxy)) and all(abs(v) <= 90 for v in (minx, maxx)):
        raise ValueError(
            f"{what} {values}: latitudes {miny}, {maxy} are outside -90..90 while the "
            "longitudes would fit there; the order looks swapped. Give (minx, miny, maxx, "
            "maxy) = (west, south, east, north), longitude first"
        )
    if any(abs(v) > 180 for v in (minx, maxx)) or any(abs(v) > 90 for v in (miny, maxy)):
        raise ValueError(f"{what} {values} is outside -180..180 longitude, -90..90 latitude; "
                         "give (west, south, east, north) in degrees (EPSG:4326)")
    if minx > maxx or miny > maxy:
        raise ValueError(
            f"{what} {values} must be (minx, miny, maxx, maxy) with minx <= maxx and "
            "miny <= maxy (a box across the antimeridian is not supported: split it)"
        )
    return values


def _prefixes(box: Sequence[float]) -> list[str]:
    """Quadkey prefixes (one zoom, at most ``_MAX_PREFIXES``) whose tiles cover ``box``."""
    west, south, east, north = box
    lat = np.clip([north, south], -MAX_LATITUDE, MAX_LATITUDE)
    xs, ys = lonlat_to_tile([west, east], lat, _ZOOM)
    zoom = _ZOOM
    while zoom > 1:
        shift = _ZOOM - zoom
        count = ((xs[1] >> shift) - (xs[0] >> shift) + 1) * (
            (ys[1] >> shift) - (ys[0] >> shift) + 1)
        if count <= _MAX_PREFIXES:
            break
        zoom -= 1
    shift = _ZOOM - zoom
    gx, gy = np.meshgrid(np.arange(xs[0] >> shift, (xs[1] >> shift) + 1),
                         np.arange(ys[0] >> shift, (ys[1] >> shift) + 1))
    return sorted(tiles_to_quadkeys(gx.ravel(), gy.ravel(), zoom).tolist())


def _scan(path: Path, url: str, box: Sequence[float] | None) -> tuple[pd.DataFrame, int]:
    """Read the tiles whose quadkey prefix covers ``box``; return them and the file's rows."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    where = f"{path} (Ookla tiles downloaded from {url})"
    try:
        dataset = ds.dataset(path, format="parquet")
        names = dataset.schema.names
        missing = [c for c in _OOKLA_REQUIRED if c not in names]
        if missing:
            raise SchemaError(
                f"{where}: missing Ookla tile columns {missing} (found {names}); expected "
                f"{_OOKLA_REQUIRED} as published at {OOKLA_URL}"
            )
        total = dataset.count_rows()
        columns = _OOKLA_REQUIRED + [c for c in _OPTIONAL if c in names]
        flt = None
        if box is not None:
            keys = _prefixes(box)
            field = ds.field("quadkey")
            # the range lets row groups be skipped by their statistics; the prefix test is exact
            flt = (field >= keys[0]) & (field < keys[-1] + "4") & pc.utf8_slice_codeunits(
                field, 0, len(keys[0])).isin(keys)
        table = dataset.to_table(columns=columns, filter=flt)
    except (pa.ArrowException, OSError) as exc:
        raise SchemaError(
            f"{where}: not a readable Parquet file of Ookla tiles ({exc}); remove it with "
            "assetmap.clear_cache() and download it again"
        ) from exc
    return table.to_pandas(), total


def load_ookla_tiles(
    *,
    year: int,
    quarter: int,
    bbox: Sequence[float] | None = None,
    area: Any = None,
    kind: str = "fixed",
) -> gpd.GeoDataFrame:
    """Download Ookla's open-data fixed tiles for a quarter and keep those in a box or area.

    The quarter's global Parquet file is downloaded once (through the cache, so a second
    call, or offline mode, reads the cached copy) from the ``ookla_open_data_url`` setting
    (``ASSETMAP_OOKLA_OPEN_DATA_URL``; default ``https://ookla-open-data.s3.amazonaws.com``).
    Only the tiles whose zoom-16 quadkey falls in the box are then read, with a pyarrow
    dataset scan filtered on quadkey prefixes; geometry is built from the quadkey (the same
    polygon as Ookla's ``tile`` WKT, which is not read).

    Memory and disk: Ookla publishes no per-country (national) files, so the whole global
    quarter is downloaded (several hundred MB, millions of tiles) and kept in the cache.
    Reading it costs far less: pyarrow decodes row groups of the ``quadkey`` and metric
    columns (never the WKT ``tile``) and keeps only the matching rows. Measured on a
    synthetic 3-million-tile file in Ookla's schema (281 MB, row groups of 1M rows): a
    county box peaks at 290 MB of process memory (130 MB of it the imports) in about a
    second, a whole-Texas box the same; ``pd.read_parquet`` of that file takes 1.5 GB.

    Parameters
    ----------
    year : int
        From 2019 (Ookla's first quarter is 2019 Q1); the quarter must have ended.
    quarter : int
        1-4 (Q1 is January-March).
    bbox : (minx, miny, maxx, maxy), optional
        West, south, east, north in degrees (EPSG:4326). Swapped latitude/longitude or
        projected metres are refused.
    area : GeoDataFrame, GeoSeries or shapely geometry, optional
        Keep tiles intersecting it (reprojected to EPSG:4326); its bounds (intersected with
        ``bbox`` when both are given) drive the scan. One of ``bbox`` and ``area`` is
        required.
    kind : {"fixed"}
        Ookla's layer; only the fixed layer is evidence of home service.

    Returns
    -------
    geopandas.GeoDataFrame
        The speed-test frame of :func:`~assetmap.read_ookla_tiles` (``source="ookla"``,
        ``period`` like ``"2024-Q1"``); the report's source entry carries the file's URL,
        ``license="CC BY-NC-SA 4.0"`` and Ookla's attribution text.

    Raises
    ------
    ValueError
        A bad year, quarter, kind or bbox (the message says which and how to fix it).
    OfflineError
        Offline mode is on and the quarter is not in the cache.
    DownloadError
        The file could not be downloaded (not published yet, or a truncated body).
    SchemaError
        The cached file is not a readable Parquet file of Ookla tiles.

    Examples
    --------
    >>> import assetmap as am
    >>> tiles = am.load_ookla_tiles(  # doctest: +SKIP
    ...     year=2024, quarter=1, bbox=(-102.8, 31.65, -102.2, 32.1))  # Ector County, TX
    >>> am.get_report(tiles)["sources"][0]["license"]  # doctest: +SKIP
    'CC BY-NC-SA 4.0'
    >>> try:  # latitude first: refused before any download
    ...     am.load_ookla_tiles(year=2024, quarter=1, bbox=(31.65, -102.8, 32.1, -102.2))
    ... except ValueError as exc:
    ...     print(str(exc).split(";")[1].split(".")[0].strip())
    the order looks swapped
    """
    url = ookla_tiles_url(year=year, quarter=quarter, kind=kind)
    if bbox is None and area is None:
        raise ValueError(
            "give bbox=(west, south, east, north) or area=: Ookla's file holds every tile "
            "in the world for the quarter"
        )
    box, geom = _filter_shape(area, None if bbox is None else _check_bbox(bbox))
    assert box is not None
    if box[0] > box[2] or box[1] > box[3]:
        raise ValueError(f"bbox {tuple(bbox or ())} and the area's bounds do not overlap")
    if area is not None:
        box = _check_bbox(box, "the area's bounds (in EPSG:4326)")
    from assetmap._http import HTTPStatusError, fetch

    period = f"{year}-Q{quarter}"
    try:
        path = fetch(url, expect="parquet",
                     description=f"Ookla open data, fixed tiles {period}")
    except HTTPStatusError as exc:
        raise DownloadError(
            f"{exc}. Ookla may not have published {period} yet (or the "
            "ookla_open_data_url setting points elsewhere); see the quarters listed at "
            f"{OOKLA_URL}"
        ) from exc
    raw, total = _scan(path, url, box)
    start = pd.Timestamp(year, 3 * quarter - 2, 1, tz="UTC")
    note = (f"{len(raw)} of the {total} tiles in Ookla's global {period} file matched the "
            "requested area's quadkey prefixes and were read")
    return _ookla_frame(raw, where=f"{path} ({url})", source=url, period=period, start=start,
                        box=box, geom=geom, url=url, notes=[note])
