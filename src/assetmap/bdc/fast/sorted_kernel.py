"""Kernels of the sorted Parquet path of the fast BDC engine (:mod:`.sorted_files`).

When a state's rows are ordered by ``location_id``, or by ``(block_geoid, location_id)`` with
one block per location (as :func:`assetmap.bdc_to_parquet` writes them), a location's rows
are contiguous: :func:`fold_unit` reads a row group's typed columns
once, checks every row as :func:`assetmap.bdc.fast.columns.parse_columns` does, and folds
each run of equal ids into per-area counts straight away, with no table keyed by location.
Only small tables remain (areas, providers, a bit per (area, provider) pair; a worker's
own, kept across its row groups). The first and the last location of a row group may continue in
the neighbouring groups: they are returned unfolded (``part``) and merged in order by the
driver, which folds them with :func:`emit_many`.

Text columns come as (indexes, values): a dictionary's indexes and one parsed value per
dictionary entry, or no indexes and one value per row; a value of -1 is text that does not
parse, and the row stops the kernel (the state goes to the DuckDB engine).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from assetmap.bdc.fast.parse import _offer, code_selected, filter_of, offer_table

OK, BAD_LINE, FULL, UNSORTED, GROW, SPLIT = 0, 1, 2, 3, 4, 5  # SPLIT: a location in two areas
PCAP = 60  # distinct providers at 100/20 one location may have here (more: the hash path)
PART = 4 + PCAP  # a partial location: id, area key, offer bits, n providers, providers
C1 = np.uint64(0x9E3779B97F4A7C15)
# meta: [n_area, area_bits, n_prov, prov_bits, -, -, kept, has_first, has_last]


@njit(nogil=True, cache=True, inline="always")
def _intern(table, keys, meta, at, key):
    """Index of ``key`` (>= 0) in an interning table ``[key, index]`` (free slot: -1)."""
    bits = meta[at + 1]
    mask = (np.int64(1) << bits) - 1
    s = np.int64((np.uint64(key) * C1) >> np.uint64(64 - bits))
    while True:
        k = table[2 * s]
        if k == key:
            return table[2 * s + 1]
        if k == -1:
            idx = meta[at]
            table[2 * s] = key
            table[2 * s + 1] = idx
            keys[idx] = key
            meta[at] = idx + 1
            return idx
        s = (s + 1) & mask


@njit(nogil=True, cache=True)
def rehash(old, width, new, new_bits):
    """Move every entry of a table keyed by non-negative ints into the wider ``new``."""
    mask = (np.int64(1) << new_bits) - 1
    for s in range(old.shape[0] // width):
        k = old[s * width]
        if k == -1:
            continue
        t = np.int64((np.uint64(k) * C1) >> np.uint64(64 - new_bits))
        while new[t * width] != -1:
            t = (t + 1) & mask
        for w in range(width):
            new[t * width + w] = old[s * width + w]


@njit(nogil=True, cache=True, inline="always")
def _emit(sums, a, m, n100, counts, p100):
    """Fold one location (offer bits ``m``) into area ``a``, as ``kernels.finish``."""
    for j in range(counts.shape[1]):
        sums[a, j] += counts[m, j]
    sums[a, p100] += n100


@njit(nogil=True, cache=True)
def emit_many(locs, at, akeys, sums, meta, counts, p100):
    """Fold whole locations ``[id, area key, bits, n providers, ...]`` (rows of ``locs``).

    ``counts`` and ``p100``: as :func:`assetmap.bdc.fast.kernels.finish` takes them.
    """
    for i in range(locs.shape[0]):
        a = _intern(at, akeys, meta, 0, locs[i, 1])
        _emit(sums, a, locs[i, 2], locs[i, 3], counts, p100)


@njit(nogil=True, cache=True, inline="always")
def _save(part, j, lv, akey, bits, n100, provs):
    part[j, 0] = lv
    part[j, 1] = akey
    part[j, 2] = bits
    part[j, 3] = n100
    for k in range(n100):
        part[j, 4 + k] = provs[k]


@njit(nogil=True, cache=True, inline="always")
def _value(idx, vals, r):
    if idx.shape[0] > 0:
        return vals[idx[r]]
    return vals[r]


@njit(nogil=True, cache=True)
def fold_unit(loc, prov_idx, prov_pid, prov_vals, tech, down, up, low, code_idx, code_vals,
              geo_idx, geo_vals, area_vals, h3_idx, h3_vals, state_ok, want_h3, sel, rules,
              at, akeys, sums, pbits, meta, part, mode, edge, tally, counts, p100):
    """Check and fold a row group ordered by location; return (row, status).

    ``mode`` 0: rows ordered by location id; 1: by (block GEOID, location id), each
    location with one block (``edge`` then gets the number of runs of equal ids over all
    rows, the first row's GEOID and id, the last row's GEOID and id, for the caller to
    check the order across groups and that no location comes back later).

    ``rules``: the rule set as arrays (:func:`assetmap.bdc.fast.rule_arrays.rule_arrays`).
    ``code_vals``: :func:`code_values` (1 selected, 0 not, -1 text the DuckDB engine reads).
    ``tally`` gets the rows kept and left out by each filter
    (:func:`assetmap.bdc.fast.parse.filter_of`), set anew on each call. ``counts`` and
    ``p100``: as :func:`assetmap.bdc.fast.kernels.finish` takes them.
    ``prov_pid``/``prov_vals``: the worker's provider index and the provider key of each
    dictionary entry (-1: not an id); ``pbits`` the (area, provider) pairs, one bit each.
    Status ``GROW``: the area table needs doubling (the caller grows it and calls again;
    nothing was folded). ``UNSORTED``: an id smaller than the one before (the state goes to
    the hash path); ``BAD_LINE``: a row the fast engine does not take; ``SPLIT``: a
    location's row in another area than its first row (the DuckDB engine's rule then
    applies: the smallest of its areas). ``part[0]`` is the
    group's first location, ``part[1]`` its last (``meta[8]``) unless the group has a single
    location; both are left for the caller to fold (their pairs are set here).

    Three passes, so that the cache misses on the area tables overlap: the rows into
    locations (sequential), the locations' areas interned, then counts and pairs.
    """
    info = offer_table(rules)
    if info.shape[0] != 256:
        return 0, BAD_LINE
    thresholds = rules[2]
    under_down, under_up = thresholds[0], thresholds[1]
    served_down, served_up = thresholds[2], thresholds[3]
    n = loc.shape[0]
    provs = np.empty(PCAP, dtype=np.int64)
    l_key = np.empty(n + 1, dtype=np.int64)  # per location: area key, offer bits, n at 100/20
    l_bits = np.empty(n + 1, dtype=np.int64)
    l_n100 = np.empty(n + 1, dtype=np.int64)
    r_loc = np.empty(n, dtype=np.int32)  # per kept row: its location, its own area key,
    r_key = np.empty(n, dtype=np.int64)  # its provider
    r_pid = np.empty(n, dtype=np.int32)
    nk = 0  # changes of area key from one kept row to the next (+1): at most this many
    nl = -1
    kept = 0
    cur = np.int64(-1)
    first_id = np.int64(-1)
    bits = np.int64(0)
    n100 = 0
    prev = np.int64(-1)
    listed = sel[0] + sel[sel[0] + 1] + sel[sel[0] + sel[sel[0] + 1] + 2] > 0
    tally[:] = 0
    first_provs = np.empty(PCAP, dtype=np.int64)
    prev_geo = np.int64(-1)
    runs = 0
    edge[:] = 0
    for r in range(n):
        lv = loc[r]
        if lv < 0 or lv >= 2**58:
            return r, BAD_LINE
        pe = prov_idx[r]
        pidx = prov_pid[pe]
        geoid = _value(geo_idx, geo_vals, r)
        t = np.int64(tech[r])
        if t < 0 or t > 255:
            return r, BAD_LINE
        code_info = info[t]  # one load: the group bit and reliability of the technology
        if pidx < 0 or geoid < 0 or code_info == 0:
            return r, BAD_LINE
        if mode == 0:
            if lv < prev:
                return r, UNSORTED
        else:
            if geoid < prev_geo or (geoid == prev_geo and lv < prev) or (
                    lv == prev and geoid != prev_geo):
                return r, UNSORTED
            if lv != prev:
                runs += 1
            prev_geo = geoid
        prev = lv
        d, u, lo = np.int64(down[r]), np.int64(up[r]), np.int64(low[r])
        if d < 0 or u < 0 or d > 2147483647 or u > 2147483647 or (lo != 0 and lo != 1):
            return r, BAD_LINE
        if want_h3:
            key = _value(h3_idx, h3_vals, r)
            if key < 0:
                return r, BAD_LINE
        else:
            key = _value(geo_idx, area_vals, r)
        code_ok = _value(code_idx, code_vals, r)
        if code_ok < 0:
            return r, BAD_LINE
        if listed:
            f = filter_of(geoid, state_ok, code_ok, sel)
        else:
            f = 1 if state_ok == 0 else (3 if code_ok == 0 else 0)
        if f != 0:
            tally[f] += 1
            continue
        if lv != cur:
            if nl >= 0:
                l_bits[nl] = bits
                l_n100[nl] = n100
                if nl == 0:
                    first_provs[:n100] = provs[:n100]
            nl += 1
            cur = lv
            if nl == 0:
                first_id = lv
            l_key[nl] = key
            bits = 0
            n100 = 0
        elif key != l_key[nl]:  # rows in two areas: the DuckDB engine's rule
            return r, SPLIT
        if kept == 0 or key != r_key[kept - 1]:
            nk += 1
        r_key[kept] = key
        r_loc[kept] = nl
        r_pid[kept] = pidx
        kept += 1
        b = _offer(code_info, d, u, lo, under_down, under_up, served_down, served_up)
        bits |= b
        if b & 256:
            pk = prov_vals[pe]
            new = True
            for k in range(n100):
                if provs[k] == pk:
                    new = False
            if new:
                if n100 == PCAP:
                    return r, FULL
                provs[n100] = pk
                n100 += 1
    nl += 1
    tally[0] = kept
    if n > 0:
        edge[0] = runs
        edge[1] = _value(geo_idx, geo_vals, 0)
        edge[2] = loc[0]
        edge[3] = prev_geo
        edge[4] = prev
    if nl == 0:
        meta[6] = 0
        return n, OK
    l_bits[nl - 1] = bits
    l_n100[nl - 1] = n100
    if nl == 1:
        first_provs[:n100] = provs[:n100]
    if (meta[0] + nl + nk) * 5 >= (np.int64(3) << meta[1]):  # room for every area
        return 0, GROW
    l_area = np.empty(nl, dtype=np.int64)
    last_key = np.int64(-1)
    last_area = np.int64(-1)
    for i in range(nl):  # area keys repeat from one location to the next: intern once
        if l_key[i] != last_key:
            last_key = l_key[i]
            last_area = _intern(at, akeys, meta, 0, last_key)
        l_area[i] = last_area
    for i in range(1, nl - 1):  # the first and the last may continue next door
        _emit(sums, l_area[i], l_bits[i], l_n100[i], counts, p100)
    for i in range(kept):  # a location's rows lie in its area (SPLIT above)
        a = l_area[r_loc[i]]
        p = r_pid[i]
        pbits[a, p >> 6] |= np.uint64(1) << np.uint64(p & 63)
    _save(part, 0, first_id, l_key[0], l_bits[0], l_n100[0], first_provs)
    meta[7] = 1
    if nl > 1:
        _save(part, 1, cur, l_key[nl - 1], l_bits[nl - 1], l_n100[nl - 1], provs)
        meta[8] = 1
    meta[6] = kept
    return n, OK


@njit(nogil=True, cache=True)
def intern_keys(vals, pt, pkeys, meta):
    """Return the worker's provider index of each key (-1 stays -1)."""
    out = np.empty(vals.shape[0], dtype=np.int64)
    for i in range(vals.shape[0]):
        out[i] = _intern(pt, pkeys, meta, 2, vals[i]) if vals[i] >= 0 else -1
    return out


@njit(nogil=True, cache=True)
def id_values(off, data):
    """Parse Arrow strings of up to 17 digits as ``value * 32 + length``; -1 if not."""
    n = off.shape[0] - 1
    out = np.empty(n, dtype=np.int64)
    for r in range(n):
        s, e = off[r], off[r + 1]
        ln = e - s
        ok = 0 < ln <= 17
        v = np.int64(0)
        for j in range(s, e):
            c = np.int64(data[j]) - 48
            ok = ok and 0 <= c <= 9
            v = v * 10 + c
        out[r] = v * 32 + ln if ok else -1
    return out


@njit(nogil=True, cache=True)
def geoid_values(off, data, prefix):
    """Parse Arrow strings of 15 digits: (GEOIDs, their first ``prefix`` digits); -1 if not.

    The area key is read with the digits (no division per row).
    """
    n = off.shape[0] - 1
    out = np.empty(n, dtype=np.int64)
    area = np.empty(n, dtype=np.int64)
    for r in range(n):
        s, e = off[r], off[r + 1]
        ok = e - s == 15
        v = np.int64(0)
        a = np.int64(0)
        for j in range(s, e):
            c = np.int64(data[j]) - 48
            ok = ok and 0 <= c <= 9
            v = v * 10 + c
            if j - s == prefix - 1:
                a = v
        out[r] = v if ok else -1
        area[r] = a
    return out, area


@njit(nogil=True, cache=True)
def hex_values(off, data):
    """Parse Arrow strings of 15 lower-case hexadecimal characters (H3 cells); -1 if not."""
    n = off.shape[0] - 1
    out = np.empty(n, dtype=np.int64)
    for r in range(n):
        s, e = off[r], off[r + 1]
        ok = e - s == 15
        v = np.int64(0)
        for j in range(s, e):
            c = np.int64(data[j])
            if 48 <= c <= 57:
                v = v * 16 + (c - 48)
            elif 97 <= c <= 102:
                v = v * 16 + (c - 87)
            else:
                ok = False
        out[r] = v if ok else -1
    return out


@njit(nogil=True, cache=True)
def code_values(off, data, codes):
    """1 where the business/residential code is selected, else 0; -1: not ASCII.

    As :func:`assetmap.bdc.fast.parse.code_selected`: upper-cased, without surrounding
    spaces.
    """
    n = off.shape[0] - 1
    out = np.ones(n, dtype=np.int64)
    if codes[256] == 1:
        for r in range(n):
            out[r] = code_selected(codes, data, off[r], off[r + 1])
    return out
