"""The sorted Parquet path of the fast BDC engine (:mod:`assetmap.bdc.fast.engine`).

:func:`assetmap.bdc_to_parquet` writes each state's rows ordered by ``(block_geoid,
location_id)`` (every location with one block; the file's metadata says so, with the number
of locations: :func:`block_order`) or else by ``location_id``. When the metadata says block
order, or the row groups' statistics say id order (each group's smallest id at least the
largest id of the group before, in file order), :func:`aggregate_sorted` folds each row
group on its own (:func:`assetmap.bdc.fast.sorted_kernel.fold_unit`, on the thread pool,
each thread with its own small tables): no table keyed by location, so no cache miss per
row. Text columns are read as dictionaries when the file has them (each dictionary parsed
once). A location split across two groups comes back unfolded from both and is merged here,
in order.

In block order the areas change rarely from one location to the next (the fold is nearly
sequential) and the kernel checks the order as it goes; the groups' first and last (block,
id) must continue each other and the runs of equal ids must number the locations the
metadata counts (no location comes back in another block).

It returns None when the state is not ordered (the hash path then runs), including when a
group turns out to be out of order inside although its statistics or metadata said
otherwise, and raises
:class:`assetmap.bdc.fast.common.Fallback` for input the fast engine does not take (the
state then goes to the DuckDB engine).
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from assetmap.bdc.fast.common import (
    MASK_COUNTS,
    P100_COLUMN,
    SUM_COLUMNS,
    Fallback,
    area_text,
    check_counts,
    id_text,
)
from assetmap.bdc.fast.pages import Unsupported, text_column
from assetmap.bdc.fast.sorted_numpy import aggregate_blocks
from assetmap.bdc.fast.sorted_numpy import runs_ok as _runs_ok

__all__ = ["aggregate_sorted", "block_order", "is_ordered"]

log = logging.getLogger(__name__)
TEXT = ("provider_id", "business_residential_code", "h3_res8_id")  # read as dictionaries
NONE = np.zeros(0, dtype=np.int32)
PREFIX = {"tract": 11, "block_group": 12, "county": 5}  # GEOID digits of the area key
#: block-ordered states of fewer rows go to the NumPy path (no kernel to load); larger ones
#: to the compiled fold, 1.5x faster per row (measured: NumPy 0.47 / 1.45 / 3.4 s, compiled
#: 0.72 / 1.39 / 2.2 s at 5 / 20 / 50 M rows; benchmarks/RESULTS.md)
NUMPY_MAX_ROWS = 16_000_000


def is_ordered(units: Sequence[tuple]) -> bool:
    """Tell whether the groups' ``location_id`` statistics (integers) never decrease."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    last = None
    metas: dict[Path, Any] = {}
    for f, group, *_ in units:
        if f not in metas:
            file = pq.ParquetFile(f)
            if "location_id" not in file.schema_arrow.names or \
                    file.schema_arrow.field("location_id").type != pa.int64():
                return False
            metas[f] = file.metadata
        meta = metas[f]
        names = [meta.schema.column(i).name for i in range(meta.num_columns)]
        if "location_id" not in names:
            return False
        col = meta.row_group(group).column(names.index("location_id"))
        stats = col.statistics
        if col.physical_type != "INT64" or stats is None or not stats.has_min_max:
            return False
        if last is not None and stats.min < last:
            return False
        last = stats.max
    return True


def block_order(units: Sequence[tuple]) -> int | None:
    """Return the number of locations when the groups are one file ordered by block.

    As :func:`assetmap.bdc_to_parquet` writes a partition whose every location has one
    block (its key-value metadata says so); None otherwise. The kernel checks the order.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from assetmap.bdc.read import LOCATIONS_KEY, ORDER_KEY

    if len({u[0] for u in units}) != 1:
        return None
    file = pq.ParquetFile(units[0][0])
    kv = file.metadata.metadata or {}
    if kv.get(ORDER_KEY.encode()) != b"block_geoid,location_id" or \
            "location_id" not in file.schema_arrow.names or \
            file.schema_arrow.field("location_id").type != pa.int64():
        return None
    count = kv.get(LOCATIONS_KEY.encode(), b"")
    return int(count) if count.isdigit() else None


class _Worker:
    """One thread's tables: areas, providers, per-area counts, (area, provider) pair bits."""

    def __init__(self) -> None:
        self.meta = np.zeros(9, dtype=np.int64)
        self.meta[1], self.meta[3] = 14, 9
        self.at = np.full(2 << 14, -1, dtype=np.int64)
        self.akeys = np.zeros(1 << 14, dtype=np.int64)
        self.sums = np.zeros((1 << 14, 16), dtype=np.int32)  # 13 counts: one cache line
        self.pt = np.full(2 << 9, -1, dtype=np.int64)
        self.pkeys = np.zeros(1 << 9, dtype=np.int64)
        self.pbits = np.zeros((1 << 14, (1 << 9) // 64), dtype=np.uint64)
        self.files: dict[Path, Any] = {}
        self.tally = np.zeros(4, dtype=np.int64)  # rows kept, left out by each filter

    def grow(self, table: int) -> None:
        """Double the area (0) or the provider (1) table."""
        from assetmap.bdc.fast.sorted_kernel import rehash

        bits = int(self.meta[2 * table + 1]) + 1
        if table == 1 and bits > 16:
            raise OverflowError("too many providers")
        new = np.full(2 << bits, -1, dtype=np.int64)
        rehash((self.at, self.pt)[table], 2, new, bits)
        self.meta[2 * table + 1] = bits
        if table == 0:
            self.at = new
            self.akeys = np.concatenate([self.akeys, np.zeros_like(self.akeys)])
            self.sums = np.concatenate([self.sums, np.zeros_like(self.sums)])
            self.pbits = np.concatenate([self.pbits, np.zeros_like(self.pbits)])
        else:
            self.pt = new
            self.pkeys = np.concatenate([self.pkeys, np.zeros_like(self.pkeys)])
            self.pbits = np.concatenate([self.pbits, np.zeros_like(self.pbits)], axis=1)

    def providers(self, vals: np.ndarray) -> np.ndarray:
        """Return the worker's index of each provider key (room made first)."""
        from assetmap.bdc.fast.sorted_kernel import intern_keys

        while (self.meta[2] + len(vals)) * 5 >= 3 << int(self.meta[3]):
            self.grow(1)
        return intern_keys(vals, self.pt, self.pkeys, self.meta)

    def result(self, level: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        n_area = int(self.meta[0])
        keep = self.sums[:n_area, 0] > 0
        sums = pd.DataFrame(self.sums[:n_area, :len(SUM_COLUMNS)][keep].astype(np.int64),
                            columns=SUM_COLUMNS)
        sums.insert(0, "area", area_text(self.akeys[:n_area][keep], level))
        rows, word = np.nonzero(self.pbits[:n_area])
        flags = np.unpackbits(self.pbits[rows, word].astype("<u8").view(np.uint8).reshape(-1, 8),
                              axis=1, bitorder="little")
        at, bit = np.nonzero(flags)
        area = area_text(self.akeys[rows[at]], level)
        provider = id_text(self.pkeys[word[at] * 64 + bit])
        return sums, pd.DataFrame({"area": area, "provider_id": provider, "_check": 0})


def _text(arr, parse) -> tuple[np.ndarray, ...]:
    """(indexes, parsed values...) of a text column: per dictionary entry, or per row."""
    import pyarrow as pa

    from assetmap.bdc.fast.columns import _strings

    if pa.types.is_dictionary(arr.type):
        idx = arr.indices
        if not pa.types.is_integer(idx.type):
            raise Fallback(f"a dictionary indexed by {idx.type}")
        vals = parse(*_strings(arr.dictionary))
        return (idx.to_numpy(zero_copy_only=False).astype(np.int32, copy=False),
                *(vals if isinstance(vals, tuple) else (vals,)))
    vals = parse(*_strings(arr))
    return (NONE, *(vals if isinstance(vals, tuple) else (vals,)))


def _read(worker: _Worker, unit: tuple, sel: dict[str, Any]) -> dict[str, Any]:
    """Read one row group's columns as the kernel takes them."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from assetmap.bdc.fast import sorted_kernel as k

    f, group, columns, _state, n_rows = unit
    if f not in worker.files:
        pf = pq.ParquetFile(f, read_dictionary=[c for c in TEXT if c in columns])
        schema = pf.metadata.schema
        where = {schema.column(i).name: (i, schema.column(i).max_definition_level)
                 for i in range(len(schema))}
        worker.files[f] = (pf, where)
    pf, where = worker.files[f]
    prefix = PREFIX.get(sel["level"], 15)
    decoded = {}  # block GEOIDs and H3 cells parsed from the pages, not through Arrow strings
    for name, kind in (("block_geoid", "geoid"), ("h3_res8_id", "h3")):
        if name in columns and name in where:
            i, max_def = where[name]
            try:
                decoded[name] = text_column(f, pf.metadata.row_group(group).column(i), max_def,
                                            n_rows, kind, prefix)
            except Unsupported as exc:
                log.debug("%s: %s read through Arrow (%s)", f, name, exc)
    table = pf.read_row_group(group, columns=[c for c in columns if c not in decoded],
                              use_threads=False)
    cols = {}
    for name in table.column_names:
        chunks = table.column(name)
        if chunks.num_chunks != 1:
            chunks = chunks.unify_dictionaries() if pa.types.is_dictionary(chunks.type) else chunks
        arr = chunks.combine_chunks()
        if arr.null_count:
            raise Fallback(f"{f}: nulls in {name}")
        cols[name] = arr
    out: dict[str, Any] = {}
    for name in ("location_id", "technology", "max_advertised_download_speed",
                 "max_advertised_upload_speed", "low_latency"):
        if not pa.types.is_integer(cols[name].type):
            raise Fallback(f"{f}: {name} stored as {cols[name].type}")
        out[name] = cols[name].to_numpy()
    if cols["location_id"].type != pa.int64():
        raise Fallback(f"{f}: location_id stored as {cols['location_id'].type}")
    idx, *vals = _text(cols["provider_id"], k.id_values)
    if not len(idx):  # one entry per distinct id
        vals[0], idx = np.unique(vals[0], return_inverse=True)
    out["prov"] = (idx, worker.providers(vals[0]), vals[0])
    out["code"] = _text(cols["business_residential_code"],
                        lambda o, d: k.code_values(o, d, sel["codes"]))
    out["geo"] = ((NONE, *decoded["block_geoid"]) if "block_geoid" in decoded else
                  _text(cols["block_geoid"], lambda o, d: k.geoid_values(o, d, prefix)))
    if "h3_res8_id" in decoded:
        out["h3"] = (NONE, decoded["h3_res8_id"][0])
    elif "h3_res8_id" in cols:
        out["h3"] = _text(cols["h3_res8_id"], k.hex_values)
    else:
        out["h3"] = (NONE, np.zeros(0, np.int64))
    return out


def _fold(worker: _Worker, unit: tuple, sel: dict[str, Any], mode: int
          ) -> tuple[int, np.ndarray, int, np.ndarray]:
    """Fold one row group: (status, partial locations, how many of them, order edges)."""
    from assetmap.bdc.fast import sorted_kernel as k

    c = _read(worker, unit, sel)
    state = unit[3]
    state_ok = 1 if not len(sel["states"]) or state in set(sel["states"].tolist()) else 0
    part = np.zeros((2, k.PART), dtype=np.int64)
    edge = np.zeros(5, dtype=np.int64)
    tally = np.zeros(4, dtype=np.int64)
    w = worker
    while True:
        w.meta[6:9] = 0
        _, status = k.fold_unit(  # type: ignore[call-arg]
            c["location_id"], *c["prov"], c["technology"], c["max_advertised_download_speed"],
            c["max_advertised_upload_speed"], c["low_latency"], *c["code"], *c["geo"],
            *c["h3"], state_ok, sel["want_h3"], sel["sel"], sel["rules"], w.at, w.akeys,
            w.sums, w.pbits, w.meta, part, mode, edge, tally, MASK_COUNTS, P100_COLUMN)
        if status != k.GROW:
            break
        w.grow(0)
    w.tally += tally
    return status, part, int(w.meta[7] + w.meta[8]), edge


def _merge(parts: list[tuple[np.ndarray, int]]) -> np.ndarray:
    """Fold the groups' first and last locations in order: whole locations, one row each."""
    from assetmap.bdc.fast.sorted_kernel import PART

    done: list[np.ndarray] = []
    carry: np.ndarray | None = None
    for part, n in parts:
        for j in range(n):
            row = part[j]
            if carry is not None and carry[0] == row[0]:
                if carry[1] != row[1]:
                    raise Fallback("a location with rows in two areas")
                provs = set(carry[4:4 + carry[3]].tolist()) | set(row[4:4 + row[3]].tolist())
                merged = carry.copy()
                merged[2] |= row[2]
                merged[3] = len(provs)
                carry = merged
                if len(provs) > PART - 4:
                    raise OverflowError("too many providers at one location")
                merged[4:4 + len(provs)] = sorted(provs)
                continue
            if carry is not None:
                done.append(carry)
            carry = row.copy()
    if carry is not None:
        done.append(carry)
    return np.array(done, dtype=np.int64).reshape(-1, PART)


def aggregate_sorted(files: Sequence[Path], sel: dict[str, Any], workers: int, *,
                     compiled: bool = True
                     ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict] | None:
    """One state's Parquet files ordered by location -> the tuple of ``aggregate_group``.

    Ordered by an integer ``location_id``, or one file ordered by ``(block_geoid,
    location_id)`` (:func:`block_order`). None when not (or a group is not ordered inside,
    or a table would be too large): the hash path then runs. ``compiled=False``: only the
    NumPy path of block-ordered files, at any size (no numba is imported); None otherwise.
    """
    from assetmap.bdc.fast.parquet_units import parquet_units

    if not files or any(not (f.is_dir() or f.suffix.lower() == ".parquet") for f in files):
        return None
    units = [u for f in files for u in parquet_units(f, sel)]
    if not units:
        return None
    locations = block_order(units)
    if not compiled:
        return None if locations is None else aggregate_blocks(units, sel, workers, locations)
    mode = 0 if locations is None else 1
    if mode == 0 and not is_ordered(units):
        return None
    log.debug("BDC fast engine: %d row groups ordered by %s", len(units),
              "block_geoid, location_id" if mode else "location_id")
    if locations is not None and sum(u[4] for u in units) < NUMPY_MAX_ROWS:
        done = aggregate_blocks(units, sel, workers, locations)  # no compiled kernel to load
        if done is not None:
            return done
    from assetmap.bdc.fast import sorted_kernel as k

    workers = max(1, min(workers, len(units)))
    pool_workers = [_Worker() for _ in range(workers)]
    results: list[tuple[int, np.ndarray, int, np.ndarray] | None] = [None] * len(units)
    order = itertools.count()
    stop = threading.Event()

    def work(w: _Worker) -> None:
        try:
            while not stop.is_set() and (i := next(order)) < len(units):
                done = results[i] = _fold(w, units[i], sel, mode)
                if done[0] != k.OK:
                    stop.set()
        except BaseException:
            stop.set()
            raise

    with ThreadPoolExecutor(max_workers=workers) as pool:
        try:
            list(pool.map(work, pool_workers))
        except OverflowError:
            return None
    statuses = {r[0] for r in results if r is not None}
    if k.BAD_LINE in statuses:
        raise Fallback("a row the fast engine does not take as is")
    if k.SPLIT in statuses:
        raise Fallback("a location with rows in two areas")
    if statuses == {k.OK} and mode and not _runs_ok([r[3] for r in results if r is not None],
                                                    locations or 0):
        statuses = {k.UNSORTED}
    if statuses != {k.OK} or any(r is None for r in results):
        log.debug("BDC fast engine: %s; the state goes to the hash path",
                  "a row group out of order" if k.UNSORTED in statuses else "too many providers")
        return None
    try:
        whole = _merge([(r[1], r[2]) for r in results if r is not None])
    except OverflowError:
        return None
    w0 = pool_workers[0]
    while (w0.meta[0] + len(whole)) * 5 >= 3 << int(w0.meta[1]):
        w0.grow(0)
    k.emit_many(whole, w0.at, w0.akeys, w0.sums, w0.meta, MASK_COUNTS, P100_COLUMN)
    outs = [w.result(sel["level"]) for w in pool_workers]
    sums = pd.concat([o[0] for o in outs], ignore_index=True)
    pairs = pd.concat([o[1] for o in outs], ignore_index=True)
    return sums, pairs, check_counts(np.sum([w.tally for w in pool_workers], axis=0)), {}
