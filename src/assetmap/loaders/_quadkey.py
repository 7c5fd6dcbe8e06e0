"""Web-Mercator tiles and Bing quadkeys, vectorised over numpy arrays.

Ookla's open data come in zoom-16 tiles named by quadkey (the Bing Maps tile system,
https://learn.microsoft.com/en-us/bingmaps/articles/bing-maps-tile-system). A tile
``(x, y)`` at zoom ``z`` counts columns from longitude -180 eastwards and rows from latitude
+85.0511 southwards; its quadkey has ``z`` digits, digit ``i`` (from the left) being
``(x bit) + 2 * (y bit)`` of bit ``z - i``.

Examples
--------
>>> tile_to_quadkey(3, 5, 3)
'213'
>>> quadkey_to_tile("213")
(3, 5, 3)
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = [
    "MAX_LATITUDE",
    "lonlat_to_tile",
    "quadkey_to_tile",
    "quadkeys_to_bounds",
    "quadkeys_to_tiles",
    "tile_bounds",
    "tile_to_quadkey",
    "tiles_to_quadkeys",
]

MAX_LATITUDE = 85.05112878
_QUADKEY_DIGITS = set("0123")


def lonlat_to_tile(
    lon: npt.ArrayLike, lat: npt.ArrayLike, zoom: int
) -> tuple[np.ndarray, np.ndarray]:
    """Return the tile columns and rows holding points (latitudes clipped to +-85.0511).

    Examples
    --------
    >>> x, y = lonlat_to_tile([-9.14], [53.33], 10)
    >>> int(x[0]), int(y[0])
    (486, 332)
    """
    lon = np.asarray(lon, dtype="float64")
    lat = np.clip(np.asarray(lat, dtype="float64"), -MAX_LATITUDE, MAX_LATITUDE)
    n = 2**zoom
    x = np.floor((lon + 180.0) / 360.0 * n)
    sin_lat = np.sin(np.radians(lat))
    y = np.floor((0.5 - np.log((1 + sin_lat) / (1 - sin_lat)) / (4 * np.pi)) * n)
    return np.clip(x, 0, n - 1).astype("int64"), np.clip(y, 0, n - 1).astype("int64")


def tiles_to_quadkeys(x: npt.ArrayLike, y: npt.ArrayLike, zoom: int) -> np.ndarray:
    """Return the quadkeys (object array of str) of tiles ``(x, y)`` at ``zoom``.

    Examples
    --------
    >>> tiles_to_quadkeys([486], [332], 10).tolist()
    ['0313102310']
    """
    x = np.asarray(x, dtype="int64")
    y = np.asarray(y, dtype="int64")
    digits = np.empty((x.size, zoom), dtype="uint8")
    for i in range(zoom):  # one pass per zoom level, vectorised over tiles
        bit = zoom - 1 - i
        digits[:, i] = ((x >> bit) & 1) + 2 * ((y >> bit) & 1) + ord("0")
    return np.array([row.tobytes().decode("ascii") for row in digits], dtype=object)


def tile_to_quadkey(x: int, y: int, zoom: int) -> str:
    """Return the quadkey of one tile.

    Examples
    --------
    >>> tile_to_quadkey(486, 332, 10)
    '0313102310'
    """
    return str(tiles_to_quadkeys([x], [y], zoom)[0])


def quadkeys_to_tiles(quadkeys: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(x, y, zoom)`` arrays for quadkeys; invalid keys give -1 in all three.

    A key is invalid when it is empty or has a character other than 0-3.

    Examples
    --------
    >>> x, y, z = quadkeys_to_tiles(["213", "0313102310", "24"])
    >>> x.tolist(), y.tolist(), z.tolist()
    ([3, 486, -1], [5, 332, -1], [3, 10, -1])
    """
    keys = [str(k) for k in np.asarray(quadkeys, dtype=object)]
    zoom = np.array([len(k) for k in keys], dtype="int64")
    valid = np.array([bool(k) and set(k) <= _QUADKEY_DIGITS for k in keys], dtype=bool)
    width = int(zoom.max()) if zoom.size else 0
    padded = np.array([k.ljust(width, "0") if v else "0" * width for k, v in zip(keys, valid,
                      strict=True)])
    codes = (
        np.frombuffer("".join(padded).encode("ascii"), dtype="uint8").reshape(len(keys), width)
        - ord("0")
        if width
        else np.zeros((len(keys), 0), dtype="uint8")
    ).astype("int64")
    # digits beyond a key's own length were padded with 0 and are shifted out below
    x = np.zeros(len(keys), dtype="int64")
    y = np.zeros(len(keys), dtype="int64")
    for i in range(width):
        x = (x << 1) | (codes[:, i] & 1)
        y = (y << 1) | (codes[:, i] >> 1)
    shift = width - zoom
    x >>= shift
    y >>= shift
    x[~valid], y[~valid], zoom[~valid] = -1, -1, -1
    return x, y, zoom


def quadkey_to_tile(quadkey: str) -> tuple[int, int, int]:
    """Return ``(x, y, zoom)`` of one quadkey.

    Raises
    ------
    ValueError
        If the key is empty or has a character other than 0-3.

    Examples
    --------
    >>> quadkey_to_tile("0313102310")
    (486, 332, 10)
    """
    x, y, z = quadkeys_to_tiles([quadkey])
    if z[0] < 0:
        raise ValueError(f"not a quadkey: {quadkey!r} (digits 0-3 only)")
    return int(x[0]), int(y[0]), int(z[0])


def tile_bounds(
    x: npt.ArrayLike, y: npt.ArrayLike, zoom: npt.ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(west, south, east, north)`` in degrees (EPSG:4326) of tiles.

    Examples
    --------
    >>> w, s, e, n = tile_bounds([486], [332], [10])
    >>> round(float(w[0]), 6), round(float(n[0]), 6)
    (-9.140625, 53.330873)
    """
    x = np.asarray(x, dtype="float64")
    y = np.asarray(y, dtype="float64")
    n = np.power(2.0, np.asarray(zoom, dtype="float64"))

    def lat(row: np.ndarray) -> np.ndarray:
        return np.degrees(np.arctan(np.sinh(np.pi * (1 - 2 * row / n))))

    return x / n * 360.0 - 180.0, lat(y + 1), (x + 1) / n * 360.0 - 180.0, lat(y)


def quadkeys_to_bounds(
    quadkeys: npt.ArrayLike,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(west, south, east, north)`` of quadkeys (NaN for invalid keys).

    Examples
    --------
    >>> w, s, e, n = quadkeys_to_bounds(["0"])
    >>> float(w[0]), float(e[0]), round(float(s[0]), 4)
    (-180.0, 0.0, 0.0)
    """
    x, y, z = quadkeys_to_tiles(quadkeys)
    bounds = tile_bounds(x, y, z)
    bad = z < 0
    return tuple(np.where(bad, np.nan, b) for b in bounds)  # type: ignore[return-value]
