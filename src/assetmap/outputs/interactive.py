"""The interactive equity map: a folium map of scored tracts, schools and partner sites.

Shaped like :meth:`geopandas.GeoDataFrame.explore`: frames in, a :class:`folium.Map` out, layers
stacked on ``m=`` when given. Tracts are simplified as a coverage and embedded once; every theme
(priority, fiber presence, BEAD service, adoption, need, access, survey) is a switchable layer
with its own legend; the legend always names the BEAD rule set the service levels follow.
Classes whose colours cannot reach 3:1 against their neighbours are also hatched (SVG patterns,
the print map's :data:`~assetmap.outputs._class_marks.CLASS_HATCHES`) and numbered, in the
legend, on the areas and in their tooltips, popups and table rows (WCAG 1.4.1, 1.4.11).
``offline=True`` inlines Leaflet and the plugins so the saved HTML opens with no network. The
tract table lives in :mod:`assetmap.outputs._tract_table`, the map's frame (tiles,
attribution) in :mod:`assetmap.outputs._basemap`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
import shapely

from assetmap._i18n import N_, messages
from assetmap._report import get_report, merge_sources
from assetmap.errors import SchemaError
from assetmap.outputs import _points
from assetmap.outputs._basemap import (
    AttributionScript,
    PageFrame,
    has_child,
    import_folium,
    new_map,
    resolve_tiles,
    with_licences,
)
from assetmap.outputs._challenge_layer import add_challenge_layer
from assetmap.outputs._class_marks import marked, svg_patterns
from assetmap.outputs._classes import Classes, column_info
from assetmap.outputs._geometry import feature_collection, simplify_coverage, to_wgs84
from assetmap.outputs._layers import (
    GeoJsonData,
    HelperScript,
    HtmlControl,
    OutlineLayer,
    PointLayer,
    ThemeLayer,
    TitleBlock,
    to_js,
)
from assetmap.outputs._legend import (
    LegendSection,
    attribution_html,
    column_title,
    legend_html,
    numbered_values,
    title_html,
)
from assetmap.outputs._minimap import OutlineMiniMap
from assetmap.outputs._render import FullscreenControl, LayerSwitcher, MeasureTool, has_control
from assetmap.outputs._rules_text import (
    ASSUMED,
    rules_known,
    rules_of,
    rules_sentence,
    rules_title,
)
from assetmap.outputs._tract_table import (
    data_tables_html,
    extra_tract_layers,
    merge_survey,
    survey_text,
    theme_classes,
    tract_table,
)

if TYPE_CHECKING:
    import folium

__all__ = ["KEY_FIGURES", "THEMES", "equity_map"]

# switchable tract layers after the main column: (column, layer name)
THEMES: list[tuple[str, str]] = [
    ("fiber_share", N_("Fiber presence (tract share)")),
    ("unserved_share", N_("BEAD service level: unserved")),
    ("adoption_gap", N_("Adoption gap")),
    ("need", N_("Need")),
    ("resource_gap", N_("Access gap")),
    ("survey_limited_rate", N_("Family survey: no or limited internet")),
]
# the figures a tract's popup lists, when the scored frame has them
KEY_FIGURES: list[str] = [
    "priority",
    "priority_rank",
    "households",
    "locations",
    "fiber_share",
    "unserved_share",
    "underserved_share",
    "no_internet_share",
    "no_computer_share",
    "poverty_share",
    "children",
    "dist_library_m",
    "sites_within_reach",
    "infrastructure_gap",
    "adoption_gap",
    "need",
    "resource_gap",
    "survey_no_internet_rate",
    "survey_limited_rate",
    "unreliable",
    "missing_inputs",
]


def equity_map(
    scored: gpd.GeoDataFrame,
    *,
    column: str = "priority",
    scheme: str = "quantiles",
    bins: list[float] | None = None,
    k: int = 5,
    sites: gpd.GeoDataFrame | None = None,
    schools: gpd.GeoDataFrame | None = None,
    zones: gpd.GeoDataFrame | None = None,
    district: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    h3_cells: pd.DataFrame | None = None,
    survey: pd.DataFrame | None = None,
    plan: gpd.GeoDataFrame | None = None,
    plan_reach_m: float | None = None,
    interventions: bool = True,
    evidence: pd.DataFrame | None = None,
    challenges: gpd.GeoDataFrame | None = None,
    change: pd.DataFrame | None = None,
    change_since: str | None = None,
    title: str | None = None,
    m: folium.Map | None = None,
    tiles: Any = "OpenStreetMap",
    offline: bool = False,
    assets_dir: str | Path | None = None,
    simplify_tolerance_m: float | None = 25.0,
    precision: int | None = 5,
    survey_min_responses: int | None = None,
    width: str | int = "100%",
    height: str | int = "100%",
    language: str = "en",
) -> folium.Map:
    """Draw the equity map: a tract choropleth with switchable themes, schools and partner sites.

    Parameters
    ----------
    scored : GeoDataFrame
        Scored tracts (docs/data-model.md "Scored tracts"); any CRS (reprojected to EPSG:4326).
    column : str
        The column shown first (``priority`` by default); any numeric scored column.
    scheme : {"quantiles", "natural_breaks", "user"}
        Classification (mapclassify; natural breaks are Fisher-Jenks); ``bins`` for ``"user"``.
    k : int
        Number of classes.
    sites, schools, zones, district, plan : GeoDataFrame, optional
        Partner sites (icons by ``site_type``; popups list services, hours, capacity, status and
        flag sites whose ``site_service_level`` is unserved), school points, school zones
        (polygons with ``priority``), the district outline and the plan's proposed sites.
    h3_cells : DataFrame, optional
        BDC H3 res-8 cells: ``h3_res8_id``, ``fiber_share``, ``locations``.
    survey : DataFrame, optional
        Survey rates by ``GEOID`` (aggregated, suppressed); else the scored frame's own rates.
    plan_reach_m : float, optional
        Reach of the proposed sites in metres, drawn as a dashed circle around each (default:
        the plan's own ``reach_m`` when its report has one).
    interventions : bool
        Add the "Recommended intervention" layer when ``scored`` has ``intervention``
        (``recommend_interventions``; the reason shows in the popup).
    evidence : DataFrame, optional
        ``claims_vs_evidence`` by tract: the "Claims vs evidence" layer (flags, counts,
        strength; a suppressed survey cell shows as suppressed).
    challenges : GeoDataFrame, optional
        ``challenge_candidates``: one polygon per area with the BDC claims and the evidence.
    change : DataFrame, optional
        ``release_change_report(...).tracts``: the "Change since ..." layer (newly served,
        fiber gained, providers entering and leaving).
    change_since : str, optional
        Name of the earlier release for that layer (e.g. ``"December 2024"``).
    title : str, optional
        Title block text (escaped).
    m : folium.Map, optional
        Existing map to add the layers to.
    tiles : str, xyzservices.TileProvider or None
        Background tiles (None: a plain background; the layers show the same).
    offline : bool
        Inline Leaflet and every plugin's JS/CSS (from the shipped copies or ``assets_dir``).
    simplify_tolerance_m : float or None
        Coverage-preserving simplification tolerance in metres (None: none).
    precision : int or None
        Decimal places of the embedded coordinates.
    survey_min_responses : int, optional
        Suppression threshold named for suppressed survey cells (else read from the report).
    width, height : str or int
        Size of a new map.
    language : {"en", "es"}
        Language of every word the map writes (legend, layers, popups, table, buttons); the
        page's ``lang``. Names from the data (places, partners, providers) stay as given.

    Returns
    -------
    folium.Map

    Examples
    --------
    >>> import geopandas as gpd
    >>> from assetmap.datasets import data_path
    >>> tracts = gpd.read_file(data_path("boundaries", "ector_tracts_2020.geojson"))
    >>> tracts["priority"] = range(len(tracts))
    >>> m = equity_map(tracts, tiles=None, title="Ector County")
    >>> "Ector County" in m.get_root().render()
    True
    >>> "Ver como tabla" in equity_map(tracts, tiles=None, language="es").get_root().render()
    True
    """
    folium = import_folium()
    _ = messages(language)
    language = _.language

    if not isinstance(scored, gpd.GeoDataFrame):
        raise SchemaError("equity_map needs a GeoDataFrame of scored tracts (with geometry)")
    if column not in scored:
        raise SchemaError(
            f"equity_map: column {column!r} is not in the scored frame; numeric columns: "
            f"{', '.join(c for c in scored.columns if pd.api.types.is_numeric_dtype(scored[c]))}"
        )
    gdf = merge_survey(to_wgs84(scored), survey)
    gdf.attrs = {}  # a copy; reports are read from the inputs, not copied at every step
    geometry = simplify_coverage(
        gdf.geometry, tolerance_m=simplify_tolerance_m, precision=precision
    )
    sources, vintages, _r = merge_sources(scored, survey, sites, schools, zones, h3_cells, plan,
                                   evidence, challenges, change)
    suppressed_text = survey_text(survey if survey is not None else scored, survey_min_responses,
                                  language=language)

    themes = [(column, _(column_info(column).label))]
    themes += [(c, _(name)) for c, name in THEMES if c != column and c in gdf]
    popup_columns = [column, *[c for c in KEY_FIGURES if c != column]]
    popup_columns += [c for c, _name in themes if c not in popup_columns]
    props, fields, keys = tract_table(gdf, popup_columns, vintages, suppressed_text,
                                      language=language)
    tract_layers = extra_tract_layers(
        gdf, props, interventions=interventions, evidence=evidence, change=change,
        change_since=change_since, suppressed_text=suppressed_text, language=language,
    )

    if m is None:
        m = new_map(folium, gdf, tiles, width=width, height=height, language=language)
    if not has_child(m, HelperScript):
        m.add_child(HelperScript())

    class_table: dict[str, Classes] = {}
    marks: dict[str, tuple[list[str | None], str]] = {}  # hatch patterns, when colour is not enough
    for i, (col, _name) in enumerate(themes):
        classes = theme_classes(gdf, col, scheme=scheme, k=k, bins=bins if i == 0 else None)
        class_table[col] = classes
        props[f"c{i}"] = classes.idx
        if marked(classes):
            marks[col] = svg_patterns(classes.colors)
            props[keys[col]] = numbered_values(props[keys[col]], classes.idx, language=language)
    data = GeoJsonData(
        feature_collection(geometry, props, encode_precision=precision), precision=precision
    )
    m.add_child(data)

    legend = HtmlControl("", position="bottomleft", css_class="am-legend", label=_("Map legend"))
    m.add_child(legend)  # before the layers, so their add/remove events find its sections
    sections: list[LegendSection] = []
    for i, (col, name) in enumerate(themes):
        classes = class_table[col]
        layer = ThemeLayer(
            data,
            name=name,
            key=f"c{i}",
            value_key=keys[col],
            label=_(classes.info.label),
            colors=classes.colors,
            fields=fields,
            css_class=f"am-tract am-{col}",
            show=i == 0,
            patterns=marks[col][0] if col in marks else None,
            defs=marks[col][1] if col in marks else "",
        )
        m.add_child(layer)
        extra = [("#f7f7f7", suppressed_text)] if (classes.idx == -2).any() else []
        vintage = vintages.get(col)
        sections.append(
            LegendSection(
                layer.get_name(),
                column_title(classes.info, language=language),
                classes,
                show=i == 0,
                notes=[_("Source: {source}", source=_.recorded(vintage))] if vintage else [],
                extra_swatches=extra,
                patterns=marks[col][0] if col in marks else None,
            )
        )

    for tract_layer in tract_layers:
        tract_layer.add_to(m, data, sections)
    illustrative = _points.add_point_layers(
        m,
        sites=sites,
        schools=schools,
        zones=zones,
        h3_cells=h3_cells,
        plan=plan,
        scheme=scheme,
        k=k,
        sections=sections,
        plan_reach_m=plan_reach_m,
        language=language,
    )
    illustrative += add_challenge_layer(m, challenges, sections, evidence=evidence,
                                        precision=precision or 5, language=language)
    illustrative += [x.illustrative for x in tract_layers if x.illustrative]
    if get_report(scored).get("illustrative"):
        illustrative.insert(0, _("tract scores"))
    if survey is not None and get_report(survey).get("illustrative"):
        illustrative.append(_("survey"))

    bdc = (scored, evidence, change, challenges)
    rules, assumed = rules_of(*bdc), _(ASSUMED)
    sections.append(LegendSection("", rules_title(rules, language=language), notes=[
        rules_sentence(rules, language=language),
        *([_("Source: {source}", source=_.recorded(rules.source))] if rules.source else []),
        *([] if rules_known(*bdc) else [assumed[:1].upper() + assumed[1:]])]))

    outline = None
    if district is not None:
        district_geo = to_wgs84(district)
        outline = feature_collection(
            simplify_coverage(district_geo.geometry, tolerance_m=None, precision=precision),
            pd.DataFrame(index=range(len(district_geo))),
        )
        m.add_child(OutlineLayer(outline, name=_("District boundary"), css_class="am-district"))
        sections.append(LegendSection("", _("District boundary"),
                                      keys=[("\u2504\u2504", _("district outline"))]))
    legend.html_js = to_js(legend_html(sections, language=language))

    if title:
        subtitle = _("Illustrative data") if illustrative else None
        m.add_child(TitleBlock(title_html(title, subtitle)))
    tile_url, _attr = resolve_tiles(tiles)
    if not has_control(m, "Fullscreen"):
        fullscreen = FullscreenControl(position="topleft")
        fullscreen.options.update(title=_("Full Screen"), title_cancel=_("Exit Full Screen"))
        m.add_child(fullscreen)
    if not has_control(m, "MeasureControl"):  # leaflet-measure has its own Spanish words
        words = {} if language == "en" else {"localization": language}
        m.add_child(MeasureTool(position="topleft", primary_length_unit="miles",
                                secondary_length_unit="meters", **words))
    if not has_child(m, OutlineMiniMap):
        area = gpd.GeoSeries([shapely.coverage_union_all(geometry.values)], crs=4326)
        area = area.simplify(0.002)
        m.add_child(
            OutlineMiniMap(feature_collection(area, pd.DataFrame(index=[0])), tiles=tile_url,
                           strings={"hideText": _("Hide MiniMap"),
                                    "showText": _("Show MiniMap")})
        )
    attribution = attribution_html(sources, illustrative=illustrative, language=language)
    attribution = with_licences(attribution, sources, language=language)
    if attribution:
        m.add_child(AttributionScript(attribution))
    points = [c for c in m._children.values() if isinstance(c, PointLayer)]
    m.add_child(HtmlControl(data_tables_html(props, fields, points, source=data.get_name(),
                                             language=language),
                            position="topleft", css_class="am-data-control"))  # text alternative
    for key, child in list(m._children.items()):  # one layer control, after every layer
        if isinstance(child, folium.LayerControl | PageFrame):
            del m._children[key]
    switcher = LayerSwitcher(collapsed=False, position="topright")
    m.add_child(switcher)
    m.add_child(PageFrame(title or _("Equity map"), layers=switcher.get_name(),
                          language=language))
    if offline:
        from assetmap.outputs._offline import inline_assets

        inline_assets(m, assets_dir=assets_dir)
    return m

