"""The equity map's frame: folium, background tiles, the map itself and the attribution.

Tiles are resolved through xyzservices (a provider name, a provider or a URL) with their
attribution; the sources' own attribution and licence notices (e.g. Ookla's CC BY-NC-SA 4.0)
are added to Leaflet's attribution control.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

import geopandas as gpd
from folium.template import Template

from assetmap.outputs._layers import HtmlControl

if TYPE_CHECKING:
    import folium

__all__ = [
    "AttributionScript",
    "has_child",
    "import_folium",
    "new_map",
    "resolve_tiles",
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
    except ValueError:
        return None


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


def new_map(folium: Any, gdf: gpd.GeoDataFrame, tiles: Any, **kwargs: Any) -> folium.Map:
    """Return a new map fitted to the frame's bounds, with the tiles and a scale bar."""
    url, attr = resolve_tiles(tiles)
    minx, miny, maxx, maxy = gdf.total_bounds
    m = folium.Map(
        location=[(miny + maxy) / 2, (minx + maxx) / 2],
        tiles=url,
        attr=attr or ("Map tiles" if url else None),
        control_scale=True,
        **kwargs,
    )
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    return m


def has_child(m: Any, kind: type) -> bool:
    """Return whether the map already has a child of this class."""
    return any(isinstance(child, kind) for child in m._children.values())


def with_licences(html: str, sources: list[dict[str, Any]]) -> str:
    """Append each source's required attribution text (e.g. Ookla's CC BY-NC-SA 4.0 notice)."""
    from html import escape

    notices = []
    for source in sources:
        text = source.get("attribution")
        if not text and str(source.get("license", "")).startswith("CC BY"):
            text = f"{source.get('name', 'data')}: licence {source['license']}"
        if text and escape(str(text)) not in notices:
            notices.append(escape(str(text)))
    if not notices:
        return html
    return " | ".join([html, *notices]) if html else " | ".join(notices)


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
