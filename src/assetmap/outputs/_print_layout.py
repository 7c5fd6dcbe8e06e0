"""Lay out the print map's page from measured sizes: nothing overlaps, nothing leaves the page.

Every block is measured with the figure's renderer before it is placed, never guessed:

- the title is wrapped to the page width, in a smaller size (within limits) when it would
  take more than two lines;
- the credits (sources, rule set, the user's line) are wrapped to the page width and get their
  own band at the foot of the page. The map gives up height first (down to ``MIN_BODY`` of the
  page), then the font shrinks to 5 pt; when they still do not fit, they continue in a second,
  smaller text under the first: the credits never run over the map;
- the body between the two bands is a :class:`~matplotlib.gridspec.GridSpec`: the map, with a
  strip under the tracts that holds the scale bar and the north arrow, and a side column with
  the legend (its title wrapped to fit), the classes note and the inset locator;
- the top-tract labels are moved, inside the map, off the page edges and off each other.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.legend import Legend
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from matplotlib.transforms import Bbox

__all__ = ["MIN_BODY", "PrintParts", "arrange_body", "fit_labels", "frame_map", "place_bands",
           "wrap_lines"]

Rect = tuple[float, float, float, float]  # left, bottom, width, height (figure fractions)
#: Page margin and the gap between blocks, in inches.
MARGIN_IN, GAP_IN = 0.35, 0.15
#: Height of the strip under the tracts that holds the scale bar and the north arrow, in inches.
STRIP_IN = 0.55
#: The body (map and side column) keeps at least this share of the page height.
MIN_BODY = 0.45
#: The title's sizes, largest first, and the most lines it takes in them; it goes smaller
#: (down to ``TITLE_FLOOR``) only when it would take more than ``TITLE_MAX_SHARE`` of the page.
TITLE_SIZES, TITLE_MAX_LINES, TITLE_FLOOR, TITLE_MAX_SHARE = (16.0, 14.0, 12.0), 2, 7.0, 0.18
#: The credits' sizes; below the last one only when they would not fit otherwise.
CREDIT_SIZES, CREDIT_FLOOR = (6.5, 6.0, 5.5, 5.0), 1.0
#: The side column's width as a share of the page width.
SIDE_MIN, SIDE_MAX = 0.22, 0.34
#: The smallest inset worth drawing, in inches.
INSET_MIN_IN = 0.9
#: Text is wrapped to this share of its box, for vector backends' slightly wider metrics.
_SLACK = 0.97


@dataclass
class PrintParts:
    """The drawn blocks of a print map, for the checks that they neither overlap nor leave it."""

    title: Any
    credits: Any
    map_ax: Any
    credits_more: Any = None
    legend: Any = None
    note: Any = None
    north_arrow: Any = None
    inset_ax: Any = None
    scale_bar: list[Any] = field(default_factory=list)
    labels: list[Any] = field(default_factory=list)


def _renderer(fig: Figure) -> Any:
    """Return the Agg canvas's renderer, which measures text as the PNG draws it."""
    return fig.canvas.get_renderer()  # type: ignore[attr-defined]


def _width(renderer: Any, prop: FontProperties, text: str) -> float:
    """Width in pixels of one line as matplotlib draws it (an escaped dollar as ``$``)."""
    return renderer.get_text_width_height_descent(text.replace("\\$", "$"), prop, ismath=False)[0]


def _cut(measure: Callable[[str], float], word: str, width: float) -> int:
    """Return how many leading characters of ``word`` fit in ``width`` (at least one)."""
    lo, hi = 1, len(word)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if measure(word[:mid]) <= width else (lo, mid - 1)
    return lo - 1 if lo > 1 and word[lo - 1] == "\\" else lo  # never split an escaped "$"


def _greedy(words: Sequence[str], width: float, measure: Callable[[str], float]) -> list[str]:
    """Fill lines word by word, measuring each candidate line."""
    lines: list[str] = []
    line = ""
    for word in words:
        trial = f"{line} {word}" if line else word
        if measure(trial) <= width:
            line = trial
            continue
        if line:
            lines.append(line)
        while len(word) > 1 and measure(word) > width:
            cut = _cut(measure, word, width)
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    return [*lines, line] if line else lines


def wrap_lines(text: str, width: float, *, prop: FontProperties, renderer: Any) -> list[str]:
    """Wrap ``text`` (split into lines at newlines) so each line is at most ``width`` pixels wide.

    Words are kept whole (hyphens too) unless a word alone is wider than the line. Each word is
    measured once; a line whose measured width still overflows is refilled measuring it whole.

    Examples
    --------
    >>> from matplotlib.backends.backend_agg import FigureCanvasAgg
    >>> from matplotlib.figure import Figure
    >>> from matplotlib.font_manager import FontProperties
    >>> renderer = FigureCanvasAgg(Figure(dpi=72)).get_renderer()
    >>> lines = wrap_lines("a map of the tracts " * 8, 200, prop=FontProperties(size=10),
    ...                    renderer=renderer)
    >>> len(lines) > 1, " ".join(lines) == ("a map of the tracts " * 8).strip()
    (True, True)
    """
    cache: dict[str, float] = {}

    def measure(line: str) -> float:
        if line not in cache:
            cache[line] = _width(renderer, prop, line)
        return cache[line]

    space = measure("a a") - measure("aa")
    lines: list[str] = []
    for paragraph in text.split("\n"):
        words = paragraph.split()
        if not words:
            continue
        line, used = [words[0]], measure(words[0])
        filled: list[list[str]] = []
        for word in words[1:]:
            if used + space + measure(word) <= width:
                line.append(word)
                used += space + measure(word)
            else:
                filled.append(line)
                line, used = [word], measure(word)
        filled.append(line)
        for chunk in filled:
            joined = " ".join(chunk)
            lines += [joined] if measure(joined) <= width else _greedy(chunk, width, measure)
    return lines


def _fit(text: Text, source: str, *, width: float, max_height: float, sizes: Sequence[float],
         floor: float, renderer: Any, max_lines: int | None = None) -> float:
    """Wrap ``source`` into the Text ``text`` in the largest size that fits; return its height.

    ``sizes`` are tried first (the lines at most ``max_lines`` in all but the last), then
    smaller sizes down to ``floor`` (in half points, scaled by the area still missing); the
    last try is kept even if it is still too tall.
    """

    def fill(size: float) -> tuple[int, float]:
        text.set_fontsize(size)
        lines = wrap_lines(source, width * _SLACK, prop=text.get_fontproperties(),
                           renderer=renderer)
        text.set_text("\n".join(lines))
        return len(lines), text.get_window_extent(renderer).height if lines else 0.0

    tries = [*sizes]
    while tries[-1] - 0.5 >= floor:
        tries.append(tries[-1] - 0.5)
    i = 0
    while True:
        count, height = fill(tries[i])
        short = max_lines is None or i >= len(sizes) - 1 or count <= max_lines
        if (short and height <= max_height) or i == len(tries) - 1:
            return height
        following = i + 1
        if height > max_height:  # its area goes with the size squared: skip sizes surely too big
            guess = 1.02 * tries[i] * math.sqrt(max_height / height)
            following = next((j for j in range(following, len(tries)) if tries[j] <= guess),
                             len(tries) - 1)
        i = following


def _balance(text: Text, source: str, width: float, renderer: Any) -> None:
    """Rewrap a multi-line Text to the narrowest width that keeps its line count (no orphan)."""
    prop = text.get_fontproperties()
    count = text.get_text().count("\n") + 1
    if count < 2:
        return
    lo, hi = width / count, width * _SLACK
    for _ in range(10):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if len(wrap_lines(source, mid, prop=prop, renderer=renderer)) <= count \
            else (mid, hi)
    text.set_text("\n".join(wrap_lines(source, hi, prop=prop, renderer=renderer)))


def _split_words(text: str, count: int) -> tuple[str, str]:
    """Split ``text`` after its first ``count`` words, keeping its line breaks."""
    paragraphs = text.split("\n")
    seen = 0
    for i, paragraph in enumerate(paragraphs):
        words = paragraph.split()
        if seen + len(words) > count:
            cut = count - seen
            head = [*paragraphs[:i], " ".join(words[:cut])]
            tail = [" ".join(words[cut:]), *paragraphs[i + 1:]]
            return "\n".join(p for p in head if p), "\n".join(p for p in tail if p)
        seen += len(words)
    return text, ""


def place_bands(fig: Figure, title: Text, title_text: str, notes: Text,
                notes_text: str) -> tuple[float, float, Text | None]:
    """Wrap and place the title (top band) and credits (bottom band); return the body's span.

    The span is the body's bottom and top, in figure fractions. When the credits do not fit
    their band even in the smallest of ``CREDIT_SIZES``, the first half of the band keeps that
    size and the rest continues in a second, smaller text under it, which is returned third
    (else ``None``).

    Examples
    --------
    >>> from matplotlib.backends.backend_agg import FigureCanvasAgg
    >>> from matplotlib.figure import Figure
    >>> fig = Figure(figsize=(11, 8.5), dpi=50)
    >>> _ = FigureCanvasAgg(fig)
    >>> title, credits = fig.text(0, 0, ""), fig.text(0, 0, "")
    >>> bottom, top, more = place_bands(fig, title, "Ector County", credits, "Sources: ACS.")
    >>> bool(0 < bottom < top < 1), title.get_fontsize(), more
    (True, 16.0, None)
    """
    renderer = _renderer(fig)
    dpi, (width, height) = fig.dpi, fig.get_size_inches()
    inner = (width - 2 * MARGIN_IN) * dpi
    title.set(x=MARGIN_IN / width, y=1 - MARGIN_IN / height, ha="left", va="top")
    title_h = _fit(title, title_text, width=inner, max_height=TITLE_MAX_SHARE * height * dpi,
                   sizes=TITLE_SIZES, floor=TITLE_FLOOR, renderer=renderer,
                   max_lines=TITLE_MAX_LINES) / dpi
    _balance(title, title_text, inner, renderer)
    room = max(height * (1 - MIN_BODY) - 2 * MARGIN_IN - title_h - 2 * GAP_IN, 0.2) * dpi
    notes.set(x=MARGIN_IN / width, y=MARGIN_IN / height, ha="left", va="bottom")
    credits_h = _fit(notes, notes_text, width=inner, max_height=room, sizes=CREDIT_SIZES,
                     floor=CREDIT_SIZES[-1], renderer=renderer)
    more = None
    if credits_h > room:  # continue the second half in a smaller font, under the first
        lines = notes.get_text().split("\n")
        keep = max(1, int(len(lines) * room / 2 / credits_h))
        _, tail = _split_words(notes_text, len(" ".join(lines[:keep]).split()))
        notes.set_text("\n".join(lines[:keep]))
        credits_h = notes.get_window_extent(renderer).height
        more = fig.text(MARGIN_IN / width, MARGIN_IN / height, "", color=notes.get_color(),
                        ha="left", va="bottom")
        gap = 0.3 * float(notes.get_fontsize()) * dpi / 72
        more_h = _fit(more, tail, width=inner, max_height=room - credits_h - gap,
                      sizes=(CREDIT_SIZES[-1] - 0.5,), floor=CREDIT_FLOOR, renderer=renderer)
        notes.set(y=(MARGIN_IN + (more_h + gap) / dpi) / height)
        credits_h += more_h + gap
    bottom = MARGIN_IN + (credits_h / dpi + GAP_IN if credits_h else 0.0)
    top = height - MARGIN_IN - (title_h + GAP_IN if title_h else 0.0)
    return float(bottom / height), float(top / height), more


def _legend_width(legend: Legend, renderer: Any) -> float:
    return legend.get_window_extent(renderer).width


def _side_width(fig: Figure, legend: Legend, legend_title: str, renderer: Any) -> float:
    """Return the side column's width (inches), rewrapping the legend title until it fits."""
    dpi, page = fig.dpi, fig.get_size_inches()[0]
    widest = SIDE_MAX * page * dpi
    title = legend.get_title()
    prop = title.get_fontproperties()
    wrap = widest
    while True:
        title.set_text("\n".join(wrap_lines(legend_title, wrap, prop=prop, renderer=renderer)))
        natural = _legend_width(legend, renderer)
        if natural <= widest or wrap < 0.25 * widest:
            break
        wrap *= 0.9
    return min(max(natural / dpi, SIDE_MIN * page), SIDE_MAX * page)


def frame_map(ax: Axes, bounds: np.ndarray, cell: Bbox, *, dpi: float) -> float:
    """Set the map's limits so the tracts and a strip under them fill the map cell.

    Everything already drawn on ``ax`` is clipped to the tracts' frame, so nothing runs into
    the strip. Returns the strip's height in data units.
    """
    minx, miny, maxx, maxy = bounds
    pad = 0.01 * max(maxx - minx, maxy - miny)
    dx, dy = maxx - minx + 2 * pad, maxy - miny + 2 * pad
    scale = min(cell.width / dpi / dx, (cell.height / dpi - STRIP_IN) / dy)  # inches per unit
    strip = STRIP_IN / scale
    ax.set_xlim(minx - pad, maxx + pad)
    ax.set_ylim(miny - pad - strip, maxy + pad)
    frame = Rectangle((minx - pad, miny - pad), dx, dy, transform=ax.transData)
    for artist in [*ax.collections, *ax.patches]:
        artist.set_clip_path(frame)
    return strip


def arrange_body(fig: Figure, map_ax: Axes, legend: Legend, legend_title: str, note: Text,
                 note_text: str, bounds: np.ndarray, body: tuple[float, float], *,
                 want_inset: bool) -> tuple[float, Rect, Rect | None]:
    """Place the map and the side column (legend, note, inset) in the body.

    Returns the strip's height in data units, the north arrow's rectangle and the inset's
    rectangle (figure fractions; ``None`` when there is no inset or no room for one).
    """
    renderer = _renderer(fig)
    dpi, (width, height) = fig.dpi, fig.get_size_inches()
    side = _side_width(fig, legend, legend_title, renderer)
    inner = width - 2 * MARGIN_IN
    grid = fig.add_gridspec(1, 2, left=MARGIN_IN / width, right=1 - MARGIN_IN / width,
                            bottom=body[0], top=body[1], width_ratios=[inner - side - GAP_IN, side],
                            wspace=GAP_IN / (inner - GAP_IN) * 2)
    cell = grid[0, 0].get_position(fig)
    map_ax.set_anchor("NW")
    map_ax.set_position(cell)
    strip = frame_map(map_ax, bounds, cell.transformed(fig.transFigure), dpi=dpi)
    map_ax.apply_aspect()
    box = map_ax.get_position()
    left = box.x1 + GAP_IN / width  # the column starts beside the map as drawn
    right = 1 - MARGIN_IN / width
    legend.set_bbox_to_anchor((left, body[1]), transform=fig.transFigure)
    legend_box = legend.get_window_extent(renderer).transformed(fig.transFigure.inverted())
    note.set(x=left, y=legend_box.y0 - GAP_IN / height, ha="left", va="top")
    note.set_text("\n".join(wrap_lines(note_text, (right - left) * width * dpi * _SLACK,
                                       prop=note.get_fontproperties(), renderer=renderer)))
    note_box = note.get_window_extent(renderer).transformed(fig.transFigure.inverted())
    arrow = (box.x1 - 0.45 / width, box.y0 + 0.02 / height, 0.35 / width,
             (STRIP_IN - 0.08) / height)
    inset = None
    title_in = 0.25  # the inset's own title above it
    room_in = (note_box.y0 - body[0]) * height - GAP_IN - title_in
    side_in = min(room_in, (right - left) * width)
    if want_inset and side_in >= INSET_MIN_IN:
        top = note_box.y0 - (GAP_IN + title_in) / height
        inset = (left, top - side_in / height, side_in / width, side_in / height)
    return strip, arrow, inset


def _overlaps(box: Bbox, others: Sequence[Bbox]) -> bool:
    return any(box.overlaps(other) for other in others)


def fit_labels(fig: Figure, map_ax: Axes, labels: Sequence[Any], frame: Bbox) -> None:
    """Move the top-tract labels inside ``frame`` (display pixels) and off each other.

    A label stays centred on its tract when it can; otherwise it is shifted sideways into the
    frame, then up or down a line at a time until it meets no label placed before it.
    """
    renderer = _renderer(fig)
    per_point = fig.dpi / 72
    placed: list[Bbox] = []
    for label in labels:
        box = label.get_window_extent(renderer).padded(2 * per_point)
        dx = max(frame.x0 - box.x0, 0) + min(frame.x1 - box.x1, 0)
        dy = max(frame.y0 - box.y0, 0) + min(frame.y1 - box.y1, 0)
        step = box.height
        chosen = None
        for k in (0, -1, 1, -2, 2, -3, 3, -4, 4):
            moved = box.translated(dx, dy + k * step)
            inside = frame.y0 <= moved.y0 and moved.y1 <= frame.y1
            if inside and not _overlaps(moved, placed):
                chosen = (dx, dy + k * step)
                break
        chosen = chosen or (dx, dy)
        label.xyann = (chosen[0] / per_point, chosen[1] / per_point)
        placed.append(box.translated(*chosen))
