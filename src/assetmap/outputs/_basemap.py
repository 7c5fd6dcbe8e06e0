"""The equity map's frame: folium, background tiles, the map itself and the attribution.

Tiles are resolved through xyzservices (a provider name, a provider or a URL) with their
attribution; the sources' own attribution and licence notices (e.g. Ookla's CC BY-NC-SA 4.0)
are added to Leaflet's attribution control.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING, Any

import geopandas as gpd
from branca.element import Figure
from folium.elements import JSCSSMixin
from folium.template import Template

from assetmap._i18n import messages
from assetmap.outputs._layers import HtmlControl, to_js
from assetmap.outputs._render import LiteralRender

if TYPE_CHECKING:
    import folium

__all__ = [
    "AttributionScript",
    "PageFrame",
    "has_child",
    "import_folium",
    "new_map",
    "resolve_tiles",
    "tile_attribution",
    "with_licences",
]


def import_folium() -> Any:
    """Return the folium module, or raise ImportError with the install hint."""
    try:
        import folium
    except ImportError as exc:  # pragma: no cover - folium is a core dependency
        raise ImportError(
            "equity_map needs folium, branca and mapclassify: pip install folium mapclassify"
        ) from exc
    return folium


@cache
def _provider(name: str) -> Any:
    """Return the xyzservices provider of a name (None for a URL); looked up once per name."""
    import xyzservices

    try:
        return xyzservices.providers.query_name(name)
    except ValueError:  # a family ("OpenStreetMap"): its first provider (Mapnik), as folium
        family = xyzservices.providers.get(name)
        first = next(iter(family.values()), None) if isinstance(family, dict) else None
        return first if isinstance(first, xyzservices.TileProvider) else None


def resolve_tiles(tiles: Any) -> tuple[str | None, str | None]:
    """Return (url, html attribution) for a tile name, an xyzservices provider or a URL."""
    if tiles is None:
        return None, None
    import xyzservices

    provider = tiles
    if isinstance(tiles, str):
        provider = _provider(tiles)
        if provider is None:
            return tiles, None
    if isinstance(provider, xyzservices.TileProvider):
        return provider.build_url(scale_factor="{r}"), provider.html_attribution
    return str(tiles), None


def new_map(folium: Any, gdf: gpd.GeoDataFrame, tiles: Any, *, language: str = "en",
            **kwargs: Any) -> folium.Map:
    """Return a new map fitted to the frame's bounds, with the tiles and a scale bar."""
    _ = messages(language)
    url, attr = resolve_tiles(tiles)
    minx, miny, maxx, maxy = gdf.total_bounds
    m = folium.Map(
        location=[(miny + maxy) / 2, (minx + maxx) / 2], tiles=None, control_scale=True, **kwargs
    )
    if url:  # named as asked ("OpenStreetMap"), not by its URL, in the layer control
        name = tiles if isinstance(tiles, str) else getattr(tiles, "name", url)
        folium.TileLayer(url, attr=tile_attribution(attr, language=language) or _("Map tiles"),
                         name=name).add_to(m)
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    return m


#: OpenStreetMap's credit as the tile providers write it: its link, then "contributors".
_OSM_CREDIT = re.compile(r"(<a [^>]*>OpenStreetMap</a>) contributors")


def tile_attribution(html: str | None, *, language: str = "en") -> str | None:
    """Return a tile provider's attribution in ``language``, its links kept.

    Examples
    --------
    >>> osm = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> '
    >>> tile_attribution(osm + "contributors", language="es").split("<a")[0]
    '&copy; colaboradores de '
    """
    _ = messages(language)
    if not html or _.language == "en":
        return html
    return _OSM_CREDIT.sub(lambda found: _("{osm} contributors", osm=found.group(1)), html)


def has_child(m: Any, kind: type) -> bool:
    """Return whether the map already has a child of this class."""
    return any(isinstance(child, kind) for child in m._children.values())


def with_licences(html: str, sources: list[dict[str, Any]], *, language: str = "en") -> str:
    """Append each source's required attribution text (e.g. Ookla's CC BY-NC-SA 4.0 notice)."""
    from html import escape

    _ = messages(language)
    notices = []
    for source in sources:
        text = _.recorded(source["attribution"]) if source.get("attribution") else None
        if not text and str(source.get("license", "")).startswith("CC BY"):
            text = _("{source}: licence {licence}",
                     source=_.recorded(source.get("name") or _("data")),
                     licence=source["license"])
        if text and escape(str(text)) not in notices:
            notices.append(escape(str(text)))
    if not notices:
        return html
    return " | ".join([html, *notices]) if html else " | ".join(notices)


_CSS = """
<style>
.am-table { border-collapse: collapse; font: 12px/1.35 system-ui, sans-serif; }
.am-table th { text-align: left; padding: 1px 8px 1px 0; font-weight: 600; vertical-align: top; }
.am-table td { padding: 1px 0; }
.am-vintage { color: #666; font-size: 10px; }
.am-title { position: absolute; top: 10px; left: 0; right: 0; margin: 0 auto;
  width: fit-content; box-sizing: border-box; z-index: 1000; background: rgba(255,255,255,.92);
  padding: 6px 14px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0,0,0,.3); font: 600 16px system-ui, sans-serif; max-width: 60%;
  text-align: center; pointer-events: none; }
.am-title small { display: block; font-weight: 400; font-size: 11px; color: #444; }
.am-legend { background: rgba(255,255,255,.95); padding: 6px 10px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0,0,0,.3); font: 12px system-ui, sans-serif; max-height: 60vh;
  overflow-y: auto; max-width: 260px; }
.am-legend h4 { margin: 4px 0 3px; font-size: 12px; }
.am-legend i { display: inline-block; width: 16px; height: 11px; margin-right: 6px;
  border: 1px solid #777; vertical-align: middle; }
.am-legend i svg { display: block; }
.am-legend .am-note { color: #555; font-size: 10px; overflow-wrap: anywhere; }
.am-icon svg { display: block; }
.am-flag { color: #b30000; font-weight: 600; }
.am-sources { display: inline; }
.am-sources summary { display: inline; cursor: pointer; text-decoration: underline dotted; }
.am-sources[open] { display: block; max-height: 40vh; overflow-y: auto; text-align: left; }
.leaflet-container { background: #f2f2ef; }
.leaflet-container a:focus-visible, .leaflet-container input:focus-visible,
.leaflet-container summary:focus-visible, .leaflet-container [tabindex]:focus-visible,
.am-data-panel:focus-visible { outline: 3px solid #1a5fb4; outline-offset: 1px; }
.leaflet-container:focus-visible { outline: 3px solid #1a5fb4; outline-offset: -3px; }
.am-legend { max-width: min(260px, 45vw); box-sizing: border-box; }
.leaflet-control-attribution { font-size: 11px; line-height: 1.35; }
.am-data { background: #fff; border-radius: 4px; box-shadow: 0 1px 4px rgba(0,0,0,.3);
  font: 13px system-ui, sans-serif; }
.am-data summary { padding: 5px 8px; cursor: pointer; }
.am-data[open] { position: fixed; inset: 10px; z-index: 1100; display: flex;
  flex-direction: column; }
.am-data-panel { overflow: auto; padding: 0 10px 10px; flex: 1; }
.am-data-panel table { margin-bottom: 12px; }
.am-data-panel caption { text-align: left; font-weight: 600; padding: 6px 0; }
.am-data-panel th, .am-data-panel td { border-bottom: 1px solid #ddd; padding: 2px 8px 2px 0; }
.am-data-panel thead th { position: sticky; top: 0; background: #fff; }
@media (max-width: 599px) { .leaflet-control-minimap { display: none; } }
</style>
"""


_FRAME_JS = """
window.amFrame = window.amFrame || function (map, layers, words) {
  var box = map.getContainer(), narrow = null;
  function name(el, label) {  // Leaflet's own buttons, named in the page's language
    if (el) { el.title = label; el.setAttribute("aria-label", label); }
  }
  function leafletWords() {
    if (map.zoomControl) {
      name(map.zoomControl._zoomInButton, words.zoomIn);
      name(map.zoomControl._zoomOutButton, words.zoomOut);
    }
    name(box.querySelector(".leaflet-control-layers-toggle"), words.layers);
    var home = box.querySelector(".leaflet-control-attribution a[href*='leafletjs']");
    if (home) { home.title = words.leaflet; }
  }
  map.on("popupopen", function (e) {
    var close = e.popup.getElement() && e.popup.getElement().querySelector(
      ".leaflet-popup-close-button");
    if (close) { close.setAttribute("aria-label", words.closePopup); }
  });
  function rects(sel) {
    var out = [];
    box.querySelectorAll(sel).forEach(function (el) {
      var r = el.getBoundingClientRect();
      if (r.width > 0 && r.height > 0) { out.push(r); }
    });
    return out;
  }
  function edge(list, key, pick, start) {
    return list.reduce(function (a, r) { return pick(a, r[key]); }, start);
  }
  function region(el, label) {  // a scrollable part the keyboard can reach
    if (el && !el.hasAttribute("tabindex")) {
      el.tabIndex = 0;
      if (!el.getAttribute("role")) { el.setAttribute("role", "region"); }
      el.setAttribute("aria-label", label);
    }
  }
  function layout() {
    var W = box.clientWidth, m = box.getBoundingClientRect();
    var small = W < 600;
    if (layers && small !== narrow) {  // phones: the layer list folds behind its button
      narrow = small;
      layers.remove();
      layers.options.collapsed = small;
      layers.addTo(map);
    }
    region(box.querySelector(".leaflet-control-layers-list"), words.mapLayers);
    leafletWords();
    var corners = box.querySelectorAll(".leaflet-top");
    corners.forEach(function (c) { c.style.top = ""; });
    var title = box.querySelector(".am-title");
    var tl = rects(".leaflet-top.leaflet-left .leaflet-control");
    var tr = rects(".leaflet-top.leaflet-right .leaflet-control");
    if (title) {  // the title sits between the top corners, or above them when too narrow
      var side = Math.max(edge(tl, "right", Math.max, m.left) - m.left,
                          m.right - edge(tr, "left", Math.min, m.right));
      var room = W - 2 * side - 20;
      title.style.maxWidth = (room >= 180 ? room : W - 20) + "px";
      if (room < 180) {
        var below = title.getBoundingClientRect().bottom - m.top + 4;
        corners.forEach(function (c) { c.style.top = below + "px"; });
        tl = rects(".leaflet-top.leaflet-left .leaflet-control");
      }
    }
    var legend = box.querySelector(".am-legend"), attr = box.querySelector(
      ".leaflet-control-attribution");
    if (legend) {  // the legend keeps below the top-left controls and the title
      var top = edge(tl, "bottom", Math.max, m.top);
      if (title) { top = Math.max(top, title.getBoundingClientRect().bottom); }
      var room2 = legend.getBoundingClientRect().bottom - top - 10;
      legend.style.maxHeight = Math.max(room2, 60) + "px";
    }
    if (attr) {  // the attribution keeps right of the bottom-left controls
      var bl = rects(".leaflet-bottom.leaflet-left .leaflet-control");
      attr.style.maxWidth = Math.max(W - (edge(bl, "right", Math.max, m.left) - m.left) - 20,
                                     120) + "px";
    }
    var list = box.querySelector(".leaflet-control-layers-expanded .leaflet-control-layers-list");
    var br = rects(".leaflet-bottom.leaflet-right .leaflet-control");
    if (list) {  // the layer list stops above the bottom-right controls
      var lr = list.getBoundingClientRect();
      var floor = edge(br.filter(function (r) { return r.left < lr.right && r.right > lr.left; }),
                       "top", Math.min, m.bottom);
      var most = floor - lr.top - 12;
      list.style.maxHeight = most + "px";
      list.classList.toggle("leaflet-control-layers-scrollbar", list.scrollHeight > most);
    }
  }
  function escape(e) {  // Escape closes what pops up (WCAG 1.4.13)
    if (e.key !== "Escape") { return; }
    map.closePopup();
    map.eachLayer(function (l) { if (l.closeTooltip) { l.closeTooltip(); } });
    box.querySelectorAll("details[open]").forEach(function (d) {
      d.open = false;
      d.querySelector("summary").focus();
    });
  }
  document.addEventListener("keydown", escape);
  function fill(table) {  // the tract table's rows, from the embedded data, once
    var fc = window[table.getAttribute("data-am-source")], body = table.tBodies[0];
    if (!fc || body.rows.length) { return; }
    var keys = Array.from(table.tHead.querySelectorAll("th[data-am-key]")).map(function (th) {
      return th.getAttribute("data-am-key");
    });
    fc.features.forEach(function (f) {
      var p = f.properties || f.p, row = body.insertRow(), th = document.createElement("th");
      th.scope = "row";
      th.textContent = p.n;
      row.appendChild(th);
      keys.forEach(function (k) { row.insertCell().textContent = p[k] == null ? "" : p[k]; });
    });
  }
  box.addEventListener("toggle", function (e) {  // an open table sits above every corner
    var corner = e.target.closest && e.target.closest(".leaflet-top, .leaflet-bottom");
    if (corner) { corner.style.zIndex = e.target.open ? 1100 : ""; }
    if (e.target.open) { e.target.querySelectorAll("table[data-am-source]").forEach(fill); }
  }, true);
  map.on("resize overlayadd overlayremove", function () { setTimeout(layout, 0); });
  layout();
  setTimeout(layout, 50);
};
"""


class PageFrame(LiteralRender, JSCSSMixin):
    """The page around the map: language, title, the map's CSS, keyboard and layout fixes.

    Gives the page ``<html lang>`` and a ``<title>``, focus outlines, names and tab stops for
    scrollable parts, Escape to close popups, tooltips and the data table, and a layout pass
    that keeps the title, legend, layer list and attribution from covering one another.
    Add it after every control.
    """

    _template = Template(
        "{% macro header(this, kwargs) %}" + _CSS + "{% endmacro %}"
        "{% macro script(this, kwargs) %}" + _FRAME_JS + "amFrame({{ this._parent.get_name() }}, "
        "{{ this.layers or 'null' }}, {{ this.words }});{% endmacro %}"
    )

    def __init__(self, title: str, *, layers: str | None = None, language: str = "en") -> None:
        super().__init__()
        _ = messages(language)
        self._name = "PageFrame"
        self.title = title
        self.layers = layers
        self.lang = _.html_lang
        self.words = to_js({  # Leaflet's defaults in English
            "zoomIn": _("Zoom in"), "zoomOut": _("Zoom out"), "layers": _("Layers"),
            "closePopup": _("Close popup"), "mapLayers": _("Map layers"),
            "leaflet": _("A JavaScript library for interactive maps"),
        })

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]  # None, as LiteralRender
        figure = self.get_root()
        if isinstance(figure, Figure):
            figure.title = figure.title or self.title
            vars(figure).update(am_lang=self.lang, am_header=_zoomable)  # read by _PAGE
            figure._template = _PAGE
        super().render(**kwargs)


def _zoomable(header: str) -> str:
    """Drop folium's ``maximum-scale=1.0, user-scalable=no``: people may zoom the page."""
    return re.sub(r",\s*maximum-scale=1\.0,\s*user-scalable=no", "", header)


# branca's Figure page, with a language and an escaped title
_PAGE = Template(
    "<!DOCTYPE html>\n"
    '<html lang="{{ this.am_lang|e }}">\n'
    "<head>\n"
    "{% if this.title %}<title>{{ this.title|e }}</title>{% endif %}"
    "    {{ this.am_header(this.header.render(**kwargs)) }}\n"
    "</head>\n"
    "<body>\n"
    "    {{ this.html.render(**kwargs) }}\n"
    "</body>\n"
    "<script>\n"
    "    {{ this.script.render(**kwargs) }}\n"
    "</script>\n"
    "</html>\n",
)


class AttributionScript(HtmlControl):
    """Adds the sources and vintages to Leaflet's attribution control."""

    _template = Template(
        """{% macro script(this, kwargs) %}
if ({{ this._parent.get_name() }}.attributionControl) {
  {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.html_js }});
}
{% endmacro %}"""
    )

    def __init__(self, html: str) -> None:
        super().__init__(html, position="bottomright", css_class="")
        self._name = "Attribution"
