"""Schools: NCES EDGE geocodes, the CCD directory and TEA campuses, read into one schema.

Three school layouts are recognised from their headers:

``edge``
    NCES EDGE public-school geocodes (pipe-delimited TXT, CSV or shapefile):
    ``NCESSCH|LEAID|NAME|OPSTFIPS|STREET|CITY|STATE|ZIP|STFIP|CNTY|NMCNTY|LOCALE|LAT|LON|...``.
    No grades, enrollment or school type: those columns are NA and named in the report notes.
``ccd``
    The older CCD school directory (e.g. 2013-14): ``NCESSCH, LEAID, LEANM, SCHNAM, LSTREE,
    LCITY, LSTATE, LZIP, TYPE, ULOCAL, LATCOD, LONCOD, CONUM, GSLO, GSHI, ...``
    (``MEMBER`` gives enrollment where present).
``tea``
    Texas Education Agency campuses as shipped in ``data/ector/schools``: ``County,
    Grade_range, School_enroll_2023, School_Type, District_ISD, District_enroll_2023,
    School_name, lon, lat``. The file has **no campus id**, so ``school_id`` is made stable
    from the district and campus names: ``"tea-" + sha1("DISTRICT|CAMPUS")[:10]`` (upper case,
    single spaces). It stays the same across reads and row orders, and changes only if TEA
    renames the campus or district. ``district_id`` (LEAID) comes from a district table
    matched on the district name (and on the county, for the eleven Texas names that two
    districts share): the caller's (``districts=``: ``LEAID, NAME``, e.g. the NCES CCD
    district directory) or, without one, the shipped table of all 1,265 Texas districts
    (NCES CCD 2013-14, ``loaders/data/tx_districts.csv``). Districts in neither (opened or
    renamed since) keep NA, named in the notes.

Layout detection and the district tables live in :mod:`assetmap.loaders._school_layouts`;
downloading the EDGE file of a school year is :func:`assetmap.loaders.nces_edge.load_schools`.
Attendance zones are read by :func:`assetmap.loaders.zones.read_attendance_zones` (importable
from here too). District boundaries come from
:func:`assetmap.loaders.census.load_school_districts`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from assetmap._report import attach_report, count_reject, start_report
from assetmap.errors import GeoidError, SchemaError, where
from assetmap.geoid import county_fips as _county_fips
from assetmap.geoid import state_fips as _state_fips
from assetmap.loaders._points import area_geometry, inside, parse_coordinates, repair_swapped
from assetmap.loaders._school_layouts import (
    CCD_TYPES,
    LAYOUTS,
    SOURCES,
    TX_DISTRICTS_SOURCE,
    Layout,
    district_table,
    match_district_ids,
    norm_name,
    pad_codes,
    read_school_rows,
    tea_ids,
    texas_district_table,
)
from assetmap.loaders.zones import ZONE_COLUMNS, read_attendance_zones

__all__ = ["SCHOOL_COLUMNS", "ZONE_COLUMNS", "read_attendance_zones", "read_schools"]

SCHOOL_COLUMNS = [
    "school_id", "name", "district_id", "district_name", "grades", "enrollment",
    "locale", "school_type", "county_fips", "state_fips", "geometry",
]


def read_schools(
    path: str | Path,
    *,
    district: str | int | None = None,
    county: str | int | None = None,
    state: str | int | None = None,
    layout: Layout | None = None,
    districts: str | Path | pd.DataFrame | None = None,
    area: Any = None,
) -> gpd.GeoDataFrame:
    """Read public-school points (NCES EDGE, CCD directory or TEA campuses) into one schema.

    Parameters
    ----------
    path : str or Path
        The file: pipe-delimited TXT, CSV, XLSX, GeoJSON or shapefile.
    district : str or int, optional
        Keep one district: its LEAID (``"4818000"``) or its name (``"ECTOR COUNTY ISD"``).
    county : str or int, optional
        Keep one county: five-digit FIPS, or a county name when ``state`` is given.
    state : str or int, optional
        Keep one state (name, USPS code or FIPS).
    layout : {"edge", "ccd", "tea"}, optional
        Force a layout instead of detecting it from the headers.
    districts : path or DataFrame, optional
        A district table (``LEAID, NAME``, e.g. the NCES CCD district directory) to map
        district names to LEAIDs and back. None (default): for a TEA file, the shipped table
        of every Texas district (NCES CCD 2013-14); for EDGE and CCD files, none.
    area : GeoDataFrame, GeoSeries or shapely geometry, optional
        The study area, used to detect swapped latitude/longitude.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``school_id, name, district_id, district_name, grades, enrollment, locale,
        school_type, county_fips, state_fips, geometry`` (points, EPSG:4326). Filtered-out
        rows are counted in the report as ``filtered: ...`` (no warning); rows without
        coordinates are rejected with a warning.

    Examples
    --------
    >>> from assetmap.datasets import data_path
    >>> s = read_schools(data_path("schools", "tea_schools_2023_24_ector_midland_andrews.csv"),
    ...                  district="4818000",
    ...                  districts=data_path("schools",
    ...                                      "nces_ccd_2013_14_districts_ector_neighbors.csv"))
    >>> len(s), s["district_name"].iloc[0], s["district_id"].iloc[0]
    (43, 'ECTOR COUNTY ISD', '4818000')
    """
    path = Path(path)
    cells, geometry, found = read_school_rows(path, layout)
    report = start_report(path, kind="schools", rows_read=len(cells),
                          sources=[dict(SOURCES[found])])
    return schools_from_cells(cells, geometry, found, report, district=district, county=county,
                              state=state, districts=districts, area=area)


def _enrollment_year(columns: Any) -> str | None:
    """Return the school year of a TEA campus file from its ``School_enroll_YYYY`` column.

    TEA names the enrollment snapshot by the fall it was taken: 2023 is school year 2023-24.

    Examples
    --------
    >>> _enrollment_year(["campus_id", "school_enroll_2023"])
    '2023-24'
    """
    for column in columns:
        found = re.fullmatch(r"(?:school|campus)_enroll_((?:19|20)\d\d)", str(column).lower())
        if found:
            year = int(found.group(1))
            return f"{year}-{(year + 1) % 100:02d}"
    return None


def schools_from_cells(
    cells: pd.DataFrame,
    geometry: Any,
    found: Layout,
    report: dict[str, Any],
    *,
    district: str | int | None = None,
    county: str | int | None = None,
    state: str | int | None = None,
    districts: str | Path | pd.DataFrame | None = None,
    area: Any = None,
) -> gpd.GeoDataFrame:
    """Make the schools frame of :func:`read_schools` from cells already read (file or EDGE).

    ``cells`` has lower-case header keys and the 1-based row number as index; ``report``
    names the source (``report["source"]`` is used in messages).
    """
    source = str(report["source"])
    _, columns = LAYOUTS[found]
    report["layout"] = found
    for year_col in ("survyear", "schoolyear"):
        if year_col in cells.columns and cells[year_col].notna().any():
            year = str(cells[year_col].dropna().iloc[0]).strip()
            if year.isdigit():
                year = f"{year}-{int(year[-2:]) + 1:02d}"
            report["vintages"]["schools"] = f"{SOURCES[found]['name']} {year}"
            report["sources"][0]["vintage"] = year
    if "vintage" not in report["sources"][0]:
        enrolled = _enrollment_year(cells.columns)
        if enrolled:
            report["vintages"]["schools"] = f"{SOURCES[found]['name']} {enrolled}"
            report["sources"][0]["vintage"] = enrolled
    col = {k: v for k, v in columns.items() if v in cells.columns}

    def take(key: str) -> pd.Series:
        if key in col:
            return cells[col[key]].astype("string").str.strip()
        return pd.Series(pd.NA, index=cells.index, dtype="string")

    table = district_table(districts)
    out = pd.DataFrame(index=cells.index)
    out["name"] = take("name")
    if found == "tea":
        out["district_name"] = norm_name(take("district_name"))
        out["state_fips"] = "48"
        counties = take("county").str.title()
        lookup = {}
        for name in counties.dropna().unique():
            try:
                lookup[name] = _county_fips("TX", name)
            except GeoidError as exc:
                row = int(counties.index[(counties == name).fillna(False)][0])
                raise GeoidError(f"{where(source, row=row, column=col['county'])}: {exc}") from exc
        out["county_fips"] = counties.map(lookup)
        if table is None:
            table = texas_district_table()
            report["sources"].append(dict(TX_DISTRICTS_SOURCE))
            report["notes"].append(
                "district_id: TEA files name districts but carry no LEAID; matched to the "
                "shipped table of every Texas district (NCES CCD 2013-14; pass districts= "
                "for a newer LEAID, NAME table)"
            )
        out["district_id"] = match_district_ids(
            out["district_name"], out["county_fips"], table).to_numpy()
        unmatched = sorted(
            out.loc[out["district_id"].isna(), "district_name"].dropna().unique())
        if unmatched:
            report["notes"].append(
                f"no LEAID in the district table for: {', '.join(unmatched)}")
        out["school_id"] = tea_ids(out["district_name"], out["name"])
        report["notes"].append(
            "school_id: no campus id in TEA files; made as 'tea-' + sha1('DISTRICT|CAMPUS')[:10]"
        )
    else:
        out["school_id"] = pad_codes(take("school_id"), 12)
        out["district_id"] = pad_codes(take("district_id"), 7)
        names = take("district_name")
        if names.isna().all() and table is not None:
            by_id = table.set_index("district_id")["key"]
            names = out["district_id"].map(by_id).astype("string")
        out["district_name"] = names
        out["state_fips"] = pad_codes(take("state_fips"), 2)
        out["county_fips"] = pad_codes(take("county_fips"), 5)
    grades = take("grades")
    if found == "ccd" and {"gslo", "gshi"} <= set(cells.columns):
        lo = cells["gslo"].astype("string").str.strip()
        hi = cells["gshi"].astype("string").str.strip()
        valid = lo.notna() & hi.notna() & (lo != "N") & (hi != "N")
        grades = (lo + "-" + hi).where(valid & (lo != hi), lo.where(valid))
    out["grades"] = grades
    enrollment = pd.to_numeric(take("enrollment"), errors="coerce")
    out["enrollment"] = enrollment.where(enrollment >= 0).round().astype("Int64")
    out["locale"] = take("locale").where(lambda s: s.str.fullmatch(r"\d{2}").fillna(False))
    school_type = take("school_type")
    if found == "ccd" and "type" in cells.columns:
        school_type = cells["type"].astype("string").str.strip().map(CCD_TYPES).astype("string")
    out["school_type"] = school_type
    for column in ("grades", "enrollment", "locale", "school_type"):
        if out[column].isna().all():
            report["notes"].append(f"{column}: not in the {found} layout (all NA)")

    keep = np.ones(len(out), dtype=bool)
    if state is not None:
        st = _state_fips(state)
        mask = (out["state_fips"] == st).fillna(False).to_numpy()
        count_reject(report, f"filtered: not in state {st}", int((keep & ~mask).sum()), warn=False)
        keep &= mask
    if county is not None:
        text = str(county).strip()
        cf = text if text.isdigit() and len(text) == 5 else _county_fips(state or "", county)
        mask = (out["county_fips"] == cf).fillna(False).to_numpy()
        count_reject(report, f"filtered: not in county {cf}", int((keep & ~mask).sum()), warn=False)
        keep &= mask
    if district is not None:
        text = str(district).strip()
        if text.isdigit():
            leaid = text.zfill(7)
            mask = (out["district_id"] == leaid).fillna(False).to_numpy()
            if found == "tea" and not mask.any():
                raise SchemaError(
                    f"{source}: no campus of district {leaid}; TEA files name districts, and "
                    f"{leaid} is not in the district table: pass district='DISTRICT NAME ISD'"
                )
        else:
            mask = (out["district_name"].str.upper() == text.upper()).fillna(False).to_numpy()
        count_reject(report, f"filtered: not in district {text}", int((keep & ~mask).sum()),
                     warn=False)
        keep &= mask
    out, cells = out.loc[keep], cells.loc[keep]
    if geometry is not None and "lat" not in col:
        geometry = geometry.loc[keep]
        lon, lat = geometry.x.to_numpy(), geometry.y.to_numpy()
    else:
        lat, lon = parse_coordinates(cells, lat=col["lat"], lon=col["lon"], source=source)
    study_area = area_geometry(area)
    lat, lon, _ = repair_swapped(lat, lon, area=study_area, report=report)
    missing = ~(np.isfinite(lat) & np.isfinite(lon))
    count_reject(report, "no coordinates", int(missing.sum()), rows=out.index[missing])
    outside = ~missing & ~inside(lat, lon, study_area)
    count_reject(report, "outside the study area", int(outside.sum()), rows=out.index[outside])
    ok = ~missing & ~outside
    result = gpd.GeoDataFrame(
        out.loc[ok, SCHOOL_COLUMNS[:-1]].reset_index(drop=True),
        geometry=gpd.points_from_xy(lon[ok], lat[ok]),
        crs="EPSG:4326",
    )
    for column in ("school_id", "name", "district_id", "district_name", "grades", "locale",
                   "school_type", "county_fips", "state_fips"):
        result[column] = result[column].astype(object).where(result[column].notna(), None)
    return attach_report(result, report)
