"""Zip members of the fast BDC engine, inflated in line-aligned pieces without the GIL.

A member's compressed bytes are read straight from the file (its local header parsed here)
and inflated with ISA-L (:mod:`isal.isal_zlib`, the ``fast`` extra; about 4x less CPU than
zlib on BDC CSVs) when it is installed, else with :mod:`zlib`; both release the GIL, so the
engine inflates one zip while its threads parse another's rows. Memory stays bounded: the
member is inflated ``chunk`` bytes at a time. The CRC and the size are checked at the end,
as :mod:`zipfile` checks them; anything unusual (an encrypted member, a method other than
deflate or stored, a local header that does not match, a member cut short or larger than
declared) raises :class:`assetmap.bdc.fast.common.Fallback`, and the state goes to the
DuckDB engine, which names the problem.
"""

from __future__ import annotations

import struct
import types
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from assetmap.bdc.fast.common import Fallback

_deflate: types.ModuleType
try:  # ISA-L: the same API as zlib, several times faster to inflate
    from isal import isal_zlib

    _deflate = isal_zlib
except ImportError:  # pragma: no cover (the fast extra installs it)
    _deflate = zlib

__all__ = ["INFLATER", "INFLATE_ERROR", "member_pieces"]

#: the library that inflates members ("isal" or "zlib")
INFLATER = "isal" if _deflate is not zlib else "zlib"
#: what it raises on a damaged stream
INFLATE_ERROR: type[Exception] = _deflate.error
_LOCAL = struct.Struct("<4s5H3L2H")  # a local file header, 30 bytes
_READ = 1 << 20  # compressed bytes read at a time
_BLOCK = 1 << 20  # inflated bytes at a time


def _inflated(path: Path, info: zipfile.ZipInfo, chunk: int) -> Iterator[bytes]:
    """Yield the member's bytes, up to ``chunk`` at a time, CRC and size checked."""
    if info.flag_bits & 1 or info.compress_type not in (zipfile.ZIP_STORED,
                                                        zipfile.ZIP_DEFLATED):
        raise Fallback(f"{path}: {info.filename} is encrypted or not deflated")
    with path.open("rb") as fh:
        fh.seek(info.header_offset)
        head = fh.read(_LOCAL.size)
        if len(head) != _LOCAL.size:
            raise Fallback(f"{path}: a local header cut short")
        sig, _, flags, method, _, _, _, _, _, name_len, extra_len = _LOCAL.unpack(head)
        if sig != b"PK\x03\x04" or method != info.compress_type or flags & 1:
            raise Fallback(f"{path}: a local header that does not match the directory")
        fh.seek(info.header_offset + _LOCAL.size + name_len + extra_len)
        inflater = _deflate.decompressobj(-15) if method == zipfile.ZIP_DEFLATED else None
        left, pending, crc, total = info.compress_size, b"", 0, 0
        while True:
            if not pending and left > 0:
                pending = fh.read(min(chunk if inflater is None else _READ, left))
                left -= len(pending)
                if not pending:
                    raise Fallback(f"{path}: {info.filename} cut short")
            if inflater is None:
                out, pending = pending, b""
            elif pending:
                out = inflater.decompress(pending, chunk)
                pending = inflater.unconsumed_tail
            else:
                out = inflater.flush()
            if out:
                crc = _deflate.crc32(out, crc)
                total += len(out)
                if total > info.file_size:
                    raise Fallback(f"{path}: {info.filename} larger than declared")
                yield out
            elif not pending and left <= 0:
                break
    if (inflater is not None and not inflater.eof) or total != info.file_size or \
            crc != info.CRC:
        raise Fallback(f"{path}: {info.filename} cut short or damaged (size or CRC)")


def member_pieces(path: Path, info: zipfile.ZipInfo, header: bytes, chunk: int
                  ) -> Iterator[tuple[np.ndarray, ...]]:
    """Yield one member's data lines in pieces of about ``chunk`` bytes, as parts to join.

    The first line must be ``header``; each piece ends at a line end (the last one where
    the member ends). The member is inflated in blocks of :data:`_BLOCK` bytes (small
    blocks are reused by the allocator; fresh large ones cost a page fault per 4 kB); a
    piece is the blocks, unjoined: the parser copies them into its own buffer.
    """
    parts: list[np.ndarray] = []
    size = 0
    seen_header = False
    head = b""
    for block in _inflated(path, info, _BLOCK):
        if not seen_header:
            head += block
            nl = head.find(b"\n")
            if nl < 0:
                if len(head) > 1 << 16:
                    raise Fallback(f"{path}: a header longer than 64 kB")
                continue
            if head[:nl].rstrip(b"\r") != header:
                raise Fallback(f"{path}: header not in the canonical layout")
            seen_header, block = True, head[nl + 1:]
        parts.append(np.frombuffer(block, dtype=np.uint8))
        size += len(block)
        if size < chunk:
            continue
        last = parts[-1]
        cut = block.rfind(b"\n")
        if cut < 0:
            continue
        yield (*parts[:-1], last[:cut + 1])
        parts, size = ([last[cut + 1:]], len(last) - cut - 1) if cut + 1 < len(last) else ([], 0)
    if not seen_header:
        raise Fallback(f"{path}: no header line")
    if size:
        yield tuple(parts)
