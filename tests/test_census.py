"""Boundary loaders against TIGER-format zips served on 127.0.0.1 and against local files."""

from __future__ import annotations

import os
import re
import zipfile

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

import assetmap as am
from assetmap.datasets import data_path
from assetmap.errors import ConfigError, DownloadError, OfflineError, RepairWarning, SchemaError
from tests.http_fixtures import FaultServer, Reply, ector_tracts_nad83, shapefile_zip

TIGER_TRACT_COLUMNS = ["STATEFP", "COUNTYFP", "TRACTCE", "GEOID", "NAME", "NAMELSAD", "MTFCC",
                       "FUNCSTAT", "ALAND", "AWATER", "INTPTLAT", "INTPTLON"]


@pytest.fixture
def server():
    running = FaultServer()
    yield running
    running.close()


@pytest.fixture(scope="module")
def shipped() -> gpd.GeoDataFrame:
    return gpd.read_file(data_path("boundaries", "ector_tracts_2020.geojson"))


@pytest.fixture(scope="module")
def two_county_tracts() -> gpd.GeoDataFrame:
    """The 33 Ector tracts plus 3 copies relabelled as Midland County (48329) tracts."""
    ector = ector_tracts_nad83()
    other = ector.head(3).copy()
    other["COUNTYFP"] = "329"
    other["GEOID"] = "48329" + other["TRACTCE"]
    other["geometry"] = other.geometry.translate(xoff=0.6)
    return pd.concat([ector, other], ignore_index=True)


def test_load_tracts_from_tiger_url(server, two_county_tracts, shipped):
    path = "/TIGER2020/TRACT/tl_2020_48_tract.zip"
    server.route(path, Reply(body=shapefile_zip(two_county_tracts, "tl_2020_48_tract")))
    tracts = am.load_tracts(state="TX", county="Ector", year=2020, base_url=server.base)
    assert len(tracts) == 33
    assert list(tracts.columns) == [*TIGER_TRACT_COLUMNS, "geometry"]
    assert tracts.crs.to_epsg() == 4326
    assert tracts["GEOID"].map(type).eq(str).all()
    assert tracts["GEOID"].str.len().eq(11).all()
    assert sorted(tracts["GEOID"]) == sorted(shipped["GEOID"])
    report = am.get_report(tracts)
    assert report["vintages"]["geometry"] == "TIGER/Line 2020"
    assert report["sources"][0]["url"] == server.url(path)
    assert report["rows_read"] == 36
    assert report["rejected"] == {"outside the requested state/county": 3}
    assert report["rows_read"] == report["rows_out"] + sum(report["rejected"].values())
    merged = tracts.merge(shipped[["GEOID", "geometry"]], on="GEOID", suffixes=("", "_shipped"))
    shipped_area = gpd.GeoSeries(merged["geometry_shipped"], crs=4326).to_crs(3081).area
    assert (tracts.set_index("GEOID").loc[merged["GEOID"]].to_crs(3081).area.to_numpy()
            == pytest.approx(shipped_area.to_numpy(), rel=1e-6))


@pytest.mark.parametrize("county", ["135", "48135", 135, ["Ector"], ["ector county"]])
def test_county_forms(server, two_county_tracts, county):
    server.route("/TIGER2020/TRACT/tl_2020_48_tract.zip",
                 Reply(body=shapefile_zip(two_county_tracts, "tl_2020_48_tract")))
    tracts = am.load_tracts(state="48", county=county, year=2020, base_url=server.base)
    assert set(tracts["COUNTYFP"]) == {"135"}


def test_county_list_and_cache(server, two_county_tracts):
    path = "/TIGER2020/TRACT/tl_2020_48_tract.zip"
    server.route(path, Reply(body=shapefile_zip(two_county_tracts, "tl_2020_48_tract")))
    both = am.load_tracts(state="Texas", county=["Ector", "Midland"], year=2020,
                          base_url=server.base)
    again = am.load_tracts(state="Texas", year=2020, base_url=server.base)
    assert len(both) == len(again) == 36
    assert server.hits(path) == 1


def test_cartographic_boundary_layer(server, two_county_tracts):
    cb = two_county_tracts.drop(columns=["MTFCC", "FUNCSTAT", "INTPTLAT", "INTPTLON"])
    cb.insert(3, "AFFGEOID", "1400000US" + cb["GEOID"])
    path = "/GENZ2022/shp/cb_2022_48_tract_500k.zip"
    server.route(path, Reply(body=shapefile_zip(cb, "cb_2022_48_tract_500k")))
    tracts = am.load_tracts(state="TX", county="Ector", year=2022, source="cb",
                            base_url=server.base)
    report = am.get_report(tracts)
    assert report["vintages"]["geometry"] == "Cartographic boundary 2022 (1:500,000)"
    assert "MTFCC" not in tracts
    assert "AFFGEOID" in tracts
    assert any("INTPTLAT" in note for note in report["notes"])


def test_offline_and_html_errors(server):
    with am.settings.override(offline=True), pytest.raises(OfflineError, match="tl_2020_48"):
        am.load_tracts(state="TX", year=2020, base_url=server.base)
    server.route("/TIGER2021/TRACT/tl_2021_48_tract.zip",
                 Reply(body=b"<html><title>Maintenance</title></html>",
                       headers={"Content-Type": "text/html"}))
    with pytest.raises(DownloadError, match="HTML page"):
        am.load_tracts(state="TX", year=2021, base_url=server.base)


def test_local_zip_and_formats(tmp_path, shipped):
    zipped = tmp_path / "tl_2020_48_tract.zip"
    zipped.write_bytes(shapefile_zip(ector_tracts_nad83(), "tl_2020_48_tract"))
    gpkg = tmp_path / "tracts.gpkg"
    shipped.to_file(gpkg, driver="GPKG")
    from_zip = am.load_tracts(path=zipped, county="Ector", state="TX")
    from_gpkg = am.load_tracts(path=gpkg, year=2020)
    assert len(from_zip) == len(from_gpkg) == 33
    assert am.get_report(from_zip)["vintages"]["geometry"] == "TIGER/Line 2020"
    assert from_gpkg.crs.to_epsg() == 4326


def test_shapefile_without_prj_assumes_nad83_with_warning(tmp_path):
    zipped = tmp_path / "tl_2020_48_tract.zip"
    zipped.write_bytes(shapefile_zip(ector_tracts_nad83(), "tl_2020_48_tract", with_prj=False))
    with zipfile.ZipFile(zipped) as archive:
        assert not any(n.endswith(".prj") for n in archive.namelist())
    with pytest.warns(RepairWarning, match=r"no CRS.*EPSG:4269"):
        tracts = am.load_tracts(path=zipped)
    assert tracts.crs.to_epsg() == 4326
    given = am.load_tracts(path=zipped, assume_crs=4269)
    assert any("no CRS" in note for note in am.get_report(given)["notes"])


def test_projected_shapefile_without_prj_is_an_error(tmp_path):
    projected = ector_tracts_nad83().to_crs(3081)
    zipped = tmp_path / "tracts.zip"
    zipped.write_bytes(shapefile_zip(projected, "tracts", with_prj=False))
    with pytest.raises(SchemaError, match=r"no CRS.*assume_crs"):
        am.load_tracts(path=zipped)


def test_missing_geoid_is_a_schema_error(tmp_path):
    frame = ector_tracts_nad83().drop(columns=["GEOID"])
    path = tmp_path / "t.geojson"
    frame.to_file(path, driver="GeoJSON")
    with pytest.raises(SchemaError, match="no GEOID column"):
        am.load_tracts(path=path)


def test_2020_suffixed_columns_and_restored_parts(tmp_path):
    frame = ector_tracts_nad83()[["GEOID", "NAMELSAD", "geometry"]].rename(
        columns={"GEOID": "GEOID20", "NAMELSAD": "NAMELSAD20"})
    path = tmp_path / "tl_2020_48_tract20.geojson"
    frame.to_file(path, driver="GeoJSON")
    tracts = am.load_tracts(path=path)
    assert tracts["STATEFP"].eq("48").all()
    assert tracts["TRACTCE"].iloc[0] == tracts["GEOID"].iloc[0][5:]
    assert tracts["NAMELSAD"].iloc[0].startswith("Census Tract")


def test_block_groups(server):
    bgs = ector_tracts_nad83()
    bgs["BLKGRPCE"] = "1"
    bgs["GEOID"] = bgs["GEOID"] + "1"
    server.route("/TIGER2023/BG/tl_2023_48_bg.zip", Reply(body=shapefile_zip(bgs, "tl_2023_48_bg")))
    out = am.load_block_groups(state="TX", county="Ector", year=2023, base_url=server.base)
    assert out["GEOID"].str.len().eq(12).all()
    assert out.columns[:5].tolist() == ["STATEFP", "COUNTYFP", "TRACTCE", "BLKGRPCE", "GEOID"]


def county_zip() -> bytes:
    ector = gpd.read_file(data_path("boundaries", "ector_county_2020.geojson")).to_crs(4269)
    other = gpd.GeoDataFrame({"STATEFP": ["35"], "COUNTYFP": ["025"], "GEOID": ["35025"],
                              "NAME": ["Lea"], "NAMELSAD": ["Lea County"], "ALAND": [1],
                              "AWATER": [0]}, geometry=[box(-103.8, 32.0, -103.1, 33.5)],
                             crs=4269)
    return shapefile_zip(pd.concat([ector, other], ignore_index=True), "tl_2020_us_county")


def test_counties_from_national_file(server):
    server.route("/TIGER2020/COUNTY/tl_2020_us_county.zip", Reply(body=county_zip()))
    tx = am.load_counties(state="TX", year=2020, base_url=server.base)
    everything = am.load_counties(year=2020, base_url=server.base)
    assert tx["GEOID"].tolist() == ["48135"]
    assert sorted(everything["GEOID"]) == ["35025", "48135"]
    assert server.hits("/TIGER2020/COUNTY/tl_2020_us_county.zip") == 1


def test_states(server):
    states = gpd.GeoDataFrame(
        {"STATEFP": ["48", "35"], "GEOID": ["48", "35"], "STUSPS": ["TX", "NM"],
         "NAME": ["Texas", "New Mexico"]},
        geometry=[box(-106, 26, -94, 36), box(-109, 31, -103, 37)], crs=4269)
    server.route("/TIGER2024/STATE/tl_2024_us_state.zip",
                 Reply(body=shapefile_zip(states, "tl_2024_us_state")))
    out = am.load_states(state=["TX"], year=2024, base_url=server.base)
    assert out[["GEOID", "STUSPS"]].values.tolist() == [["48", "TX"]]


def test_school_districts_with_county_filter(server):
    ecisd = gpd.read_file(data_path("boundaries", "ecisd_boundary_proxy_county_outline.geojson"))
    districts = gpd.GeoDataFrame(
        {"STATEFP": ["48", "48"], "UNSDLEA": ["18000", "99999"], "GEOID": ["4818000", "4899999"],
         "NAME": ["Ector County Independent School District", "Far Away ISD"]},
        geometry=[ecisd.geometry.iloc[0], box(-100.0, 30.0, -99.5, 30.5)], crs=4326,
    ).to_crs(4269)
    server.route("/TIGER2020/UNSD/tl_2020_48_unsd.zip",
                 Reply(body=shapefile_zip(districts, "tl_2020_48_unsd")))
    server.route("/TIGER2020/COUNTY/tl_2020_us_county.zip", Reply(body=county_zip()))
    out = am.load_school_districts(state="TX", county="Ector", year=2020, base_url=server.base)
    assert out["GEOID"].tolist() == ["4818000"]
    report = am.get_report(out)
    assert sum(report["rejected"].values()) == 1
    assert len(report["sources"]) == 2


def test_option_errors():
    with pytest.raises(ConfigError, match="year"):
        am.load_tracts(state="TX", year=2019)
    with pytest.raises(ConfigError, match="source"):
        am.load_tracts(state="TX", source="osm")
    with pytest.raises(ConfigError, match="state= is required"):
        am.load_tracts(year=2020)
    with pytest.raises(ConfigError, match="kind"):
        am.load_school_districts(state="TX", kind="charter")
    with pytest.raises(am.errors.GeoidError, match="Ectr"):
        am.load_tracts(state="TX", county="Ectr")


def _requested_url(load, **options) -> str:
    """The exact URL a loader asks for, read from the offline-mode error that names it."""
    with am.settings.override(offline=True), pytest.raises(OfflineError) as error:
        load(**options)
    found = re.search(r"\((https://[^)\s]+)\)", str(error.value))
    assert found, str(error.value)
    return found.group(1)


def test_urls_match_census_patterns():
    assert _requested_url(am.load_tracts, state="48", year=2020, source="cb") == (
        "https://www2.census.gov/geo/tiger/GENZ2020/shp/cb_2020_48_tract_500k.zip")
    assert _requested_url(am.load_school_districts, state="06", kind="secondary", year=2021,
                          source="tiger") == (
        "https://www2.census.gov/geo/tiger/TIGER2021/SCSD/tl_2021_06_scsd.zip")
    assert _requested_url(am.load_school_districts, state="06", kind="elementary", year=2024,
                          source="cb") == (
        "https://www2.census.gov/geo/tiger/GENZ2024/shp/cb_2024_06_elsd_500k.zip")


@pytest.mark.network
@pytest.mark.skipif(
    os.environ.get("ASSETMAP_NETWORK_TESTS") != "1",
    reason="touches the real internet; set ASSETMAP_NETWORK_TESTS=1 to run",
)
def test_real_ector_tracts():
    tracts = am.load_tracts(state="TX", county="Ector", year=2020)
    assert len(tracts) == 33
    assert list(tracts.columns) == [*TIGER_TRACT_COLUMNS, "geometry"]
