"""Parse well-formed BDC availability CSVs with pyarrow before DuckDB checks them.

pyarrow's CSV reader parses a county- or state-sized BDC file about twice as fast as
DuckDB's ``read_csv`` here, and :func:`checked_table` then checks and selects the rows with
pyarrow compute, row for row as :func:`assetmap.bdc._engine.checked_sql` does in
DuckDB (about a sixth of the CPU time for a county's rows). It is only a faster path for
clean files: the moment any file is not exactly what the typed DuckDB scan accepts (text in
a number column, a short or long row, an integer out of range), the whole read falls back
to that scan, which names the file, row and column or counts the repair. Both read the
columns by position under the checked header, with ``"`` quoting and doubled quotes, and an
empty field (quoted or not) as NULL.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from assetmap.bdc._engine import BDC_TYPES, TECHNOLOGIES, Inputs

__all__ = ["checked_table", "read_clean_csvs"]

_ARROW_TYPES = {"VARCHAR": pa.string(), "SMALLINT": pa.int16(), "INTEGER": pa.int32(),
                "TINYINT": pa.int8()}


def _read(path: Path, header: tuple[str, ...], columns: Sequence[str], *,
          threads: bool = True) -> pa.Table:
    return pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(column_names=list(header), skip_rows=1,
                                       use_threads=threads),
        parse_options=pacsv.ParseOptions(delimiter=",", quote_char='"', double_quote=True,
                                         escape_char=False, newlines_in_values=False,
                                         ignore_empty_lines=False),
        convert_options=pacsv.ConvertOptions(
            column_types={c: _ARROW_TYPES[BDC_TYPES[c]] for c in header},
            include_columns=list(columns), null_values=[""], true_values=[], false_values=[],
            strings_can_be_null=True, quoted_strings_can_be_null=True,
        ),
    )


def read_clean_csvs(inputs: Inputs, columns: Sequence[str], *,
                    threads: bool = True) -> list[pa.Table] | None:
    r"""Return one Arrow table per CSV input, or None if DuckDB's typed scan must read them.

    None when there is no CSV input, when any input is Parquet, when a numeric repair is
    already under way (``inputs.lenient``), or when pyarrow refuses any file. The tables'
    columns are in the order of ``columns``. ``threads=False`` parses each file in one
    thread (for callers that already read several files side by side).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from assetmap.bdc._engine import open_inputs, BDC_COLUMNS
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "bdc_48_Fiber.csv"
    >>> _ = f.write_text(",".join(BDC_COLUMNS) + "\n"
    ...     '1,130001,"Fiber, LLC",1001,50,1000,1000,1,R,TX,481350001001000,8848a2d8c9fffff\n')
    >>> with open_inputs([f]) as inputs:
    ...     tables = read_clean_csvs(inputs, ["brand_name", "technology"])
    >>> tables[0].to_pylist()
    [{'brand_name': 'Fiber, LLC', 'technology': 50}]
    >>> _ = f.write_text(",".join(BDC_COLUMNS) + "\n1,2,A,3,fifty,1,1,1,R,TX,4,5\n")
    >>> with open_inputs([f]) as inputs:
    ...     read_clean_csvs(inputs, ["technology"]) is None
    True
    """
    if inputs.lenient or inputs.parquet or not inputs.csv_groups:
        return None
    tables = []
    for header, files in inputs.csv_groups.items():
        missing = [c for c in columns if c not in header]
        if missing:
            return None
        for path in files:
            try:
                tables.append(_read(path, header, columns, threads=threads))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError):
                return None  # DuckDB's typed scan reads it and says exactly what is wrong
    return tables


def checked_table(tables: Sequence[pa.Table], selection: dict[str, list[Any]]) -> pa.Table:
    r"""Check and select parsed rows exactly as :func:`~assetmap.bdc._engine.checked_sql`.

    Parameters
    ----------
    tables : sequence of pyarrow.Table
        The files' rows (:func:`read_clean_csvs`), each with the BDC columns in one order.
    selection : dict
        :func:`~assetmap.bdc._engine.row_selection`; applied to the repaired block
        GEOID, and a NULL in a selected column leaves the row out, as SQL's ``IN`` does.

    Returns
    -------
    pyarrow.Table
        The selected rows in file order, ``block_geoid`` repaired (a 14-digit GEOID gets its
        leading zero back), then ``_check`` (0 good, 1 good and repaired, else a key of
        ``REJECT_REASONS``, tested in the same order as the SQL) and ``_hash``, an int64 that
        exact duplicates share (a hash of location, provider and technology), for the
        duplicate check.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from assetmap.bdc._engine import BDC_COLUMNS
    >>> row = ["1", "130001", "Fiber", "1001", 50, 1000, 1000, 1, "R", "CA",
    ...        "60372073011000", "8829a1d8c9fffff"]
    >>> t = pa.table({c: [v, v] for c, v in zip(BDC_COLUMNS, row)})
    >>> out = checked_table([t], {"county": ["06037"]})  # 14 digits: repaired, then selected
    >>> out.column("block_geoid")[0].as_py(), out.column("_check").to_pylist()
    ('060372073011000', [1, 1])
    >>> len(set(out.column("_hash").to_pylist()))  # one key: the rows are compared in full
    1
    """
    table = pa.concat_tables(tables) if len(tables) != 1 else tables[0]
    geoid = table.column("block_geoid")
    length = pc.utf8_length(geoid)
    short = pc.equal(length, 14)
    repaired = geoid
    if pc.any(short).as_py():  # a new array only when a GEOID lost its leading zero
        repaired = pc.if_else(short, pc.binary_join_element_wise("0", geoid, ""), geoid)
    keep = _selected(table, repaired, selection)
    if keep is not None:
        table = table.filter(keep)
        repaired = pc.filter(repaired, keep)
        short = pc.filter(short, keep)
        length = pc.filter(length, keep)
    check = _check_codes(table, length, short)
    table = table.set_column(table.schema.get_field_index("block_geoid"), "block_geoid",
                             repaired)
    return table.append_column("_check", pa.array(check)).append_column(
        "_hash", pa.array(_duplicate_keys(table)))


def _in(values: pa.ChunkedArray | pa.Array, allowed: list[Any]) -> pa.Array:
    """Return SQL's ``IN``: NULL where the value is NULL."""
    return pc.if_else(pc.is_null(values), None, pc.is_in(values, pa.array(allowed)))


def _selected(table: pa.Table, geoid: pa.Array, selection: dict[str, list[Any]]
              ) -> pa.Array | None:
    """Return the rows the selection keeps (a NULL condition: left out), or None for all."""
    conds = []
    if "state_usps" in selection:
        conds.append(_in(table.column("state_usps"), selection["state_usps"]))
        conds.append(_prefix_in(geoid, 2, selection["state_fips"]))
    if "county" in selection:
        conds.append(_prefix_in(geoid, 5, selection["county"]))
    if "tract" in selection:
        conds.append(_prefix_in(geoid, 11, selection["tract"]))
    if "codes" in selection:
        conds.append(_in(table.column("business_residential_code"), selection["codes"]))
    if "technologies" in selection:
        conds.append(_in(table.column("technology"), selection["technologies"]))
    if not conds:
        return None
    keep = conds[0]
    for cond in conds[1:]:
        keep = pc.and_kleene(keep, cond)
    return pc.fill_null(keep, False)


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


def _check_codes(table: pa.Table, length: pa.Array, short: pa.Array) -> np.ndarray:
    """``_check`` per row: the first failing test of ``checked_sql``'s CASE, else 1 or 0."""
    def true(cond: Any) -> np.ndarray:
        return np.asarray(pc.fill_null(cond, True).to_numpy(zero_copy_only=False), dtype=bool)

    tech = table.column("technology")
    down = table.column("max_advertised_download_speed")
    up = table.column("max_advertised_upload_speed")
    latency = table.column("low_latency")
    tests = [  # (code, the row fails the test); NULL counts as failing, as in the SQL
        (2, true(pc.invert(pc.is_in(tech, pa.array(TECHNOLOGIES, tech.type))))),
        (3, true(pc.invert(pc.and_(pc.is_in(length, pa.array([14, 15], length.type)),
                                   pc.ascii_is_decimal(table.column("block_geoid")))))),
        (4, np.asarray(pc.is_null(table.column("location_id")))),
        (5, true(pc.or_(pc.less(down, 0), pc.less(up, 0)))),
        (6, true(pc.invert(pc.is_in(latency, pa.array([0, 1], latency.type))))),
        (1, np.asarray(pc.fill_null(short, False))),
    ]
    check = np.zeros(table.num_rows, dtype=np.int8)
    for code, failed in reversed(tests):  # the first failing test wins
        check[failed] = code
    return check


def _duplicate_keys(table: pa.Table) -> np.ndarray:
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
