"""NCES EDGE geocode downloads (load_schools, load_districts) against zips served on 127.0.0.1.

The zips are built here in the layouts NCES has published: a pipe-delimited ``.TXT`` without
a header line at the zip's root (2024-25), the same file with its header inside a folder
(2023-24), and a nested ``Shapefile_SCH.zip`` only. Their rows are the shipped NCES CCD
2013-14 rows of Ector County and its neighbours, reshaped to EDGE's columns, plus one
Alabama school; nothing is mocked: the files go through ``assetmap._http.fetch``.
"""

from __future__ import annotations

import csv
import io
import zipfile

import geopandas as gpd
import pytest

import assetmap as am
from assetmap.datasets import data_path
from assetmap.errors import ConfigError, DownloadError, OfflineError, SchemaError
from assetmap.loaders.nces import SCHOOL_COLUMNS
from tests.http_fixtures import FaultServer, Reply, shapefile_zip

SCH_COLUMNS = ["NCESSCH", "LEAID", "NAME", "OPSTFIPS", "STREET", "CITY", "STATE", "ZIP", "STFIP",
               "CNTY", "NMCNTY", "LOCALE", "LAT", "LON", "CBSA", "NMCBSA", "CBSATYPE", "CSA",
               "NMCSA", "NECTA", "NMNECTA", "CD", "SLDL", "SLDU", "SCHOOLYEAR"]
SCH_2223 = "/EDGE_GEOCODE_PUBLICSCH_2223.zip"


def school_rows() -> list[list[str]]:
    """EDGE-shaped rows: the shipped CCD 2013-14 schools of the Permian area, plus Alabama."""
    rows = []
    with data_path("schools", "nces_ccd_2013_14_schools_ector_neighbors.csv").open() as handle:
        for r in csv.DictReader(handle):
            rows.append([r["NCESSCH"], r["LEAID"], r["SCHNAM"], r["FIPST"], r["LSTREE"],
                         r["LCITY"], r["LSTATE"], r["LZIP"], r["FIPST"], r["CONUM"],
                         r["CONAME"].title(), r["ULOCAL"], r["LATCOD"], r["LONCOD"], "", "", "",
                         "", "", "", "", r["CDCODE"], "", "", "2022-2023"])
    rows.append(["010000500870", "0100005", "ALBERTVILLE MIDDLE SCHOOL", "01", "600 E ALABAMA AVE",
                 "ALBERTVILLE", "AL", "35950", "01", "01095", "Marshall County", "32", "34.2602",
                 "-86.2062", "10700", "", "", "", "", "", "", "0104", "", "", "2022-2023"])
    return rows


def text_zip(member: str, rows: list[list[str]], header: list[str] | None = None) -> bytes:
    lines = ([header] if header else []) + rows
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(member, "\r\n".join("|".join(r) for r in lines) + "\r\n")
    return buffer.getvalue()


def school_zip() -> bytes:
    """The 2024-25 layout: ``EDGE_GEOCODE_PUBLICSCH_2223.TXT`` at the root, no header line."""
    return text_zip("EDGE_GEOCODE_PUBLICSCH_2223.TXT", school_rows())


@pytest.fixture
def server():
    running = FaultServer()
    yield running
    running.close()


@pytest.fixture
def edge(server):
    server.route(SCH_2223, Reply(body=school_zip(), headers={"Content-Type": "application/zip"}))
    with am.settings.override(nces_edge_url=server.base):
        yield server


def test_download_filters_by_state_and_district(edge):
    texas = am.load_schools(state="TX", school_year="2022-23")
    assert len(texas) == 113  # PROVENANCE: 113 CCD 2013-14 schools of the Permian cut
    assert texas.crs.to_epsg() == 4326
    assert list(texas.columns) == SCHOOL_COLUMNS
    assert set(texas["state_fips"]) == {"48"}
    report = am.get_report(texas)
    assert report["rows_read"] == 114
    assert report["rejected"] == {"filtered: not in state 48": 1}
    assert report["vintages"]["schools"] == "NCES EDGE public school geocodes 2022-23"
    assert report["sources"][0]["url"] == edge.url(SCH_2223)
    assert report["sources"][0]["vintage"] == "2022-23"

    ecisd = am.load_schools(state="Texas", district="4818000", school_year="2022-2023")
    assert len(ecisd) == 39  # PROVENANCE: 39 Ector County ISD campuses
    assert set(ecisd["district_id"]) == {"4818000"}
    row = ecisd.set_index("school_id").loc["481800001567"]
    assert row["name"] == "AUSTIN MONTESSORI MAGNET"
    assert row["county_fips"] == "48135"
    assert row.geometry.y == pytest.approx(31.851461)
    rep = am.get_report(ecisd)
    assert rep["rows_read"] == rep["rows_out"] + sum(rep["rejected"].values())
    assert rep["rejected"]["filtered: not in district 4818000"] == 113 - 39

    alabama = am.load_schools(state="01", school_year=2022)
    assert alabama["school_id"].tolist() == ["010000500870"]
    assert alabama["district_id"].tolist() == ["0100005"]
    in_county = am.load_schools(state="TX", county="Ector", school_year="2223")
    assert len(in_county) == 42  # 39 ECISD + 3 charters (PROVENANCE)


def test_the_cache_serves_the_second_call_and_offline_mode(edge):
    first = am.load_schools(state="TX", district="4818000", school_year="2022-23")
    again = am.load_schools(state="TX", school_year="2022-23")
    assert edge.hits(SCH_2223) == 1
    with am.settings.override(offline=True):
        offline = am.load_schools(state="TX", district="4818000", school_year="2022-23")
    assert edge.hits(SCH_2223) == 1
    assert len(first) == len(offline) == 39
    assert len(again) == 113
    assert offline["school_id"].tolist() == first["school_id"].tolist()


def test_offline_without_a_cached_file_names_it(edge):
    with am.settings.override(offline=True), pytest.raises(OfflineError) as error:
        am.load_schools(state="TX", school_year="2022-23")
    message = str(error.value)
    assert "EDGE_GEOCODE_PUBLICSCH_2223.zip" in message
    assert "NCES EDGE 2022-23 public school geocodes" in message
    assert "offline mode is on" in message
    assert edge.hits(SCH_2223) == 0


def test_a_truncated_zip_names_the_file_and_is_not_cached(server):
    whole = school_zip()
    server.route(SCH_2223, Reply(body=whole[: len(whole) // 2]),
                 Reply(body=whole))
    with am.settings.override(nces_edge_url=server.base):
        with pytest.raises(DownloadError, match=r"EDGE_GEOCODE_PUBLICSCH_2223\.zip.*zip"):
            am.load_schools(state="TX", school_year="2022-23")
        assert len(am.load_schools(state="TX", school_year="2022-23")) == 113  # nothing cached
    assert server.hits(SCH_2223) == 2


def test_a_body_cut_short_is_retried_then_named(server):
    whole = school_zip()
    server.route(SCH_2223, Reply(body=whole, send=len(whole) // 3))
    with (am.settings.override(nces_edge_url=server.base, max_retries=1),
          pytest.raises(DownloadError, match=r"EDGE_GEOCODE_PUBLICSCH_2223\.zip.*shorter")):
        am.load_schools(state="TX", school_year="2022-23")
    assert server.hits(SCH_2223) == 2


def test_a_local_truncated_zip_names_the_file(tmp_path):
    local = tmp_path / "EDGE_GEOCODE_PUBLICSCH_2223.zip"
    local.write_bytes(school_zip()[:200])
    with pytest.raises(SchemaError,
                       match=r"EDGE_GEOCODE_PUBLICSCH_2223\.zip: truncated or corrupt"):
        am.load_schools(state="TX", path=local)


def test_a_headed_text_file_in_a_folder_and_a_nested_shapefile(server, tmp_path):
    headed = text_zip("EDGE_GEOCODE_PUBLICSCH_2324/EDGE_GEOCODE_PUBLICSCH_2324.TXT",
                      school_rows(), header=SCH_COLUMNS)
    server.route("/EDGE_GEOCODE_PUBLICSCH_2324.zip", Reply(body=headed))
    frame = gpd.GeoDataFrame([dict(zip(SCH_COLUMNS, r, strict=True)) for r in school_rows()])
    frame = frame.set_geometry(gpd.points_from_xy(frame["LON"].astype(float),
                                                  frame["LAT"].astype(float)), crs=4269)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("Shapefile_SCH.zip", shapefile_zip(frame, "EDGE_GEOCODE_PUBLICSCH_2425"))
    server.route("/EDGE_GEOCODE_PUBLICSCH_2425.zip", Reply(body=buffer.getvalue()))
    with am.settings.override(nces_edge_url=server.base):
        a = am.load_schools(state="TX", district="4818000", school_year="2023-24")
        b = am.load_schools(state="TX", district="4818000")  # the default school year, 2024-25
    assert sorted(a["school_id"]) == sorted(b["school_id"])
    assert len(a) == 39
    assert am.get_report(b)["vintages"]["schools"].endswith("2024-25")


def test_bad_options_fail_before_any_request(edge):
    with pytest.raises(ConfigError, match="school_year '2022-24'"):
        am.load_schools(state="TX", school_year="2022-24")
    with pytest.raises(ConfigError, match="LEAID 0100005 is a district of state 01, not of "
                                          "state 48"):
        am.load_schools(state="TX", district="0100005")
    with pytest.raises(ConfigError, match="source must be 'nces'"):
        am.load_schools(state="TX", source="tea")
    assert edge.log == []


def test_a_leaid_with_no_school_and_a_year_nces_lacks(edge):
    with pytest.raises(ConfigError, match="LEAID 4899999 has no school in NCES EDGE 2022-23"):
        am.load_schools(state="TX", district="4899999", school_year="2022-23")
    with pytest.raises(DownloadError, match="NCES has no EDGE public school geocodes file for "
                                            "school year 2030-31"):
        am.load_schools(state="TX", school_year="2030-31")


def test_load_districts_reads_the_lea_file(server):
    rows = [["4818000", "ECTOR COUNTY ISD", "48", "802 N SAM HOUSTON AVE", "ODESSA", "TX",
             "79761", "48", "48135", "Ector County", "31.8478", "-102.3694"],
            ["4823640", "HOUSTON ISD", "48", "4400 W 18TH ST", "HOUSTON", "TX", "77092", "48",
             "48201", "Harris County", "29.8027", "-95.4476"],
            ["0100005", "ALBERTVILLE CITY", "01", "107 W MAIN ST", "ALBERTVILLE", "AL", "35950",
             "01", "01095", "Marshall County", "", ""]]
    server.route("/EDGE_GEOCODE_PUBLICLEA_2223.zip",
                 Reply(body=text_zip("EDGE_GEOCODE_PUBLICLEA_2223.TXT", rows)))
    with am.settings.override(nces_edge_url=server.base):
        texas = am.load_districts(state="TX", school_year="2022-23")
        one = am.load_districts(district="0100005", school_year="2022-23")
    assert texas["district_id"].tolist() == ["4818000", "4823640"]
    assert texas.set_index("district_id").loc["4823640", "county_fips"] == "48201"
    assert am.get_report(texas)["rejected"] == {"filtered: not in state 48": 1}
    assert one["name"].tolist() == ["ALBERTVILLE CITY"]
    assert one.geometry.isna().all()  # no office point in the file
    assert server.hits("/EDGE_GEOCODE_PUBLICLEA_2223.zip") == 1


def test_a_readme_beside_the_data_is_not_read(server):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "NCES EDGE public school geocodes: see the workbook\n")
        archive.writestr("EDGE_GEOCODE_PUBLICSCH_2223/EDGE_GEOCODE_PUBLICSCH_2223.TXT",
                         "\n".join("|".join(r) for r in [SCH_COLUMNS, *school_rows()]))
    server.route(SCH_2223, Reply(body=buffer.getvalue()))
    with am.settings.override(nces_edge_url=server.base):
        schools = am.load_schools(state="TX", district="4818000", school_year="2022-23")
    assert len(schools) == 39
    assert any("EDGE_GEOCODE_PUBLICSCH_2223.TXT" in n for n in am.get_report(schools)["notes"])


def test_a_workbook_only_zip(server):
    import pandas as pd

    sheet = io.BytesIO()
    pd.DataFrame(school_rows(), columns=SCH_COLUMNS).to_excel(sheet, index=False)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("EDGE_GEOCODE_PUBLICSCH_2122.xlsx", sheet.getvalue())
    server.route("/EDGE_GEOCODE_PUBLICSCH_2122.zip", Reply(body=buffer.getvalue()))
    with am.settings.override(nces_edge_url=server.base):
        schools = am.load_schools(state="TX", county="48135", school_year="2021-22")
    assert len(schools) == 42
    assert set(schools["school_id"].str.len()) == {12}
