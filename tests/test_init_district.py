"""`assetmap init --district LEAID` checked against NCES EDGE (served on 127.0.0.1), and TEA
campus files resolving any Texas district through the packaged district table.

The EDGE school-district zip is built here in the 2024-25 layout (a pipe-delimited ``.TXT``
without a header line); its rows are real districts with their NCES ids, names and counties
(Ector County ISD, Houston ISD, Albertville City in Alabama) and office points.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tomllib
import warnings
import zipfile

import pandas as pd
import pytest

import assetmap as am
from assetmap.cli import EXIT_INPUT, EXIT_OK, main  # internal: `assetmap init`, as main([...])
from tests.http_fixtures import FaultServer, Reply

LEA_2425 = "/EDGE_GEOCODE_PUBLICLEA_2425.zip"
LEA_ROWS = [
    ["4818000", "ECTOR COUNTY ISD", "48", "802 N SAM HOUSTON AVE", "ODESSA", "TX", "79761", "48",
     "48135", "Ector County", "31.8478", "-102.3694", "36220", "Odessa, TX", "1", "", "", "", "",
     "4811", "081", "031", "2024-2025"],
    ["4823640", "HOUSTON ISD", "48", "4400 W 18TH ST", "HOUSTON", "TX", "77092", "48", "48201",
     "Harris County", "29.8027", "-95.4476", "26420", "Houston-Pasadena-The Woodlands, TX", "1",
     "288", "", "", "", "4807", "148", "015", "2024-2025"],
    ["0100005", "ALBERTVILLE CITY", "01", "107 W MAIN ST", "ALBERTVILLE", "AL", "35950", "01",
     "01095", "Marshall County", "34.2673", "-86.2089", "10700", "Albertville, AL", "2", "", "",
     "", "", "0104", "026", "009", "2024-2025"],
]


def lea_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("EDGE_GEOCODE_PUBLICLEA_2425.TXT",
                         "\r\n".join("|".join(r) for r in LEA_ROWS) + "\r\n")
    return buffer.getvalue()


@pytest.fixture
def nces():
    server = FaultServer()
    server.route(LEA_2425, Reply(body=lea_zip()))
    with am.settings.override(nces_edge_url=server.base):
        yield server
    server.close()


def init(tmp_path, *options: str) -> tuple[int, dict | None]:
    out = tmp_path / "study.toml"
    with warnings.catch_warnings():
        warnings.simplefilter("always")  # the command line prints warnings as "warning: ..."
        code = main(["init", *options, "--out", str(out)])
    return code, (tomllib.loads(out.read_text("utf-8")) if out.exists() else None)


def test_a_valid_leaid_fills_in_state_county_and_name(nces, tmp_path, capsys):
    code, study = init(tmp_path, "--district", "4818000")
    assert code == EXIT_OK
    assert study["area"] == {"state": "TX", "counties": ["Ector County"], "district": "4818000"}
    assert study["study"]["name"] == "ECTOR COUNTY ISD"
    assert "ECTOR COUNTY ISD" in study["study"]["title"]
    assert "NCES EDGE 2024-25: LEAID 4818000 is ECTOR COUNTY ISD (Ector County, TX)" in (
        capsys.readouterr().out)
    config = am.Study.from_toml(tmp_path / "study.toml").config
    assert config.area["counties"] == ["Ector County"]
    assert am.county_fips("TX", config.area["counties"][0]) == "48135"


def test_a_houston_area_leaid_and_what_the_user_gave_wins(nces, tmp_path):
    code, study = init(tmp_path, "--district", "4823640", "--state", "Texas",
                       "--county", "Fort Bend")
    assert code == EXIT_OK
    assert study["area"] == {"state": "Texas", "counties": ["Fort Bend"], "district": "4823640"}
    assert study["study"]["name"] == "HOUSTON ISD"
    code, study = init(tmp_path, "--district", "4823640", "--force")
    assert study["area"]["counties"] == ["Harris County"]
    assert nces.hits(LEA_2425) == 1  # the second init used the cache


def test_an_unknown_leaid_is_a_clear_error(nces, tmp_path, capsys):
    code, study = init(tmp_path, "--district", "4899999", "--state", "TX")
    assert code == EXIT_INPUT
    assert study is None
    err = capsys.readouterr().err
    assert err.startswith("error: LEAID 4899999 is not a district in NCES EDGE 2024-25 public "
                          "school district geocodes (")
    assert "EDGE_GEOCODE_PUBLICLEA_2425.zip" in err


def test_a_leaid_of_another_state_is_an_error_before_any_request(nces, tmp_path, capsys):
    code, study = init(tmp_path, "--district", "0100005", "--state", "TX")
    assert code == EXIT_INPUT
    assert study is None
    assert ("LEAID 0100005 is a district of AL (its first two digits, 01), not of 'TX'; give "
            "--state AL") in capsys.readouterr().err
    assert nces.log == []
    code, _ = init(tmp_path, "--district", "9918000")
    assert code == EXIT_INPUT
    assert "99 is no state's" in capsys.readouterr().err


def test_nces_placing_the_leaid_in_another_state_is_an_error(tmp_path, capsys):
    server = FaultServer()
    moved = [["4818000", *LEA_ROWS[2][1:]]]  # an Ector id on an Alabama row
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("x.TXT", "|".join(moved[0]) + "\n")
    server.route(LEA_2425, Reply(body=buffer.getvalue()))
    try:
        with am.settings.override(nces_edge_url=server.base):
            code, study = init(tmp_path, "--district", "4818000")
    finally:
        server.close()
    assert code == EXIT_INPUT
    assert study is None
    assert "places LEAID 4818000 (ALBERTVILLE CITY) in AL, not in TX" in capsys.readouterr().err


def test_offline_without_a_cache_checks_the_form_and_warns(nces, tmp_path, capsys):
    with am.settings.override(offline=True):
        code, study = init(tmp_path, "--district", "4818000", "--county", "Ector")
        bad, _ = init(tmp_path, "--district", "481800", "--force")
    assert code == EXIT_OK
    assert study["area"] == {"state": "TX", "counties": ["Ector"], "district": "4818000"}
    assert study["study"]["name"] == "Ector"
    err = capsys.readouterr().err
    assert "warning: LEAID 4818000 could not be checked against NCES EDGE 2024-25" in err
    assert "offline mode is on" in err
    assert bad == EXIT_INPUT
    assert "[area] district '481800' is not allowed; give a 7-digit NCES LEAID" in err
    assert nces.log == []


def test_offline_with_the_cached_file_checks_the_leaid(nces, tmp_path, capsys):
    assert init(tmp_path, "--district", "4818000")[0] == EXIT_OK
    with am.settings.override(offline=True):
        code, study = init(tmp_path, "--district", "4823640", "--force")
        unknown, _ = init(tmp_path, "--district", "4899999", "--force")
    assert code == EXIT_OK
    assert study["study"]["name"] == "HOUSTON ISD"
    assert unknown == EXIT_INPUT
    assert "could not be checked" not in capsys.readouterr().err
    assert nces.hits(LEA_2425) == 1


def test_no_state_and_no_district_is_an_error(tmp_path, capsys):
    code, study = init(tmp_path, "--county", "Ector")
    assert code == EXIT_INPUT
    assert study is None
    assert "give --state (and --county), or --district" in capsys.readouterr().err


def tea_campuses(tmp_path, rows: list[list[str]]):
    path = tmp_path / "tea_campuses.csv"
    pd.DataFrame(rows, columns=["County", "Grade_range", "School_enroll_2023", "School_Type",
                                "District_ISD", "District_enroll_2023", "School_name", "lon",
                                "lat"]).to_csv(path, index=False)
    return path


def test_a_tea_file_resolves_a_houston_area_district(tmp_path):
    path = tea_campuses(tmp_path, [
        ["HARRIS", "09-12", "3468", "High School", "HOUSTON ISD", "183603", "BELLAIRE H S",
         "-95.4567", "29.7001"],
        ["HARRIS", "09-12", "3760", "High School", "CYPRESS-FAIRBANKS ISD", "118470",
         "CYPRESS CREEK H S", "-95.5796", "29.9631"],
        ["FORT BEND", "09-12", "2540", "High School", "FORT BEND ISD", "80034", "CLEMENTS H S",
         "-95.6174", "29.5945"],
        # two Texas districts are named MIDWAY ISD: the county tells them apart
        ["MCLENNAN", "09-12", "2206", "High School", "MIDWAY ISD", "8358", "MIDWAY H S",
         "-97.2077", "31.5146"],
        ["CLAY", "EE-12", "121", "Elementary/Secondary", "MIDWAY ISD", "121", "MIDWAY SCHOOL",
         "-98.0156", "33.6709"],
        ["HARRIS", "06-08", "500", "Middle School", "A DISTRICT OPENED IN 2020", "500",
         "NEW CAMPUS", "-95.3", "29.8"],
    ])
    schools = am.read_schools(path)
    ids = dict(zip(schools["name"], schools["district_id"], strict=True))
    assert ids["BELLAIRE H S"] == "4823640"
    assert ids["CYPRESS CREEK H S"] == "4816110"
    assert ids["CLEMENTS H S"] == "4819650"
    assert ids["MIDWAY H S"] == "4830640"  # McLennan County (48309)
    assert ids["MIDWAY SCHOOL"] == "4830660"  # Clay County (48077)
    assert ids["NEW CAMPUS"] is None
    report = am.get_report(schools)
    assert "no LEAID in the district table for: A DISTRICT OPENED IN 2020" in report["notes"]
    assert any(s.get("vintage") == "2013-14" and "Texas" in s["name"]
               for s in report["sources"])
    houston = am.read_schools(path, district="4823640")
    assert houston["name"].tolist() == ["BELLAIRE H S"]


def test_the_command_reads_the_base_url_from_the_environment(nces, tmp_path):
    env = {**os.environ, "ASSETMAP_NCES_EDGE_URL": nces.base,
           "ASSETMAP_CACHE_DIR": str(tmp_path / "cache"), "ASSETMAP_OFFLINE": "0"}
    done = subprocess.run(
        [sys.executable, "-m", "assetmap", "init", "--district", "4823640"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == EXIT_OK, done.stderr
    assert "LEAID 4823640 is HOUSTON ISD (Harris County, TX)" in done.stdout
    study = tomllib.loads((tmp_path / "study.toml").read_text("utf-8"))
    assert study["area"] == {"state": "TX", "counties": ["Harris County"], "district": "4823640"}
    assert nces.hits(LEA_2425) == 1
