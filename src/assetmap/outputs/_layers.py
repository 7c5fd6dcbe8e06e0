"""Leaflet layers of the equity map, as small folium elements.

The tract GeoJSON is embedded once (:class:`GeoJsonData`) and every thematic layer
(:class:`ThemeLayer`) draws from it with its own class colours, so switching themes costs no
extra bytes. Text from users (names, services, hours, vintages) is stored as JSON with ``<``,
``>`` and ``&`` escaped, and the page's helper functions escape it again before it reaches
``innerHTML``, so a partner called ``<script>alert(1)</script>`` shows as that text. Every
element renders literally (:class:`~assetmap.outputs._render.LiteralRender`), so text such as
``{{ 7*7 }}`` stays that text too.
"""

from __future__ import annotations

import json
from typing import Any

from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.template import Template

from assetmap.outputs._render import LiteralRender

__all__ = [
    "GeoJsonData",
    "HelperScript",
    "HtmlControl",
    "OutlineLayer",
    "PointLayer",
    "ThemeLayer",
    "TitleBlock",
    "to_js",
]


def to_js(value: Any) -> str:
    r"""Return ``value`` as JSON that is safe inside an HTML ``<script>`` element.

    Examples
    --------
    >>> to_js({"name": "</script><b>"})
    '{"name":"\\u003c/script\\u003e\\u003cb\\u003e"}'
    """
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return (
        text.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


_HELPERS = """
window.amEsc = window.amEsc || function (s) {
  if (s === null || s === undefined) { return ""; }
  return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
};
window.amTable = window.amTable || function (p, fields) {
  var rows = [];
  for (var i = 0; i < fields.length; i++) {
    var f = fields[i], v = p[f[0]];
    if (v === null || v === undefined || v === "") { continue; }
    var vint = f[2] ? ' <span class="am-vintage">' + amEsc(f[2]) + '</span>' : "";
    rows.push("<tr><th>" + amEsc(f[1]) + "</th><td>" + amEsc(v) + vint + "</td></tr>");
  }
  return '<table class="am-table">' + rows.join("") + "</table>";
};
window.amDecode = window.amDecode || function (fc, scale) {
  for (var k = 0; k < fc.features.length; k++) {
    var f = fc.features[k], e = f.e;
    if (!e) { continue; }
    var polys = [];
    for (var p = 0; p < e.length; p++) {
      var rings = [];
      for (var r = 0; r < e[p].length; r++) {
        var flat = e[p][r], out = [], x = 0, y = 0;
        for (var i = 0; i < flat.length; i += 2) {
          if (i === 0) { x = flat[0]; y = flat[1]; } else { x += flat[i]; y += flat[i + 1]; }
          out.push([x / scale, y / scale]);
        }
        if (out.length) { out.push(out[0]); }
        rings.push(out);
      }
      polys.push(rings);
    }
    fc.features[k] = {type: "Feature", properties: f.p,
                      geometry: {type: "MultiPolygon", coordinates: polys}};
  }
  return fc;
};
window.amPatterns = window.amPatterns || function (defs) {  // SVG fills, once per page
  var ns = "http://www.w3.org/2000/svg", svg = document.getElementById("am-patterns");
  if (!defs) { return; }
  if (!svg) {
    svg = document.createElementNS(ns, "svg");
    svg.id = "am-patterns";
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("style", "position:absolute;width:0;height:0;overflow:hidden");
    svg.appendChild(document.createElementNS(ns, "defs"));
    document.body.appendChild(svg);
  }
  var box = document.createElementNS(ns, "svg");
  box.innerHTML = defs;
  Array.from(box.children).forEach(function (p) {
    if (!document.getElementById(p.id)) { svg.firstChild.appendChild(p); }
  });
};
window.amLegendShow = window.amLegendShow || function (layer, on) {
  var nodes = document.querySelectorAll('[data-am-layer="' + layer + '"]');
  for (var i = 0; i < nodes.length; i++) { nodes[i].style.display = on ? "" : "none"; }
};
"""



class HelperScript(LiteralRender, JSCSSMixin):
    """The page's escaping/table helpers (added once per map; the CSS is in ``_basemap``)."""

    _template = Template("{% macro script(this, kwargs) %}" + _HELPERS + "{% endmacro %}")

    def __init__(self) -> None:
        super().__init__()
        self._name = "AssetmapHelpers"


class GeoJsonData(LiteralRender, JSCSSMixin):
    """A GeoJSON object embedded once, as a JSON block parsed into ``var <name>``.

    The data sit in a ``<script type="application/json">`` element (parsed with
    ``JSON.parse``, much faster than a large object literal). With ``precision``, the polygons
    were delta-encoded by ``encode_polygons`` at that precision and are decoded in the browser.
    """

    _template = Template(
        """{% macro html(this, kwargs) %}<script type="application/json" \
id="{{ this.get_name() }}_json">{{ this.data }}</script>{% endmacro %}
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = JSON.parse(
  document.getElementById("{{ this.get_name() }}_json").textContent);
{% if this.scale %}amDecode({{ this.get_name() }}, {{ this.scale }});{% endif %}
{% endmacro %}"""
    )

    def __init__(self, data: dict[str, Any], *, precision: int | None = None) -> None:
        super().__init__()
        self._name = "AssetmapData"
        self.data = to_js(data)
        self.scale = None if precision is None else 10**precision


class ThemeLayer(LiteralRender, Layer):
    """A tract choropleth drawn from shared data: class index property -> colour.

    The features are added the first time the layer is switched on, so hidden themes cost
    nothing at load; tooltips, popups and hover are bound once on the group, not per tract.
    With ``patterns`` (a pattern id per class, or None) and their ``defs`` (SVG ``<pattern>``
    elements, :func:`assetmap.outputs._class_marks.svg_patterns`), each class is filled with
    its hatch pattern, so colour is not the only cue (WCAG 1.4.1).
    """

    _template = Template(
        """{% macro script(this, kwargs) %}
{% if this.defs_js %}amPatterns({{ this.defs_js }});
{% endif %}var {{ this.get_name() }} = L.geoJson(null, {
  className: {{ this.css_class|tojson }},
  style: function (f) {
    var c = f.properties[{{ this.key|tojson }}], colors = {{ this.colors_js }};
    var patterns = {{ this.patterns_js }};
    var fill = (c === null || c === undefined || c < 0) ?
      (c === -2 ? {{ this.suppressed_color|tojson }} : {{ this.na_color|tojson }}) :
      (patterns[c] ? "url(#" + patterns[c] + ")" : colors[c]);
    return {fillColor: fill, color: "#4d4d4d", weight: 0.6, opacity: 0.9,
            fillOpacity: {{ this.fill_opacity }}};
  }
});
{{ this.get_name() }}.amClassKey = {{ this.key|tojson }};  // the class of a feature: its key
(function (layer, fields) {
  layer.bindTooltip(function (l) {
    var p = l.feature.properties;
    return "<b>" + amEsc(p[{{ this.name_key|tojson }}]) + "</b><br>" +
      amEsc({{ this.label_js }}) + ": " + amEsc(p[{{ this.value_key|tojson }}]);
  }, {sticky: true});
  layer.bindPopup(function (l) {
    var p = l.feature.properties;
    return "<b>" + amEsc(p[{{ this.name_key|tojson }}]) + "</b>" + amTable(p, fields);
  }, {maxWidth: 340});
  layer.on("mouseover", function (e) { e.layer.setStyle({weight: 2.5}); });
  layer.on("mouseout", function (e) { e.layer.setStyle({weight: 0.6}); });
  layer.on("add", function () {
    if (!layer._amLoaded) { layer._amLoaded = true; layer.addData({{ this.source.get_name() }}); }
    amLegendShow("{{ this.get_name() }}", true);
  });
  layer.on("remove", function () { amLegendShow("{{ this.get_name() }}", false); });
})({{ this.get_name() }}, {{ this.fields_js }});
{% endmacro %}"""
    )

    def __init__(
        self,
        source: GeoJsonData,
        *,
        name: str,
        key: str,
        value_key: str,
        label: str,
        colors: list[str],
        fields: list[list[str]],
        css_class: str,
        name_key: str = "n",
        show: bool = False,
        na_color: str = "#d9d9d9",
        suppressed_color: str = "#f7f7f7",
        fill_opacity: float = 0.72,
        patterns: list[str | None] | None = None,
        defs: str = "",
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "ThemeLayer"
        self.patterns_js = to_js(patterns or [])
        self.defs_js = to_js(defs) if defs else ""
        self.source = source
        self.key = key
        self.value_key = value_key
        self.label_js = to_js(label)
        self.colors_js = to_js(colors)
        self.fields_js = to_js(fields)
        self.css_class = css_class
        self.name_key = name_key
        self.na_color = na_color
        self.suppressed_color = suppressed_color
        self.fill_opacity = float(fill_opacity)


class OutlineLayer(LiteralRender, Layer):
    """An outline without fill (the district boundary), not interactive."""

    _template = Template(
        """{% macro script(this, kwargs) %}
var {{ this.get_name() }} = L.geoJson({{ this.data }}, {
  className: {{ this.css_class|tojson }}, interactive: false,
  style: {fill: false, color: {{ this.color|tojson }}, weight: 2.5, dashArray: "6 4"}
});
{% endmacro %}"""
    )

    def __init__(
        self, data: dict[str, Any], *, name: str, css_class: str, color: str = "#1a1a1a"
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=True)
        self._name = "OutlineLayer"
        self.data = to_js(data)
        self.css_class = css_class
        self.color = color


class PointLayer(LiteralRender, Layer):
    """Points drawn as small SVG icons chosen by a type property, with a popup table.

    With ``radius_key``, a point whose property of that name is a positive number of metres
    also gets a dashed circle of that radius (e.g. a proposed site's reach), in the same layer.
    """

    _template = Template(
        """{% macro script(this, kwargs) %}
var {{ this.get_name() }} = L.geoJson({{ this.data }}, {
  pointToLayer: function (f, latlng) {
    var icons = {{ this.icons_js }}, t = f.properties.t;
    var svg = Object.prototype.hasOwnProperty.call(icons, t) ? icons[t] : icons["other"];
    var marker = L.marker(latlng, {icon: L.divIcon({className: {{ this.css_class|tojson }},
      html: svg, iconSize: [22, 22], iconAnchor: [11, 11], popupAnchor: [0, -10]}),
      keyboard: true});
    marker.on("add", function () {  // a name for the marker's role=button, with its number
      var el = marker.getElement(), num = el.textContent.trim(), name = f.properties.n || "";
      el.setAttribute("aria-label", (/^[0-9]+$/.test(num) ? num + ". " : "") + name);
    });
{% if this.radius_key %}    var r = f.properties[{{ this.radius_key|tojson }}];
    if (r > 0) {
      return L.featureGroup([L.circle(latlng, {radius: r, color: {{ this.circle_color|tojson }},
        weight: 1.5, dashArray: "5 4", fillOpacity: 0.07, interactive: false}), marker]);
    }
{% endif %}    return marker;
  },
  onEachFeature: function (f, layer) {
    var p = f.properties, fields = {{ this.fields_js }};
    var flag = p.fx ? '<div class="am-flag">' + amEsc(p.fx) + "</div>" : "";
    layer.bindTooltip(function () { return amEsc(p.n); });
    layer.bindPopup(function () {
      return "<b>" + amEsc(p.n) + "</b>" + flag + amTable(p, fields);
    }, {maxWidth: 340});
  }
});
{% endmacro %}"""
    )

    def __init__(
        self,
        data: dict[str, Any],
        *,
        name: str,
        icons: dict[str, str],
        fields: list[list[str]],
        css_class: str,
        show: bool = True,
        radius_key: str | None = None,
        circle_color: str = "#b30000",
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "PointLayer"
        self.data = to_js(data)
        self.icons_js = to_js(icons)
        self.fields_js = to_js(fields)
        self.css_class = css_class
        self.radius_key = radius_key
        self.circle_color = circle_color


class HtmlControl(LiteralRender, JSCSSMixin):
    """A Leaflet control holding ready-made (already escaped) HTML: legend, title."""

    _template = Template(
        """{% macro script(this, kwargs) %}
(function () {
  var ctl = L.control({position: {{ this.position|tojson }}});
  ctl.onAdd = function () {
    var div = L.DomUtil.create("div", {{ this.css_class|tojson }});
    div.innerHTML = {{ this.html_js }};
{% if this.label %}    div.tabIndex = 0;  // a scrollable region the keyboard can reach
    div.setAttribute("role", "region");
    div.setAttribute("aria-label", {{ this.label|tojson }});
{% endif %}    L.DomEvent.disableClickPropagation(div);
    L.DomEvent.disableScrollPropagation(div);
    return div;
  };
  ctl.addTo({{ this._parent.get_name() }});
})();
{% endmacro %}"""
    )

    def __init__(self, html: str, *, position: str, css_class: str,
                 label: str | None = None) -> None:
        super().__init__()
        self._name = "HtmlControl"
        self.label = label
        self.html_js = to_js(html)
        self.position = position
        self.css_class = css_class


class TitleBlock(LiteralRender, JSCSSMixin):
    """A title (and subtitle) centred over the map; the HTML is escaped by the caller."""

    _template = Template(
        """{% macro script(this, kwargs) %}
(function () {
  var div = L.DomUtil.create("div", "am-title", {{ this._parent.get_name() }}.getContainer());
  div.innerHTML = {{ this.html_js }};
})();
{% endmacro %}"""
    )

    def __init__(self, html: str) -> None:
        super().__init__()
        self._name = "TitleBlock"
        self.html_js = to_js(html)
