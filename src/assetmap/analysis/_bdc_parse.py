"""Parsers of the fast BDC aggregation engine (:mod:`assetmap.analysis._bdc_fast`).

:func:`parse_csv` (a chunk of CSV bytes cut at line ends) and :func:`parse_columns` (the
columns of a Parquet row group) turn availability rows into compact rows: location key,
provider key, area key and offer bits, partitioned by a hash of the location so that each
partition has one owner thread (:func:`assetmap.analysis._bdc_kernels.aggregate`). Compiled
with numba ``nogil=True``.

Every line is validated: twelve fields, only ``brand_name`` quoted, digits where digits
belong, a 15-digit block GEOID, a known technology code, low latency 0 or 1, whole-number
speeds. The first line that is not plainly good stops the parser with a non-zero status, and
the caller hands the whole state to the DuckDB engine, which repairs, rejects and reports.

Keys: ids of up to 17 digits are ``value * 32 + number of digits`` (``"0012"`` and ``"12"``
stay apart, as in the DuckDB engine's text ids); areas are integers (the GEOID prefix, or the
H3 cell as a 60-bit number).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from assetmap.analysis._bdc_kernels import BAD_LINE, OK, partition_of

#: offer bit per technology code (0 = unknown), as :data:`_bead_sql.MASK`
TECH_BIT = np.zeros(256, dtype=np.int64)
for _code, _bit in ((0, 64), (10, 1), (40, 2), (50, 4), (71, 8), (72, 8), (70, 16), (60, 32),
                    (61, 32)):
    TECH_BIT[_code] = _bit
RELIABLE_BITS = 1 | 2 | 4 | 8
MIN_LINE = 33  # bytes of the shortest line the CSV parser accepts (newline included)
POW10 = 10 ** np.arange(18, dtype=np.int64)
ONES = np.uint64(0x0101010101010101)
HIGH = np.uint64(0x8080808080808080)
NEWLINES = np.uint64(0x0A0A0A0A0A0A0A0A)


@njit(nogil=True, cache=True, inline="always")
def _offer(tech_bit, tech, down, up, low_latency):
    bits = tech_bit
    if (tech_bit & RELIABLE_BITS) != 0 and low_latency == 1:
        if down >= 25 and up >= 3:
            bits |= 128
        if down >= 100 and up >= 20:
            bits |= 256
    return bits


@njit(nogil=True, cache=True, inline="always")
def _keep(geoid, state_ok, codes, code, code_len, sel):
    """Apply the selection.

    ``sel`` holds three sorted lists, each prefixed by its length (0 = no filter): state FIPS,
    county and tract GEOIDs as integers.
    """
    if codes[256] == 1 and (code_len != 1 or codes[code] == 0):
        return False
    if state_ok == 0:
        return False
    n = sel.shape[0]
    i = 0
    # three sorted lists separated by -1 and prefixed by their lengths
    for level_div in (np.int64(10**13), np.int64(10**10), np.int64(10**4)):
        m = sel[i]
        i += 1
        if m > 0:
            v = geoid // level_div
            lo, hi = i, i + m
            while lo < hi:
                mid = (lo + hi) // 2
                if sel[mid] < v:
                    lo = mid + 1
                else:
                    hi = mid
            if lo >= i + m or sel[lo] != v:
                return False
        i += m
    return i <= n


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


@njit(nogil=True, cache=True, inline="always")
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


BLOCK = 1 << 16


@njit(nogil=True, cache=True, inline="always")
def _newline(buf, words, j, end):
    """Index of the next newline at or after ``j`` (``end`` if none), 8 bytes at a time."""
    while j < end and (j & 7) != 0:
        if buf[j] == 10:
            return j
        j += 1
    w = j >> 3
    nw = words.shape[0]
    while w < nw:
        x = words[w] ^ NEWLINES
        t = (x - ONES) & ~x & HIGH  # exact for the lowest flagged byte
        if t != np.uint64(0):
            k = w * 8
            if t & np.uint64(0xFFFFFFFF) == np.uint64(0):
                k += 4
                t >>= np.uint64(32)
            if t & np.uint64(0xFFFF) == np.uint64(0):
                k += 2
                t >>= np.uint64(16)
            if t & np.uint64(0xFF) == np.uint64(0):
                k += 1
            return k
        w += 1
    j = max(j, nw * 8)
    while j < end and buf[j] != 10:
        j += 1
    return j


@njit(nogil=True, cache=True, inline="always")
def _digits_back(buf, k, stop):
    """Read the digits ending at ``k`` backwards to a comma: (value, position of the comma, bad).

    ``bad`` is 1 when a byte on the way is not a digit; the scan never goes below ``stop``.
    """
    value = np.int64(0)
    p = np.int64(1)
    bad = np.int64(0)
    while k > stop and buf[k] != 44:
        c = np.int64(buf[k]) - 48
        bad |= np.int64(c < 0) | np.int64(c > 9)
        value += c * p
        p *= 10
        k -= 1
    return value, k, bad


@njit(nogil=True, cache=True, inline="always")
def _plain(buf, i, e, want_h3):
    """Fields of a line in the usual widths (as :func:`_careful`), or status BAD_LINE.

    Usual: ``frn`` 10 characters, ``provider_id`` 6 digits, ``location_id`` 10, one-character
    code, two-letter state, 15-character GEOID and H3. Checked without branches per byte.
    """
    fail = (BAD_LINE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, np.int64(0), np.int64(0))
    if e - i < 64 or buf[e - 16] != 44 or buf[e - 32] != 44 or buf[e - 35] != 44 \
            or buf[e - 37] != 44 or buf[e - 39] != 44 or buf[i + 10] != 44 \
            or buf[i + 17] != 44:
        return fail
    bad = np.int64(0)
    h3 = np.int64(0)
    if want_h3:
        for m in range(e - 15, e):
            c = np.int64(buf[m])
            dig = np.int64((c >= 48) & (c <= 57))
            bad |= 1 - (dig | np.int64((c >= 97) & (c <= 102)))
            h3 = h3 * 16 + c - (48 if dig else 87)
    else:
        for m in range(e - 15, e):
            c = buf[m]
            bad |= np.int64(c == 34) | np.int64(c == 44) | np.int64(c == 13) | np.int64(c == 10)
    geoid = np.int64(0)
    for m in range(15):
        c = np.int64(buf[e - 31 + m]) - 48
        bad |= np.int64(c < 0) | np.int64(c > 9)
        geoid += c * POW10[14 - m]
    for m in range(i, i + 10):  # frn
        c = buf[m]
        bad |= np.int64(c == 34) | np.int64(c == 44) | np.int64(c == 13) | np.int64(c == 10)
    for m in range(e - 36, e - 32):  # code, comma, state
        c = buf[m]
        bad |= np.int64(c == 34) | np.int64(c == 13) | np.int64(c == 10)
    low = np.int64(buf[e - 38]) - 48
    pv = np.int64(0)
    for m in range(6):
        c = np.int64(buf[i + 11 + m]) - 48
        bad |= np.int64(c < 0) | np.int64(c > 9)
        pv += c * POW10[5 - m]
    if bad or low < 0 or low > 1:
        return fail
    # up, down, technology: read backwards, digits until a comma
    up, k, bad = _digits_back(buf, e - 40, i + 17)
    un = e - 40 - k
    down, k, bad_down = _digits_back(buf, k - 1, i + 17)
    dn = e - 41 - un - k
    tech, k, bad_tech = _digits_back(buf, k - 1, i + 17)
    tn = e - 42 - un - dn - k
    bad |= bad_down | bad_tech
    if bad or un == 0 or dn == 0 or tn == 0 or un > 9 or dn > 9 or tn > 3:
        return fail
    te = e - 42 - un - dn - tn  # the comma before technology
    if te - 11 <= i + 17 or buf[te - 11] != 44:
        return fail
    lv = np.int64(0)
    for m in range(10):
        c = np.int64(buf[te - 10 + m]) - 48
        bad |= np.int64(c < 0) | np.int64(c > 9)
        lv += c * POW10[9 - m]
    for m in range(i + 18, te - 11):  # brand_name: unquoted, no comma
        c = buf[m]
        bad |= np.int64(c == 34) | np.int64(c == 44) | np.int64(c == 13) | np.int64(c == 10)
    if bad:
        return fail
    return (OK, lv, 10, pv, 6, tech, down, up, low, e - 36, 1, e - 34, 2, geoid, h3)


@njit(nogil=True, cache=True)
def parse_csv(buf, words, area_div, want_h3, codes, states, sel, parts,
              out_loc, out_prov, out_area, out_bits, counts):
    """Parse BDC lines (header removed) into partitioned rows; return (status, rows kept).

    ``words`` is ``buf`` seen as 64-bit words (newlines are found 8 bytes at a time). A line
    in the usual widths is read by :func:`_plain`, any other by :func:`_careful`, which
    accepts exactly the lines of twelve fields in which only ``brand_name`` may be quoted.
    ``states`` holds allowed ``state_usps`` as ``c0 * 256 + c1`` (empty = all); ``codes``
    is a 257-byte table of allowed one-character codes, ``codes[256] == 1`` when filtering.
    """
    end = buf.shape[0]
    kept = 0
    for p in range(parts):
        counts[p] = 0
    i = 0
    while i < end:
        j = _newline(buf, words, min(i + MIN_LINE - 1, end), end)
        e = j - 1 if buf[j - 1] == 13 else j
        (st, lv, ln, pv, pn, tech, down, up, low, cs, cl, ss, sl, geoid,
         h3) = _plain(buf, i, e, want_h3)
        if st != OK:
            (st, lv, ln, pv, pn, tech, down, up, low, cs, cl, ss, sl, geoid,
             h3) = _careful(buf, i, j, want_h3)
        if st != OK or tech > 255 or (TECH_BIT[tech] == 0 and tech != 0):
            return BAD_LINE, kept
        i = j + 1
        state_ok = 1
        if states.shape[0] > 0:
            state_ok = 0
            if sl == 2:
                sv = np.int64(buf[ss]) * 256 + buf[ss + 1]
                for s in states:
                    if s == sv:
                        state_ok = 1
        code = buf[cs] if cl > 0 else 0
        if not _keep(geoid, state_ok, codes, code, cl, sel):
            continue
        kept += 1
        push_row((out_loc, out_prov, out_area, out_bits), counts, parts, lv * 32 + ln,
                 pv * 32 + pn, h3 if want_h3 else geoid // area_div,
                 _offer(TECH_BIT[tech], tech, down, up, low))
    return OK, kept
