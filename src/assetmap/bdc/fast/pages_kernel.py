"""Kernels of :mod:`assetmap.bdc.fast.pages`: Parquet page values parsed in place.

Compiled with numba ``nogil=True``. Each returns the position after what it read, or -1
when the page is malformed (the caller then reads the column with pyarrow).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(nogil=True, cache=True, inline="always")
def _word(page, s):
    """Read the 8 bytes at ``page[s:s + 8]`` as a little-endian unsigned integer."""
    w = np.uint64(0)
    for k in range(8):
        w |= np.uint64(page[s + k]) << np.uint64(8 * k)
    return w


@njit(nogil=True, cache=True, inline="always")
def _eight(w):
    """(value, all digits) of 8 ASCII characters in a little-endian word (SWAR)."""
    hi = np.uint64(0xF0F0F0F0F0F0F0F0)
    ok = ((w & hi) | (((w + np.uint64(0x0606060606060606)) & hi) >> np.uint64(4))
          ) == np.uint64(0x3333333333333333)
    v = w - np.uint64(0x3030303030303030)
    v = v * np.uint64(10) + (v >> np.uint64(8))
    m = np.uint64(0x000000FF000000FF)
    v = ((v & m) * np.uint64(100 + (1000000 << 32))
         + ((v >> np.uint64(16)) & m) * np.uint64(1 + (10000 << 32))) >> np.uint64(32)
    return np.int64(v), ok


@njit(nogil=True, cache=True, inline="always")
def _parse(page, s, ln, mode, prefix):
    """(value, area) of the text ``page[s:s + ln]``: 15 digits, or 15 hex digits; -1 if not."""
    if ln != 15:
        return np.int64(-1), np.int64(-1)
    v = np.int64(0)
    bad = np.int64(0)
    if mode == 0:  # two overlapping 8-digit words: characters 0-7 and 7-14
        a, ok_a = _eight(_word(page, s))
        b, ok_b = _eight(_word(page, s + 7))
        if not (ok_a and ok_b):
            return np.int64(-1), np.int64(-1)
        v = (a - (np.int64(page[s + 7]) - 48)) * 10**7 + b
        if prefix == 11:  # constant divisors: a multiplication, not a division
            return v, v // 10**4
        if prefix == 12:
            return v, v // 10**3
        if prefix == 5:
            return v, v // 10**10
        return v, v
    for j in range(15):
        c = np.int64(page[s + j])
        d = c - 48
        h = c - 87
        is_d = (d >= 0) & (d <= 9)
        is_h = (h >= 10) & (h <= 15)
        bad |= ~(is_d | is_h) & 1
        v = v * 16 + (d if is_d else h)
    if bad:
        return np.int64(-1), np.int64(-1)
    return v, v


@njit(nogil=True, cache=True)
def plain_values(page, at, n, vals, area, done, mode, prefix):
    """Parse ``n`` PLAIN byte arrays (4-byte length, then the bytes) from ``page[at:]``."""
    end = page.shape[0]
    p = at
    q = np.int64(-1)  # the previous value's text (rows ordered by block: long runs)
    v = a = np.int64(-1)
    for i in range(n):
        if p + 4 > end:
            return -1
        ln = (np.int64(page[p]) | (np.int64(page[p + 1]) << 8) | (np.int64(page[p + 2]) << 16)
              | (np.int64(page[p + 3]) << 24))
        p += 4
        if p + ln > end:
            return -1
        if not (ln == 15 and q >= 0 and _word(page, p) == _word(page, q)
                and _word(page, p + 7) == _word(page, q + 7)):
            v, a = _parse(page, p, ln, mode, prefix)
            q = p if ln == 15 else np.int64(-1)
        vals[done + i] = v
        area[done + i] = a
        p += ln
    return p


@njit(nogil=True, cache=True, inline="always")
def _varint(page, p, end):
    out = np.int64(0)
    shift = 0
    while p < end and shift < 63:
        b = np.int64(page[p])
        p += 1
        out |= (b & 0x7F) << shift
        if b & 0x80 == 0:
            return out, p
        shift += 7
    return np.int64(-1), p


@njit(nogil=True, cache=True)
def rle_hybrid(page, p, end, width, n, out):
    """Decode ``n`` values of the RLE/bit-packed hybrid encoding into ``out``; the end or -1."""
    got = 0
    nbytes = (width + 7) // 8
    mask = (np.int64(1) << width) - 1
    while got < n:
        head, p = _varint(page, p, end)
        if head < 0:
            return -1
        if head & 1:  # bit-packed groups of eight
            count = (head >> 1) * 8
            size = (head >> 1) * width
            if p + size > end:
                return -1
            take = min(count, n - got)
            acc = np.int64(0)
            have = 0
            q = p
            for i in range(take):
                while have < width:
                    acc |= np.int64(page[q]) << have
                    q += 1
                    have += 8
                out[got + i] = acc & mask
                acc >>= width
                have -= width
            got += take
            p += size
        else:
            count = head >> 1
            if p + nbytes > end or count == 0:
                return -1
            v = np.int64(0)
            for k in range(nbytes):
                v |= np.int64(page[p + k]) << (8 * k)
            p += nbytes
            for i in range(min(count, n - got)):
                out[got + i] = v
            got += min(count, n - got)
    return p


@njit(nogil=True, cache=True)
def all_set(page, s, e, n):
    """Whether ``n`` definition levels (bit width 1) in ``page[s:e]`` are all 1 (no nulls)."""
    if e > page.shape[0] or s > e:
        return False
    levels = np.empty(n, dtype=np.int64)
    if rle_hybrid(page, s, e, 1, n, levels) < 0:
        return False
    ok = True
    for i in range(n):
        ok = ok and levels[i] == 1
    return ok


@njit(nogil=True, cache=True)
def dict_values(page, at, n, dvals, darea, vals, area, done):
    """Turn dictionary indexes (bit width byte, then the hybrid encoding) into values per row."""
    end = page.shape[0]
    if at >= end:
        return -1 if n else at
    width = np.int64(page[at])
    if width > 32:
        return -1
    idx = np.empty(n, dtype=np.int64)
    p = rle_hybrid(page, at + 1, end, width, n, idx)
    if p < 0:
        return -1
    m = dvals.shape[0]
    for i in range(n):
        j = idx[i]
        if j < 0 or j >= m:
            return -1
        vals[done + i] = dvals[j]
        area[done + i] = darea[j]
    return p
