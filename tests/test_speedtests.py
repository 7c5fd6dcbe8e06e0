"""Speed-test readers (Ookla tiles, M-Lab, district CSV), quadkey math and aggregation."""

from __future__ import annotations

import math

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st

import assetmap as am
from assetmap import get_report
from assetmap.datasets import data_path
from assetmap.errors import RejectedRowsWarning, RepairWarning, SchemaError
from assetmap.loaders._quadkey import (  # internal: the tile math the readers use; not public
    lonlat_to_tile,
    quadkey_to_tile,
    quadkeys_to_bounds,
    tile_bounds,
    tile_to_quadkey,
    tiles_to_quadkeys,
)

# --- quadkey math ------------------------------------------------------------------------


def test_quadkey_known_values():
    # Bing Maps Tile System article: tile (3, 5) at level 3 is quadkey "213"
    assert tile_to_quadkey(3, 5, 3) == "213"
    assert quadkey_to_tile("213") == (3, 5, 3)
    # bits of x=486 (0111100110) and y=332 (0101001100) interleaved by hand
    assert tile_to_quadkey(486, 332, 10) == "0313102310"
    west, _, _, north = tile_bounds([486], [332], [10])
    assert west[0] == pytest.approx(486 / 1024 * 360 - 180)
    expected_north = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * 332 / 1024))))
    assert north[0] == pytest.approx(expected_north)


def test_tile_matches_a_published_ookla_tile():
    # a real row of Ookla's Parquet: tile_x=-114.6121, tile_y=34.8251 and its WKT polygon
    x, y = lonlat_to_tile([-114.6121], [34.8251], 16)
    west, south, east, north = tile_bounds(x, y, [16])
    assert (west[0], south[0], east[0], north[0]) == pytest.approx(
        (-114.614868164062, 34.822822727237, -114.609375, 34.8273320619816), abs=1e-9)
    key = tiles_to_quadkeys(x, y, 16)[0]
    assert len(key) == 16
    assert key.startswith("0")


def test_invalid_quadkeys():
    with pytest.raises(ValueError, match="not a quadkey"):
        quadkey_to_tile("0124")
    w, *_ = quadkeys_to_bounds(["", "0123"])
    assert np.isnan(w[0])
    assert not np.isnan(w[1])


@given(st.floats(-179.99, 179.99), st.floats(-85.0, 85.0), st.integers(1, 20))
def test_quadkey_round_trip(lon, lat, zoom):
    x, y = lonlat_to_tile([lon], [lat], zoom)
    key = tile_to_quadkey(int(x[0]), int(y[0]), zoom)
    assert quadkey_to_tile(key) == (int(x[0]), int(y[0]), zoom)
    w, s, e, n = quadkeys_to_bounds([key])
    assert w[0] - 1e-9 <= lon <= e[0] + 1e-9
    assert s[0] - 1e-9 <= lat <= n[0] + 1e-9


# --- Ookla fixtures in the published schema ----------------------------------------------

def shipped_tiles():
    return data_path("speedtests", "ookla_fixed_tiles_illustrative_ector.parquet")


ODESSA = [(-102.3700, 31.8600), (-102.3640, 31.8600), (-102.5400, 31.8630)]


def _ookla_table(points=ODESSA, bad_quadkey=False) -> pa.Table:
    x, y = lonlat_to_tile([p[0] for p in points], [p[1] for p in points], 16)
    w, s, e, n = tile_bounds(x, y, np.full(len(x), 16))
    keys = list(tiles_to_quadkeys(x, y, 16))
    if bad_quadkey:
        keys[-1] = "02312111000303"  # 14 digits: not zoom 16
    return pa.table({
        "quadkey": pa.array(keys, pa.string()),
        "tile": pa.array([f"POLYGON(({e_} {n_}, {e_} {s_}, {w_} {s_}, {w_} {n_}, {e_} {n_}))"
                          for w_, s_, e_, n_ in zip(w, s, e, n, strict=True)], pa.string()),
        "tile_x": pa.array((w + e) / 2, pa.float64()),
        "tile_y": pa.array((s + n) / 2, pa.float64()),
        "avg_d_kbps": pa.array([250_000, 12_000, 40_500], pa.int64()),
        "avg_u_kbps": pa.array([20_000, 1_500, 6_000], pa.int64()),
        "avg_lat_ms": pa.array([18, 45, 30], pa.int64()),
        "avg_lat_down_ms": pa.array([90, None, 120], pa.int32()),
        "avg_lat_up_ms": pa.array([150, None, 200], pa.int32()),
        "tests": pa.array([30, 12, 5], pa.int64()),
        "devices": pa.array([21, 9, 3], pa.int64()),
    })


def test_read_ookla_parquet(tmp_path):
    path = tmp_path / "2024-01-01_performance_fixed_tiles.parquet"
    pq.write_table(_ookla_table(), path)
    tiles = am.read_ookla_tiles(path)
    assert tiles["down_mbps"].tolist() == [250.0, 12.0, 40.5]
    assert tiles["up_mbps"].tolist() == [20.0, 1.5, 6.0]
    assert tiles["tests"].tolist() == [30, 12, 5]
    assert tiles["devices"].tolist() == [21, 9, 3]
    assert set(tiles["period"]) == {"2024-Q1"}
    assert set(tiles["location_basis"]) == {"tile"}
    report = get_report(tiles)
    assert report["sources"][0]["license"] == "CC BY-NC-SA 4.0"
    assert "CC BY-NC-SA 4.0" in report["notes"][0]
    assert not report["illustrative"]
    assert report["rows_read"] == report["rows_out"] == 3
    x, y = lonlat_to_tile([ODESSA[0][0]], [ODESSA[0][1]], 16)
    assert tiles.geometry.iloc[0].equals(shapely.box(*[b[0] for b in tile_bounds(x, y, [16])]))


def test_read_ookla_filters_and_rejects(tmp_path):
    path = tmp_path / "2023-10-01_performance_fixed_tiles.parquet"
    pq.write_table(_ookla_table(bad_quadkey=True), path)
    with pytest.warns(RejectedRowsWarning, match="zoom-16 quadkey"):
        tiles = am.read_ookla_tiles(path, bbox=(-102.40, 31.80, -102.30, 31.90))
    report = get_report(tiles)
    assert len(tiles) == 2
    assert report["rejected"]["quadkey is not a zoom-16 quadkey (16 digits 0-3)"] == 1
    assert report["rows_read"] == report["rows_out"] + sum(report["rejected"].values())
    area = gpd.GeoDataFrame(geometry=[shapely.Point(-102.3700, 31.8600).buffer(0.001)], crs=4326)
    with pytest.warns(RejectedRowsWarning):
        assert len(am.read_ookla_tiles(path, area=area)) == 1


def test_read_ookla_refuses_mobile_and_missing_columns(tmp_path):
    mobile = tmp_path / "2024-01-01_performance_mobile_tiles.parquet"
    pq.write_table(_ookla_table(), mobile)
    with pytest.raises(SchemaError, match="mobile"):
        am.read_ookla_tiles(mobile)
    broken = tmp_path / "2024-01-01_performance_fixed_tiles.parquet"
    pq.write_table(_ookla_table().drop_columns(["devices"]), broken)
    with pytest.raises(SchemaError, match="devices"):
        am.read_ookla_tiles(broken)


def test_read_ookla_shapefile_zip(tmp_path):
    table = _ookla_table().to_pandas()
    folder = tmp_path / "2024-04-01_performance_fixed_tiles"
    folder.mkdir()
    # the published shapefile: no WKT column, no loaded latency, polygons in EPSG:4326
    shp = gpd.GeoDataFrame(
        table.drop(columns=["tile", "avg_lat_down_ms", "avg_lat_up_ms"]),
        geometry=shapely.from_wkt(table["tile"]), crs=4326)
    shp.to_file(folder / f"{folder.name}.shp")
    tiles = am.read_ookla_tiles(folder / f"{folder.name}.shp")
    assert tiles["quadkey"].tolist() == table["quadkey"].tolist()
    assert set(tiles["period"]) == {"2024-Q2"}
    # the same layer with the quadkey saved as a number (leading zero lost)
    shp["quadkey"] = shp["quadkey"].astype("int64")
    numeric = tmp_path / "numeric.shp"
    shp.to_file(numeric)
    with pytest.warns(RepairWarning, match="leading zeros"):
        repaired = am.read_ookla_tiles(numeric, period="2024-Q2")
    assert repaired["quadkey"].tolist() == table["quadkey"].tolist()


def test_shipped_illustrative_tiles_are_labelled():
    tiles = am.read_ookla_tiles(shipped_tiles(),
                                period="2025-Q1")
    assert get_report(tiles)["illustrative"] is True
    raw = pq.read_schema(data_path("speedtests", "ookla_fixed_tiles_illustrative_ector.parquet"))
    assert raw.names == ["quadkey", "tile", "tile_x", "tile_y", "avg_d_kbps", "avg_u_kbps",
                         "avg_lat_ms", "avg_lat_down_ms", "avg_lat_up_ms", "tests", "devices"]
    # the quadkey and the WKT polygon describe the same tile
    w, s, e, n = quadkeys_to_bounds(tiles["quadkey"].to_numpy(dtype=object))
    assert np.allclose(tiles.geometry.bounds.to_numpy(), np.column_stack([w, s, e, n]))


# --- M-Lab ---------------------------------------------------------------------------------

MLAB_ROWS = (
    "id,date,a.TestTime,a.MeanThroughputMbps,a.MinRTT,client.Geo.Latitude,"
    "client.Geo.Longitude,client.Geo.AccuracyRadiusKm\n"
    "ndt-1,2024-03-01,2024-03-01 10:00:00 UTC,42.5,18.2,31.85,-102.37,20\n"
    "ndt-2,2024-03-02,2024-03-02 11:00:00 UTC,8.25,40.0,31.86,-102.38,500\n"
    "ndt-3,2024-03-02,2024-03-02 12:00:00 UTC,,40.0,31.86,-102.38,20\n"
)


def test_read_mlab_rows(tmp_path):
    down = tmp_path / "ndt_unified_downloads_ector.csv"
    down.write_text(MLAB_ROWS)
    with pytest.warns(RejectedRowsWarning, match="throughput missing"):
        tests = am.read_mlab(down)
    assert tests["down_mbps"].tolist() == [42.5, 8.25]
    assert tests["up_mbps"].isna().all()
    assert tests["latency_ms"].tolist() == [18.2, 40.0]
    assert set(tests["location_basis"]) == {"ip_geolocation"}
    report = get_report(tests)
    assert report["sources"][0]["license"].startswith("CC0")
    assert report["rejected_rows"]["throughput missing, negative or above 10 Gbps"] == [3]
    with pytest.warns(RejectedRowsWarning) as caught:
        coarse = am.read_mlab(down, max_accuracy_km=100)
    assert any("accuracy radius" in str(w.message) for w in caught)
    assert coarse["down_mbps"].tolist() == [42.5]
    up = tmp_path / "export.csv"
    up.write_text(MLAB_ROWS.replace("12:00:00 UTC,,", "12:00:00 UTC,3,"))
    with pytest.raises(SchemaError, match="direction"):
        am.read_mlab(up)
    assert am.read_mlab(up, direction="upload")["up_mbps"].tolist() == [42.5, 8.25, 3.0]


def test_read_mlab_tract_aggregates(tmp_path):
    header = ("date,state,state_name,tract_name,lsad_name,GEOID,asn,bucket_min,bucket_max,"
              "dl_samples_bucket,dl_samples_day,dl_frac,download_MIN,download_Q25,download_MED,"
              "download_AVG,download_Q75,download_MAX,download_minRTT_MED,upload_AVG,"
              "dl_total_samples,ul_total_samples,dl_stats_samples,ul_stats_samples,shard\n")
    rows = [
        ("2024-03-01,US-TX,Texas,1,Census Tract,48135000100,7018,1,1.58,2,5,0.4,"
        "3,8,15,20.5,30,60,35,2.5,7,6,5,5,11"),
        ("2024-03-01,US-TX,Texas,1,Census Tract,48135000100,7018,1.58,2.51,3,5,0.6,"
        "3,8,15,20.5,30,60,35,2.5,7,6,5,5,11"),
        ("2024-03-01,US-TX,Texas,3,Census Tract,48135000300,7018,1,1.58,1,1,1,"
        "90,90,90,90,90,90,12,11,1,1,1,1,3"),
    ]
    path = tmp_path / "us_census_tracts_histogram.csv"
    path.write_text(header + "\n".join(rows) + "\n")
    tests = am.read_mlab(path)
    assert tests["GEOID"].tolist() == ["48135000100", "48135000300"]
    assert tests["tests"].tolist() == [7, 1]
    assert tests["devices"].tolist() == [5, 1]
    assert tests["down_mbps"].tolist() == [20.5, 90.0]
    assert tests["up_mbps"].tolist() == [2.5, 11.0]
    assert tests.geometry.isna().all()
    assert get_report(tests)["merged"] == 1


# --- district CSV --------------------------------------------------------------------------


def test_read_district_tests(tmp_path):
    path = tmp_path / "tests.csv"
    path.write_text(
        "Address,Name,Latitude,Longitude,Download (kbps),upload_kbps,Ping,device_id,"
        "connection_type,GEOID,timestamp\n"
        "1 Main St,Ana,31.85,-102.37,12000,1000,30,d1,wifi,,2025-03-01T10:00:00Z\n"
        "2 Main St,Bo,-102.37,31.85,150000,20000,20,d2,ethernet,,2025-03-02T10:00:00Z\n"
        "3 Main St,Cy,,,50000,5000,25,d3,wifi,48135000100,2025-03-03T10:00:00Z\n"
        "4 Main St,Di,31.85,-102.37,9000,900,25,d4,cellular,,2025-03-03T10:00:00Z\n"
    )
    with pytest.warns((RepairWarning, RejectedRowsWarning)) as caught:
        tests = am.read_speedtests(path)
    messages = " ".join(str(w.message) for w in caught)
    assert "swapped" in messages
    assert "cellular" in messages
    assert tests["down_mbps"].tolist() == [12.0, 150.0, 50.0]
    assert tests["location_basis"].tolist() == ["point", "point", "tract"]
    assert tests["GEOID"].tolist()[2] == "48135000100"
    assert tests.geometry.iloc[1].equals(shapely.Point(-102.37, 31.85))
    assert not {"Address", "Name"} & set(tests.columns)
    assert "Address" in get_report(tests)["notes"][0]


def test_read_district_requires_location(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("download_mbps,upload_mbps\n10,1\n")
    with pytest.raises(SchemaError, match="coordinates"):
        am.read_speedtests(path)


# --- aggregation -----------------------------------------------------------------------------

TRACT_A = shapely.box(-102.40, 31.80, -102.35, 31.90)
TRACT_B = shapely.box(-102.35, 31.80, -102.30, 31.90)


def _tracts():
    return gpd.GeoDataFrame({"GEOID": ["48135000100", "48135000200"]},
                            geometry=[TRACT_A, TRACT_B], crs=4326)


def _points(n, lon, down, up, *, devices=None):
    return gpd.GeoDataFrame({
        "source": "district", "down_mbps": down, "up_mbps": up, "latency_ms": 30.0,
        "tests": 1, "devices": 1, "GEOID": None,
        "device_key": devices if devices is not None else [f"k{lon}{i}" for i in range(n)],
    }, geometry=[shapely.Point(lon, 31.85 + i * 1e-4) for i in range(n)], crs=4326)


def test_every_test_slow_and_too_few():
    slow = _points(25, -102.38, [10.0] * 25, [1.0] * 25)
    few = _points(5, -102.32, [300.0] * 5, [30.0] * 5)
    agg = am.aggregate_speedtests([slow, few], areas=_tracts()).set_index("GEOID")
    a, b = agg.loc["48135000100"], agg.loc["48135000200"]
    assert (a["tests"], a["devices"], a["tests_below_25_3"]) == (25, 25, 25)
    assert a["share_below_25_3"] == 1.0
    assert a["down_mbps"] == 10.0
    assert not a["too_few_tests"]
    assert b["too_few_tests"]
    assert b["tests"] == 5
    assert b["devices"] == 5
    assert np.isnan([b["down_mbps"], b["up_mbps"], b["share_below_25_3"]]).all()
    assert set(agg.geometry.geom_type) == {"Polygon"}  # areas only, no test point


def test_devices_counted_by_key_and_means_weighted():
    tests = _points(4, -102.38, [10.0, 20.0, 40.0, 100.0], [1.0, 5.0, 5.0, 20.0],
                    devices=["a", "a", "b", "b"])
    tests["tests"] = [1, 1, 2, 4]
    agg = am.aggregate_speedtests(tests, areas=_tracts(), min_devices=2).set_index("GEOID")
    row = agg.loc["48135000100"]
    assert row["devices"] == 2
    assert row["tests"] == 8
    assert row["down_mbps"] == pytest.approx((10 + 20 + 2 * 40 + 4 * 100) / 8)
    assert row["tests_below_25_3"] == 2
    assert row["tests_at_100_20"] == 4


def test_thresholds_come_from_the_rule_set():
    # fractional speeds either side of 25/3 and 100/20, and of a custom set's 10/1 and 50/10
    down = [24.6, 25.0, 25.0, 99.99, 100.0, 100.0, 9.99, 50.0]
    up = [3.0, 2.9, 3.0, 20.0, 19.5, 20.0, 1.0, 10.0]
    tests = _points(8, -102.38, down, up)
    bead = am.aggregate_speedtests(tests, areas=_tracts(), min_devices=1).set_index("GEOID")
    row = bead.loc["48135000100"]
    # below 25/3: 24.6/3, 25/2.9, 9.99/1; at 100/20: only 100/20
    assert (row["tests_below_25_3"], row["tests_at_100_20"]) == (3, 1)
    custom = {"name": "low", "reliable_technologies": [50], "low_latency_required": True,
              "served": [50, 10], "underserved": [10, 1]}
    low = am.aggregate_speedtests(tests, areas=_tracts(), min_devices=1, rules=custom)
    row = low.set_index("GEOID").loc["48135000100"]
    # below 10/1: 9.99/1; at 50/10: 99.99/20, 100/20 and 50/10 (100/19.5 too)
    assert (row["tests_below_25_3"], row["tests_at_100_20"]) == (1, 4)
    assert get_report(low)["rules"]["served"] == [50.0, 10.0]
    assert get_report(bead)["rules"]["name"] == "bead"


def test_tile_straddling_two_tracts_is_split_by_area():
    # a zoom-16 tile whose middle longitude is the tract boundary
    x, y = lonlat_to_tile([-102.35], [31.85], 16)
    w, s, e, n = (b[0] for b in tile_bounds(x, y, [16]))
    mid = (w + e) / 2
    tracts = gpd.GeoDataFrame({"GEOID": ["48135000100", "48135000200"]},
                              geometry=[shapely.box(-102.4, 31.8, mid, 31.9),
                                        shapely.box(mid, 31.8, -102.3, 31.9)], crs=4326)
    tile = gpd.GeoDataFrame({"source": "ookla", "down_mbps": [50.0], "up_mbps": [5.0],
                             "latency_ms": [20.0], "tests": [40], "devices": [30]},
                            geometry=[shapely.box(w, s, e, n)], crs=4326)
    agg = am.aggregate_speedtests(tile, areas=tracts, min_devices=10).set_index("GEOID")
    # a Web-Mercator tile is not exactly split in half by area in UTM; within 0.5%
    assert agg["tests"].sum() == pytest.approx(40)
    assert agg.loc["48135000100", "tests"] == pytest.approx(20, rel=5e-3)
    assert agg.loc["48135000200", "devices"] == pytest.approx(15, rel=5e-3)
    assert (agg["down_mbps"] == 50.0).all()


def test_h3_level_points_tiles_and_tract_rows():
    pts = _points(3, -102.38, [10.0, 20.0, 30.0], [1.0, 2.0, 3.0])
    tract_only = gpd.GeoDataFrame({"source": "mlab", "down_mbps": [5.0], "up_mbps": [1.0],
                                   "latency_ms": [9.0], "tests": [7], "devices": [5],
                                   "GEOID": ["48135000100"]}, geometry=[None], crs=4326)
    agg = am.aggregate_speedtests([pts, tract_only], level="h3", min_devices=1)
    cells = {h3.latlng_to_cell(p.y, p.x, 8) for p in pts.geometry}
    assert set(agg["h3_res8_id"]) == cells
    assert agg["tests"].sum() == 3
    assert get_report(agg)["rejected"] == {
        "no location finer than a tract (left out of the H3 level)": 1}
    x, y = lonlat_to_tile([-102.37], [31.86], 16)
    tile = gpd.GeoDataFrame({"source": "ookla", "down_mbps": [50.0], "up_mbps": [5.0],
                             "latency_ms": [20.0], "tests": [40], "devices": [30]},
                            geometry=[shapely.box(*(b[0] for b in tile_bounds(x, y, [16])))],
                            crs=4326)
    by_cell = am.aggregate_speedtests(tile, level="h3", min_devices=1)
    assert by_cell["tests"].sum() == pytest.approx(40)
    assert len(by_cell) >= 2
    assert by_cell.geometry.intersects(tile.geometry.iloc[0]).all()


def test_tile_needs_areas_at_tract_level():
    tile = gpd.GeoDataFrame({"source": "ookla", "down_mbps": [50.0], "up_mbps": [5.0],
                             "latency_ms": [20.0], "tests": [40], "devices": [30]},
                            geometry=[shapely.box(-102.4, 31.8, -102.39, 31.81)], crs=4326)
    with pytest.raises(SchemaError, match="areas="):
        am.aggregate_speedtests(tile)


def test_sources_and_licences_survive_pooling():
    tiles = am.read_ookla_tiles(shipped_tiles(),
                                period="2025-Q1")
    district = am.read_speedtests(data_path("speedtests", "ector_speedtests_illustrative.csv"))
    agg = am.aggregate_speedtests([tiles, district], level="h3")
    report = get_report(agg)
    licences = {s["name"]: s.get("license") for s in report["sources"]}
    assert any(v == "CC BY-NC-SA 4.0" for v in licences.values())
    assert report["illustrative"]
    assert agg["tests"].sum() == pytest.approx(tiles["tests"].sum() + len(district))
    shown = agg.loc[~agg["too_few_tests"]]
    assert (shown["devices"] >= 20).all()
    assert agg.loc[agg["too_few_tests"], "down_mbps"].isna().all()


def test_input_not_mutated():
    tests = _points(3, -102.38, [10.0, 20.0, 30.0], [1.0, 2.0, 3.0])
    before = tests.copy()
    am.aggregate_speedtests(tests, areas=_tracts())
    pd.testing.assert_frame_equal(tests, before)


# --- placing tiles: the fast paths against the library routines they replace ------------------

def _h3_cover_reference(polys: gpd.GeoSeries, crs: str) -> set[tuple[int, str]]:
    """(tile position, cell) pairs with a positive overlap, from H3's own polygon cover."""
    pairs = set()
    for i, poly in enumerate(polys):
        cells = h3.h3shape_to_cells_experimental(h3.geo_to_h3shape(poly), 8, contain="overlap")
        shapes = gpd.GeoSeries([shapely.Polygon([(x, y) for y, x in h3.cell_to_boundary(c)])
                                for c in cells], crs=4326).to_crs(crs)
        tile = gpd.GeoSeries([poly], crs=4326).to_crs(crs).iloc[0]
        area = shapely.area(shapely.intersection(tile, shapes.to_numpy()))
        pairs |= {(i, c) for c, a in zip(cells, area, strict=True) if a > 0}
    return pairs


@pytest.mark.parametrize("size_deg", [0.0055, 0.02, 0.3])
def test_h3_pieces_match_h3_polygon_cover(size_deg):
    from assetmap.analysis.speedtests import _pieces_h3  # internal: pieces, not the public sums

    rng = np.random.default_rng(7)
    west = -102.6 + rng.random(12) * 0.4
    south = 31.7 + rng.random(12) * 0.3
    polys = gpd.GeoSeries([shapely.box(x, y, x + size_deg, y + size_deg * 0.85)
                           for x, y in zip(west, south, strict=True)], crs=4326)
    tests = gpd.GeoDataFrame({"tests": np.ones(len(polys))}, geometry=polys, crs=4326)
    report = {"rejected": {}, "rejected_rows": {}}
    pieces = _pieces_h3(tests, report, "EPSG:32613")
    got = set(zip(pieces["idx"], pieces["area"], strict=True))
    assert got == _h3_cover_reference(polys, "EPSG:32613")
    assert (pieces["frac"] > 0).all()
    # each tile's pieces sum to the whole tile (H3 cells tile the plane)
    assert np.allclose(pieces.groupby("idx")["frac"].sum(), 1.0)


def test_h3_cell_polygons_match_cell_boundaries():
    from assetmap.analysis.speedtests import h3_cell_polygons  # internal: geometry-only helper

    cells = [h3.latlng_to_cell(31.85 + k * 0.01, -102.37, 8) for k in range(5)]
    cells.append(h3.get_pentagons(8)[0])  # five vertices
    polys = h3_cell_polygons(cells)
    for cell, poly in zip(cells, polys, strict=True):
        expected = shapely.Polygon([(x, y) for y, x in h3.cell_to_boundary(cell)])
        assert poly.equals_exact(expected, 0)
    assert h3_cell_polygons([]).shape == (0,)


def test_tile_tract_pieces_match_overlay():
    from assetmap.analysis.speedtests import _tile_tract_pieces  # internal: pieces vs overlay

    tracts = gpd.GeoDataFrame({"GEOID": ["48135000100", "48135000200"]},
                              geometry=[shapely.box(-102.5, 31.8, -102.4, 31.9),
                                        shapely.box(-102.4, 31.8, -102.3, 31.9)], crs=4326)
    tiles = gpd.GeoDataFrame(geometry=[
        shapely.box(-102.42, 31.85, -102.38, 31.86),  # straddles both tracts
        shapely.box(-102.45, 31.85, -102.44, 31.86),  # inside the first
        shapely.box(-102.30, 31.85, -102.29, 31.86),  # touches the second at an edge only
        shapely.box(-102.20, 31.85, -102.19, 31.86),  # outside both
    ], crs=4326, index=[10, 11, 12, 13])
    got = _tile_tract_pieces(tiles, tracts, "EPSG:32613")
    frame = tiles.assign(idx=tiles.index).to_crs(32613)
    frame["full"] = frame.area
    ref = gpd.overlay(frame, tracts.to_crs(32613), how="intersection", keep_geom_type=True)
    assert got["idx"].tolist() == ref["idx"].tolist() == [10, 10, 11]
    assert got["area"].tolist() == ref["GEOID"].tolist()
    assert np.array_equal(got["frac"].to_numpy(), (ref.area / ref["full"]).to_numpy())
