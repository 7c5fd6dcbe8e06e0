"""The bad-input catalogue (docs/bad-input.md): one test per case the other test files lack.

Every case builds a damaged file from a real-format file (the shipped Ector County data or the
published schema) and checks what assetmap does: a clear error naming the file (and row and
column where there is one), or a counted repair with a warning. Rows are never lost without
being counted in the report. The last tests keep the catalogue honest: every test id it names
must exist, and every case here must be in it.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import GeometryCollection, Point, Polygon, box

import assetmap as am
from assetmap.datasets import data_path
from assetmap.errors import (
    ConfigError,
    GeoidError,
    RejectedRowsWarning,
    RepairWarning,
    SchemaError,
)
from assetmap.loaders.rurality import read_ruca  # internal: the RUCA reader is not in am
from tests.http_fixtures import shapefile_zip

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "bad-input.md"

BDC_HEADER = ("frn,provider_id,brand_name,location_id,technology,max_advertised_download_speed,"
              "max_advertised_upload_speed,low_latency,business_residential_code,state_usps,"
              "block_geoid,h3_res8_id")
BDC_ZIP = data_path("fcc", "bdc_48_illustrative_ector_fixed_availability_J25.zip")


def bdc_lines(n: int = 20) -> list[str]:
    """The header and the first ``n`` rows of the shipped illustrative BDC file."""
    with zipfile.ZipFile(BDC_ZIP) as archive, archive.open(archive.namelist()[0]) as member:
        text = io.TextIOWrapper(member, encoding="utf-8")
        return [next(text).rstrip("\n") for _ in range(n + 1)]


def tracts() -> gpd.GeoDataFrame:
    return gpd.read_file(data_path("boundaries", "ector_tracts_2020.geojson"))


def accounted(report: dict) -> bool:
    """rows_read == rows_out + rejected (+ merged): no row lost without being counted."""
    return report["rows_read"] == (report["rows_out"] + sum(report["rejected"].values())
                                   + report.get("merged", 0))


def write(folder: Path, name: str, data: bytes | str) -> Path:
    path = folder / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


CASES: dict[str, Callable[[Path], None]] = {}


def case(case_id: str):
    def register(function: Callable[[Path], None]) -> Callable[[Path], None]:
        assert case_id not in CASES, case_id
        CASES[case_id] = function
        return function
    return register


# --------------------------------------------------------------------------- BDC availability


@case("bdc-zero-byte")
def _(tmp: Path) -> None:
    path = write(tmp, "bdc_48_empty.csv", b"")
    with pytest.raises(SchemaError, match=r"bdc_48_empty\.csv: empty file"):
        am.load_bdc(path)


@case("bdc-bom")
def _(tmp: Path) -> None:
    lines = bdc_lines(10)
    path = write(tmp, "bdc_48_bom.csv", b"\xef\xbb\xbf" + "\n".join(lines).encode() + b"\n")
    frame = am.load_bdc(path, codes=None)
    assert len(frame) == 10
    assert accounted(am.get_report(frame))


@case("bdc-semicolon")
def _(tmp: Path) -> None:
    path = write(tmp, "bdc_48_semi.csv", "\n".join(bdc_lines(5)).replace(",", ";") + "\n")
    with pytest.raises(SchemaError, match=r"bdc_48_semi\.csv, row 0, column 'frn'.*missing"):
        am.load_bdc(path)


@case("bdc-geoid-lost-zero")
def _(tmp: Path) -> None:
    # a block GEOID one character short: Excel dropped a leading zero (Alabama, state 01)
    row = "0001,130001,Cable Co,1001,40,1000,35,1,R,AL,10010201001000,8844c0a36dfffff"
    path = write(tmp, "bdc_01_lost.csv", BDC_HEADER + "\n" + row + "\n")
    with pytest.warns(RepairWarning, match="1 of 1"):
        frame = am.load_bdc(path)
    assert frame["block_geoid"].tolist() == ["010010201001000"]
    assert am.get_report(frame)["repaired"]


@case("bdc-geoid-scientific")
def _(tmp: Path) -> None:
    lines = bdc_lines(3)
    parts = lines[2].split(",")
    parts[10] = "4.81350001E+14"
    path = write(tmp, "bdc_48_sci.csv", "\n".join([lines[0], lines[1], ",".join(parts)]) + "\n")
    with pytest.warns(RejectedRowsWarning, match="block_geoid"):
        frame = am.load_bdc(path, codes=None)
    report = am.get_report(frame)
    assert len(frame) == 1
    assert accounted(report)


@case("bdc-speed-with-units")
def _(tmp: Path) -> None:
    lines = bdc_lines(3)
    parts = lines[2].split(",")
    parts[5] = "100 Mbps"
    path = write(tmp, "bdc_48_units.csv", "\n".join([lines[0], lines[1], ",".join(parts)]) + "\n")
    with pytest.raises(SchemaError, match=r"(?s)(?=.*bdc_48_units\.csv)"
                                          r"(?=.*max_advertised_download_speed)"):
        am.load_bdc(path, codes=None)


@case("bdc-unknown-technology")
def _(tmp: Path) -> None:
    lines = bdc_lines(4)
    parts = lines[1].split(",")
    parts[4] = "99"
    path = write(tmp, "bdc_48_tech.csv", "\n".join([lines[0], ",".join(parts), *lines[2:]]) + "\n")
    with pytest.warns(RejectedRowsWarning, match="unknown technology"):
        frame = am.load_bdc(path, codes=None)
    assert len(frame) == 3
    assert accounted(am.get_report(frame))


@case("bdc-truncated-zip")
def _(tmp: Path) -> None:
    body = BDC_ZIP.read_bytes()
    path = write(tmp, "bdc_48_trunc.zip", body[: len(body) // 3])
    with pytest.raises(SchemaError, match=r"bdc_48_trunc\.zip: truncated or corrupt zip"):
        am.load_bdc(path)


@case("bdc-zip-without-csv")
def _(tmp: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.pdf", b"%PDF-1.4")
    path = write(tmp, "bdc_48_nocsv.zip", buffer.getvalue())
    with pytest.raises(SchemaError, match=r"bdc_48_nocsv\.zip: the zip holds no CSV"):
        am.load_bdc(path)


@case("bdc-huge-line")
def _(tmp: Path) -> None:
    lines = bdc_lines(2)
    path = write(tmp, "bdc_48_huge.csv",
                 "\n".join([lines[0], lines[1], "9" * 3_000_000, lines[2]]) + "\n")
    with pytest.raises(SchemaError, match=r"bdc_48_huge\.csv"):
        am.load_bdc(path, codes=None)


# --------------------------------------------------------------------------- BDC summary

SUMMARY = data_path("fcc", "fcc_bdc_J25_fixed_summary_by_place_ector_area.csv")


@case("summary-zero-byte")
def _(tmp: Path) -> None:
    path = write(tmp, "summary.csv", b"")
    with pytest.raises(SchemaError, match=r"summary\.csv: empty file"):
        am.load_bdc_summary(path)


@case("summary-missing-column")
def _(tmp: Path) -> None:
    text = SUMMARY.read_text("utf-8").replace("speed_25_3", "speed_25_3_mbps", 1)
    path = write(tmp, "summary.csv", text)
    with pytest.raises(SchemaError, match=r"summary\.csv, row 0, column 'speed_25_3'"):
        am.load_bdc_summary(path)


@case("summary-share-out-of-range")
def _(tmp: Path) -> None:
    raw = pd.read_csv(SUMMARY, dtype=str, keep_default_na=False)
    first = raw.index[(raw["area_data_type"] == "Total") & (raw["biz_res"] == "R")][0]
    raw.loc[first, "speed_25_3"] = "87.5"  # a percentage where a share belongs
    path = tmp / "summary.csv"
    raw.to_csv(path, index=False)
    with pytest.warns(RejectedRowsWarning):
        frame = am.load_bdc_summary(path)
    report = am.get_report(frame)
    assert sum(report["rejected"].values()) == 1


# --------------------------------------------------------------------------- TIGER tracts


@case("tiger-zero-byte")
def _(tmp: Path) -> None:
    path = write(tmp, "tl_2020_48_tract.zip", b"")
    with pytest.raises(SchemaError, match=r"tl_2020_48_tract\.zip"):
        am.load_tracts(path=path)


@case("tiger-truncated-zip")
def _(tmp: Path) -> None:
    body = shapefile_zip(tracts().to_crs(4269), "tl_2020_48_tract")
    path = write(tmp, "tl_2020_48_tract.zip", body[: len(body) // 2])
    with pytest.raises(SchemaError, match=r"tl_2020_48_tract\.zip"):
        am.load_tracts(path=path)


@case("tiger-projected-labelled-4326")
def _(tmp: Path) -> None:
    frame = tracts().to_crs(32613)
    frame = frame.set_crs(4326, allow_override=True)  # metres, labelled as degrees
    path = tmp / "tracts.geojson"
    frame.to_file(path)
    with pytest.raises(SchemaError, match=r"tracts\.geojson: .*not longitude/latitude"):
        am.load_tracts(path=path)


@case("tiger-mixed-crs-reprojected")
def _(tmp: Path) -> None:
    # a tract layer in Texas Central (EPSG:2277, US feet) with its .prj: read and reprojected
    path = write(tmp, "tracts_2277.zip", shapefile_zip(tracts().to_crs(2277), "tracts_2277"))
    frame = am.load_tracts(path=path)
    assert frame.crs.to_epsg() == 4326
    expected = tracts().set_index("GEOID").geometry.to_crs(32613).centroid
    got = frame.set_index("GEOID").geometry.to_crs(32613).centroid
    assert (got.distance(expected.loc[got.index]) < 1.0).all()  # metres


@case("tiger-geoid-lost-zero")
def _(tmp: Path) -> None:
    frame = tracts().head(3).copy()
    frame["GEOID"] = ["6001400100", "6001400200", "6001400300"]  # Alameda CA, zero lost
    frame["STATEFP"] = "06"
    path = tmp / "tracts.geojson"
    frame.to_file(path)
    with pytest.warns(RepairWarning, match="leading zero"):
        out = am.load_tracts(path=path)
    assert out["GEOID"].tolist() == ["06001400100", "06001400200", "06001400300"]


@case("tiger-empty-and-collection-geometry")
def _(tmp: Path) -> None:
    frame = tracts().head(4).copy()
    frame.loc[1, "geometry"] = Polygon()
    frame.loc[2, "geometry"] = GeometryCollection([Point(-102.4, 31.8), box(-102.4, 31.8,
                                                                             -102.3, 31.9)])
    path = tmp / "tracts.gpkg"
    frame.to_file(path)
    with pytest.warns(RejectedRowsWarning, match="empty or non-polygon"):
        out = am.load_tracts(path=path)
    report = am.get_report(out)
    assert len(out) == 2
    assert accounted(report)
    assert report["rejected_rows"]["empty or non-polygon geometry"] == [2, 3]


@case("tiger-self-intersecting")
def _(tmp: Path) -> None:
    frame = tracts().head(2).copy()
    x0, y0, x1, y1 = frame.geometry.iloc[0].bounds
    frame.loc[0, "geometry"] = Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])  # a bow tie
    path = tmp / "tracts.gpkg"
    frame.to_file(path)
    with pytest.warns(RepairWarning, match="make_valid"):
        out = am.load_tracts(path=path)
    assert out.geometry.is_valid.all()
    assert len(out) == 2


# --------------------------------------------------------------------------- ACS CSV

ACS = data_path("acs", "acs_b19001_tracts_ector_midland_andrews.csv")


@case("acs-csv-zero-byte")
def _(tmp: Path) -> None:
    path = write(tmp, "acs.csv", b"")
    with pytest.raises(SchemaError, match=r"acs\.csv: not a readable CSV file: the file is empty"):
        am.read_acs_csv(path)


@case("acs-csv-utf16")
def _(tmp: Path) -> None:
    path = write(tmp, "acs.csv", ACS.read_text("utf-8").encode("utf-16"))
    with pytest.raises(SchemaError, match=r"acs\.csv: not a readable CSV file.*UTF-8"):
        am.read_acs_csv(path)


@case("acs-csv-geoid-scientific")
def _(tmp: Path) -> None:
    lines = ACS.read_text("utf-8").splitlines()
    lines[3] = "4.8135E+10" + lines[3][11:]
    path = write(tmp, "acs.csv", "\n".join(lines) + "\n")
    with pytest.raises(GeoidError, match=r"acs\.csv, row 3, column 'GEOID'.*scientific"):
        am.read_acs_csv(path)


@case("acs-csv-geoid-lost-zero")
def _(tmp: Path) -> None:
    text = "GEOID,B01003_001E,B01003_001M\n6001400100,3120,250\n6001400200,2007,310\n"
    path = write(tmp, "acs.csv", text)
    with pytest.warns(RepairWarning, match="leading zero"):
        frame = am.read_acs_csv(path)
    assert frame["GEOID"].tolist() == ["06001400100", "06001400200"]


@case("acs-csv-semicolon")
def _(tmp: Path) -> None:
    path = write(tmp, "acs.csv", ACS.read_text("utf-8").replace(",", ";"))
    with pytest.raises(SchemaError, match=r"acs\.csv: no GEO_ID or GEOID column"):
        am.read_acs_csv(path)


@case("acs-csv-all-empty-column")
def _(tmp: Path) -> None:
    raw = pd.read_csv(ACS, dtype=str)
    raw["B19001_002E"] = ""
    path = tmp / "acs.csv"
    raw.to_csv(path, index=False)
    with pytest.warns(RepairWarning, match="annotation"):
        frame = am.read_acs_csv(path)
    assert frame["B19001_002E"].isna().all()
    assert len(frame) == len(raw)


# --------------------------------------------------------------------------- schools

TEA = data_path("schools", "tea_schools_2023_24_ector_midland_andrews.csv")


@case("schools-zero-byte")
def _(tmp: Path) -> None:
    path = write(tmp, "schools.csv", b"")
    with pytest.raises(SchemaError, match=r"schools\.csv: not a readable CSV file: .*empty"):
        am.read_schools(path)


@case("schools-latin1")
def _(tmp: Path) -> None:
    text = TEA.read_text("utf-8").replace("BOWIE", "BOWIÉ")
    path = write(tmp, "schools.csv", text.encode("cp1252"))
    with pytest.warns(RepairWarning, match="Windows-1252"):
        frame = am.read_schools(path, district="4818000", districts=data_path(
            "schools", "nces_ccd_2013_14_districts_ector_neighbors.csv"))
    assert any("BOWIÉ" in n for n in frame["name"])


@case("schools-huge-line")
def _(tmp: Path) -> None:
    lines = TEA.read_text("utf-8").splitlines()
    path = write(tmp, "schools.csv", "\n".join([lines[0], "x" * 2_000_000, *lines[1:]]))
    with pytest.raises(SchemaError, match=r"schools\.csv: .*enormous single line"):
        am.read_schools(path)


@case("schools-semicolon")
def _(tmp: Path) -> None:
    path = write(tmp, "schools.csv", TEA.read_text("utf-8").replace(",", ";"))
    with pytest.warns(RepairWarning, match="separated by ';'"):  # read, since issue 20
        frame = am.read_schools(path)
    assert len(frame) == len(pd.read_csv(TEA))


@case("schools-truncated-county-name")
def _(tmp: Path) -> None:
    text = TEA.read_text("utf-8")
    cut = text.index("\nECTOR,") + 3  # a file cut inside a county name: "EC"
    path = write(tmp, "schools.csv", text[:cut])
    with pytest.raises(GeoidError, match=r"schools\.csv, row \d+, column 'county'"):
        am.read_schools(path)


@case("schools-all-empty-coordinates")
def _(tmp: Path) -> None:
    raw = pd.read_csv(TEA, dtype=str)
    raw["lat"] = ""
    path = tmp / "schools.csv"
    raw.to_csv(path, index=False)
    with pytest.warns(RejectedRowsWarning, match="no coordinates"):
        frame = am.read_schools(path)
    report = am.get_report(frame)
    assert len(frame) == 0
    assert report["rejected"]["no coordinates"] == len(raw)


# --------------------------------------------------------------------------- partners

PARTNERS = data_path("partners", "ector_partner_sites_illustrative.csv")


@case("partners-bom")
def _(tmp: Path) -> None:
    path = write(tmp, "partners.csv", b"\xef\xbb\xbf" + PARTNERS.read_bytes())
    frame = am.read_partner_sites(path)
    assert len(frame) == len(pd.read_csv(PARTNERS))
    assert accounted(am.get_report(frame))


@case("partners-utf16")
def _(tmp: Path) -> None:
    path = write(tmp, "partners.csv", PARTNERS.read_text("utf-8").encode("utf-16"))
    with pytest.warns(RepairWarning, match="UTF-16"):
        frame = am.read_partner_sites(path)
    assert len(frame) == len(pd.read_csv(PARTNERS))


@case("partners-binary")
def _(tmp: Path) -> None:
    path = write(tmp, "partners.csv", bytes(range(256)) * 8)
    with pytest.raises(SchemaError, match=r"partners\.csv"), pytest.warns(RepairWarning):
        am.read_partner_sites(path)


@case("partners-duplicate-keys")
def _(tmp: Path) -> None:
    text = PARTNERS.read_text("utf-8").replace("site_id,name,", "site_id,name,Site Name,", 1)
    lines = text.splitlines()
    lines[1:] = [re.sub(r"^([^,]*,[^,]*,)", r"\1x,", line) for line in lines[1:]]
    path = write(tmp, "partners.csv", "\n".join(lines) + "\n")
    with pytest.raises(SchemaError, match=r"partners\.csv, column 'Site Name'.*both mean 'name'"):
        am.read_partner_sites(path)


@case("partners-all-empty-column")
def _(tmp: Path) -> None:
    raw = pd.read_csv(PARTNERS, dtype=str, keep_default_na=False)
    raw["capacity_seats"] = ""
    path = tmp / "partners.csv"
    raw.to_csv(path, index=False)
    frame = am.read_partner_sites(path)
    assert frame["capacity_seats"].isna().all()
    assert len(frame) == len(raw)


# --------------------------------------------------------------------------- survey

SURVEY = data_path("survey", "ector_family_survey_illustrative.csv")


@case("survey-zero-byte")
def _(tmp: Path) -> None:
    path = write(tmp, "survey.csv", b"")
    with pytest.raises(SchemaError, match=r"survey\.csv: not a readable CSV file: .*empty"):
        am.read_survey(path, areas=tracts())


@case("survey-latin1")
def _(tmp: Path) -> None:
    lines = SURVEY.read_text("utf-8").splitlines()
    lines[0] += ",comment"
    lines[1:] = [line + ",Sí, señor" if i == 0 else line + "," for i, line in
                 enumerate(lines[1:])]
    lines[1] = lines[1].replace(",Sí, señor", ',"Sí, señor"')
    path = write(tmp, "survey.csv", "\n".join(lines).encode("cp1252"))
    with pytest.warns(RepairWarning, match="Windows-1252"):
        frame = am.read_survey(path, areas=tracts())
    assert am.get_report(frame)["rows_aggregated"] == len(lines) - 1


@case("survey-projected-coordinates")
def _(tmp: Path) -> None:
    raw = pd.read_csv(SURVEY, dtype=str, keep_default_na=False).head(40)
    raw.loc[:4, "lat"] = "3528000.5"  # UTM metres typed into the latitude column
    raw.loc[:4, "lon"] = "773000.25"
    path = tmp / "survey.csv"
    raw.to_csv(path, index=False)
    with pytest.warns(RejectedRowsWarning):
        frame = am.read_survey(path, areas=tracts())
    report = am.get_report(frame)
    assert report["rows_aggregated"] + sum(report["rejected"].values()) == 40
    assert sum(report["rejected"].values()) == 5


# --------------------------------------------------------------------------- attendance zones


def _zones(tmp: Path, geometries: list, name: str = "zones.gpkg", crs: int = 4326) -> Path:
    frame = gpd.GeoDataFrame({"ncessch": [f"48180000000{i}" for i in range(len(geometries))],
                              "schnam": [f"Z{i}" for i in range(len(geometries))]},
                             geometry=geometries, crs=4326).to_crs(crs)
    path = tmp / name
    frame.to_file(path)
    return path


@case("zones-self-intersecting")
def _(tmp: Path) -> None:
    bowtie = Polygon([(-102.40, 31.80), (-102.30, 31.90), (-102.30, 31.80), (-102.40, 31.90)])
    path = _zones(tmp, [bowtie, box(-102.5, 31.7, -102.45, 31.75)])
    with pytest.warns(RepairWarning, match="make_valid"):
        zones = am.read_attendance_zones(path)
    assert zones.geometry.is_valid.all()
    assert len(zones) == 2


@case("zones-collection-and-empty")
def _(tmp: Path) -> None:
    path = _zones(tmp, [box(-102.5, 31.7, -102.45, 31.75), Polygon(),
                        GeometryCollection([Point(-102.4, 31.8)])])
    with pytest.warns(RejectedRowsWarning, match="not a polygon"):
        zones = am.read_attendance_zones(path)
    report = am.get_report(zones)
    assert len(zones) == 1
    assert accounted(report)


@case("zones-projected-labelled-4326")
def _(tmp: Path) -> None:
    frame = gpd.GeoDataFrame({"ncessch": ["481800000001"]},
                             geometry=[box(760000, 3520000, 770000, 3530000)], crs=4326)
    path = tmp / "zones.geojson"
    frame.to_file(path)
    with pytest.raises(SchemaError, match=r"zones\.geojson: .*not longitude/latitude"):
        am.read_attendance_zones(path)


@case("zones-mixed-crs")
def _(tmp: Path) -> None:
    school = gpd.GeoDataFrame({"school_id": ["481800000001"]},
                              geometry=[Point(-102.37, 31.85)], crs=4326)
    path = tmp / "zones.gpkg"
    gpd.GeoDataFrame({"schnam": ["A"]}, geometry=[box(-102.4, 31.8, -102.3, 31.9)],
                     crs=4326).to_crs(3857).to_file(path)
    zones = am.read_attendance_zones(path, schools=school)
    assert zones.crs.to_epsg() == 4326
    assert zones["school_id"].tolist() == ["481800000001"]


# --------------------------------------------------------------------------- study file


@case("study-zero-byte")
def _(tmp: Path) -> None:
    path = write(tmp, "study.toml", b"")
    with pytest.raises(ConfigError, match=r"study\.toml: \[area\] state is required"):
        am.Study.from_toml(path)


@case("study-latin1")
def _(tmp: Path) -> None:
    path = write(tmp, "study.toml", '[study]\ntitle = "Año"\n[area]\nstate = "TX"\n'
                 .encode("latin-1"))
    with pytest.raises(ConfigError, match=r"study\.toml: not UTF-8"):
        am.Study.from_toml(path)


@case("study-name-traversal")
def _(tmp: Path) -> None:
    study = am.Study.from_dict({"study": {"name": "../../etc/x"}, "area": {"state": "TX"},
                                "outputs": {"dir": str(tmp / "out")}})
    from assetmap.outputs.study_exports import (  # internal: path guards, no study run needed
        inside,
        safe_stem,
    )

    stem = safe_stem(study.config.study["name"])
    assert "/" not in stem
    assert ".." not in stem
    assert inside(study.config.out_dir, f"{stem}_report.html").parent == (tmp / "out").resolve()


@case("study-wrong-type")
def _(tmp: Path) -> None:
    path = write(tmp, "study.toml", '[area]\nstate = "TX"\ncounties = "Ector"\n')
    with pytest.raises(ConfigError, match=r"study\.toml: \[area\] counties must be list"):
        am.Study.from_toml(path)


# --------------------------------------------------------------------------- speed tests and RUCA

SPEED = data_path("speedtests", "ector_speedtests_illustrative.csv")


@case("speedtests-zero-byte")
def _(tmp: Path) -> None:
    path = write(tmp, "tests.csv", b"")
    with pytest.raises(SchemaError, match=r"tests\.csv: not a readable CSV file"):
        am.read_speedtests(path)


@case("speedtests-latin1")
def _(tmp: Path) -> None:
    path = write(tmp, "tests.csv", SPEED.read_text("utf-8").replace("wifi", "wifí")
                 .encode("latin-1"))
    with pytest.raises(SchemaError, match=r"tests\.csv: not a readable CSV file"):
        am.read_speedtests(path)


@case("speedtests-semicolon")
def _(tmp: Path) -> None:
    path = write(tmp, "tests.csv", SPEED.read_text("utf-8").replace(",", ";"))
    with pytest.raises(SchemaError, match=r"tests\.csv: no download speed column"):
        am.read_speedtests(path)


@case("ruca-zero-byte")
def _(tmp: Path) -> None:
    path = write(tmp, "ruca.csv", b"")
    with pytest.raises(SchemaError, match=r"ruca\.csv: not a readable CSV file"):
        read_ruca(path)


@case("ruca-binary")
def _(tmp: Path) -> None:
    path = write(tmp, "ruca.csv", bytes(range(256)) * 8)
    with pytest.raises(SchemaError, match=r"ruca\.csv: not a readable CSV file"):
        read_ruca(path)


@pytest.mark.parametrize("case_id", list(CASES))
def test_case(case_id: str, tmp_path: Path) -> None:
    CASES[case_id](tmp_path)


# --------------------------------------------------------------------------- the catalogue itself

_TEST_ID = re.compile(r"`(tests/[\w/]+\.py::[\w]+(?:\[[^\]`]*\])?)`")


def _catalogue_rows() -> list[str]:
    return [line for line in DOC.read_text("utf-8").splitlines()
            if line.startswith("|") and "`tests/" in line]


def test_catalogue_has_40_cases_each_with_a_test() -> None:
    rows = _catalogue_rows()
    assert len(rows) >= 40
    for row in rows:
        assert _TEST_ID.search(row), row


def test_every_case_here_is_in_the_catalogue() -> None:
    named = {m for row in _catalogue_rows() for m in _TEST_ID.findall(row)}
    missing = [c for c in CASES if f"tests/test_bad_input_catalogue.py::test_case[{c}]"
               not in named]
    assert not missing


@pytest.mark.slow
def test_catalogue_names_only_real_tests() -> None:
    named = sorted({m for row in _catalogue_rows() for m in _TEST_ID.findall(row)})
    files = sorted({n.split("::")[0] for n in named})
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         *files],
        cwd=ROOT, capture_output=True, text=True, check=False,
    ).stdout.splitlines()
    real = {line.strip() for line in collected if "::" in line}
    # a parametrised test may be named without its parameters (all of them prove the case)
    unknown = [n for n in named if n not in real and not any(r.startswith(n + "[") for r in real)]
    assert not unknown, f"docs/bad-input.md names tests that do not exist: {unknown}"
