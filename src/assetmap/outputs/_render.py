"""Literal rendering of the equity map's elements, and its controls without ``folium.plugins``.

folium renders an element's macros to text and then parses that text *again* as a Jinja
template. Text that reaches a macro from data (a partner's name, a title, a release label)
could then run as a template expression (``{{ ... }}``), and every large data block is lexed
once more for nothing. :class:`LiteralRender` adds the rendered macros to the page as plain
text instead: the same page, without the second pass.

The fullscreen button and the measure tool are declared here with the same templates and
assets as ``folium.plugins.Fullscreen`` and ``MeasureControl`` (MIT, python-visualization),
since importing ``folium.plugins`` compiles the templates of every plugin folium ships.
"""

from __future__ import annotations

from typing import Any

from branca.element import CssLink, Element, Figure, JavascriptLink, MacroElement
from folium.elements import JSCSSMixin
from folium.map import Layer, LayerControl
from folium.template import Template
from folium.utilities import remove_empty

__all__ = ["FullscreenControl", "LayerSwitcher", "LiteralRender", "MeasureTool", "has_control"]


class _Text(Element):
    """Ready-made page text: rendered as it is."""

    def __init__(self, text: str) -> None:
        super().__init__()
        # Jinja drops one trailing newline of a template; folium's second pass did so too
        self._text = text[:-1] if text.endswith("\n") else text

    def render(self, **kwargs: Any) -> str:
        return self._text


def _parent_of(element: Element) -> Element:
    """Return the element ``element`` was added to (folium renders only attached elements)."""
    if element._parent is None:
        raise TypeError("an element must be added to a map before it is rendered")
    return element._parent


class LiteralRender(MacroElement):
    """Base for folium elements: add the rendered macros to the page as literal text.

    Does what ``Layer``, ``JSCSSMixin`` and ``MacroElement`` do in ``render`` (add the layer
    to the map when shown, link the JS/CSS assets, place the header/html/script macros), but
    the macros' output is never parsed as a template again. Put it first among the bases,
    before the folium class (a ``MacroElement``) it renders for.
    """

    # branca annotates Element.render as returning the HTML (str), but MacroElement.render and
    # folium's overrides (Layer, JSCSSMixin), which this one replaces, return None: their output
    # goes into the Figure. Returning None keeps folium's behaviour, hence ignore[override].
    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        if getattr(self, "includes", None):  # folium's class includes: its own path
            super().render(**kwargs)
            return
        figure = self.get_root()
        if not isinstance(figure, Figure):
            raise TypeError("an element must be in a Figure (a folium Map) to render")
        if isinstance(self, Layer) and self.show:
            from folium.elements import ElementAddToElement

            self.add_child(
                ElementAddToElement(element_name=self.get_name(),
                                    element_parent_name=_parent_of(self).get_name()),
                name=self.get_name() + "_add",
            )
        for name, url in getattr(self, "default_js", ()):
            figure.header.add_child(JavascriptLink(url), name=name)
        for name, url in getattr(self, "default_css", ()):
            figure.header.add_child(CssLink(url), name=name)
        macros = self._template.module.__dict__
        for part, target in (("header", figure.header), ("html", figure.html),
                             ("script", figure.script)):
            macro = macros.get(part)
            if macro is not None:
                target.add_child(_Text(macro(self, kwargs)), name=self.get_name())
        for child in self._children.values():
            child.render(**kwargs)


class LayerSwitcher(LiteralRender, LayerControl):
    """folium's ``LayerControl`` (layer names are data: rendered literally)."""

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]  # None, as LiteralRender
        self.reset()
        for item in _parent_of(self)._children.values():
            if not isinstance(item, Layer) or not item.control:
                continue
            target = self.overlays if item.overlay else self.base_layers
            target[item.layer_name] = item.get_name()
        LiteralRender.render(self, **kwargs)


class FullscreenControl(LiteralRender, JSCSSMixin):
    """A fullscreen button, as ``folium.plugins.Fullscreen``."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            L.control.fullscreen(
                {{ this.options|tojavascript }}
            ).addTo({{this._parent.get_name()}});
        {% endmacro %}
        """
    )
    default_js = [  # noqa: RUF012 - folium reads these class attributes
        (
            "Control.Fullscreen.js",
            "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.min.js",
        )
    ]
    default_css = [  # noqa: RUF012
        (
            "Control.FullScreen.css",
            "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.css",
        )
    ]

    def __init__(self, position: str = "topleft", **kwargs: Any) -> None:
        super().__init__()
        self._name = "Fullscreen"
        self.options = remove_empty(position=position, title="Full Screen",
                                    title_cancel="Exit Full Screen",
                                    force_separate_button=False, **kwargs)


class MeasureTool(LiteralRender, JSCSSMixin):
    """A distance and area measuring tool, as ``folium.plugins.MeasureControl``."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = new L.Control.Measure(
                {{ this.options|tojavascript }});
            {{this._parent.get_name()}}.addControl({{this.get_name()}});

            // Workaround for using this plugin with Leaflet>=1.8.0
            // https://github.com/ljagis/leaflet-measure/issues/171
            L.Control.Measure.include({
                _setCaptureMarkerIcon: function () {
                    // disable autopan
                    this._captureMarker.options.autoPanOnFocus = false;
                    // default function
                    this._captureMarker.setIcon(
                        L.divIcon({
                            iconSize: this._map.getSize().multiplyBy(2)
                        })
                    );
                },
            });

        {% endmacro %}
        """
    )
    default_js = [  # noqa: RUF012
        (
            "leaflet_measure_js",
            "https://cdn.jsdelivr.net/gh/ljagis/leaflet-measure@2.1.7/dist/leaflet-measure.min.js",
        )
    ]
    default_css = [  # noqa: RUF012
        (
            "leaflet_measure_css",
            "https://cdn.jsdelivr.net/gh/ljagis/leaflet-measure@2.1.7/dist/leaflet-measure.min.css",
        )
    ]

    def __init__(self, position: str = "topright", **kwargs: Any) -> None:
        super().__init__()
        self._name = "MeasureControl"
        options = {"primary_length_unit": "meters", "secondary_length_unit": "miles",
                   "primary_area_unit": "sqmeters", "secondary_area_unit": "acres", **kwargs}
        self.options = remove_empty(position=position, **options)


def has_control(m: Any, name: str) -> bool:
    """Return whether a map already has an element named ``name`` (folium's or ours).

    Examples
    --------
    >>> import folium
    >>> m = folium.Map(tiles=None)
    >>> has_control(m, "Fullscreen"), has_control(m.add_child(FullscreenControl()), "Fullscreen")
    (False, True)
    """
    return any(getattr(child, "_name", None) == name for child in m._children.values())
