"""Read clean BDC CSVs in byte ranges side by side, checking each piece as it is parsed.

:func:`assetmap.load_bdc` reads well-formed CSVs here. Each file is cut at line ends into
ranges of about :data:`RANGE_BYTES`; threads take the ranges in turn and parse each with
pyarrow's streaming reader, a block of :data:`BLOCK_BYTES` at a time. Every piece of about
:data:`PIECE_ROWS` parsed rows is checked at once (:func:`assetmap.bdc._arrow.checked_table`,
the same codes as :func:`assetmap.bdc._checks.checked_sql`) and only its kept rows stay in
memory. Parsing each whole file first (pyarrow's ``read_csv``, 6.2 GB at its peak for 20 M rows)
and checking it after took 14.5 s for 20 M rows; reading in ranges takes 8.5-9.4 s
(benchmarks/RESULTS.md).

The moment a range is not what the typed DuckDB scan accepts (text in a number column, a
short or long row, text that is not UTF-8, a quoted line end cut by a range, a carriage
return without a line feed after it) or holds an empty line (pyarrow makes it a row of
nulls; that scan skips it, as every engine does), the whole read returns None and the
caller reads with that scan, which names the file, row and column or counts the repair. A
number outside its column's range raises :class:`~assetmap.errors.SchemaError` naming file,
row and column: the first such row of the files in reading order.
"""

from __future__ import annotations

import io
import itertools
import os
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from assetmap.bdc._arrow import (
    checked_table,
    csv_options,
    duplicate_keys,
    memory_pool,
    out_of_range,
    out_of_range_error,
)
from assetmap.bdc._counts import PLACES_SHOWN, counts_frame, rejected_rows
from assetmap.bdc._inputs import Inputs
from assetmap.bdc._schema import BDC_COLUMNS

__all__ = ["BLOCK_BYTES", "PIECE_ROWS", "RANGE_BYTES", "CheckedRows", "read_checked_csvs"]

#: a file is cut at line ends into ranges of about this many bytes, read side by side
RANGE_BYTES = 64 << 20
#: pyarrow parses this many bytes at a time (a line longer than this: DuckDB reads)
BLOCK_BYTES = 4 << 20
#: parsed rows checked together (fewer calls into pyarrow than one check per block)
PIECE_ROWS = 1 << 18


@dataclass
class CheckedRows:
    """The kept rows of every range in reading order, with what the checks found."""

    table: pa.Table
    counts: pd.DataFrame
    places: dict[int, list[tuple[str, int, str]]]


@dataclass
class _Range:
    path: Path
    file: int  # the file's place among the inputs (a file given twice is read twice)
    start: int
    end: int
    header: tuple[str, ...]
    first: bool  # the file's first range: its first line is the header


@dataclass
class _RangeResult:
    rows: int = 0
    kept: list[pa.Table] = field(default_factory=list)
    found: np.ndarray = field(default_factory=lambda: np.zeros(256, dtype=np.int64))
    rejected: list[tuple[int, int, str]] = field(default_factory=list)  # local row, code, col
    out_of_range: tuple[int, str, Any] | None = None  # local row, column, value
    unclean: bool = False


def read_checked_csvs(inputs: Inputs, selection: dict, *, threads: int | None = None
                      ) -> CheckedRows | None:
    r"""Return the checked rows of every CSV input, or None if DuckDB's typed scan must read.

    None when there is no CSV input, when any input is Parquet, when a numeric repair is
    already under way (``inputs.lenient``), or when pyarrow refuses any range.

    Parameters
    ----------
    inputs : Inputs
        From :func:`assetmap.bdc._inputs.open_inputs`.
    selection : dict
        :func:`assetmap.bdc._checks.row_selection`.
    threads : int, optional
        Ranges read side by side (default: all cores).

    Returns
    -------
    CheckedRows or None
        ``table``: the kept rows in file order, the BDC columns and ``_hash`` (a key shared
        by exact duplicates, :func:`~assetmap.bdc._arrow.duplicate_keys`); ``counts``: rows
        per ``_check`` and ``_fix`` (``n``); ``places``: per reject code, up to five (file,
        1-based row, column).

    Raises
    ------
    SchemaError
        At a number outside its column's range, naming file, row and column.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from assetmap.bdc._inputs import open_inputs
    >>> from assetmap.bdc._schema import BDC_COLUMNS
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "bdc_48_Fiber.csv"
    >>> row = '1,130001,"Fiber, LLC",1001,50,24.6,1000,1,R,TX,481350001001000,8848a2d8c9fffff\n'
    >>> _ = f.write_text(",".join(BDC_COLUMNS) + "\n" + row + row.replace(",50,", ",99,"))
    >>> with open_inputs([f]) as inputs:
    ...     rows = read_checked_csvs(inputs, {})
    >>> rows.table.select(["brand_name", "technology"]).to_pylist()
    [{'brand_name': 'Fiber, LLC', 'technology': 50}]
    >>> rows.places  # code 2: an unknown technology code
    {2: [('...bdc_48_Fiber.csv', 2, 'technology')]}
    >>> _ = f.write_text(",".join(BDC_COLUMNS) + "\n" + row.replace(",24.6,", ",fifty,"))
    >>> with open_inputs([f]) as inputs:  # text in a number column: DuckDB's scan reads it
    ...     read_checked_csvs(inputs, {}) is None
    True
    """
    if inputs.lenient or inputs.parquet or not inputs.csv_groups:
        return None
    if any(c not in header for header in inputs.csv_groups for c in BDC_COLUMNS):
        return None
    workers = max(1, threads or os.cpu_count() or 1)
    files = [(header, path) for header, paths in inputs.csv_groups.items() for path in paths]
    ranges = [r for i, (header, path) in enumerate(files)
              for r in _cut(path, header, file=i, pieces=workers)]
    stop = threading.Event()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        done = list(pool.map(lambda r: _read_range(r, selection, stop), ranges))
    if any(d.unclean for d in done):
        return None
    bad = [i for i, d in enumerate(done) if d.out_of_range is not None]
    if bad:  # ranges are in reading order: the first one's row comes first
        _raise_out_of_range(inputs, ranges, done, bad[0])
    return _gathered(inputs, ranges, done)


def _cut(path: Path, header: tuple[str, ...], *, file: int, pieces: int) -> list[_Range]:
    """Cut a file at line ends into ranges (one when it is small or has no line feed)."""
    size = path.stat().st_size
    count = max(1, min(-(-size // RANGE_BYTES), 1 << 12)) if pieces > 1 else 1
    cuts = [0]
    with path.open("rb") as f:
        for k in range(1, count):
            f.seek(size * k // count)
            f.readline()
            if f.tell() > cuts[-1] and f.tell() < size:
                cuts.append(f.tell())
    cuts.append(size)
    return [_Range(path, file, a, b, header, first=i == 0)
            for i, (a, b) in enumerate(itertools.pairwise(cuts))]


class _RangeFile(io.RawIOBase):
    """The bytes ``start:end`` of a file, read unbuffered (pyarrow asks for whole blocks).

    ``bare_cr`` tells whether a carriage return not followed by a line feed was read: pyarrow
    takes it as a line end, the typed DuckDB scan as a line it cannot split, so such a range
    is left to that scan (a CR LF file, or a CR inside quotes, reads the same in both).
    """

    def __init__(self, path: Path, start: int, end: int) -> None:
        super().__init__()
        self._file = path.open("rb", buffering=0)
        self._file.seek(start)
        self._left = end - start
        self._cr_last = False  # the block before ended with a carriage return
        self.bare_cr = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), self._left)
        got = self._file.readinto(memoryview(buffer)[:n]) or 0
        self._left -= got
        if got:
            data = np.frombuffer(buffer, dtype=np.uint8, count=got)
            if self._cr_last and data[0] != 10:
                self.bare_cr = True
            at = np.flatnonzero(data == 13)  # none in a file with LF line ends
            self._cr_last = bool(len(at)) and at[-1] == got - 1
            inner = at[:-1] if self._cr_last else at
            if len(inner) and not (data[inner + 1] == 10).all():
                self.bare_cr = True
        elif self._cr_last:  # the range ends with a carriage return alone
            self.bare_cr, self._cr_last = True, False
        return got

    def close(self) -> None:
        self._file.close()
        super().close()


def _read_range(job: _Range, selection: dict, stop: threading.Event) -> _RangeResult:
    """Parse one range piece by piece; check each piece and keep its kept rows."""
    out = _RangeResult()
    read, parse, convert = csv_options(job.header, BDC_COLUMNS, skip_rows=1 if job.first else 0,
                                       block_size=BLOCK_BYTES)
    with _RangeFile(job.path, job.start, job.end) as raw:
        try:
            reader = pacsv.open_csv(pa.PythonFile(raw, mode="r"), read_options=read,
                                    parse_options=parse, convert_options=convert,
                                    memory_pool=memory_pool())
            batches: list[pa.RecordBatch] = []
            held = 0
            for batch in reader:
                batches.append(batch)
                held += batch.num_rows
                if held >= PIECE_ROWS:
                    _check_piece(pa.Table.from_batches(batches), selection, out)
                    batches, held = [], 0
                    if stop.is_set() or out.out_of_range or out.unclean:
                        break
            else:
                if batches or not out.kept:  # an empty range still gives the columns
                    _check_piece(pa.Table.from_batches(batches, reader.schema), selection, out)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError):
            out.unclean = True  # DuckDB's typed scan reads it and says exactly what is wrong
        if raw.bare_cr:
            out.unclean = True
    if out.unclean:
        stop.set()
    return out


def _has_empty_lines(table: pa.Table) -> bool:
    """Whether a row is empty in every column: an empty line (pyarrow keeps it as a row)."""
    ids = table.column("location_id")
    if not ids.null_count:
        return False
    empty = pc.is_null(ids)
    for name in table.column_names:
        empty = pc.and_(empty, pc.is_null(table.column(name)))
    return bool(pc.any(empty).as_py())


def _check_piece(table: pa.Table, selection: dict, out: _RangeResult) -> None:
    """Check one piece: count its codes, note its first rejected rows, keep its kept rows."""
    offset = out.rows
    out.rows += table.num_rows
    found = out_of_range(table)
    if found is not None:
        out.out_of_range = (offset + found[0], found[1], found[2])
        return
    if _has_empty_lines(table):  # not rows: DuckDB's scan skips them, numbering by line
        out.unclean = True
        return
    names = list(table.column_names)
    table = checked_table([table], selection, letters=True, positions=False)
    check = table.column("_check").to_numpy()
    fix = table.column("_fix").to_numpy()
    out.found += np.bincount(check.astype(np.int64) * 16 + fix, minlength=256)  # fix < 16
    left_out = bool((check > 1).any())  # rejected, or outside the selection
    if left_out:
        seen = Counter(code for _, code, _ in out.rejected)
        down = table.column("max_advertised_download_speed").to_numpy()
        out.rejected += [(offset + row, code, column)
                         for row, code, column in rejected_rows(check, down, seen)]
    table = table.select(names)
    if left_out:
        table = pc.filter(table, pa.array(check <= 1), memory_pool=memory_pool())
    out.kept.append(table.append_column("_hash", pa.array(duplicate_keys(table))))


def _rows_before(ranges: list[_Range], done: list[_RangeResult]) -> list[int]:
    """Per range: the data rows of its file before it (its first row is that number + 1)."""
    before: list[int] = []
    seen: dict[int, int] = {}
    for r, d in zip(ranges, done, strict=True):
        before.append(seen.get(r.file, 0))
        seen[r.file] = before[-1] + d.rows
    return before


def _raise_out_of_range(inputs: Inputs, ranges: list[_Range], done: list[_RangeResult],
                        first: int) -> None:
    """Raise for the first number out of range, in range ``first``, at its row in the file."""
    local, column, value = done[first].out_of_range  # type: ignore[misc]
    row = _rows_before(ranges, done)[first] + local + 1
    raise out_of_range_error(inputs.name(ranges[first].path), row, column, value)


def _gathered(inputs: Inputs, ranges: list[_Range], done: list[_RangeResult]) -> CheckedRows:
    counts = counts_frame(np.sum([d.found for d in done], axis=0))
    places: dict[int, list[tuple[str, int, str]]] = {}
    for r, before, d in zip(ranges, _rows_before(ranges, done), done, strict=True):
        for local, code, column in d.rejected:
            found_at = places.setdefault(code, [])
            if len(found_at) < PLACES_SHOWN:
                found_at.append((inputs.name(r.path), before + local + 1, column))
    tables = [t for d in done for t in d.kept]
    return CheckedRows(pa.concat_tables(tables), counts, places)
