"""Legend, icons, title and attribution HTML for the equity map (every piece of text escaped)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from assetmap._i18n import N_, messages
from assetmap.outputs._classes import NO_DATA_COLOR, Classes, ColumnInfo

__all__ = [
    "INTERVENTION_LABELS",
    "SITE_TYPES",
    "LegendSection",
    "attribution_html",
    "column_title",
    "icon_svg",
    "legend_html",
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
# glyph too (the shape carries the meaning, not only the hue)
SITE_TYPES: dict[str, tuple[str, str, str]] = {
    "library": ("#1b9e77", "L", N_("Library")),
    "school": ("#7570b3", "S", N_("School (partner site)")),
    "place_of_worship": ("#a6761d", "W", N_("Place of worship")),
    "community_center": ("#d95f02", "C", N_("Community center")),
    "health_center": ("#e7298a", "H", N_("Health center")),
    "business": ("#666666", "B", N_("Business")),
    "public_housing": ("#66a61e", "P", N_("Public housing")),
    "hotspot": ("#e6ab02", "h", N_("Hotspot")),
    "wifi_bus_stop": ("#377eb8", "b", N_("Wi-Fi bus stop")),
    "other": ("#999999", "?", N_("Other")),
    # not partner site types: the district's campuses and the plan's proposed sites
    "campus": ("#253494", "\u2302", N_("School campus")),
    "plan": ("#b30000", "\u2605", N_("Proposed site (plan)")),
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
        if section.classes is not None:
            classes = section.classes
            for color, label, count in zip(
                classes.colors, classes.labels, classes.counts, strict=True
            ):
                tracts = _.plural("({count} tract)", "({count} tracts)", count)
                rows.append(
                    f'<div class="am-row">{_swatch(color)}{escape(label)} '
                    f'<span class="am-note">{escape(tracts)}</span></div>'
                )
            missing = int((classes.idx < 0).sum())
            if missing:
                rows.append(
                    f'<div class="am-row">{_swatch(NO_DATA_COLOR)}{no_data} '
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
        name = escape(str(source.get("name") or _("unnamed source")))
        vintage = source.get("vintage")
        text = f"{name} ({escape(str(vintage))})" if vintage else name
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
