"""Availability rows in memory rolled up to areas with numpy: one sort, no hash table.

The fast path of :func:`assetmap.bdc.levels.service_by_area` for a frame of raw rows (the
shape :func:`assetmap.load_bdc` returns, any number of providers). It runs the row checks
of :func:`assetmap.bdc._checks.checked_sql` (the first failing test wins; a 14-digit block
GEOID is repaired) a slice of rows at a time, beside the location keys and the provider
codes. It then groups the kept rows by location with one ``np.sort`` of 64-bit keys
(location in the high bits, row number in the low bits: the sorted keys are the
permutation, and each location's first row comes first), OR-s each location's offer bits
(:mod:`assetmap.bdc._sql`) with ``reduceat`` and counts its distinct providers with a sort
of (location, provider) codes, the locations cut in two halves, one per thread, while the
main thread finds each location's area. A frame where some location's rows lie in two areas
goes to the SQL path (:mod:`assetmap.bdc._stream`), whose rule (the smallest of the
location's areas) and warning every engine shares. The sums per area come from one
``bincount`` of (area, mask value) pairs: a location's mask takes a few hundred values at
most. pyarrow and numpy let go of the GIL, so the threads run side by side.

Location ids that are plain decimal numbers (no sign, no leading zero, within 64 bits)
are sorted as the numbers; any other text is dictionary-encoded first. Block GEOIDs of kept
rows are digits, so an area is an integer prefix of the GEOID's number (a GEOID that lost
its leading zero has the same number). :func:`area_sums` returns None for a frame it does
not take (numbers stored as text or with NaN, codes as floats, a missing H3 id at
``level="h3"``); the caller then takes the general path.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from assetmap.bdc import _sql as bead
from assetmap.bdc._arrow import edge_blanks, in_letters, memory_pool, true_array
from assetmap.bdc._checks import BLANKS
from assetmap.bdc._common import SUM_COLUMNS
from assetmap.bdc._frame_checks import SLICE, check_counts, row_checks
from assetmap.bdc._frame_levels import _INT_RANGE, empty_text, number_columns
from assetmap.bdc._sort import sort_in_parts
from assetmap.bdc.rules import RuleSet

__all__ = ["area_sums"]

_TEXT = ("location_id", "provider_id", "business_residential_code", "block_geoid")
_PAIRS_BY_COUNT = 1 << 26  # (area, provider) pairs found with bincount below this many slots
_COUNT_SLOTS = 1 << 22  # (area, mask value) pairs counted in one table below this many slots


def area_sums(avail: pd.DataFrame, codes: Sequence[str] | None, level: str, rules: RuleSet
              ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame] | None:
    """Return area sums, (area, provider) pairs and check counts, or None.

    The three frames are what :func:`assetmap.bdc._common.finish_area` and
    :func:`~assetmap.bdc._counts.tally` take (``area`` and the ``SUM_COLUMNS``;
    ``area, provider_id, _check``; ``_check, n`` over every row, a row outside ``codes``
    under the filter's code).

    Examples
    --------
    >>> import pandas as pd
    >>> from assetmap.bdc.rules import rule_set
    >>> rows = pd.DataFrame({
    ...     "provider_id": ["p1", "p2"], "location_id": ["1001", "1001"],
    ...     "technology": pd.array([50, 70], dtype="int16"),
    ...     "max_advertised_download_speed": [1000.0, 25.0],
    ...     "max_advertised_upload_speed": [1000.0, 3.0],
    ...     "low_latency": pd.array([1, 1], dtype="int8"),
    ...     "business_residential_code": ["R", "R"],
    ...     "block_geoid": ["481350001001000", "481350001001000"]})
    >>> sums, pairs, checks = area_sums(rows, ("R", "X"), "tract", rule_set("bead"))
    >>> sums[["area", "locations", "served", "n_fiber"]].to_dict("records")
    [{'area': '48135000100', 'locations': 1, 'served': 1, 'n_fiber': 1}]
    >>> sorted(pairs["provider_id"])
    ['p1', 'p2']
    """
    return _area_sums(avail, codes, level, rules)


def _area_sums(avail: pd.DataFrame, codes: Sequence[str] | None, level: str, rules: RuleSet
               ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame] | None:
    names = [*_TEXT, *_INT_RANGE] + (["h3_res8_id"] if level == "h3" else [])
    try:
        table = pa.Table.from_pandas(pd.DataFrame(avail[names]), preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError):
        return None  # e.g. an object column mixing text and integers too large for int64
    nums = number_columns(table)
    if nums is None or any(not _is_text(table.column(c)) for c in names[:4]):
        return None
    if level == "h3" and empty_text(table.column("h3_res8_id")):
        return None  # an empty cell is a missing one, as in a file: the SQL path reads so
    n = table.num_rows
    chosen = np.ones(n, dtype=bool)
    check = np.empty(n, dtype=np.int8)
    bits = np.empty(n, dtype=np.int16)
    number = np.empty(n, dtype=np.int64) if level != "h3" else None  # the GEOIDs as numbers
    with ThreadPoolExecutor(max_workers=2) as pool:  # pyarrow and numpy let go of the GIL
        ids = pool.submit(_location_keys, table.column("location_id"))
        half = -(-n // SLICE // 2) * SLICE  # the checks in two parts, at a slice's edge
        rows = [pool.submit(row_checks, table.column("block_geoid"), nums, rules, check, bits,
                            number, rows=part) for part in (range(half), range(half, n))]
        prov, prov_ids, prov_blank = _encode(table.column("provider_id"))
        if codes:
            code = table.column("business_residential_code")
            chosen = true_array(in_letters(code, list(codes)), False)
        loc, loc_blank, loc_ids = ids.result()
        for done in rows:
            done.result()
    if any(edge_blanks(v).any() for v in (loc_ids, prov_ids)):  # the SQL path trims, counts
        return None
    for start in range(0, n, SLICE):  # the blank ids, in the order of the tests
        piece = slice(start, start + SLICE)
        part = check[piece]
        part[prov_blank[piece] & ((part == 0) | (part == 1))] = 7
        part[loc_blank[piece] & ((part < 2) | (part > 4))] = 4
    checks = check_counts(check, chosen)
    kept = np.flatnonzero(chosen & (check <= 1))
    if level == "h3" and table.column("h3_res8_id").null_count and table.column(
            "h3_res8_id").take(pa.array(kept)).null_count:
        return None
    with ThreadPoolExecutor(max_workers=2) as pool:
        rolled = _roll_up(table, kept, loc, prov, prov_ids, bits, number, level, pool)
    if rolled is None:  # a location with rows in two areas: the SQL path's rule and warning
        return None
    return *rolled, checks


def _is_text(col: pa.ChunkedArray) -> bool:
    return pa.types.is_string(col.type) or pa.types.is_large_string(col.type)


def _blank_values(values: pa.Array) -> np.ndarray:
    """Per value: empty or only spaces and tabs."""
    return true_array(pc.equal(pc.binary_length(pc.utf8_trim(values, BLANKS)), 0), True)


def _encode(col: pa.ChunkedArray) -> tuple[np.ndarray, pa.Array, np.ndarray]:
    """Codes of a text column, its distinct values, and which rows are NULL or blank."""
    # one memo table: every chunk ends with the whole dictionary, and the codes agree
    encoded = pc.dictionary_encode(col, memory_pool=memory_pool())
    if not encoded.num_chunks:
        return np.zeros(0, dtype=np.int32), pa.array([], col.type), np.zeros(0, dtype=bool)
    dictionary = encoded.chunk(encoded.num_chunks - 1).dictionary
    indices = pa.chunked_array([c.indices for c in encoded.chunks], pa.int32())
    codes = np.asarray(indices.fill_null(-1).to_numpy(zero_copy_only=False))
    blank = np.append(_blank_values(dictionary), True)  # the last entry: NULL
    return codes, dictionary, blank[codes]


def _location_keys(col: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray, pa.Array]:
    """Int64 keys equal exactly where the ids are; the NULL or blank rows; the distinct ids.

    Plain decimal ids are their own numbers (no hash table, no distinct ids: none has a
    space); other text is encoded.
    """
    valid = pc.drop_null(col) if col.null_count else col
    plain = (len(valid) > 0 and pc.all(pc.ascii_is_decimal(valid)).as_py()
             and not pc.any(pc.starts_with(valid, "0")).as_py())
    if plain:
        try:  # more than 18 digits may not fit: the cast says so
            numbers = pc.cast(col, pa.int64(), memory_pool=memory_pool())
        except pa.ArrowInvalid:
            numbers = None
        if numbers is not None:
            keys = np.asarray(pc.fill_null(numbers, -1).to_numpy(zero_copy_only=False))
            return keys, keys < 0, pa.array([], col.type)
    codes, ids, blank = _encode(col)
    return codes, blank, ids


def _sorted_by_location(keys: np.ndarray, rows: np.ndarray, n: int, pool: ThreadPoolExecutor
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Rows ordered by location key, then row; and where each location starts.

    ``keys`` is a new array (the kept rows' keys), packed and sorted in place when 64-bit,
    on the pool's two threads (:func:`~assetmap.bdc._sort.sort_in_parts`).
    """
    shift = max(int(n).bit_length(), 1)
    if len(keys) and int(keys.max()) >> (62 - shift):  # too wide to pack: make them small
        keys = pd.factorize(keys)[0]
    keys = keys.astype(np.int64, copy=False)  # codes of text ids are int32: widen first
    packed = np.left_shift(keys, shift, out=keys)
    packed |= rows
    sort_in_parts(packed, pool=pool, parts=2)
    # row numbers as int32 where they fit: half the memory for every gather after this
    order = np.empty(len(packed), dtype=np.int32 if shift < 31 else np.int64)
    np.bitwise_and(packed, (1 << shift) - 1, out=order, casting="unsafe")
    packed >>= shift
    new = _firsts(packed)
    del packed
    return order, np.flatnonzero(new)


def _firsts(values: np.ndarray) -> np.ndarray:
    """Where each run of equal values of a sorted array starts (True at its first value)."""
    new = np.empty(len(values), dtype=bool)
    new[:1] = True
    np.not_equal(values[1:], values[:-1], out=new[1:])
    return new


def _distinct(keys: np.ndarray) -> np.ndarray:
    """Sorted distinct values, sorted in place (numpy 2.3's hashing ``np.unique`` is slower)."""
    keys.sort()
    return keys[_firsts(keys)]


def _locations(order: np.ndarray, starts: np.ndarray, prov: np.ndarray, bits: np.ndarray,
               n_prov: int, keys: np.ndarray, div: int
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Per location: OR-ed bits, providers at the served threshold, (location, provider) pairs.

    ``order`` holds the rows location by location, each location starting at ``starts``;
    the distinct pairs are ``location * n_prov + code``, locations numbered from 0 here.
    None when a location's rows lie in two areas (``keys // div`` differ: ``keys`` holds
    each row's GEOID number, or its H3 code with ``div`` 1).
    """
    n_loc = len(starts)
    if n_loc:
        own = keys[order]
        low, high = np.minimum.reduceat(own, starts), np.maximum.reduceat(own, starts)
        del own
        if (low != high).any() and (low // div != high // div).any():
            return None
    bits = bits[order]
    mask = np.bitwise_or.reduceat(bits, starts) if n_loc else np.zeros(0, dtype=np.int16)
    wide = np.int64 if n_loc * n_prov >= 2**31 else np.int32
    pair: npt.NDArray[np.signedinteger[Any]] = np.zeros(len(order), dtype=wide)
    if n_loc:
        pair[starts[1:]] = 1
        np.cumsum(pair, out=pair)
    pair *= n_prov
    pair += prov[order]
    served_pairs = _distinct(pair[bits & bead.SERVED_BIT > 0])
    p100 = np.bincount(served_pairs // n_prov, minlength=n_loc)
    return mask, p100, _distinct(pair)


def _roll_up(table: pa.Table, kept: np.ndarray, loc: np.ndarray, prov: np.ndarray,
             prov_ids: pa.Array, bits: np.ndarray, number: np.ndarray | None, level: str,
             pool: ThreadPoolExecutor) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """Per location, then per area: the sums and the (area, provider) pairs, or None.

    None when a location's rows lie in two areas: the SQL path then counts it in the
    smallest of its areas, and says so (:func:`assetmap.bdc._common.note_split`).

    One sort orders the kept rows by location; the locations are then cut in two halves at
    a location's start, one half per thread (a location lies in one half, so each half's
    figures are exact), while the main thread finds each location's area.
    """
    n_prov = max(len(prov_ids), 1)
    order, starts = _sorted_by_location(loc[kept], kept, table.num_rows, pool)
    n_loc = len(starts)
    cut = n_loc // 2
    row_cut = int(starts[cut]) if cut < n_loc else len(order)
    halves = [(order[:row_cut], starts[:cut]), (order[row_cut:], starts[cut:] - row_cut)]
    if number is None:  # H3 cells, coded: a location's area is its first row's cell
        cells = pc.dictionary_encode(table.column("h3_res8_id").combine_chunks())
        keys, div = cells.indices.fill_null(-1).to_numpy(), 1
        area = keys[order[starts]].astype(np.int64)
        names = np.asarray(cells.dictionary.to_pandas(), dtype=object)
    else:
        keys, div = number, 10 ** (15 - bead.AREA_LENGTH[level])
    done = [pool.submit(_locations, rows, at, prov, bits, n_prov, keys, div)
            for rows, at in halves]
    if number is not None:  # the GEOIDs' areas, while the threads run
        area, names = _areas(order[starts], number, level)
    del halves, order
    found = [d.result() for d in done]
    parts = [part for part in found if part is not None]
    if len(parts) < len(found):
        return None
    mask, p100 = (np.concatenate([d[k] for d in parts]) for k in range(2))
    pairs = [pool.submit(_area_pairs, area, d[2], offset, n_prov)
             for d, offset in zip(parts, (0, cut), strict=True)]
    n = len(names)
    columns = _area_counts(area, mask, n)
    columns["providers_100_20_sum"] = np.bincount(area, weights=p100, minlength=n).round(
        ).astype("int64")
    columns = {c: columns[c] for c in SUM_COLUMNS}
    used = np.flatnonzero(columns["locations"] > 0)
    sums = pd.DataFrame({"area": names[used], **{c: v[used] for c, v in columns.items()}})
    area_pairs = np.concatenate([p.result() for p in pairs])
    if n * n_prov <= _PAIRS_BY_COUNT:
        present = np.zeros(n * n_prov, dtype=bool)
        present[area_pairs] = True
        area_pairs = np.flatnonzero(present)
    else:
        area_pairs = _distinct(area_pairs)
    providers = np.asarray(prov_ids.to_pandas(), dtype=object)
    pairs_frame = pd.DataFrame({"area": names[area_pairs // n_prov],
                                "provider_id": providers[area_pairs % n_prov], "_check": 0})
    return sums, pairs_frame


def _area_pairs(area: np.ndarray, pairs: np.ndarray, offset: int, n_prov: int
                ) -> np.ndarray:
    """(location, provider) pairs of a half, numbered from ``offset``: as (area, provider)."""
    location, provider = np.divmod(pairs, n_prov)
    location = location.astype(np.int64, copy=False)
    location += offset
    out = np.take(area, location, out=location)
    out *= n_prov
    out += provider
    return out


def _area_counts(area: np.ndarray, mask: np.ndarray, n: int) -> dict[str, np.ndarray]:
    """Locations per area, and per area those with each flag of ``bead.location_flags``.

    A location's mask takes one of a few hundred values at most: one count of (area, mask
    value) gives every column (the flags are worked out on the distinct masks only).
    """
    seen = np.bincount(mask, minlength=1)
    values = np.flatnonzero(seen) if len(mask) else np.zeros(1, dtype=np.int64)
    k = len(values)
    if n * k > _COUNT_SLOTS:  # very many areas: one count per flag
        return {"locations": np.bincount(area, minlength=n).astype("int64"),
                **{c: np.bincount(area[f], minlength=n).astype("int64")
                   for c, f in bead.location_flags(mask).items()}}
    code = np.zeros(len(seen), dtype=np.int64)
    code[values] = np.arange(len(values))
    key = area * k
    key += code[mask]
    table = np.bincount(key, minlength=n * k).reshape(n, k)
    return {"locations": table.sum(axis=1).astype("int64"),
            **{c: table @ f.astype(np.int64) for c, f in bead.location_flags(values).items()}}


def _areas(first: np.ndarray, number: np.ndarray, level: str) -> tuple[np.ndarray, np.ndarray]:
    """Each location's area code (from its first row: they lie in one) and the keys as text.

    ``number`` holds every row's block GEOID as a number.
    """
    width = bead.AREA_LENGTH[level]
    codes, keys = pd.factorize(number[first] // 10 ** (15 - width))  # a few thousand areas
    names = np.asarray([f"{k:0{width}d}" for k in keys.tolist()], dtype=object)
    return codes.astype(np.int64, copy=False), names
