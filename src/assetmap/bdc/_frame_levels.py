"""BEAD service levels of availability rows in memory, on integer codes with numpy.

The fast path under :func:`assetmap.bdc.levels.service_levels` and
:func:`~assetmap.bdc.levels.service_by_area` for a frame already in memory (the shape
:func:`assetmap.load_bdc` returns): location and provider ids become integer codes once, in
sorted order, and every per-location quantity is one scatter (``ufunc.at``) over the rows.
It computes exactly what the SQL of :mod:`assetmap.bdc._sql` computes for the same
:class:`~assetmap.bdc.rules.RuleSet`, with the same row checks
(:func:`assetmap.bdc._engine.checked_sql`). Speeds may be integers or floats: they are
compared with the thresholds as they are, fractions included.

:func:`code_rows` returns None for a frame it does not take (codes stored as text or floats,
missing speeds, provider or H3 ids, more than 64 providers); the caller then runs the SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from assetmap.bdc import _engine as eng
from assetmap.bdc import _sql as bead
from assetmap.bdc._arrow import edge_blanks, in_letters, true_array
from assetmap.bdc._checks import ID_COLUMNS, filter_code
from assetmap.bdc.rules import RuleSet, technology_group, technology_names

_INT_RANGE = {"technology": (-(2**15), 2**15 - 1), "low_latency": (-128, 127),
              "max_advertised_download_speed": (-(2**31), 2**31 - 1),
              "max_advertised_upload_speed": (-(2**31), 2**31 - 1)}
_SPEEDS = ("max_advertised_download_speed", "max_advertised_upload_speed")
_TECH_BIT = np.full(2**16, bead.GROUP_BITS["other"], dtype=np.int64)  # technology + 2**15
for _code in technology_names():
    _TECH_BIT[_code + 2**15] = bead.GROUP_BITS[technology_group(_code)]
_KNOWN = np.zeros(2**16, dtype=bool)
_KNOWN[np.asarray(eng.TECHNOLOGIES) + 2**15] = True


def _reliable_table(rules: RuleSet) -> np.ndarray:
    """Lookup indexed by technology + 2**15: the code is reliable under ``rules``."""
    table = np.zeros(2**16, dtype=bool)
    table[np.asarray(rules.reliable_technologies, dtype=np.int64) + 2**15] = True
    return table


@dataclass
class Coded:
    """Checked rows of a frame (``_check <= 1``) as integer codes, and the check counts.

    Codes index sorted tables of distinct values (``*_ids``, byte order as SQL ``ORDER BY``),
    which may hold values of rejected rows too.
    """

    rows_read: int
    checks: dict[int, int]
    index: np.ndarray  # positions of the kept rows in the frame
    loc: np.ndarray  # location code of each kept row
    loc_ids: pa.Array
    prov: np.ndarray  # provider code of each kept row
    prov_ids: pa.Array
    block: np.ndarray  # block code of each kept row (codes in the order of the GEOIDs)
    block_ids: pa.Array  # block GEOIDs, lost leading zero restored, sorted
    h3: np.ndarray  # H3 code of each kept row (codes in the order of the cells)
    h3_ids: pa.Array
    tech: np.ndarray
    down: np.ndarray  # int64, or float64 when the frame stores speeds as floats
    up: np.ndarray
    low_latency: np.ndarray


@dataclass
class Locations:
    """One entry per location (in sorted ``location_id`` order)."""

    ids: pa.Array
    mask: np.ndarray  # the bit mask of :mod:`assetmap.bdc._sql`
    best_down: np.ndarray
    best_up: np.ndarray
    providers: np.ndarray
    providers_100_20: np.ndarray
    provider_set: np.ndarray  # bit k: provider code k has an offer here
    block: np.ndarray  # block code of each location: the smallest of its rows'
    h3: np.ndarray  # H3 code of each location: the smallest of its rows'
    split: int  # locations whose rows name two blocks


def _encode(table: pa.Table, name: str, *, sort: bool) -> tuple[np.ndarray, pa.Array] | None:
    """Codes of a text column (-1 for a missing value), or None if it is not text.

    With ``sort`` the codes follow the byte order of the values.
    """
    col = table.column(name)
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        return None
    encoded = pc.dictionary_encode(col.combine_chunks())
    uniques = encoded.dictionary
    if not sort:
        return encoded.indices.fill_null(-1).to_numpy().astype(np.int64), uniques
    order = pc.sort_indices(uniques).to_numpy()
    rank = np.empty(len(order) + 1, dtype=np.int64)
    rank[order] = np.arange(len(order))
    rank[-1] = -1
    return rank[encoded.indices.fill_null(-1).to_numpy()], uniques.take(pa.array(order))


def number_columns(table: pa.Table) -> dict[str, np.ndarray] | None:
    """Return the number columns as numpy (codes integers, speeds integers or finite floats)."""
    nums = {}
    for name, (low, high) in _INT_RANGE.items():
        col = table.column(name)
        if col.null_count:
            return None
        if name in _SPEEDS and pa.types.is_floating(col.type):
            values = col.to_numpy().astype(np.float64, copy=False)
            if not np.isfinite(values).all():
                return None
        elif pa.types.is_integer(col.type):
            values = col.to_numpy()
            if len(values) and (values.min() < low or values.max() > high):
                return None
            if name == "technology":  # an index of lookup tables (+ 2**15): no int16 wrap
                values = values.astype(np.int32)
        else:
            return None
        nums[name] = values
    return nums


def empty_text(column: pa.ChunkedArray) -> bool:
    """Whether a text column holds an empty value (a file reader reads it as missing)."""
    return bool(pa.types.is_string(column.type) or pa.types.is_large_string(column.type)) \
        and bool(pc.any(pc.equal(pc.binary_length(column), 0)).as_py())


def code_rows(avail: pd.DataFrame, codes: Sequence[str] | None) -> Coded | None:
    """Check and code the rows of ``avail`` as :func:`eng.checked_sql` does, or return None."""
    try:
        table = pa.Table.from_pandas(pd.DataFrame(avail[list(eng.BDC_COLUMNS)]),
                                     preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError):
        return None  # e.g. an object column mixing text and integers too large for int64
    nums = number_columns(table)
    if nums is None or empty_text(table.column("h3_res8_id")):
        return None  # an empty cell is a missing one, as in a file: the SQL path reads so
    found = {c: _encode(table, c, sort=c != "business_residential_code")
             for c in ("location_id", "provider_id", "block_geoid", "h3_res8_id",
                       "business_residential_code")}  # sorted: a location's smallest, by code
    coded = {c: v for c, v in found.items() if v is not None}
    if len(coded) < len(found) or any(edge_blanks(coded[c][1]).any() for c in ID_COLUMNS):
        return None  # ids with spaces around them: the SQL path trims them and counts it
    index = np.arange(table.num_rows)
    block, block_ids = coded["block_geoid"]
    # per distinct GEOID (the last entry stands for a missing one): length and digits only
    length = np.append(pc.utf8_length(block_ids).to_numpy(zero_copy_only=False), -1)
    digits = np.append(pc.match_substring_regex(block_ids, r"^[0-9]+$").to_numpy(
        zero_copy_only=False), False)
    block = block[index]
    tech = nums["technology"][index]
    down = nums["max_advertised_download_speed"][index]
    up = nums["max_advertised_upload_speed"][index]
    low_latency = nums["low_latency"][index]
    loc = coded["location_id"][0][index]
    check = np.zeros(len(index), dtype=np.int8)
    row_length = length[block]
    check[row_length == 14] = 1
    check[(low_latency != 0) & (low_latency != 1)] = 6
    check[(down < 0) | (up < 0)] = 5
    check[loc < 0] = 4
    check[((row_length != 14) & (row_length != 15)) | ~digits[block]] = 3
    check[~_KNOWN[tech + 2**15]] = 2
    if codes:  # rows outside the codes (compared upper-cased, trimmed): the filter's code
        code, code_ids = coded["business_residential_code"]
        wanted = np.append(true_array(in_letters(code_ids, list(codes)), False), False)
        outside = ~wanted[code] & (check <= 1)
        check[outside] += filter_code("codes")
    counts = np.bincount(check, minlength=filter_code("codes", repaired=True) + 1)
    kept = np.flatnonzero(check <= 1) if counts[2:].any() else slice(None)
    index = index[kept]
    prov, h3 = coded["provider_id"][0][index], coded["h3_res8_id"][0][index]
    if (len(prov) and prov.min() < 0) or (len(h3) and h3.min() < 0):
        return None
    if len(coded["provider_id"][1]) > 64:
        return None
    if counts[1]:  # restore the lost leading zero of 14-digit GEOIDs
        short = pa.array(length[:-1] == 14)
        block_ids = pc.if_else(short, pc.binary_join_element_wise(
            pa.scalar("0", block_ids.type), block_ids, pa.scalar("", block_ids.type)),
                               block_ids)
        order = pc.sort_indices(block_ids).to_numpy()  # in the GEOIDs' order again
        rank = np.empty(len(order) + 1, dtype=np.int64)
        rank[order], rank[-1] = np.arange(len(order)), -1
        block, block_ids = rank[block], block_ids.take(pa.array(order))
    return Coded(
        rows_read=len(check), checks={c: int(n) for c, n in enumerate(counts) if c and n},
        index=index, loc=loc[kept], loc_ids=coded["location_id"][1], prov=prov,
        prov_ids=coded["provider_id"][1], block=block[kept], block_ids=block_ids, h3=h3,
        h3_ids=coded["h3_res8_id"][1], tech=tech[kept], down=down[kept], up=up[kept],
        low_latency=low_latency[kept],
    )


def popcount(values: np.ndarray) -> np.ndarray:
    """Set bits of each unsigned 64-bit value, as int64 (``np.bitwise_count`` from numpy 2).

    Examples
    --------
    >>> popcount(np.array([0, 1, 7, 2**63 + 1], dtype=np.uint64)).tolist()
    [0, 1, 3, 2]
    """
    values = np.asarray(values, dtype=np.uint64)
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(values).astype(np.int64)
    m1, m2, m4 = (np.uint64(0x5555555555555555), np.uint64(0x3333333333333333),
                  np.uint64(0x0F0F0F0F0F0F0F0F))
    v = values - ((values >> np.uint64(1)) & m1)
    v = (v & m2) + ((v >> np.uint64(2)) & m2)
    v = (v + (v >> np.uint64(4))) & m4
    return ((v * np.uint64(0x0101010101010101)) >> np.uint64(56)).astype(np.int64)


def locations(rows: Coded, rules: RuleSet) -> Locations:
    """Classify every location under ``rules`` (as :func:`bead.locations_sql`)."""
    loc, size = rows.loc, len(rows.loc_ids)
    present = np.flatnonzero(np.bincount(loc, minlength=size))

    def per_code(ufunc: np.ufunc, values: np.ndarray, start: int) -> np.ndarray:
        out = np.full(size, start, dtype=values.dtype)
        ufunc.at(out, loc, values)
        return out

    def per_location(ufunc: np.ufunc, values: np.ndarray, start: int = 0) -> np.ndarray:
        return per_code(ufunc, values, start)[present]

    tech, down, up = rows.tech, rows.down, rows.up
    reliable = _reliable_table(rules)[tech + 2**15]
    if rules.low_latency_required:
        reliable &= rows.low_latency == 1
    (served_down, served_up), (under_down, under_up) = rules.served, rules.underserved
    under = reliable & (down >= under_down) & (up >= under_up)
    served = reliable & (down >= served_down) & (up >= served_up)
    mask = (_TECH_BIT[tech + 2**15] | np.where(under, bead.UNDERSERVED_BIT, 0)
            | np.where(served, bead.SERVED_BIT, 0))
    bits = np.left_shift(np.uint64(1), rows.prov.astype(np.uint64))
    # the best offer: highest download, then the highest upload among those offers
    zero = np.zeros(1, dtype=down.dtype)[0]
    best_down = per_code(np.maximum, np.where(reliable, down, -1), -1)
    is_best = reliable & (down == best_down[loc])
    provider_set = per_location(np.bitwise_or, bits)
    block = per_location(np.minimum, rows.block, len(rows.block_ids))
    p100_set = per_location(np.bitwise_or, np.where(served, bits, np.uint64(0)))
    kind = np.int32 if down.dtype.kind in "iu" and up.dtype.kind in "iu" else np.float64
    return Locations(
        ids=rows.loc_ids.take(pa.array(present)),
        mask=per_location(np.bitwise_or, mask),
        best_down=np.maximum(best_down[present], zero).astype(kind),
        best_up=per_location(np.maximum, np.where(is_best, up, zero)).astype(kind),
        providers=popcount(provider_set),
        providers_100_20=popcount(p100_set),
        provider_set=provider_set,
        block=block,
        h3=per_location(np.minimum, rows.h3, len(rows.h3_ids)),
        split=int((block != per_location(np.maximum, rows.block, -1)).sum()),
    )


def provider_lists(sets: np.ndarray, prov_ids: pa.Array) -> pa.Array:
    """Join the sorted provider ids of each provider bit set with ``;``."""
    uniques, inverse = np.unique(sets, return_inverse=True)
    names = prov_ids.to_pylist()
    text = [";".join(names[b] for b in range(len(names)) if int(u) >> b & 1) for u in uniques]
    return pa.array(text, pa.large_string()).take(pa.array(inverse.reshape(-1)))


def check_pairs(rows: Coded) -> pd.DataFrame:
    """Row counts per check code (``_check, n``), as :func:`.bdc._counts.tally` takes them."""
    bad = sum(rows.checks.values())
    codes = [0, *rows.checks]
    n = [rows.rows_read - bad, *rows.checks.values()]
    return pd.DataFrame({"_check": np.asarray(codes, dtype=np.int64),
                         "n": np.asarray(n, dtype=np.int64)})
