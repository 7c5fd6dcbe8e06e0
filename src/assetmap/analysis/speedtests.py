"""Speed tests rolled up to tracts and H3 res-8 cells, with too-few-test areas flagged.

``aggregate_speedtests`` places every row of a speed-test frame (see
:mod:`assetmap.loaders.speedtests`) in its area and computes test-weighted means:

* **points** (district tests, M-Lab rows): the tract polygon that contains them
  (``areas``), or the H3 res-8 cell of the point (``h3.latlng_to_cell``);
* **tiles** (Ookla, zoom 16, about 520 m square at Odessa's latitude): split over the tracts
  or H3 cells they overlap in proportion to the overlapping area (in a UTM projection), so a
  tile half in each of two tracts gives each half its tests and devices (area weighting
  assumes tests are spread evenly over the tile);
* **tract rows** (tests given only a tract GEOID; M-Lab tract aggregates): their tract, and
  nowhere at the H3 level (counted as left out).

Per area: ``tests`` (sum of tests, fractional where tiles were split), ``devices``
(distinct ``device_key`` values, plus tile/aggregate device counts, plus one per test
without any device information), test-weighted ``down_mbps``, ``up_mbps``, ``latency_ms``,
``tests_below_25_3`` / ``share_below_25_3`` (tests, or tile tests by the tile's mean, with
download < 25 or upload < 3 Mbps), ``tests_at_100_20`` / ``share_at_100_20``, ``sources``
and ``too_few_tests`` (fewer than ``min_devices`` devices, default 20 as in Microsoft's
broadband-usage practice). Where ``too_few_tests`` is true the means, counts below/above
and shares are NaN: too few devices are not shown as fact; only ``tests`` and ``devices``
remain. No test point leaves this function: the result holds areas only.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, Literal

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely

from assetmap._report import attach_report, count_reject, merge_sources, start_report
from assetmap.errors import SchemaError

__all__ = ["aggregate_speedtests", "h3_cell_polygons"]

_REQUIRED = ["source", "down_mbps", "up_mbps", "latency_ms", "tests", "devices", "geometry"]
_DISPLAY = ["down_mbps", "up_mbps", "latency_ms", "tests_below_25_3", "share_below_25_3",
            "tests_at_100_20", "share_at_100_20"]


def h3_cell_polygons(cells: Any) -> np.ndarray:
    """Return shapely polygons (lon/lat, EPSG:4326) of H3 cells.

    Examples
    --------
    >>> import h3
    >>> poly = h3_cell_polygons([h3.latlng_to_cell(31.85, -102.37, 8)])[0]
    >>> poly.geom_type, len(poly.exterior.coords)
    ('Polygon', 7)
    """
    return np.array(
        [shapely.Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(str(c))])
         for c in cells],
        dtype=object,
    )


def _utm(frame: gpd.GeoDataFrame) -> Any:
    """Return the WGS 84 UTM zone CRS of a frame's centre (None for an empty frame).

    The same zone ``estimate_utm_crs`` picks for areas within one zone, without its
    database search (a third of a second per call).
    """
    if not len(frame):
        return None
    west, south, east, north = frame.total_bounds
    lon, lat = (west + east) / 2, (south + north) / 2
    zone = int(np.clip(np.floor((lon + 180) / 6) + 1, 1, 60))
    return f"EPSG:{32600 + zone if lat >= 0 else 32700 + zone}"


def _pieces_tract(tests: gpd.GeoDataFrame, areas: gpd.GeoDataFrame | None, report: dict,
                  crs: Any) -> pd.DataFrame:
    """Return rows (idx, area, frac) placing each test row in tracts."""
    geom = tests.geometry
    kind = np.where(geom.isna(), "none", np.where(geom.geom_type == "Point", "point", "poly"))
    parts = []
    no_geom = tests.loc[kind == "none"]
    given = no_geom["GEOID"].notna() if "GEOID" in no_geom else pd.Series(False, no_geom.index)
    parts.append(pd.DataFrame({"idx": no_geom.index[given], "area": no_geom.loc[given, "GEOID"],
                               "frac": 1.0}))
    count_reject(report, "no geometry and no tract GEOID", int((~given).sum()))
    points = tests.loc[kind == "point"]
    if areas is None:
        has = points["GEOID"].notna() if "GEOID" in points else pd.Series(False, points.index)
        parts.append(pd.DataFrame({"idx": points.index[has], "area": points.loc[has, "GEOID"],
                                   "frac": 1.0}))
        unplaced = int((~has).sum()) + int((kind == "poly").sum())
        if unplaced:
            raise SchemaError(f"{unplaced} speed-test rows need tract polygons to be placed; "
                              "pass areas=<tracts GeoDataFrame with GEOID>")
    else:
        joined = gpd.sjoin(points[["geometry"]], areas[["GEOID", "geometry"]],
                           how="left", predicate="within")
        joined = joined[~joined.index.duplicated(keep="first")]
        inside = joined["GEOID"].notna()
        count_reject(report, "test point outside every area", int((~inside).sum()))
        parts.append(pd.DataFrame({"idx": joined.index[inside],
                                   "area": joined.loc[inside, "GEOID"], "frac": 1.0}))
        polys = tests.loc[kind == "poly", ["geometry"]]
        if len(polys):
            polys = polys.assign(idx=polys.index).to_crs(crs)
            polys["full"] = polys.area
            inter = gpd.overlay(polys, areas[["GEOID", "geometry"]].to_crs(crs),
                                how="intersection", keep_geom_type=True)
            frac = inter.area / inter["full"]
            parts.append(pd.DataFrame({"idx": inter["idx"], "area": inter["GEOID"],
                                       "frac": frac.to_numpy()}))
    return pd.concat(parts, ignore_index=True)


def _pieces_h3(tests: gpd.GeoDataFrame, report: dict, crs: Any) -> pd.DataFrame:
    """Return rows (idx, area, frac) placing each test row in H3 res-8 cells."""
    geom = tests.geometry
    is_point = geom.notna() & (geom.geom_type == "Point")
    is_poly = geom.notna() & ~is_point
    count_reject(report, "no location finer than a tract (left out of the H3 level)",
                 int(geom.isna().sum()), warn=False)
    pts = geom[is_point]
    parts = [pd.DataFrame({"idx": pts.index, "frac": 1.0, "area": [
        h3.latlng_to_cell(y, x, 8) for x, y in zip(pts.x, pts.y, strict=True)]})]
    polys = geom[is_poly]
    if len(polys):
        idx, cells = [], []
        for i, poly in polys.items():  # one H3 cover per tile; a county has a few thousand
            cover = h3.h3shape_to_cells_experimental(h3.geo_to_h3shape(poly), 8,
                                                     contain="overlap")
            idx.extend([i] * len(cover))
            cells.extend(cover)
        pairs = gpd.GeoSeries(h3_cell_polygons(cells), crs=4326).to_crs(crs)
        tiles = polys.to_crs(crs)
        tile_geoms = tiles.loc[idx].to_numpy()
        inter = shapely.area(shapely.intersection(tile_geoms, pairs.to_numpy()))
        frac = inter / shapely.area(tile_geoms)
        keep = frac > 0
        parts.append(pd.DataFrame({"idx": np.asarray(idx)[keep], "frac": frac[keep],
                                   "area": np.asarray(cells, dtype=object)[keep]}))
    return pd.concat(parts, ignore_index=True)


def aggregate_speedtests(
    tests: gpd.GeoDataFrame | Sequence[gpd.GeoDataFrame],
    *,
    areas: gpd.GeoDataFrame | None = None,
    level: Literal["tract", "h3"] = "tract",
    min_devices: int = 20,
    by_source: bool = False,
) -> gpd.GeoDataFrame:
    """Return test-weighted speeds and counts per tract or H3 res-8 cell.

    Parameters
    ----------
    tests : GeoDataFrame or list of GeoDataFrames
        Speed-test frames (``read_ookla_tiles``, ``read_mlab``, ``read_speedtests``); pass a
        list to pool sources and keep each one's report (sources, licences).
    areas : GeoDataFrame, optional
        Tract polygons with ``GEOID``: required at the tract level for tiles and for points
        without a GEOID. Every area appears in the result (no tests: ``tests=0``).
    level : {"tract", "h3"}
        The area: census tract (``GEOID``) or H3 res-8 cell (``h3_res8_id``).
    min_devices : int
        Areas with fewer devices are flagged ``too_few_tests`` and their means set to NaN.
    by_source : bool
        One row per area and ``source`` instead of pooling the sources.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per area (EPSG:4326; tract polygons when ``areas`` is given, H3 cell
        polygons at the H3 level, else empty geometry); columns as in the module docstring.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> tests = gpd.GeoDataFrame({"source": "district", "down_mbps": [10.0, 30.0],
    ...     "up_mbps": [1.0, 5.0], "latency_ms": [40.0, 20.0], "tests": [1, 3],
    ...     "devices": [1, 1], "GEOID": ["48135000100"] * 2},
    ...     geometry=[None, None], crs=4326)
    >>> agg = aggregate_speedtests(tests, min_devices=2)
    >>> agg[["GEOID", "tests", "devices", "down_mbps", "tests_below_25_3"]].to_dict("records")
    [{'GEOID': '48135000100', 'tests': 4.0, 'devices': 2.0, 'down_mbps': 25.0, \
'tests_below_25_3': 1.0}]
    """
    if level not in {"tract", "h3"}:
        raise ValueError(f"level must be 'tract' or 'h3', got {level!r}")
    frames = [tests] if isinstance(tests, pd.DataFrame) else list(tests)
    sources, vintages, illustrative = merge_sources(*frames, areas)
    with warnings.catch_warnings():
        # pandas 2.2-2.3 warn when a column is all missing in one of the sources
        warnings.filterwarnings("ignore", "The behavior of DataFrame concatenation with empty",
                                FutureWarning)
        tests = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry",
                                 crs=frames[0].crs)
    missing = [c for c in _REQUIRED if c not in tests.columns]
    if missing:
        raise SchemaError(f"speed-test frame lacks columns {missing}; read it with "
                          "read_ookla_tiles, read_mlab or read_speedtests")
    if areas is not None and "GEOID" not in areas.columns:
        raise SchemaError("areas must have a 'GEOID' column (tract polygons)")
    tests = tests.reset_index(drop=True)  # positions, so concatenated frames work
    if "GEOID" not in tests.columns:
        tests["GEOID"] = None
    if tests.crs is not None and tests.crs.to_epsg() != 4326:
        tests = tests.to_crs(4326)
    areas4326 = None if areas is None else (areas.to_crs(4326) if areas.crs else areas)
    report = start_report(None, kind=f"speedtests_by_{level}", rows_read=len(tests),
                          sources=sources, vintages=vintages, illustrative=illustrative)
    report["notes"].append(
        f"too_few_tests: fewer than {min_devices} devices; such areas show counts only. "
        "Tiles straddling areas are split by overlapping area.")
    located = tests[tests.geometry.notna()]
    crs = _utm(areas4326 if areas4326 is not None and len(areas4326) else located)
    key = "GEOID" if level == "tract" else "h3_res8_id"
    pieces = (_pieces_tract(tests, areas4326, report, crs) if level == "tract"
              else _pieces_h3(tests, report, crs))
    report["merged"] = int(pieces["idx"].nunique())
    rows = tests.loc[pieces["idx"].to_numpy()].reset_index(drop=True)
    frac = pieces["frac"].to_numpy(dtype="float64")
    down = rows["down_mbps"].to_numpy(dtype="float64")
    up = rows["up_mbps"].to_numpy(dtype="float64")
    lat = pd.to_numeric(rows["latency_ms"], errors="coerce").to_numpy(dtype="float64")
    wt = rows["tests"].to_numpy(dtype="float64") * frac
    dev = pd.to_numeric(rows["devices"], errors="coerce").to_numpy(dtype="float64")
    keyed = rows["device_key"].notna().to_numpy() if "device_key" in rows else \
        np.zeros(len(rows), dtype=bool)
    # devices: distinct keys where given; else the row's device count; else one per test
    unkeyed_devices = np.where(keyed, 0.0, np.where(np.isnan(dev), wt, dev * frac))
    with np.errstate(invalid="ignore"):
        slow = (down < 25) | (up < 3)
        fast = ~np.isnan(down) & (down >= 100) & (np.isnan(up) | (up >= 20))
    work = pd.DataFrame({
        key: pieces["area"].to_numpy(dtype=object), "source": rows["source"].to_numpy(),
        "tests": wt, "_dev": unkeyed_devices,
        "_wd": np.where(np.isnan(down), 0, wt), "_d": np.nan_to_num(down) * wt,
        "_wu": np.where(np.isnan(up), 0, wt), "_u": np.nan_to_num(up) * wt,
        "_wl": np.where(np.isnan(lat), 0, wt), "_l": np.nan_to_num(lat) * wt,
        "tests_below_25_3": np.where(slow, wt, 0.0), "tests_at_100_20": np.where(fast, wt, 0.0),
        "_key": rows["device_key"].where(keyed, None).to_numpy(dtype=object)
        if "device_key" in rows else None,
    })
    group = [key, "source"] if by_source else [key]
    sums = work.groupby(group, sort=True).agg(
        tests=("tests", "sum"), _dev=("_dev", "sum"), _wd=("_wd", "sum"), _d=("_d", "sum"),
        _wu=("_wu", "sum"), _u=("_u", "sum"), _wl=("_wl", "sum"), _l=("_l", "sum"),
        tests_below_25_3=("tests_below_25_3", "sum"), tests_at_100_20=("tests_at_100_20", "sum"),
        _keys=("_key", "nunique"),
        sources=("source", lambda s: ";".join(sorted(set(s)))),
    )
    out = pd.DataFrame(index=sums.index)
    out["tests"] = sums["tests"]
    out["devices"] = sums["_dev"] + sums["_keys"]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["down_mbps"] = sums["_d"] / sums["_wd"].where(sums["_wd"] > 0)
        out["up_mbps"] = sums["_u"] / sums["_wu"].where(sums["_wu"] > 0)
        out["latency_ms"] = sums["_l"] / sums["_wl"].where(sums["_wl"] > 0)
    out["tests_below_25_3"] = sums["tests_below_25_3"]
    out["share_below_25_3"] = sums["tests_below_25_3"] / out["tests"]
    out["tests_at_100_20"] = sums["tests_at_100_20"]
    out["share_at_100_20"] = sums["tests_at_100_20"] / out["tests"]
    out["sources"] = sums["sources"]
    out = out.reset_index()
    if level == "tract" and areas4326 is not None and not by_source:
        out = areas4326[["GEOID"]].drop_duplicates().merge(out, on="GEOID", how="left")
        out[["tests", "devices"]] = out[["tests", "devices"]].fillna(0.0)
        out["sources"] = out["sources"].fillna("")
    out["too_few_tests"] = out["devices"] < min_devices
    out.loc[out["too_few_tests"], _DISPLAY] = np.nan
    if level == "h3":
        geometry = h3_cell_polygons(out[key])
    elif areas4326 is not None:
        lookup = areas4326.drop_duplicates("GEOID").set_index("GEOID").geometry
        geometry = lookup.reindex(out[key]).to_numpy()
    else:
        geometry = np.full(len(out), None, dtype=object)
    result = gpd.GeoDataFrame(out, geometry=geometry, crs=4326)
    return attach_report(result, report)
