"""Contrast and colour-vision checks for the class colours of the maps (WCAG 1.4.1 and 1.4.11).

Two measures, both computed from the hex colours alone:

- the WCAG 2.x contrast ratio of two colours, from their relative luminance
  (https://www.w3.org/TR/WCAG21/#dfn-contrast-ratio); WCAG 1.4.11 asks 3:1 for the parts
  of a graphic needed to understand it, here each class against its neighbours in the legend;
- the CIEDE2000 colour difference of neighbouring classes as seen with protanopia,
  deuteranopia and tritanopia, simulated with the severity-1.0 matrices of Machado, Oliveira
  and Fernandes (2009), "A physiologically-based model for simulation of color vision
  deficiency", IEEE TVCG 15(6), applied in linear sRGB.

Five or more classes cannot all differ 3:1 from their neighbours: the whole range from white to
black is 21:1, so k classes allow at most 21 ** (1 / (k - 1)) between neighbours (2.14 for five).
Such classes must carry something besides colour; :func:`needs_marks` says when, and the print
map then adds a hatch pattern and a number to each class (:mod:`assetmap.outputs._class_marks`).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "CVD_KINDS",
    "MIN_CONTRAST",
    "MIN_DELTA_E",
    "PaletteCheck",
    "check_palette",
    "ciede2000",
    "contrast_ratio",
    "luminance_of_rgb",
    "needs_marks",
    "relative_luminance",
    "simulate_cvd",
]

#: WCAG 1.4.11 non-text contrast between a class and each neighbour in the legend.
MIN_CONTRAST = 3.0
#: CIEDE2000 difference below which two neighbouring classes count as confusable; 10 is about
#: where map readers tell two flat areas apart at a glance (a just-noticeable step is 1 to 2).
MIN_DELTA_E = 10.0

#: Machado et al. (2009), severity 1.0, for linear sRGB.
_MACHADO = {
    "protan": np.array([[0.152286, 1.052583, -0.204868],
                        [0.114503, 0.786281, 0.099216],
                        [-0.003882, -0.048116, 1.051998]]),
    "deutan": np.array([[0.367322, 0.860646, -0.227968],
                        [0.280085, 0.672501, 0.047413],
                        [-0.011820, 0.042940, 0.968881]]),
    "tritan": np.array([[1.255528, -0.076749, -0.178779],
                        [-0.078411, 0.930809, 0.147602],
                        [0.004733, 0.691367, 0.303900]]),
}
CVD_KINDS = tuple(_MACHADO)
# linear sRGB -> CIE XYZ (D65), and the D65 white point
_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                 [0.2126729, 0.7151522, 0.0721750],
                 [0.0193339, 0.1191920, 0.9503041]])
_WHITE = _XYZ.sum(axis=1)


def _rgb(color: str) -> np.ndarray:
    text = color.lstrip("#")
    if len(text) == 3:
        text = "".join(c * 2 for c in text)
    return np.array([int(text[i:i + 2], 16) / 255 for i in (0, 2, 4)])


def _linear(rgb: np.ndarray) -> np.ndarray:
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)


def _encode(linear: np.ndarray) -> np.ndarray:
    linear = np.clip(linear, 0.0, 1.0)
    return np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1 / 2.4) - 0.055)


def _hex(rgb: np.ndarray) -> str:
    return "#" + "".join(format(round(float(v) * 255), "02x") for v in rgb)


def luminance_of_rgb(rgb: np.ndarray) -> np.ndarray:
    """Return the WCAG relative luminance of sRGB rows with channels in [0, 1].

    Examples
    --------
    >>> luminance_of_rgb(np.array([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])).tolist()
    [1.0, 0.0]
    """
    return _linear(np.asarray(rgb, dtype=float)[..., :3]) @ np.array([0.2126, 0.7152, 0.0722])


def relative_luminance(color: str) -> float:
    """Return the WCAG relative luminance of a hex colour (0 for black, 1 for white).

    Examples
    --------
    >>> relative_luminance("#ffffff"), relative_luminance("#000000")
    (1.0, 0.0)
    """
    return float(luminance_of_rgb(_rgb(color)))


def contrast_ratio(first: str, second: str) -> float:
    """Return the WCAG contrast ratio of two hex colours, from 1 (same) to 21 (black on white).

    Examples
    --------
    >>> round(contrast_ratio("#000000", "#ffffff"), 1)
    21.0
    >>> round(contrast_ratio("#767676", "#ffffff"), 2)
    4.54
    """
    high, low = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def simulate_cvd(color: str, kind: str) -> str:
    """Return a hex colour as seen with a colour-vision deficiency (Machado et al. 2009).

    Parameters
    ----------
    color : str
        A hex colour.
    kind : {"protan", "deutan", "tritan"}
        Protanopia, deuteranopia or tritanopia (severity 1.0).

    Examples
    --------
    >>> simulate_cvd("#ff0000", "deutan")
    '#a39000'
    >>> simulate_cvd("#808080", "protan")
    '#808080'
    """
    if kind not in _MACHADO:
        raise ValueError(f"kind must be one of {', '.join(CVD_KINDS)}; got {kind!r}")
    return _hex(_encode(_MACHADO[kind] @ _linear(_rgb(color))))


def _lab(color: str) -> np.ndarray:
    xyz = (_XYZ @ _linear(_rgb(color))) / _WHITE
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def ciede2000(first: str, second: str) -> float:
    """Return the CIEDE2000 colour difference of two hex colours (CIELAB, D65).

    Examples
    --------
    >>> ciede2000("#336699", "#336699")
    0.0
    >>> round(ciede2000("#000000", "#ffffff"), 1)
    100.0
    """
    return _delta_e00(_lab(first), _lab(second))


def _delta_e00(lab1: np.ndarray, lab2: np.ndarray) -> float:
    """Return CIEDE2000 of two CIELAB colours (Sharma, Wu and Dalal 2005)."""
    (l1, a1, b1), (l2, a2, b2) = lab1, lab2
    c_bar = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_bar**7 / (c_bar**7 + 25.0**7)))
    a1p, a2p = a1 * (1 + g), a2 * (1 + g)
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    dl, dc = l2 - l1, c2p - c1p
    dh = 0.0 if c1p * c2p == 0 else (h2p - h1p + 180) % 360 - 180
    big_dh = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh) / 2)
    l_bar, cp_bar = (l1 + l2) / 2, (c1p + c2p) / 2
    if c1p * c2p == 0:
        h_bar = h1p + h2p
    elif abs(h1p - h2p) <= 180:
        h_bar = (h1p + h2p) / 2
    else:
        h_bar = (h1p + h2p + 360) / 2 if h1p + h2p < 360 else (h1p + h2p - 360) / 2
    t = (1 - 0.17 * np.cos(np.radians(h_bar - 30)) + 0.24 * np.cos(np.radians(2 * h_bar))
         + 0.32 * np.cos(np.radians(3 * h_bar + 6)) - 0.20 * np.cos(np.radians(4 * h_bar - 63)))
    s_l = 1 + 0.015 * (l_bar - 50) ** 2 / np.sqrt(20 + (l_bar - 50) ** 2)
    s_c = 1 + 0.045 * cp_bar
    s_h = 1 + 0.015 * cp_bar * t
    r_t = (-2 * np.sqrt(cp_bar**7 / (cp_bar**7 + 25.0**7))
           * np.sin(np.radians(60 * np.exp(-(((h_bar - 275) / 25) ** 2)))))
    terms = (dl / s_l, dc / s_c, big_dh / s_h)
    return float(np.sqrt(terms[0] ** 2 + terms[1] ** 2 + terms[2] ** 2
                         + r_t * terms[1] * terms[2]))


@dataclass(frozen=True)
class PaletteCheck:
    """Neighbour contrast and colour-vision differences of a legend's class colours."""

    colors: tuple[str, ...]
    ratios: tuple[float, ...]  # contrast ratio of each class with the next
    delta_e: dict[str, tuple[float, ...]]  # "normal" and each CVD kind -> CIEDE2000 of neighbours

    @property
    def min_contrast(self) -> float:
        """Return the lowest contrast ratio between neighbouring classes (inf for one class)."""
        return min(self.ratios, default=float("inf"))

    @property
    def min_delta_e(self) -> float:
        """Return the lowest CIEDE2000 of neighbours, with normal vision or any deficiency."""
        return min((min(v, default=float("inf")) for v in self.delta_e.values()),
                   default=float("inf"))

    @property
    def meets_contrast(self) -> bool:
        """Return whether every neighbour pair reaches :data:`MIN_CONTRAST` (3:1)."""
        return self.min_contrast >= MIN_CONTRAST

    @property
    def distinguishable(self) -> bool:
        """Return whether neighbours differ by :data:`MIN_DELTA_E` with every vision simulated."""
        return self.min_delta_e >= MIN_DELTA_E


def check_palette(colors: Sequence[str]) -> PaletteCheck:
    """Measure the class colours of a legend, each against its neighbour.

    Parameters
    ----------
    colors : sequence of str
        Hex colours in legend order.

    Returns
    -------
    PaletteCheck
        Contrast ratios of neighbours, and their CIEDE2000 differences with normal vision and
        as simulated for protanopia, deuteranopia and tritanopia.

    Examples
    --------
    >>> check = check_palette(["#ffffcc", "#fd8d3c", "#800026"])
    >>> round(check.min_contrast, 2), check.meets_contrast, check.distinguishable
    (2.25, False, True)
    """
    pairs = list(itertools.pairwise(colors))
    ratios = tuple(contrast_ratio(a, b) for a, b in pairs)
    delta_e = {"normal": tuple(ciede2000(a, b) for a, b in pairs)}
    for kind in CVD_KINDS:
        delta_e[kind] = tuple(
            ciede2000(simulate_cvd(a, kind), simulate_cvd(b, kind)) for a, b in pairs
        )
    return PaletteCheck(tuple(colors), ratios, delta_e)


def needs_marks(colors: Sequence[str]) -> bool:
    """Return whether classes need a pattern or number besides colour (WCAG 1.4.1, 1.4.11).

    Examples
    --------
    >>> needs_marks(["#ffffcc", "#800026"]), needs_marks(["#ffffcc", "#fd8d3c", "#800026"])
    (False, True)
    """
    check = check_palette(colors)
    return not (check.meets_contrast and check.distinguishable)
