"""What the outputs say and draw about a district study area (``household_share``).

Two hooks, each called with one line from a module that others edit: the report's sentences
about the tracts the district cuts (:func:`district_sentences`, from ``report.py``), and the
district outline on the print map (:func:`draw_district_outline`, from ``static.py``).
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D

from assetmap._i18n import messages

__all__ = ["district_sentences", "draw_district_outline"]

#: Partial tracts named one by one in the report; more are counted.
MAX_NAMED = 12
#: The outline is drawn on the main map when it is no larger than this times the tracts.
MAX_OUTLINE_RATIO = 1.5


def _name(row: pd.Series) -> str:
    return str(row.get("NAMELSAD") or row.get("NAME") or row.get("GEOID") or "?")


def district_sentences(scored: pd.DataFrame, *, language: object = "en") -> list[str]:
    """Return the report's sentences on the district's share of each tract's households.

    Examples
    --------
    >>> df = pd.DataFrame({"NAMELSAD": ["Census Tract 1", "Census Tract 2"],
    ...                    "household_share": [1.0, 0.62]})
    >>> district_sentences(df)[1]
    'Census Tract 2: 62% of its households are in the district.'
    """
    if "household_share" not in scored.columns or not len(scored):
        return []
    _ = messages(language)
    share = pd.to_numeric(scored["household_share"], errors="coerce")
    partial = scored[share.lt(1).to_numpy()]
    whole = int(share.ge(1).sum())
    lines = [
        _("The study area is the school district: {tracts} tracts have households in it, "
          "{whole} of them wholly (a tract that meets the district only where none of its "
          "households live is left out). Counts of households and locations are the "
          "district's part of each tract (the tract's count times the share of its households "
          "inside the district, from block-group points), so totals are district totals.",
          tracts=_.number(len(scored)), whole=_.number(whole)),
    ]
    by_area = scored.get("household_share_method", pd.Series("", index=scored.index)) == "area"
    for i, (index, row) in enumerate(partial.sort_values("household_share").iterrows()):
        if i == MAX_NAMED:
            lines.append(_("{count} more tracts lie partly in the district (see "
                           "household_share in the tract table).",
                           count=_.number(len(partial) - MAX_NAMED)))
            break
        share = _.percent(float(row["household_share"]))
        lines.append(_("{tract}: {share} of its area is in the district.", tract=_name(row),
                       share=share) if bool(by_area.loc[index]) else
                     _("{tract}: {share} of its households are in the district.",
                       tract=_name(row), share=share))
    return lines


def draw_district_outline(ax: Any, context: gpd.GeoDataFrame | gpd.GeoSeries | None,
                          study: gpd.GeoDataFrame, *, language: object = "en") -> list[Any]:
    """Draw the district outline (dashed) on the print map; return its legend handles.

    ``context`` is the study's outline (the district when the study has one); it is drawn
    when it is not much larger than the mapped tracts (a state or county given only for the
    inset is not). The map keeps the tracts' extent.

    Examples
    --------
    >>> draw_district_outline(None, None, gpd.GeoDataFrame())
    []
    """
    if context is None or not len(context) or study.crs is None:
        return []
    outline = (context.set_crs(4326) if context.crs is None else context).to_crs(study.crs)
    shape = outline.union_all()
    if shape.is_empty or shape.area > MAX_OUTLINE_RATIO * study.union_all().area:
        return []
    xlim, ylim = ax.get_xlim(), ax.get_ylim()
    lines = shapely.get_parts(shapely.line_merge(shapely.boundary(shape)))
    ax.add_collection(LineCollection(
        [shapely.get_coordinates(line) for line in lines], colors="#222222", linewidths=1.4,
        linestyles=[(0, (5, 3))], zorder=6))
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)
    return [Line2D([0], [0], color="#222222", linewidth=1.4, linestyle=(0, (5, 3)),
                   label=messages(language)("District boundary"))]
