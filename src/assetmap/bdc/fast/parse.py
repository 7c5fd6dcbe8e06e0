"""Parsers of the fast BDC aggregation engine (:mod:`assetmap.bdc.fast.engine`).

:func:`assetmap.bdc.fast.csv_parser.parse_csv` (a chunk of CSV bytes cut at line ends; lines
not in the usual widths come to :func:`_careful` here) and
:func:`assetmap.bdc.fast.columns.parse_columns` (the columns of a Parquet row group)
turn availability rows into compact rows: location key,
provider key, area key and offer bits, partitioned by a hash of the location so that each
partition has one owner thread (:func:`assetmap.bdc.fast.kernels.aggregate`). Compiled
with numba ``nogil=True``.

Every line is validated: twelve fields, only ``brand_name`` quoted, digits where digits
belong, a 15-digit block GEOID, a known technology code (one with a group bit in the rule
arrays, :mod:`assetmap.bdc.fast.rule_arrays`), low latency 0 or 1, whole-number speeds. The
first line that is not plainly good stops the parser with a non-zero status, and the caller
hands the whole state to the DuckDB engine, which repairs, rejects and reports.

Every row parsed is counted before the selection: kept, or left out by the first filter it
fails (:func:`filter_of`, the DuckDB engine's order), so the report is the DuckDB engine's.
``business_residential_code`` and ``state_usps`` are compared as the DuckDB engine compares
them, upper-cased and without surrounding spaces or tabs (:func:`letters`); a code with a byte
that is not ASCII stops the parser.

Keys: ids of up to 17 digits are ``value * 32 + number of digits`` (``"0012"`` and ``"12"``
stay apart, as in the DuckDB engine's text ids); areas are integers (the GEOID prefix, or the
H3 cell as a 60-bit number).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from assetmap.bdc.fast.kernels import BAD_LINE, OK, partition_of

MIN_LINE = 33  # bytes of the shortest line the CSV parser accepts (newline included)
POW10 = 10 ** np.arange(18, dtype=np.int64)


@njit(nogil=True, cache=True)
def offer_table(rules):
    """Return the rule set's per-code table, or an empty array if the arrays are malformed.

    ``rules`` is :func:`assetmap.bdc.fast.rule_arrays.rule_arrays` (tech_bit, reliable,
    thresholds, latency). Per technology code: its group bit, plus ``need << 16`` with need
    0 (not reliable), 1 (reliable) or 2 (reliable when low latency); 0 for an unknown code.
    One load per offer in the kernels, computed once per call from the arguments.
    """
    tech_bit, reliable, thresholds, latency = rules
    if tech_bit.shape[0] != 256 or reliable.shape[0] != 256 or thresholds.shape[0] != 4:
        return np.zeros(0, dtype=np.int64)
    table = np.zeros(256, dtype=np.int64)
    for c in range(256):
        if tech_bit[c] != 0:
            need = np.int64(0) if reliable[c] == 0 else (np.int64(2) if latency else 1)
            table[c] = tech_bit[c] | (need << 16)
    return table


@njit(nogil=True, cache=True, inline="always")
def _offer(info, down, up, low_latency, under_down, under_up, served_down, served_up):
    """Return one offer's mask: its group bit, +128 / +256 at the thresholds.

    128: a reliable offer reaches the underserved thresholds; 256: the served ones. ``info``
    is the offer's code in :func:`offer_table`. Whole-number speeds are compared with the
    (maybe fractional) thresholds as floats: exact below 2**53.
    """
    bits = info & 511
    need = info >> 16
    if need != 0 and low_latency >= need - 1:  # need 2: low latency 1 only
        d = np.float64(down)
        u = np.float64(up)
        if d >= under_down and u >= under_up:
            bits |= 128
        if d >= served_down and u >= served_up:
            bits |= 256
    return bits


@njit(nogil=True, cache=True, inline="always")
def _in_list(sel, i, v):
    """Whether ``v`` is in the sorted list ``sel[i + 1:i + 1 + sel[i]]`` (empty: True)."""
    m = sel[i]
    if m == 0:
        return True
    lo, hi = i + 1, i + 1 + m
    while lo < hi:
        mid = (lo + hi) // 2
        if sel[mid] < v:
            lo = mid + 1
        else:
            hi = mid
    return lo < i + 1 + m and sel[lo] == v


@njit(nogil=True, cache=True, inline="always")
def filter_of(geoid, state_ok, code_ok, sel):
    """Return 0 for a selected row, else the first filter that leaves it out.

    In the order of :data:`assetmap.bdc._checks.FILTERS`, as the DuckDB engine counts them:
    1 the states (``state_ok`` 0, or the GEOID's state FIPS not listed), 2 the counties and
    tracts, 3 the business/residential code (``code_ok`` 0). ``sel`` holds three sorted
    lists, each prefixed by its length (0 = no filter): state FIPS, county and tract GEOIDs
    as integers (``engine.selection``).
    """
    if state_ok == 0 or not _in_list(sel, 0, geoid // 10**13):
        return 1
    i = sel[0] + 1
    if not _in_list(sel, i, geoid // 10**10) or not _in_list(sel, i + sel[i] + 1,
                                                               geoid // 10**4):
        return 2
    if code_ok == 0:
        return 3
    return 0


@njit(nogil=True, cache=True, inline="always")
def upper(c):
    """Return an ASCII byte upper-cased (``c`` below 128)."""
    return np.int64(c) - 32 if 97 <= c <= 122 else np.int64(c)


@njit(nogil=True, cache=True)
def letters(buf, s, e):
    """Return the text ``buf[s:e]`` as the DuckDB engine compares letter codes.

    Surrounding spaces and tabs trimmed and ASCII letters upper-cased
    (:mod:`assetmap.bdc._checks`): ``(value, length)`` with the value of up to two bytes
    packed as ``c0 * 256 + c1`` (longer text: 0, it matches no code), or length -1 when a
    byte is not ASCII (upper-casing it is the DuckDB engine's business).
    """
    while s < e and (buf[s] == 32 or buf[s] == 9):
        s += 1
    while e > s and (buf[e - 1] == 32 or buf[e - 1] == 9):
        e -= 1
    v = np.int64(0)
    for k in range(s, e):
        if buf[k] >= 128:
            return np.int64(0), -1
        v = v * 256 + upper(buf[k])
    return (v if e - s <= 2 else np.int64(0)), e - s


@njit(nogil=True, cache=True)
def code_selected(codes, buf, s, e):
    """1 when the code ``buf[s:e]`` is selected (``codes``, see ``parse_csv``), else 0.

    Compared upper-cased, without surrounding spaces; -1 when it holds a byte that is not
    ASCII (the caller hands the state to the DuckDB engine).
    """
    if codes[256] == 0:
        return 1
    if e - s == 1 and buf[s] < 128:
        return np.int64(codes[upper(buf[s])])
    v, n = letters(buf, s, e)
    if n < 0:
        return -1
    return np.int64(codes[v]) if n == 1 else 0


@njit(nogil=True, cache=True, inline="always")
def push_row(outs, counts, parts, location, provider, area, bits):
    """Append one kept row to its partition's buffers (``outs``: loc, provider, area, bits)."""
    out_loc, out_prov, out_area, out_bits = outs
    p = partition_of(location, parts)
    k = counts[p]
    out_loc[p, k] = location
    out_prov[p, k] = provider
    out_area[p, k] = area
    out_bits[p, k] = bits
    counts[p] = k + 1


@njit(nogil=True, cache=True, inline="always")
def _fixed(buf, s, n):
    """Value of the n digits at ``s`` and a flag set if one is not a digit (no branches)."""
    v = np.int64(0)
    bad = np.int64(0)
    for k in range(n):
        c = np.int64(buf[s + k]) - 48
        bad |= (c < 0) | (c > 9)
        v = v * 10 + c
    return v, bad


@njit(nogil=True, cache=True, inline="always")
def _back(buf, j, lo, maxlen):
    """Digits ending before index ``j``, preceded by a comma: (value, length) or length -1."""
    v = np.int64(0)
    p = np.int64(1)
    k = j - 1
    while k > lo:
        c = np.int64(buf[k]) - 48
        if c < 0 or c > 9:
            break
        v += c * p
        p *= 10
        k -= 1
    n = j - 1 - k
    if n == 0 or n > maxlen or k <= lo or buf[k] != 44:
        return v, -1
    return v, n


@njit(nogil=True, cache=True, inline="always")
def _field_start(buf, j, lo, width):
    """Start of the unquoted field ending before comma ``j`` (-1 if a quote or none)."""
    if j - width - 1 > lo and buf[j - width - 1] == 44:
        k = j - width
    else:
        k = j - 1
        while k > lo and buf[k] != 44:
            k -= 1
        if k <= lo:
            return -1
        k += 1
    bad = 0
    for m in range(k, j):
        c = buf[m]
        bad |= (c == 34) | (c == 44) | (c == 10) | (c == 13)
    return -1 if bad else k


@njit(nogil=True, cache=True)
def _careful(buf, i, j, want_h3):
    """Fields of the line ``buf[i:j]`` (newline excluded) read from both ends.

    For lines with quotes. Returns (status, location, its digits, provider, its digits,
    technology, down, up, low latency, code start, code length, state start, state length,
    block GEOID, H3 as a number).
    """
    fail = (BAD_LINE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, np.int64(0), np.int64(0))
    if j > i and buf[j - 1] == 13:
        j -= 1
    lo = i - 1  # the comma-free sentinel before the line
    hs = _field_start(buf, j, lo, 15)  # h3_res8_id
    if hs < 0 or hs - 17 <= lo or buf[hs - 17] != 44:
        return fail
    geoid, bad = _fixed(buf, hs - 16, 15)
    h3, hbad = _h3(buf, hs, j, want_h3)
    ss = _field_start(buf, hs - 17, lo, 2)  # state_usps
    cs = _field_start(buf, ss - 1, lo, 1) if ss > 0 else -1  # business_residential_code
    if bad or hbad or cs < 0 or cs - 3 <= lo or buf[cs - 3] != 44:
        return fail
    low = np.int64(buf[cs - 2]) - 48
    up, un = _back(buf, cs - 3, lo, 9)
    if low < 0 or low > 1 or un < 0:
        return fail
    down, dn = _back(buf, cs - 4 - un, lo, 9)
    if dn < 0:
        return fail
    tech, tn = _back(buf, cs - 5 - un - dn, lo, 3)
    if tn < 0:
        return fail
    te = cs - 6 - un - dn - tn  # the comma before technology
    lv, ln = _back(buf, te, lo, 17)
    if ln < 0:
        return fail
    c0 = te - ln - 1  # the comma after brand_name
    f = i
    while f < c0 and buf[f] != 44:
        if buf[f] == 34 or buf[f] == 10 or buf[f] == 13:
            return fail
        f += 1
    b = f + 1
    while b < c0 and buf[b] != 44:
        b += 1
    pv, pn = _back(buf, b, f - 1, 17)
    if f >= c0 or pn < 0 or b >= c0 or not _one_field(buf, b + 1, c0):
        return fail
    return (OK, lv, ln, pv, pn, tech, down, up, low, cs, ss - 1 - cs, ss, hs - 17 - ss, geoid,
            h3)


@njit(nogil=True, cache=True, inline="always")
def _h3(buf, s, e, want_h3):
    """H3 cell text ``buf[s:e]`` as a number and a flag set if it is not 15 hex digits."""
    h3 = np.int64(0)
    if not want_h3:
        return h3, 0
    bad = e - s != 15
    for m in range(s, e):
        c = np.int64(buf[m])
        dig = (c >= 48) & (c <= 57)
        hexa = (c >= 97) & (c <= 102)
        bad |= not (dig or hexa)
        h3 = h3 * 16 + (c - 48 if dig else c - 87)
    return h3, bad


@njit(nogil=True, cache=True, inline="always")
def _one_field(buf, s, e):
    """Check that bytes ``s:e`` are one CSV field: no comma, or quoted, quotes doubled."""
    q = 0
    bad = 0
    for m in range(s, e):
        c = buf[m]
        q |= c == 34
        bad |= (c == 44) | (c == 10) | (c == 13)
    if not q:
        return not bad
    if e - s < 2 or buf[s] != 34 or buf[e - 1] != 34:
        return False
    m = s + 1
    while m < e - 1:
        c = buf[m]
        if c == 10 or c == 13:
            return False
        if c == 34:
            if m + 1 >= e - 1 or buf[m + 1] != 34:
                return False
            m += 1
        m += 1
    return True
