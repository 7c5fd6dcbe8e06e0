"""A study's schools from NCES and speed tests from Ookla: fetched once, built offline.

``[sources] schools = "nces"`` and ``ookla_year``/``ookla_quarter`` are served from 127.0.0.1
by the stand-ins of tests/test_nces_download.py (an EDGE zip in the 2024-25 layout, built from
the shipped CCD rows of Ector County and its neighbours) and tests/test_ookla_download.py (a
Parquet file in Ookla's schema whose tiles were placed by hand). Also here: the TIGER district
of a LEAID found among elementary districts, the commented ``district_boundary`` line of
``assetmap init``, and a local tract file named as a local file.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tomllib
import warnings
from pathlib import Path

import pytest

import assetmap as am
from assetmap.cli import main  # internal: the `assetmap` command, tested as main([...])
from assetmap.errors import AssetmapWarning, ConfigError
from tests.http_fixtures import FaultServer, Reply, shapefile_zip, tiger_tract_zip
from tests.test_district_area import _acs_api, _synthetic_district, _tiger_bg_zip, _tiger_county_zip
from tests.test_nces_download import school_rows, school_zip, text_zip
from tests.test_ookla_download import BODY as OOKLA_BODY
from tests.test_ookla_download import PATH as OOKLA_PATH

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "ector"
TRACTS = DATA / "boundaries" / "ector_tracts_2020.geojson"
ACS = ROOT / "examples" / "ector_county" / "ACSDT5Y2023.B19001-Data.csv"
J25 = DATA / "fcc" / "bdc_48_illustrative_ector_fixed_availability_J25.zip"
SCH_2425 = "/EDGE_GEOCODE_PUBLICSCH_2425.zip"
SCH_2223 = "/EDGE_GEOCODE_PUBLICSCH_2223.zip"
SCHOOL_ZIP = school_zip()
ECTOR_SCHOOLS = sum(1 for r in school_rows() if r[9] == "48135")  # CNTY


@pytest.fixture
def server():
    running = FaultServer()
    running.route(SCH_2425, Reply(body=SCHOOL_ZIP, headers={"Content-Type": "application/zip"}))
    running.route(SCH_2223, Reply(body=text_zip("EDGE_GEOCODE_PUBLICSCH_2223.TXT",
                                                school_rows())))
    running.route("/" + OOKLA_PATH.lstrip("/"), Reply(body=OOKLA_BODY))
    with am.settings.override(nces_edge_url=running.base, ookla_open_data_url=running.base):
        yield running
    running.close()


def _study(folder: Path, sources: str, *, area: str = 'counties = ["Ector"]\n'
           'district = "4818000"', bdc: bool = True, census_year: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "study.toml"
    files = f'["{J25}"]' if bdc else "[]"
    year = "year = 2020\n" if census_year else ""
    path.write_text(f'''
[study]
name = "downloaded_sources"

[area]
state = "TX"
{area}

[census]
{year}tracts = "{TRACTS}"
acs = "{ACS}"

[bdc]
files = {files}

[sources]
{sources}

[outputs]
dir = "out"
formats = ["csv"]
''', encoding="utf-8")
    return path


BOTH = 'schools = "nces"\nookla_year = 2024\nookla_quarter = 1'


def test_fetch_then_an_offline_build_reads_the_cache_and_records_each_file(server, tmp_path,
                                                                          capsys):
    study = _study(tmp_path, BOTH)
    assert main(["fetch", str(study)]) == 0
    printed = capsys.readouterr().out
    assert "EDGE_GEOCODE_PUBLICSCH_2425.zip" in printed
    assert "2024-01-01_performance_fixed_tiles.parquet" in printed
    assert server.hits(SCH_2425) == 1
    assert server.hits(OOKLA_PATH) == 1

    server.log.clear()
    code = main(["--offline", "build", str(study)])
    assert code == 0, capsys.readouterr().err
    assert server.log == []  # every file from the cache
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    schools, tiles = manifest["downloads"]["schools"], manifest["downloads"]["ookla_tiles"]
    assert schools == {
        "source": "NCES EDGE public school geocodes", "url": server.url(SCH_2425),
        "school_year": "2024-25", "file_name": "EDGE_GEOCODE_PUBLICSCH_2425.zip",
        "bytes": len(SCHOOL_ZIP), "sha256": hashlib.sha256(SCHOOL_ZIP).hexdigest()}
    assert tiles["url"] == server.url(OOKLA_PATH)
    assert (tiles["year"], tiles["quarter"], tiles["period"]) == (2024, 1, "2024-Q1")
    assert tiles["file_name"] == "2024-01-01_performance_fixed_tiles.parquet"
    assert tiles["sha256"] == hashlib.sha256(OOKLA_BODY).hexdigest()
    west, south, east, north = tiles["bbox"]  # Ector County's tracts
    assert -103.1 < west < east < -102.2
    assert 31.6 < south < north < 32.3
    hashed = {e["sha256"] for e in manifest["inputs"]}
    assert {schools["sha256"], tiles["sha256"]} <= hashed
    loaded = manifest["loaded"]
    assert loaded["schools"]["rows_out"] == 39  # PROVENANCE: 39 Ector County ISD campuses
    assert loaded["speed_tiles"]["rows_out"] == 7  # the seven hand-placed Odessa tiles
    assert "NCES EDGE public school geocodes 2024-25" in manifest["vintages"].values()


def test_offline_with_nothing_cached_says_to_run_fetch(server, tmp_path, capsys):
    study = _study(tmp_path, BOTH)
    assert main(["--offline", "build", str(study)]) == 3
    err = capsys.readouterr().err
    assert "[sources]" in err
    assert f"assetmap fetch {study}" in err
    assert server.log == []
    assert not (tmp_path / "out" / "manifest.json").exists()

    ookla_only = _study(tmp_path / "ookla", "ookla_year = 2024\nookla_quarter = 1")
    with am.settings.override(offline=True), pytest.raises(am.errors.OfflineError) as caught:
        am.Study.from_toml(ookla_only).load()
    assert "[sources] ookla_year, ookla_quarter" in str(caught.value)
    assert "2024-Q1" in str(caught.value)
    assert "assetmap fetch" in str(caught.value)


def test_a_school_year_and_counties_without_a_district(server, tmp_path):
    one = am.Study.from_toml(_study(tmp_path / "one", 'schools = "nces"\n'
                                    'school_year = "2022-2023"', area='counties = ["Ector"]',
                                    bdc=False))
    schools = one.load().schools
    assert server.hits(SCH_2223) == 1
    assert server.hits(SCH_2425) == 0
    assert len(schools) == ECTOR_SCHOOLS
    assert set(schools["county_fips"]) == {"48135"}
    assert am.get_report(schools)["vintages"]["schools"].endswith("2022-23")

    two = am.Study.from_toml(_study(tmp_path / "two", 'schools = "nces"',
                                    area='counties = ["Ector", "Midland"]', bdc=False))
    both = two.load().schools
    counts = both["county_fips"].value_counts().to_dict()
    assert counts == {"48135": ECTOR_SCHOOLS,
                      "48329": sum(1 for r in school_rows() if r[9] == "48329")}
    report = am.get_report(both)
    assert report["rejected"]["filtered: not in the study's counties"] == (
        113 - len(both))  # the Texas rows of the file outside the two counties


@pytest.mark.parametrize(("sources", "words"), [
    ({"schools": "nces", "school_year": "2010-11"}, "[sources] school_year '2010-11' is not"),
    ({"schools": "nces", "school_year": 2.5}, "[sources] school_year must be str or int"),
    ({"school_year": "2024-25"}, '[sources] school_year applies only to schools = "nces"'),
    ({"ookla_year": 2025}, "[sources] ookla_quarter is missing"),
    ({"ookla_quarter": 2}, "[sources] ookla_year is missing"),
    ({"ookla_year": 2025, "ookla_quarter": 5}, "[sources] ookla_quarter must be 1, 2, 3 or 4"),
    ({"ookla_year": "2025", "ookla_quarter": 2}, "[sources] ookla_year must be int"),
    ({"ookla_year": 2018, "ookla_quarter": 4}, "start with 2019 Q1"),
    ({"ookla_year": 2099, "ookla_quarter": 1}, "has not ended yet"),
    ({"ookla_year": 2025, "ookla_quarter": 2, "ookla_tiles": "tiles.parquet"},
     "give either ookla_tiles (a file) or ookla_year and ookla_quarter"),
    ({"schols": "nces"}, "[sources] unknown key 'schols'; allowed: districts, ookla_quarter"),
])
def test_bad_values_name_the_key_and_what_is_allowed(sources, words):
    with pytest.raises(ConfigError) as caught:
        am.Study.from_dict({"area": {"state": "TX"}, "sources": sources})
    assert words in str(caught.value)


def test_the_values_are_kept_and_nces_is_not_a_path(tmp_path):
    study = am.Study.from_toml(_study(tmp_path, 'schools = "nces"\nschool_year = 2023\n'
                                      "ookla_year = 2025\nookla_quarter = 2"))
    config = study.config
    assert config.sources["schools"] == "nces"
    assert config.sources["school_year"] == "2023-24"
    assert config.ookla_quarter == (2025, 2)
    assert config.nces_schools


def _tiger_district_server(elementary: bool) -> FaultServer:
    """TIGER 2020 files of Texas: the synthetic district is no unified one."""
    district = _synthetic_district().to_crs(4269)
    server = FaultServer()
    other = district.assign(STATEFP="48", UNSDLEA="11111", GEOID="4811111", NAME="OTHER ISD")
    server.route("/TIGER2020/UNSD/tl_2020_48_unsd.zip",
                 Reply(body=shapefile_zip(other, "tl_2020_48_unsd")))
    if elementary:
        found = district.assign(STATEFP="48", ELSDLEA="99999", GEOID="4899999",
                                NAME="SYNTHETIC ELEMENTARY DISTRICT")
        server.route("/TIGER2020/ELSD/tl_2020_48_elsd.zip",
                     Reply(body=shapefile_zip(found, "tl_2020_48_elsd")))
    server.route("/TIGER2020/COUNTY/tl_2020_us_county.zip", Reply(body=_tiger_county_zip()))
    server.route("/TIGER2020/TRACT/tl_2020_48_tract.zip", Reply(body=tiger_tract_zip()))
    server.route("/TIGER2020/BG/tl_2020_48_bg.zip", Reply(body=_tiger_bg_zip()))
    server.respond("/data/2023/acs/acs5", _acs_api)
    return server


def _tiger_study(server: FaultServer) -> am.Study:
    return am.Study.from_dict({
        "area": {"state": "TX", "counties": ["Ector"], "district": "4899999"},
        "census": {"year": 2020, "base_url": server.base, "acs_base_url": server.url("/data")},
    })


def test_a_leaid_that_is_no_unified_district_is_found_among_elementary_ones():
    server = _tiger_district_server(elementary=True)
    try:
        sources = _tiger_study(server).load()
    finally:
        server.close()
    assert sources.district["GEOID"].tolist() == ["4899999"]
    report = am.get_report(sources.district)
    assert report["district_kind"] == "elementary"
    assert "LEAID 4899999 found among the elementary school districts (TIGER 2020, state 48)" in (
        report["notes"])
    assert server.hits("/TIGER2020/SCSD/tl_2020_48_scsd.zip") == 0  # found before


def test_a_leaid_of_no_kind_warns_with_every_kind_and_the_file_option():
    server = _tiger_district_server(elementary=False)  # ELSD and SCSD answer 404
    try:
        with pytest.warns(AssetmapWarning, match="no unified, elementary or secondary school "
                          "district") as caught:
            sources = _tiger_study(server).load()
    finally:
        server.close()
    assert sources.district is None
    assert "district_boundary" in str(caught[0].message)
    assert server.hits("/TIGER2020/ELSD/tl_2020_48_elsd.zip") == 1
    assert server.hits("/TIGER2020/SCSD/tl_2020_48_scsd.zip") == 1


def test_init_writes_a_commented_boundary_line_and_names_no_place(tmp_path, capsys):
    out = tmp_path / "study.toml"
    assert main(["--offline", "init", "--state", "TX", "--county", "135", "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert '# district_boundary = "district_boundary.geojson"' in text
    assert "district_boundary" not in tomllib.loads(text)["area"]  # commented out
    assert '"nces" (NCES EDGE geocodes, fetched)' in text
    assert "# ookla_year = 2025" in text
    # uncommented, the line is a valid study key (the path resolved next to the study file)
    live = text.replace('# district_boundary = "district_boundary.geojson"',
                        'district_boundary = "district_boundary.geojson"')
    config = am.Study.from_dict(tomllib.loads(live), path=out).config
    assert config.district_boundary == str(tmp_path / "district_boundary.geojson")

    with warnings.catch_warnings():
        warnings.simplefilter("always")  # the command line prints warnings as "warning: ..."
        assert main(["--offline", "init", "--state", "TX", "--district", "4899999", "--out",
                     str(tmp_path / "d.toml")]) == 0
    assert "warning: LEAID 4899999 could not be checked" in capsys.readouterr().err
    with_leaid = (tmp_path / "d.toml").read_text(encoding="utf-8")
    assert 'district = "4899999"' in with_leaid
    assert '# district_boundary = "district_4899999_boundary.geojson"' in with_leaid

    for args in (["--county", "N0where"], ["--district", "48180"]):
        assert main(["init", "--state", "TX", *args, "--out", str(tmp_path / "x.toml")]) == 2
        err = capsys.readouterr().err
        assert "e.g." not in err
        assert "Ector" not in err
        assert "4818000" not in err
    with pytest.raises(SystemExit):
        main(["init", "--help"])
    helped = capsys.readouterr().out
    assert "3- or 5-digit FIPS code" in helped
    assert "Ector" not in helped
    assert "4818000" not in helped


def test_a_local_tract_file_is_named_as_one(tmp_path):
    plain = tmp_path / "tracts.geojson"
    shutil.copy(TRACTS, plain)
    stated = am.get_report(am.load_tracts(path=plain, year=2020))
    assert stated["vintages"]["geometry"] == "local file tracts.geojson (2020)"
    assert stated["sources"][0]["name"] == "Tracts (local file tracts.geojson)"
    assert stated["sources"][0]["vintage"] == "2020"
    assert "license" not in stated["sources"][0]  # not known for a user's file
    unstated = am.get_report(am.load_tracts(path=plain))
    assert unstated["vintages"]["geometry"] == "local file tracts.geojson"
    assert unstated["sources"][0]["vintage"] is None

    cb = tmp_path / "cb_2020_48_tract_500k.geojson"
    shutil.copy(TRACTS, cb)
    named = am.get_report(am.load_tracts(path=cb))
    assert named["sources"][0]["name"] == "US Census Bureau, Cartographic Boundary Files"
    assert named["vintages"]["geometry"] == "Cartographic boundary 2020 (1:500,000)"
    tl = tmp_path / "tl_2021_48_tract.geojson"
    shutil.copy(TRACTS, tl)
    assert am.get_report(am.load_tracts(path=tl))["sources"][0]["name"] == (
        "US Census Bureau, TIGER/Line Shapefiles")


def test_a_study_states_the_year_of_its_local_tract_file_only_when_it_gives_one(tmp_path):
    stated = am.Study.from_toml(_study(tmp_path / "a", "", bdc=False)).load()
    assert am.get_report(stated.tracts)["vintages"]["geometry"] == (
        "local file ector_tracts_2020.geojson (2020)")
    unstated = am.Study.from_toml(_study(tmp_path / "b", "", bdc=False,
                                         census_year=False)).load()
    assert am.get_report(unstated.tracts)["vintages"]["geometry"] == (
        "local file ector_tracts_2020.geojson")
