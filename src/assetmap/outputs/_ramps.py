"""ColorBrewer sequential ramps evaluated exactly as matplotlib's colormaps, without matplotlib.

The interactive map needs a handful of colours per layer; importing matplotlib for them costs
a web-map process about a quarter of a second. The ramps below are matplotlib's own data
(``matplotlib._cm``, ColorBrewer 9-class sequential, each colour a byte / 255) and
:func:`ramp_colors` repeats matplotlib's 256-entry lookup table and indexing, so
``ramp_colors(name, positions)`` equals ``[to_hex(colormaps[name](p)) for p in positions]``
(checked against matplotlib in the tests). Names not listed here return None.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

import numpy as np

__all__ = ["RAMPS", "ramp_colors"]

#: ColorBrewer 9-class sequential ramps, light to dark, as matplotlib defines them.
RAMPS: dict[str, tuple[str, ...]] = {
    "Blues": ("f7fbff", "deebf7", "c6dbef", "9ecae1", "6baed6", "4292c6", "2171b5", "08519c",
              "08306b"),
    "BuGn": ("f7fcfd", "e5f5f9", "ccece6", "99d8c9", "66c2a4", "41ae76", "238b45", "006d2c",
             "00441b"),
    "Greens": ("f7fcf5", "e5f5e0", "c7e9c0", "a1d99b", "74c476", "41ab5d", "238b45", "006d2c",
               "00441b"),
    "Greys": ("ffffff", "f0f0f0", "d9d9d9", "bdbdbd", "969696", "737373", "525252", "252525",
              "000000"),
    "OrRd": ("fff7ec", "fee8c8", "fdd49e", "fdbb84", "fc8d59", "ef6548", "d7301f", "b30000",
             "7f0000"),
    "PuBu": ("fff7fb", "ece7f2", "d0d1e6", "a6bddb", "74a9cf", "3690c0", "0570b0", "045a8d",
             "023858"),
    "PuRd": ("f7f4f9", "e7e1ef", "d4b9da", "c994c7", "df65b0", "e7298a", "ce1256", "980043",
             "67001f"),
    "Purples": ("fcfbfd", "efedf5", "dadaeb", "bcbddc", "9e9ac8", "807dba", "6a51a3", "54278f",
                "3f007d"),
    "YlOrBr": ("ffffe5", "fff7bc", "fee391", "fec44f", "fe9929", "ec7014", "cc4c02", "993404",
               "662506"),
    "YlOrRd": ("ffffcc", "ffeda0", "fed976", "feb24c", "fd8d3c", "fc4e2a", "e31a1c", "bd0026",
               "800026"),
}
# matplotlib writes this one value as a decimal literal one unit in the last place off 6/255
_LITERALS = {("YlOrBr", 8, 2): 0.02352941176470588}
_LUT_SIZE = 256  # matplotlib's rcParams["image.lut"] default, used by its registered ramps


def _lookup_table(x: np.ndarray, y0: np.ndarray, y1: np.ndarray, n: int) -> np.ndarray:
    """Return matplotlib's ``colors._create_lookup_table`` for segment data (gamma 1)."""
    x = x * (n - 1)
    xind = (n - 1) * np.linspace(0, 1, n) ** 1.0
    ind = np.searchsorted(x, xind)[1:-1]
    distance = (xind[1:-1] - x[ind - 1]) / (x[ind] - x[ind - 1])
    lut = np.concatenate([[y1[0]], distance * (y0[ind] - y1[ind - 1]) + y1[ind - 1], [y0[-1]]])
    return np.clip(lut, 0.0, 1.0)


@cache
def _lut(name: str) -> np.ndarray | None:
    base, reverse = (name[:-2], True) if name.endswith("_r") else (name, False)
    if base not in RAMPS:
        return None
    rgb = np.array([[int(h[i:i + 2], 16) / 255 for i in (0, 2, 4)] for h in RAMPS[base]])
    for (ramp, row, column), value in _LITERALS.items():
        if ramp == base:
            rgb[row, column] = value
    x = np.linspace(0, 1, len(rgb))  # LinearSegmentedColormap.from_list
    lut = np.empty((_LUT_SIZE, 3))
    for channel in range(3):
        y = rgb[:, channel]
        if reverse:  # LinearSegmentedColormap.reversed: mirrored segments, then a new table
            xs, y0, y1 = 1.0 - x[::-1], y[::-1], y[::-1]
        else:
            xs, y0, y1 = x, y, y
        lut[:, channel] = _lookup_table(xs, y0, y1, _LUT_SIZE)
    return lut


def ramp_colors(name: str, positions: Iterable[float]) -> list[str] | None:
    """Return the hex colours of a ramp at positions in [0, 1], or None for an unknown ramp.

    Examples
    --------
    >>> ramp_colors("Blues", [0.2, 0.55, 0.9])
    ['#d0e1f2', '#5ba3d0', '#084a91']
    >>> ramp_colors("viridis", [0.5]) is None
    True
    """
    lut = _lut(name)
    if lut is None:
        return None
    out = []
    for p in positions:
        i = float(p) * _LUT_SIZE  # Colormap.__call__ on a float
        i = _LUT_SIZE - 1 if i == _LUT_SIZE else i
        rgb = lut[min(max(int(i), 0), _LUT_SIZE - 1)]
        out.append("#" + "".join(format(round(float(v) * 255), "02x") for v in rgb))
    return out
