"""The district as the study area: the tracts that meet it and the share of households inside.

A school district rarely follows tract lines: it may cover part of a county, or parts of
several. :func:`district_tracts` keeps the tracts with households in the district (a
tract that meets it only where none of its households live is left out, and counted) and
gives each ``household_share``, the share of its households inside, estimated from
block-group points (population-weighted centres, or TIGER internal points) and their counts::

    share(tract) = sum of weights of the tract's block groups whose point is in the district
                   / sum of weights of all the tract's block groups

A tract without weighted points falls back to the share of its area inside the district
(``household_share_method = "area"``). Counts of a tract (households, locations, unserved
locations) are multiplied by the share for district totals (docs/methods.md).
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from assetmap._crs import estimate_utm
from assetmap._report import attach_report, count_reject, get_report, merge_sources
from assetmap.errors import SchemaError

__all__ = ["COUNT_COLUMNS", "SHARE_COLUMN", "district_counts", "district_tracts"]

#: The column :func:`district_tracts` adds: share (0-1) of a tract's households in the district.
SHARE_COLUMN = "household_share"
#: How the share was estimated: ``"points"`` (block-group points) or ``"area"``.
METHOD_COLUMN = "household_share_method"
#: Per-tract counts (ACS households and people, BDC locations) that the share scales.
COUNT_COLUMNS = ("households", "population", "children", "locations", "unserved",
                 "underserved", "served", "fiber_locations")
#: An area overlap below this share of the tract is a sliver along a shared line, not a meeting.
MIN_AREA_SHARE = 0.01


def _outline(district: gpd.GeoDataFrame | gpd.GeoSeries, crs: Any) -> Any:
    """Return the district's single (valid) polygon in ``crs``."""
    if not isinstance(district, gpd.GeoDataFrame | gpd.GeoSeries):
        raise SchemaError(f"district must be a GeoDataFrame or GeoSeries, got "
                          f"{type(district).__name__}")
    if district.crs is None:
        raise SchemaError("district has no CRS; set it (e.g. district.set_crs(4326))")
    geoms = district.geometry if isinstance(district, gpd.GeoDataFrame) else district
    geoms = geoms[geoms.notna() & ~geoms.is_empty]
    if geoms.empty or not geoms.geom_type.isin(["Polygon", "MultiPolygon"]).any():
        raise SchemaError("district has no polygon: give the district's boundary (a polygon "
                          "layer), not points or lines")
    return geoms.to_crs(crs).make_valid().union_all()


def _point_shares(points: gpd.GeoDataFrame, weight: str, outline: Any,
                  crs: Any) -> tuple[pd.Series, pd.Series]:
    """Per tract GEOID: weight inside the district and total weight, from the points."""
    if points.crs is None:
        raise SchemaError("points has no CRS; set it (e.g. points.set_crs(4326))")
    if weight not in points.columns:
        numeric = [c for c in points.columns if c != points.geometry.name
                   and pd.api.types.is_numeric_dtype(points[c])]
        raise SchemaError(f"points has no {weight!r} column to weight by; numeric columns: "
                          f"{numeric}; pass weight= one of them")
    if "TRACT_GEOID" in points.columns:
        key = points["TRACT_GEOID"].astype("string")
    elif "GEOID" in points.columns:
        key = points["GEOID"].astype("string").str[:11]
    else:
        raise SchemaError("points needs a GEOID (block group) or TRACT_GEOID column to "
                          "name each point's tract")
    w = pd.to_numeric(points[weight], errors="coerce").fillna(0.0).clip(lower=0)
    located = points.geometry.notna() & ~points.geometry.is_empty
    projected = points.geometry[located].to_crs(crs)
    inside = pd.Series(False, index=points.index)
    inside[located] = projected.intersects(outline).to_numpy()
    frame = pd.DataFrame({"key": key.to_numpy(), "w": w.to_numpy(float),
                          "w_in": (w * inside).to_numpy(float)})
    sums = frame.groupby("key")[["w_in", "w"]].sum()
    return sums["w_in"], sums["w"]


def district_tracts(
    tracts: gpd.GeoDataFrame,
    district: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    points: gpd.GeoDataFrame | None = None,
    weight: str = "households",
) -> gpd.GeoDataFrame:
    """Return the tracts with households in a district, each with its ``household_share``.

    Parameters
    ----------
    tracts : geopandas.GeoDataFrame
        Census tracts with ``GEOID`` (any CRS; e.g. every tract of the counties the district
        meets).
    district : geopandas.GeoDataFrame or GeoSeries
        The district's boundary (one or more polygons; a TIGER school district or a local
        file).
    points : geopandas.GeoDataFrame, optional
        Block-group points (population-weighted centres or internal points) with a
        ``TRACT_GEOID`` column or a block-group ``GEOID`` (its first 11 characters name the
        tract) and the ``weight`` column. Without points every share is the share of the
        tract's area inside the district.
    weight : str
        The points' count column: ``"households"`` (default), ``"population"``, ...

    Returns
    -------
    geopandas.GeoDataFrame
        The tracts with households in the district (a share above 0), in the input's order
        and CRS: a tract that meets the district only where none of its points lie (or, by
        area, with under 1% of its area inside: a sliver along a shared line) is left out
        and counted in the report. With ``household_share`` (0-1) and
        ``household_share_method`` (``"points"``, or ``"area"`` for a tract without weighted
        points). The report (``attrs["assetmap"]``) counts the tracts left out and names the
        method; the inputs are not changed.

    Raises
    ------
    SchemaError
        If ``tracts`` has no ``GEOID``, the district no polygon, a frame no CRS, or the
        points no ``weight`` column or tract key.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point, box
    >>> tracts = gpd.GeoDataFrame({"GEOID": ["48135000100", "48135000200", "48135000300"]},
    ...     geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 3, 1)], crs=4326)
    >>> district = gpd.GeoSeries([box(0, 0, 1.5, 1)], crs=4326)
    >>> points = gpd.GeoDataFrame(
    ...     {"GEOID": ["481350001001", "481350002001", "481350002002", "481350003001"],
    ...      "households": [100, 60, 40, 80]},
    ...     geometry=[Point(0.5, 0.5), Point(1.2, 0.5), Point(1.8, 0.5), Point(2.5, 0.5)],
    ...     crs=4326)
    >>> out = district_tracts(tracts, district, points=points)
    >>> out[["GEOID", "household_share"]].values.tolist()
    [['48135000100', 1.0], ['48135000200', 0.6]]
    """
    if not isinstance(tracts, gpd.GeoDataFrame) or "GEOID" not in tracts.columns:
        raise SchemaError("tracts must be a GeoDataFrame with a GEOID column")
    if tracts.crs is None:
        raise SchemaError("tracts has no CRS; set it (e.g. tracts.set_crs(4326))")
    crs = estimate_utm(tracts)
    outline = _outline(district, crs)
    geoms = tracts.geometry.to_crs(crs)
    with np.errstate(divide="ignore", invalid="ignore"):
        area_share = (geoms.intersection(outline).area / geoms.area).fillna(0.0).clip(0, 1)
    area_share = area_share.where(area_share >= MIN_AREA_SHARE, 0.0)
    ids = tracts["GEOID"].astype("string").to_numpy()
    share = area_share.to_numpy(float).copy()
    method = np.full(len(tracts), "area", dtype=object)
    if points is not None and len(points):
        inside, total = _point_shares(points, weight, outline, crs)
        w_in = pd.Series(ids).map(inside).to_numpy(float)
        w_all = pd.Series(ids).map(total).to_numpy(float)
        known = np.isfinite(w_all) & (w_all > 0)
        share[known] = w_in[known] / w_all[known]
        method[known] = "points"
    share = np.clip(np.round(share, 12), 0.0, 1.0)
    met = area_share.to_numpy(float) > 0
    keep = share > 0
    out = tracts.loc[keep].copy()
    out[SHARE_COLUMN] = share[keep]
    out[METHOD_COLUMN] = method[keep]
    report = get_report(tracts)
    count_reject(report, "outside the district", int((~met & ~keep).sum()), warn=False)
    count_reject(report, "meets the district only where none of its households (points) are",
                 int((met & ~keep).sum()), warn=False)
    cited, _, _ = merge_sources(
        *(f for f in (district if isinstance(district, gpd.GeoDataFrame) else None, points)
          if f is not None))
    report.setdefault("sources", []).extend(s for s in cited if s not in report["sources"])
    n_area = int((method[keep] == "area").sum())
    report.setdefault("notes", []).append(
        f"district study area: {int(keep.sum())} of {len(tracts)} tracts have households in "
        f"the district, {int((share[keep] >= 1).sum())} wholly inside, "
        f"{int((met & ~keep).sum())} more meet it without any; household_share from "
        + (f"block-group points weighted by {weight}" if points is not None and len(points)
           else "the share of each tract's area inside the district")
        + (f" ({n_area} tract(s) without weighted points: by area)"
           if n_area and points is not None and len(points) else ""))
    report["district_area"] = {"tracts": int(keep.sum()), "of": len(tracts),
                               "met_without_households": int((met & ~keep).sum()),
                               "weight": weight if points is not None else "area"}
    return attach_report(out, report)


def district_counts(frame: pd.DataFrame, tracts: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with its tract counts multiplied by the tracts' ``household_share``.

    The counts of :data:`COUNT_COLUMNS` (and their ``_moe``) become the district's part of
    each tract, so that sums over tracts are district totals; shares, rates and CVs are left
    as they are. A frame whose tracts carry no share is returned unchanged.

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows by tract ``GEOID`` (ACS columns, BDC service by tract).
    tracts : pandas.DataFrame
        The study's tracts, from :func:`district_tracts` (``GEOID``, ``household_share``).

    Returns
    -------
    pandas.DataFrame
        A copy; the report notes which columns were scaled.

    Examples
    --------
    >>> tracts = pd.DataFrame({"GEOID": ["48135000100"], "household_share": [0.25]})
    >>> acs = pd.DataFrame({"GEOID": ["48135000100"], "households": [400.0],
    ...                     "no_internet_share": [0.1]})
    >>> district_counts(acs, tracts).values.tolist()
    [['48135000100', 100.0, 0.1]]
    """
    if SHARE_COLUMN not in tracts.columns or "GEOID" not in frame.columns:
        return frame
    share = pd.Series(tracts[SHARE_COLUMN].to_numpy(float),
                      index=tracts["GEOID"].astype(str).to_numpy())
    factor = frame["GEOID"].astype(str).map(share).fillna(0.0).to_numpy(float)
    scaled = [c for name in COUNT_COLUMNS for c in (name, f"{name}_moe") if c in frame.columns]
    out = frame.copy()
    for column in scaled:
        out[column] = pd.to_numeric(out[column], errors="coerce") * factor
    report = get_report(frame)
    report.setdefault("notes", []).append(
        f"district study area: {', '.join(scaled) or 'no counts'} multiplied by each "
        "tract's household_share (the district's part of the tract)")
    return attach_report(out, report)
