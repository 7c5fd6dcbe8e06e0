"""The fast engine of :func:`assetmap.aggregate_bdc`: numba kernels on plain threads.

One state's files (CSVs read in pieces, zip members inflated with ISA-L or zlib
(:mod:`.zips`), Parquet row groups read with pyarrow) are cut into units of ~24 MB; each
round, every thread parses one unit (:func:`.csv_parser.parse_csv` /
:func:`.columns.parse_columns`, no GIL) into rows partitioned by location, then every thread
folds one partition into its own hash tables (:func:`.kernels.aggregate`). A reader thread
forms the rounds two ahead (:mod:`.rounds`), so zips are inflated while the rows before are
parsed. Memory is bounded by the state's locations (~40 bytes each), not its rows. Parquet
written by :func:`assetmap.bdc_to_parquet` takes the sorted paths instead
(:mod:`.sorted_numpy`, :mod:`.sorted_files`): no table keyed by location.

It only takes input it can read exactly: the canonical header, plainly good lines (see
:mod:`assetmap.bdc.fast.parse`). Anything else (a repair, a reject, an odd layout, a
truncated zip) makes :func:`aggregate_group` return None and the state goes to the DuckDB
engine, so every error, warning and report count is the DuckDB engine's. The result is the
same as the DuckDB engine's, column for column, and so is the report: every row read is
counted before the selection, as kept or as left out by the first filter it fails (states,
counties and tracts, business/residential code), and the letter codes are compared
upper-cased and without surrounding spaces, in the kernels (:func:`.parse.letters`), so that
such a file stays on the fast engine.

The BEAD rule set is data: :func:`selection` and :func:`aggregate_group` take ``rules`` (a
:class:`assetmap.bdc.rules.RuleSet`, a name or a mapping; default ``"bead"``), turned into
kernel arguments by :func:`assetmap.bdc.fast.rule_arrays.rule_arrays` and passed down to every
kernel that classifies an offer. No kernel reads a rule from a module global.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from assetmap.bdc._engine import BDC_COLUMNS, row_selection
from assetmap.bdc.fast.common import AREA_DIV, TALLY, check_counts
from assetmap.bdc.fast.common import Fallback as _Fallback
from assetmap.bdc.fast.rounds import ahead, rounds
from assetmap.bdc.fast.rule_arrays import rule_arrays
from assetmap.bdc.fast.tables import Tables
from assetmap.bdc.fast.zips import INFLATE_ERROR, member_pieces
from assetmap.bdc.rules import RulesLike
from assetmap.errors import AssetmapError

__all__ = ["aggregate_block_ordered", "aggregate_group", "available", "selection"]

log = logging.getLogger(__name__)
HEADER = ",".join(BDC_COLUMNS).encode()
CHUNK = 24 << 20


def available() -> bool:
    """Return True when numba can be imported (the ``fast`` extra)."""
    return importlib.util.find_spec("numba") is not None


def selection(level: str, *, states=None, counties=None, tracts=None, codes=None,
              rules: RulesLike = None) -> dict[str, Any] | None:
    """Return the row selection and the rule set as kernel arguments, or None.

    The selection is :func:`assetmap.bdc._engine.row_selection`'s (states, codes trimmed
    and upper-cased); ``rules`` anything :func:`assetmap.bdc.rules.rule_set` takes (None:
    ``"bead"``), as :func:`assetmap.bdc.fast.rule_arrays.rule_arrays` (``sel["rules"]``).
    None when the selection is one the kernels cannot apply (a business/residential code
    of two characters): the DuckDB engine then runs.

    Examples
    --------
    >>> sel = selection("tract", codes=("R", " x"), rules="bead")
    >>> sel["area_div"], sel["rules"][2].tolist(), chr(sel["codes"].argmax())
    (10000, [25.0, 3.0, 100.0, 20.0], 'R')
    """
    chosen = row_selection(states=states, counties=counties, tracts=tracts, codes=codes)
    table = np.zeros(257, dtype=np.uint8)
    if "codes" in chosen:
        if any(len(c) != 1 for c in chosen["codes"]):
            return None
        table[256] = 1
        for c in chosen["codes"]:
            if ord(c) < 128:  # a row's code that is not ASCII goes to DuckDB
                table[ord(c)] = 1
    usps = chosen.get("state_usps", [])
    fips = chosen.get("state_fips", [])
    county = chosen.get("county", [])
    tract = chosen.get("tract", [])
    sel: list[int] = []
    for values, width in ((fips, 2), (county, 5), (tract, 11)):
        ints = sorted({int(v) if v.isdigit() and len(v) == width else -1 for v in values})
        sel += [len(ints), *ints]
    return {"area_div": AREA_DIV[level], "want_h3": level == "h3", "codes": table,
            "states": np.array([ord(u[0]) * 256 + ord(u[1]) for u in usps], dtype=np.int64),
            "usps": set(usps), "sel": np.array(sel, dtype=np.int64), "level": level,
            "rules": rule_arrays(rules)}


# ---- input units --------------------------------------------------------------------------

def _csv_units(path: Path) -> list[tuple[Path, int, int]]:
    """Line-aligned (path, offset, length) pieces of a CSV, its header checked."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.readline()
        if head.rstrip(b"\r\n") != HEADER or not head.endswith(b"\n"):
            raise _Fallback(f"{path}: header not in the canonical layout")
        pos, out = len(head), []
        while pos < size:
            cut = size
            if size - pos > CHUNK:
                fh.seek(pos + CHUNK)
                tail = fh.read(1 << 16)
                nl = tail.find(b"\n")
                if nl < 0:
                    raise _Fallback(f"{path}: a line longer than 64 kB")
                cut = pos + CHUNK + nl + 1
            out.append((path, pos, cut - pos))
            pos = cut
    return out


def _room(buf: dict[str, np.ndarray], length: int) -> np.ndarray:
    """Return the thread's reusable byte buffer, 8-byte aligned, with room for ``length`` + 64."""
    if buf["bytes"].shape[0] < length + 64:
        buf["bytes"] = np.empty((length >> 3) + (1 << 17), dtype=np.uint64).view(np.uint8)
    return buf["bytes"]


def _read(piece: tuple[Path, int, int], buf: dict[str, np.ndarray]) -> np.ndarray:
    """Read a CSV piece into the thread's reusable byte buffer (8-byte aligned)."""
    path, offset, length = piece
    view = _room(buf, length)[:length]
    fd = os.open(path, os.O_RDONLY)
    try:
        got = os.preadv(fd, [view.data], offset)
    finally:
        os.close(fd)
    if got != length:
        raise _Fallback(f"{path}: changed while being read")
    return view


def _zip_members(path: Path) -> list[zipfile.ZipInfo]:
    from assetmap._safezip import check_zip, open_zip, unsafe_name

    try:
        with open_zip(path) as zf:
            check_zip(zf, str(path))
            members = [m for m in zf.infolist() if not m.is_dir()
                       and m.filename.lower().endswith((".csv", ".txt"))]
    except (AssetmapError, OSError, zipfile.BadZipFile) as exc:
        raise _Fallback(f"{path}: {exc}") from exc
    if not members or any(unsafe_name(m.filename) for m in members):
        raise _Fallback(f"{path}: no CSV or an unsafe member name")
    return members


# ---- the driver -----------------------------------------------------------------------------

def _units(files: Sequence[Path], sel: dict[str, Any]) -> tuple[list[Iterator], int]:
    """Input streams (each yields parse jobs in order) and the estimated number of rows."""
    streams: list[Iterator] = []
    described: list[tuple] = []  # CSV pieces and row groups: read by the parsing thread
    rows = 0
    for f in files:
        suffix = f.suffix.lower()
        if f.is_dir() or suffix == ".parquet":
            from assetmap.bdc.fast.parquet_units import parquet_units

            for unit in parquet_units(f, sel):
                described.append(("parquet", unit))
                rows += unit[-1]
        elif suffix in (".csv", ".txt"):
            described += [("file", u) for u in _csv_units(f)]
            rows += f.stat().st_size // 90
        elif suffix == ".zip":
            for m in _zip_members(f):
                streams.append(("csv", u) for u in member_pieces(f, m, HEADER, CHUNK))
                rows += m.file_size // 90
        else:
            raise _Fallback(f"{f}: not a BDC CSV, zip or Parquet file")
    return ([iter(described)] if described else []) + streams, rows


def _fold(tables: Tables, part: int, *, bufs: list[dict[str, np.ndarray]]) -> None:
    for b in bufs:
        tables.fold(b["loc"][part], b["prov"][part], b["area"][part], b["bits"][part],
                    int(b["counts"][part]))


def _parse(job: tuple, buf: dict[str, np.ndarray], *, sel: dict[str, Any], parts: int
           ) -> np.ndarray:
    """Parse one unit into the thread's buffers; return its row counts (``common.TALLY``)."""
    from assetmap.bdc.fast import columns as columns_
    from assetmap.bdc.fast import csv_parser as csv_
    from assetmap.bdc.fast import parse as parse

    kind, unit = job
    if kind == "file":
        kind, unit = "csv", (_read(unit, buf),)
    elif kind == "csv" and isinstance(unit, np.ndarray):  # one piece of bytes
        unit = (unit,)
    if kind == "parquet":
        f, group, columns, state, n = unit
        args = columns_.parquet_unit(f, group, columns, state)
    else:
        n = sum(len(u) for u in unit) // parse.MIN_LINE + 1
    if buf["loc"].shape[1] < n:
        buf.update({k: np.empty((parts, n), dtype=v.dtype) for k, v in buf.items()
                    if k not in ("counts", "bytes")})
    tally = np.zeros(len(TALLY), dtype=np.int64)
    outs = (buf["loc"], buf["prov"], buf["area"], buf["bits"], buf["counts"], tally)
    common = (sel["area_div"], sel["want_h3"], sel["codes"], sel["states"], sel["sel"],
              sel["rules"], parts)
    if kind == "parquet":
        status = columns_.parse_columns(*args, *common, *outs)  # type: ignore[call-arg]
    else:
        size = sum(len(u) for u in unit)
        room = _room(buf, size)
        at = 0
        for u in unit:  # a zip piece's parts: into the aligned buffer
            if u.ctypes.data != room.ctypes.data + at:
                room[at:at + len(u)] = u
            at += len(u)
        room[size:size + csv_.PAD] = 0  # it reads 8 bytes at a time, padded
        words = room[:(size + csv_.PAD) // 8 * 8].view(np.uint64)
        status = csv_.parse_csv(room[:size], words, *common, *outs)
    if status:
        raise _Fallback("a line the fast engine does not take as is")
    return tally


def aggregate_group(files: Sequence[Path], sel: dict[str, Any], *, threads: int | None = None,
                    rules: RulesLike = None
                    ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict] | None:
    r"""One state's files -> (area sums, area-provider pairs, row-check counts, rejected).

    Parameters
    ----------
    files : sequence of Path
        One state's CSVs, zips or Parquet files (or directories).
    sel : dict
        From :func:`selection` (not changed here).
    threads : int, optional
        Threads (default: all cores).
    rules : str, mapping, RuleSet or None
        The BEAD rule set; None: the one in ``sel`` (:func:`selection`'s ``rules``, by
        default ``"bead"``).

    Returns
    -------
    tuple or None
        The tuple of :func:`assetmap.bdc.aggregate._aggregate_group`, or None when the input
        needs the DuckDB engine (the reason is logged). The row-check counts cover every row
        read (:func:`.common.check_counts`); no row is rejected here (an empty dict).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "bdc_48_x.csv"
    >>> _ = path.write_text(HEADER.decode() + "\n0001234567,130001,A,1000000001,70,30,5,1,R,TX,"
    ...                     "481350001001000,8848a2d8c9fffff\n")
    >>> custom = {"reliable_technologies": [70], "low_latency_required": False,
    ...           "served": [100, 20], "underserved": [24.6, 1]}
    >>> for rules in ("bead", custom):
    ...     sums = aggregate_group([path], selection("tract"), threads=1, rules=rules)[0]
    ...     print(sums[["area", "unserved", "underserved"]].to_numpy().tolist())
    [['48135000100', 1, 0]]
    [['48135000100', 0, 1]]
    """
    if rules is not None or "rules" not in sel:
        sel = {**sel, "rules": rule_arrays(rules)}
    workers = max(1, int(threads or os.cpu_count() or 2))
    streams: list[Iterator] = []
    try:
        from assetmap.bdc.fast.sorted_files import aggregate_sorted

        done = aggregate_sorted(files, sel, workers)  # Parquet ordered by location
        if done is not None:
            return done
        streams, rows = _units(files, sel)
        tables = [Tables(rows // 3 // workers) for _ in range(workers)]  # ~3 offers each
        bufs: list[dict[str, np.ndarray]] = [
            {"loc": np.empty((workers, 1), np.int64), "prov": np.empty((workers, 1), np.int64),
             "area": np.empty((workers, 1), np.int64), "bits": np.empty((workers, 1), np.int16),
             "counts": np.zeros(workers, np.int64), "bytes": np.empty(0, np.uint8)}
            for _ in range(workers)]
        counted = np.zeros(len(TALLY), dtype=np.int64)
        with ThreadPoolExecutor(max_workers=workers) as pool, \
                ThreadPoolExecutor(max_workers=workers) as reader:
            for jobs in ahead(rounds(streams, workers, reader), depth=2):
                for tally in pool.map(partial(_parse, sel=sel, parts=workers), jobs, bufs):
                    counted += tally
                list(pool.map(partial(_fold, bufs=bufs[:len(jobs)]), tables, range(workers)))
            results = list(pool.map(lambda t: t.result(sel["level"]), tables))
    except (_Fallback, zipfile.BadZipFile, zlib.error, INFLATE_ERROR, EOFError, OSError,
            ValueError) as exc:
        log.info("BDC fast engine: %s; this state goes to the DuckDB engine", exc)
        return None
    finally:
        del streams
    sums = pd.concat([r[0] for r in results], ignore_index=True)
    pairs = pd.concat([r[1] for r in results], ignore_index=True)
    return sums, pairs, check_counts(counted), {}


def aggregate_block_ordered(files: Sequence[Path], sel: dict[str, Any], *,
                            threads: int | None = None
                            ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict] | None:
    """One state's block-ordered Parquet -> the tuple of :func:`aggregate_group`, or None.

    Only the NumPy path of :mod:`.sorted_numpy`: no compiled kernel is loaded, so it runs
    without numba and a small input pays no start-up. It takes a partition written by
    :func:`assetmap.bdc_to_parquet` (ordered by block and location) and a selection of
    business/residential codes at most; for anything else it returns None (the caller
    then runs the DuckDB engine).

    Examples
    --------
    >>> import pathlib
    >>> aggregate_block_ordered([pathlib.Path("bdc_48_x.csv")], selection("tract")) is None
    True
    """
    from assetmap.bdc.fast.sorted_files import aggregate_sorted

    workers = max(1, int(threads or os.cpu_count() or 2))
    try:
        return aggregate_sorted(files, sel, workers, compiled=False)
    except (_Fallback, OSError, ValueError) as exc:  # pyarrow's errors are ValueError, OSError
        log.info("BDC block-ordered Parquet: %s; this state goes to the DuckDB engine", exc)
        return None
