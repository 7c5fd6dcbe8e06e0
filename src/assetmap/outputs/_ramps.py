"""ColorBrewer sequential ramps evaluated exactly as matplotlib's colormaps, without matplotlib.

The interactive map needs a handful of colours per layer; importing matplotlib for them costs
a web-map process about a quarter of a second. The ramps below are matplotlib's own data
(``matplotlib._cm``, ColorBrewer 9-class sequential, each colour a byte / 255) and
:func:`ramp_colors` repeats matplotlib's 256-entry lookup table and indexing, so
``ramp_colors(name, positions)`` equals ``[to_hex(colormaps[name](p)) for p in positions]``
(checked against matplotlib in the tests). Names not listed here return None.

Where the classes sit on a ramp is data too: :func:`class_positions` spaces them equally in
contrast (log relative luminance, the WCAG contrast scale) over the ramp without its lightest
tenth, so every pair of neighbouring classes differs as much as the ramp allows. ColorBrewer's
sequential ramps vary in lightness, so they stay apart with protanopia, deuteranopia and
tritanopia; :mod:`assetmap.outputs._contrast` measures both, and the tests run it on every ramp.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

import numpy as np

from assetmap.outputs._contrast import luminance_of_rgb

__all__ = ["LIGHT_TRIM", "RAMPS", "class_positions", "ramp_colors", "ramp_table"]

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
#: The share of a ramp's lightest end that no class uses, so class 1 stands out from white paper.
LIGHT_TRIM = 0.1
#: Where a single class sits (it has no neighbour to differ from).
SINGLE_POSITION = 0.6


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


def ramp_table(name: str) -> np.ndarray:
    """Return a ramp's 256 colours as RGB rows in [0, 1] (matplotlib's table for other names).

    Examples
    --------
    >>> ramp_table("Greys")[[0, -1]].tolist()
    [[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]]
    """
    lut = _lut(name)
    if lut is not None:
        return lut.copy()
    from matplotlib import colormaps

    return np.asarray(colormaps[name](np.arange(_LUT_SIZE) / _LUT_SIZE))[:, :3]


def class_positions(name: str, n: int) -> np.ndarray:
    """Return ``n`` positions on a ramp, its classes spaced equally in contrast.

    The lightest tenth of the ramp (:data:`LIGHT_TRIM`) is left out; the rest is cut so that
    the WCAG contrast ratio of each class with the next is the same, the most the ramp allows.

    Examples
    --------
    >>> class_positions("Blues", 3).round(2).tolist()
    [0.1, 0.67, 1.0]
    >>> class_positions("YlOrRd_r", 2).round(2).tolist()  # the light end of a reversed ramp
    [0.0, 0.9]
    """
    if n <= 0:
        return np.array([])
    if n == 1:
        return np.array([SINGLE_POSITION])
    grade = np.log(luminance_of_rgb(ramp_table(name)) + 0.05)
    index = np.arange(_LUT_SIZE, dtype=float)
    cut = round(LIGHT_TRIM * (_LUT_SIZE - 1))
    if grade[0] > grade[-1]:  # light to dark
        index, grade = index[cut:], -grade[cut:]
    else:
        index, grade = index[:_LUT_SIZE - cut], grade[:_LUT_SIZE - cut]
    grade = np.maximum.accumulate(grade)  # a ramp whose lightness wavers is read by its trend
    targets = np.linspace(grade[0], grade[-1], n)
    found = np.interp(targets, grade, index)
    # the centre of the table entry, so ramp_colors() lands on it; the ends stay 0 and 1
    return np.clip(np.where(found >= _LUT_SIZE - 1, 1.0, found / (_LUT_SIZE - 1)), 0.0, 1.0)
