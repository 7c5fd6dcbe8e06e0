"""The school-file layouts :func:`~assetmap.loaders.nces.read_schools` knows, and their helpers.

Detecting a layout (NCES EDGE, CCD directory, TEA campuses) from the headers, reading the rows,
the optional district table (``LEAID, NAME``) that maps district names to LEAIDs, the shipped
table of every Texas district (``loaders/data/tx_districts.csv``, NCES CCD 2013-14, see the
PROVENANCE.md beside it) used for TEA files when no table is given, zero-padding codes that
lost their leading zeros, and the stable ``tea-`` ids of TEA campuses.
"""

from __future__ import annotations

import functools
import hashlib
import io
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from assetmap.errors import SchemaError
from assetmap.loaders._tables import VECTOR_SUFFIXES, header_key, read_table, read_vector

__all__ = [
    "CCD_TYPES",
    "LAYOUTS",
    "SOURCES",
    "TX_DISTRICTS_SOURCE",
    "Layout",
    "district_table",
    "match_district_ids",
    "norm_name",
    "pad_codes",
    "read_school_rows",
    "tea_ids",
    "texas_district_table",
]

Layout = Literal["edge", "ccd", "tea"]

# layout -> (columns that identify it, canonical -> source column)
LAYOUTS: dict[str, tuple[set[str], dict[str, str]]] = {
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
CCD_TYPES = {"1": "regular", "2": "special education", "3": "career and technical",
             "4": "alternative", "5": "reportable program"}
SOURCES = {
    "edge": {"name": "NCES EDGE public school geocodes", "license": "public domain",
             "url": "https://nces.ed.gov/programs/edge/Geographic/SchoolLocations"},
    "ccd": {"name": "NCES Common Core of Data school directory", "license": "public domain",
            "url": "https://nces.ed.gov/ccd/"},
    "tea": {"name": "Texas Education Agency campuses", "license": "public information",
            "url": "https://tea.texas.gov/"},
}
TX_DISTRICTS_SOURCE = {
    "name": "NCES Common Core of Data, school district (LEA) universe, Texas (shipped table)",
    "vintage": "2013-14", "license": "public domain", "url": "https://nces.ed.gov/ccd/",
}
_ALL_HEADERS = {c for ids, cols in LAYOUTS.values() for c in (*ids, *cols.values())}


def _detect_layout(columns: list[str], source: str) -> Layout:
    keys = {header_key(c) for c in columns}
    for layout, (required, _) in LAYOUTS.items():
        if required <= keys:
            return layout  # type: ignore[return-value]
    raise SchemaError(
        f"{source}: not a school file assetmap knows; expected the columns of NCES EDGE "
        "(NCESSCH, LEAID, NAME, LAT, LON), the CCD directory (NCESSCH, LEAID, SCHNAM, LATCOD, "
        f"LONCOD) or TEA campuses (School_name, District_ISD, lat, lon); found {columns[:12]}"
    )


def norm_name(values: pd.Series) -> pd.Series:
    """Upper-case names with single spaces, the key district and campus names match on.

    Examples
    --------
    >>> norm_name(pd.Series(["  Ector  County isd "])).tolist()
    ['ECTOR COUNTY ISD']
    """
    return values.astype("string").str.upper().str.replace(r"\s+", " ", regex=True).str.strip()


def district_table(districts: str | Path | pd.DataFrame | None) -> pd.DataFrame | None:
    """Return the district table as ``district_id`` (7-digit LEAID) and name ``key``; None: none.

    Examples
    --------
    >>> t = district_table(pd.DataFrame({"LEAID": ["4818000"], "NAME": ["Ector County ISD"]}))
    >>> t.values.tolist()
    [['4818000', 'ECTOR COUNTY ISD']]
    >>> district_table(None) is None
    True
    """
    if districts is None:
        return None
    table = districts if isinstance(districts, pd.DataFrame) else pd.read_csv(districts, dtype=str)
    table = table.rename(columns={c: header_key(c) for c in table.columns})
    if not {"leaid", "name"} <= set(table.columns):
        raise SchemaError("the district table (districts=) needs the columns LEAID and NAME")
    return pd.DataFrame({"district_id": table["leaid"].str.strip().str.zfill(7),
                         "key": norm_name(table["name"])}).drop_duplicates("key")


@functools.cache
def _texas_rows() -> pd.DataFrame:
    text = resources.files("assetmap.loaders").joinpath("data/tx_districts.csv").read_text("utf-8")
    raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    return pd.DataFrame({"district_id": raw["LEAID"], "key": norm_name(raw["NAME"]),
                         "county_fips": raw["CONUM"]})


def texas_district_table() -> pd.DataFrame:
    """Every Texas district of NCES CCD 2013-14: ``district_id``, name ``key``, ``county_fips``.

    Shipped in ``loaders/data/tx_districts.csv`` (provenance beside it). Eleven names belong
    to two districts; :func:`match_district_ids` tells them apart by county.

    Examples
    --------
    >>> t = texas_district_table()
    >>> len(t), t.loc[t["key"] == "HOUSTON ISD", "district_id"].tolist()
    (1265, ['4823640'])
    """
    return _texas_rows().copy()


def match_district_ids(names: pd.Series, counties: pd.Series, table: pd.DataFrame) -> pd.Series:
    """Return the LEAID of each (normalised) district name; NA where none or not one.

    A name found once in ``table`` gives its LEAID. A name found more than once gives the
    LEAID of the row in the same county (``county_fips``, when the table has that column),
    else NA.

    Examples
    --------
    >>> table = pd.DataFrame({"district_id": ["1", "2", "3"], "key": ["A ISD", "B ISD", "B ISD"],
    ...                       "county_fips": ["48001", "48003", "48005"]})
    >>> match_district_ids(pd.Series(["A ISD", "B ISD", "B ISD", "C ISD"]),
    ...                    pd.Series(["48009", "48005", "48007", "48001"]), table).tolist()
    ['1', '3', <NA>, <NA>]
    """
    counts = table["key"].value_counts()
    once = table[table["key"].map(counts).eq(1)]
    ids = names.map(once.set_index("key")["district_id"]).astype("string")
    if "county_fips" in table.columns:
        twice = table[table["key"].map(counts).gt(1)]
        both = {(k, c): d for k, c, d in zip(twice["key"], twice["county_fips"],
                                               twice["district_id"], strict=True)}
        pairs = [both.get((n, c)) for n, c in zip(names, counties, strict=True)]
        ids = ids.fillna(pd.Series(pairs, index=names.index, dtype="string"))
    return ids


def pad_codes(values: pd.Series, width: int) -> pd.Series:
    """Zero-pad all-digit codes (``"10000500870"`` -> 12 digits); other text is left alone.

    Examples
    --------
    >>> pad_codes(pd.Series(["100005", "100005.0", "A1", None]), 7).tolist()
    ['0100005', '0100005', 'A1', <NA>]
    """
    text = values.astype("string").str.strip().str.replace(r"\.0$", "", regex=True)
    return text.where(~text.str.fullmatch(r"\d+").fillna(False), text.str.zfill(width))


def tea_ids(district: pd.Series, name: pd.Series) -> pd.Series:
    """Stable TEA campus ids: ``"tea-" + sha1("DISTRICT|CAMPUS")[:10]`` of the normalised names.

    Examples
    --------
    >>> tea_ids(pd.Series(["Ector County ISD"]), pd.Series(["Permian  H S"])).str.len().tolist()
    [14]
    """
    keys = (norm_name(district).fillna("") + "|" + norm_name(name).fillna("")).tolist()
    return pd.Series(
        ["tea-" + hashlib.sha1(k.encode("utf-8")).hexdigest()[:10] for k in keys],
        index=district.index, dtype=object,
    )


def read_school_rows(path: Path, layout: Layout | None) -> tuple[pd.DataFrame, Any, Layout]:
    """Return (cells with lower-case header keys, geometry or None, layout) of a school file."""
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
