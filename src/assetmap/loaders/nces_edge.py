"""Public schools and school districts from the NCES EDGE geocode files of a school year.

:func:`load_schools` downloads ``EDGE_GEOCODE_PUBLICSCH_{YY}{YY}.zip`` and
:func:`load_districts` ``EDGE_GEOCODE_PUBLICLEA_{YY}{YY}.zip`` from
``settings.nces_edge_url`` (``ASSETMAP_NCES_EDGE_URL``, default
``https://nces.ed.gov/programs/edge/data``) through :func:`assetmap._http.fetch`: cached,
written atomically, retried a bounded number of times, served from the cache in offline
mode. ``path=`` reads a zip downloaded by hand instead. What is known of the files' layout
(and how it was confirmed) is in :mod:`assetmap.loaders._edge_files`; the school rows are
read into the schema of :func:`assetmap.read_schools`.

District *boundaries* (polygons) are :func:`assetmap.load_school_districts` (TIGER/Line);
:func:`load_districts` gives the NCES directory of districts: id, name, county and the
point of the district's office.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from assetmap._report import attach_report, count_reject, start_report
from assetmap.errors import ConfigError
from assetmap.geoid import state_fips
from assetmap.loaders._edge_files import DEFAULT_SCHOOL_YEAR, edge_cells, edge_file
from assetmap.loaders._edge_files import school_year as _school_year
from assetmap.loaders._school_layouts import SOURCES, pad_codes
from assetmap.loaders.nces import schools_from_cells

__all__ = ["DISTRICT_COLUMNS", "load_districts", "load_schools"]

DISTRICT_COLUMNS = ["district_id", "name", "state_fips", "county_fips", "county_name", "city",
                    "geometry"]
_LEA_SOURCE = {"name": "NCES EDGE public school district (LEA) geocodes",
               "license": "public domain",
               "url": "https://nces.ed.gov/programs/edge/Geographic/SchoolLocations"}


def _leaid(district: Any) -> str:
    text = str(district).strip()
    if not (text.isdigit() and 6 <= len(text) <= 7):
        raise ConfigError(f"district {district!r} is not an NCES LEAID; give its 7 digits, "
                          "e.g. '4818000'")
    return text.zfill(7)


def _source(base: dict[str, str], label: str, shown: str, member: str,
            report: dict[str, Any]) -> None:
    report["sources"] = [{**base, "vintage": label,
                          "url": shown if "://" in shown else base["url"]}]
    report["notes"].append(f"read {member} of {shown}")


def load_schools(
    *,
    state: str | int,
    district: str | int | None = None,
    county: str | int | None = None,
    school_year: str | int = DEFAULT_SCHOOL_YEAR,
    source: str = "nces",
    base_url: str | None = None,
    path: str | Path | None = None,
    area: Any = None,
) -> gpd.GeoDataFrame:
    """Download the NCES EDGE public-school geocodes of a school year and keep one state.

    Parameters
    ----------
    state : str or int
        The state (name, USPS code or FIPS), matched on the file's ``STFIP``.
    district : str or int, optional
        Keep one district: its 7-digit NCES LEAID (``"4818000"``).
    county : str or int, optional
        Keep one county: name or FIPS code, in ``state``.
    school_year : str or int
        ``"2024-25"`` (the default, the newest file seen), ``"2022-2023"``, ``"2223"`` or the
        fall year ``2022``; files exist from 2015-16.
    source : {"nces"}
        Where from; only NCES EDGE for now.
    base_url : str, optional
        Replaces ``settings.nces_edge_url`` (a mirror, or a test server).
    path : str or path-like, optional
        A local ``EDGE_GEOCODE_PUBLICSCH_*.zip`` instead of downloading.
    area : GeoDataFrame, GeoSeries or shapely geometry, optional
        The study area, used to detect swapped latitude/longitude.

    Returns
    -------
    geopandas.GeoDataFrame
        The columns of :func:`assetmap.read_schools` (points, EPSG:4326). The report's
        ``rows_read`` counts the whole national file; rows of other states, districts or
        counties are counted as ``filtered: ...``; ``vintages["schools"]`` names the year.

    Raises
    ------
    ConfigError
        A school year, source or LEAID that is not one, a LEAID of another state, or a LEAID
        with no school in the file.
    DownloadError
        The download failed (``OfflineError`` in offline mode with nothing cached); a body
        that is not a whole zip is refused and not cached, the message naming the file.

    Examples
    --------
    >>> import assetmap as am
    >>> with am.settings.override(offline=True):
    ...     try:
    ...         am.load_schools(state="TX", school_year="2022-23")
    ...     except am.errors.OfflineError as exc:
    ...         print("EDGE_GEOCODE_PUBLICSCH_2223.zip" in str(exc))
    True
    """
    if source != "nces":
        raise ConfigError(f"source must be 'nces', got {source!r}")
    label, _ = _school_year(school_year)
    st = state_fips(state)
    leaid = None if district is None else _leaid(district)
    if leaid is not None and leaid[:2] != st:
        raise ConfigError(f"LEAID {leaid} is a district of state {leaid[:2]}, not of state {st}")
    zip_path, shown = edge_file("SCH", label, base_url=base_url, path=path)
    cells, total, member = edge_cells(zip_path, "SCH", shown=shown, state=st)
    cells = cells.drop(columns=[c for c in ("schoolyear",) if c in cells.columns])
    report = start_report(shown, kind="schools", rows_read=total,
                          vintages={"schools": f"{SOURCES['edge']['name']} {label}"})
    _source(SOURCES["edge"], label, shown, member, report)
    count_reject(report, f"filtered: not in state {st}", total - len(cells), warn=False)
    schools = schools_from_cells(cells, None, "edge", report, district=leaid, county=county,
                                 state=st, area=area)
    if leaid is not None and schools.empty:
        raise ConfigError(f"LEAID {leaid} has no school in NCES EDGE {label} public school "
                          f"geocodes ({shown}); check the id (https://nces.ed.gov/ccd/"
                          "districtsearch/) or the school year")
    return schools


def load_districts(
    *,
    state: str | int | None = None,
    district: str | int | None = None,
    school_year: str | int = DEFAULT_SCHOOL_YEAR,
    base_url: str | None = None,
    path: str | Path | None = None,
) -> gpd.GeoDataFrame:
    """Download the NCES EDGE directory of public school districts (LEAs) of a school year.

    Parameters
    ----------
    state : str or int, optional
        Keep one state (name, USPS code or FIPS), matched on the file's ``STFIP``; all
        states when None.
    district : str or int, optional
        Keep one district: its 7-digit NCES LEAID. The result is empty if NCES has no such
        district that year.
    school_year : str or int
        As for :func:`load_schools` (default ``"2024-25"``).
    base_url : str, optional
        Replaces ``settings.nces_edge_url``.
    path : str or path-like, optional
        A local ``EDGE_GEOCODE_PUBLICLEA_*.zip`` instead of downloading.

    Returns
    -------
    geopandas.GeoDataFrame
        ``district_id`` (7-digit LEAID), ``name``, ``state_fips``, ``county_fips`` (5 digits),
        ``county_name``, ``city`` and the office's point (EPSG:4326; empty where the file has
        no coordinates). For district boundaries use :func:`assetmap.load_school_districts`.

    Examples
    --------
    >>> import assetmap as am
    >>> with am.settings.override(offline=True):
    ...     try:
    ...         am.load_districts(district="4818000", school_year=2022)
    ...     except am.errors.OfflineError as exc:
    ...         print("EDGE_GEOCODE_PUBLICLEA_2223.zip" in str(exc))
    True
    """
    label, _ = _school_year(school_year)
    st = None if state is None else state_fips(state)
    leaid = None if district is None else _leaid(district)
    zip_path, shown = edge_file("LEA", label, base_url=base_url, path=path)
    cells, total, member = edge_cells(zip_path, "LEA", shown=shown, state=st)
    report = start_report(shown, kind="districts", rows_read=total,
                          vintages={"districts": f"{_LEA_SOURCE['name']} {label}"})
    _source(_LEA_SOURCE, label, shown, member, report)
    if st is not None:
        count_reject(report, f"filtered: not in state {st}", total - len(cells), warn=False)

    def take(key: str) -> pd.Series:
        if key in cells.columns:
            return cells[key].astype("string")
        return pd.Series(pd.NA, index=cells.index, dtype="string")

    out = pd.DataFrame({
        "district_id": pad_codes(take("leaid"), 7),
        "name": take("name"),
        "state_fips": pad_codes(take("stfip"), 2),
        "county_fips": pad_codes(take("cnty"), 5),
        "county_name": take("nmcnty"),
        "city": take("lcity") if "lcity" in cells.columns else take("city"),
    }, index=cells.index)
    if leaid is not None:
        keep = (out["district_id"] == leaid).fillna(False).to_numpy()
        count_reject(report, f"filtered: not district {leaid}", int((~keep).sum()), warn=False)
        out, cells = out.loc[keep], cells.loc[keep]
    lat = pd.to_numeric(take("lat"), errors="coerce").to_numpy(dtype=float)  # cells as kept
    lon = pd.to_numeric(take("lon"), errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    if (~ok).any():
        report["notes"].append(f"{int((~ok).sum())} district(s) without a valid office "
                               "point: geometry empty")
    points = gpd.points_from_xy(np.where(ok, lon, np.nan), np.where(ok, lat, np.nan))
    geometry = gpd.GeoSeries([p if good else None for p, good in zip(points, ok, strict=True)],
                             crs="EPSG:4326")
    result = gpd.GeoDataFrame(out.reset_index(drop=True), geometry=geometry.values,
                              crs="EPSG:4326")
    for column in DISTRICT_COLUMNS[:-1]:
        result[column] = result[column].astype(object).where(result[column].notna(), None)
    return attach_report(result, report)
