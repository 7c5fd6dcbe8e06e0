"""load_ookla_tiles: Ookla's quarterly Parquet file from a local server, cut to a box or area.

The served file has Ookla's real layout (path, file name, columns and types of the 2023+
releases) and nine tiles whose zoom-16 quadkeys and bounds were worked out by hand from the
Bing tile formulas (x = column from -180, y = row from +85.05 southwards):

    tile  x      y      quadkey           west        south      east        north
    A     14100  26644  0231211100030300  -102.546387 31.854231  -102.540894 31.858897
    B     14108  26648  0231211100033100  -102.502441 31.835566  -102.496948 31.840233
    C     14109  26644  0231211100031301  -102.496948 31.854231  -102.491455 31.858897
    D     14100  26640  0231211100030100  -102.546387 31.872893  -102.540894 31.877558
    E     14099  26641  0231211100030013  -102.551880 31.868228  -102.546387 31.872893
    F     14098  26644  0231211100030210  -102.557373 31.854231  -102.551880 31.858897
    G     14104  26646  0231211100031220  -102.524414 31.844899  -102.518921 31.849565
    LON   32744  21792  0313131311301000  -0.131836   51.505323  -0.126343   51.508742
    SYD   60294  39327  3112301330022332  151.204834  -33.870416 151.210327  -33.865854

For BOX = (-102.55, 31.84, -102.50, 31.87): A and G lie inside, B touches the south-east
corner and E the north-west one (kept: they intersect); C starts east of -102.50, D north of
31.87 and F ends west of -102.55 (left out), as do London and Sydney.
"""

from __future__ import annotations

import io

import geopandas as gpd
import pandas as pd
import pyarrow.parquet as pq
import pytest
from shapely.geometry import MultiPolygon, box

import assetmap as am
from assetmap.errors import ConfigError, DownloadError, OfflineError, SchemaError
from assetmap.loaders._ookla_download import ookla_tiles_url
from assetmap.settings import Settings
from tests.http_fixtures import FaultServer, Reply, ookla_parquet

PATH = ("/parquet/performance/type=fixed/year=2024/quarter=1/"
        "2024-01-01_performance_fixed_tiles.parquet")
NAME = "2024-01-01_performance_fixed_tiles.parquet"
BOX = (-102.55, 31.84, -102.50, 31.87)
TILES = {  # name: (quadkey, west, south, east, north)
    "A": ("0231211100030300", -102.546387, 31.854231, -102.540894, 31.858897),
    "B": ("0231211100033100", -102.502441, 31.835566, -102.496948, 31.840233),
    "C": ("0231211100031301", -102.496948, 31.854231, -102.491455, 31.858897),
    "D": ("0231211100030100", -102.546387, 31.872893, -102.540894, 31.877558),
    "E": ("0231211100030013", -102.551880, 31.868228, -102.546387, 31.872893),
    "F": ("0231211100030210", -102.557373, 31.854231, -102.551880, 31.858897),
    "G": ("0231211100031220", -102.524414, 31.844899, -102.518921, 31.849565),
    "LON": ("0313131311301000", -0.131836, 51.505323, -0.126343, 51.508742),
    "SYD": ("3112301330022332", 151.204834, -33.870416, 151.210327, -33.865854),
}
QK = {name: spec[0] for name, spec in TILES.items()}


def _tiles_body() -> bytes:
    """Nine tiles in Ookla's 2023+ Parquet schema, sorted by quadkey, three per row group."""
    rows = []
    for i, (name, (quadkey, west, south, east, north)) in enumerate(sorted(
            TILES.items(), key=lambda item: item[1][0])):
        rows.append({
            "quadkey": quadkey, "tile": box(west, south, east, north).wkt,
            "tile_x": round((west + east) / 2, 4), "tile_y": round((south + north) / 2, 4),
            "avg_d_kbps": 50_000 + 1000 * i, "avg_u_kbps": 5_000 + 100 * i, "avg_lat_ms": 20 + i,
            "avg_lat_down_ms": 100.0 + i if name != "A" else None,
            "avg_lat_up_ms": 200.0 + i if name != "A" else None,
            "tests": 10 + i, "devices": 3 + i,
        })
    return ookla_parquet(rows, row_group_size=3)


BODY = _tiles_body()


@pytest.fixture
def server():
    running = FaultServer()
    with am.settings.override(ookla_open_data_url=running.base):
        yield running
    running.close()


def serve(server: FaultServer, body: bytes = BODY) -> None:
    server.route(PATH, Reply(200, body, {"Content-Type": "binary/octet-stream"}))


def test_bbox_keeps_exactly_the_hand_checked_tiles(server):
    serve(server)
    tiles = am.load_ookla_tiles(year=2024, quarter=1, bbox=BOX)
    assert sorted(tiles["quadkey"]) == sorted(QK[n] for n in "ABEG")
    assert not {QK[n] for n in ("C", "D", "F", "LON", "SYD")} & set(tiles["quadkey"])
    report = am.get_report(tiles)
    # the box spans 10 x 8 zoom-16 tiles, so the scan's prefixes are whole quadkeys:
    # only the four tiles were read from the file
    assert report["rows_read"] == 4
    assert report["rows_out"] == 4
    assert any("4 of the 9 tiles" in note for note in report["notes"])
    a = tiles.set_index("quadkey").loc[QK["A"]]
    assert a["period"] == "2024-Q1"
    assert a["timestamp"] == pd.Timestamp("2024-01-01", tz="UTC")
    assert a.geometry.bounds == pytest.approx(TILES["A"][1:], abs=1e-6)  # from the quadkey
    assert server.hits(PATH) == 1


def test_frame_matches_read_ookla_tiles_on_the_same_file(server, tmp_path):
    serve(server)
    local = tmp_path / NAME
    local.write_bytes(BODY)
    read = am.read_ookla_tiles(local, bbox=BOX).sort_values("quadkey").reset_index(drop=True)
    loaded = am.load_ookla_tiles(year=2024, quarter=1, bbox=BOX)
    loaded = loaded.sort_values("quadkey").reset_index(drop=True)
    assert list(loaded.columns) == list(read.columns)
    assert loaded.dtypes.equals(read.dtypes)
    pd.testing.assert_frame_equal(loaded.drop(columns="geometry"),
                                  read.drop(columns="geometry"))
    # the published WKT (rounded to 6 places here) and the quadkey's tile agree
    assert loaded.geometry.geom_equals_exact(read.geometry, tolerance=1e-5).all()
    assert loaded.crs.to_epsg() == 4326


def test_report_carries_licence_period_and_url(server):
    serve(server)
    tiles = am.load_ookla_tiles(year=2024, quarter=1, bbox=BOX)
    report = am.get_report(tiles)
    source = report["sources"][0]
    assert source["license"] == "CC BY-NC-SA 4.0"
    assert source["vintage"] == "2024-Q1"
    assert report["vintages"] == {"ookla": "2024-Q1"}
    assert source["url"] == server.url(PATH)
    assert "Ookla" in source["attribution"]
    assert any("non-commercial" in note for note in report["notes"])


def test_area_uses_its_bounds_then_intersects(server):
    serve(server)
    # two small squares on the centres of A and B, given in Web Mercator metres: G lies
    # inside their total bounds but touches neither square
    squares = [box(x - 0.0005, y - 0.0005, x + 0.0005, y + 0.0005) for x, y in
               (((-102.546387 - 102.540894) / 2, (31.854231 + 31.858897) / 2),
                ((-102.502441 - 102.496948) / 2, (31.835566 + 31.840233) / 2))]
    area = gpd.GeoDataFrame(geometry=[MultiPolygon(squares)], crs=4326).to_crs(3857)
    tiles = am.load_ookla_tiles(year=2024, quarter=1, area=area)
    assert sorted(tiles["quadkey"]) == sorted([QK["A"], QK["B"]])
    report = am.get_report(tiles)
    assert report["rows_read"] == 3  # A, B and G share the bounds' prefixes
    assert report["rejected"] == {"outside the requested area": 1}  # G
    assert len(area) == 1  # the input is not modified
    assert area.crs.to_epsg() == 3857


def test_large_box_uses_coarser_prefixes(server):
    serve(server)
    texas = am.load_ookla_tiles(year=2024, quarter=1, bbox=(-106.65, 25.84, -93.51, 36.5))
    assert sorted(texas["quadkey"]) == sorted(QK[n] for n in "ABCDEFG")
    world = am.load_ookla_tiles(year=2024, quarter=1, bbox=(-180, -85, 180, 85))
    assert len(world) == 9
    assert server.hits(PATH) == 1


def test_second_call_and_offline_use_the_cache(server):
    serve(server)
    first = am.load_ookla_tiles(year=2024, quarter=1, bbox=BOX)
    second = am.load_ookla_tiles(year=2024, quarter=1, bbox=(-1, 51, 0, 52))
    assert second["quadkey"].tolist() == [QK["LON"]]
    with am.settings.override(offline=True):
        third = am.load_ookla_tiles(year=2024, quarter=1, bbox=BOX)
    assert server.hits(PATH) == 1
    assert sorted(third["quadkey"]) == sorted(first["quadkey"])


def test_offline_without_cache_names_the_file(server):
    serve(server)
    with am.settings.override(offline=True), pytest.raises(OfflineError, match=NAME):
        am.load_ookla_tiles(year=2024, quarter=1, bbox=BOX)
    assert server.hits(PATH) == 0


def test_truncated_parquet_is_refused_and_not_cached(server):
    serve(server, BODY[: len(BODY) // 2])  # a complete response holding half a file
    with pytest.raises(DownloadError, match=rf"{NAME}.*not a Parquet file"):
        am.load_ookla_tiles(year=2024, quarter=1, bbox=BOX)
    with am.settings.override(offline=True), pytest.raises(OfflineError):
        am.load_ookla_tiles(year=2024, quarter=1, bbox=BOX)


def test_short_body_is_retried_then_refused(server):
    server.route(PATH, Reply(200, BODY, send=len(BODY) // 3))  # the connection drops
    with am.settings.override(max_retries=1), pytest.raises(DownloadError, match=NAME):
        am.load_ookla_tiles(year=2024, quarter=1, bbox=BOX)
    assert server.hits(PATH) == 2


def test_unreadable_parquet_names_the_file(server):
    serve(server, b"PAR1" + b"\x00garbage" * 50 + b"PAR1")  # right magic, broken inside
    with pytest.raises(SchemaError, match=rf"{NAME}.*not a readable Parquet file"):
        am.load_ookla_tiles(year=2024, quarter=1, bbox=BOX)


def test_missing_column_names_the_file(server):
    table = pq.read_table(io.BytesIO(BODY)).drop_columns(["devices"])
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    serve(server, buffer.getvalue())
    with pytest.raises(SchemaError, match=rf"{NAME}.*missing Ookla tile columns \['devices'\]"):
        am.load_ookla_tiles(year=2024, quarter=1, bbox=BOX)


def test_unpublished_quarter_says_so(server):
    with pytest.raises(DownloadError, match="may not have published 2024-Q1"):
        am.load_ookla_tiles(year=2024, quarter=1, bbox=BOX)  # the server answers 404


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"year": 2018, "quarter": 4, "bbox": BOX}, "start with 2019 Q1"),
    ({"year": 2024, "quarter": 5, "bbox": BOX}, "quarter must be 1, 2, 3 or 4"),
    ({"year": 2024, "quarter": 0, "bbox": BOX}, "quarter must be 1, 2, 3 or 4"),
    ({"year": "2024", "quarter": 1, "bbox": BOX}, "year must be a whole number"),
    ({"year": 2024, "quarter": True, "bbox": BOX}, "quarter must be 1, 2, 3 or 4"),
    ({"year": 2100, "quarter": 1, "bbox": BOX}, "has not ended yet"),
    ({"year": 2024, "quarter": 1, "bbox": BOX, "kind": "mobile"}, "cellular"),
    ({"year": 2024, "quarter": 1, "bbox": (31.84, -102.55, 31.87, -102.50)}, "swapped"),
    ({"year": 2024, "quarter": 1, "bbox": (-11415000, 3740000, -11409000, 3744000)},
     "projected coordinates"),
    ({"year": 2024, "quarter": 1, "bbox": (-102.50, 31.84, -102.55, 31.87)}, "minx <= maxx"),
    ({"year": 2024, "quarter": 1, "bbox": (-102.55, 31.84, -102.50)}, "four finite numbers"),
    ({"year": 2024, "quarter": 1, "bbox": (-102.55, float("nan"), -102.5, 31.87)},
     "four finite numbers"),
    ({"year": 2024, "quarter": 1, "bbox": "Ector"}, "four numbers"),
    ({"year": 2024, "quarter": 1}, "give bbox="),
    ({"year": 2024, "quarter": 1, "bbox": BOX, "area": box(0, 0, 1, 1)}, "do not overlap"),
])
def test_bad_arguments_fail_before_any_request(server, kwargs, message):
    with pytest.raises(ValueError, match=message):
        am.load_ookla_tiles(**kwargs)
    assert server.log == []


def test_area_in_metres_without_crs_is_refused(server):
    area = gpd.GeoDataFrame(geometry=[box(-11415000, 3740000, -11409000, 3744000)])
    with pytest.raises(ValueError, match=r"area's bounds.*projected coordinates"):
        am.load_ookla_tiles(year=2024, quarter=1, area=area)
    assert server.log == []


def test_url_setting_from_the_environment():
    settings = Settings(environ={"ASSETMAP_OOKLA_OPEN_DATA_URL": "http://127.0.0.1:9/ookla/"})
    assert settings.ookla_open_data_url == "http://127.0.0.1:9/ookla"
    assert Settings(environ={}).ookla_open_data_url == "https://ookla-open-data.s3.amazonaws.com"
    with pytest.raises(ConfigError, match="ASSETMAP_OOKLA_OPEN_DATA_URL"):
        Settings(environ={"ASSETMAP_OOKLA_OPEN_DATA_URL": "ookla-open-data"})


def test_default_url_is_ookla_layout():
    with am.settings.override(ookla_open_data_url="https://ookla-open-data.s3.amazonaws.com"):
        tiles_url = ookla_tiles_url(year=2020, quarter=2)
    assert tiles_url == ("https://ookla-open-data.s3.amazonaws.com/parquet/performance/"
                         "type=fixed/year=2020/quarter=2/2020-04-01_performance_fixed_tiles"
                         ".parquet")
