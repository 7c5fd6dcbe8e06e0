"""Attendance zones: polygons a district supplies, or NCES SABS, linked to their schools.

A zone file is any vector format (shapefile, GeoJSON, GeoPackage). NCES School Attendance
Boundary Survey columns (``SrcName, ncessch, schnam, leaid, updateDate, gslo, gshi, defacto,
stAbbrev, sLevel, openEnroll, MultiBdy``) are recognised. Zones link to the schools of
:func:`assetmap.loaders.nces.read_schools` by a school-id column, else by which school points
they contain; zones without a school and schools without a zone are reported and warned about.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from assetmap._report import attach_report, count_reject, count_repair, start_report
from assetmap.errors import AssetmapWarning, SchemaError
from assetmap.loaders._school_layouts import pad_codes
from assetmap.loaders._tables import header_key, read_vector

__all__ = ["ZONE_COLUMNS", "read_attendance_zones"]

ZONE_COLUMNS = ["zone_id", "school_id", "n_schools", "name", "grades", "district_id", "geometry"]
_ZONE_ID_KEYS = ("zone_id", "zone", "zoneid", "boundary_id", "objectid", "fid", "id")
_SCHOOL_ID_KEYS = ("ncessch", "school_id", "schoolid", "campus_id", "school")


def read_attendance_zones(
    path: str | Path,
    *,
    schools: gpd.GeoDataFrame | None = None,
    school_id_column: str | None = None,
    crs: Any = None,
) -> gpd.GeoDataFrame:
    """Read attendance-zone polygons and link each zone to its school(s).

    Parameters
    ----------
    path : str or Path
        Any vector file (shapefile, GeoJSON, GeoPackage); NCES SABS columns are recognised.
    schools : GeoDataFrame, optional
        Schools from :func:`read_schools`. Zones are linked by ``school_id_column`` when the
        zone file has one, else by which school points each zone contains.
    school_id_column : str, optional
        The zone column holding school ids (default: ``ncessch`` or ``school_id`` if present).
    crs : optional
        CRS of a layer that has none (a shapefile without ``.prj``).

    Returns
    -------
    geopandas.GeoDataFrame
        ``zone_id, school_id, n_schools, name, grades, district_id, geometry`` (EPSG:4326).
        ``school_id`` is ``;``-separated when a zone contains several schools. Zones without
        a school and schools without a zone are listed in ``report["unmatched"]`` and warned
        about (:class:`~assetmap.errors.AssetmapWarning`).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box, Point
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> gpd.GeoDataFrame({"ncessch": ["481800000001"], "schnam": ["A EL"]},
    ...     geometry=[box(0, 0, 1, 1)], crs=4326).to_file(d / "z.geojson")
    >>> read_attendance_zones(d / "z.geojson")[["zone_id", "school_id"]].values.tolist()
    [['481800000001', '481800000001']]
    """
    path = Path(path)
    source = str(path)
    frame, notes = read_vector(path, crs=crs)
    report = start_report(source, kind="attendance_zones", rows_read=len(frame))
    report["notes"].extend(notes)
    keys = {header_key(c): c for c in frame.columns if c != frame.geometry.name}
    bad = frame.geometry.isna() | frame.geometry.is_empty
    bad |= ~frame.geometry.geom_type.isin(["Polygon", "MultiPolygon"])
    count_reject(report, "not a polygon", int(bad.sum()), rows=np.flatnonzero(bad.to_numpy()) + 1)
    frame = frame.loc[~bad.to_numpy()].copy()
    count_repair(report, "invalid polygon (e.g. self-intersecting) repaired with make_valid",
                 int((~frame.geometry.is_valid).sum()))
    frame["geometry"] = frame.geometry.make_valid()
    id_col = school_id_column or next((keys[k] for k in _SCHOOL_ID_KEYS if k in keys), None)
    if school_id_column is not None and school_id_column not in frame.columns:
        raise SchemaError(
            f"{source}: no column {school_id_column!r}; columns: {list(keys.values())}")
    zone_col = next((keys[k] for k in _ZONE_ID_KEYS if k in keys), None) or id_col

    def text(key_options: tuple[str, ...]) -> pd.Series:
        for k in key_options:
            if k in keys:
                return frame[keys[k]].astype("string").str.strip()
        return pd.Series(pd.NA, index=frame.index, dtype="string")

    out = pd.DataFrame(index=frame.index)
    if zone_col is not None:
        width = 12 if zone_col == id_col else 0
        out["zone_id"] = pad_codes(frame[zone_col].astype("string"), width)
    else:
        out["zone_id"] = [f"zone-{i}" for i in range(1, len(frame) + 1)]
    dup = out["zone_id"].duplicated(keep=False)
    if dup.any():
        out.loc[dup, "zone_id"] = (
            out.loc[dup, "zone_id"] + "-"
            + (out.loc[dup].groupby("zone_id").cumcount() + 1).astype(str)
        )
    out["name"] = text(("schnam", "name", "school_name", "zone_name"))
    lo, hi = text(("gslo",)), text(("gshi",))
    out["grades"] = (lo + "-" + hi).where(lo.notna() & hi.notna(), text(("grades",)))
    out["district_id"] = pad_codes(text(("leaid", "district_id")), 7)
    if id_col is not None:
        out["school_id"] = pad_codes(frame[id_col].astype("string").str.strip(), 12)
        out["n_schools"] = out["school_id"].notna().astype(int)
    elif schools is not None:
        pts = schools[["school_id", "geometry"]].to_crs("EPSG:4326")
        joined = gpd.sjoin(pts, gpd.GeoDataFrame(geometry=frame.geometry, crs="EPSG:4326"),
                           predicate="within")
        ids = joined.groupby("index_right")["school_id"].agg(lambda s: ";".join(sorted(s)))
        out["school_id"] = ids.reindex(out.index)
        out["n_schools"] = joined.groupby("index_right").size().reindex(out.index).fillna(0)
        out["n_schools"] = out["n_schools"].astype(int)
        report["notes"].append("zones linked to schools by spatial containment of school points")
    else:
        out["school_id"] = pd.NA
        out["n_schools"] = 0
        report["notes"].append("no school id column and no schools given: zones are not linked")
    unmatched_zones = out.loc[out["school_id"].isna(), "zone_id"].tolist()
    unmatched_schools: list[str] = []
    if schools is not None:
        linked = set(";".join(out["school_id"].dropna()).split(";"))
        unmatched_schools = sorted(set(schools["school_id"].dropna()) - linked)
        if id_col is not None:
            unknown = sorted(linked - set(schools["school_id"].dropna()) - {""})
            if unknown:
                report["notes"].append(f"zone school ids not among the schools: {unknown[:20]}")
    report["unmatched"] = {"zones": unmatched_zones, "schools": unmatched_schools}
    if unmatched_zones or unmatched_schools:
        warnings.warn(
            f"{source}: {len(unmatched_zones)} zone(s) without a school and "
            f"{len(unmatched_schools)} school(s) without a zone (see report['unmatched'])",
            AssetmapWarning,
            stacklevel=2,
        )
    result = gpd.GeoDataFrame(out.reset_index(drop=True), geometry=frame.geometry.to_numpy(),
                              crs="EPSG:4326")[ZONE_COLUMNS]
    for column in ("zone_id", "school_id", "name", "grades", "district_id"):
        result[column] = result[column].astype(object).where(result[column].notna(), None)
    return attach_report(result, report)

