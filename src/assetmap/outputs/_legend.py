"""Legend, icons, title and attribution HTML for the equity map (every piece of text escaped)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from assetmap.outputs._classes import NO_DATA_COLOR, Classes

__all__ = [
    "INTERVENTION_LABELS",
    "SITE_TYPES",
    "LegendSection",
    "attribution_html",
    "icon_svg",
    "legend_html",
    "title_html",
]

#: Recommended interventions (``recommend_interventions`` codes) as the map and report name them.
INTERVENTION_LABELS = {
    "fiber_extension": "Fiber extension partnership",
    "wireless_or_satellite": "Fixed wireless or satellite pilot",
    "affordability_adoption": "Affordability and adoption: enrollment, devices, navigators",
    "new_site": "New learning center or Wi-Fi site",
    "infrastructure": "Infrastructure first (DDI)",
    "adoption": "Adoption first (DDI)",
    "monitor": "Monitor (no action flagged)",
}

# site_type -> (colour, glyph, label); colours from ColorBrewer Dark2/Set1, told apart by the
# glyph too (the shape carries the meaning, not only the hue)
SITE_TYPES: dict[str, tuple[str, str, str]] = {
    "library": ("#1b9e77", "L", "Library"),
    "school": ("#7570b3", "S", "School (partner site)"),
    "place_of_worship": ("#a6761d", "W", "Place of worship"),
    "community_center": ("#d95f02", "C", "Community center"),
    "health_center": ("#e7298a", "H", "Health center"),
    "business": ("#666666", "B", "Business"),
    "public_housing": ("#66a61e", "P", "Public housing"),
    "hotspot": ("#e6ab02", "h", "Hotspot"),
    "wifi_bus_stop": ("#377eb8", "b", "Wi-Fi bus stop"),
    "other": ("#999999", "?", "Other"),
    # not partner site types: the district's campuses and the plan's proposed sites
    "campus": ("#253494", "\u2302", "School campus"),
    "plan": ("#b30000", "\u2605", "Proposed site (plan)"),
}


def icon_svg(site_type: str, *, text: str | None = None) -> str:
    """Return a 22-px SVG icon: a coloured disc (a square for campuses) with a glyph.

    Examples
    --------
    >>> icon_svg("library").startswith("<svg")
    True
    """
    color, glyph, _ = SITE_TYPES.get(site_type, SITE_TYPES["other"])
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


def _swatch(color: str) -> str:
    return f'<i style="background:{escape(color)}"></i>'


def legend_html(sections: Iterable[LegendSection]) -> str:
    """Return the legend's HTML: one block per section, hidden while its layer is off.

    Examples
    --------
    >>> from assetmap.outputs._classes import classify
    >>> c = classify([10, 50, 90], column="priority", scheme="user", bins=[50, 100])
    >>> html = legend_html([LegendSection("layer_1", "Priority", c)])
    >>> "Priority" in html and "10 - 50" in html
    True
    """
    parts: list[str] = []
    for section in sections:
        style = "" if section.show else ' style="display:none"'
        attr = f' data-am-layer="{escape(section.layer)}"' if section.layer else ""
        rows = [f"<h4>{escape(section.title)}</h4>"]
        if section.classes is not None:
            classes = section.classes
            for color, label, count in zip(
                classes.colors, classes.labels, classes.counts, strict=True
            ):
                plural = "s" if count != 1 else ""
                rows.append(
                    f'<div class="am-row">{_swatch(color)}{escape(label)} '
                    f'<span class="am-note">({count} tract{plural})</span></div>'
                )
            missing = int((classes.idx < 0).sum())
            if missing:
                rows.append(
                    f'<div class="am-row">{_swatch(NO_DATA_COLOR)}no data '
                    f'<span class="am-note">({missing})</span></div>'
                )
        for color, label in section.extra_swatches:
            rows.append(f'<div class="am-row">{_swatch(color)}{escape(label)}</div>')
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
    sources: Sequence[Mapping[str, Any]], *, illustrative: Sequence[str] = ()
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
    items: list[str] = []
    for source in sources:
        name = escape(str(source.get("name", "unnamed source")))
        vintage = source.get("vintage")
        text = f"{name} ({escape(str(vintage))})" if vintage else name
        url = str(source.get("url") or "")
        if url.startswith(("https://", "http://")):
            text = f'<a href="{escape(url, quote=True)}" target="_blank" rel="noopener">{text}</a>'
        items.append(text)
    if len(items) > FOLD_SOURCES_OVER:
        html = (f'<details class="am-sources"><summary>Data: {len(items)} sources and '
                f"vintages</summary>{'<br>'.join(items)}</details>")
    else:
        html = "Data: " + "; ".join(items) if items else ""
    if illustrative:
        flag = f"<b>Illustrative (synthetic) data: {escape(', '.join(illustrative))}</b>"
        html = f"{html} | {flag}" if html else flag
    return html
