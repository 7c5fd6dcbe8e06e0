"""The DuckDB engine under the BDC availability loader and the streamed aggregation.

It turns a file, a list or a glob of BDC fixed-availability CSVs, zips or Parquet files into one
typed SQL relation (:func:`source_sql`) that DuckDB scans in parallel and out of core, so a
national release never materialises in pandas. Inputs are opened by
:mod:`assetmap.bdc._inputs`; the row checks are :mod:`assetmap.bdc._checks`; both are
re-exported here, as the one module the rest of :mod:`assetmap.bdc` imports the engine from.

Numbers are scanned as ``DOUBLE`` (:mod:`assetmap.bdc._schema`): nothing is rounded. A value
that does not parse as a number (``"100 Mbps"``) or lies outside its column's range (a
negative speed, ``technology`` 999999999999) raises :class:`~assetmap.errors.SchemaError`
naming file, row and column; a number written with quotes or spaces inside its field is
found by DuckDB's rejects table and repaired (the scan runs again, leniently).
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assetmap.bdc._checks import (
    REJECT_REASONS,
    checked_sql,
    row_filter,
    row_selection,
)
from assetmap.bdc._inputs import (
    Inputs,
    canonical_name,
    group_by_state,
    open_inputs,
    resolve_paths,
    state_of_file,
)
from assetmap.bdc._schema import BDC_COLUMNS, BDC_TYPES, NUMERIC, RANGES, TECHNOLOGIES
from assetmap.errors import SchemaError, where

if TYPE_CHECKING:  # imported where used: a clean CSV is read and checked without DuckDB
    import duckdb

__all__ = ["BDC_COLUMNS", "BDC_TYPES", "REJECT_REASONS", "TECHNOLOGIES", "Inputs",
           "checked_sql", "connect", "damaged_parquet", "group_by_state", "open_inputs",
           "raise_out_of_range", "resolve_paths", "row_filter", "row_selection", "run_typed",
           "settle_id_type", "source_sql", "state_of_file"]

#: a number with quotes or spaces around it, repaired (ASCII only: a full-width digit or a
#: no-break space is not repaired, the value is named as one that is not a number)
_NUMBER_TEXT = re.compile(r'^\s*"*\s*[-+]?(\d+\.?\d*|\.\d+)\s*"*\s*$', re.ASCII)
_RANGE_MARK = "assetmap-out-of-range"


def _sql_list(values: Sequence[Any]) -> str:
    return ", ".join("'" + str(v).replace("'", "''") + "'" for v in values)


def _csv_scan(header: tuple[str, ...], files: Sequence[Path], *, varchar: bool,
              extra: str = "") -> str:
    types = {c: ("VARCHAR" if varchar or c not in NUMERIC else "DOUBLE") for c in header}
    cols = ", ".join(f"'{c}': '{types[c]}'" for c in header)
    return (f"read_csv([{_sql_list(files)}], header=true, columns={{{cols}}}, auto_detect=false, "
            f"delim=',', quote='\"', escape='\"', null_padding=false{extra})")


def parquet_sql(inputs: Inputs, files: Sequence[Path] | None = None, extra: str = "") -> str:
    """Return the ``read_parquet`` call over the Parquet inputs (or ``files`` of them)."""
    return (f"read_parquet([{_sql_list(files or inputs.parquet)}], hive_partitioning=true, "
            f"union_by_name=true{extra})")


def settle_id_type(con: duckdb.DuckDBPyConnection, inputs: Inputs) -> None:
    """Read ids as integers only if every input is Parquet storing them as integers.

    CSV ids are read as text (exact: ``"0012"`` stays apart from ``"12"``), and so is
    Parquet written with text ids; the streamed aggregation groups ids as they are read
    (:mod:`assetmap.bdc._stream`).
    """
    inputs.int_ids = not inputs.csv_groups and bool(inputs.parquet)
    if inputs.int_ids:
        kind = con.execute(f"SELECT typeof(location_id) FROM {parquet_sql(inputs)} LIMIT 1"
                           ).fetchall()
        if kind and kind[0][0] not in ("BIGINT", "INTEGER", "UBIGINT", "UINTEGER", "HUGEINT"):
            inputs.int_ids = False


def _out_of_range(value: str, column: str) -> str:
    low, high = RANGES[column]
    return f"({value} < {low} OR {value} > {high})"  # NaN compares above everything


def _number(column: str, *, lenient: bool, guard: bool, parquet: bool = False) -> str:
    value = (f"TRY_CAST(trim(replace({column}, '\"', '')) AS DOUBLE)" if lenient
             else f"CAST({column} AS DOUBLE)" if parquet else column)
    if not guard:
        return value
    return (f"CASE WHEN {_out_of_range(value, column)} THEN error('{_RANGE_MARK}') "
            f"ELSE {value} END")


def source_sql(inputs: Inputs, columns: Sequence[str] = BDC_COLUMNS, *, guard: bool = True,
               files: Sequence[Path] | None = None, numbered: bool = False) -> str:
    """Return SQL for the typed union of the inputs: ``columns`` in order, then ``_fixed``.

    Numbers are DOUBLE; ``location_id`` is text, or BIGINT for Parquet with integer ids
    (:attr:`Inputs.id_type`). ``_fixed`` says a number was repaired (lenient scan only).
    ``guard`` stops the query (an error :func:`run_typed` names) at a number out of range.
    ``files`` reads only those inputs; ``numbered`` (one file) adds ``_row``, the data row.
    """
    parts = []
    chosen = set(files) if files is not None else None
    row = ", row_number() OVER () AS _row" if numbered else ""
    for header, group in inputs.csv_groups.items():
        group = [f for f in group if chosen is None or f in chosen]
        if not group:
            continue
        exprs = [f"{_number(c, lenient=inputs.lenient, guard=guard)} AS {c}" if c in NUMERIC
                 else c for c in columns]
        fixed = " OR ".join(f"({c} IS NOT NULL AND TRY_CAST({c} AS DOUBLE) IS NULL)"
                            for c in NUMERIC if c in columns) if inputs.lenient else ""
        exprs.append(f"({fixed or 'FALSE'}) AS _fixed")
        scan = _csv_scan(header, group, varchar=inputs.lenient)
        parts.append(f"SELECT {', '.join(exprs)}{row} FROM {scan}")
    parquet = [p for p in inputs.parquet if chosen is None or p in chosen]
    if parquet:
        exprs = [f"{_number(c, lenient=False, guard=guard, parquet=True)} AS {c}" if c in NUMERIC
                 else f"CAST({c} AS {inputs.id_type if c == 'location_id' else 'VARCHAR'}) "
                      f"AS {c}" for c in columns]
        extra = ", file_row_number=true" if numbered else ""
        row = ", file_row_number + 1 AS _row" if numbered else ""
        parts.append(f"SELECT {', '.join(exprs)}, FALSE AS _fixed{row} "
                     f"FROM {parquet_sql(inputs, parquet, extra)}")
    if not parts:
        raise SchemaError("no BDC availability rows to read (no CSV, zip or Parquet input)")
    return "\nUNION ALL\n".join(parts)


def connect(*, threads: int | None = None,
            memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB connection set up for streamed scans with a bounded memory footprint."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    # Under Jupyter without ipywidgets DuckDB starts with the bar off and refuses to set it.
    progress = con.execute("SELECT current_setting('enable_progress_bar')").fetchone()
    if progress and progress[0]:
        con.execute("SET enable_progress_bar = false")
    con.execute(f"SET threads = {int(threads or os.cpu_count() or 2)}")
    con.execute(f"SET memory_limit = '{memory_limit or '1500MB'}'")
    con.execute(f"SET temp_directory = '{tempfile.gettempdir()}/assetmap_duckdb_spill'")
    return con


def raise_out_of_range(con: duckdb.DuckDBPyConnection, inputs: Inputs,
                       error: Exception | None = None) -> None:
    """Find the first number out of its column's range, file by file, and raise naming it.

    ``error`` is what found it (DuckDB's, or None when another engine counted the rows).
    """
    numeric = list(NUMERIC)
    for path in inputs.files():
        sql = source_sql(inputs, numeric, guard=False, files=[path], numbered=True)
        found = con.execute(
            f"SELECT _row, {', '.join(numeric)} FROM ({sql}) AS s WHERE "
            + " OR ".join(_out_of_range(c, c) for c in numeric) + " LIMIT 1").fetchall()
        if found:
            row, *values = found[0]
            for column, value in zip(numeric, values, strict=True):
                low, high = RANGES[column]
                if value is not None and not low <= value <= high:
                    unit = "Mbps, " if "speed" in column else ""
                    raise SchemaError(
                        f"{where(inputs.name(path), row=int(row), column=column)}: {value!r} is "
                        f"not a {column} value ({unit}{low:,} to {high:,}); correct or remove "
                        "that row, then read the file again") from error
    raise SchemaError("reading the BDC files failed: a number out of range"
                      + (f" ({error})" if error is not None else "")) from error


def diagnose(con: duckdb.DuckDBPyConnection, inputs: Inputs,
             error: Exception, shown: dict[Path, str] | None = None) -> None:
    """After a typed read failed: repair numbers written as text, or raise clearly."""
    import duckdb

    if _RANGE_MARK in str(error):
        # a file read before may hold text where a number belongs: then it is diagnosed
        # below, as if the scan had stopped there first
        with contextlib.suppress(duckdb.ConversionException):
            raise_out_of_range(con, inputs, error)
    bad: list[tuple[str, int, str, str, str]] = []
    for header, files in inputs.csv_groups.items():
        con.execute("DROP TABLE IF EXISTS reject_errors; DROP TABLE IF EXISTS reject_scans")
        scan = _csv_scan(header, files, varchar=False,
                         extra=", ignore_errors=true, store_rejects=true")
        counted = ", ".join(f"count({c})" for c in header)  # every column is converted
        try:
            con.execute(f"SELECT {counted} FROM {scan}").fetchall()
        except duckdb.Error as exc:  # not a bad value but a line the parser cannot split
            raise _unparsable(files, inputs, exc) from error
        rows = con.execute(
            "SELECT s.file_path, e.line, e.column_name, e.csv_line, e.error_type "
            "FROM reject_errors e JOIN reject_scans s USING (scan_id, file_id) "
            "ORDER BY s.file_path, e.line"
        ).fetchall()
        for file_path, line, column, csv_line, error_type in rows:
            bad.append((str(file_path), int(line), str(column or ""), str(csv_line),
                        str(error_type)))
    if not bad:
        raise SchemaError(f"reading the BDC files failed: {error}") from error
    fatal = []
    for file_path, line, column, text, kind in bad:
        header = next(h for h, fs in inputs.csv_groups.items() if Path(file_path) in fs)
        values = _split_line(text)
        idx = header.index(column) if column in header else -1
        value = values[idx] if 0 <= idx < len(values) else None
        if not (column in NUMERIC and value is not None and _NUMBER_TEXT.match(value)):
            fatal.append((file_path, line, column, value if value is not None else text, kind,
                          text))
    if fatal:
        raise _fatal_error(fatal, inputs) from error
    inputs.lenient = True
    inputs.numeric_repairs = len({(f, line) for f, line, *_ in bad})


def _fatal_error(fatal: list[tuple[str, int, str, str, str, str]], inputs: Inputs
                 ) -> SchemaError:
    """Return the error for the first line DuckDB could not read: what is wrong, and where.

    A line with too few or too many fields, a repeated header line (files joined with their
    headers), text that is not UTF-8, or a value that is not a number.
    """
    file_path, line, column, value, kind, text = fatal[0]
    rows = len({(f, n) for f, n, *_ in fatal})
    also = f" ({rows} rows that cannot be read in all)" if rows > 1 else ""
    header = next(h for h, fs in inputs.csv_groups.items() if Path(file_path) in fs)
    kind = kind.upper()
    fields = _split_line(text)
    if [canonical_name(f) for f in fields] == list(header):  # as check_header maps it
        return SchemaError(f"{where(inputs.name(file_path), row=line - 1)}: the header line "
                           f"again (files joined with their headers?){also}; remove the "
                           "repeated header lines, or give the files one by one")
    if kind in ("MISSING COLUMNS", "TOO MANY COLUMNS"):
        return SchemaError(
            f"{where(inputs.name(file_path), row=line - 1)}: {len(fields)} fields where the "
            f"header has {len(header)} (a line cut short, or a comma inside a field without "
            f"quotes?){also}; correct the line, then read the file again")
    place = where(inputs.name(file_path), row=line - 1, column=column or None)
    if kind == "UNQUOTED VALUE" and column not in NUMERIC:  # "Cable, Inc."9 or ab"c
        return SchemaError(f"{place}: text after the closing quote of a value, or a quote "
                           f"inside a value without quotes ({value!r}){also}; quote the "
                           'whole value, with each quote inside it doubled (""), then read '
                           "the file again")
    if "ENCODING" in kind or "UNICODE" in kind:
        return SchemaError(f"{place}: the text is not UTF-8 (saved in Windows-1252 or "
                           "Latin-1?); open the file and save it as 'CSV UTF-8', then read "
                           "it again")
    return SchemaError(
        f"{place}: cannot read {value!r} as "
        f"{'a number' if column in NUMERIC else 'a value of this column'}{also} (speeds are "
        "Mbps, technology and low_latency are integer codes); correct the value, then read "
        "the file again")


def _unparsable(files: Sequence[Path], inputs: Inputs, exc: Exception) -> SchemaError:
    """Return a SchemaError naming the first line that cannot be split into fields, and why."""
    for path in files:
        with path.open("rb") as handle:
            ends: dict[bool, int] = {}  # CR LF or LF: the first line ending so
            for number, line in enumerate(handle, start=1):
                body = line.rstrip(b"\n")
                crlf = body.endswith(b"\r")
                body = body[:-1] if crlf else body
                if b"\r" in body:
                    reason = "a carriage return inside the line (a line break inside a field?)"
                elif body.count(b'"') % 2:
                    reason = "an unbalanced double quote"
                else:
                    if line.endswith(b"\n"):
                        ends.setdefault(crlf, number)
                    continue
                return SchemaError(f"{where(inputs.name(path), row=number - 1)}: cannot split "
                                   f"this line into fields: {reason}")
            if len(ends) == 2:  # DuckDB's scan takes one kind of line end per file
                first = {k: f"row {n - 1}" if n > 1 else "the header" for k, n in ends.items()}
                return SchemaError(
                    f"{where(inputs.name(path), row=max(ends.values()) - 1)}: lines end both "
                    f"Windows-style (CR LF, from {first[True]}) and Unix-style (LF, from "
                    f"{first[False]}); save the file again with one kind of line end (an "
                    "editor's line-ending setting, or dos2unix), then read it again")
    names = ", ".join(inputs.name(p) for p in files)
    return SchemaError(f"{names}: the CSV parser stopped: {exc}")


def run_typed(con: duckdb.DuckDBPyConnection, inputs: Inputs, shown: dict[Path, str] | None,
              query: Callable[[], Any]) -> Any:
    """Run ``query`` (which builds its SQL from ``inputs``), diagnosing a failed read.

    On a value that does not parse, :func:`diagnose` repairs numbers written with quotes or
    spaces (or raises naming file, row and column) and the query runs once more; a number
    out of range raises naming file, row and column. ``shown`` is not needed any more
    (``inputs`` names its files) and is accepted for callers that pass it.
    """
    import duckdb

    try:
        return query()
    except (duckdb.ConversionException, duckdb.InvalidInputException) as exc:
        diagnose(con, inputs, exc)
    try:
        return query()
    except duckdb.InvalidInputException as exc:
        if _RANGE_MARK not in str(exc):
            raise
        raise_out_of_range(con, inputs, exc)
        raise  # pragma: no cover (the line above raises)


@contextlib.contextmanager
def damaged_parquet(inputs: Inputs) -> Iterator[None]:
    """Raise DuckDB's error on a damaged Parquet file as a :class:`SchemaError` naming it.

    DuckDB's Parquet reader says only what it found (``TProtocolException: Invalid data``);
    this adds the files read. Other errors (a bad value, memory) pass unchanged.

    Examples
    --------
    >>> import duckdb
    >>> with damaged_parquet(Inputs(parquet=[Path("x.parquet")])):
    ...     raise duckdb.Error("TProtocolException: Invalid data")
    Traceback (most recent call last):
    ...
    assetmap.errors.SchemaError: x.parquet: the Parquet data cannot be read (a damaged or \
cut-short file?): TProtocolException: Invalid data
    """
    import duckdb

    try:
        yield
    except duckdb.Error as exc:
        if not inputs.parquet or not (type(exc) is duckdb.Error
                                      or isinstance(exc, duckdb.IOException)):
            raise
        names = ", ".join(str(p) for p in inputs.parquet[:5])
        more = f" (and {len(inputs.parquet) - 5} more)" if len(inputs.parquet) > 5 else ""
        raise SchemaError(f"{names}{more}: the Parquet data cannot be read (a damaged or "
                          f"cut-short file?): {exc}") from exc


def _split_line(text: str) -> list[str]:
    """Split a line DuckDB could not read into its fields (plainly at commas if csv cannot)."""
    import csv

    line = text.rstrip("\r\n")
    try:
        return next(csv.reader([line]), [])
    except csv.Error:  # a carriage return inside an unquoted field (a line cut short)
        return line.split(",")
