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
``tests_below_25_3`` / ``share_below_25_3`` (tests, or tile tests by the tile's mean, below
the underserved threshold of a BEAD rule set in download or upload), ``tests_at_100_20`` /
``share_at_100_20`` (at its served threshold in download, and in upload where known), ``sources``
and ``too_few_tests`` (fewer than ``min_devices`` devices, default 20 as in Microsoft's
broadband-usage practice). Where ``too_few_tests`` is true the means, counts below/above
and shares are NaN: too few devices are not shown as fact; only ``tests`` and ``devices``
remain. No test point leaves this function: the result holds areas only. The thresholds are
a BEAD rule set's (``rules=``, default ``"bead"``: 25/3, 100/20; named in the report), the
column names those of the default set.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, Literal, cast

import geopandas as gpd
import h3
import h3.api.basic_int as h3_int
import numpy as np
import pandas as pd
import shapely

from assetmap._report import attach_report, count_reject, merge_sources, start_report
from assetmap.bdc.rules import RulesLike, rule_set
from assetmap.errors import SchemaError

__all__ = ["aggregate_speedtests", "h3_cell_polygons"]

_REQUIRED = ["source", "down_mbps", "up_mbps", "latency_ms", "tests", "devices", "geometry"]
_SUMMED = ["tests", "_dev", "_wd", "_d", "_wu", "_u", "_wl", "_l", "tests_below_25_3",
           "tests_at_100_20"]
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
    bounds = [h3.cell_to_boundary(str(c)) for c in cells]
    if not bounds:
        return np.array([], dtype=object)
    sizes = np.fromiter(map(len, bounds), dtype=np.intp, count=len(bounds))
    if (sizes == sizes[0]).all():  # hexagons only (no pentagon): one regular array
        latlng = np.asarray(bounds, dtype="float64").reshape(-1, 2)
    else:
        latlng = np.asarray([p for b in bounds for p in b], dtype="float64")
    rings = shapely.linearrings(latlng[:, ::-1], indices=np.repeat(np.arange(len(bounds)), sizes))
    return np.asarray(shapely.polygons(rings), dtype=object)


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
            parts.append(_tile_tract_pieces(polys, areas[["GEOID", "geometry"]], crs))
    return pd.concat(parts, ignore_index=True)


_POLYGONAL = ("Polygon", "MultiPolygon")


def _tile_tract_pieces(polys: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, crs: Any) -> pd.DataFrame:
    """Return rows (idx, area, frac) splitting tiles over the tracts they overlap.

    The pairs and areas of ``gpd.overlay(how="intersection", keep_geom_type=True)`` without
    building its frames: pairs that intersect, in (tile, tract) order, whose intersection is
    polygonal. Invalid inputs or a mixed-geometry intersection (a GeometryCollection) go
    through ``gpd.overlay`` itself.
    """
    tiles = polys.geometry.to_crs(crs).to_numpy()
    tracts = areas.geometry.to_crs(crs).to_numpy()
    full = shapely.area(tiles)
    if shapely.is_valid(tiles).all() and shapely.is_valid(tracts).all():
        ti, ai = shapely.STRtree(tracts).query(tiles, predicate="intersects")
        inter = shapely.intersection(tiles[ti], tracts[ai])
        kind = shapely.get_type_id(inter)
        if not (kind == 7).any():  # no GeometryCollection
            keep = np.isin(kind, (3, 6))  # Polygon, MultiPolygon
            ti, ai = ti[keep], ai[keep]
            return pd.DataFrame({"idx": polys.index.to_numpy()[ti],
                                 "area": areas["GEOID"].to_numpy()[ai],
                                 "frac": shapely.area(inter[keep]) / full[ti]})
    frame = polys[["geometry"]].assign(idx=polys.index).to_crs(crs)
    frame["full"] = frame.area
    inter = gpd.overlay(frame, areas.to_crs(crs), how="intersection", keep_geom_type=True)
    frac = inter.area / inter["full"]
    return pd.DataFrame({"idx": inter["idx"], "area": inter["GEOID"], "frac": frac.to_numpy()})


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
        tiles = polys.to_crs(crs).to_numpy()
        cells, covers = _h3_candidates(polys, tiles, crs)
        # small tiles: every candidate cell that meets the tile; large ones: H3's own cover
        small = np.array([c is None for c in covers], dtype=bool)
        shapes = gpd.GeoSeries(h3_cell_polygons(cells), crs=4326).to_crs(crs).to_numpy()
        ti, ci = shapely.STRtree(shapes).query(tiles, predicate="intersects")
        keep = small[ti]
        ti, ci, names = ti[keep], ci[keep], np.asarray(cells, dtype=object)[ci[keep]]
        if not small.all():
            big = [(i, c) for i in np.flatnonzero(~small)  # a large tile has its cover list
                   for c in cast("list[str]", covers[i])]
            big_ti = np.array([i for i, _ in big], dtype=np.intp)
            big_shapes = gpd.GeoSeries(h3_cell_polygons([c for _, c in big]),
                                       crs=4326).to_crs(crs).to_numpy()
            ti = np.concatenate([ti, big_ti])
            names = np.concatenate([names, np.array([c for _, c in big], dtype=object)])
            shapes = np.concatenate([shapes[ci], big_shapes])
            order = np.argsort(ti, kind="stable")  # tile order, as one loop over the tiles
            ti, names, shapes = ti[order], names[order], shapes[order]
        else:
            shapes = shapes[ci]
        inter = shapely.area(shapely.intersection(tiles[ti], shapes))
        frac = inter / shapely.area(tiles[ti])
        keep = frac > 0
        parts.append(pd.DataFrame({"idx": polys.index.to_numpy()[ti[keep]], "frac": frac[keep],
                                   "area": names[keep]}))
    return pd.concat(parts, ignore_index=True)


def _h3_candidates(
    polys: gpd.GeoSeries, tiles: np.ndarray, crs: Any
) -> tuple[list[str], list[list[str] | None]]:
    """Return H3 res-8 cells including every cell that overlaps a small polygon, and covers.

    For each polygon, the cells within grid distance ``k`` of its centre's cell, where ``k``
    bounds the hex distance to any cell meeting it: cell centres ``n`` steps apart are at
    least ``1.5 n`` edge lengths apart, and a polygon reaching ``r`` metres from its centre
    meets cells whose centres lie within ``r`` plus two edge lengths of the centre's cell
    centre (10% slack on the edge length and one ring more). Large polygons (``k > 8``) keep
    H3's own polygon cover (the second list; None for a small polygon).
    """
    centre = shapely.centroid(polys.to_numpy())
    lat, lng = shapely.get_y(centre), shapely.get_x(centre)
    centre_xy = shapely.get_coordinates(gpd.GeoSeries(centre, crs=4326).to_crs(crs).to_numpy(),
                                        include_z=False)
    xy, which = shapely.get_coordinates(tiles, return_index=True)
    reach = np.zeros(len(tiles))
    if len(centre_xy) == len(tiles):
        np.maximum.at(reach, which, np.hypot(*(xy - centre_xy[which]).T))
    else:  # an empty polygon: no centre
        reach[:] = np.inf
    cells: set[int] = set()  # integer cell ids: no string per disk member
    edge: dict[int, float] = {}
    disks: set[tuple[int, int]] = set()
    covers: list[list[str] | None] = [None] * len(tiles)
    for i, poly in enumerate(polys.to_numpy()):
        k = np.inf
        if np.isfinite(reach[i]) and np.isfinite(lat[i]) and np.isfinite(lng[i]):
            c = h3_int.latlng_to_cell(lat[i], lng[i], 8)
            if c not in edge:
                edge[c] = 0.9 * min(h3_int.edge_length(d, "m")
                                    for d in h3_int.origin_to_directed_edges(c))
            k = np.ceil((reach[i] + 2 * edge[c]) / (1.5 * edge[c])) + 1
        if k <= 8:
            if (c, int(k)) not in disks:  # neighbouring tiles share their centre's cell
                disks.add((c, int(k)))
                cells.update(h3_int.grid_disk(c, int(k)))
        else:
            covers[i] = list(h3.h3shape_to_cells_experimental(h3.geo_to_h3shape(poly), 8,
                                                              contain="overlap"))
    return sorted(h3.int_to_str(x) for x in cells), covers


def _joined_sources(grouped: Any, source: pd.Series, groups: int) -> np.ndarray:
    """Return each group's distinct sources, sorted and joined with ``;`` (one set per group)."""
    ids = grouped.ngroup().to_numpy()
    codes, names = pd.factorize(source, sort=True)
    if len(names) > 62 or (codes < 0).any():  # too many sources for a bit mask, or a missing one
        return grouped["source"].agg(lambda s: ";".join(sorted(set(s)))).to_numpy()
    used = ids >= 0
    mask = np.zeros(groups, dtype=np.int64)
    np.bitwise_or.at(mask, ids[used], np.left_shift(1, codes[used].astype(np.int64)))
    combos, where = np.unique(mask, return_inverse=True)
    names = np.asarray(names, dtype=object)
    labels = [";".join(names[[(int(c) >> b) & 1 == 1 for b in range(len(names))]])
              for c in combos]
    return np.asarray(labels, dtype=object)[where.ravel()]


def aggregate_speedtests(
    tests: gpd.GeoDataFrame | Sequence[gpd.GeoDataFrame],
    *,
    areas: gpd.GeoDataFrame | None = None,
    level: Literal["tract", "h3"] = "tract",
    min_devices: int = 20,
    by_source: bool = False,
    rules: RulesLike = "bead",
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
    rules : str, mapping or RuleSet
        The BEAD rule set whose thresholds the tests are counted at
        (:func:`assetmap.bdc.rules.rule_set`; default ``"bead"``: below 25/3, at 100/20).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per area (EPSG:4326; tract polygons when ``areas`` is given, H3 cell
        polygons at the H3 level, else empty geometry); columns as in the module docstring;
        the report names the rule set (``report["rules"]``).

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
    chosen = rule_set(rules)
    (served_down, served_up), (under_down, under_up) = chosen.served, chosen.underserved
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
    report["notes"].append(
        f"tests_below_25_3: below {under_down:g}/{under_up:g} Mbps; tests_at_100_20: at "
        f"{served_down:g}/{served_up:g} Mbps (rule set {chosen.name!r})")
    report["rules"] = chosen.as_dict()
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
        slow = (down < under_down) | (up < under_up)
        fast = ~np.isnan(down) & (down >= served_down) & (np.isnan(up) | (up >= served_up))
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
    grouped = work.groupby(group, sort=True)
    sums = grouped[_SUMMED].sum()
    sums["_keys"] = grouped["_key"].nunique()
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
    out["sources"] = _joined_sources(grouped, work["source"], len(sums))
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
