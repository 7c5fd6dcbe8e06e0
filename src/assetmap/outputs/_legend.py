"""Legend, icons, title and attribution HTML for the equity map (every piece of text escaped).

Classes that colour alone cannot keep apart (:func:`assetmap.outputs._class_marks.marked`) get
the print map's second cue here too: a hatch pattern per class and a class number, in the
legend (``(1) 0 - 20``), on the areas and in their tooltips, popups and table rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

import numpy as np

from assetmap._i18n import N_, messages
from assetmap.outputs._class_marks import numbered, svg_patterns
from assetmap.outputs._classes import NO_DATA_COLOR, Classes, ColumnInfo
from assetmap.outputs._contrast import needs_marks

__all__ = [
    "INTERVENTION_LABELS",
    "SITE_TYPES",
    "LegendSection",
    "attribution_html",
    "class_marks",
    "column_title",
    "icon_svg",
    "legend_html",
    "numbered_values",
    "title_html",
]

#: Recommended interventions (``recommend_interventions`` codes) as the map and report name them.
INTERVENTION_LABELS = {
    "fiber_extension": N_("Fiber extension partnership"),
    "wireless_or_satellite": N_("Fixed wireless or satellite pilot"),
    "affordability_adoption": N_("Affordability and adoption: enrollment, devices, navigators"),
    "new_site": N_("New learning center or Wi-Fi site"),
    "infrastructure": N_("Infrastructure first (DDI)"),
    "adoption": N_("Adoption first (DDI)"),
    "monitor": N_("Monitor (no action flagged)"),
}

# site_type -> (colour, glyph, label); colours from ColorBrewer Dark2/Set1, told apart by the
# glyph too (the shape carries the meaning, not only the hue). A letter glyph is the initial of
# the name and a catalogue message (Spanish: B for Biblioteca); the legend pairs the two.
SITE_TYPES: dict[str, tuple[str, str, str]] = {
    "library": ("#1b9e77", N_("L"), N_("Library")),
    "school": ("#7570b3", N_("S"), N_("School (partner site)")),
    "place_of_worship": ("#a6761d", N_("W"), N_("Place of worship")),
    "community_center": ("#d95f02", N_("C"), N_("Community center")),
    "health_center": ("#e7298a", N_("H"), N_("Health center")),
    "business": ("#666666", N_("B"), N_("Business")),
    "public_housing": ("#66a61e", N_("P"), N_("Public housing")),
    "hotspot": ("#e6ab02", N_("h"), N_("Hotspot")),
    "wifi_bus_stop": ("#377eb8", N_("b"), N_("Wi-Fi bus stop")),
    "other": ("#999999", "?", N_("Other")),
    # not partner site types: the district's campuses and the plan's proposed sites
    "campus": ("#253494", "\u2302", N_("School campus")),
    "plan": ("#b30000", "\u2605", N_("Proposed site (plan)")),
}


def icon_svg(site_type: str, *, text: str | None = None, language: str = "en") -> str:
    """Return a 22-px SVG icon: a coloured disc (a square for campuses) with a glyph.

    A letter glyph is said in ``language`` (the initial of the type's name there).

    Examples
    --------
    >>> icon_svg("library").startswith("<svg")
    True
    >>> ">B</text>" in icon_svg("library", language="es")
    True
    """
    color, glyph, _name = SITE_TYPES.get(site_type, SITE_TYPES["other"])
    if text is None and glyph.isalpha():
        glyph = messages(language)(glyph)
    glyph = escape(text if text is not None else glyph)
    shape = (
        f'<rect x="2" y="2" width="18" height="18" rx="3" fill="{color}" stroke="#fff" '
        'stroke-width="2"/>'
        if site_type == "campus"
        else f'<circle cx="11" cy="11" r="9" fill="{color}" stroke="#fff" stroke-width="2"/>'
    )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="22" height="22" viewBox="0 0 22 22">'
        f'{shape}<text x="11" y="15" text-anchor="middle" font-size="11" '
        f'font-family="sans-serif" font-weight="700" fill="#fff">{glyph}</text></svg>'
    )


@dataclass(frozen=True)
class LegendSection:
    """One legend block: a layer's classes (or a key of icons), shown while the layer is."""

    layer: str  # the Leaflet variable name of the layer it belongs to ("" = always shown)
    title: str
    classes: Classes | None = None
    show: bool = True
    notes: Sequence[str] = ()
    keys: Sequence[tuple[str, str]] = ()  # (swatch html, label) for icon keys
    extra_swatches: Sequence[tuple[str, str]] = ()  # (colour, label), e.g. suppressed
    # a pattern id per class (None: plain) when the classes are hatched and numbered; the
    # classes are ``classes``, else the first ``len(patterns)`` extra swatches
    patterns: Sequence[str | None] | None = None
    numbers: Sequence[int] = ()  # the class number of each extra swatch, when not its position


def _swatch(color: str, pattern: str | None = None) -> str:
    if not pattern:
        return f'<i style="background:{escape(color)}"></i>'
    return (f'<i style="background:{escape(color)}"><svg width="16" height="11" '
            'aria-hidden="true" focusable="false"><rect width="16" height="11" '
            f'fill="url(#{escape(pattern)})"/></svg></i>')


def class_marks(colors: Sequence[str], *, extra: Sequence[str] = ()
                ) -> tuple[list[str | None], str] | None:
    """Return (pattern id per class, SVG ``<pattern>`` elements) when colour is not enough.

    The legend's neighbours are ``colors`` then ``extra`` (e.g. the no-data grey); None when
    every neighbouring pair passes :func:`assetmap.outputs._contrast.needs_marks`.

    Examples
    --------
    >>> class_marks(["#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15"])[0][:2]
    [None, 'am-hatch-1-fcae91']
    >>> class_marks(["#ffffff", "#000000"]) is None
    True
    """
    if not colors or not needs_marks([*colors, *extra]):
        return None
    return svg_patterns(colors)


def numbered_values(values: Any, idx: Any, *, language: str = "en") -> np.ndarray:
    """Return each value followed by its class number (``"71 (class 5)"``); others as given.

    Examples
    --------
    >>> numbered_values(["71", None, "12"], [4, 4, -1]).tolist()
    ['71 (class 5)', None, '12']
    """
    _ = messages(language)
    out = np.array(list(values), dtype=object)
    for i, (value, number) in enumerate(zip(out, np.asarray(idx), strict=True)):
        if number >= 0 and isinstance(value, str) and value:
            out[i] = _("{value} (class {number})", value=value, number=_.number(number + 1))
    return out


def column_title(info: ColumnInfo, *, language: str = "en") -> str:
    """Return a column's label with its unit, in ``language`` (``"Need (index 0-100, ...)"``).

    Examples
    --------
    >>> from assetmap.outputs._classes import column_info
    >>> column_title(column_info("fiber_share"), language="es")
    'Presencia de fibra óptica (ubicaciones con fibra óptica) (%)'
    """
    _ = messages(language)
    unit = info.unit_text
    if not unit:
        return _(info.label)
    return _("{label} ({unit})", label=_(info.label), unit=_(unit))


def legend_html(sections: Iterable[LegendSection], *, language: str = "en") -> str:
    """Return the legend's HTML: one block per section, hidden while its layer is off.

    Examples
    --------
    >>> from assetmap.outputs._classes import classify
    >>> c = classify([10, 50, 90], column="priority", scheme="user", bins=[50, 100])
    >>> html = legend_html([LegendSection("layer_1", "Priority", c)])
    >>> "Priority" in html and "10 - 50" in html
    True
    """
    _ = messages(language)
    no_data = escape(_("no data"))
    parts: list[str] = []
    for section in sections:
        style = "" if section.show else ' style="display:none"'
        attr = f' data-am-layer="{escape(section.layer)}"' if section.layer else ""
        rows = [f"<h4>{escape(section.title)}</h4>"]
        patterns = list(section.patterns) if section.patterns is not None else None
        if section.classes is not None:
            classes = section.classes
            for number, (color, label, count) in enumerate(zip(
                classes.colors, classes.labels, classes.counts, strict=True
            )):
                tracts = _.plural("({count} tract)", "({count} tracts)", count)
                pattern = patterns[number] if patterns else None
                label = numbered(number, label) if patterns else label
                rows.append(
                    f'<div class="am-row">{_swatch(color, pattern)}{escape(label)} '
                    f'<span class="am-note">{escape(tracts)}</span></div>'
                )
            patterns = None
            missing = int((classes.idx < 0).sum())
            if missing:
                rows.append(
                    f'<div class="am-row">{_swatch(NO_DATA_COLOR)}{no_data} '
                    f'<span class="am-note">({missing})</span></div>'
                )
        for number, (color, label) in enumerate(section.extra_swatches):
            number = section.numbers[number] if section.numbers else number
            if patterns and number < len(patterns):
                swatch, label = _swatch(color, patterns[number]), numbered(number, label)
            else:
                swatch = _swatch(color)
            rows.append(f'<div class="am-row">{swatch}{escape(label)}</div>')
        for svg, label in section.keys:
            rows.append(
                f'<div class="am-row"><span style="display:inline-block;vertical-align:middle;'
                f'margin-right:6px">{svg}</span>{escape(label)}</div>'
            )
        for note in section.notes:
            rows.append(f'<div class="am-note">{escape(note)}</div>')
        parts.append(f'<div class="am-legend-section"{attr}{style}>{"".join(rows)}</div>')
    return "".join(parts)


def title_html(title: str, subtitle: str | None = None) -> str:
    """Return the escaped title block HTML.

    Examples
    --------
    >>> title_html("<b>x</b>")
    '&lt;b&gt;x&lt;/b&gt;'
    """
    html = escape(title)
    if subtitle:
        html += f"<small>{escape(subtitle)}</small>"
    return html


#: Above this many sources the attribution folds its list (``<details>``).
FOLD_SOURCES_OVER = 3


def attribution_html(
    sources: Sequence[Mapping[str, Any]], *, illustrative: Sequence[str] = (),
    language: str = "en",
) -> str:
    """Return the attribution text: every source with its vintage, and the illustrative layers.

    Links are kept only for ``http(s)`` URLs, and every part is escaped. With more than
    three sources the list folds into a ``<details>`` element ("Data: N sources") so it does
    not cover the map; the illustrative notice always stays visible.

    Examples
    --------
    >>> attribution_html([{"name": "ACS", "vintage": "2019-2023"}], illustrative=["sites"])
    'Data: ACS (2019-2023) | <b>Illustrative (synthetic) data: sites</b>'
    """
    _ = messages(language)
    items: list[str] = []
    for source in sources:
        name = escape(_.recorded(source.get("name") or _("unnamed source")))
        vintage = source.get("vintage")
        text = f"{name} ({escape(_.recorded(vintage))})" if vintage else name
        url = str(source.get("url") or "")
        if url.startswith(("https://", "http://")):
            text = f'<a href="{escape(url, quote=True)}" target="_blank" rel="noopener">{text}</a>'
        items.append(text)
    if len(items) > FOLD_SOURCES_OVER:
        summary = _("Data: {count} sources and vintages", count=_.number(len(items)))
        html = (f'<details class="am-sources"><summary>{escape(summary)}</summary>'
                f"{'<br>'.join(items)}</details>")
    else:
        html = _("Data: {sources}", sources="; ".join(items)) if items else ""
    if illustrative:
        flag = escape(_("Illustrative (synthetic) data: {layers}", layers=", ".join(illustrative)))
        flag = f"<b>{flag}</b>"
        html = f"{html} | {flag}" if html else flag
    return html
