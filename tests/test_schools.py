"""Schools (NCES EDGE, CCD directory, TEA campuses) and attendance zones."""

from __future__ import annotations

import csv

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

import assetmap as am
from assetmap.errors import AssetmapWarning, RejectedRowsWarning, RepairWarning, SchemaError

# read_schools' columns, in order (its docstring and docs/data-model.md)
SCHOOL_COLUMNS = [
    "school_id", "name", "district_id", "district_name", "grades", "enrollment",
    "locale", "school_type", "county_fips", "state_fips", "geometry",
]

DISTRICTS = "nces_ccd_2013_14_districts_ector_neighbors.csv"
EDGE_HEADER = ("NCESSCH|LEAID|NAME|OPSTFIPS|STREET|CITY|STATE|ZIP|STFIP|CNTY|NMCNTY|LOCALE|LAT|LON|"
               "CBSA|NMCBSA|CBSATYPE|CSA|NMCSA|CD|SLDL|SLDU|SCHOOLYEAR")


def _edge_row(ncessch, leaid, name, st, cnty, lat, lon):
    return (f"{ncessch}|{leaid}|{name}|{st}|1 MAIN ST|TOWN|XX|00000|{st}|{cnty}|Some County|12|"
            f"{lat}|{lon}|36220|Odessa, TX|1|||4811|081|031|2022-2023")


@pytest.fixture
def edge_txt(tmp_path):
    path = tmp_path / "EDGE_GEOCODE_PUBLICSCH_2223.TXT"
    rows = [
        EDGE_HEADER,
        _edge_row("481800000714", "4818000", "CARVER EARLY EE-KG", "48", "48135", 31.84432,
                  -102.35234),
        _edge_row("481800001567", "4818000", "AUSTIN MONTESSORI", "48", "48135", 31.851461,
                  -102.373314),
        _edge_row("483057000001", "4830570", "A MIDLAND SCHOOL", "48", "48329", 31.99, -102.07),
        # an Alabama school saved from a spreadsheet: ids lost their leading zero
        _edge_row("10000500870", "100005", "ALBERTVILLE MIDDLE", "01", "01095", 34.26,
                  -86.20),
    ]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_tea_shipped_file_by_leaid(ector_dir):
    path = ector_dir / "schools" / "tea_schools_2023_24_ector_midland_andrews.csv"
    schools = am.read_schools(path, district="4818000",
                              districts=ector_dir / "schools" / DISTRICTS)
    with path.open() as handle:
        expected = [r for r in csv.DictReader(handle) if r["District_ISD"] == "ECTOR COUNTY ISD"]
    assert len(schools) == len(expected) == 43
    assert list(schools.columns) == SCHOOL_COLUMNS
    assert schools.crs.to_epsg() == 4326
    assert set(schools["district_id"]) == {"4818000"}
    assert set(schools["county_fips"]) == {"48135"}
    by_name = dict(zip(schools["name"], schools["enrollment"], strict=True))
    assert by_name["PERMIAN H S"] == 4126
    assert schools["school_id"].is_unique
    assert all(s.startswith("tea-") for s in schools["school_id"])
    report = am.get_report(schools)
    assert report["rows_read"] == report["rows_out"] + sum(report["rejected"].values())


def test_tea_without_a_district_table_uses_the_packaged_texas_table(ector_dir):
    # no demo file is read: the LEAIDs come from assetmap/loaders/data/tx_districts.csv
    path = ector_dir / "schools" / "tea_schools_2023_24_ector_midland_andrews.csv"
    schools = am.read_schools(path, district="ECTOR COUNTY ISD")
    assert len(schools) == 43
    assert set(schools["district_id"]) == {"4818000"}
    assert schools["school_id"].str.startswith("tea-").all()
    assert any("shipped table of every Texas district" in n
               for n in am.get_report(schools)["notes"])
    assert len(am.read_schools(path, district="4818000")) == 43


def test_tea_district_table_as_a_frame(ector_dir):
    path = ector_dir / "schools" / "tea_schools_2023_24_ector_midland_andrews.csv"
    table = pd.DataFrame({"LEAID": ["4818000"], "NAME": ["Ector County ISD"]})
    schools = am.read_schools(path, districts=table)
    by_district = schools.groupby("district_name")["district_id"].first()
    assert by_district["ECTOR COUNTY ISD"] == "4818000"
    assert pd.isna(by_district["MIDLAND ISD"])
    assert any("no LEAID in the district table for: " in n and "MIDLAND ISD" in n
               for n in am.get_report(schools)["notes"])
    with pytest.raises(SchemaError, match="LEAID and NAME"):
        am.read_schools(path, districts=pd.DataFrame({"id": ["1"]}))


def test_tea_ids_are_stable_across_row_order(ector_dir, tmp_path):
    path = ector_dir / "schools" / "tea_schools_2023_24_ector_midland_andrews.csv"
    shuffled = tmp_path / "shuffled.csv"
    pd.read_csv(path, dtype=str).sample(frac=1, random_state=3).to_csv(shuffled, index=False)
    a = am.read_schools(path, district="ECTOR COUNTY ISD").set_index("name")["school_id"]
    b = am.read_schools(shuffled, district="ECTOR COUNTY ISD").set_index("name")["school_id"]
    assert a.sort_index().equals(b.sort_index())


def test_ccd_shipped_directory(ector_dir):
    path = ector_dir / "schools" / "nces_ccd_2013_14_schools_ector_neighbors.csv"
    ecisd = am.read_schools(path, district="4818000")
    assert len(ecisd) == 39  # PROVENANCE: 39 Ector County ISD campuses
    in_county = am.read_schools(path, county="48135")
    assert len(in_county) == 42
    row = ecisd.set_index("school_id").loc["481800001567"]
    assert row["name"] == "AUSTIN MONTESSORI MAGNET"
    assert row["grades"] == "PK-06"
    assert row["locale"] == "12"
    assert row["school_type"] == "regular"
    assert row["district_name"] == "ECTOR COUNTY ISD"
    assert am.get_report(ecisd)["vintages"]["schools"].endswith("2013-14")
    assert ecisd["enrollment"].isna().all()


def test_edge_pipe_file_filters_and_pads_ids(edge_txt):
    schools = am.read_schools(edge_txt, district="4818000")
    assert sorted(schools["school_id"]) == ["481800000714", "481800001567"]
    assert am.get_report(schools)["layout"] == "edge"
    alabama = am.read_schools(edge_txt, state="AL")
    assert alabama["school_id"].tolist() == ["010000500870"]
    assert alabama["district_id"].tolist() == ["0100005"]
    assert alabama["state_fips"].tolist() == ["01"]
    texas = am.read_schools(edge_txt, state="TX", county="Ector")
    assert len(texas) == 2
    assert am.get_report(texas)["rejected"] == {"filtered: not in state 48": 1,
                                                "filtered: not in county 48135": 1}


def test_shapefile_without_prj(tmp_path):
    frame = gpd.GeoDataFrame(
        {"NCESSCH": ["481800000714"], "LEAID": ["4818000"], "NAME": ["CARVER"], "STFIP": ["48"],
         "CNTY": ["48135"], "LOCALE": ["12"], "LAT": [31.84432], "LON": [-102.35234]},
        geometry=[Point(-102.35234, 31.84432)], crs=4326)
    shp = tmp_path / "edge.shp"
    frame.to_file(shp)
    shp.with_suffix(".prj").unlink()
    with pytest.warns(RepairWarning, match=r"no CRS \(is the .prj file missing"):
        schools = am.read_schools(shp)
    assert schools.crs.to_epsg() == 4326
    assert schools.geometry.iloc[0].equals(Point(-102.35234, 31.84432))
    projected = frame.to_crs(3857)
    shp2 = tmp_path / "projected.shp"
    projected.to_file(shp2)
    shp2.with_suffix(".prj").unlink()
    with pytest.raises(SchemaError, match=r"projected.*crs="):
        am.read_attendance_zones(shp2)


def test_swapped_and_missing_coordinates(tmp_path):
    path = tmp_path / "ccd.csv"
    path.write_text(
        "NCESSCH,LEAID,SCHNAM,LATCOD,LONCOD,CONUM,FIPST\n"
        "481800000001,4818000,A EL,31.85,-102.37,48135,48\n"
        "481800000002,4818000,B EL,31.86,-102.36,48135,48\n"
        "481800000003,4818000,C EL,31.87,-102.35,48135,48\n"
        "481800000004,4818000,D EL,-102.34,31.88,48135,48\n"
        "481800000005,4818000,E EL,,,48135,48\n"
    )
    with pytest.warns(RepairWarning, match="swapped"), pytest.warns(RejectedRowsWarning,
                                                                    match="no coordinates"):
        schools = am.read_schools(path)
    d = schools.set_index("school_id").loc["481800000004", "geometry"]
    assert (round(d.x, 2), round(d.y, 2)) == (-102.34, 31.88)
    report = am.get_report(schools)
    assert report["repaired"] == {"latitude and longitude were swapped": 1}
    assert report["rejected_rows"] == {"no coordinates": [5]}


def test_unknown_layout_names_columns(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("school,where\nA,here\n")
    with pytest.raises(SchemaError, match="no header row"):
        am.read_schools(path)
    vector = tmp_path / "x.geojson"
    gpd.GeoDataFrame({"school": ["A"]}, geometry=[Point(0, 0)], crs=4326).to_file(vector)
    with pytest.raises(SchemaError, match=r"not a school file.*NCESSCH"):
        am.read_schools(vector)


def test_sabs_zones_linked_by_ncessch(tmp_path, ector_dir):
    ccd = ector_dir / "schools" / "nces_ccd_2013_14_schools_ector_neighbors.csv"
    schools = am.read_schools(ccd, district="4818000")
    ids = schools["school_id"].tolist()
    zones = gpd.GeoDataFrame(
        {"SrcName": ["ECISD"] * 2, "ncessch": [ids[0], ids[1]], "schnam": ["Z1", "Z2"],
         "leaid": ["4818000"] * 2, "updateDate": ["2016-01-01"] * 2, "gslo": ["PK", "06"],
         "gshi": ["05", "08"], "defacto": ["0", "0"], "stAbbrev": ["TX", "TX"],
         "sLevel": ["1", "2"], "openEnroll": ["0", "0"], "MultiBdy": ["0", "0"]},
        geometry=[box(-102.5, 31.8, -102.3, 31.9), box(-102.4, 31.8, -102.2, 31.95)], crs=4326,
    ).to_crs(3857)
    path = tmp_path / "SABS_1516_TX.shp"
    zones.to_file(path)
    with pytest.warns(AssetmapWarning, match=f"{len(ids) - 2} school"):
        out = am.read_attendance_zones(path, schools=schools)
    assert out["zone_id"].tolist() == ids[:2]
    assert out["school_id"].tolist() == ids[:2]
    assert out["grades"].tolist() == ["PK-05", "06-08"]
    assert out.crs.to_epsg() == 4326
    assert sorted(am.get_report(out)["unmatched"]["schools"]) == sorted(ids[2:])


def test_district_zones_linked_by_containment(tmp_path):
    schools = gpd.GeoDataFrame(
        {"school_id": ["s1", "s2", "s3"]},
        geometry=[Point(0.5, 0.5), Point(0.6, 0.6), Point(5, 5)], crs=4326)
    zones = gpd.GeoDataFrame({"zone": ["north", "empty"]},
                             geometry=[box(0, 0, 1, 1), box(2, 2, 3, 3)], crs=4326)
    path = tmp_path / "zones.geojson"
    zones.to_file(path)
    with pytest.warns(AssetmapWarning, match="1 zone"):
        out = am.read_attendance_zones(path, schools=schools)
    assert out.set_index("zone_id")["school_id"].to_dict() == {"north": "s1;s2", "empty": None}
    assert out["n_schools"].tolist() == [2, 0]
    assert am.get_report(out)["unmatched"] == {"zones": ["empty"], "schools": ["s3"]}
