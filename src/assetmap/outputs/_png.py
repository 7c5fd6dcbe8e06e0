"""A fast PNG writer for the print map's Agg canvas (same pixels, size and dpi as savefig).

``savefig`` hands the 3300 x 2550 canvas to Pillow, whose PNG encoder tries five row filters
on every row before compressing: most of a print map's time. A flat-coloured map compresses
as well without filtering, so this writer stores the rows unfiltered at a fast zlib level, and
as RGB when the canvas is opaque (as a print map's white page is).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Mapping
from pathlib import Path

import numpy as np

__all__ = ["write_png"]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(data, zlib.crc32(kind))
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def write_png(
    path: str | Path,
    rgba: np.ndarray,
    *,
    dpi: float,
    metadata: Mapping[str, str] | None = None,
    level: int = 3,
) -> Path:
    """Write an RGBA image (height x width x 4, uint8) as a PNG with its dpi and text chunks.

    The image is stored as RGB when every pixel is opaque (same pixels), else as RGBA.

    Examples
    --------
    >>> import tempfile
    >>> from PIL import Image
    >>> image = np.zeros((2, 3, 4), dtype=np.uint8)
    >>> image[..., 0], image[..., 3] = 200, 255
    >>> out = write_png(tempfile.mkdtemp() + "/x.png", image, dpi=300, metadata={"Title": "x"})
    >>> with Image.open(out) as im:
    ...     im.mode, im.size, round(im.info["dpi"][0]), im.getpixel((2, 1)), im.info["Title"]
    ('RGB', (3, 2), 300, (200, 0, 0), 'x')
    """
    path = Path(path)
    image = np.asarray(rgba)
    if image.ndim != 3 or image.shape[2] != 4 or image.dtype != np.uint8:
        raise ValueError("write_png needs a height x width x 4 uint8 array")
    height, width = image.shape[:2]
    opaque = bool((image[..., 3] == 255).all())
    pixels = image[..., :3] if opaque else image
    channels = 3 if opaque else 4
    rows = np.empty((height, width * channels + 1), dtype=np.uint8)
    rows[:, 0] = 0  # filter type "None" on every row
    rows[:, 1:] = pixels.reshape(height, width * channels)
    per_metre = int(dpi / 0.0254 + 0.5)  # as Pillow writes it
    parts = [
        _SIGNATURE,
        _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2 if opaque else 6, 0, 0, 0)),
    ]
    for key, value in (metadata or {}).items():
        parts.append(_chunk(b"tEXt", key.encode("latin-1") + b"\0" + value.encode("latin-1")))
    parts += [
        _chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)),
        _chunk(b"IDAT", zlib.compress(rows.data, level)),
        _chunk(b"IEND", b""),
    ]
    path.write_bytes(b"".join(parts))
    return path
