"""Read a user's table (CSV, pipe-delimited TXT, XLSX, GeoJSON, shapefile) as text cells.

Shared by the schools, partner-site and survey readers. Everything here returns plain
frames of strings (or Excel's own cell objects for XLSX, so that an Excel date in an hours
column can still be told apart from text) and leaves validation to the caller.

Delimiters: ``,``, ``|`` (NCES EDGE), tab, and ``;`` (a CSV saved by Excel in a European
locale). A ``;`` file is read with a :class:`~assetmap.errors.RepairWarning`, and its numbers
may use a decimal comma (``31,85``): the frame's ``attrs["decimal"]`` is then ``","`` and
:func:`parse_numbers` and the coordinate parser read them so. A header of more than
:data:`MAX_COLUMNS` columns, a header with no data rows and a header spread over two rows
(merged cells) are :class:`~assetmap.errors.SchemaError`.

Header rows: spreadsheets often carry a title and a blank line above the header. The
header is the first of the first 20 rows in which at least two cells are known column
names (after :func:`header_key` normalisation); rows above it are skipped with a
:class:`~assetmap.errors.RepairWarning` and a note in the report.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from assetmap._report import count_repair
from assetmap._safezip import check_zip_file
from assetmap.errors import RepairWarning, SchemaError, where
from assetmap.loaders._textfile import parse_errors, sniff_encoding

__all__ = [
    "TABULAR_SUFFIXES",
    "VECTOR_SUFFIXES",
    "check_degrees",
    "header_key",
    "parse_numbers",
    "read_table",
    "read_vector",
    "rename_columns",
]

TABULAR_SUFFIXES = {".csv", ".txt", ".tsv", ".xlsx", ".xlsm"}
VECTOR_SUFFIXES = {".geojson", ".json", ".shp", ".gpkg", ".zip", ".fgb", ".gdb"}
_HEADER_SCAN_ROWS = 20
#: More columns than any table a district keeps: a wider header is refused before parsing.
MAX_COLUMNS = 2000
_SEPARATORS = ("|", "\t", ";", ",")


def header_key(name: object) -> str:
    """Return a header in a comparable form: lower case, runs of non-alphanumerics as ``_``.

    Examples
    --------
    >>> header_key(" Site Name "), header_key("Wi-Fi radius (m)")
    ('site_name', 'wi_fi_radius_m')
    """
    return re.sub(r"[^a-z0-9]+", "_", str(name).strip().lower()).strip("_")


def rename_columns(
    frame: pd.DataFrame, synonyms: Mapping[str, Iterable[str]], *, source: str
) -> tuple[pd.DataFrame, list[str]]:
    """Rename columns to canonical names through ``synonyms`` (canonical -> header keys).

    Returns the renamed copy and the list of original headers that matched nothing.
    Two headers that map to the same canonical name raise :class:`SchemaError`.
    """
    lookup: dict[str, str] = {}
    for canonical, keys in synonyms.items():
        lookup[header_key(canonical)] = canonical
        for key in keys:
            lookup[header_key(key)] = canonical
    mapping: dict[Any, str] = {}
    unknown: list[str] = []
    seen: dict[str, Any] = {}
    for column in frame.columns:
        name = lookup.get(header_key(column))
        if name is None:
            unknown.append(str(column))
            continue
        if name in seen:
            raise SchemaError(
                f"{where(source, column=str(column))}: this column and {seen[name]!r} "
                f"both mean {name!r}; keep one of them"
            )
        seen[name] = column
        mapping[column] = name
    return frame.rename(columns=mapping), unknown


_GROUPED = {".": re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$"),
            ",": re.compile(r"^[+-]?\d{1,3}(\.\d{3})+(,\d+)?$")}


def parse_numbers(
    cells: pd.Series,
    *,
    source: str,
    column: str,
    report: dict[str, Any] | None = None,
    decimal: str = ".",
    minimum: float | None = 0.0,
    private: bool = False,
) -> pd.Series:
    """Return a column of number cells as float (NaN where empty), refusing what is not one.

    Thousands separators (``1,234``; ``1.234`` with ``decimal=","``) and decimal commas are
    read as numbers and counted in ``report`` as repairs (with a warning). Text, ``NaN``,
    ``inf`` and values below ``minimum`` raise :class:`SchemaError` naming file, row and
    column (and the value, unless ``private``).

    Examples
    --------
    >>> parse_numbers(pd.Series(["1,200", "", "7.5"]), source="a.csv", column="seats").tolist()
    [1200.0, nan, 7.5]
    >>> parse_numbers(pd.Series(["inf"]), source="a.csv", column="seats")
    Traceback (most recent call last):
    ...
    assetmap.errors.SchemaError: a.csv, row 0, column 'seats': not a finite number: 'inf'; ...
    """
    text = cells.astype("string").str.strip()
    text = text.mask(text == "")
    grouped = text.str.fullmatch(_GROUPED[decimal]).fillna(False).to_numpy(dtype=bool)
    other = "." if decimal == "," else ","
    work = text.where(~grouped, text.str.replace(other, "", regex=False))
    comma = np.zeros(len(text), dtype=bool)
    if decimal == ",":
        comma = work.str.fullmatch(r"[+-]?\d*,\d+").fillna(False).to_numpy(dtype=bool)
        work = work.str.replace(",", ".", regex=False)
    values = pd.to_numeric(work, errors="coerce").astype(float)
    finite = np.isfinite(values.to_numpy())
    present = text.notna().to_numpy()
    checks = [(present & values.isna().to_numpy(), "not a number"),
              (present & ~values.isna().to_numpy() & ~finite, "not a finite number")]
    if minimum is not None:
        checks.append((finite & (values.to_numpy() < minimum), f"below {minimum:g}"))
    for bad, why in checks:
        if bad.any():
            row = cells.index[np.flatnonzero(bad)[0]]
            shown = "" if private else f": {cells.loc[row]!r}"
            raise SchemaError(f"{where(source, row=int(row), column=column)}: {why}{shown}; "
                              f"{int(bad.sum())} such cell(s) in this column")
    if report is not None and grouped.any():
        count_repair(report, f"numbers with thousands separators read as numbers ({column})",
                     int(grouped.sum()))
    if report is not None and comma.any():
        count_repair(report, f"decimal commas read as decimal points ({column})",
                     int(comma.sum()))
    return values


def _known_count(cells: Iterable[object], known: set[str]) -> int:
    return sum(1 for c in cells if c is not None and header_key(c) in known)


def _find_header(rows: pd.DataFrame, known: set[str], *, source: str) -> int:
    for i in range(min(_HEADER_SCAN_ROWS, len(rows))):
        if _known_count(rows.iloc[i].tolist(), known) >= 2:
            return i
    raise SchemaError(
        f"{source}: found no header row in the first {_HEADER_SCAN_ROWS} rows "
        f"(looked for at least two of: {', '.join(sorted(known)[:15])}, ...)"
    )


def _check_one_header_row(rows: pd.DataFrame, header_row: int, known: set[str],
                          *, source: str) -> None:
    """Refuse a header spread over two rows (merged cells above sub-headings)."""
    if header_row + 1 >= len(rows):
        return
    header = rows.iloc[header_row].tolist()
    below = rows.iloc[header_row + 1].tolist()
    under_blank = [str(b) for h, b in zip(header, below, strict=True)
                   if (h is None or (isinstance(h, float) and pd.isna(h)))
                   and b is not None and header_key(b) in known]
    if under_blank:
        raise SchemaError(
            f"{where(source, row=header_row + 2)}: the header seems to span two rows (column "
            f"names {under_blank[:3]} sit under empty or merged header cells); unmerge the "
            "cells and keep one header row")


def _apply_header(rows: pd.DataFrame, header_row: int, *, source: str) -> pd.DataFrame:
    header = rows.iloc[header_row].tolist()
    names = []
    for i, name in enumerate(header):
        text = "" if name is None or (isinstance(name, float) and pd.isna(name)) else str(name)
        names.append(text.strip() or f"unnamed_{i}")
    body = rows.iloc[header_row + 1 :].copy()
    body.columns = names
    body = body.loc[:, [not n.startswith("unnamed_") or body[n].notna().any() for n in names]]
    blank = body.isna().all(axis=1)
    body = body.loc[~blank]
    # the index is the 1-based data row number (first row under the header = 1), as in where()
    body.index = pd.Index(body.index.to_numpy() - header_row, name="row")
    if header_row:
        warnings.warn(
            f"{source}: the header is on row {header_row + 1}; skipped {header_row} row(s) "
            "above it (a title or notes)",
            RepairWarning,
            stacklevel=3,
        )
    return body


def _blank_to_missing(rows: pd.DataFrame) -> pd.DataFrame:
    """Return ``rows`` with empty and white-space-only cells missing.

    The same cells as the regular-expression replace of whole-white-space cells (Python's
    white space, as `str.isspace`), tested once per distinct value instead of once per cell.
    """
    out = rows.copy()
    for col in out.columns:
        values = out[col].to_numpy(dtype=object, na_value=None)
        blank = {v for v in set(values) if type(v) is str and (not v or v.isspace())}
        if blank:
            mask = np.fromiter((v in blank for v in values), dtype=bool, count=len(values))
            out[col] = out[col].where(~mask, None)
    return out


def read_table(path: str | Path, *, known_headers: Iterable[str]) -> tuple[pd.DataFrame, int]:
    """Read a CSV/TXT/XLSX file as cells, finding the header row.

    Returns ``(frame, header_row)``: ``frame`` has one row per data row (blank rows
    dropped; the index is the 1-based data row number used in messages), cells as ``str``
    (CSV) or Excel's cell values (XLSX: str, float, datetime,
    time), and ``header_row`` is the 0-based row the header was found on.
    """
    path = Path(path)
    source = str(path)
    known = {header_key(k) for k in known_headers}
    suffix = path.suffix.lower()
    sep = ","
    if suffix in {".xlsx", ".xlsm"}:
        with parse_errors(source, what="Excel workbook"):
            rows = pd.read_excel(path, header=None, dtype=object, engine="openpyxl")
        rows = rows.astype(object).where(rows.notna(), None)
    elif suffix in {".csv", ".txt", ".tsv"}:
        encoding, note = sniff_encoding(path)
        if note:
            warnings.warn(f"{source}: {note}", RepairWarning, stacklevel=2)
        sep = _separator(path, encoding, source=source)
        with parse_errors(source):
            rows = pd.read_csv(
                path,
                sep=sep,
                header=None,
                dtype=str,
                keep_default_na=False,
                encoding=encoding,
                skip_blank_lines=False,
                engine="python",
            )
        if sep == ";":
            warnings.warn(f"{source}: fields separated by ';' (a European-locale export); read "
                          "so, with decimal commas in numbers", RepairWarning, stacklevel=2)
        rows = _blank_to_missing(rows)
    else:
        raise SchemaError(
            f"{source}: cannot read {suffix!r} files here; use CSV, TXT (pipe-delimited), "
            "XLSX, GeoJSON or a shapefile"
        )
    if rows.empty:
        raise SchemaError(f"{source}: the file has no rows")
    header_row = _find_header(rows, known, source=source)
    _check_one_header_row(rows, header_row, known, source=source)
    body = _apply_header(rows, header_row, source=source)
    if body.empty:
        raise SchemaError(f"{source}: the file has a header but no data rows; is the export "
                          "complete?")
    body.attrs["decimal"] = "," if sep == ";" else "."
    return body, header_row


def _separator(path: Path, encoding: str, *, source: str) -> str:
    """Return the delimiter of the first lines; refuse a header wider than MAX_COLUMNS."""
    with path.open("r", encoding=encoding, errors="replace", newline="") as handle:
        first = handle.readline(4 << 20)
        head = first + "".join(handle.readline(1 << 16) for _ in range(4))
    first = first.splitlines()[0] if first else ""
    counts = {sep: first.count(sep) for sep in _SEPARATORS}
    if max(counts.values()) >= MAX_COLUMNS:
        raise SchemaError(f"{source}: the header has more than {MAX_COLUMNS} columns "
                          f"({max(counts.values()) + 1}); is this the right file?")
    if head.count("|") > head.count(","):
        return "|"
    if "\t" in head:
        return "\t"
    if counts[";"] > counts[","]:
        return ";"
    return ","


def read_vector(path: str | Path, *, crs: Any = None) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Read a vector file; returns the frame in EPSG:4326 and a list of repair notes.

    A layer without a CRS (a shapefile without its ``.prj``) is taken as EPSG:4326 when
    ``crs`` is not given and every coordinate is a plausible longitude/latitude, with a
    :class:`RepairWarning`; projected coordinates without a CRS raise :class:`SchemaError`
    asking for the ``.prj`` or ``crs=``.
    """
    path = Path(path)
    check_zip_file(path)
    with parse_errors(path, what="vector file"):
        layers = _layer_names(path)
        if len(layers) > 1:
            raise SchemaError(f"{path}: holds {len(layers)} layers ({', '.join(layers[:5])}); "
                              "which one to read is not known: save the one layer wanted in "
                              "its own file")
        frame = gpd.read_file(path)
    if not len(frame):
        raise SchemaError(f"{path}: the layer has no features; is the export complete?")
    notes: list[str] = []
    if frame.crs is None:
        if crs is not None:
            frame = frame.set_crs(crs)
            notes.append(f"no CRS in the file; used crs={crs!r} as given")
        else:
            minx, miny, maxx, maxy = frame.total_bounds if len(frame) else (0, 0, 0, 0)
            if -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90:
                frame = frame.set_crs("EPSG:4326")
                notes.append("no CRS (.prj missing); coordinates look like degrees: EPSG:4326")
                warnings.warn(
                    f"{path}: the layer has no CRS (is the .prj file missing?); its coordinates "
                    "look like longitude/latitude, so they were read as EPSG:4326",
                    RepairWarning,
                    stacklevel=3,
                )
            else:
                raise SchemaError(
                    f"{path}: the layer has no CRS (is the .prj file missing?) and its coordinates "
                    f"are projected (bounds {minx:.0f}, {miny:.0f}, {maxx:.0f}, {maxy:.0f}); "
                    "put the "
                    ".prj beside the .shp or pass crs=, e.g. crs='EPSG:3857'"
                )
    check_degrees(frame, str(path))
    return frame.to_crs("EPSG:4326"), notes


def _layer_names(path: Path) -> list[str]:
    """Return the layer names of a multi-layer container (GeoPackage, File GDB); else []."""
    if path.suffix.lower() not in {".gpkg", ".gdb"}:
        return []
    import pyogrio

    return [str(name) for name in pyogrio.list_layers(path)[:, 0]]


def check_degrees(frame: gpd.GeoDataFrame, source: str) -> None:
    """Refuse a layer labelled with a geographic CRS whose coordinates are not degrees.

    A layer written in metres or feet but labelled EPSG:4326 (a wrong ``.prj`` or a GeoJSON
    written without reprojecting) would otherwise land in the ocean or nowhere at all.
    """
    if frame.crs is None or not frame.crs.is_geographic or not len(frame):
        return
    minx, miny, maxx, maxy = (float(b) for b in frame.total_bounds)
    if not all(map(np.isfinite, (minx, miny, maxx, maxy))):
        return
    if not (-180.5 <= minx <= maxx <= 180.5 and -90.5 <= miny <= maxy <= 90.5):
        raise SchemaError(
            f"{source}: the layer says its CRS is {frame.crs.to_string()} (degrees) but its "
            f"coordinates are not longitude/latitude (bounds {minx:.0f}, {miny:.0f}, "
            f"{maxx:.0f}, {maxy:.0f}): it was written in a projected CRS and mislabelled; "
            "fix the .prj (or the GeoJSON's crs) or pass crs= with the real CRS"
        )
