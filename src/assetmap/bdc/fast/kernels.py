"""Hash tables of the fast BDC aggregation engine (:mod:`assetmap.bdc.fast.engine`).

:func:`aggregate` folds parsed rows (:mod:`assetmap.bdc.fast.parse`) into open-addressing
hash tables on numpy arrays, compiled with numba ``nogil=True`` so that each thread folds its
own partition of the locations: per location the OR of the offer bits
(:mod:`assetmap.bdc._sql` bit layout), its area, and its distinct providers at
100/20 (two inline slots, then an overflow set); the distinct (area, provider) pairs; areas and
providers interned to small indexes. :func:`finish` turns a partition's location table into
per-area counts. Each table is kept under 60% full: :func:`aggregate` stops and the caller
doubles the table (:func:`rehash`).
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core.extending import intrinsic

EMPTY = np.int64(-(2**63))  # free slot in tables keyed by location
C1 = np.uint64(0x9E3779B97F4A7C15)
C2 = np.uint64(0xC2B2AE3D27D4EB4F)
# meta slots: [n_loc, loc_bits, n_area, area_bits, n_prov, prov_bits, n_pair, pair_bits,
#              n_ovf, ovf_bits, scratch]
OK, BAD_LINE, TOO_MANY_PROVIDERS, SPLIT = 0, 1, 2, 3  # SPLIT: a location in two areas
AREA_MASK = (1 << 24) - 1
BATCH = 16  # rows between checks of the tables' room
AHEAD = 24  # rows whose location slots are being loaded (prefetch distance)


@intrinsic
def _prefetch(typingctx, table, index):
    """Ask the CPU to load the cache line of ``table[index]`` (no wait, no fault)."""
    if not isinstance(table, types.Array) or not isinstance(index, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        byte_ptr = ir.IntType(8).as_pointer()
        where = builder.bitcast(builder.gep(data, [args[1]]), byte_ptr)
        i32 = ir.IntType(32)
        fn = builder.module.declare_intrinsic(
            "llvm.prefetch", [byte_ptr], ir.FunctionType(ir.VoidType(), [byte_ptr, i32, i32, i32]))
        # read, high locality, data cache
        builder.call(fn, [where, ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return types.void(table, index), codegen


@njit(nogil=True, cache=True, inline="always")
def _hash(key, bits):
    return np.int64((np.uint64(key) * C1) >> np.uint64(64 - bits))


@njit(nogil=True, cache=True, inline="always")
def partition_of(key, parts):
    """Return the partition (0 to ``parts`` - 1) of a location key."""
    # the high 32 bits of a second hash, scaled to [0, parts) by a multiply (no division)
    return np.int64((((np.uint64(key) * C2) >> np.uint64(32)) * np.uint64(parts))
                    >> np.uint64(32))


@njit(nogil=True, cache=True, inline="always")
def _slot(table, width, bits, key, empty):
    """Linear probing: the slot holding ``key`` or the free slot where it goes."""
    mask = (np.int64(1) << bits) - 1
    s = _hash(key, bits)
    while True:
        k = table[s * width]
        if k in (key, empty):
            return s
        s = (s + 1) & mask


@njit(nogil=True, cache=True)
def aggregate(loc, prov, area, bits, n, start, lt, at, akeys, pt, pkeys, st, ot, meta):
    """Fold rows ``start:n`` into the tables; return (next row, table to grow or -1, status).

    ``lt`` locations ``[key, value]`` with value = area index (24 bits) | offer bits << 24 |
    first two providers at 100/20 (15 bits each, index + 1) at bits 33 and 48;
    ``at``/``pt`` area and provider interning, ``st`` the (area, provider) set, ``ot`` the
    overflow set of (location, provider) at 100/20 past two. Status ``SPLIT``: a location's
    row lies in another area than its first row (the state goes to the DuckDB engine, which
    counts such a location in the smallest of its areas).

    The probes are written out here (a helper taking arrays costs reference counting per
    call); the location slots are prefetched AHEAD rows on, the pair slots of a batch of
    rows before the batch's pairs are inserted, so their cache misses overlap.
    """
    lbits, abits, pbits, sbits, obits = meta[1], meta[3], meta[5], meta[7], meta[9]
    lmask = (np.int64(1) << lbits) - 1
    amask = (np.int64(1) << abits) - 1
    pmask = (np.int64(1) << pbits) - 1
    smask = (np.int64(1) << sbits) - 1
    omask = (np.int64(1) << obits) - 1
    pairs = np.empty(BATCH, dtype=np.int64)
    last_pk = np.int64(-1)
    pidx = np.int64(0)
    for r in range(start, min(start + AHEAD, n)):
        _prefetch(lt, 2 * _hash(loc[r], lbits))
    i = start
    while i < n:
        for t in range(5):  # room for a batch in every table (under 60% full)
            if (meta[2 * t] + BATCH) * 5 >= (np.int64(3) << meta[2 * t + 1]):
                return i, t, OK
        top = min(i + BATCH, n)
        for r in range(i, top):
            if r + AHEAD < n:  # a location slot AHEAD rows on (and its area's slot)
                _prefetch(lt, 2 * _hash(loc[r + AHEAD], lbits))
                _prefetch(at, 2 * _hash(area[r + AHEAD], abits))
            lk = loc[r]
            if lk == EMPTY:
                return r, -1, BAD_LINE
            pk = prov[r]
            if pk != last_pk:  # the provider's index
                s = _hash(pk, pbits)
                while pt[2 * s] != pk and pt[2 * s] != -1:
                    s = (s + 1) & pmask
                if pt[2 * s] == pk:
                    pidx = pt[2 * s + 1]
                else:
                    pidx = meta[4]
                    pt[2 * s] = pk
                    pt[2 * s + 1] = pidx
                    pkeys[pidx] = pk
                    meta[4] = pidx + 1
                last_pk = pk
                if pidx >= 32766:
                    return r, -1, TOO_MANY_PROVIDERS
            b = np.int64(bits[r])
            s = _hash(lk, lbits)
            while lt[2 * s] != lk and lt[2 * s] != EMPTY:
                s = (s + 1) & lmask
            if lt[2 * s] != lk:  # a new location: its area's index
                ak = area[r]
                a = _hash(ak, abits)
                while at[2 * a] != ak and at[2 * a] != -1:
                    a = (a + 1) & amask
                if at[2 * a] == ak:
                    aidx = at[2 * a + 1]
                else:
                    aidx = meta[2]
                    at[2 * a] = ak
                    at[2 * a + 1] = aidx
                    akeys[aidx] = ak
                    meta[2] = aidx + 1
                if aidx > AREA_MASK:
                    return r, -1, TOO_MANY_PROVIDERS
                v = aidx | (b << 24)
                if b & 256:
                    v |= (pidx + 1) << 33
                lt[2 * s] = lk
                lt[2 * s + 1] = v
                meta[0] += 1
            else:
                v = lt[2 * s + 1] | (b << 24)
                aidx = v & AREA_MASK
                if akeys[aidx] != area[r]:  # rows in two areas: the DuckDB engine's rule
                    return r, -1, SPLIT
                if b & 256:
                    s1 = (v >> 33) & 0x7FFF
                    s2 = (v >> 48) & 0x7FFF
                    if s1 == 0:
                        v |= (pidx + 1) << 33
                    elif s1 != pidx + 1:
                        if s2 == 0:
                            v |= (pidx + 1) << 48
                        elif s2 != pidx + 1:  # a third provider at 100/20: the overflow set
                            o = _hash(lk * 32771 + pidx, obits)
                            while ot[2 * o] != EMPTY and not (ot[2 * o] == lk
                                                              and ot[2 * o + 1] == pidx):
                                o = (o + 1) & omask
                            if ot[2 * o] == EMPTY:
                                ot[2 * o] = lk
                                ot[2 * o + 1] = pidx
                                meta[8] += 1
                lt[2 * s + 1] = v
            pair = (aidx << 16) | pidx
            pairs[r - i] = pair
            _prefetch(st, _hash(pair, sbits))
        for r in range(i, top):  # the batch's (area, provider) pairs
            pair = pairs[r - i]
            q = _hash(pair, sbits)
            while st[q] != pair and st[q] != -1:
                q = (q + 1) & smask
            if st[q] == -1:
                st[q] = pair
                meta[6] += 1
        i = top
    return n, -1, OK


@njit(nogil=True, cache=True, inline="always")
def _overflow_slot(ot, bits, lk, pidx):
    mask = (np.int64(1) << bits) - 1
    s = _hash(lk * 32771 + pidx, bits)
    while True:
        k = ot[2 * s]
        if k == EMPTY or (k == lk and ot[2 * s + 1] == pidx):
            return s
        s = (s + 1) & mask


@njit(nogil=True, cache=True)
def rehash(old, width, old_bits, new, new_bits, empty, pair_key):
    """Move every entry of ``old`` into ``new`` (``pair_key`` for the overflow set)."""
    for s in range(np.int64(1) << old_bits):
        k = old[s * width]
        if k == empty:
            continue
        if pair_key:
            t = _overflow_slot(new, new_bits, k, old[s * width + 1])
        else:
            t = _slot(new, width, new_bits, k, empty)
        for w in range(width):
            new[t * width + w] = old[s * width + w]


@njit(nogil=True, cache=True)
def finish(lt, loc_bits, n_area, ot, ovf_bits, counts, p100):
    """Per-area counts of a partition, columns as ``assetmap.bdc.fast.common.SUM_COLUMNS``.

    ``counts``: what a location adds per offer mask (:func:`.common.mask_counts`, the one
    definition of the flags); ``p100``: the column of the providers at 100/20.
    """
    width = counts.shape[1]
    out = np.zeros((n_area, width), dtype=np.int64)
    for s in range(np.int64(1) << loc_bits):
        if lt[2 * s] == EMPTY:
            continue
        v = lt[2 * s + 1]
        a = v & AREA_MASK
        m = (v >> 24) & 511
        for j in range(width):
            out[a, j] += counts[m, j]
        if (v >> 33) & 0x7FFF:
            out[a, p100] += 1
        if (v >> 48) & 0x7FFF:
            out[a, p100] += 1
    for s in range(np.int64(1) << ovf_bits):
        lk = ot[2 * s]
        if lk == EMPTY:
            continue
        t = _slot(lt, 2, loc_bits, lk, EMPTY)
        out[lt[2 * t + 1] & AREA_MASK, p100] += 1
    return out
