"""Schools and attendance zones: NCES EDGE geocodes, the CCD directory, TEA campuses, SABS zones.

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
    (``LEAID, NAME``; by default the shipped CCD 2013-14 table of Ector County and its
    neighbours) matched on the district name; unmatched districts get NA, named in the notes.

Attendance zones are polygons a district supplies (any vector format) or NCES SABS
(``SrcName, ncessch, schnam, leaid, updateDate, gslo, gshi, defacto, stAbbrev, sLevel,
openEnroll, MultiBdy``). District boundaries come from
:func:`assetmap.loaders.census.load_school_districts`.
"""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from assetmap._report import attach_report, count_reject, count_repair, start_report
from assetmap.datasets import data_path
from assetmap.errors import AssetmapWarning, GeoidError, SchemaError, where
from assetmap.geoid import county_fips as _county_fips
from assetmap.geoid import state_fips as _state_fips
from assetmap.loaders._points import area_geometry, inside, parse_coordinates, repair_swapped
from assetmap.loaders._tables import VECTOR_SUFFIXES, header_key, read_table, read_vector

__all__ = ["SCHOOL_COLUMNS", "ZONE_COLUMNS", "read_attendance_zones", "read_schools"]

Layout = Literal["edge", "ccd", "tea"]

SCHOOL_COLUMNS = [
    "school_id", "name", "district_id", "district_name", "grades", "enrollment",
    "locale", "school_type", "county_fips", "state_fips", "geometry",
]
ZONE_COLUMNS = ["zone_id", "school_id", "n_schools", "name", "grades", "district_id", "geometry"]

# layout -> (columns that identify it, canonical -> source column)
_LAYOUTS: dict[str, tuple[set[str], dict[str, str]]] = {
    "edge": (
        {"ncessch", "leaid", "name", "lat", "lon"},
        {"school_id": "ncessch", "name": "name", "district_id": "leaid", "locale": "locale",
         "county_fips": "cnty", "state_fips": "stfip", "lat": "lat", "lon": "lon"},
    ),
    "ccd": (
        {"ncessch", "leaid", "schnam", "latcod", "loncod"},
        {"school_id": "ncessch", "name": "schnam", "district_id": "leaid",
         "district_name": "leanm", "locale": "ulocal", "county_fips": "conum",
         "state_fips": "fipst", "lat": "latcod", "lon": "loncod", "enrollment": "member"},
    ),
    "tea": (
        {"school_name", "district_isd", "lat", "lon"},
        {"name": "school_name", "district_name": "district_isd", "grades": "grade_range",
         "enrollment": "school_enroll_2023", "school_type": "school_type",
         "county": "county", "lat": "lat", "lon": "lon"},
    ),
}
_CCD_TYPES = {"1": "regular", "2": "special education", "3": "career and technical",
              "4": "alternative", "5": "reportable program"}
_SOURCES = {
    "edge": {"name": "NCES EDGE public school geocodes", "license": "public domain",
             "url": "https://nces.ed.gov/programs/edge/Geographic/SchoolLocations"},
    "ccd": {"name": "NCES Common Core of Data school directory", "license": "public domain",
            "url": "https://nces.ed.gov/ccd/"},
    "tea": {"name": "Texas Education Agency campuses", "license": "public information",
            "url": "https://tea.texas.gov/"},
}
_ALL_HEADERS = {c for ids, cols in _LAYOUTS.values() for c in (*ids, *cols.values())}


def _detect_layout(columns: list[str], source: str) -> Layout:
    keys = {header_key(c) for c in columns}
    for layout, (required, _) in _LAYOUTS.items():
        if required <= keys:
            return layout  # type: ignore[return-value]
    raise SchemaError(
        f"{source}: not a school file assetmap knows; expected the columns of NCES EDGE "
        "(NCESSCH, LEAID, NAME, LAT, LON), the CCD directory (NCESSCH, LEAID, SCHNAM, LATCOD, "
        f"LONCOD) or TEA campuses (School_name, District_ISD, lat, lon); found {columns[:12]}"
    )


def _norm_name(values: pd.Series) -> pd.Series:
    return values.astype("string").str.upper().str.replace(r"\s+", " ", regex=True).str.strip()


def _district_table(districts: Any) -> pd.DataFrame:
    if districts is None:
        districts = data_path("schools", "nces_ccd_2013_14_districts_ector_neighbors.csv")
    table = districts if isinstance(districts, pd.DataFrame) else pd.read_csv(districts, dtype=str)
    table = table.rename(columns={c: header_key(c) for c in table.columns})
    if not {"leaid", "name"} <= set(table.columns):
        raise SchemaError("the district table needs the columns LEAID and NAME")
    return pd.DataFrame({"district_id": table["leaid"].str.strip().str.zfill(7),
                         "key": _norm_name(table["name"])}).drop_duplicates("key")


def _pad(values: pd.Series, width: int) -> pd.Series:
    text = values.astype("string").str.strip().str.replace(r"\.0$", "", regex=True)
    return text.where(~text.str.fullmatch(r"\d+").fillna(False), text.str.zfill(width))


def _tea_ids(district: pd.Series, name: pd.Series) -> pd.Series:
    keys = (_norm_name(district).fillna("") + "|" + _norm_name(name).fillna("")).tolist()
    return pd.Series(
        ["tea-" + hashlib.sha1(k.encode("utf-8")).hexdigest()[:10] for k in keys],
        index=district.index, dtype=object,
    )


def _read_school_rows(path: Path, layout: Layout | None) -> tuple[pd.DataFrame, Any, Layout]:
    """Return (cells with lower-case header keys, geometry or None, layout)."""
    if path.suffix.lower() in VECTOR_SUFFIXES:
        frame, _ = read_vector(path)
        geometry = frame.geometry
        cells = pd.DataFrame(frame.drop(columns=frame.geometry.name)).astype(object)
        cells.index = pd.RangeIndex(1, len(cells) + 1, name="row")
    else:
        cells, _ = read_table(path, known_headers=_ALL_HEADERS)
        geometry = None
    found = layout or _detect_layout([str(c) for c in cells.columns], str(path))
    cells = cells.rename(columns={c: header_key(c) for c in cells.columns})
    return cells, geometry, found


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
        A district table (``LEAID, NAME``) to map district names to LEAIDs and back;
        default: the shipped NCES CCD 2013-14 districts of Ector County and its neighbours.
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
    ...                  district="4818000")
    >>> len(s), s["district_name"].iloc[0]
    (43, 'ECTOR COUNTY ISD')
    """
    path = Path(path)
    source = str(path)
    cells, geometry, found = _read_school_rows(path, layout)
    _, columns = _LAYOUTS[found]
    report = start_report(source, kind="schools", rows_read=len(cells), sources=[_SOURCES[found]])
    report["layout"] = found
    for year_col in ("survyear", "schoolyear"):
        if year_col in cells.columns and cells[year_col].notna().any():
            year = str(cells[year_col].dropna().iloc[0]).strip()
            if year.isdigit():
                year = f"{year}-{int(year[-2:]) + 1:02d}"
            report["vintages"]["schools"] = f"{_SOURCES[found]['name']} {year}"
            report["sources"][0]["vintage"] = year
    col = {k: v for k, v in columns.items() if v in cells.columns}

    def take(key: str) -> pd.Series:
        if key in col:
            return cells[col[key]].astype("string").str.strip()
        return pd.Series(pd.NA, index=cells.index, dtype="string")

    table = _district_table(districts)
    out = pd.DataFrame(index=cells.index)
    out["name"] = take("name")
    if found == "tea":
        out["district_name"] = _norm_name(take("district_name"))
        ids = out[["district_name"]].merge(
            table, left_on="district_name", right_on="key", how="left"
        )["district_id"]
        out["district_id"] = ids.to_numpy()
        out["school_id"] = _tea_ids(out["district_name"], out["name"])
        unmatched = sorted(out.loc[out["district_id"].isna(), "district_name"].dropna().unique())
        if unmatched:
            report["notes"].append(f"no LEAID in the district table for: {', '.join(unmatched)}")
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
        report["notes"].append(
            "school_id: no campus id in TEA files; made as 'tea-' + sha1('DISTRICT|CAMPUS')[:10]"
        )
    else:
        out["school_id"] = _pad(take("school_id"), 12)
        out["district_id"] = _pad(take("district_id"), 7)
        names = take("district_name")
        if names.isna().all():
            by_id = table.set_index("district_id")["key"]
            names = out["district_id"].map(by_id).astype("string")
        out["district_name"] = names
        out["state_fips"] = _pad(take("state_fips"), 2)
        out["county_fips"] = _pad(take("county_fips"), 5)
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
        school_type = cells["type"].astype("string").str.strip().map(_CCD_TYPES).astype("string")
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


_ZONE_ID_KEYS = ("zone_id", "zone", "zoneid", "boundary_id", "objectid", "fid", "id")
_SCHOOL_ID_KEYS = ("ncessch", "school_id", "schoolid", "campus_id", "school")


def read_attendance_zones(
    path: str | Path,
    *,
    schools: gpd.GeoDataFrame | None = None,
    school_id_column: str | None = None,
    crs: Any = None,
) -> gpd.GeoDataFrame:
    """Read attendance-zone polygons and link each zone to its school(s).

    Parameters
    ----------
    path : str or Path
        Any vector file (shapefile, GeoJSON, GeoPackage); NCES SABS columns are recognised.
    schools : GeoDataFrame, optional
        Schools from :func:`read_schools`. Zones are linked by ``school_id_column`` when the
        zone file has one, else by which school points each zone contains.
    school_id_column : str, optional
        The zone column holding school ids (default: ``ncessch`` or ``school_id`` if present).
    crs : optional
        CRS of a layer that has none (a shapefile without ``.prj``).

    Returns
    -------
    geopandas.GeoDataFrame
        ``zone_id, school_id, n_schools, name, grades, district_id, geometry`` (EPSG:4326).
        ``school_id`` is ``;``-separated when a zone contains several schools. Zones without
        a school and schools without a zone are listed in ``report["unmatched"]`` and warned
        about (:class:`~assetmap.errors.AssetmapWarning`).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box, Point
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> gpd.GeoDataFrame({"ncessch": ["481800000001"], "schnam": ["A EL"]},
    ...     geometry=[box(0, 0, 1, 1)], crs=4326).to_file(d / "z.geojson")
    >>> read_attendance_zones(d / "z.geojson")[["zone_id", "school_id"]].values.tolist()
    [['481800000001', '481800000001']]
    """
    path = Path(path)
    source = str(path)
    frame, notes = read_vector(path, crs=crs)
    report = start_report(source, kind="attendance_zones", rows_read=len(frame))
    report["notes"].extend(notes)
    keys = {header_key(c): c for c in frame.columns if c != frame.geometry.name}
    bad = frame.geometry.isna() | frame.geometry.is_empty
    bad |= ~frame.geometry.geom_type.isin(["Polygon", "MultiPolygon"])
    count_reject(report, "not a polygon", int(bad.sum()), rows=np.flatnonzero(bad.to_numpy()) + 1)
    frame = frame.loc[~bad.to_numpy()].copy()
    count_repair(report, "invalid polygon (e.g. self-intersecting) repaired with make_valid",
                 int((~frame.geometry.is_valid).sum()))
    frame["geometry"] = frame.geometry.make_valid()
    id_col = school_id_column or next((keys[k] for k in _SCHOOL_ID_KEYS if k in keys), None)
    if school_id_column is not None and school_id_column not in frame.columns:
        raise SchemaError(
            f"{source}: no column {school_id_column!r}; columns: {list(keys.values())}")
    zone_col = next((keys[k] for k in _ZONE_ID_KEYS if k in keys), None) or id_col

    def text(key_options: tuple[str, ...]) -> pd.Series:
        for k in key_options:
            if k in keys:
                return frame[keys[k]].astype("string").str.strip()
        return pd.Series(pd.NA, index=frame.index, dtype="string")

    out = pd.DataFrame(index=frame.index)
    if zone_col is not None:
        out["zone_id"] = _pad(frame[zone_col].astype("string"), 12 if zone_col == id_col else 0)
    else:
        out["zone_id"] = [f"zone-{i}" for i in range(1, len(frame) + 1)]
    dup = out["zone_id"].duplicated(keep=False)
    if dup.any():
        out.loc[dup, "zone_id"] = (
            out.loc[dup, "zone_id"] + "-"
            + (out.loc[dup].groupby("zone_id").cumcount() + 1).astype(str)
        )
    out["name"] = text(("schnam", "name", "school_name", "zone_name"))
    lo, hi = text(("gslo",)), text(("gshi",))
    out["grades"] = (lo + "-" + hi).where(lo.notna() & hi.notna(), text(("grades",)))
    out["district_id"] = _pad(text(("leaid", "district_id")), 7)
    if id_col is not None:
        out["school_id"] = _pad(frame[id_col].astype("string").str.strip(), 12)
        out["n_schools"] = out["school_id"].notna().astype(int)
    elif schools is not None:
        pts = schools[["school_id", "geometry"]].to_crs("EPSG:4326")
        joined = gpd.sjoin(pts, gpd.GeoDataFrame(geometry=frame.geometry, crs="EPSG:4326"),
                           predicate="within")
        ids = joined.groupby("index_right")["school_id"].agg(lambda s: ";".join(sorted(s)))
        out["school_id"] = ids.reindex(out.index)
        out["n_schools"] = joined.groupby("index_right").size().reindex(out.index).fillna(0)
        out["n_schools"] = out["n_schools"].astype(int)
        report["notes"].append("zones linked to schools by spatial containment of school points")
    else:
        out["school_id"] = pd.NA
        out["n_schools"] = 0
        report["notes"].append("no school id column and no schools given: zones are not linked")
    unmatched_zones = out.loc[out["school_id"].isna(), "zone_id"].tolist()
    unmatched_schools: list[str] = []
    if schools is not None:
        linked = set(";".join(out["school_id"].dropna()).split(";"))
        unmatched_schools = sorted(set(schools["school_id"].dropna()) - linked)
        if id_col is not None:
            unknown = sorted(linked - set(schools["school_id"].dropna()) - {""})
            if unknown:
                report["notes"].append(f"zone school ids not among the schools: {unknown[:20]}")
    report["unmatched"] = {"zones": unmatched_zones, "schools": unmatched_schools}
    if unmatched_zones or unmatched_schools:
        warnings.warn(
            f"{source}: {len(unmatched_zones)} zone(s) without a school and "
            f"{len(unmatched_schools)} school(s) without a zone (see report['unmatched'])",
            AssetmapWarning,
            stacklevel=2,
        )
    result = gpd.GeoDataFrame(out.reset_index(drop=True), geometry=frame.geometry.to_numpy(),
                              crs="EPSG:4326")[ZONE_COLUMNS]
    for column in ("zone_id", "school_id", "name", "grades", "district_id"):
        result[column] = result[column].astype(object).where(result[column].notna(), None)
    return attach_report(result, report)

