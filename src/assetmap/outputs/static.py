"""The print map: a matplotlib figure for proposals (PNG at 300 dpi, SVG, PDF), no tiles needed.

It uses the same classes, colours and legend labels as the interactive map
(:mod:`assetmap.outputs._classes`) and adds what a printed map needs: title, legend with units,
a scale bar measured in the area's UTM CRS, a north arrow pointing to true north, an inset
locator, labels for the top priority tracts, the sources and vintages of the data, and a
footnote naming the BEAD rule set the service levels follow (its definition and source).
Every word on it comes from the message catalogue in the ``language`` asked for.

The figure is drawn on matplotlib's Agg canvas directly (pyplot is never imported, so no
figure is kept in a global registry). Importing this module loads matplotlib and its PDF
backend, so a process that will draw can import it ahead of time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import cast

import geopandas as gpd
import matplotlib
import matplotlib.backends.backend_pdf  # loaded with the module, not mid-drawing
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch, PathPatch, Rectangle
from matplotlib.path import Path as MplPath
from matplotlib.patheffects import withStroke
from matplotlib.transforms import Bbox
from pyproj import Transformer

from assetmap._crs import estimate_utm
from assetmap._i18n import N_, Messages, messages
from assetmap._report import merge_sources
from assetmap.errors import ConfigError, SchemaError
from assetmap.outputs._class_marks import mark_classes
from assetmap.outputs._classes import NO_DATA_COLOR, Classes, classify
from assetmap.outputs._district_area import draw_district_outline
from assetmap.outputs._legend import column_title
from assetmap.outputs._pdf_tags import tag_print_pdfs
from assetmap.outputs._png import write_png
from assetmap.outputs._print_layout import PrintParts, arrange_body, fit_labels, place_bands
from assetmap.outputs._rules_text import rules_known, rules_line, rules_of

__all__ = ["PAPER_SIZES", "print_map"]

PAPER_SIZES = {"letter": (8.5, 11.0), "a4": (8.27, 11.69)}  # inches, portrait
_FORMATS = (".png", ".svg", ".pdf")


#: The inset locator is drawn only when its context is at least this much larger in area.
INSET_MIN_AREA_RATIO = 1.5
#: Classification schemes as the map's note names them, translated where shown.
_SCHEME_NAMES = {"quantiles": N_("quantiles"), "natural_breaks": N_("natural breaks"),
                 "user": N_("user")}


def _png_metadata() -> dict[str, str]:
    """Return the text chunk matplotlib's ``savefig`` writes into a PNG."""
    return {"Software": f"Matplotlib version{matplotlib.__version__}, https://matplotlib.org/"}


def _plain(text: str) -> str:
    """Return text that matplotlib draws literally (no mathtext from ``$``)."""
    return text.replace("$", r"\$")


def _add_polygons(ax, frame: gpd.GeoDataFrame | gpd.GeoSeries, **style) -> None:
    """Draw (multi)polygons as ``GeoDataFrame.plot`` draws them, without going through pyplot.

    Same patches (normalised rings, one compound path per geometry), same collection and
    autoscaling; unlike ``plot`` it does not import pyplot nor ask the canvas to redraw.
    Anything other than non-empty (multi)polygons is left to ``plot``.
    """
    geoms = frame.geometry if isinstance(frame, gpd.GeoDataFrame) else frame
    if geoms.isna().any() or geoms.is_empty.any() or not geoms.geom_type.isin(
        ["Polygon", "MultiPolygon"]
    ).all():
        frame.plot(ax=ax, **style)
        return
    if "color" in style:  # as plot does: colour fills, the edge colour stays its own
        style["facecolor"] = np.asarray(style.pop("color"))
    patches = []
    for geom in geoms.normalize().values:
        paths = []
        for part in getattr(geom, "geoms", [geom]):
            paths.append(MplPath(np.asarray(part.exterior.coords)[:, :2], closed=True))
            paths.extend(MplPath(np.asarray(r.coords)[:, :2], closed=True) for r in part.interiors)
        patches.append(PathPatch(MplPath.make_compound_path(*paths)))
    ax.set_aspect("equal")  # plot's "auto" aspect for a projected CRS
    ax.add_collection(PatchCollection(patches, **style), autolim=True)
    ax.autoscale_view()


def _nice_length(span_m: float) -> float:
    """Return a round scale-bar length (1, 2 or 5 x 10^n metres) near a quarter of the span."""
    target = span_m / 4
    exponent = 10 ** math.floor(math.log10(target))
    for step in (5, 2, 1):
        if step * exponent <= target:
            return step * exponent
    return exponent


def _scale_bar(ax, bounds: np.ndarray, strip: float) -> list:
    """Draw the scale bar in the strip under the tracts; return its artists."""
    minx, _miny, maxx, _maxy = bounds
    length = _nice_length(maxx - minx)
    x0, bottom = minx + (maxx - minx) * 0.04, ax.get_ylim()[0]
    y0, height = bottom + strip * 0.3, strip * 0.1
    artists = [
        ax.add_patch(Rectangle((x0 + i * length / 4, y0), length / 4, height,
                               facecolor="black" if i % 2 == 0 else "white",
                               edgecolor="black", linewidth=0.6, zorder=6))
        for i in range(4)  # alternating black/white quarters
    ]
    km = length / 1000
    label = f"{km:g} km ({km / 1.609344:.1f} mi)" if km >= 1 else f"{length:g} m"
    for x, text in ((x0, "0"), (x0 + length, label)):
        artists.append(ax.text(x, y0 + height + strip * 0.08, text, fontsize=7, ha="center",
                               va="bottom", zorder=6))
    return artists


def _north_angle(crs, bounds: np.ndarray) -> float:
    """Return the angle (radians, clockwise from the map's up) of true north at the centre."""
    to_geo = Transformer.from_crs(crs, 4326, always_xy=True)
    to_map = Transformer.from_crs(4326, crs, always_xy=True)
    cx, cy = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
    lon, lat = to_geo.transform(cx, cy)
    nx, ny = to_map.transform(lon, lat + 0.05)
    return math.atan2(nx - cx, ny - cy)


def _north_arrow(ax, angle: float) -> None:
    x, y, size = 0.5, 0.45, 0.6
    dx, dy = math.sin(angle) * size, math.cos(angle) * size
    ax.annotate(
        "",
        xy=(x + dx / 2, y + dy / 2),
        xytext=(x - dx / 2, y - dy / 2),
        xycoords="axes fraction",
        arrowprops={
            "arrowstyle": "-|>,head_length=0.8,head_width=0.4",
            "color": "black",
            "linewidth": 1.5,
        },
        zorder=6,
    )
    ax.text(
        x + dx * 0.75,
        y + dy * 0.75,
        "N",
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=10,
        fontweight="bold",
        zorder=6,
    )


def _credits_text(scored: pd.DataFrame, context: pd.DataFrame | pd.Series | None,
                  extra: str | None, *, _: Messages | None = None) -> str:
    """Return the sources, the rule-set line and ``extra``, one paragraph a line (unwrapped).

    The context's sources count too (read from its ``attrs``, which ``pd.DataFrame(context)``
    would drop).
    """
    _ = _ or messages("en")
    sources, _vintages, illustrative = merge_sources(scored, context)  # type: ignore[arg-type]
    unnamed = _("source")
    parts = [
        f"{_.recorded(s.get('name', unnamed))} ({_.recorded(s['vintage'])})"
        if s.get("vintage") else _.recorded(s.get("name"))
        for s in sources
    ]
    text = _("Sources: {sources}.", sources="; ".join(parts)) if parts else ""
    rules = rules_line(rules_of(scored), assumed=not rules_known(scored), language=_)
    lines = [line for line in (text, rules, extra) if line]
    if illustrative:
        lines.insert(0, _("Illustrative (synthetic) data: shows how the analysis works, not the "
                          "real situation."))
    return "\n".join(lines)


def build_print_map(
    scored: gpd.GeoDataFrame,
    *,
    column: str = "priority",
    scheme: str = "quantiles",
    bins: list[float] | None = None,
    k: int = 5,
    paper: str = "letter",
    orientation: str = "landscape",
    dpi: int = 300,
    title: str | None = None,
    label_top: int = 5,
    inset: bool = True,
    context: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    credits: str | None = None,  # noqa: A002 - the name users expect on a map
    language: str = "en",
) -> tuple[Figure, Classes, PrintParts]:
    """Draw the print map (options as :func:`print_map`); return the figure, classes and parts.

    The page is laid out from measured sizes (:mod:`assetmap.outputs._print_layout`).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from assetmap.datasets import data_path
    >>> tracts = gpd.read_file(data_path("boundaries", "ector_tracts_2020.geojson"))
    >>> fig, classes, parts = build_print_map(tracts.assign(priority=range(len(tracts))), dpi=50)
    >>> parts.title.get_text(), classes.k
    ('Priority', 5)
    """
    _ = messages(language)
    if paper not in PAPER_SIZES:
        raise ConfigError(f"paper must be one of {', '.join(PAPER_SIZES)}; got {paper!r}")
    if orientation not in ("landscape", "portrait"):
        raise ConfigError(f"orientation must be 'landscape' or 'portrait'; got {orientation!r}")
    if column not in scored:
        raise SchemaError(f"print_map: column {column!r} is not in the scored frame")

    gdf = scored.set_crs(4326) if scored.crs is None else scored
    utm = estimate_utm(gdf)
    gdf = gdf.to_crs(utm)
    classes = classify(gdf[column], column=column, scheme=scheme, k=k, bins=bins)
    width, height = PAPER_SIZES[paper]
    if orientation == "landscape":
        width, height = height, width
    fig = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)  # drawn directly, never through pyplot
    heading = fig.text(0, 0, "", fontweight="bold")
    notes = fig.text(0, 0, "", color="#333")
    *body, more = place_bands(fig, heading, _plain(title or _(classes.info.label)), notes,
                              _plain(_credits_text(scored, context, credits, _=_)))
    map_ax = fig.add_axes((0, body[0], 1, body[1] - body[0]))
    _add_polygons(map_ax, gdf, color=classes.color_of(), edgecolor="#4d4d4d", linewidth=0.35)
    map_ax.set_axis_off()
    map_ax.set_aspect("equal")
    parts = PrintParts(title=heading, credits=notes, map_ax=map_ax, credits_more=more)
    if label_top > 0:
        order = (
            gdf["priority_rank"] if "priority_rank" in gdf else gdf[column].rank(ascending=False)
        )
        top = gdf.assign(_rank=order).nsmallest(label_top, "_rank")
        names = top["NAME"].astype(str) if "NAME" in top else top.index.astype(str)
        halo = [withStroke(linewidth=2.5, foreground="white")]
        for point, rank, name in zip(
            top.geometry.representative_point(), top["_rank"], names, strict=True
        ):
            parts.labels.append(map_ax.annotate(
                _("#{rank} tract {name}", rank=int(rank), name=_plain(name)), (point.x, point.y),
                xytext=(0, 0), textcoords="offset points", fontsize=7, ha="center",
                va="center", fontweight="bold", path_effects=halo, zorder=7))

    handles = [
        Patch(facecolor=c, edgecolor="#4d4d4d", label=_plain(lab))
        for c, lab in zip(classes.colors, classes.labels, strict=True)
    ]
    if (classes.idx < 0).any():
        handles.append(Patch(facecolor=NO_DATA_COLOR, edgecolor="#4d4d4d", label=_("no data")))
    handles += draw_district_outline(map_ax, context, gdf, language=_.language)
    legend_title = _plain(column_title(classes.info, language=_.language))
    parts.legend = fig.legend(handles=handles, title=legend_title, loc="upper left",
                              fontsize=8, title_fontsize=9, frameon=False, alignment="left",
                              borderaxespad=0)
    mark_classes(map_ax, gdf, classes, parts.legend)  # patterns when colour is not enough
    parts.note = fig.text(0, 0, "", fontsize=7, color="#444")
    note = _("Classes: {scheme}, {count} classes", scheme=_(_SCHEME_NAMES.get(scheme, scheme)),
             count=classes.k)

    ctx = None
    if inset and context is not None:
        ctx = (context.set_crs(4326) if context.crs is None else context).to_crs(utm)
        # an inset only helps when the context is larger than the study area itself
        if ctx.union_all().area < INSET_MIN_AREA_RATIO * gdf.union_all().area:
            ctx = None
    bounds = gdf.total_bounds
    strip, arrow, inset_rect = arrange_body(fig, map_ax, parts.legend, legend_title, parts.note,
                                            note, bounds, (body[0], body[1]),
                                            want_inset=ctx is not None)
    parts.scale_bar = _scale_bar(map_ax, bounds, strip)
    parts.north_arrow = fig.add_axes(arrow)
    parts.north_arrow.set_axis_off()
    _north_arrow(parts.north_arrow, _north_angle(utm, bounds))
    if ctx is not None and inset_rect is not None:
        parts.inset_ax = inset_ax = fig.add_axes(inset_rect)
        _add_polygons(inset_ax, ctx, facecolor="#f0f0f0", edgecolor="#555", linewidth=0.6)
        study = gpd.GeoSeries([gdf.union_all()], crs=utm)
        _add_polygons(inset_ax, study, facecolor="#b30000", edgecolor="#b30000", alpha=0.6)
        inset_ax.set_axis_off()
        inset_ax.set_aspect("equal")
        inset_ax.set_anchor("N")
        inset_ax.set_title(_("Study area (red)"), fontsize=7)
    (x0, x1), (y0, y1) = map_ax.get_xlim(), map_ax.get_ylim()  # the tracts' frame, no strip
    fit_labels(fig, map_ax, parts.labels, Bbox(map_ax.transData.transform([(x0, y0 + strip),
                                                                          (x1, y1)])))
    return fig, classes, parts


def print_map(
    scored: gpd.GeoDataFrame,
    path: str | Path,
    *,
    column: str = "priority",
    scheme: str = "quantiles",
    bins: list[float] | None = None,
    k: int = 5,
    paper: str = "letter",
    orientation: str = "landscape",
    dpi: int = 300,
    title: str | None = None,
    label_top: int = 5,
    inset: bool = True,
    context: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    credits: str | None = None,  # noqa: A002 - the name users expect on a map
    also: Sequence[str | Path] = (),
    language: str = "en",
) -> Path:
    """Draw the print map of a scored column and save it as PNG, SVG or PDF (by extension).

    Parameters
    ----------
    scored : GeoDataFrame
        Scored tracts (any CRS; drawn in the area's UTM CRS).
    path : str or Path
        Output file: ``.png`` (at ``dpi``), ``.svg`` or ``.pdf``.
    column, scheme, bins, k
        What to map and how to classify it, exactly as in :func:`equity_map`.
    paper : {"letter", "a4"}
        Paper size; the PNG is ``dpi`` x the paper size in pixels.
    orientation : {"landscape", "portrait"}
        Page orientation.
    dpi : int
        Resolution of a PNG.
    title : str, optional
        Title (default: the column's label).
    label_top : int
        Label this many top tracts (by ``priority_rank``, else by the column); 0 for none.
    inset : bool
        Draw the inset locator when ``context`` (the state or county outline) is given and
        is at least 1.5 times the study area's size (otherwise it would show nothing more).
    context : GeoDataFrame or GeoSeries, optional
        The outline the inset shows the study area within.
    credits : str, optional
        Extra credit text, after the sources and vintages read from the frames' reports
        (``scored`` and ``context``) and the line naming the BEAD rule set
        (``attrs["assetmap"]["rules"]``; ``"bead"``, marked as assumed, when the frame names
        none). All of it is wrapped in its own band under the map, never over it.
    also : sequence of str or Path
        More files to save the same drawing to (e.g. a PDF beside the PNG), drawn once.
    language : {"en", "es"}
        The language of the title, legend, notes, labels and credits (``"es"``: Spanish), and
        of a PDF's language tag; names from the data are printed as they are.

    Returns
    -------
    pathlib.Path
        The file written.

    Examples
    --------
    >>> import tempfile, geopandas as gpd
    >>> from assetmap.datasets import data_path
    >>> tracts = gpd.read_file(data_path("boundaries", "ector_tracts_2020.geojson"))
    >>> tracts["priority"] = range(len(tracts))
    >>> out = print_map(tracts, tempfile.mkdtemp() + "/map.svg", title="Ector County")
    >>> out.suffix
    '.svg'
    """
    path = Path(path)
    extra = [Path(p) for p in also]
    for target in (path, *extra):
        if target.suffix.lower() not in _FORMATS:
            raise ConfigError(f"print_map writes {', '.join(_FORMATS)}; got {target.name!r}")
    fig, classes, _parts = build_print_map(
        scored, column=column, scheme=scheme, bins=bins, k=k, paper=paper,
        orientation=orientation, dpi=dpi, title=title, label_top=label_top, inset=inset,
        context=context, credits=credits, language=language)
    pixels = None
    for target in (path, *extra):
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.suffix.lower() != ".png":
            fig.savefig(target, dpi=dpi)
            continue
        if pixels is None:
            canvas = cast(FigureCanvasAgg, fig.canvas)
            canvas.draw()
            pixels = np.asarray(canvas.buffer_rgba())
        write_png(target, pixels, dpi=dpi, metadata=_png_metadata())
    # tagged PDF with its text alternative
    tag_print_pdfs((path, *extra), fig, classes, language=messages(language).language)
    return path
