"""One row group's columns as checked NumPy arrays (:mod:`assetmap.bdc.fast.sorted_numpy`).

pyarrow reads the columns; here they become arrays and are checked as the compiled sorted
path checks them (:func:`assetmap.bdc.fast.sorted_kernel.fold_unit`): no nulls, integers in
range, dictionary entries that are ids or letter codes, block GEOIDs of 15 ASCII digits
(compared as two big-endian words, converted to integers only where needed). Anything else
raises :class:`Decline`, and the compiled path decides.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Decline", "check_digits", "column", "dictionary", "digits", "geoids",
           "ints", "provider_key", "selected_code"]


class Decline(Exception):  # noqa: N818 (a signal: the compiled path decides)
    """Input this path does not take."""


def entries(arr) -> list[bytes]:
    import pyarrow as pa

    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        raise Decline
    return [v.as_buffer().to_pybytes() if v.is_valid else b"\xff" for v in arr]


def selected_code(entry: bytes, codes: np.ndarray) -> int:
    """1 selected, 0 not, -1 not ASCII: as :func:`.parse.code_selected`."""
    if codes[256] == 0:
        return 1
    if any(b >= 128 for b in entry):
        return -1
    text = entry.strip(b" \t").upper()
    return int(codes[text[0]]) if len(text) == 1 else 0


def column(table, name: str):
    """Return one column of a row group's table as one array (Decline if it has nulls)."""
    import pyarrow as pa

    chunks = table.column(name)
    if chunks.num_chunks != 1:
        if pa.types.is_dictionary(chunks.type):
            chunks = chunks.unify_dictionaries()
        arr = chunks.combine_chunks()
    else:
        arr = chunks.chunk(0)
    if arr.null_count:
        raise Decline
    return arr


def ints(arr, low: int, high: int) -> np.ndarray:
    """Return an integer column as NumPy (Decline if not integers from low to high)."""
    import pyarrow as pa

    if not pa.types.is_integer(arr.type):
        raise Decline
    out = arr.to_numpy()
    if len(out) and (out.min() < low or out.max() > high):
        raise Decline
    return out


def geoids(arr) -> tuple[np.ndarray, np.ndarray]:
    """Each row's 15-byte GEOID as two order-preserving integers (views, no copy).

    Bytes 0-7 and 7-14 read big-endian: comparing (high, low) compares the texts, and equal
    pairs are equal texts. The digits are checked once per run (:func:`digits`).
    """
    import pyarrow as pa

    if not pa.types.is_string(arr.type):
        raise Decline
    _, offs, data = arr.buffers()
    off = np.frombuffer(offs, dtype=np.int32)[arr.offset:arr.offset + len(arr) + 1]
    n = len(arr)
    if n == 0:
        return np.zeros(0, np.uint64), np.zeros(0, np.uint64)
    if off[-1] - off[0] != 15 * n or (np.diff(off) != 15).any():
        raise Decline
    start = int(off[0])  # the GEOIDs lie end to end from here
    hi = np.ndarray((n,), dtype=">u8", buffer=data, offset=start, strides=(15,))
    lo = np.ndarray((n,), dtype=">u8", buffer=data, offset=start + 7, strides=(15,))
    return hi, lo


_ZEROS = np.uint64(0x3030303030303030)
_HIGH = np.uint64(0xF0F0F0F0F0F0F0F0)
_SIX = np.uint64(0x0606060606060606)


def check_digits(*words: np.ndarray) -> None:
    """Raise Decline unless every byte of the (native) words is an ASCII digit."""
    for x in words:
        if ((x & _HIGH) != _ZEROS).any() or (((x + _SIX) & _HIGH) != _ZEROS).any():
            raise Decline


def digits(hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """Return the GEOIDs of (high, low) pairs of digit words as integers."""
    out = []
    for x in (hi - _ZEROS, lo - _ZEROS):  # 8 digits, the first in the highest byte
        x = ((x >> np.uint64(8)) & np.uint64(0x00FF00FF00FF00FF)) * np.uint64(10) + (
            x & np.uint64(0x00FF00FF00FF00FF))
        x = ((x >> np.uint64(16)) & np.uint64(0x0000FFFF0000FFFF)) * np.uint64(100) + (
            x & np.uint64(0x0000FFFF0000FFFF))
        x = (x >> np.uint64(32)) * np.uint64(10000) + (x & np.uint64(0xFFFFFFFF))
        out.append(x.astype(np.int64))
    return out[0] * 10**7 + out[1] % 10**7


def dictionary(arr, parse) -> tuple[np.ndarray, np.ndarray]:
    """Return a dictionary column's indexes and its entries parsed with ``parse``."""
    import pyarrow as pa

    if not pa.types.is_dictionary(arr.type):
        raise Decline
    values = np.array([parse(t) for t in entries(arr.dictionary)] or [-1], dtype=np.int64)
    return arr.indices.to_numpy(zero_copy_only=False), values


def provider_key(text: bytes) -> int:
    """``value * 32 + length`` of an id of up to 17 digits (-1 if not), as ``id_values``."""
    return int(text) * 32 + len(text) if text.isdigit() and 0 < len(text) <= 17 else -1
