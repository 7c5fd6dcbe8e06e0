"""CSV parser of the fast BDC aggregation engine (:mod:`assetmap.bdc.fast.engine`).

:func:`parse_csv` turns a piece of CSV bytes cut at line ends into partitioned rows (as
:func:`assetmap.bdc.fast.parse.push_row`), compiled with numba ``nogil=True``, working
on 8 bytes at a time (SWAR: bit tricks on 64-bit words).

Per line: the newline is searched from the 74th byte on (the shortest line in the usual
widths); a line in the usual widths (``frn`` 10 characters, ``provider_id`` 6 digits,
``location_id`` 10 digits, a one-character code, a two-letter state, 15-character GEOID and
H3) is read from fixed offsets at both ends, the four commas in between (after
``brand_name``, ``location_id``, ``technology`` and the download speed) are found by
searching 8 bytes back from the next one, every number is converted 8 digits at a time, and
every byte that is not a checked digit or comma (``frn``, ``brand_name``, code, state, the H3
text) is checked to be no comma, quote or control byte, so that the line has exactly twelve
fields and no other line end (a quoted ``brand_name`` is checked as
:func:`assetmap.bdc.fast.parse._one_field` does). Any other line (other widths, a short
line, a quote elsewhere) goes to :func:`assetmap.bdc.fast.parse._careful`, which
decides alone; a line it rejects stops the parser, and the caller hands the state to the
DuckDB engine.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numba.cpython.unsafe.numbers import leading_zeros, trailing_zeros

from assetmap.bdc.fast.kernels import BAD_LINE, OK, partition_of
from assetmap.bdc.fast.parse import (
    _careful,
    _offer,
    code_selected,
    filter_of,
    letters,
    offer_table,
    upper,
)

U = np.uint64
HIGH = U(0x8080808080808080)
LOW7 = U(0x7F7F7F7F7F7F7F7F)
ONES = U(0x0101010101010101)
NEWLINES = U(0x0A0A0A0A0A0A0A0A)
COMMAS = U(0x2C2C2C2C2C2C2C2C)
QUOTES = U(0x2222222222222222)
SPACES = U(0x2020202020202020)
ZEROS = U(0x3030303030303030)
NIBBLES = U(0x0F0F0F0F0F0F0F0F)
ABOVE9 = U(0x4646464646464646)
M8 = U(0x00FF00FF00FF00FF)
M16 = U(0x0000FFFF0000FFFF)
M32 = U(0x00000000FFFFFFFF)
SHORTEST = 74  # bytes of the shortest line in the usual widths (newline excluded)
PAD = 40  # zero bytes the parser may read past the end of a piece


@njit(nogil=True, cache=True, inline="always")
def _eq(x, pattern):
    """Flag (high bit) every byte of ``x`` equal to that byte of ``pattern`` (exact)."""
    y = x ^ pattern
    return ~(((y & LOW7) + LOW7) | y) & HIGH


@njit(nogil=True, cache=True, inline="always")
def _join(lo, hi, pos):
    """Return the 8 bytes at ``pos`` from the two words holding them (``pos >> 3``, +1)."""
    sh = U(pos & 7) * U(8)
    return (lo >> sh) | ((hi << U(1)) << (U(63) - sh))


@njit(nogil=True, cache=True, inline="always")
def _special(x, nbytes):
    """Flag the first ``nbytes`` (0-8) bytes of ``x`` that are a comma, quote or control byte.

    Exact as a test: the borrow tricks flag extra bytes only above a true one.
    """
    keep = ~((~U(0) << U(4 * nbytes)) << U(4 * nbytes))  # no branch, 0 to 8 bytes
    c = x ^ COMMAS
    q = x ^ QUOTES
    bad = ((c - ONES) & ~c) | ((q - ONES) & ~q) | ((x - SPACES) & ~x)
    return bad & HIGH & keep


@njit(nogil=True, cache=True, inline="always")
def _digits(x, n):
    """Return the value of the ``n`` (1-8) digits ending ``x`` and a flag set if not digits."""
    low = (U(1) << U(8 * (8 - n))) - U(1)
    x = (x & ~low) | (ZEROS & low)  # the bytes before the field become "0"
    bad = (x & HIGH) | ((x + ABOVE9) & HIGH) | (~((x | HIGH) - ZEROS) & HIGH)
    v = x & NIBBLES
    v = (v * U(10) + (v >> U(8))) & M8
    v = (v * U(100) + (v >> U(16))) & M16
    v = (v * U(10000) + (v >> U(32))) & M32
    return np.int64(v), bad != U(0)


@njit(nogil=True, cache=True, inline="always")
def _back(x, c):
    """Read the digits of ``x`` (the 8 bytes before position ``c``) after its last comma.

    Returns (value, position of that comma, flag set if no comma or not 1-7 digits).
    """
    commas = _eq(x, COMMAS)
    k = (63 - np.int64(leading_zeros(commas | U(0x80)))) >> 3  # last comma, or byte 0
    n = 7 - k
    v, bad = _digits(x, max(n, 1))
    return v, c - 8 + k, bad or commas == U(0) or n == 0


@njit(nogil=True, cache=True)
def _odd(buf, ls, j, want_h3):
    """:func:`_careful`, kept out of line (a call only for the lines that need it)."""
    return _careful(buf, ls, j, want_h3)


@njit(nogil=True, cache=True)
def _filter(geoid, state_ok, code_ok, sel):
    """:func:`filter_of`, kept out of line (a call only when areas or states are selected)."""
    return filter_of(geoid, state_ok, code_ok, sel)


@njit(nogil=True, cache=True)
def _code(codes, buf, cs, cl):
    """:func:`code_selected`, kept out of line (a code not of one ASCII byte)."""
    return code_selected(codes, buf, cs, cs + cl)


@njit(nogil=True, cache=True)
def _state(buf, ss, sl):
    """:func:`letters` of a state, kept out of line (a state not of two ASCII bytes)."""
    return letters(buf, ss, ss + sl)


@njit(nogil=True, cache=True)
def parse_csv(buf, words, area_div, want_h3, codes, states, sel, rules, parts,
              out_loc, out_prov, out_area, out_bits, counts, tally):
    """Parse BDC lines (header removed) into partitioned rows; return the status.

    ``words`` is ``buf`` seen as 64-bit words, padded: at least PAD zero bytes past the end
    (``buf`` 8-byte aligned). ``states`` holds allowed ``state_usps`` as ``c0 * 256 + c1``
    (upper case; empty = all); ``codes`` is a 257-byte table of allowed one-character codes
    (upper case), ``codes[256] == 1`` when filtering; letters of a row are compared
    upper-cased and trimmed (:func:`assetmap.bdc.fast.parse.letters`). ``area_div`` a power
    of ten (the GEOID digits below the area); ``rules`` the rule set as arrays
    (:func:`assetmap.bdc.fast.rule_arrays.rule_arrays`). ``tally`` (4 integers) gets the rows
    kept and the rows each filter left out (:func:`assetmap.bdc.fast.parse.filter_of`).
    Helpers that take arrays are called only off the common path (each such call costs
    reference counting), so the common path is written out here.
    """
    info = offer_table(rules)
    if info.shape[0] != 256:
        return BAD_LINE
    thresholds = rules[2]
    under_down, under_up = thresholds[0], thresholds[1]
    served_down, served_up = thresholds[2], thresholds[3]
    end = buf.shape[0]
    inv_div = 1.0 / area_div
    listed = sel[0] + sel[sel[0] + 1] + sel[sel[0] + sel[sel[0] + 1] + 2] > 0
    by_code = codes[256] == 1
    filtering = by_code or states.shape[0] > 0 or listed
    for p in range(parts):
        counts[p] = 0
    tally[:] = 0
    kept = 0
    ls = 0
    while ls < end:
        # the newline: a plain line has at least SHORTEST bytes, search from there
        j = min(ls + SHORTEST, end)
        w = j >> 3
        m0 = _eq(words[w], NEWLINES) & (~U(0) << U(8 * (j & 7)))
        m1 = _eq(words[w + 1], NEWLINES)
        m2 = _eq(words[w + 2], NEWLINES)
        m3 = _eq(words[w + 3], NEWLINES)
        o = 24 + np.int64(trailing_zeros(m3) >> U(3))  # the first of 4 words, no branch
        o = 16 + np.int64(trailing_zeros(m2) >> U(3)) if m2 != U(0) else o
        o = 8 + np.int64(trailing_zeros(m1) >> U(3)) if m1 != U(0) else o
        o = np.int64(trailing_zeros(m0) >> U(3)) if m0 != U(0) else o
        if o == 32:  # a longer line
            w += 3
            nl = U(0)
            while nl == U(0) and w * 8 + 8 < end:
                w += 1
                nl = _eq(words[w], NEWLINES)
            o = np.int64(trailing_zeros(nl) >> U(3))
        j = min(w * 8 + o, end)
        e = j
        ok = e - ls >= SHORTEST and buf[ls + 10] == 44 and buf[ls + 17] == 44 \
            and buf[e - 16] == 44 and buf[e - 32] == 44 and buf[e - 35] == 44 \
            and buf[e - 37] == 44 and buf[e - 39] == 44
        if ok:
            # from the end: up, down, technology (digits back to a comma), location
            c = e - 39
            x = _join(words[(c - 8) >> 3], words[((c - 8) >> 3) + 1], c - 8)
            up, c5, bad = _back(x, c)
            x = _join(words[(c5 - 8) >> 3], words[((c5 - 8) >> 3) + 1], c5 - 8)
            down, c4, b = _back(x, c5)
            bad |= b
            x = _join(words[(c4 - 8) >> 3], words[((c4 - 8) >> 3) + 1], c4 - 8)
            tech, c3, b = _back(x, c4)
            c2 = c3 - 11
            bad |= b or c4 - c3 > 4 or c2 <= ls + 17 or buf[c2] != 44
            x = _join(words[(c3 - 16) >> 3], words[((c3 - 16) >> 3) + 1], c3 - 16)
            hi, b = _digits(x, 2)
            x = _join(words[(c3 - 8) >> 3], words[((c3 - 8) >> 3) + 1], c3 - 8)
            lo, b2 = _digits(x, 8)
            bad |= b or b2
            lv = hi * 100000000 + lo
            x = _join(words[(e - 32) >> 3], words[((e - 32) >> 3) + 1], e - 32)
            hi, b = _digits(x, 7)
            x = _join(words[(e - 24) >> 3], words[((e - 24) >> 3) + 1], e - 24)
            lo, b2 = _digits(x, 8)
            bad |= b or b2
            geoid = hi * 100000000 + lo
            x = _join(words[(ls + 9) >> 3], words[((ls + 9) >> 3) + 1], ls + 9)
            pv, b = _digits(x, 6)
            bad |= b
            low = np.int64(buf[e - 38]) - 48
            # the text fields: no comma, quote or control byte (so no other line end)
            x = _join(words[ls >> 3], words[(ls >> 3) + 1], ls)
            flags = _special(x, 8)
            x = _join(words[(ls + 2) >> 3], words[((ls + 2) >> 3) + 1], ls + 2)
            flags |= _special(x, 8)  # frn
            x = _join(words[(e - 36) >> 3], words[((e - 36) >> 3) + 1], e - 36)
            flags |= _special(x, 4) & U(0xFFFF00FF)  # code, comma, state
            brand = U(0)
            for k in range(4):  # brand_name: its first 32 bytes without a branch
                t = ls + 18 + 8 * k
                x = _join(words[t >> 3], words[(t >> 3) + 1], t)
                brand |= _special(x, min(max(c2 - t, 0), 8))
            for t in range(ls + 50, c2, 8):  # the rest of a longer one
                x = _join(words[t >> 3], words[(t >> 3) + 1], t)
                brand |= _special(x, min(8, c2 - t))
            if brand != U(0) and c2 - ls >= 20 and buf[ls + 18] == 34 and buf[c2 - 1] == 34:
                # quoted (as _one_field): inner quotes doubled, no control byte
                brand = U(0)
                q = ls + 19
                while q < c2 - 1:
                    v = buf[q]
                    if v == 34:
                        if q + 1 >= c2 - 1 or buf[q + 1] != 34:
                            brand = U(1)
                            break
                        q += 2
                    elif v < 32:
                        brand = U(1)
                        break
                    else:
                        q += 1
            flags |= brand
            h3 = np.int64(0)
            if want_h3:
                for q in range(e - 15, e):
                    v = np.int64(buf[q])
                    dig = np.int64((v >= 48) & (v <= 57))
                    bad |= (1 - (dig | np.int64((v >= 97) & (v <= 102)))) != 0
                    h3 = h3 * 16 + v - (48 if dig else 87)
            else:
                x = _join(words[(e - 15) >> 3], words[((e - 15) >> 3) + 1], e - 15)
                flags |= _special(x, 8)
                x = _join(words[(e - 8) >> 3], words[((e - 8) >> 3) + 1], e - 8)
                flags |= _special(x, 8)
            ok = not bad and flags == U(0) and 0 <= low <= 1
            ln, pn, cs, cl, ss, sl = 10, 6, e - 36, 1, e - 34, 2
        if not ok:
            e = ls  # the true end of the line (the search started SHORTEST bytes in)
            while e < j and buf[e] != 10:
                e += 1
            j = e
            (st, lv, ln, pv, pn, tech, down, up, low, cs, cl, ss, sl, geoid,
             h3) = _odd(buf, ls, e, want_h3)
            if st != OK:
                return BAD_LINE
        ls = j + 1
        if tech > 255:
            return BAD_LINE
        code_info = info[tech]
        if code_info == 0:
            return BAD_LINE
        if filtering:  # letters upper-cased and trimmed, as the DuckDB engine compares them
            state_ok = 1
            if states.shape[0] > 0:
                if sl == 2 and buf[ss] < 128 and buf[ss + 1] < 128:
                    sv = upper(buf[ss]) * 256 + upper(buf[ss + 1])
                else:
                    sv, n = _state(buf, ss, sl)
                    if n < 0:
                        return BAD_LINE
                state_ok = 0
                for s in states:
                    if s == sv:
                        state_ok = 1
            code_ok = np.int64(1)
            if by_code:
                if cl == 1 and buf[cs] < 128:
                    code_ok = np.int64(codes[upper(buf[cs])])
                else:
                    code_ok = _code(codes, buf, cs, cl)
                    if code_ok < 0:
                        return BAD_LINE
            if listed:
                f = _filter(geoid, state_ok, code_ok, sel)
            else:
                f = 1 if state_ok == 0 else (3 if code_ok == 0 else 0)
            if f != 0:
                tally[f] += 1
                continue
        if want_h3:
            area = h3
        else:  # geoid // area_div, no division (geoid < 10**15: the estimate is +-1)
            area = np.int64(np.float64(geoid) * inv_div)
            area -= np.int64(area * area_div > geoid)
            area += np.int64((area + 1) * area_div <= geoid)
        loc = lv * 32 + ln
        p = partition_of(loc, parts)
        r = counts[p]
        out_loc[p, r] = loc
        out_prov[p, r] = pv * 32 + pn
        out_area[p, r] = area
        out_bits[p, r] = _offer(code_info, down, up, low, under_down, under_up, served_down,
                                served_up)
        counts[p] = r + 1
        kept += 1
    tally[0] = kept
    return OK
