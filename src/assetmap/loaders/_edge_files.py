"""NCES EDGE geocode files: their school years, URLs and download, and their rows read from the zip.

What was confirmed (public code and pages that download these files, searched 2026-12):

* The URL is ``{base}/EDGE_GEOCODE_PUBLICSCH_{YY}{YY}.zip`` for public schools and
  ``{base}/EDGE_GEOCODE_PUBLICLEA_{YY}{YY}.zip`` for public school districts (LEAs), with
  ``base = https://nces.ed.gov/programs/edge/data``; files for 2015-16 through 2024-25 are
  referenced (``..._2425.zip`` is the newest seen, so it is the default school year).
* The zip's layout changes between years: 2021-22 holds a folder with a CSV; 2023-24 a
  folder ``EDGE_GEOCODE_PUBLICLEA_2324/`` with a ``.TXT`` and an ``.xlsx``; 2024-25 a
  pipe-delimited ``.TXT`` **without a header line**, an ``.xlsx`` and a nested
  ``Shapefile_*.zip``. Members are therefore chosen by kind, in this order: a text file
  (``.txt``, ``.csv``), a shapefile (in the zip or in a nested zip), a workbook (``.xlsx``).
* Columns, in this order when the text file has no header: schools ``NCESSCH, LEAID, NAME,
  OPSTFIPS, STREET, CITY, STATE, ZIP, STFIP, CNTY, NMCNTY, LOCALE, LAT, LON, CBSA, NMCBSA,
  CBSATYPE, CSA, NMCSA, NECTA, NMNECTA, CD, SLDL, SLDU, SCHOOLYEAR``; districts ``LEAID,
  NAME, OPSTFIPS, LSTREE, LCITY, LSTATE, LZIP, STFIP, CNTY, NMCNTY, LAT, LON, ...``. Files of
  2015-16 carry year-suffixed names (``LAT1516``, ``STFIP15``, ``CNTY15``); the suffix is
  dropped here. Text is UTF-8, or Windows-1252 in some years.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from assetmap._safezip import open_zip, read_member
from assetmap.errors import ConfigError, DownloadError, SchemaError
from assetmap.loaders._tables import header_key
from assetmap.settings import settings

__all__ = ["DEFAULT_SCHOOL_YEAR", "EdgeKind", "edge_cells", "edge_file", "edge_url", "school_year"]

EdgeKind = Literal["SCH", "LEA"]
DEFAULT_SCHOOL_YEAR = "2024-25"
_FIRST_YEAR = 2015
COLUMNS: dict[str, list[str]] = {
    "SCH": ["NCESSCH", "LEAID", "NAME", "OPSTFIPS", "STREET", "CITY", "STATE", "ZIP", "STFIP",
            "CNTY", "NMCNTY", "LOCALE", "LAT", "LON", "CBSA", "NMCBSA", "CBSATYPE", "CSA",
            "NMCSA", "NECTA", "NMNECTA", "CD", "SLDL", "SLDU", "SCHOOLYEAR"],
    "LEA": ["LEAID", "NAME", "OPSTFIPS", "LSTREE", "LCITY", "LSTATE", "LZIP", "STFIP", "CNTY",
            "NMCNTY", "LAT", "LON", "CBSA", "NMCBSA", "CBSATYPE", "CSA", "NMCSA", "NECTA",
            "NMNECTA", "CD", "SLDL", "SLDU", "SCHOOLYEAR"],
}
_ID = {"SCH": ("ncessch", 12), "LEA": ("leaid", 7)}
_LABEL = {"SCH": "public school geocodes", "LEA": "public school district (LEA) geocodes"}
_KNOWN = {header_key(c) for cols in COLUMNS.values() for c in cols}
_SUFFIXED = re.compile(r"([a-z]+?)(\d{2}|\d{4})")


def school_year(value: Any = None) -> tuple[str, str]:
    """Return ``(label, code)`` of a school year: ``("2022-23", "2223")``.

    Accepts ``"2022-23"``, ``"2022-2023"``, the file code ``"2223"`` or the fall year
    (``2022``, or ``"2022"``: four digits whose halves are not consecutive); None is the
    default, :data:`DEFAULT_SCHOOL_YEAR`.

    Examples
    --------
    >>> school_year("2022-2023"), school_year(2024), school_year("2223")
    (('2022-23', '2223'), ('2024-25', '2425'), ('2022-23', '2223'))
    """
    text = str(DEFAULT_SCHOOL_YEAR if value is None else value).strip()
    fall: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        fall = value
    elif re.fullmatch(r"\d{4}", text):
        consecutive = int(text[2:]) == (int(text[:2]) + 1) % 100
        fall = 2000 + int(text[:2]) if consecutive else int(text)
    elif m := re.fullmatch(r"(\d{4})-(\d{2}|\d{4})", text):
        fall = int(m.group(1)) if int(m.group(2)) % 100 == (int(m.group(1)) + 1) % 100 else None
    if fall is None or not _FIRST_YEAR <= fall <= 2098:
        raise ConfigError(
            f"school_year {value!r} is not a school year NCES EDGE has; give one like "
            f"'{DEFAULT_SCHOOL_YEAR}' (the default), from "
            f"'{_FIRST_YEAR}-{_FIRST_YEAR % 100 + 1}' on"
        )
    return f"{fall}-{(fall + 1) % 100:02d}", f"{fall % 100:02d}{(fall + 1) % 100:02d}"


def edge_url(kind: EdgeKind, year: Any = None, *, base_url: str | None = None) -> str:
    """Return the URL of an EDGE geocode zip.

    Examples
    --------
    >>> edge_url("SCH", "2022-23")
    'https://nces.ed.gov/programs/edge/data/EDGE_GEOCODE_PUBLICSCH_2223.zip'
    """
    base = (base_url or settings.nces_edge_url).rstrip("/")
    return f"{base}/EDGE_GEOCODE_PUBLIC{kind}_{school_year(year)[1]}.zip"


def edge_file(kind: EdgeKind, year: Any, *, base_url: str | None,
              path: str | Path | None) -> tuple[Path, str]:
    """Return (local zip, what to call it): ``path`` itself, or the download (cached)."""
    if path is not None:
        local = Path(path)
        if not local.exists():
            raise FileNotFoundError(f"{path}: no such NCES EDGE file")
        return local, str(path)
    from assetmap._http import HTTPStatusError, fetch  # requests only when a download is needed

    label, _ = school_year(year)
    url = edge_url(kind, year, base_url=base_url)
    try:
        got = fetch(url, expect="zip", description=f"NCES EDGE {label} {_LABEL[kind]}")
    except HTTPStatusError as exc:
        if exc.status != 404:
            raise
        raise DownloadError(
            f"{url}: NCES has no EDGE {_LABEL[kind]} file for school year {label} (HTTP 404); "
            f"try an earlier school_year, e.g. '{DEFAULT_SCHOOL_YEAR}'"
        ) from exc
    return got, url


def _pick(archive: zipfile.ZipFile) -> zipfile.ZipInfo | None:
    members = [i for i in archive.infolist() if not i.is_dir()
               and not Path(i.filename).name.startswith(("._", "~$"))]
    named = [i for i in members if "geocode" in Path(i.filename).name.lower()]
    for group in (named, members):  # a data file's name says GEOCODE; a readme's does not
        for suffixes in ((".txt", ".csv"), (".shp",), (".zip",), (".xlsx",)):
            found = [i for i in group if i.filename.lower().endswith(suffixes)]
            if found:
                return max(found, key=lambda i: i.file_size)
    return None


def _key(name: object) -> str:
    key = header_key(name)
    m = _SUFFIXED.fullmatch(key)
    return m.group(1) if m and key not in _KNOWN and m.group(1) in _KNOWN else key


def _text_rows(data: bytes, kind: EdgeKind, shown: str) -> tuple[list[str], list[list[str]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    first = text.split("\n", 1)[0]
    sep = "|" if first.count("|") >= first.count(",") else ","
    if sep == "|":  # NCES writes no quotes in its pipe files; a quote is part of a name
        reader = csv.reader(io.StringIO(text), delimiter=sep, quoting=csv.QUOTE_NONE)
    else:
        reader = csv.reader(io.StringIO(text), delimiter=sep)
    rows = [r for r in reader if r]
    if not rows:
        raise SchemaError(f"{shown}: the file has no rows")
    id_key, width = _ID[kind]
    if id_key in {_key(c) for c in rows[0]}:
        return [_key(c) for c in rows[0]], rows[1:]
    first_id = rows[0][0].strip()
    if not (first_id.isdigit() and len(first_id) in (width - 1, width)):
        raise SchemaError(
            f"{shown}: not an NCES EDGE {_LABEL[kind]} file; its first line has neither the "
            f"header ({', '.join(COLUMNS[kind][:4])}, ...) nor a {width}-digit "
            f"{id_key.upper()} first (found {first[:60]!r})"
        )
    return [header_key(c) for c in COLUMNS[kind]], rows


def _vector_rows(archive: zipfile.ZipFile, info: zipfile.ZipInfo,
                 shown: str) -> tuple[list[str], list[list[str]]]:
    import geopandas as gpd

    with tempfile.TemporaryDirectory(prefix="assetmap-edge-") as tmp:
        folder = Path(tmp)
        if info.filename.lower().endswith(".zip"):
            inner = folder / "inner.zip"
            inner.write_bytes(read_member(archive, info, shown))
            with open_zip(inner, shown=f"{shown} ({info.filename})") as nested:
                shp = next((i for i in nested.infolist()
                            if i.filename.lower().endswith(".shp")), None)
                if shp is None:
                    raise SchemaError(f"{shown}: {info.filename} holds no shapefile (.shp)")
                return _vector_rows(nested, shp, f"{shown} ({info.filename})")
        stem = info.filename[: -len(".shp")]
        for part in archive.infolist():
            rest = part.filename[len(stem):]
            if part.filename.startswith(stem) and rest.startswith(".") and len(rest) <= 8:
                (folder / ("layer" + rest.lower())).write_bytes(read_member(archive, part, shown))
        frame = gpd.read_file(folder / "layer.shp", ignore_geometry=True)
    columns = [_key(c) for c in frame.columns]
    return columns, frame.astype(object).where(frame.notna(), "").astype(str).values.tolist()


def _workbook_rows(data: bytes, shown: str) -> tuple[list[str], list[list[str]]]:
    try:
        frame = pd.read_excel(io.BytesIO(data), dtype=str, engine="openpyxl")
    except (ValueError, OSError, KeyError, zipfile.BadZipFile) as exc:
        raise SchemaError(f"{shown}: the workbook does not open ({exc})") from exc
    return [_key(c) for c in frame.columns], frame.fillna("").values.tolist()


def edge_cells(
    zip_path: Path, kind: EdgeKind, *, shown: str, state: str | None = None,
) -> tuple[pd.DataFrame, int, str]:
    """Return (cells, rows in the file, member read) of an EDGE geocode zip.

    ``cells`` has lower-case header keys, text cells (blank cells missing) and the member's
    1-based data row number as index; with ``state`` (two-digit FIPS) only the rows whose
    ``STFIP`` is that state are kept.
    """
    with open_zip(zip_path, shown=shown) as archive:
        info = _pick(archive)
        if info is None:
            raise SchemaError(
                f"{shown}: no NCES EDGE table in the zip (looked for .txt, .csv, .shp, a nested "
                f".zip or .xlsx; found {[i.filename for i in archive.infolist()][:8]})")
        where = f"{shown} ({info.filename})"
        name = info.filename.lower()
        if name.endswith((".txt", ".csv")):
            columns, rows = _text_rows(read_member(archive, info, shown), kind, where)
        elif name.endswith((".shp", ".zip")):
            columns, rows = _vector_rows(archive, info, shown)
        else:
            columns, rows = _workbook_rows(read_member(archive, info, shown), where)
    id_key = _ID[kind][0]
    if id_key not in columns or "lat" not in columns or "lon" not in columns:
        raise SchemaError(f"{where}: expected the columns {id_key.upper()}, LAT and LON of an "
                          f"NCES EDGE {_LABEL[kind]} file; found {columns[:12]}")
    width = len(columns)
    total = len(rows)
    numbered = list(enumerate(rows, start=1))
    if state is not None and "stfip" in columns:
        at = columns.index("stfip")
        numbered = [(n, r) for n, r in numbered if len(r) > at and r[at].strip().zfill(2) == state]
    cells = pd.DataFrame([(r + [""] * width)[:width] for _, r in numbered], columns=columns,
                         dtype=object)
    cells.index = pd.Index([n for n, _ in numbered], name="row")
    for column in cells.columns:
        text = cells[column].astype(str).str.strip().astype(object)
        text[text == ""] = None
        cells[column] = text
    return cells, total, info.filename
