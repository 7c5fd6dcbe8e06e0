"""NTIA's BEAD challenge-process files: ``cai.csv``, ``unserved.csv`` and ``underserved.csv``.

The files are checked by BEAD Inspector (``bead-inspector``), the validator state broadband
offices run before they submit to NTIA; the location lists against a recomputation in plain
pandas from the BEAD rule definition; the CAI list for what it leaves out, what it never
writes, and formula text.
"""

from __future__ import annotations

import csv
import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from bead_inspector.constants import CAIType
from bead_inspector.validator import (
    BEADChallengeDataValidator,
    CAIDataValidator,
    UnservedDataValidator,
)
from shapely.geometry import Point

import assetmap as am
from assetmap.errors import ConfigError, RejectedRowsWarning, SchemaError
from assetmap.loaders.partner_vocab import SITE_TYPES  # internal: the site-type vocabulary
from assetmap.outputs.ntia import (  # internal: the CAI columns and site-type map, not in the API
    CAI_COLUMNS,
    cai_type_table,
)

OUR_FORMATS = {"cai", "unserved", "underserved"}
# the BEAD NOFO's definition, written out here (not read from assetmap's rules.json)
BEAD = {"reliable": {10, 40, 50, 71, 72}, "served": (100, 20), "underserved": (25, 3)}
NO_CAI_MEANING = {"business", "hotspot", "wifi_bus_stop", "other"}
DIGITAL = {"public_wifi", "computer_lab", "digital_literacy", "device_lending",
           "hotspot_lending", "device_repair"}


@pytest.fixture(scope="module")
def demo():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the demo's own repair warnings are tested elsewhere
        return am.load_demo()


@pytest.fixture(scope="module")
def levels(demo):
    return am.service_levels(demo.availability, codes=None, rules="bead")


@pytest.fixture(scope="module")
def written(demo, levels, tmp_path_factory):
    dest = tmp_path_factory.mktemp("ntia")
    with pytest.warns(RejectedRowsWarning, match=r"left out 22 of 77 schools and partner"):
        files = am.write_ntia_files(dest, levels=levels, sites=demo.sites,
                                    schools=demo.schools, rules="bead")
    return files


def _inspect(directory) -> list[dict]:
    """Run BEAD Inspector on a directory as the CLI does (every NTIA format); its issues."""
    return BEADChallengeDataValidator(data_directory=directory).issues


def _errors(issues: list[dict], files) -> list[dict]:
    """Error-level issues about the files written (``files``: write_ntia_files' result)."""
    return [i for i in issues if i["issue_level"] == "error" and i["data_format"] in set(files)]


def _rows(path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def _recompute(rows: pd.DataFrame, reliable=BEAD["reliable"]) -> dict[str, set[str]]:
    """Unserved and underserved location ids from BDC rows, in plain pandas.

    An offer counts when its technology is reliable and it is low latency; a location is
    served when one offer reaches 100/20, underserved when one reaches 25/3 but none 100/20,
    unserved otherwise (each test on one offer's download and upload).
    """
    ok = rows["technology"].astype(int).isin(reliable) & (rows["low_latency"].astype(int) == 1)
    down = rows["max_advertised_download_speed"].astype(float)
    up = rows["max_advertised_upload_speed"].astype(float)
    flags = pd.DataFrame({
        "id": rows["location_id"].astype(str),
        "served": ok & (down >= BEAD["served"][0]) & (up >= BEAD["served"][1]),
        "under": ok & (down >= BEAD["underserved"][0]) & (up >= BEAD["underserved"][1]),
    }).groupby("id").any()
    return {"unserved": set(flags.index[~flags["under"] & ~flags["served"]]),
            "underserved": set(flags.index[flags["under"] & ~flags["served"]])}


def test_demo_files_pass_bead_inspector(written):
    directory = written["cai"].parent
    issues = _inspect(directory)
    assert set(written) == OUR_FORMATS
    assert _errors(issues, written) == []
    # the formats not made here are reported missing, and nothing else is an error
    others = [i for i in issues if i["issue_level"] == "error"]
    assert {i["issue_type"] for i in others} == {"missing_data_file"}
    assert {i["data_format"] for i in others}.isdisjoint(OUR_FORMATS)
    # what is left are notes: FRN (S, L, H) and CMS number (H) are not in any source here
    infos = {i["issue_details"]["validation"] for i in issues if i["issue_level"] == "info"}
    assert infos <= {"PostChallengeCaiFRNValidationGivenCAIType",
                     "PostChallengeCaiCMSValidatorGivenCAIType"}


def test_demo_files_have_ntia_layout(written):
    cai = _rows(written["cai"])
    assert tuple(cai[0]) == CAI_COLUMNS
    assert all(len(r) == len(CAI_COLUMNS) for r in cai)
    body = pd.DataFrame(cai[1:], columns=cai[0])
    assert set(body["type"]) <= set(CAIType.get_values())
    assert body["longitude"].str.fullmatch(r"-?\d+\.\d{6}").all()
    assert body["latitude"].str.fullmatch(r"-?\d+\.\d{6}").all()
    assert (body["need"] == "1000").all()
    assert (body["state"] == "TX").all()
    assert (body.loc[body["type"] == "C", "explanation"].str.len() > 10).all()
    for name in ("unserved", "underserved"):
        lines = written[name].read_text(encoding="utf-8").splitlines()
        assert lines == sorted(set(lines))
        assert all(re.fullmatch(r"[1-9]\d{9}", line) for line in lines)  # no header
    assert written.report["files"] == {"unserved.csv": 768, "underserved.csv": 1283,
                                       "cai.csv": 55}
    assert written.report["cai_types"] == {"S": 43, "H": 6, "C": 4, "L": 1, "P": 1}
    assert written.report["rules"]["name"] == "bead"


def test_demo_location_lists_match_recomputation(demo, written):
    expected = _recompute(demo.availability)
    for name in ("unserved", "underserved"):
        got = set(written[name].read_text(encoding="utf-8").split())
        assert got == expected[name], name
    assert written.report["locations"]["unserved"] == len(expected["unserved"])


def test_left_out_sites_are_counted(demo, written):
    sites = demo.sites
    no_meaning = sites["site_type"].isin(NO_CAI_MEANING)
    services = sites["services"].fillna("").str.split(";").map(set)
    no_service = (sites["site_type"].isin({"place_of_worship", "community_center"})
                  & ~services.map(lambda s: bool(s & DIGITAL)))
    near = gpd.sjoin_nearest(sites.loc[sites["site_type"] == "school"].to_crs(32613),
                             demo.schools[["geometry"]].to_crs(32613), distance_col="d")
    same_school = int((near["d"] <= 50).sum())
    left = written.report["rejected"]
    assert sum(left.values()) == int(no_meaning.sum() + no_service.sum()) + same_school == 22
    for site_type in NO_CAI_MEANING:
        [count] = [n for reason, n in left.items() if f"site type {site_type!r}:" in reason]
        assert count == int((sites["site_type"] == site_type).sum())
    kept_sites = len(sites) - sum(left.values())
    assert written.report["rows_out"] == len(demo.schools) + kept_sites == 55


def _bdc_rows() -> pd.DataFrame:
    """Hand-written BDC rows, one case per location."""
    cases = [  # location, technology, down, up, low latency, code
        ("1000000001", 50, 1000, 1000, 1, "R"),  # fiber: served
        ("1000000002", 40, 100, 10, 1, "R"),  # upload below 20: underserved
        ("1000000002", 10, 10, 1, 1, "R"),
        ("1000000003", 61, 250, 25, 1, "R"),  # LEO satellite only: unserved
        ("1000000004", 70, 100, 20, 1, "X"),  # unlicensed fixed wireless only: unserved
        ("1000000005", 71, 100, 20, 0, "R"),  # licensed FW, high latency: unserved
        ("1000000006", 10, 100, 3, 1, "R"),  # 100/3 and 25/20: no offer reaches 100/20
        ("1000000006", 40, 25, 20, 1, "R"),
        ("1000000007", 50, 24, 3, 1, "B"),  # business only, below 25/3: unserved
        ("1000000008", 10, 25, 3, 1, "R"),  # exactly 25/3: underserved
        ("1000000009", 40, 100, 20, 1, "X"),  # exactly 100/20: served
    ]
    rows = pd.DataFrame(cases, columns=["location_id", "technology",
                                        "max_advertised_download_speed",
                                        "max_advertised_upload_speed", "low_latency",
                                        "business_residential_code"])
    rows.insert(0, "frn", "0000000001")
    rows.insert(1, "provider_id", "100001")
    rows.insert(2, "brand_name", "Test ISP")
    rows["state_usps"] = "TX"
    rows["block_geoid"] = "481350001001000"
    rows["h3_res8_id"] = "8848a2d8c9fffff"
    return rows


def test_hand_written_rows_match_recomputation(tmp_path):
    rows = _bdc_rows()
    levels = am.service_levels(rows, codes=None)
    files = am.write_ntia_files(tmp_path, levels=levels)
    got = {n: set(files[n].read_text(encoding="utf-8").split()) for n in ("unserved",
                                                                         "underserved")}
    assert got == _recompute(rows)
    assert got == {"unserved": {"1000000003", "1000000004", "1000000005", "1000000007"},
                   "underserved": {"1000000002", "1000000006", "1000000008"}}
    assert not _errors(_inspect(tmp_path), files)
    # service_levels' default keeps residential codes only: the business location is missing
    residential = am.service_levels(rows)
    assert "1000000007" not in set(residential["location_id"])


def test_rule_set_is_named_and_checked(tmp_path):
    rows = _bdc_rows()
    levels_2025 = am.service_levels(rows, codes=None, rules="bead_2025")
    files = am.write_ntia_files(tmp_path, levels=levels_2025, rules="bead_2025")
    ufw = rows["technology"] == 70
    expected = _recompute(rows, reliable=BEAD["reliable"] | {70})
    assert set(files["unserved"].read_text().split()) == expected["unserved"]
    assert rows.loc[ufw, "location_id"].iloc[0] not in expected["unserved"]
    assert files.report["rules"]["name"] == "bead_2025"
    with pytest.raises(ValueError, match="rule set 'bead_2025', not 'bead'"):
        am.write_ntia_files(tmp_path / "x", levels=levels_2025, rules="bead")
    assert not (tmp_path / "x").exists()  # nothing written before every check passed


def test_hostile_partner_names_are_neutralised(demo, tmp_path):
    sites = demo.sites.copy()
    library = sites.index[sites["site_type"] == "library"][0]
    centers = sites.index[sites["site_type"] == "community_center"]
    hostile = {library: '=HYPERLINK("http://evil.example","click")',
               centers[0]: "@SUM(1+1)*cmd|' /C calc'!A0",
               centers[1]: "+1 Center\nwith a line break",
               centers[2]: "-2+3\r\t\u2028Center"}
    for index, name in hostile.items():
        sites.loc[index, "name"] = name
    with pytest.warns(RejectedRowsWarning):
        files = am.write_ntia_files(tmp_path, sites=sites, schools=demo.schools)
    names = [row[1] for row in _rows(files["cai"])[1:]]
    assert "'=HYPERLINK(\"http://evil.example\",\"click\")" in names
    assert "'@SUM(1+1)*cmd|' /C calc'!A0" in names
    assert "'+1 Center with a line break" in names
    assert "'-2+3 Center" in names
    for row in _rows(files["cai"])[1:]:
        for cell in (row[1], row[12]):  # entity_name, explanation
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    # one line per CAI: BEAD Inspector reads every line break as a new row
    assert len(files["cai"].read_text(encoding="utf-8").splitlines()) == files.report[
        "rows_out"] + 1
    assert not _errors(_inspect(tmp_path), files)


def test_nothing_private_leaves(demo, levels, tmp_path):
    sites = demo.sites.copy()
    sites["contact"] = "jane.doe@example.org 432-555-0100"
    sites["address"] = "1207 Secret Lane, Odessa, TX"
    sites["capacity_seats"] = 987654
    sites["survey_households_without_internet"] = 424242  # a survey-derived column
    with pytest.warns(RejectedRowsWarning):
        files = am.write_ntia_files(tmp_path, levels=levels, sites=sites,
                                    schools=demo.schools)
    text = "".join(p.read_text(encoding="utf-8") for p in files.values())
    for secret in ("jane.doe", "432-555-0100", "Secret Lane", "987654", "424242"):
        assert secret not in text
    body = pd.DataFrame(_rows(files["cai"])[1:], columns=CAI_COLUMNS)
    assert (body[["entity_number", "cms_number", "frn", "address_primary", "city",
                  "zip_code"]] == "").all().all()
    for name in ("unserved", "underserved"):  # ids only: no block, cell or coordinate
        assert set(files[name].read_text(encoding="utf-8")) <= set("0123456789\r\n")


def test_availability_is_written_where_the_location_is_known(demo, levels, tmp_path):
    known = levels.loc[levels["service_level"] == "underserved"].iloc[0]
    schools = demo.schools.copy()
    schools["location_id"] = None
    schools.loc[schools.index[0], "location_id"] = known["location_id"]
    schools.loc[schools.index[1], "location_id"] = "12345"  # not a BDC location id
    files = am.write_ntia_files(tmp_path, levels=levels, schools=schools)
    body = pd.DataFrame(_rows(files["cai"])[1:], columns=CAI_COLUMNS)
    assert body.loc[0, "location_id"] == known["location_id"]
    assert body.loc[0, "availability"] == str(int(np.floor(known["best_down"])))
    assert (body.loc[1:, ["location_id", "availability"]] == "").all().all()
    assert files.report["availability_known"] == 1
    assert not _errors(_inspect(tmp_path), files)


def test_the_validator_catches_what_the_writer_avoids(written, tmp_path):
    """A check that would pass anything proves nothing: broken copies fail BEAD Inspector."""
    lines = written["cai"].read_text(encoding="utf-8").splitlines()
    first = lines[1].split(",")
    first[11] = first[11][:-2]  # latitude with 4 decimals
    (tmp_path / "cai.csv").write_text("\n".join([lines[0], ",".join(first)]) + "\n")
    issues = CAIDataValidator(tmp_path / "cai.csv").file_validator.issues
    assert {i["issue_details"].get("column") for i in issues if i["issue_level"] == "error"} \
        == {"latitude"}
    ids = written["unserved"].read_text(encoding="utf-8")
    (tmp_path / "unserved.csv").write_text("location_id\n" + ids)  # a header row
    assert UnservedDataValidator(tmp_path / "unserved.csv").file_validator.issues


def test_cai_type_table_covers_every_partner_site_type():
    table = cai_type_table()
    assert sorted(table["site_type"]) == sorted(SITE_TYPES)
    assert set(table["cai_type"]) - {""} <= set(CAIType.get_values())
    assert set(table.loc[table["cai_type"] == "", "site_type"]) == NO_CAI_MEANING
    community = table.loc[table["cai_type"] == "C"]
    assert (community["explanation"].str.len() > 10).all()
    assert (community["digital_service_required"] == "yes").all()


def test_bad_calls_say_what_to_do(demo, tmp_path):
    with pytest.raises(ConfigError, match="nothing to write"):
        am.write_ntia_files(tmp_path)
    site = gpd.GeoDataFrame({"name": ["Library"], "site_type": ["library"]},
                            geometry=[Point(-102.37, 31.85)], crs=4326)
    with pytest.raises(ConfigError, match="pass state="):
        am.write_ntia_files(tmp_path, sites=site)
    files = am.write_ntia_files(tmp_path, sites=site, state="48")
    assert _rows(files["cai"])[1][8] == "TX"
    with pytest.raises(SchemaError, match="service_levels"):
        am.write_ntia_files(tmp_path, levels=demo.availability.head())
    with pytest.raises(SchemaError, match="GeoDataFrame"):
        am.write_ntia_files(tmp_path, sites=pd.DataFrame(site.drop(columns="geometry")),
                            state="TX")
    with pytest.raises(ConfigError, match="unknown BEAD rule set"):
        am.write_ntia_files(tmp_path, sites=site, state="TX", rules="no-such-set")


def test_docs_list_the_cai_type_table():
    page = (Path(__file__).resolve().parents[1] / "docs" / "ntia-files.md").read_text("utf-8")
    for row in cai_type_table().itertuples():
        assert f"| `{row.site_type}` | {row.cai_type or 'none'} |" in page, row.site_type
