"""Equity-map layers beyond the tract themes: sites, schools, zones, H3 cells and the plan."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from assetmap._i18n import messages
from assetmap._report import get_report
from assetmap.outputs._class_marks import marked, svg_patterns
from assetmap.outputs._classes import classify, format_value
from assetmap.outputs._facts import driver_text
from assetmap.outputs._geometry import feature_collection, simplify_coverage, to_wgs84
from assetmap.outputs._layers import GeoJsonData, PointLayer, ThemeLayer
from assetmap.outputs._legend import SITE_TYPES, LegendSection, icon_svg, numbered_values
from assetmap.outputs._point_props import (
    FIX_FIRST,
    SCHOOL_TYPES,
    SERVICE_LABELS,
    claims_text,
    h3_polygons,
    site_properties,
)
from assetmap.outputs._point_props import text_column as _text

__all__ = ["FIX_FIRST", "SERVICE_LABELS", "add_point_layers", "claims_text", "h3_polygons",
           "site_properties"]

#: Decimal places kept in embedded polygon coordinates (about 1 m).
_PRECISION = 5

_REACH_KEY = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="22" height="22" viewBox="0 0 22 22">'
    '<circle cx="11" cy="11" r="9" fill="#b30000" fill-opacity="0.07" stroke="#b30000" '
    'stroke-width="1.5" stroke-dasharray="3 2"/></svg>'
)


def _plan_reach(plan: pd.DataFrame, reach_m: float | None) -> float | None:
    """Return the plan's reach in metres: given, else the plan report's when a number."""
    if reach_m is None:
        reach_m = (get_report(plan).get("plan") or {}).get("reach_m")
    if isinstance(reach_m, int | float) and not isinstance(reach_m, bool) and reach_m > 0:
        return float(reach_m)
    return None


def _add_polygon_theme(
    m: Any,
    geometry: Any,
    props: pd.DataFrame,
    classes: Any,
    sections: list[LegendSection],
    *,
    name: str,
    label: str,
    css_class: str,
    fields: list[list[str]],
    legend_title: str,
    language: str = "en",
) -> None:
    """Add a classed polygon layer (delta-encoded data, theme layer, hidden legend section).

    Classes that colour alone cannot keep apart are hatched and numbered, as on the print map.
    """
    ids, defs = svg_patterns(classes.colors) if marked(classes) else (None, "")
    if ids:
        props = props.assign(f0=numbered_values(props["f0"], classes.idx, language=language))
    data = GeoJsonData(
        feature_collection(geometry, props, encode_precision=_PRECISION), precision=_PRECISION
    )
    m.add_child(data)
    layer = ThemeLayer(
        data, name=name, key="c0", value_key="f0", label=label, colors=classes.colors,
        css_class=css_class, fields=fields, patterns=ids, defs=defs,
    )
    m.add_child(layer)
    sections.append(LegendSection(layer.get_name(), legend_title, classes, show=False,
                                  patterns=ids))


def add_point_layers(
    m: Any,
    *,
    sites: gpd.GeoDataFrame | None,
    schools: gpd.GeoDataFrame | None,
    zones: gpd.GeoDataFrame | None,
    h3_cells: pd.DataFrame | None,
    plan: gpd.GeoDataFrame | None,
    scheme: str,
    k: int,
    sections: list[LegendSection],
    plan_reach_m: float | None = None,
    language: str = "en",
) -> list[str]:
    """Add the H3, zone, school, site and plan layers present; return illustrative layer names.

    With ``plan_reach_m``, each proposed site also shows a circle of that reach (its coverage
    area, as the site selection counted it).
    """
    _ = messages(language)
    illustrative: list[str] = []

    if h3_cells is not None and len(h3_cells):
        cells = h3_polygons(h3_cells)
        classes = classify(cells["fiber_share"], column="fiber_share", scheme=scheme, k=k)
        props = pd.DataFrame(
            {
                "n": [_("H3 cell {cell}", cell=c) for c in cells["h3_res8_id"].astype(str)],
                "c0": classes.idx,
                "f0": [format_value(v, "share", language=language) for v in cells["fiber_share"]],
                "f1": [format_value(v, "count", language=language)
                       for v in cells.get("locations", np.nan)],
            }
        )
        _add_polygon_theme(
            m, cells.geometry, props, classes, sections,
            name=_("Fiber presence (H3 res-8 cells)"), label=_("Fiber presence"),
            css_class="am-h3",
            fields=[["f0", _("Fiber presence"), ""], ["f1", _("Locations"), ""]],
            legend_title=_("Fiber presence by H3 cell (%)"), language=language,
        )
        if get_report(h3_cells).get("illustrative"):
            illustrative.append(_("BDC locations (H3 cells)"))

    if zones is not None and len(zones) and "priority" in zones:
        zone_geo = to_wgs84(zones)
        if zone_geo.geom_type.isin(["Polygon", "MultiPolygon"]).all():
            classes = classify(zone_geo["priority"], column="priority", scheme=scheme, k=k)
            props = pd.DataFrame(
                {
                    "n": _text(zone_geo, "name").fillna(_("(school zone)")).to_numpy(),
                    "c0": classes.idx,
                    "f0": [format_value(v, "index", language=language)
                           for v in zone_geo["priority"]],
                    "f1": _text(zone_geo, "drivers").map(
                        lambda t: driver_text(t, _), na_action="ignore").to_numpy(),
                }
            )
            geometry = simplify_coverage(zone_geo.geometry, tolerance_m=None, precision=5)
            _add_polygon_theme(
                m, geometry, props, classes, sections,
                name=_("School zones: priority"), label=_("Priority"), css_class="am-zone",
                fields=[["f0", _("Priority (0-100)"), ""], ["f1", _("Drivers"), ""]],
                legend_title=_("School zones: priority (0-100)"), language=language,
            )
        if get_report(zones).get("illustrative"):
            illustrative.append(_("school zones"))

    keys: list[tuple[str, str]] = []
    if schools is not None and len(schools):
        school_geo = to_wgs84(schools)
        props = pd.DataFrame(
            {
                "n": _text(school_geo, "name").fillna(_("(school)")),
                "t": "campus",
                "gr": _text(school_geo, "grades"),
                "en": [
                    format_value(v, "count", language=language) if pd.notna(v) else None
                    for v in school_geo.get("enrollment", pd.Series(pd.NA, index=school_geo.index))
                ],
                "ty": _text(school_geo, "school_type").map(
                    lambda t: _(SCHOOL_TYPES[t]) if t in SCHOOL_TYPES else t, na_action="ignore"),
            }
        )
        fields = [["gr", _("Grades"), ""], ["en", _("Enrollment"), ""], ["ty", _("Type"), ""]]
        if zones is not None and "school_id" in zones and "school_id" in school_geo:
            by_id = pd.DataFrame(zones).drop_duplicates("school_id").set_index("school_id")
            ids = school_geo["school_id"].astype(str)
            if "priority" in by_id:
                props["pr"] = [format_value(v, "index", language=language)
                               for v in ids.map(by_id["priority"])]
                fields.append(["pr", _("Zone priority (0-100)"), ""])
            if "drivers" in by_id:
                props["dr"] = ids.map(by_id["drivers"]).astype("string").map(
                    lambda t: driver_text(t, _), na_action="ignore").to_numpy()
                fields.append(["dr", _("Drivers"), ""])
        points = school_geo.geometry.representative_point()
        m.add_child(
            PointLayer(
                feature_collection(points, props.reset_index(drop=True)),
                name=_("Schools"),
                icons={"campus": icon_svg("campus")},
                fields=fields,
                css_class="am-icon am-school",
            )
        )
        keys.append((icon_svg("campus"), _(SITE_TYPES["campus"][2])))
        if get_report(schools).get("illustrative"):
            illustrative.append(_("schools"))

    if sites is not None and len(sites):
        site_geo = to_wgs84(sites)
        props, fields = site_properties(site_geo, language=language)
        icons = {t: icon_svg(t, language=language) for t in SITE_TYPES}
        points = site_geo.geometry.representative_point()
        m.add_child(
            PointLayer(
                feature_collection(points, props.reset_index(drop=True)),
                name=_("Partner sites"),
                icons=icons,
                fields=fields,
                css_class="am-icon am-site",
            )
        )
        for site_type in sorted(set(props["t"])):
            keys.append((icons[site_type], _(SITE_TYPES[site_type][2])))
        flagged = site_geo.get("illustrative")
        if get_report(sites).get("illustrative") or (
            flagged is not None and flagged.astype("boolean").fillna(False).any()
        ):
            illustrative.append(_("partner sites"))

    if plan is not None and len(plan):
        plan_geo = to_wgs84(plan)
        order = plan_geo.get("order", pd.Series(range(1, len(plan_geo) + 1), index=plan_geo.index))
        props = pd.DataFrame(
            {
                "n": _text(plan_geo, "name").fillna(_("(proposed site)")),
                "t": ["plan" + str(int(o)) for o in order],
                "o": [str(int(o)) for o in order],
                "g": [
                    format_value(v, "count", language=language)
                    for v in plan_geo.get(
                        "covered_demand_gain", pd.Series(np.nan, index=plan_geo.index)
                    )
                ],
                "cs": [
                    format_value(v, "share", language=language)
                    for v in plan_geo.get(
                        "coverage_share_cumulative", pd.Series(np.nan, index=plan_geo.index)
                    )
                ],
            }
        )
        icons = {f"plan{int(o)}": icon_svg("plan", text=str(int(o))) for o in order}
        icons["other"] = icon_svg("plan")
        fields = [
            ["o", _("Order"), ""],
            ["g", _("Demand covered (gain)"), ""],
            ["cs", _("Coverage (cumulative)"), ""],
        ]
        reach = _plan_reach(plan, plan_reach_m)
        if reach is not None:
            props["r"] = reach
            props["rt"] = format_value(reach, "m")
            fields.append(["rt", _("Reach (dashed circle)"), ""])
        m.add_child(
            PointLayer(
                feature_collection(
                    plan_geo.geometry.representative_point(), props.reset_index(drop=True)
                ),
                name=_("Proposed sites (plan)"),
                icons=icons,
                fields=fields,
                css_class="am-icon am-plan",
                radius_key="r" if reach is not None else None,
            )
        )
        keys.append((icon_svg("plan"), _("Proposed site (plan order)")))
        if reach is not None:
            keys.append((_REACH_KEY, _("Its reach: {distance}", distance=format_value(reach, "m"))))
        if get_report(plan).get("illustrative"):
            illustrative.append(_("plan"))

    if keys:
        sections.append(LegendSection("", _("Sites"), keys=keys))
    return illustrative
