"""Classes, colours, labels and units shared by the interactive map and the print map.

Both maps call :func:`classify` so a tract falls in the same class, with the same colour and the
same legend label, on screen and on paper. Palettes are ColorBrewer sequential ramps, which are
rated colour-blind safe: their classes differ in lightness, not only in hue, and they are spaced
equally in contrast (:mod:`assetmap.outputs._ramps`, checked by :mod:`assetmap.outputs._contrast`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from assetmap._i18n import N_, messages
from assetmap.errors import ConfigError
from assetmap.outputs._ramps import class_positions, ramp_colors

__all__ = [
    "NO_DATA_COLOR",
    "SCHEMES",
    "Classes",
    "ColumnInfo",
    "classify",
    "column_info",
    "format_value",
    "palette",
]

SCHEMES = ("quantiles", "natural_breaks", "user")
NO_DATA_COLOR = "#d9d9d9"


@dataclass(frozen=True)
class ColumnInfo:
    """How a scored column is named, measured and coloured."""

    label: str
    unit: str  # "index" (0-100), "share" (fraction shown as %), "m", "count", "rank", "value"
    cmap: str
    description: str = ""

    @property
    def unit_text(self) -> str:
        """Return the unit as legend text, e.g. ``"%"`` or ``"index 0-100"``."""
        return {
            "index": N_("index 0-100, higher = more need"),
            "share": "%",
            "m": "km",
            "count": N_("count"),
            "rank": N_("rank, 1 = highest"),
        }.get(self.unit, "")

    @property
    def title(self) -> str:
        """Return the label with its unit, e.g. ``"Fiber presence (%)"``."""
        unit = self.unit_text
        return f"{self.label} ({unit})" if unit else self.label


_INFO: dict[str, ColumnInfo] = {
    "priority": ColumnInfo(N_("Priority"), "index", "YlOrRd",
                           "composite of the four indices"),
    "infrastructure_gap": ColumnInfo(N_("Infrastructure gap"), "index", "OrRd"),
    "adoption_gap": ColumnInfo(N_("Adoption gap"), "index", "PuRd"),
    "need": ColumnInfo(N_("Need"), "index", "YlOrBr"),
    "resource_gap": ColumnInfo(N_("Access gap (distance to resources)"), "index", "PuBu"),
    "fiber_share": ColumnInfo(N_("Fiber presence (locations with fiber)"), "share", "Blues"),
    "unserved_share": ColumnInfo(N_("BEAD unserved locations"), "share", "OrRd"),
    "underserved_share": ColumnInfo(N_("BEAD underserved locations"), "share", "OrRd"),
    "served_share": ColumnInfo(N_("BEAD served locations"), "share", "Greens"),
    "no_internet_share": ColumnInfo(N_("Households without internet"), "share", "PuRd"),
    "no_broadband_share": ColumnInfo(N_("Households without broadband"), "share", "PuRd"),
    "no_computer_share": ColumnInfo(N_("Households without a computer"), "share", "PuRd"),
    "poverty_share": ColumnInfo(N_("People in poverty"), "share", "YlOrBr"),
    "income_lt25k_share": ColumnInfo(N_("Households under $25k"), "share", "YlOrBr"),
    "survey_no_internet_rate": ColumnInfo(N_("Survey: no home internet"), "share", "Purples"),
    "survey_limited_rate": ColumnInfo(N_("Survey: no or limited home internet"), "share",
                                      "Purples"),
    "survey_no_device_rate": ColumnInfo(N_("Survey: no device"), "share", "Purples"),
    "dist_library_m": ColumnInfo(N_("Distance to nearest library"), "m", "PuBu"),
    "dist_school_m": ColumnInfo(N_("Distance to nearest school"), "m", "PuBu"),
    "households": ColumnInfo(N_("Households"), "count", "Greys"),
    "children": ColumnInfo(N_("Children"), "count", "Greys"),
    "locations": ColumnInfo(N_("Broadband serviceable locations"), "count", "Greys"),
    "sites_within_reach": ColumnInfo(N_("Partner sites within reach"), "count", "BuGn"),
    "priority_rank": ColumnInfo(N_("Priority rank"), "rank", "YlOrRd_r"),
    "access_2sfca": ColumnInfo(N_("Access to partner capacity (2SFCA)"), "value", "BuGn"),
}


def column_info(column: str) -> ColumnInfo:
    """Return the label, unit and palette of a scored column.

    Unknown columns get a label from their name and a unit from their suffix
    (``_share``/``_rate`` -> %, ``_m`` -> km).

    Examples
    --------
    >>> column_info("fiber_share").title
    'Fiber presence (locations with fiber) (%)'
    >>> column_info("dist_wifi_m").unit
    'm'
    """
    if column in _INFO:
        return _INFO[column]
    label = column.replace("_", " ").strip().capitalize()
    if column.endswith(("_share", "_rate")):
        return ColumnInfo(label, "share", "PuRd")
    if column.startswith("dist_") and column.endswith("_m"):
        return ColumnInfo(label.removesuffix(" m"), "m", "PuBu")
    return ColumnInfo(label, "value", "YlOrRd")


def format_value(value: object, unit: str, *, language: str = "en") -> str:
    """Format one value for people: shares as %, metres as km, indices as whole numbers.

    Words ("no data", "yes", "no") are in ``language``; numbers keep the same form in the
    languages assetmap writes (``es_US`` groups and marks decimals as ``en_US`` does).

    Examples
    --------
    >>> format_value(0.4567, "share"), format_value(1530.0, "m"), format_value(71.26, "index")
    ('46%', '1.5 km', '71')
    >>> format_value(float("nan"), "share"), format_value(None, "share", language="es")
    ('no data', 'sin datos')
    """
    _ = messages(language)
    if value is None or value is pd.NA:
        return _("no data")
    if isinstance(value, bool | np.bool_):
        return _("yes") if value else _("no")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(number):
        return _("no data")
    if unit == "share":
        return f"{number * 100:.0f}%"
    if unit == "m":
        return f"{number / 1000:.1f} km"
    if unit in ("index", "rank"):
        return f"{number:.0f}"
    if unit == "count":
        return f"{number:,.0f}"
    return f"{number:.3g}"


def palette(cmap: str, n: int) -> list[str]:
    """Return ``n`` hex colours from a sequential matplotlib/ColorBrewer ramp, light to dark.

    The classes are spaced equally in contrast along the ramp, without its lightest tenth
    (:func:`assetmap.outputs._ramps.class_positions`): up to three classes differ 3:1 from their
    neighbours (WCAG 1.4.11); more than three cannot, and the print map adds a pattern and a
    number to each class (:func:`assetmap.outputs._contrast.needs_marks`).

    Examples
    --------
    >>> palette("Blues", 3)
    ['#e3eef8', '#3787c0', '#08306b']
    """
    if n <= 0:
        return []
    positions = class_positions(cmap, n)
    colors = ramp_colors(cmap, positions)  # the ColorBrewer ramps, without matplotlib
    if colors is not None:
        return colors
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    ramp = colormaps[cmap]
    return [to_hex(ramp(float(p))) for p in positions]


@dataclass(frozen=True)
class Classes:
    """A classification of one column: class of each row, edges, labels and colours."""

    column: str
    scheme: str
    edges: list[float]  # upper bound of each class
    lower: float  # lowest value classified
    idx: np.ndarray  # class index of each row, -1 for no data
    colors: list[str]
    labels: list[str]
    info: ColumnInfo
    counts: list[int] = field(default_factory=list)

    @property
    def k(self) -> int:
        """Return the number of classes."""
        return len(self.edges)

    def color_of(self) -> list[str]:
        """Return each row's colour (the no-data grey for rows without a value)."""
        table = np.array([*self.colors, NO_DATA_COLOR], dtype=object)
        return list(table[np.where(self.idx < 0, len(self.colors), self.idx)])


def quantile_edges(values: np.ndarray, k: int) -> np.ndarray:
    """Upper class bounds of ``k`` quantile classes, exactly as ``mapclassify.Quantiles``.

    mapclassify takes ``scipy.stats.scoreatpercentile`` at 100/k, 200/k, ... 100 percent
    (linear interpolation) and drops repeated bounds; ``numpy.percentile`` computes the same
    numbers without importing scipy.stats (about a second and a half of a map's first call).

    Examples
    --------
    >>> quantile_edges(np.array([1.0, 2, 3, 4, 5, 6, 7, 8]), 4).tolist()
    [2.75, 4.5, 6.25, 8.0]
    """
    step = 100.0 / k
    percents = np.minimum(np.arange(step, 100.0 + step, step), 100.0)
    return np.unique(np.percentile(values, percents))


def _edges(values: np.ndarray, scheme: str, k: int, bins: Sequence[float] | None) -> list[float]:
    unique = np.unique(values)
    if scheme == "user":
        if bins is None or len(bins) == 0:
            raise ConfigError("scheme='user' needs bins=[...] (upper bounds of the classes)")
        edges = sorted(float(b) for b in bins)
        if edges[-1] < values.max():
            edges.append(float(values.max()))
        return edges
    k = max(1, min(k, len(unique)))
    if k == len(unique):
        return [float(v) for v in unique]
    if scheme == "quantiles":
        return [float(b) for b in quantile_edges(values, k)]
    import mapclassify

    with warnings.catch_warnings():
        # mapclassify warns when ties leave fewer distinct classes than asked for; the
        # duplicate edges are dropped below and the legend shows the classes that exist
        warnings.simplefilter("ignore", UserWarning)
        result = mapclassify.FisherJenks(values, k=k)
    return [float(b) for b in np.unique(result.bins)]


def classify(
    values: Sequence[float] | pd.Series | np.ndarray,
    *,
    column: str = "priority",
    scheme: str = "quantiles",
    k: int = 5,
    bins: Sequence[float] | None = None,
) -> Classes:
    """Classify a column into ``k`` classes with mapclassify; return edges, labels and colours.

    Parameters
    ----------
    values : array-like
        The column's values (NaN means no data and gets class -1).
    column : str
        Column name, for its label, unit and palette (:func:`column_info`).
    scheme : {"quantiles", "natural_breaks", "user"}
        Quantiles, Fisher-Jenks natural breaks (deterministic), or the user's ``bins``.
    k : int
        Number of classes (fewer when the column has fewer distinct values).
    bins : sequence of float, optional
        Upper bounds of the classes for ``scheme="user"``.

    Returns
    -------
    Classes

    Examples
    --------
    >>> c = classify([0.0, 0.1, 0.5, 0.9, float("nan")], column="fiber_share", scheme="user",
    ...              bins=[0.25, 0.75, 1.0])
    >>> c.idx.tolist(), c.labels
    ([0, 0, 1, 2, -1], ['0% - 25%', '25% - 75%', '75% - 100%'])
    """
    if scheme not in SCHEMES:
        raise ConfigError(f"scheme must be one of {', '.join(SCHEMES)}; got {scheme!r}")
    info = column_info(column)
    array = pd.to_numeric(pd.Series(np.asarray(values, dtype=object)), errors="coerce")
    numbers = array.to_numpy(dtype=float)
    present = ~np.isnan(numbers)
    idx = np.full(len(numbers), -1, dtype=int)
    if not present.any():
        return Classes(column, scheme, [], math.nan, idx, [], [], info, [])
    data = numbers[present]
    edges = _edges(data, scheme, k, bins)
    idx[present] = np.minimum(np.searchsorted(edges, data, side="left"), len(edges) - 1)
    lower = float(data.min())
    lows = [lower, *edges[:-1]]
    unit = info.unit
    labels = [
        format_value(hi, unit)
        if format_value(lo, unit) == format_value(hi, unit)
        else f"{format_value(lo, unit)} - {format_value(hi, unit)}"
        for lo, hi in zip(lows, edges, strict=True)
    ]
    counts = np.bincount(idx[present], minlength=len(edges)).tolist()
    colors = palette(info.cmap, len(edges))
    return Classes(column, scheme, edges, lower, idx, colors, labels, info, counts)
