"""Schools from NCES and speed tests from Ookla, downloaded for a study, and their record.

``[sources] schools = "nces"`` (with ``school_year``, default the newest file) reads the
schools of the study's state from the NCES EDGE public-school geocodes
(:func:`assetmap.load_schools`), kept to ``[area] district`` when given, else to the study's
counties. ``[sources] ookla_year`` and ``ookla_quarter`` read Ookla's open-data fixed tiles of
that quarter over the study area's bounding box (:func:`assetmap.load_ookla_tiles`).

Both files go through the download cache (:func:`assetmap._http.fetch`): ``assetmap fetch``
downloads them once and later builds, online or offline, read the cached copies. Each load
returns a record (source, URL, school year or quarter, file name, cached path) that the
manifest keeps with the file's SHA-256. Offline with nothing cached, the error names the key
and says to run ``assetmap fetch``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd

from assetmap.errors import OfflineError
from assetmap.pipeline.config import StudyConfig

__all__ = ["download_urls", "downloaded_paths", "nces_schools", "ookla_tiles"]

_NCES_SOURCE = "NCES EDGE public school geocodes"
_OOKLA_SOURCE = "Ookla open data, fixed tiles"


def _school_year(config: StudyConfig) -> str:
    from assetmap.loaders._edge_files import DEFAULT_SCHOOL_YEAR

    return str(config.sources.get("school_year") or DEFAULT_SCHOOL_YEAR)


def download_urls(config: StudyConfig) -> dict[str, str]:
    """Return the URL of each download a study's ``[sources]`` asks for, by key.

    Examples
    --------
    >>> from assetmap.pipeline.config import parse_study
    >>> config = parse_study({"area": {"state": "TX"},
    ...                       "sources": {"schools": "nces", "school_year": "2023-24"}})
    >>> download_urls(config)["schools"].rsplit("/", 1)[1]
    'EDGE_GEOCODE_PUBLICSCH_2324.zip'
    """
    from assetmap.loaders._edge_files import edge_url
    from assetmap.loaders._ookla_download import ookla_tiles_url

    urls = {}
    if config.nces_schools:
        urls["schools"] = edge_url("SCH", _school_year(config))
    if config.ookla_quarter is not None:
        year, quarter = config.ookla_quarter
        urls["ookla_tiles"] = ookla_tiles_url(year=year, quarter=quarter)
    return urls


@contextmanager
def _fetch_hint(config: StudyConfig, key: str, what: str, url: str) -> Iterator[None]:
    """Say which key asked for a download that offline mode could not serve, and the fix."""
    try:
        yield
    except OfflineError as exc:
        study = f" {config.path}" if config.path is not None else ""
        raise OfflineError(
            f"[sources] {key}: {what} is not in the download cache ({url}); run "
            f"'assetmap fetch{study}' once while online, then build (offline too)"
        ) from exc


def _record(url: str, source: str, **details: Any) -> dict[str, Any]:
    from assetmap._http import cached_path

    path = cached_path(url)
    return {"source": source, "url": url, **details, "file_name": url.rsplit("/", 1)[-1],
            "path": None if path is None else str(path)}


def nces_schools(config: StudyConfig, *, tracts: gpd.GeoDataFrame,
                 counties: list[str]) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """Load the study's schools from the NCES EDGE geocodes; return them and their record.

    Parameters
    ----------
    config : StudyConfig
        A study with ``[sources] schools = "nces"``.
    tracts : GeoDataFrame
        The study's tracts: schools outside them are left out (and swapped latitude/longitude
        repaired), except for several counties without a district, kept by county alone.
    counties : list of str
        The study's counties (5-digit FIPS); used when ``[area] district`` is empty.

    Returns
    -------
    (GeoDataFrame, dict)
        The schools (:func:`assetmap.load_schools`) and the record of the file read.

    Raises
    ------
    OfflineError
        Offline and the file is not cached: run ``assetmap fetch`` first.

    Examples
    --------
    Through a study (``Study.load`` calls this)::

        import assetmap as am
        am.Study.from_toml("study.toml").load().schools
    """
    from assetmap._report import attach_report, count_reject, get_report
    from assetmap.loaders.nces_edge import load_schools

    year = _school_year(config)
    url = download_urls(config)["schools"]
    kwargs: dict[str, Any] = {"state": config.area["state"], "school_year": year}
    district = config.area.get("district") or None
    if district:
        kwargs.update(district=district, area=tracts)
    elif len(counties) == 1:
        kwargs.update(county=counties[0], area=tracts)
    with _fetch_hint(config, 'schools = "nces"', f"{_NCES_SOURCE} {year}", url):
        schools = load_schools(**kwargs)
    if not district and len(counties) > 1:
        keep = schools["county_fips"].isin(counties).to_numpy()
        report = get_report(schools)
        count_reject(report, "filtered: not in the study's counties", int((~keep).sum()),
                     warn=False)
        schools = attach_report(schools.loc[keep].reset_index(drop=True), report)
    return schools, _record(url, _NCES_SOURCE, school_year=year)


def ookla_tiles(config: StudyConfig, *,
                tracts: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """Load Ookla's fixed tiles of the study's quarter over its area; return them and a record.

    The tiles read are those meeting the tracts (the scan is limited to their bounding box,
    recorded as ``bbox``: west, south, east, north in degrees).

    Examples
    --------
    Through a study with ``[sources] ookla_year = 2025`` and ``ookla_quarter = 2``::

        import assetmap as am
        am.Study.from_toml("study.toml").load().speed_tiles
    """
    from assetmap.loaders._ookla_download import load_ookla_tiles

    assert config.ookla_quarter is not None
    year, quarter = config.ookla_quarter
    url = download_urls(config)["ookla_tiles"]
    period = f"{year}-Q{quarter}"
    keys = "ookla_year, ookla_quarter"
    with _fetch_hint(config, keys, f"{_OOKLA_SOURCE} {period}", url):
        tiles = load_ookla_tiles(year=year, quarter=quarter, area=tracts)
    bbox = [round(float(v), 6) for v in tracts.to_crs(4326).total_bounds]
    return tiles, _record(url, _OOKLA_SOURCE, year=year, quarter=quarter, period=period,
                          bbox=bbox)


def downloaded_paths(records: object) -> list[Path]:
    """Return the cached files of a load's download records (for hashing and ``fetch``).

    Examples
    --------
    >>> [p.name for p in downloaded_paths({"schools": {"path": "/cache/http/ab.zip"}})]
    ['ab.zip']
    """
    found = records.values() if isinstance(records, dict) else ()
    return [Path(r["path"]) for r in found if isinstance(r, dict) and r.get("path")]
