"""Equity-map layers beyond the tract themes: sites, schools, zones, H3 cells and the plan."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from assetmap._i18n import N_, messages
from assetmap._report import get_report
from assetmap.errors import SchemaError
from assetmap.outputs._classes import classify, format_value
from assetmap.outputs._geometry import feature_collection, simplify_coverage, to_wgs84
from assetmap.outputs._layers import GeoJsonData, PointLayer, ThemeLayer
from assetmap.outputs._legend import SITE_TYPES, LegendSection, icon_svg

__all__ = ["SERVICE_LABELS", "add_point_layers", "claims_text", "h3_polygons", "site_properties"]

SERVICE_LABELS = {
    "public_wifi": N_("public Wi-Fi"),
    "device_lending": N_("device lending"),
    "hotspot_lending": N_("hotspot lending"),
    "computer_lab": N_("computer lab"),
    "tutoring": N_("tutoring"),
    "child_care": N_("child care"),
    "digital_literacy": N_("digital literacy"),
    "device_repair": N_("device repair"),
}
FIX_FIRST = N_("Needs a connectivity fix first: this site's location is unserved")
#: Site statuses (the partner list's codes) as the popup says them.
STATUS_LABELS = {"inquiry": N_("inquiry"), "vetted": N_("vetted"),
                 "agreement_signed": N_("agreement signed"), "active": N_("active"),
                 "ended": N_("ended")}
#: School levels as TEA and NCES name them; other values are shown as given.
SCHOOL_TYPES = {"Elementary School": N_("Elementary School"), "Middle School": N_("Middle School"),
                "High School": N_("High School"),
                "Elementary/Secondary": N_("Elementary/Secondary")}


#: Decimal places kept in embedded polygon coordinates (about 1 m).
_PRECISION = 5

def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    return frame[column].astype("string").str.strip().replace("", pd.NA)


def _services(values: pd.Series, language: str = "en") -> pd.Series:
    _ = messages(language)

    def label(text: Any) -> Any:
        if text is pd.NA or text is None:
            return pd.NA
        codes = [c.strip() for c in str(text).split(";") if c.strip()]
        return ", ".join(_(SERVICE_LABELS[c]) if c in SERVICE_LABELS else c
                         for c in codes) or pd.NA

    return values.map(label)


def _capacity(frame: pd.DataFrame, language: str = "en") -> pd.Series:
    _ = messages(language)
    nouns = {  # (singular, plural) of each capacity, counted
        "capacity_seats": lambda n: _.plural("{count} seat", "{count} seats", n),
        "capacity_devices": lambda n: _.plural("{count} device", "{count} devices", n),
        "capacity_hotspots": lambda n: _.plural("{count} hotspot", "{count} hotspots", n),
    }
    parts = []
    for column, noun in nouns.items():
        if column in frame:
            values = pd.to_numeric(frame[column], errors="coerce")
            parts.append(values.map(lambda v, n=noun: n(round(v)) if pd.notna(v) else ""))
    if not parts:
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    joined = pd.concat(parts, axis=1).apply(lambda r: ", ".join(x for x in r if x), axis=1)
    return joined.replace("", pd.NA)


def site_properties(sites: pd.DataFrame, *,
                    language: str = "en") -> tuple[pd.DataFrame, list[list[str]]]:
    """Return the popup properties of partner sites (only what the popup shows) and fields.

    Examples
    --------
    >>> s = pd.DataFrame({"name": ["Library"], "site_type": ["library"],
    ...                   "services": ["public_wifi;tutoring"], "status": ["active"]})
    >>> props, fields = site_properties(s)
    >>> props.loc[0, "sv"]
    'public Wi-Fi, tutoring'
    >>> site_properties(s, language="es")[0].loc[0, "sv"]
    'Wi-Fi público, tutoría'
    """
    _ = messages(language)
    types = _text(sites, "site_type").fillna("other")
    status = _text(sites, "status")
    props = pd.DataFrame(
        {
            "n": _text(sites, "name").fillna(_("(unnamed site)")),
            "t": types.where(types.isin(SITE_TYPES.keys()), "other"),
            "ty": types.map(lambda t: _(SITE_TYPES.get(t, SITE_TYPES["other"])[2])),
            "sv": _services(_text(sites, "services"), language),
            "h": _text(sites, "hours"),
            "c": _capacity(sites, language),
            "st": status.map(lambda c: _(STATUS_LABELS[c]) if c in STATUS_LABELS else c,
                             na_action="ignore").astype("string").str.replace("_", " "),
        },
        index=sites.index,
    )
    level = _text(sites, "site_service_level").str.lower()
    props["fx"] = pd.Series(pd.NA, index=sites.index, dtype="string").mask(
        level.eq("unserved").fillna(False), _(FIX_FIRST)
    )
    if "illustrative" in sites:
        flags = sites["illustrative"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        no_flag = np.array(None, dtype=object)  # numpy's stubs refuse a bare None here
        props["il"] = np.where(flags, _("yes (synthetic record)"), no_flag)
    fields = [
        ["ty", _("Type"), ""],
        ["sv", _("Services"), ""],
        ["h", _("Hours"), ""],
        ["c", _("Capacity"), ""],
        ["st", _("Status"), ""],
        ["il", _("Illustrative"), ""],
    ]
    return props, fields


def h3_polygons(cells: pd.DataFrame) -> gpd.GeoDataFrame:
    """Return H3 res-8 cells as polygons (outlines from ``h3.cell_to_boundary``).

    Examples
    --------
    >>> g = h3_polygons(pd.DataFrame({"h3_res8_id": ["8848a2a4c5fffff"], "fiber_share": [0.5]}))
    >>> g.geometry.iloc[0].geom_type, len(g.geometry.iloc[0].exterior.coords)
    ('Polygon', 7)
    """
    import h3

    if "h3_res8_id" not in cells:
        raise SchemaError("h3_cells= needs an 'h3_res8_id' column (BDC H3 res-8 cell ids)")
    ids = cells["h3_res8_id"].astype(str).str.strip().str.lower()
    boundaries = [h3.cell_to_boundary(cell) for cell in ids]  # (lat, lng) vertices, open ring
    sizes = np.fromiter((len(b) for b in boundaries), dtype=np.intp, count=len(boundaries))
    latlng = np.array([v for b in boundaries for v in b], dtype=float).reshape(-1, 2)
    rings = shapely.linearrings(latlng[:, ::-1], indices=np.repeat(np.arange(len(sizes)), sizes))
    polygons = shapely.polygons(rings) if len(sizes) else np.array([], dtype=object)
    return gpd.GeoDataFrame(pd.DataFrame(cells).copy(), geometry=polygons, crs=4326)


def claims_text(table: pd.DataFrame, *, language: str = "en") -> pd.Series:
    """Return one line per area: each provider's technology and claimed speeds."""
    _ = messages(language)
    line = pd.Series([
        _.plural("{provider}: {technology} {down}/{up} Mbps ({count} location)",
                 "{provider}: {technology} {down}/{up} Mbps ({count} locations)", int(n),
                 provider=brand, technology=_(str(tech)), down=int(down), up=int(up))
        for brand, tech, down, up, n in zip(
            table["brand_name"].astype(str), table["technology_name"].astype(str),
            table["claimed_down_mbps"], table["claimed_up_mbps"], table["locations_claimed"],
            strict=True)], index=table.index, dtype=object)
    return line.groupby(table["area_id"], sort=False).agg("; ".join)


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
) -> None:
    """Add a classed polygon layer (delta-encoded data, theme layer, hidden legend section)."""
    data = GeoJsonData(
        feature_collection(geometry, props, encode_precision=_PRECISION), precision=_PRECISION
    )
    m.add_child(data)
    layer = ThemeLayer(
        data, name=name, key="c0", value_key="f0", label=label, colors=classes.colors,
        css_class=css_class, fields=fields,
    )
    m.add_child(layer)
    sections.append(LegendSection(layer.get_name(), legend_title, classes, show=False))


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
            legend_title=_("Fiber presence by H3 cell (%)"),
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
                    "f1": _text(zone_geo, "drivers").to_numpy(),
                }
            )
            geometry = simplify_coverage(zone_geo.geometry, tolerance_m=None, precision=5)
            _add_polygon_theme(
                m, geometry, props, classes, sections,
                name=_("School zones: priority"), label=_("Priority"), css_class="am-zone",
                fields=[["f0", _("Priority (0-100)"), ""], ["f1", _("Drivers"), ""]],
                legend_title=_("School zones: priority (0-100)"),
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
                props["dr"] = ids.map(by_id["drivers"]).astype("string").to_numpy()
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
        icons = {t: icon_svg(t) for t in SITE_TYPES}
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
