"""One census boundary file: the layers, their URLs, reading a file and its TIGER columns.

:func:`boundary_url` names the TIGER/Line or cartographic boundary file of a layer, state and
year. :func:`read_boundary_file` opens one file (zip, shp, gpkg, geojson), repairing a missing
CRS when the coordinates are longitude/latitude (assumed NAD83, TIGER/Line's own CRS), and
:func:`standardise_columns` renames 2020-suffixed columns, checks ``GEOID`` and restores the
hierarchy columns a file lacks. :mod:`assetmap.loaders.census` downloads, filters and
reports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd

from assetmap._report import count_repair
from assetmap._safezip import check_zip_file
from assetmap.errors import SchemaError
from assetmap.geoid import Level, normalize_geoids
from assetmap.loaders._tables import check_degrees
from assetmap.loaders._textfile import parse_errors
from assetmap.settings import settings

__all__ = [
    "LAYERS",
    "SD_KINDS",
    "TIGER_BASE_URL",
    "Layer",
    "boundary_url",
    "read_boundary_file",
    "standardise_columns",
    "vintage_of",
]

TIGER_BASE_URL = "https://www2.census.gov/geo/tiger"
_COMMON = ("MTFCC", "FUNCSTAT", "ALAND", "AWATER", "INTPTLAT", "INTPTLON")
_SD = ("LSAD", "LOGRADE", "HIGRADE", "MTFCC", "SDTYP", "FUNCSTAT", "ALAND", "AWATER",
       "INTPTLAT", "INTPTLON")


@dataclass(frozen=True)
class Layer:
    """One boundary layer: where its files are, its GEOID level and its TIGER columns."""

    folder: str  # TIGER{year}/<folder>/
    name: str  # tl_{year}_{scope}_<name>.zip
    national: bool  # one file for the US (filtered by state) instead of one per state
    level: Level | None  # geoid.py level; None for school districts (7-digit LEA GEOIDs)
    columns: tuple[str, ...]
    label: str


LAYERS = {
    "tract": Layer("TRACT", "tract", False, "tract", (
        "STATEFP", "COUNTYFP", "TRACTCE", "GEOID", "NAME", "NAMELSAD", *_COMMON), "tracts"),
    "block_group": Layer("BG", "bg", False, "block_group", (
        "STATEFP", "COUNTYFP", "TRACTCE", "BLKGRPCE", "GEOID", "NAMELSAD", *_COMMON),
        "block groups"),
    "county": Layer("COUNTY", "county", True, "county", (
        "STATEFP", "COUNTYFP", "COUNTYNS", "GEOID", "NAME", "NAMELSAD", "LSAD", "CLASSFP",
        "MTFCC", "CSAFP", "CBSAFP", "METDIVFP", "FUNCSTAT", "ALAND", "AWATER", "INTPTLAT",
        "INTPTLON"), "counties"),
    "state": Layer("STATE", "state", True, "state", (
        "REGION", "DIVISION", "STATEFP", "STATENS", "GEOID", "STUSPS", "NAME", "LSAD",
        *_COMMON), "states"),
    "unsd": Layer("UNSD", "unsd", False, None, ("STATEFP", "UNSDLEA", "GEOID", "NAME", *_SD),
                  "unified school districts"),
    "elsd": Layer("ELSD", "elsd", False, None, ("STATEFP", "ELSDLEA", "GEOID", "NAME", *_SD),
                  "elementary school districts"),
    "scsd": Layer("SCSD", "scsd", False, None, ("STATEFP", "SCSDLEA", "GEOID", "NAME", *_SD),
                  "secondary school districts"),
}
SD_KINDS = {"unified": "unsd", "elementary": "elsd", "secondary": "scsd"}
# where each hierarchy part sits inside the GEOID, to restore it if a file lacks the column
_GEOID_PARTS = {"STATEFP": (0, 2), "COUNTYFP": (2, 5), "TRACTCE": (5, 11), "BLKGRPCE": (11, 12)}


def boundary_url(
    layer: str, *, state: str | None, year: int, source: str, base_url: str | None = None
) -> str:
    """Return the Census URL of one boundary file.

    Examples
    --------
    >>> boundary_url("tract", state="48", year=2020, source="tiger")
    'https://www2.census.gov/geo/tiger/TIGER2020/TRACT/tl_2020_48_tract.zip'
    >>> boundary_url("county", state=None, year=2023, source="cb")
    'https://www2.census.gov/geo/tiger/GENZ2023/shp/cb_2023_us_county_500k.zip'
    """
    spec = LAYERS[layer]
    base = (base_url or settings.tiger_url).rstrip("/")
    scope = "us" if spec.national else state
    if source == "tiger":
        return f"{base}/TIGER{year}/{spec.folder}/tl_{year}_{scope}_{spec.name}.zip"
    return f"{base}/GENZ{year}/shp/cb_{year}_{scope}_{spec.name}_500k.zip"


def vintage_of(source: str, year: int | None, name: str) -> tuple[str, str | None]:
    """Return (vintage text, year text); a ``tl_YYYY_``/``cb_YYYY_`` file name overrides both.

    Examples
    --------
    >>> vintage_of("tiger", None, "cb_2022_48_tract_500k.zip")
    ('Cartographic boundary 2022 (1:500,000)', '2022')
    """
    found = re.search(r"\b(tl|cb)_(\d{4})_", name)
    if found:
        source, year = ("tiger" if found.group(1) == "tl" else "cb"), int(found.group(2))
    if year is None:
        return f"unknown (local file {name})", None
    if source == "tiger":
        return f"TIGER/Line {year}", str(year)
    return f"Cartographic boundary {year} (1:500,000)", str(year)


def read_boundary_file(
    file: Path, shown: str, report: dict[str, Any], assume_crs: Any
) -> gpd.GeoDataFrame:
    """Open one boundary file in its own CRS, a missing CRS repaired or refused (see module)."""
    check_zip_file(file, shown=shown)
    with parse_errors(shown, what="boundary file (zip, shapefile, GeoPackage or GeoJSON)"):
        frame = gpd.read_file(file, engine="pyogrio")
    if frame.crs is None:
        if assume_crs is not None:
            frame = frame.set_crs(assume_crs)
            report["notes"].append(f"{shown}: no CRS in the file; read as {assume_crs} (given)")
        elif len(frame) and _lonlat_bounds(frame.total_bounds):
            frame = frame.set_crs(4269)
            count_repair(report, "no CRS in the file (.prj missing?); coordinates are in "
                         "longitude/latitude range, assumed NAD83 (EPSG:4269) as in TIGER/Line",
                         len(frame))
        else:
            raise SchemaError(
                f"{shown}: the file has no CRS (a shapefile's .prj is missing?) and its "
                "coordinates are not longitude/latitude; restore the .prj file or pass "
                "assume_crs='EPSG:xxxx'"
            )
    check_degrees(frame, shown)
    return frame


def _lonlat_bounds(bounds: Any) -> bool:
    minx, miny, maxx, maxy = (float(b) for b in bounds)
    return -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90


def standardise_columns(
    frame: gpd.GeoDataFrame, spec: Layer, shown: str, report: dict[str, Any]
) -> gpd.GeoDataFrame:
    """Rename 2020-suffixed columns, check GEOID, restore hierarchy parts, order columns."""
    renames = {c: c[:-2] for c in frame.columns
               if c[-2:] in ("20", "10") and c[:-2] in spec.columns and c[:-2] not in frame}
    if renames:
        frame = frame.rename(columns=renames)
        report["notes"].append(f"renamed columns {sorted(renames)} to {sorted(renames.values())}")
    if "GEOID" not in frame:
        raise SchemaError(
            f"{shown}: no GEOID column; found {[c for c in frame.columns if c != 'geometry']}. "
            f"Expected the TIGER/Line {spec.label} columns {list(spec.columns)}"
        )
    if spec.level is None:
        geoid = frame["GEOID"].astype("string").str.strip()
        bad = ~geoid.str.fullmatch(r"\d{7}").fillna(False).astype(bool)
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0]) + 1
            raise SchemaError(f"{shown}, row {row}, column 'GEOID': "
                              f"{frame['GEOID'].iloc[row - 1]!r} is not a 7-digit district GEOID")
        frame["GEOID"] = geoid.astype(object)
    else:
        frame["GEOID"] = normalize_geoids(frame["GEOID"], level=spec.level, source=shown,
                                          column="GEOID")
    restored = []
    for column, (start, stop) in _GEOID_PARTS.items():
        if column in spec.columns and column not in frame:
            if spec.level is None and column != "STATEFP":
                continue
            frame[column] = frame["GEOID"].str[start:stop]
            restored.append(column)
    if restored:
        report["notes"].append(f"columns {restored} restored from GEOID")
    missing = [c for c in spec.columns if c not in frame]
    if missing:
        report["notes"].append(f"columns not in this source: {missing}")
    ordered = [c for c in spec.columns if c in frame]
    extra = [c for c in frame.columns if c not in ordered and c != frame.geometry.name]
    return frame[[*ordered, *extra, frame.geometry.name]]
