"""Patterns and numbers that tell the print map's classes apart without colour.

WCAG 1.4.1 (use of colour) and 1.4.11 (non-text contrast, 3:1): a class whose colour differs
less than 3:1 from its neighbour in the legend, or that a reader with a colour-vision deficiency
could confuse with it (:func:`assetmap.outputs._contrast.needs_marks`), needs a second cue. The
print map then hatches each class with its own pattern, in black or white, whichever stands out
more from the fill (at least 4.6:1), and the legend shows the same pattern and numbers the
classes. Classes that colour alone keeps apart (three or fewer on the project's ramps) are drawn
as before.

The patterns are one definition, :data:`CLASS_HATCHES` (matplotlib hatch strings): the print
map draws them with matplotlib, and the HTML map draws the same strokes as SVG ``<pattern>``
fills (:func:`svg_pattern`), so class 3 is hatched ``///`` on paper and on screen. matplotlib
is imported only when a print map is drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np

from assetmap.outputs._classes import NO_DATA_COLOR, Classes
from assetmap.outputs._contrast import contrast_ratio, needs_marks

__all__ = ["CLASS_HATCHES", "HATCH_WIDTH", "PATTERN_SIZE", "class_hatch", "hatch_color",
           "mark_classes", "marked", "numbered", "svg_pattern", "svg_pattern_id",
           "svg_patterns"]

#: One matplotlib hatch per class, in legend order: none, then sparse to dense, all different.
CLASS_HATCHES = ("", "...", "///", "xxx", "ooo", "\\\\\\", "+++", "---", "|||")
#: Line width of the hatch strokes, in points.
HATCH_WIDTH = 0.6


def class_hatch(number: int) -> str:
    """Return the hatch of class ``number`` (0-based); patterns repeat after nine classes.

    Examples
    --------
    >>> class_hatch(0), class_hatch(2), class_hatch(9)
    ('', '///', '')
    """
    return CLASS_HATCHES[number % len(CLASS_HATCHES)]


def hatch_color(fill: str) -> str:
    """Return black or white, whichever contrasts more with a class's fill colour.

    Examples
    --------
    >>> hatch_color("#fff0a8"), hatch_color("#800026")
    ('#000000', '#ffffff')
    """
    black, white = contrast_ratio(fill, "#000000"), contrast_ratio(fill, "#ffffff")
    return "#000000" if black >= white else "#ffffff"


def numbered(number: int, label: str) -> str:
    """Return a legend label with its class number, as the marked print map shows it.

    Examples
    --------
    >>> numbered(0, "0 - 20")
    '(1) 0 - 20'
    """
    return f"({number + 1}) {label}"


def marked(classes: Classes) -> bool:
    """Return whether the print map hatches and numbers these classes.

    The legend's neighbours are the classes in order, then the no-data swatch when some area
    has no value; marks are added when any neighbouring pair fails the check.

    Examples
    --------
    >>> from assetmap.outputs._classes import classify
    >>> marked(classify(range(10), column="priority", k=5))
    True
    >>> marked(classify(range(10), column="priority", k=3))
    False
    """
    if classes.k == 0:
        return False
    legend = [*classes.colors, *([NO_DATA_COLOR] if (classes.idx < 0).any() else [])]
    return needs_marks(legend)


#: Side of one SVG pattern tile, in CSS pixels (about the print map's hatch spacing on screen).
PATTERN_SIZE = 8
_S = PATTERN_SIZE
#: The SVG strokes of each hatch character (the same marks matplotlib draws for it).
_SVG_STROKES = {
    "/": f"M0,{_S} L{_S},0 M-2,2 L2,-2 M{_S - 2},{_S + 2} L{_S + 2},{_S - 2}",
    "\\": f"M0,0 L{_S},{_S} M-2,{_S - 2} L2,{_S + 2} M{_S - 2},-2 L{_S + 2},2",
    "-": f"M0,{_S / 2} L{_S},{_S / 2}",
    "|": f"M{_S / 2},0 L{_S / 2},{_S}",
}
_SVG_STROKES["x"] = _SVG_STROKES["/"] + " " + _SVG_STROKES["\\"]
_SVG_STROKES["+"] = _SVG_STROKES["-"] + " " + _SVG_STROKES["|"]


def svg_pattern_id(number: int, fill: str) -> str | None:
    """Return the SVG id of class ``number``'s pattern on ``fill`` (None: the class is plain).

    Examples
    --------
    >>> svg_pattern_id(2, "#FEB24C"), svg_pattern_id(0, "#ffffb2")
    ('am-hatch-2-feb24c', None)
    """
    if not class_hatch(number):
        return None
    return f"am-hatch-{number % len(CLASS_HATCHES)}-{fill.lstrip('#').lower()}"


def svg_pattern(number: int, fill: str) -> str:
    """Return the SVG ``<pattern>`` of class ``number``: the fill, hatched as on the print map.

    Examples
    --------
    >>> svg_pattern(2, "#feb24c")[:60]
    '<pattern id="am-hatch-2-feb24c" patternUnits="userSpaceOnUse'
    >>> svg_pattern(0, "#ffffb2")
    ''
    """
    pattern_id = svg_pattern_id(number, fill)
    if pattern_id is None:
        return ""
    hatch, ink = class_hatch(number), hatch_color(fill)
    marks = []
    if "." in hatch:
        marks.append(f'<circle cx="2" cy="2" r="1.1" fill="{ink}"/>'
                     f'<circle cx="6" cy="6" r="1.1" fill="{ink}"/>')
    if "o" in hatch:
        marks.append(f'<circle cx="4" cy="4" r="2.3" fill="none" stroke="{ink}" '
                     'stroke-width="0.9"/>')
    strokes = " ".join(_SVG_STROKES[c] for c in dict.fromkeys(hatch) if c in _SVG_STROKES)
    if strokes:
        marks.append(f'<path d="{strokes}" stroke="{ink}" stroke-width="1" fill="none"/>')
    return (f'<pattern id="{pattern_id}" patternUnits="userSpaceOnUse" width="{_S}" '
            f'height="{_S}"><rect width="{_S}" height="{_S}" fill="{fill}"/>'
            + "".join(marks) + "</pattern>")


def svg_patterns(colors: Sequence[str]) -> tuple[list[str | None], str]:
    """Return each class's pattern id (None: plain fill) and the ``<pattern>`` elements.

    Examples
    --------
    >>> ids, defs = svg_patterns(["#ffffb2", "#fecc5c"])
    >>> ids, defs.count("<pattern ")
    ([None, 'am-hatch-1-fecc5c'], 1)
    """
    ids = [svg_pattern_id(n, c) for n, c in enumerate(colors)]
    return ids, "".join(svg_pattern(n, c) for n, c in enumerate(colors))


def _patches(geoms: gpd.GeoSeries) -> list[Any]:
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MplPath

    patches = []
    for geom in geoms.normalize().values:
        if geom is None or geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
            continue
        paths = []
        for part in getattr(geom, "geoms", [geom]):
            paths.append(MplPath(np.asarray(part.exterior.coords)[:, :2], closed=True))
            paths.extend(MplPath(np.asarray(r.coords)[:, :2], closed=True) for r in part.interiors)
        patches.append(PathPatch(MplPath.make_compound_path(*paths)))
    return patches


def mark_classes(ax, frame: gpd.GeoDataFrame, classes: Classes, legend=None) -> bool:
    """Hatch each class on a drawn print map and in its legend when colour alone is not enough.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The map axes, where ``frame`` was drawn coloured by ``classes``.
    frame : GeoDataFrame
        The areas as drawn (same CRS and row order as ``classes.idx``).
    classes : Classes
        The classification that coloured them.
    legend : matplotlib.legend.Legend, optional
        The legend whose first ``classes.k`` entries are the classes: their swatches get the
        same hatches and their labels the class numbers.

    Returns
    -------
    bool
        Whether marks were added (False when the colours pass on their own).

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> from shapely.geometry import box
    >>> from assetmap.outputs._classes import classify
    >>> frame = gpd.GeoDataFrame(geometry=[box(i, 0, i + 1, 1) for i in range(5)])
    >>> classes = classify(range(5), column="priority", k=5)
    >>> ax = Figure().add_subplot()
    >>> mark_classes(ax, frame, classes), len(ax.collections)
    (True, 4)
    """
    if not marked(classes):
        return False
    import matplotlib
    from matplotlib.collections import PatchCollection

    geoms = frame.geometry.reset_index(drop=True)
    for number, fill in enumerate(classes.colors):
        hatch = class_hatch(number)
        patches = _patches(geoms[classes.idx == number]) if hatch else []
        if not patches:
            continue
        with matplotlib.rc_context({"hatch.color": hatch_color(fill)}):  # matplotlib < 3.10
            layer = PatchCollection(patches, facecolor="none", edgecolor="none", linewidth=0,
                                    hatch=hatch, zorder=1.5)
        if hasattr(layer, "set_hatch_linewidth"):  # matplotlib >= 3.10
            layer.set_hatch_linewidth(HATCH_WIDTH)
        ax.add_collection(layer, autolim=False)
    for text in ax.texts:  # labels over the patterns get a white backing to stay legible
        if not text.get_path_effects() and text.get_bbox_patch() is None:
            text.set_bbox({"facecolor": "white", "edgecolor": "none", "alpha": 0.85,
                           "boxstyle": "square,pad=0.15"})
    if legend is not None:
        for number, (swatch, text) in enumerate(
            zip(legend.legend_handles[:classes.k], legend.texts[:classes.k], strict=True)
        ):
            swatch.set_hatch(class_hatch(number))
            if hasattr(swatch, "set_hatchcolor"):
                swatch.set_hatchcolor(hatch_color(classes.colors[number]))
            else:  # matplotlib < 3.10 hatches a patch in its edge colour
                swatch.set_edgecolor(hatch_color(classes.colors[number]))
            if hasattr(swatch, "set_hatch_linewidth"):
                swatch.set_hatch_linewidth(HATCH_WIDTH)
            text.set_text(numbered(number, text.get_text()))
    return True
