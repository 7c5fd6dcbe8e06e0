"""ACS loaders: the Census API's JSON shape on 127.0.0.1, data.census.gov CSVs, 2010 tracts."""

from __future__ import annotations

import csv
import json
import math
import os

import numpy as np
import pandas as pd
import pytest

import assetmap as am
from assetmap.datasets import data_path
from assetmap.errors import DownloadError, RejectedRowsWarning, RepairWarning, SchemaError
from tests.http_fixtures import FaultServer, Reply, acs_api_body

API_PATH = "/data/2023/acs/acs5"


@pytest.fixture
def server():
    running = FaultServer()
    yield running
    running.close()


@pytest.fixture(scope="module")
def b19001() -> pd.DataFrame:
    """Real ACS 2019-2023 B19001 estimates of the 33 Ector tracts (shipped)."""
    table = pd.read_csv(data_path("acs", "acs_b19001_tracts_ector_midland_andrews.csv"),
                        dtype={"GEOID": str})
    return table[table["GEOID"].str.startswith("48135")].reset_index(drop=True)


def fixture_moe(value: float) -> str:
    """Margins of error for the fixture (the shipped file has none): a fixed rule."""
    return str(round(1.5 * math.sqrt(value) + 10))




def fake_api(values: dict[str, dict[str, str]], seen: list[dict[str, list[str]]]):
    """Answer like api.census.gov: header first, strings, geography columns last."""

    def answer(query: dict[str, list[str]]) -> Reply:
        seen.append(query)
        get = query["get"][0].split(",")
        geo_for = query["for"][0]
        kind = geo_for.split(":")[0]
        geo_columns = {"tract": ["state", "county", "tract"],
                       "block group": ["state", "county", "tract", "block group"],
                       "county": ["state", "county"]}[kind]
        widths = {"state": 2, "county": 3, "tract": 6, "block group": 1}
        rows = []
        for geoid, row in values.items():
            parts, start = [], 0
            for column in geo_columns:
                parts.append(geoid[start:start + widths[column]])
                start += widths[column]
            name = ("Ector County, Texas" if len(geoid) == 5
                    else f"Census Tract {int(geoid[5:11]) / 100:g}; Ector County; Texas")
            rows.append([name if v == "NAME" else row.get(v, "-666666666") for v in get] + parts)
        return Reply(body=acs_api_body([*get, *geo_columns], rows),
                     headers={"Content-Type": "application/json;charset=utf-8"})

    return answer


def income_values(b19001: pd.DataFrame) -> dict[str, dict[str, str]]:
    values = {}
    for _, row in b19001.iterrows():
        cells = {}
        for i in range(1, 18):
            estimate = row[f"B19001_{i:03d}E"]
            cells[f"B19001_{i:03d}E"] = str(int(estimate))
            cells[f"B19001_{i:03d}M"] = fixture_moe(estimate)
        values[row["GEOID"]] = cells
    return values


def test_load_acs_income_matches_shipped_values(server, b19001):
    seen: list = []
    server.respond(API_PATH, fake_api(income_values(b19001), seen))
    acs = am.load_acs(state="TX", county="Ector", year=2023, tables=["income"],
                      base_url=server.url("/data"))
    assert len(acs) == 33
    assert acs["GEOID"].map(type).eq(str).all()
    assert seen[0]["for"] == ["tract:*"]
    assert seen[0]["in"] == ["state:48 county:135"]
    assert "in=state%3A48+county%3A135" in server.queries(API_PATH)[0]
    merged = acs.merge(b19001, on="GEOID", suffixes=("", "_shipped"))
    assert (merged["B19001_001E"] == merged["B19001_001E_shipped"]).all()
    # independent recomputation from the shipped CSV
    low = b19001[[f"B19001_{i:03d}E" for i in range(2, 6)]].sum(axis=1) / b19001["B19001_001E"]
    expected = dict(zip(b19001["GEOID"], low, strict=True))
    assert acs.set_index("GEOID")["income_lt25k_share"].to_dict() == pytest.approx(expected)
    assert (acs["households"] == acs["B19001_001E"]).all()
    report = am.get_report(acs)
    assert report["vintages"]["income_lt25k_share"] == "ACS 5-year 2019-2023"
    assert report["sources"][0]["vintage"] == "2019-2023"


def test_income_share_moe_by_hand(server, b19001):
    server.respond(API_PATH, fake_api(income_values(b19001), []))
    acs = am.load_acs(state="TX", county="135", tables=["income"], base_url=server.url("/data"))
    row = b19001.iloc[0]
    num = sum(row[f"B19001_{i:03d}E"] for i in range(2, 6))
    num_moe = math.sqrt(sum(int(fixture_moe(row[f"B19001_{i:03d}E"])) ** 2 for i in range(2, 6)))
    den, den_moe = row["B19001_001E"], int(fixture_moe(row["B19001_001E"]))
    p = num / den
    radicand = num_moe**2 - p**2 * den_moe**2
    moe = (math.sqrt(radicand) if radicand >= 0 else math.sqrt(num_moe**2 + p**2 * den_moe**2))
    moe /= den
    got = acs.set_index("GEOID").loc[row["GEOID"]]
    assert got["income_lt25k_share_moe"] == pytest.approx(moe)
    assert got["income_lt25k_share_cv"] == pytest.approx(moe / 1.645 / p)


def internet_row(total: int, total_moe: int, none: int, none_moe: int) -> dict[str, str]:
    """B28002 cells of one tract: ``none`` of ``total`` households without internet."""
    return {"B28002_001E": str(total), "B28002_001M": str(total_moe),
            "B28002_002E": str(total - none), "B28002_002M": "10",
            "B28002_004E": str(total - none), "B28002_004M": "10",
            "B28002_012E": "0", "B28002_012M": "10",
            "B28002_013E": str(none), "B28002_013M": str(none_moe)}


def test_proportion_formula_and_ratio_fallback(server):
    server.respond(API_PATH, fake_api({"48135000100": internet_row(1000, 100, 200, 50),
                                       "48135000200": internet_row(1000, 100, 900, 20),
                                       "48135000300": internet_row(0, 10, 0, 10)}, []))
    acs = am.load_acs(state="TX", county="Ector", tables=["internet"],
                      base_url=server.url("/data"))
    moe = acs.set_index("GEOID")["no_internet_share_moe"]
    # proportion: sqrt(50^2 - 0.2^2 * 100^2) / 1000
    assert moe["48135000100"] == pytest.approx(math.sqrt(2500 - 400) / 1000)
    # radicand 20^2 - 0.9^2 * 100^2 < 0 -> ratio formula sqrt(20^2 + 0.9^2 * 100^2) / 1000
    assert moe["48135000200"] == pytest.approx(math.sqrt(400 + 8100) / 1000)
    assert np.isnan(moe["48135000300"])


def one_tract(**cells: str) -> dict[str, dict[str, str]]:
    return {"48135000100": cells}


def all_tables_row() -> dict[str, str]:
    row = {f"B19001_{i:03d}{s}": "10" for i in range(1, 18) for s in "EM"}
    row.update({
        "B28002_001E": "1000", "B28002_001M": "100", "B28002_002E": "800", "B28002_002M": "90",
        "B28002_004E": "700", "B28002_004M": "80", "B28002_012E": "40", "B28002_012M": "20",
        "B28002_013E": "200", "B28002_013M": "50", "B28001_001E": "1000", "B28001_001M": "100",
        "B28001_011E": "150", "B28001_011M": "60", "B17001_001E": "2500", "B17001_001M": "200",
        "B17001_002E": "500", "B17001_002M": "120", "B09001_001E": "700", "B09001_001M": "90",
        "B01003_001E": "2600", "B01003_001M": "-555555555", "B19013_001E": "-666666666",
        "B19013_001M": "-222222222",
    })
    return row


def test_all_tables_split_requests_sentinels_and_derived(server):
    seen: list = []
    server.respond(API_PATH, fake_api(one_tract(**all_tables_row()), seen))
    with pytest.warns(RepairWarning, match=r"3 ACS annotation values in 1 rows") as record:
        acs = am.load_acs(state="TX", county="Ector", base_url=server.url("/data"))
    assert len(record) == 1
    assert len(seen) == 2  # 58 variables: more than the API's 50 per request
    assert all(len(q["get"][0].split(",")) <= 49 for q in seen)
    row = acs.iloc[0]
    assert row["no_internet_share"] == pytest.approx(0.2)
    assert row["no_internet_share_moe"] == pytest.approx(math.sqrt(50**2 - 0.04 * 100**2) / 1000)
    assert row["no_broadband_share"] == pytest.approx(0.3)
    assert row["no_broadband_share_moe"] == pytest.approx(math.sqrt(80**2 - 0.49 * 100**2) / 1000)
    assert row["no_computer_share"] == pytest.approx(0.15)
    assert row["poverty_share"] == pytest.approx(0.2)
    assert row["children"] == 700
    assert row["households"] == 1000  # B28002_001E wins over B19001_001E
    assert row["population"] == 2600
    assert np.isnan(row["population_moe"])
    assert np.isnan(row["median_income"])
    assert row["poverty_share_cv"] == pytest.approx(
        (math.sqrt(120**2 - 0.04 * 200**2) / 2500 / 1.645) / 0.2)
    report = am.get_report(acs)
    assert any("-555555555: 1" in note for note in report["notes"])


def test_block_groups_and_counties_query_syntax(server):
    seen: list = []
    server.respond(API_PATH, fake_api({"481350001001": {"B01003_001E": "900",
                                                        "B01003_001M": "120"}}, seen))
    bgs = am.load_acs(state="TX", county="Ector", geography="block group",
                      tables=["population"], base_url=server.url("/data"))
    assert seen[0]["for"] == ["block group:*"]
    assert seen[0]["in"] == ["state:48 county:135 tract:*"]
    assert bgs["GEOID"].tolist() == ["481350001001"]
    server.respond(API_PATH, fake_api({"48135": {"B01003_001E": "165171",
                                                 "B01003_001M": "-555555555"}}, seen))
    with pytest.warns(RepairWarning):
        county = am.load_acs(state="TX", county="Ector", geography="county",
                             tables=["population"], base_url=server.url("/data"))
    assert seen[-1]["for"] == ["county:135"]
    assert county["GEOID"].tolist() == ["48135"]


def test_key_is_sent_but_not_shown(server):
    seen: list = []
    server.respond(API_PATH, fake_api(one_tract(B01003_001E="5", B01003_001M="3"), seen))
    with am.settings.override(census_api_key="SECRET-KEY"):
        am.load_acs(state="TX", county="Ector", tables=["population"],
                    base_url=server.url("/data"))
    assert seen[0]["key"] == ["SECRET-KEY"]
    server.route("/data/2022/acs/acs5", Reply(400, b"error: unknown variable 'B01003_001E'"))
    with pytest.raises(DownloadError) as info:
        am.load_acs(state="TX", year=2022, tables=["population"], key="SECRET-KEY",
                    base_url=server.url("/data"))
    assert "SECRET-KEY" not in str(info.value)
    assert "unknown variable" in str(info.value)


def test_second_call_is_served_from_cache(server):
    server.respond(API_PATH, fake_api(one_tract(B01003_001E="5", B01003_001M="3"), []))
    for _ in range(2):
        am.load_acs(state="TX", county="Ector", tables=["population"],
                    base_url=server.url("/data"))
    assert server.hits(API_PATH) == 1


def test_wrong_json_shape_is_a_schema_error(server):
    server.route(API_PATH, Reply(body=b'{"error": "nope"}'))
    with pytest.raises(SchemaError, match="array of"):
        am.load_acs(state="TX", tables=["population"], base_url=server.url("/data"))


def write_census_csv(path, rows: list[list[str]], codes: list[str], labels: list[str]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL)
        writer.writerow([*codes, ""])
        writer.writerow([*labels, ""])
        for row in rows:
            writer.writerow([*row, ""])


def test_read_acs_csv_two_header_rows_and_annotations(tmp_path):
    codes = ["GEO_ID", "NAME", "B28002_001E", "B28002_001M", "B28002_013E", "B28002_013M",
             "B19013_001E", "B19013_001M"]
    labels = ["Geography", "Geographic Area Name", "Estimate!!Total:", "Margin of Error!!Total:",
              "Estimate!!Total:!!No Internet access", "Margin of Error!!Total:!!No Internet access",
              "Estimate!!Median household income", "Margin of Error!!Median household income"]
    rows = [
        ["1400000US48135000100", "Census Tract 1; Ector County; Texas", "1,472", "120", "180",
         "60", "250,000+", "***"],
        ["1400000US48135000300", "Census Tract 3; Ector County; Texas", "1006", "(X)", "N",
         "-", "41250", "5120"],
    ]
    path = tmp_path / "ACSDT5Y2023.B28002-Data.csv"
    write_census_csv(path, rows, codes, labels)
    with pytest.warns(RepairWarning) as record:
        acs = am.read_acs_csv(path)
    messages = [str(w.message) for w in record]
    assert any("4 ACS annotation values in 2 rows" in m for m in messages)
    assert any("top/bottom-coded" in m for m in messages)
    assert acs["GEOID"].tolist() == ["48135000100", "48135000300"]
    assert acs["B28002_001E"].tolist() == [1472.0, 1006.0]
    assert acs.loc[0, "no_internet_share"] == pytest.approx(180 / 1472)
    assert acs.loc[0, "median_income"] == 250000.0
    assert np.isnan(acs.loc[1, "no_internet_share"])
    assert am.get_report(acs)["vintages"]["no_internet_share"] == "ACS 5-year 2019-2023"


def test_read_acs_csv_bad_value_names_row_and_column(tmp_path):
    path = tmp_path / "t.csv"
    write_census_csv(path, [["1400000US48135000100", "x", "12", "3"],
                            ["1400000US48135000300", "y", "abc", "3"]],
                     ["GEO_ID", "NAME", "B01003_001E", "B01003_001M"],
                     ["Geography", "Geographic Area Name", "Estimate", "Margin"])
    with pytest.raises(SchemaError, match=r"t\.csv, row 4, column 'B01003_001E'.*'abc'"):
        am.read_acs_csv(path, year=2023)


@pytest.fixture(scope="module")
def internet_2010() -> pd.DataFrame:
    """Real ACS 2015-2019 B28002 counts on the 28 Ector 2010 tracts (shipped)."""
    table = pd.read_csv(data_path("acs", "acs5_2015_2019_b28002_internet_tracts2010.csv"),
                        dtype={"GEOID": str})
    table = table[table["GEOID"].str.startswith("48135")]
    return table.rename(columns={"B28002_001E_total_hh": "B28002_001E",
                                 "B28002_013E_no_internet": "B28002_013E"})[
        ["GEOID", "B28002_001E", "B28002_013E"]].reset_index(drop=True)


def relationship_rows() -> list[dict[str, str]]:
    with data_path("acs", "census_rel2020_tract20_tract10_ector.txt").open() as handle:
        return list(csv.DictReader(handle, delimiter="|"))


def test_acs_to_2020_tracts(internet_2010):
    rel = data_path("acs", "census_rel2020_tract20_tract10_ector.txt")
    out = am.acs_to_2020_tracts(internet_2010, relationship=rel)
    assert len(out) == 33
    # households are conserved: every 2010 tract's land is wholly inside 2020 tracts
    assert out["B28002_001E"].sum() == pytest.approx(internet_2010["B28002_001E"].sum())
    # independent recomputation for every 2020 tract from the relationship rows
    old = internet_2010.set_index("GEOID")["B28002_001E"]
    expected: dict[str, float] = {}
    for row in relationship_rows():
        w = int(row["AREALAND_PART"]) / int(row["AREALAND_TRACT_10"])
        expected[row["GEOID_TRACT_20"]] = (expected.get(row["GEOID_TRACT_20"], 0.0)
                                           + w * old[row["GEOID_TRACT_10"]])
    assert out.set_index("GEOID")["B28002_001E"].to_dict() == pytest.approx(expected)
    # a split tract keeps its parent's share
    parent = internet_2010.set_index("GEOID").loc["48135002700"]
    for child in ("48135002701", "48135002702"):
        got = out.set_index("GEOID").loc[child, "no_internet_share"]
        assert got == pytest.approx(parent["B28002_013E"] / parent["B28002_001E"])
    vintage = am.get_report(out)["vintages"]["no_internet_share"]
    assert vintage.endswith("on 2010 tracts, area-weighted to 2020 tracts")


def test_acs_to_2020_tracts_counts_outside_rows_and_missing_parents(internet_2010):
    rel = data_path("acs", "census_rel2020_tract20_tract10_ector.txt")
    extra = pd.DataFrame({"GEOID": ["48003950100"], "B28002_001E": [725.0],
                          "B28002_013E": [29.0]})
    partial = pd.concat([internet_2010[internet_2010["GEOID"] != "48135002700"], extra])
    with pytest.warns(RejectedRowsWarning, match="2010 tract not in the relationship file"):
        out = am.acs_to_2020_tracts(partial, relationship=rel)
    report = am.get_report(out)
    assert report["rejected"] == {"2010 tract not in the relationship file": 1}
    indexed = out.set_index("GEOID")
    assert np.isnan(indexed.loc["48135002701", "B28002_001E"])
    assert any("parents missing" in note for note in report["notes"])


def test_shares_only_are_averaged():
    rel = data_path("acs", "census_rel2020_tract20_tract10_ector.txt")
    rows = [r for r in relationship_rows() if r["GEOID_TRACT_20"] == "48135003001"]
    parents = sorted({r["GEOID_TRACT_10"] for r in rows})
    frame = pd.DataFrame({"GEOID": parents, "poverty_share": np.linspace(0.1, 0.3, len(parents)),
                          "poverty_share_moe": 0.05})
    out = am.acs_to_2020_tracts(frame, relationship=rel).set_index("GEOID")
    area = {r["GEOID_TRACT_10"]: int(r["AREALAND_PART"]) for r in rows}
    total = sum(area.values())
    shares = dict(zip(parents, frame["poverty_share"], strict=True))
    expected = sum(area[p] / total * shares[p] for p in parents)
    assert out.loc["48135003001", "poverty_share"] == pytest.approx(expected)


def test_cv_flags():
    frame = pd.DataFrame({"no_internet_share_cv": [0.1, 0.5], "poverty_share_cv": [0.2, np.nan]})
    flags = am.acs_cv_flags(frame)
    assert flags["no_internet_share_unreliable"].tolist() == [False, True]
    assert flags["any_unreliable"].tolist() == [False, True]
    assert am.acs_cv_flags(frame, threshold=0.05)["poverty_share_unreliable"].tolist() == [
        True, False]


@pytest.mark.network
@pytest.mark.skipif(
    os.environ.get("ASSETMAP_NETWORK_TESTS") != "1",
    reason="touches the real internet; set ASSETMAP_NETWORK_TESTS=1 to run",
)
def test_real_census_api():
    acs = am.load_acs(state="TX", county="Ector", year=2023, tables=["population"])
    assert len(acs) == 33


def income_csv(path, cells: dict[str, str], geoid: str = "1400000US48135000100") -> None:
    """A data.census.gov CSV of B19001_001 to _005 (estimate and MOE) for one tract."""
    codes = ["GEO_ID", "NAME", *cells]
    write_census_csv(path, [[geoid, "Census Tract 1", *cells.values()]], codes,
                     ["Geography", "Geographic Area Name", *(["Estimate"] * len(cells))])


def test_sum_moe_keeps_only_the_largest_zero_estimate_moe(tmp_path):
    # ACS General Handbook 2020, ch. 8: of several zero estimates only the largest MOE counts
    path = tmp_path / "ACSDT5Y2023.B19001-Data.csv"
    income_csv(path, {"B19001_001E": "100", "B19001_001M": "15",
                      "B19001_002E": "0", "B19001_002M": "20",
                      "B19001_003E": "0", "B19001_003M": "30",
                      "B19001_004E": "10", "B19001_004M": "5",
                      "B19001_005E": "0", "B19001_005M": "10"})
    acs = am.read_acs_csv(path)
    num_moe = math.sqrt(30**2 + 5**2)  # not sqrt(20^2 + 30^2 + 5^2 + 10^2)
    expected = math.sqrt(num_moe**2 - 0.1**2 * 15**2) / 100
    assert acs.loc[0, "income_lt25k_share"] == pytest.approx(0.1)
    assert acs.loc[0, "income_lt25k_share_moe"] == pytest.approx(expected)


@pytest.mark.parametrize(("cells", "column", "why"), [
    ({"B28002_001E": "100", "B28002_013E": "120"}, "B28002_013E", "above the table's universe"),
    ({"B28002_001E": "100", "B28002_013E": "-4"}, "B28002_013E", "negative"),
    ({"B28002_001E": "100", "B28002_001M": "-7"}, "B28002_001M", "negative"),
])
def test_values_that_cannot_be_true_name_file_geoid_and_column(tmp_path, cells, column, why):
    path = tmp_path / "acs.csv"
    income_csv(path, cells)
    with pytest.raises(SchemaError, match=rf"acs\.csv, row with GEOID 48135000100, "
                                          rf"column '{column}': .*{why}"):
        am.read_acs_csv(path, year=2023)


def test_count_above_universe_from_the_api_is_an_error(server):
    row = all_tables_row() | {"B28001_011E": "1001"}
    server.respond(API_PATH, fake_api(one_tract(**row), []))
    with pytest.raises(SchemaError, match=r"GEOID 48135000100, column 'B28001_011E'"):
        am.load_acs(state="TX", county="Ector", tables=["computers"], base_url=server.url("/data"))


def test_thousands_separators_are_counted_repairs(tmp_path, server):
    path = tmp_path / "acs.csv"
    income_csv(path, {"B01003_001E": "1,234", "B01003_001M": "98"})
    with pytest.warns(RepairWarning, match=r"repaired 1 of 1 rows: numbers with thousands"):
        acs = am.read_acs_csv(path, year=2023)
    assert acs.loc[0, "population"] == 1234.0
    assert am.get_report(acs)["repaired"]["numbers with thousands separators (e.g. 1,234) "
                                          "read as numbers"] == 1
    server.respond(API_PATH, fake_api(one_tract(B01003_001E="2,600", B01003_001M="12"), []))
    with pytest.warns(RepairWarning, match="thousands separators"):
        api = am.load_acs(state="TX", county="Ector", tables=["population"],
                          base_url=server.url("/data"))
    assert api.loc[0, "population"] == 2600.0  # a number, not missing


@pytest.mark.parametrize("cell", ["1,2,3", "1.234,5", "12,34", "inf", "1e400"])
def test_malformed_numbers_are_errors_not_guesses(tmp_path, cell):
    path = tmp_path / "acs.csv"
    income_csv(path, {"B01003_001E": cell, "B01003_001M": "98"})
    with pytest.raises(SchemaError, match=r"row 3, column 'B01003_001E'.*neither a number"):
        am.read_acs_csv(path, year=2023)


def test_an_acs_table_matching_no_tract_is_not_ranked_silently():
    demo = am.load_demo()
    acs = demo.acs.assign(GEOID="06" + demo.acs["GEOID"].str[2:])  # California, not Texas
    with pytest.raises(am.errors.AssetmapError, match="matches a tract"):
        am.assemble_tracts(demo.tracts, acs=acs)


def test_repeated_geoids_and_columns_are_errors(tmp_path):
    path = tmp_path / "acs.csv"
    codes = ["GEO_ID", "NAME", "B01003_001E", "B01003_001M"]
    write_census_csv(path, [["1400000US48135000100", "a", "5", "3"],
                            ["1400000US48135000100", "b", "7", "3"]], codes, codes)
    with pytest.raises(SchemaError, match=r"acs\.csv: GEOID 48135000100 appears in more"):
        am.read_acs_csv(path, year=2023)
    write_census_csv(path, [["1400000US48135000100", "a", "5", "3", "9"]],
                     [*codes, "B01003_001E"], [*codes, "x"])
    with pytest.raises(SchemaError, match=r"columns \['B01003_001E'\] appear more than once"):
        am.read_acs_csv(path, year=2023)


def test_a_geoid_twice_in_the_api_answer_is_an_error(server):
    body = json.dumps([["NAME", "B01003_001E", "B01003_001M", "state", "county", "tract"],
                       ["a", "5", "3", "48", "135", "000100"],
                       ["b", "7", "3", "48", "135", "000100"]]).encode()
    server.route(API_PATH, Reply(body=body))
    with pytest.raises(SchemaError, match="GEOID 48135000100 appears in more than one row"):
        am.load_acs(state="TX", tables=["population"], base_url=server.url("/data"))
