"""Block-ordered Parquet folded with whole-array NumPy operations (the fast BDC engine).

:func:`assetmap.bdc_to_parquet` writes a state as one file ordered by ``(block_geoid,
location_id)``, each location in one block (:func:`.sorted_files.block_order`). A
location's rows are then one run, and so are an area's locations: per row group,
:func:`aggregate_blocks` finds the runs with array comparisons, ORs the offer bits of each
run (``np.bitwise_or.reduceat``), counts locations per (area, offer mask) and the (area,
provider) pairs with ``np.bincount``. Nothing here is compiled, so a fresh process pays no
numba start-up (about half a second of one core) on this layout; pyarrow reads the row
groups and NumPy runs on the thread pool, each thread reusing its arrays.

It is exactly :func:`.sorted_kernel.fold_unit` (mode 1) for the input it takes: plain ids,
15-digit GEOIDs, known technology codes, speeds and latency in range, no nulls, the row
order and the location count of the metadata checked; no state, county or tract selection;
tract, block group or county areas. For anything else it returns None and the compiled
sorted path (:func:`.sorted_files.aggregate_sorted`) decides, as before.

It serves the states of fewer than :data:`.sorted_files.NUMPY_MAX_ROWS` rows when numba is
installed (larger ones fold faster compiled), and every state it takes when numba is not
(:func:`assetmap.bdc.fast.engine.aggregate_block_ordered`).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from assetmap.bdc.fast.block_columns import (
    Decline,
    check_digits,
    column,
    dictionary,
    digits,
    geoids,
    ints,
    provider_key,
    selected_code,
)
from assetmap.bdc.fast.common import (
    MASK_COUNTS,
    P100_COLUMN,
    SUM_COLUMNS,
    area_text,
    check_counts,
    id_text,
)

__all__ = ["aggregate_blocks", "runs_ok"]

_PREFIX = {"tract": 11, "block_group": 12, "county": 5}
_TEXT = ["provider_id", "business_residential_code"]  # read as dictionaries


def _tables(rules: tuple) -> dict[str, Any]:
    """Return the rule set as lookup tables (``parse.offer_table``, ``parse._offer``).

    ``group``: each code's group bit (0: not a BDC code); ``reliable``: per ``code * 2 +
    low_latency``, whether the offer is reliable; ``thresholds``: underserved and served
    (down, up) as whole numbers (``d >= t`` exactly when ``d >= ceil(t)``).
    """
    tech_bit, reliable, thresholds, latency = rules
    low = np.array([0, 1] * 256)
    rel = np.repeat(reliable != 0, 2) & ((low == 1) | (not latency))
    whole = [int(np.ceil(t)) for t in thresholds]
    return {"group": (tech_bit & 511).astype(np.int16) * (tech_bit != 0), "reliable": rel,
            "thresholds": whole, "wide": max(whole) > 2**31 - 1 or min(whole) < -(2**31)}


#: per offer mask (rows), what a location adds to each column (the one definition)
_PER_MASK = MASK_COUNTS.astype(np.int64)


#: the area key of each level: how many of the low word's bytes (GEOID bytes 7-14) it keeps
_LOW_BYTES = {5: 0, 11: 4, 12: 5}


class _Scratch:
    """A thread's reusable arrays, by name (fresh ones would cost a page fault per 4 kB)."""

    def __init__(self, files: threading.local) -> None:
        self.arrays: dict[str, np.ndarray] = files.__dict__.setdefault("scratch", {})

    def __call__(self, name: str, n: int, dtype) -> np.ndarray:
        have = self.arrays.get(name)
        if have is None or have.dtype != dtype or len(have) < n:
            have = self.arrays[name] = np.empty(max(n, 1 << 17), dtype=dtype)
        return have[:n]


def _copy(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    np.copyto(dst, src, casting="equiv")
    return dst


def _starts(changes: np.ndarray) -> np.ndarray:
    """Start of each run, from whether each row after the first differs from the one before."""
    at = np.flatnonzero(changes)
    starts = np.empty(len(at) + 1, dtype=np.int64)
    starts[0] = 0
    np.add(at, 1, out=starts[1:])
    return starts


def _spread(values: np.ndarray, starts: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Write ``values[i]`` over the run of rows from ``starts[i]`` to the next start."""
    ends = [*starts[1:].tolist(), len(out)]
    for v, s, e in zip(values.tolist(), starts.tolist(), ends, strict=True):
        out[s:e] = v
    return out


def _lengths(starts: np.ndarray, n: int) -> np.ndarray:
    """Length of each run from its start."""
    return np.diff(np.append(starts, n))


def _area_sums(area_run: np.ndarray, n_area: int, bits: np.ndarray, n100: np.ndarray
               ) -> np.ndarray:
    """Return the 13 counts of ``SUM_COLUMNS`` per area (``sorted_kernel._emit``).

    Locations counted per (area, offer mask), then one small product per count.
    """
    per = np.bincount(area_run * 512 + bits, minlength=n_area * 512).reshape(n_area, 512)
    present = np.flatnonzero(per.any(axis=0))  # the few masks that occur
    out = per[:, present] @ _PER_MASK[present]
    out[:, P100_COLUMN] = np.bincount(area_run, weights=n100, minlength=n_area)
    return out


def _group(unit: tuple, sel: dict[str, Any], tables: dict[str, Any],
           files: threading.local) -> dict[str, Any]:
    """One row group: its middle locations summed per area, its first and last locations."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    f, group, columns, _state, _rows = unit
    cache = files.__dict__.setdefault("files", {})
    if f not in cache:
        cache[f] = pq.ParquetFile(f, read_dictionary=_TEXT)
    table = cache[f].read_row_group(group, columns=columns, use_threads=False)
    if table.column("location_id").type != pa.int64():
        raise Decline
    loc = ints(column(table, "location_id"), 0, 2**58 - 1)
    tech = ints(column(table, "technology"), 0, 255)
    down = ints(column(table, "max_advertised_download_speed"), 0, 2**31 - 1)
    up = ints(column(table, "max_advertised_upload_speed"), 0, 2**31 - 1)
    low = ints(column(table, "low_latency"), 0, 1)
    hi, lo = geoids(column(table, "block_geoid"))
    prov_at, prov_keys = dictionary(column(table, "provider_id"), provider_key)
    code_at, code_ok = dictionary(column(table, "business_residential_code"),
                                   lambda t: selected_code(t, sel["codes"]))
    n = len(loc)
    tally = np.array([0, 0, 0, 0], dtype=np.int64)
    out: dict[str, Any] = {"edge": np.zeros(5, np.int64), "tally": tally, "parts": [],
                           "pkeys": prov_keys, "keys": np.zeros(0, np.int64),
                           "sums": np.zeros((0, 13), np.int64)}
    if not n:
        return out
    scratch = _Scratch(files)  # this thread's arrays, reused from group to group
    bits = np.take(tables["group"], tech, out=scratch("bits", n, np.int16))  # 0: not BDC
    if ((prov_keys < 0).any() and (prov_keys[prov_at] < 0).any()) or not bits.all() or \
            ((code_ok < 0).any() and (code_ok[code_at] < 0).any()):
        raise Decline
    hi = _copy(hi, scratch("hi", n, np.uint64))  # native words
    lo = _copy(lo, scratch("lo", n, np.uint64))
    dl = np.subtract(loc[1:], loc[:-1], out=scratch("dl", n - 1, np.int64))
    same_hi = np.equal(hi[1:], hi[:-1], out=scratch("same", n - 1, bool))
    t1, t2 = scratch("t1", n - 1, bool), scratch("t2", n - 1, bool)
    np.less(lo[1:], lo[:-1], out=t2)  # the GEOID falls
    if np.less(hi[1:], hi[:-1], out=t1).any() or np.logical_and(t2, same_hi, out=t2).any():
        raise Decline  # not in (block, id) order: the compiled path says so
    block = np.not_equal(lo[1:], lo[:-1], out=scratch("block", n - 1, bool))
    np.logical_or(block, np.logical_not(same_hi, out=t2), out=block)
    if np.logical_and(np.less(dl, 0, out=t1), np.logical_not(block, out=t2), out=t1).any() or \
            np.logical_and(np.equal(dl, 0, out=t1), block, out=t1).any():
        raise Decline
    starts_b = _starts(block)
    hb, lb = hi[starts_b], lo[starts_b]  # each block once: its rows are the same text
    check_digits(hb, lb)
    prefix = _PREFIX[sel["level"]]
    kept_low = _LOW_BYTES[prefix]
    area_hi = hb if prefix > 8 else hb >> np.uint64(8 * (8 - prefix))
    area_lo = lb >> np.uint64(8 * (8 - kept_low)) if kept_low else np.zeros_like(lb)
    starts_a = _starts((area_hi[1:] != area_hi[:-1]) | (area_lo[1:] != area_lo[:-1]))
    key_a = digits(hb[starts_a], lb[starts_a]) // 10 ** (15 - prefix)
    row_key = _spread(key_a, starts_b[starts_a], scratch("key", n, np.int64))  # row's area
    ends = digits(hb[[0, -1]], lb[[0, -1]])
    out["edge"] = np.array([1 + np.count_nonzero(dl), ends[0], loc[0], ends[1], loc[-1]],
                           dtype=np.int64)
    pair = np.multiply(tech, 2, out=scratch("pair", n, np.int32), casting="unsafe")
    rel = np.take(tables["reliable"], np.add(pair, low, out=pair), out=scratch("rel", n, bool))
    ud, uu, sd, su = tables["thresholds"]
    if tables["wide"]:
        down, up = down.astype(np.int64), up.astype(np.int64)
    add = scratch("add", n, np.int16)
    r1, r2 = scratch("r1", n, bool), scratch("r2", n, bool)
    for (d_min, u_min), value in (((ud, uu), 128), ((sd, su), 256)):  # reliable and reaching
        np.logical_and(np.greater_equal(down, d_min, out=r1), np.greater_equal(up, u_min, out=r2),
                       out=r1)
        np.multiply(np.logical_and(r1, rel, out=r1), value, out=add, casting="unsafe")
        np.add(bits, add, out=bits)
    keep = np.take(code_ok == 1, code_at, out=scratch("keep", n, bool))
    kept = int(np.count_nonzero(keep))
    tally[0], tally[3] = kept, n - kept
    if not kept:
        return out
    if kept < n:
        loc, prov_at, row_key, bits = (np.compress(keep, x, out=scratch(name, kept, x.dtype))
                                       for name, x in (("k_loc", loc), ("k_prov", prov_at),
                                                       ("k_key", row_key), ("k_bits", bits)))
    new_loc = np.not_equal(loc[1:], loc[:-1], out=scratch("t1", kept - 1, bool))
    starts = _starts(new_loc)
    nl = len(starts)
    rank = scratch("rank", kept, np.int64)  # each row's location: its run's number
    rank[0] = 0
    np.cumsum(new_loc, out=rank[1:])
    l_bits = np.bitwise_or.reduceat(bits, starts).astype(np.int64)
    l_key = row_key[starts]
    served = np.flatnonzero(np.bitwise_and(bits, 256, out=add[:kept]))
    width = len(prov_keys)
    both = np.sort(rank[served] * width + prov_at[served], kind="stable")
    both = both[np.concatenate([[True], both[1:] != both[:-1]])]
    n100 = np.bincount(both // width, minlength=nl)
    first, last = both[:n100[0]], both[len(both) - n100[-1]:]
    for i in sorted({0, nl - 1}):  # the first and the last may continue next door
        provs = prov_keys[(first if i == 0 else last) % width]
        out["parts"].append((int(loc[starts[i]]), int(l_key[i]), int(l_bits[i]),
                             frozenset(provs.tolist())))
    if nl > 2:
        mid_key = l_key[1:-1]
        at = np.flatnonzero(np.concatenate([[True], mid_key[1:] != mid_key[:-1]]))
        out["keys"] = mid_key[at]
        area_of = np.repeat(np.arange(len(at), dtype=np.int64), _lengths(at, nl - 2))
        out["sums"] = _area_sums(area_of, len(at), l_bits[1:-1], n100[1:-1])
    # each kept row's own area, for the (area, provider) pairs
    at = _starts(np.not_equal(row_key[1:], row_key[:-1], out=scratch("t1", kept - 1, bool)))
    area_of = _spread(np.arange(len(at), dtype=np.int64) * width, at,
                      scratch("area_of", kept, np.int64))
    seen = np.bincount(np.add(area_of, prov_at, out=area_of), minlength=len(at) * width)
    a, p = np.divmod(np.flatnonzero(seen), width)
    out["pair_keys"], out["pair_provs"] = row_key[at][a], prov_keys[p]
    return out


def runs_ok(edges: list[np.ndarray], locations: int) -> bool:
    """Whether the groups continue each other in (block, id) order, each location once."""
    runs = 0
    last: tuple[int, int] | None = None
    for e in edges:
        if e[0] == 0:
            continue
        runs += int(e[0])
        first = (int(e[1]), int(e[2]))
        if last is not None:
            if first < last or (first[1] == last[1] and first[0] != last[0]):
                return False
            if first == last:  # a location split between two groups
                runs -= 1
        last = (int(e[3]), int(e[4]))
    return runs == locations


def aggregate_blocks(units: Sequence[tuple], sel: dict[str, Any], workers: int,
                     locations: int
                     ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict] | None:
    """One block-ordered file's row groups -> the tuple of ``aggregate_group``, or None.

    ``units``: :func:`.parquet_units.parquet_units` of one file that
    :func:`.sorted_files.block_order` found ordered, with ``locations`` locations.
    """
    listed = sel["sel"][0] + sel["sel"][sel["sel"][0] + 1] > 0 or len(sel["states"]) or \
        sel["sel"][sel["sel"][0] + sel["sel"][sel["sel"][0] + 1] + 2] > 0
    if listed or sel["want_h3"] or sel["level"] not in _PREFIX or not units:
        return None
    tables = _tables(sel["rules"])
    files = threading.local()
    try:
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(units)))) as pool:
            done = list(pool.map(lambda u: _group(u, sel, tables, files), units))
    except Decline:
        return None
    if not runs_ok([d["edge"] for d in done], locations):
        return None
    merged: list[list] = []  # the groups' first and last locations, joined in order
    for d in done:
        for loc, key, bits, provs in d["parts"]:
            if merged and merged[-1][0] == loc:
                merged[-1][2] |= bits
                merged[-1][3] = merged[-1][3] | provs
            else:
                merged.append([loc, key, bits, provs])
    edge_keys = np.array([m[1] for m in merged], dtype=np.int64)
    edge_sums = _area_sums(np.arange(len(merged)), len(merged),
                           np.array([m[2] for m in merged], dtype=np.int64),
                           np.array([len(m[3]) for m in merged], dtype=np.int64))
    level = sel["level"]
    sums = pd.DataFrame(np.concatenate([edge_sums, *(d["sums"] for d in done)]),
                        columns=SUM_COLUMNS)
    sums.insert(0, "area", area_text(np.concatenate([edge_keys, *(d["keys"] for d in done)]),
                                     level))
    has = [d for d in done if "pair_keys" in d]
    provs = np.unique(np.concatenate([d["pkeys"] for d in has] or [np.zeros(0, np.int64)]))
    width = max(1, len(provs))
    both = np.concatenate([d["pair_keys"] * width + np.searchsorted(provs, d["pair_provs"])
                           for d in has] or [np.zeros(0, np.int64)])
    both = np.sort(both, kind="stable")  # nearly sorted already: areas follow the blocks
    both = both[np.concatenate([[True], both[1:] != both[:-1]])] if len(both) else both
    area_keys, prov_at = np.divmod(both, width)
    pairs = pd.DataFrame({"area": area_text(area_keys, level),
                          "provider_id": id_text(provs)[prov_at] if len(provs) else
                          np.zeros(0, dtype=object), "_check": 0})
    tally = np.sum([d["tally"] for d in done], axis=0)
    return sums, pairs, check_counts(tally), {}
