"""Decode a Parquet text column's pages straight into numbers (the fast BDC engine).

Arrow builds a string per row (and, for a dictionary, hashes every entry) before any of it
can be parsed: for the 15-digit ``block_geoid`` that is most of the cost of reading a row
group. :func:`text_column` reads the column chunk's bytes, walks its page headers (Thrift
compact protocol), decompresses each page (pyarrow's codecs, which release the GIL) and
parses the values where they lie (:mod:`assetmap.bdc.fast.pages_kernel`): PLAIN byte
arrays, or dictionary pages and their RLE/bit-packed indexes. Only the layouts seen here
are taken (flat, optional or required column, data pages v1 or v2, no nulls); anything else
raises :class:`Unsupported` and the caller reads the column with pyarrow.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

__all__ = ["Unsupported", "text_column"]


class Unsupported(Exception):  # noqa: N818 (a signal: read the column with pyarrow)
    """A page layout this decoder does not take."""


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    out = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        out |= (b & 0x7F) << shift
        if not b & 0x80:
            return out, pos
        shift += 7


def _zigzag(v: int) -> int:
    return (v >> 1) ^ -(v & 1)


def _value(buf: bytes, pos: int, kind: int) -> tuple[Any, int]:
    """One Thrift compact value of type ``kind``: ints and structs kept, others skipped."""
    if kind in (1, 2):
        return kind == 1, pos
    if kind == 3:
        return buf[pos], pos + 1
    if kind in (4, 5, 6):
        v, pos = _varint(buf, pos)
        return _zigzag(v), pos
    if kind == 7:
        return None, pos + 8
    if kind == 8:
        n, pos = _varint(buf, pos)
        return None, pos + n
    if kind in (9, 10):
        head = buf[pos]
        pos += 1
        size, elem = head >> 4, head & 15
        if size == 15:
            size, pos = _varint(buf, pos)
        for _ in range(size):
            _, pos = _value(buf, pos, 3 if elem in (1, 2) else elem)
        return None, pos
    if kind == 11:
        size, pos = _varint(buf, pos)
        if size:
            types = buf[pos]
            pos += 1
            for _ in range(size):
                _, pos = _value(buf, pos, types >> 4)
                _, pos = _value(buf, pos, types & 15)
        return None, pos
    if kind == 12:
        return _struct(buf, pos)
    raise Unsupported(f"Thrift type {kind}")


def _struct(buf: bytes, pos: int) -> tuple[dict[int, Any], int]:
    fields: dict[int, Any] = {}
    last = 0
    while True:
        head = buf[pos]
        pos += 1
        if head == 0:
            return fields, pos
        delta, kind = head >> 4, head & 15
        if delta:
            fid = last + delta
        else:
            v, pos = _varint(buf, pos)
            fid = _zigzag(v)
        fields[fid], pos = _value(buf, pos, kind)
        last = fid


def _codec(name: str):
    import pyarrow as pa

    if name == "UNCOMPRESSED":
        return None
    if name not in ("ZSTD", "SNAPPY", "GZIP", "BROTLI"):  # LZ4: frame or raw is ambiguous
        raise Unsupported(f"codec {name}")
    try:
        return pa.Codec(name.lower())
    except (ValueError, NotImplementedError, TypeError) as exc:
        raise Unsupported(f"codec {name}") from exc


def text_column(path, column: Any, max_def: int, n_rows: int, parse: str, prefix: int = 15
                ) -> tuple[np.ndarray, np.ndarray]:
    """One row group's text column as numbers (see :func:`_text_column`).

    A malformed page header (cut short, fields of unexpected types) raises
    :class:`Unsupported` too, so the caller reads the column with pyarrow, which names the
    problem.
    """
    try:
        return _text_column(path, column, max_def, n_rows, parse, prefix)
    except (IndexError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise Unsupported(f"a malformed page ({type(exc).__name__})") from exc


def _text_column(path, column: Any, max_def: int, n_rows: int, parse: str, prefix: int = 15
                 ) -> tuple[np.ndarray, np.ndarray]:
    """One row group's text column as numbers, one per row.

    ``column`` is pyarrow's ``ColumnChunkMetaData``; ``parse`` ``"geoid"`` (15 digits:
    the GEOID and its first ``prefix`` digits) or ``"h3"`` (15 lower-case hexadecimal
    characters: the cell, twice). -1 where the text does not parse.
    """
    from assetmap.bdc.fast import pages_kernel as k

    if column.physical_type != "BYTE_ARRAY" or max_def > 1:
        raise Unsupported("not a flat text column")
    start = column.data_page_offset
    if column.has_dictionary_page and column.dictionary_page_offset is not None:
        start = min(start, column.dictionary_page_offset)
    size = column.total_compressed_size
    fd = os.open(path, os.O_RDONLY)
    try:
        raw = os.pread(fd, size, start)
    finally:
        os.close(fd)
    if len(raw) != size:
        raise Unsupported("column chunk cut short")
    codec = _codec(column.compression)
    values = np.empty(n_rows, dtype=np.int64)
    area = np.empty(n_rows, dtype=np.int64)
    dict_vals = dict_area = None
    mode = 0 if parse == "geoid" else 1
    pos = done = 0
    while pos < size and done < n_rows:
        header, pos = _struct(raw, pos)
        kind, plain_size, packed = header.get(1), header.get(2), header.get(3)
        if kind is None or plain_size is None or packed is None or pos + packed > size:
            raise Unsupported("a page header without sizes")
        body = raw[pos:pos + packed]
        pos += packed
        if kind == 2:  # dictionary page: PLAIN byte arrays
            info = header.get(7) or {}
            if info.get(2, 0) not in (0, 2):
                raise Unsupported("dictionary page not PLAIN")
            page = _inflate(codec, body, plain_size)
            n = info.get(1, 0)
            dict_vals, dict_area = np.empty(n, np.int64), np.empty(n, np.int64)
            if k.plain_values(page, 0, n, dict_vals, dict_area, 0, mode, prefix) < 0:
                raise Unsupported("a dictionary page cut short")
            continue
        if kind == 0:
            info = header.get(5) or {}
            n, encoding = info.get(1, 0), info.get(2, -1)
            page = _inflate(codec, body, plain_size)
            at = 0
            if max_def == 1:
                if info.get(3, 3) != 3:
                    raise Unsupported("definition levels not RLE")
                length = int(page[0:4].view("<u4")[0]) if len(page) >= 4 else -1
                if length < 0 or not k.all_set(page, 4, 4 + length, n):
                    raise Unsupported("nulls or malformed definition levels")
                at = 4 + length
        elif kind == 3:
            info = header.get(8) or {}
            n, nulls, encoding = info.get(1, 0), info.get(2, 0), info.get(4, -1)
            levels = info.get(5, 0) + info.get(6, 0)
            if nulls or info.get(6, 0):
                raise Unsupported("nulls or repetition levels")
            if info.get(7, True):
                page = np.concatenate([np.frombuffer(body[:levels], np.uint8),
                                       _inflate(codec, body[levels:], plain_size - levels)])
            else:
                page = np.frombuffer(body, np.uint8)
            at = levels
        else:
            continue  # an index page
        if done + n > n_rows:
            raise Unsupported("more values than rows")
        if encoding == 0:
            end = k.plain_values(page, at, n, values, area, done, mode, prefix)
        elif encoding in (2, 8) and dict_vals is not None:
            end = k.dict_values(page, at, n, dict_vals, dict_area, values, area, done)
        else:
            raise Unsupported(f"encoding {encoding}")
        if end < 0:
            raise Unsupported("a data page cut short")
        done += n
    if done != n_rows:
        raise Unsupported("fewer values than rows")
    return values, area


def _inflate(codec, body: bytes, size: int) -> np.ndarray:
    if codec is None:
        return np.frombuffer(body, np.uint8)
    try:
        out = codec.decompress(body, decompressed_size=size)
    except (OSError, ValueError) as exc:  # pyarrow's errors: a corrupt or odd page
        raise Unsupported(f"a page that does not decompress ({exc})") from exc
    return np.frombuffer(out, np.uint8)
