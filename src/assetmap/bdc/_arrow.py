"""BDC availability rows in Arrow: pyarrow's CSV options, and the row checks in pyarrow compute.

pyarrow's CSV reader parses a county- or state-sized BDC file about twice as fast as
DuckDB's ``read_csv`` here (:mod:`assetmap.bdc._csv_ranges` reads with :func:`csv_options`),
and :func:`checked_table` then gives every row the check code of
:func:`assetmap.bdc._checks.checked_sql` (the same tests in the same order; the Arrow and SQL
codes are compared row for row in the tests). It is only a faster path for clean files: the
moment a file is not exactly what the typed DuckDB scan accepts (text in a number column, a
short or long row, text that is not UTF-8), the whole read falls back to that scan, which
names the file, row and column or counts the repair. Numbers are parsed as float64 (never
rounded); a number outside its column's range (:func:`out_of_range`) is an error naming
file, row and column. Both read the columns by position under the checked header, with
``"`` quoting and doubled quotes, and an empty field (quoted or not) as NULL.

Text columns are parsed as ``large_string``, the layout of pandas' Arrow-backed ``str``
columns, so the frame of :func:`assetmap.load_bdc` takes them without a copy; the large
tables are allocated from :func:`memory_pool`, passed to each pyarrow call (pyarrow's
process-wide default pool is left alone).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from assetmap.bdc._checks import (
    BLANKS,
    FILTERS,
    FIRST_FILTER_CODE,
    FIX_GEOID,
    FIX_LETTERS,
    FIX_SPACES,
    ID_COLUMNS,
    REJECT_REASONS,
    filter_code,
)
from assetmap.bdc._schema import LETTER_CODES, NUMERIC, RANGES, TECHNOLOGIES
from assetmap.errors import SchemaError, where

__all__ = ["checked_table", "csv_options", "duplicate_keys", "edge_blanks", "in_letters",
           "memory_pool", "out_of_range", "out_of_range_error", "row_positions", "true_array"]

_BLANK_BYTES = [ord(c) for c in BLANKS]


def memory_pool() -> pa.MemoryPool:
    """Return the pool for the large tables of a read: jemalloc where pyarrow has it.

    pyarrow's default pool (mimalloc) gave pages back and faulted them in again: reading
    and checking a 5 M-row file spent 2-3x the system time with it (benchmarks/RESULTS.md).
    """
    try:
        return pa.jemalloc_memory_pool()
    except NotImplementedError:  # a build without jemalloc (Windows)
        return pa.default_memory_pool()


def csv_options(header: Sequence[str], columns: Sequence[str], *, skip_rows: int = 1,
                block_size: int | None = None
                ) -> tuple[pacsv.ReadOptions, pacsv.ParseOptions, pacsv.ConvertOptions]:
    """Return pyarrow's CSV options for BDC rows: columns by position under the header.

    ``"`` quoting with doubled quotes, an empty field (quoted or not) as NULL, numbers as
    float64, text as ``large_string`` (the layout of pandas' Arrow-backed ``str`` columns,
    taken without a copy later). One thread parses (the caller reads files or ranges side
    by side); ``block_size`` bytes at a time.
    """
    read = pacsv.ReadOptions(column_names=list(header), skip_rows=skip_rows, use_threads=False,
                             **({"block_size": block_size} if block_size else {}))
    parse = pacsv.ParseOptions(delimiter=",", quote_char='"', double_quote=True,
                               escape_char=False, newlines_in_values=False,
                               ignore_empty_lines=False)
    convert = pacsv.ConvertOptions(
        column_types={c: pa.float64() if c in NUMERIC else pa.large_string() for c in header},
        include_columns=list(columns), null_values=[""], true_values=[], false_values=[],
        strings_can_be_null=True, quoted_strings_can_be_null=True)
    return read, parse, convert


def out_of_range(table: pa.Table) -> tuple[int, str, Any] | None:
    """Return (0-based row, column, value) of the first number outside its column's range.

    The first column of :data:`~assetmap.bdc._schema.NUMERIC` that has one, at its first row;
    None when every number is in range (one ``min_max`` pass per column).

    Examples
    --------
    >>> import pyarrow as pa
    >>> out_of_range(pa.table({"technology": [50.0, 1e9], "low_latency": [1.0, 1.0]}))
    (1, 'technology', 1000000000.0)
    """
    for column in NUMERIC:
        if column not in table.column_names:
            continue
        values = table.column(column)
        low, high = RANGES[column]
        bounds = pc.min_max(values).as_py()  # one pass; the row is searched only if needed
        if ((bounds["min"] is None or (low <= bounds["min"] and bounds["max"] <= high))
                and not pc.any(pc.is_nan(values)).as_py()):
            continue
        outside = pc.or_(pc.or_(pc.less(values, low), pc.greater(values, high)),
                         pc.is_nan(values))
        if pc.any(outside).as_py():
            row = int(pc.index(outside, True).as_py())
            return row, column, values[row].as_py()
    return None


def out_of_range_error(shown: str, row: int, column: str, value: Any) -> SchemaError:
    """Return the error for a number outside its column's range, at a 1-based ``row``."""
    low, high = RANGES[column]
    unit = "Mbps, " if "speed" in column else ""
    return SchemaError(f"{where(shown, row=row, column=column)}: {value!r} is not a {column} "
                       f"value ({unit}{low:,} to {high:,}); correct or remove that row, then "
                       "read the file again")


def edge_blanks(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    r"""Return whether each text value starts or ends with a space or tab (NULL, non-text: no).

    Read from the first and last byte of each value, with no new text array; a value of
    spaces and tabs only (a blank id, rejected as such) is not counted.

    Examples
    --------
    >>> edge_blanks(pa.chunked_array([["12", " 12", "12\t"], [None, "", "1 2", "  "]])).tolist()
    [False, True, True, False, False, False, False]
    """
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    parts = [np.zeros(0, dtype=bool)]
    for chunk in chunks:
        n = len(chunk)
        found = np.zeros(n, dtype=bool)
        parts.append(found)
        if not n or not (pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)):
            continue
        _, offsets_buffer, data_buffer = chunk.buffers()
        wide = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        offsets = np.frombuffer(offsets_buffer, dtype=wide)[
            chunk.offset:chunk.offset + n + 1].astype(np.int64, copy=False)
        if data_buffer is None or offsets[-1] == offsets[0]:
            continue
        data = np.frombuffer(data_buffer, dtype=np.uint8)
        start, end = offsets[:-1], offsets[1:]
        full = end > start
        first, last = data[np.where(full, start, 0)], data[np.where(full, end - 1, 0)]
        edge = np.zeros(n, dtype=bool)
        for byte in _BLANK_BYTES:  # two compares each: np.isin is ~8x slower here
            edge |= first == byte
            edge |= last == byte
        np.logical_and(full, edge, out=found)
        if chunk.null_count:
            found &= np.asarray(chunk.is_valid())
        at = np.flatnonzero(found)  # few: only blanks (a blank id, rejected) are not trimmed
        if len(at):
            rest = pc.utf8_length(pc.utf8_trim(chunk.take(pa.array(at)), BLANKS))
            found[at] = np.asarray(rest) > 0
    return np.concatenate(parts)


def checked_table(tables: Sequence[pa.Table], selection: dict[str, list[Any]], *,
                  letters: bool = False, positions: bool = True) -> pa.Table:
    r"""Give every parsed row its check code, as :func:`~assetmap.bdc._checks.checked_sql`.

    Parameters
    ----------
    tables : sequence of pyarrow.Table
        The files' rows (parsed with :func:`csv_options`), each with the BDC columns in one
        order.
    selection : dict
        :func:`~assetmap.bdc._checks.row_selection`; applied to the repaired block GEOID.
    letters : bool
        Return the letter codes upper-cased and trimmed, counted as repairs.
    positions : bool
        Add ``_file`` and ``_row`` (False: leave them out; :func:`row_positions` finds the
        few that are needed).

    Returns
    -------
    pyarrow.Table
        Every row in file order, ``block_geoid`` repaired (a 14-digit GEOID gets its leading
        zero back), technology and low_latency as int16 and int8 (NULL in rejected rows), then
        ``_check`` (0 kept, 1 repaired, 2-7 rejected, 8 and up left out by a filter), ``_fix``
        (bits of the repairs), ``_file`` (index of the table) and ``_row`` (1-based data row).

    Examples
    --------
    >>> import pyarrow as pa
    >>> from assetmap.bdc._schema import BDC_COLUMNS
    >>> row = ["1", "130001", "Fiber", "1001", 50.0, 1000.0, 1000.0, 1.0, "r", "CA",
    ...        "60372073011000", "8829a1d8c9fffff"]
    >>> t = pa.table({c: [v, v] for c, v in zip(BDC_COLUMNS, row)})
    >>> out = checked_table([t], {"county": ["06037"], "codes": ["B"]})
    >>> out.column("block_geoid")[0].as_py(), out.column("_check").to_pylist()
    ('060372073011000', [13, 13])
    """
    table = pa.concat_tables(tables) if len(tables) != 1 else tables[0]
    sizes = [t.num_rows for t in tables]
    geoid = table.column("block_geoid")
    length = pc.binary_length(geoid)  # bytes: equal to characters for the ASCII digits kept
    short = np.asarray(pc.fill_null(pc.equal(length, 14), False), dtype=bool)
    repaired = geoid
    if short.any():  # a new array only when a GEOID lost its leading zero
        repaired = pc.if_else(pa.array(short), pc.binary_join_element_wise(
            pa.scalar("0", geoid.type), geoid, pa.scalar("", geoid.type)),
                              geoid)
    fix = np.where(short, FIX_GEOID, 0).astype(np.int8)
    if letters:
        for name in LETTER_CODES:
            col = table.column(name)
            written = pc.unique(col).drop_null()  # a few values: normalise those only
            canonical = pc.utf8_upper(pc.utf8_trim(written, BLANKS))
            changed = written.filter(pc.not_equal(written, canonical))
            if len(changed):
                fix |= np.where(true_array(pc.is_in(col, changed), False), FIX_LETTERS, 0
                                ).astype(np.int8)
                fixed = pc.take(canonical, pc.index_in(col, written))
                table = table.set_column(table.schema.get_field_index(name), name, fixed)
    for name in ID_COLUMNS:  # " 12" and "12" are one location: trimmed, counted
        edged = edge_blanks(table.column(name))
        if edged.any():
            fix |= np.where(edged, FIX_SPACES, 0).astype(np.int8)
            col = table.column(name)
            table = table.set_column(table.schema.get_field_index(name), name, pc.if_else(
                pa.array(edged), pc.utf8_trim(col, BLANKS), col))
    check = np.where(fix > 0, 1, 0).astype(np.int8)
    rep = check.copy()
    for name in reversed(FILTERS):  # the first failing filter wins
        keep = _selected(table, repaired, selection, name)
        if keep is not None:
            check[~keep] = filter_code(name) + rep[~keep]
    rejected = False
    for code, failed in reversed(_rejections(table, length)):  # the first failing test wins
        if pc.any(failed).as_py():  # clean files fail none: no array is made
            check[true_array(failed)] = code
            rejected = True
    pool = memory_pool()
    passed = pa.array((check <= 1) | (check >= FIRST_FILTER_CODE), type=pa.bool_())
    for name, kind in (("technology", pa.int16()), ("low_latency", pa.int8())):
        values = table.column(name)
        if rejected:  # codes of rows that passed only
            values = pc.if_else(passed, values, None, memory_pool=pool)
        table = table.set_column(table.schema.get_field_index(name), name,
                                 pc.cast(values, kind, safe=False, memory_pool=pool))
    table = table.set_column(table.schema.get_field_index("block_geoid"), "block_geoid",
                             repaired)
    table = table.append_column("_check", pa.array(check)).append_column("_fix", pa.array(fix))
    if not positions:
        return table
    files, rows = row_positions(sizes, np.arange(table.num_rows))
    return table.append_column("_file", pa.array(files)).append_column("_row", pa.array(rows))


def row_positions(sizes: Sequence[int], at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the file (index) and the 1-based data row of rows ``at`` of tables of ``sizes``.

    Examples
    --------
    >>> [v.tolist() for v in row_positions([2, 3], np.array([0, 1, 2, 4]))]
    [[0, 0, 1, 1], [1, 2, 1, 3]]
    """
    starts = np.cumsum([0, *sizes], dtype=np.int64)
    files = (np.searchsorted(starts, at, side="right") - 1).astype(np.int32)
    return files, np.asarray(at, dtype=np.int64) - starts[files] + 1


def true_array(cond: Any, null: bool = True) -> np.ndarray:
    """Return a pyarrow boolean array as numpy, ``null`` for its missing values."""
    return np.asarray(pc.fill_null(cond, null).to_numpy(zero_copy_only=False), dtype=bool)


def _in(values: pa.ChunkedArray | pa.Array, allowed: list[Any]) -> pa.Array:
    """Return SQL's ``IN``: NULL where the value is NULL."""
    return pc.if_else(pc.is_null(values), None, pc.is_in(values, pa.array(allowed)))


def _selected(table: pa.Table, geoid: pa.Array, selection: dict[str, list[Any]],
              name: str) -> np.ndarray | None:
    """Return the rows filter ``name`` keeps (a NULL condition: left out), or None."""
    conds = []
    if name == "states" and "state_usps" in selection:
        conds += [in_letters(table.column("state_usps"), selection["state_usps"]),
                  _prefix_in(geoid, 2, selection["state_fips"])]
    if name == "areas":
        conds += [_prefix_in(geoid, width, selection[key])
                  for key, width in (("county", 5), ("tract", 11)) if key in selection]
    if name == "codes" and "codes" in selection:
        conds.append(in_letters(table.column("business_residential_code"), selection["codes"]))
    if name == "technologies" and "technologies" in selection:
        conds.append(_in(table.column("technology"),
                         [float(t) for t in selection["technologies"]]))
    if not conds:
        return None
    keep = conds[0]
    for cond in conds[1:]:
        keep = pc.and_kleene(keep, cond)
    return true_array(keep, False)


def in_letters(values: pa.ChunkedArray | pa.Array, allowed: list[str]
               ) -> pa.ChunkedArray | pa.Array:
    """SQL's ``upper(trim(values)) IN allowed`` (NULL stays NULL), exact values found first.

    Only the few distinct other values are upper-cased and trimmed (``" r "`` is R).
    """
    allowed_values = pa.array(allowed, values.type)
    exact = pc.is_in(values, value_set=allowed_values)
    others = pc.unique(values.filter(pc.invert(exact))).drop_null()
    variants = others.filter(pc.is_in(pc.utf8_upper(pc.utf8_trim(others, BLANKS)),
                                      value_set=allowed_values))
    chosen = pc.or_(exact, pc.is_in(values, value_set=variants)) if len(variants) else exact
    return pc.if_else(pc.is_null(values), None, chosen)


def _prefix_in(geoid: pa.Array, width: int, allowed: list[str]) -> pa.Array:
    """Return SQL's ``substr(geoid, 1, width) IN allowed`` (NULL where the GEOID is NULL)."""
    allowed = [a for a in dict.fromkeys(allowed) if len(a) == width]  # others never match
    if len(allowed) > 8:  # many: compare the cut prefixes with a hash set
        return _in(pc.utf8_slice_codeunits(geoid, 0, width), allowed)
    found = pc.is_valid(geoid) if not allowed else None
    if found is not None:
        return pc.if_else(found, False, None)
    for value in allowed:  # few: match each without building the prefixes
        hit = pc.starts_with(geoid, value)
        found = hit if found is None else pc.or_(found, hit)
    return found


def _failed(cond: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """Return the test's result with NULL as a failure."""
    return pc.fill_null(cond, True)


def _blank(values: pa.ChunkedArray) -> pa.ChunkedArray | pa.Array:
    """NULL, empty or only spaces and tabs (trimmed only where a value starts so)."""
    maybe = _failed(pc.equal(pc.binary_length(values), 0))
    for c in BLANKS:
        maybe = pc.or_(maybe, _failed(pc.starts_with(values, c)))
    if not pc.any(maybe).as_py():
        return maybe
    found = true_array(maybe)
    rows = np.flatnonzero(found)
    trimmed = pc.utf8_trim(values.take(pa.array(rows)), BLANKS)
    found[rows] = true_array(pc.equal(pc.binary_length(trimmed), 0))
    return pa.array(found)


def _rejections(table: pa.Table, length: pa.Array) -> list[tuple[int, pa.ChunkedArray]]:
    """(code, the row fails the test), in the order of ``checked_sql``'s CASE; NULL fails.

    The tests are Arrow booleans without NULL (a bitmap each); the caller turns into numpy
    only those that any row fails.
    """
    tech = table.column("technology")
    down = table.column("max_advertised_download_speed")
    up = table.column("max_advertised_upload_speed")
    latency = table.column("low_latency")
    known = pa.array([float(t) for t in TECHNOLOGIES])
    tests = [
        (2, _failed(pc.invert(pc.is_in(tech, known)))),
        (3, _failed(pc.invert(pc.and_(pc.is_in(length, pa.array([14, 15], length.type)),
                                      pc.ascii_is_decimal(table.column("block_geoid")))))),
        (4, _blank(table.column("location_id"))),
        (5, _failed(pc.or_(pc.less(down, 0), pc.less(up, 0)))),
        (6, _failed(pc.invert(pc.is_in(latency, pa.array([0.0, 1.0]))))),
        (7, _blank(table.column("provider_id"))),
    ]
    assert [code for code, _ in tests] == list(REJECT_REASONS)
    return tests


def duplicate_keys(table: pa.Table) -> np.ndarray:
    """Return a 64-bit key per row that rows equal in every column share.

    A hash of location, provider and technology: rows that differ may share it too (the
    caller compares rows sharing a key in full), so it wraps around instead of growing.
    """
    key = np.zeros(table.num_rows, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for name in ("location_id", "provider_id", "technology"):
            key = key * np.uint64(0x9E3779B97F4A7C15) + _codes(table.column(name))
    return key.view(np.int64)


def _codes(column: pa.ChunkedArray) -> np.ndarray:
    """Return uint64 codes, equal where the values are (and maybe elsewhere; NULL: 2**64-1)."""
    values = column
    if not pa.types.is_integer(column.type):
        try:  # BDC ids are digits: as integers they hash much faster than as text
            values = pc.cast(column, pa.int64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            values = pc.dictionary_encode(column).combine_chunks().indices
    out = pc.fill_null(pc.cast(values, pa.int64()), -1).to_numpy(zero_copy_only=False)
    return np.asarray(out, dtype=np.int64).view(np.uint64)
