"""The equity map's locator: Leaflet-MiniMap with the study-area outline."""

from __future__ import annotations

from typing import Any

from folium.elements import JSCSSMixin
from folium.template import Template

from assetmap.outputs._layers import to_js
from assetmap.outputs._render import LiteralRender

__all__ = ["OutlineMiniMap"]


class OutlineMiniMap(LiteralRender, JSCSSMixin):
    """Leaflet-MiniMap showing the study-area outline (and tiles when the map has them).

    Unlike folium's ``MiniMap``, it works without tiles, so an offline map keeps its locator.
    """

    _template = Template(
        """{% macro script(this, kwargs) %}
var {{ this.get_name() }}_layers = [L.geoJson({{ this.data }}, {className: "am-mini",
  interactive: false, style: {color: "#333", weight: 1, fillColor: "#999", fillOpacity: 0.3}})];
{% if this.tiles %}{{ this.get_name() }}_layers.unshift(L.tileLayer({{ this.tiles|tojson }},
  {attribution: ""}));{% endif %}
var {{ this.get_name() }} = new L.Control.MiniMap(L.layerGroup({{ this.get_name() }}_layers), {
  position: "bottomright", width: 150, height: 150, toggleDisplay: true, zoomLevelOffset: -5,
  minimized: false, strings: {{ this.strings }}}).addTo({{ this._parent.get_name() }});
{% endmacro %}"""
    )
    default_js = [  # noqa: RUF012 - folium reads these class attributes
        (
            "Control_MiniMap_js",
            "https://cdnjs.cloudflare.com/ajax/libs/leaflet-minimap/3.6.1/Control.MiniMap.js",
        )
    ]
    default_css = [  # noqa: RUF012
        (
            "Control_MiniMap_css",
            "https://cdnjs.cloudflare.com/ajax/libs/leaflet-minimap/3.6.1/Control.MiniMap.css",
        )
    ]

    def __init__(self, data: dict[str, Any], *, tiles: str | None = None,
                 strings: dict[str, str] | None = None) -> None:
        super().__init__()
        self._name = "OutlineMiniMap"
        self.data = to_js(data)
        self.tiles = tiles
        # the toggle's title: hideText / showText (Leaflet-MiniMap's own words by default)
        self.strings = to_js(strings or {"hideText": "Hide MiniMap", "showText": "Show MiniMap"})
