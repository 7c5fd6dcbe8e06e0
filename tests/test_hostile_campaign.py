"""Issue 20's hostile campaign: inputs the bad-input catalogue did not have, one test each.

Every case goes through the public API (or the command line) and ends in a clear
``AssetmapError`` naming the input, or in a counted repair or rejection with a warning;
none is silent, none is a raw dependency exception, none shows household text or
coordinates. Each case is a row of docs/bad-input.md.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
from shapely.geometry import Point, box

import assetmap as am
from assetmap.datasets import data_path
from assetmap.errors import (
    AssetmapError,
    AssetmapWarning,
    ConfigError,
    RejectedRowsWarning,
    RepairWarning,
    SchemaError,
)
from assetmap.loaders.anchors import anchor_sites_as_partners  # internal: no am name
from assetmap.loaders.rurality import read_ruca  # internal: the RUCA reader is not in am

ROOT = Path(__file__).resolve().parents[1]
CASES: dict[str, Callable[[Path], None]] = {}
PARTNERS = data_path("partners", "ector_partner_sites_illustrative.csv")
RUCA = data_path("rural", "usda_ruca_2020_tracts2020.csv")
ANCHORS = data_path("sites", "anchor_sites_fqhc_shelter_hospital_library_permian.csv")
TRACTS = data_path("boundaries", "ector_tracts_2020.geojson")
SITE = "name,site_type,capacity_seats,wifi_radius_m,lat,lon\n"
MLAB = "date,a.MeanThroughputMbps,client.Geo.Latitude,client.Geo.Longitude\n"
ACS = "GEOID,B19001_001E,B19001_001M\n"


def case(name: str) -> Callable[[Callable[[Path], None]], Callable[[Path], None]]:
    def register(fn: Callable[[Path], None]) -> Callable[[Path], None]:
        CASES[name] = fn
        return fn
    return register


def write(tmp: Path, name: str, data: str | bytes) -> Path:
    path = tmp / name
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8", newline="")
    return path


def tracts() -> gpd.GeoDataFrame:
    return gpd.read_file(TRACTS)[["GEOID", "geometry"]]


def survey_rows(n: int = 12, lat: str = "31.85", lon: str = "-102.37") -> str:
    return "".join(f"{lat},{lon},none\n" for _ in range(n))


# --------------------------------------------------------------------------- partner sites


@case("partners-polygons-not-points")
def _(tmp: Path) -> None:
    path = tmp / "sites.geojson"
    gpd.GeoDataFrame({"name": ["A"], "site_type": ["library"]},
                     geometry=[box(-102.4, 31.8, -102.3, 31.9)], crs=4326).to_file(path)
    with pytest.raises(SchemaError, match=r"sites\.geojson, row 1: a Polygon where a point"):
        am.read_partner_sites(path)


@case("partners-zero-zero")
def _(tmp: Path) -> None:
    path = write(tmp, "sites.csv", SITE + "A,library,,,0,0\nB,library,,,31.85,-102.36\n")
    with pytest.warns(RejectedRowsWarning, match="0,0"):
        sites = am.read_partner_sites(path)
    assert sites["name"].tolist() == ["B"]
    assert am.get_report(sites)["rejected_rows"][next(iter(am.get_report(sites)["rejected"]))] \
        == [1]


@case("partners-projected-metres-without-area")
def _(tmp: Path) -> None:
    path = write(tmp, "sites.csv", SITE + "A,library,,,3528000.5,773000.2\n"
                 "B,library,,,31.85,-102.36\n")
    with pytest.warns(RejectedRowsWarning, match="projected metres"):
        sites = am.read_partner_sites(path)
    assert len(sites) == 1


# cases that write one file and expect a SchemaError from its reader:
# case id -> (file name, its contents, the reader, the message pattern)
EMPTY_LAYER = '{"type": "FeatureCollection", "features": []}'
ONE_FILE_ERRORS: dict[str, tuple[str, Callable[[], str | bytes], Callable[[Path], object], str]] = {
    "partners-infinite-capacity": (
        "sites.csv", lambda: SITE + "A,library,inf,,31.85,-102.36\n", am.read_partner_sites,
        r"row 1, column 'capacity_seats': not a finite"),
    "partners-infinite-radius": (
        "sites.csv", lambda: SITE + "A,library,,1e400,31.85,-102.36\n", am.read_partner_sites,
        r"column 'wifi_radius_m': not a finite number"),
    "partners-nan-string": (
        "sites.csv", lambda: SITE + "A,library,NaN,,31.85,-102.36\n", am.read_partner_sites,
        r"column 'capacity_seats': not a number: 'NaN'"),
    "partners-negative-count": (
        "sites.csv", lambda: SITE + "A,library,-3,,31.85,-102.36\n", am.read_partner_sites,
        r"column 'capacity_seats': below 0"),
    "partners-repeated-header": (
        "sites.csv", lambda: "name,site_type,lat,lat,lon\nA,library,31.85,31.9,-102.3\n",
        am.read_partner_sites, r"column 'lat.*both mean 'lat'"),
    "partners-header-only": (
        "sites.csv", lambda: PARTNERS.read_text("utf-8").splitlines()[0] + "\n",
        am.read_partner_sites, r"sites\.csv: the file has a header but no data"),
    "partners-utf8-bom-then-utf16": (
        "sites.csv", lambda: b"\xef\xbb\xbf" + PARTNERS.read_text("utf-8").encode("utf-16-le"),
        am.read_partner_sites, "two encodings in one file"),
    "partners-empty-geojson": (
        "sites.geojson", lambda: EMPTY_LAYER, am.read_partner_sites,
        r"sites\.geojson: the layer has no features"),
    "ruca-semicolon-named": (
        "ruca.csv", lambda: RUCA.read_text("utf-8").replace(",", ";"), read_ruca,
        r"separated by ';'"),
    "ruca-fractional-primary-code": (
        "ruca.csv", lambda: RUCA.read_text("utf-8").replace(",4,4.0,", ",4.5,4.0,", 1), read_ruca,
        r"row 1, column 'RUCA1_primary'.*not a whole number"),
    "ruca-text-code": (
        "ruca.csv", lambda: RUCA.read_text("utf-8").replace(",4,4.0,", ",rural,4.0,", 1),
        read_ruca, r"RUCA code 'rural' is not a whole number 1-10"),
    "ruca-header-only": (
        "ruca.csv", lambda: RUCA.read_text("utf-8").splitlines()[0] + "\n", read_ruca,
        "header but no data rows"),
    "zones-empty-geojson": (
        "zones.geojson", lambda: EMPTY_LAYER, am.read_attendance_zones,
        "the layer has no features"),
}


def _one_file_error(tmp: Path, *, case_id: str) -> None:
    name, contents, reader, message = ONE_FILE_ERRORS[case_id]
    with pytest.raises(SchemaError, match=message):
        reader(write(tmp, name, contents()))


for _case_id in ONE_FILE_ERRORS:
    case(_case_id)(partial(_one_file_error, case_id=_case_id))


@case("partners-thousands-separator")
def _(tmp: Path) -> None:
    path = write(tmp, "sites.csv", SITE + 'A,library,"1,200",,31.85,-102.36\n')
    with pytest.warns(RepairWarning, match="thousands separators"):
        sites = am.read_partner_sites(path)
    assert sites["capacity_seats"].tolist() == [1200.0]


@case("partners-bare-carriage-returns")
def _(tmp: Path) -> None:
    lines = PARTNERS.read_text("utf-8").splitlines()[:6]
    sites = am.read_partner_sites(write(tmp, "sites.csv", "\r".join(lines) + "\r"))
    assert len(sites) == 5


@case("partners-utf16-without-bom")
def _(tmp: Path) -> None:
    path = write(tmp, "sites.csv", PARTNERS.read_text("utf-8").encode("utf-16-le"))
    with pytest.warns(RepairWarning, match="UTF-16 text without a byte-order mark"):
        sites = am.read_partner_sites(path)
    assert len(sites) == len(pd.read_csv(PARTNERS))


@case("partners-million-column-header")
def _(tmp: Path) -> None:
    wide = "name,site_type,lat,lon," + ",".join(f"c{i}" for i in range(1_000_000))
    path = write(tmp, "sites.csv", wide + "\nA,library,31.85,-102.36\n")
    with pytest.raises(SchemaError, match=r"more than 2000 columns"):
        am.read_partner_sites(path)


@case("partners-semicolon-decimal-comma-formula")
def _(tmp: Path) -> None:
    path = write(tmp, "sites.csv", "name;site_type;capacity_seats;lat;lon\n"
                 "=cmd|' /C calc'!A0;library;1.200;31,85;-102,36\n")
    with pytest.warns(RepairWarning) as caught:
        sites = am.read_partner_sites(path)
    assert {"separated by ';'", "thousands separators"} <= {
        m for w in caught for m in ("separated by ';'", "thousands separators")
        if m in str(w.message)}
    assert sites.geometry.iloc[0].equals(Point(-102.36, 31.85))
    assert sites["capacity_seats"].tolist() == [1200.0]
    out = am.export_layers({"sites": sites}, tmp / "out", formats=["csv"])["sites"][0]
    assert pd.read_csv(out)["name"].tolist() == ["'=cmd|' /C calc'!A0"]


@case("partners-xlsx-merged-header")
def _(tmp: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["name", "site_type", "Location", None])
    sheet.merge_cells("C1:D1")
    sheet.append([None, None, "lat", "lon"])
    sheet.append(["A", "library", 31.85, -102.36])
    path = tmp / "sites.xlsx"
    book.save(path)
    with pytest.raises(SchemaError, match=r"sites\.xlsx, row 2: the header seems to span two"):
        am.read_partner_sites(path)


@case("partners-path-is-a-folder")
def _(tmp: Path) -> None:
    (tmp / "sites.csv").mkdir()
    with pytest.raises(SchemaError, match=r"sites\.csv: is a folder, not a file"):
        am.read_partner_sites(tmp / "sites.csv")


@case("partners-name-too-long")
def _(tmp: Path) -> None:
    with pytest.raises(SchemaError, match="not a usable file name"):
        am.read_partner_sites(tmp / ("s" * 300 + ".csv"))


@case("partners-gpkg-two-layers")
def _(tmp: Path) -> None:
    path = tmp / "sites.gpkg"
    for layer, crs in (("a", 4326), ("b", 3857)):
        gpd.GeoDataFrame({"name": [layer], "site_type": ["library"]},
                         geometry=[Point(-102.36, 31.85)], crs=4326).to_crs(crs).to_file(
            path, layer=layer)
    with pytest.raises(SchemaError, match=r"sites\.gpkg: holds 2 layers \(a, b\)"):
        am.read_partner_sites(path)


@case("partners-null-geometry")
def _(tmp: Path) -> None:
    path = tmp / "sites.geojson"
    gpd.GeoDataFrame({"name": ["A", "B"], "site_type": ["library"] * 2},
                     geometry=[Point(-102.36, 31.85), None], crs=4326).to_file(path)
    with pytest.warns(RejectedRowsWarning, match="no coordinates"):
        sites = am.read_partner_sites(path)
    assert am.get_report(sites)["rows_read"] == 2
    assert len(sites) == 1


# --------------------------------------------------------------------------- survey


@case("survey-polygons-not-points")
def _(tmp: Path) -> None:
    path = tmp / "survey.geojson"
    gpd.GeoDataFrame({"home_internet": ["none"] * 12},
                     geometry=[box(-102.4, 31.8, -102.3, 31.9)] * 12, crs=4326).to_file(path)
    with pytest.raises(SchemaError, match="a Polygon where a point is expected") as caught:
        am.read_survey(path, areas=tracts())
    assert "-102" not in str(caught.value)


@case("survey-infinite-latitude")
def _(tmp: Path) -> None:
    path = write(tmp, "survey.csv", "lat,lon,home_internet\n" + survey_rows(1, lat="inf")
                 + survey_rows())
    with pytest.raises(SchemaError, match=r"row 1, column 'lat': not a finite number;") as c:
        am.read_survey(path, areas=tracts())
    assert "inf" not in str(c.value).split("number")[1]


@case("survey-zero-zero")
def _(tmp: Path) -> None:
    path = write(tmp, "survey.csv", "lat,lon,home_internet\n" + survey_rows(3, "0", "0")
                 + survey_rows())
    with pytest.warns(RejectedRowsWarning, match="0,0"):
        out = am.read_survey(path, areas=tracts())
    report = am.get_report(out)
    assert report["rows_aggregated"] == 12
    assert sum(report["rejected"].values()) == 3


@case("survey-matches-no-area")
def _(tmp: Path) -> None:
    path = write(tmp, "survey.csv", "GEOID,home_internet\n" + "06001400100,none\n" * 20)
    with pytest.raises(SchemaError, match=r"none of its 20 household\(s\) could be placed"), \
            pytest.warns(RejectedRowsWarning):
        am.read_survey(path, areas=tracts())


@case("survey-empty-areas")
def _(tmp: Path) -> None:
    path = write(tmp, "survey.csv", "lat,lon,home_internet\n" + survey_rows())
    with pytest.raises(SchemaError, match="areas has no rows"):
        am.read_survey(path, areas=tracts().iloc[:0])


@case("survey-header-only")
def _(tmp: Path) -> None:
    path = write(tmp, "survey.csv", "lat,lon,home_internet\n")
    with pytest.raises(SchemaError, match="header but no data rows"):
        am.read_survey(path, areas=tracts())


@case("survey-semicolon-decimal-comma")
def _(tmp: Path) -> None:
    path = write(tmp, "survey.csv", "lat;lon;home_internet\n" + "31,85;-102,37;none\n" * 12)
    with pytest.warns(RepairWarning, match="separated by ';'"):
        out = am.read_survey(path, areas=tracts())
    assert am.get_report(out)["rows_aggregated"] == 12


@case("survey-null-geometry")
def _(tmp: Path) -> None:
    path = tmp / "survey.geojson"
    gpd.GeoDataFrame({"home_internet": ["none"] * 13},
                     geometry=[Point(-102.37, 31.85)] * 12 + [None], crs=4326).to_file(path)
    with pytest.warns(RejectedRowsWarning, match="no location"):
        out = am.read_survey(path, areas=tracts())
    assert am.get_report(out)["rows_aggregated"] == 12


# --------------------------------------------------------------------------- ACS, RUCA


@case("acs-fractional-counts")
def _(tmp: Path) -> None:
    path = write(tmp, "acs.csv", ACS + "48135000100,12.5,3\n48135000200,40,5\n")
    with pytest.warns(RepairWarning, match=r"fractional values .*B19001_001E \(1\)"):
        frame = am.read_acs_csv(path)
    assert frame["B19001_001E"].tolist() == [12.5, 40.0]  # kept as given
    assert am.get_report(frame)["repaired"]


@case("acs-header-only")
def _(tmp: Path) -> None:
    with pytest.raises(SchemaError, match="header but no data rows"):
        am.read_acs_csv(write(tmp, "acs.csv", ACS))


@case("acs-infinite-value")
def _(tmp: Path) -> None:
    with pytest.raises(SchemaError, match=r"row 2, column 'B19001_001E': 'inf' is neither"):
        am.read_acs_csv(write(tmp, "acs.csv", ACS + "48135000100,inf,3\n"))


@case("acs-nan-string")
def _(tmp: Path) -> None:
    with pytest.raises(SchemaError, match=r"'NaN' is neither a number nor an ACS annotation"):
        am.read_acs_csv(write(tmp, "acs.csv", ACS + "48135000100,NaN,3\n"))


@case("acs-bare-carriage-returns")
def _(tmp: Path) -> None:
    frame = am.read_acs_csv(write(tmp, "acs.csv", ACS.replace("\n", "\r")
                                  + "48135000100,5,3\r48135000200,6,3\r"))
    assert frame["B19001_001E"].tolist() == [5.0, 6.0]


@case("acs-semicolon-named")
def _(tmp: Path) -> None:
    path = write(tmp, "acs.csv", ACS.replace(",", ";") + "48135000100;5;3\n")
    with pytest.raises(SchemaError, match=r"separated by ';' \(a European-locale export\)"):
        am.read_acs_csv(path)
    comma = write(tmp, "acs2.csv", ACS.replace(",", ";") + "48135000100;5,5;3\n")
    with pytest.raises(SchemaError, match=r"delimiter ';', as in a European-locale export"):
        am.read_acs_csv(comma)


@case("acs-path-is-a-folder")
def _(tmp: Path) -> None:
    (tmp / "acs.csv").mkdir()
    with pytest.raises(SchemaError, match=r"acs\.csv: is a folder"):
        am.read_acs_csv(tmp / "acs.csv")


# --------------------------------------------------------------------------- speed tests


@case("mlab-future-date")
def _(tmp: Path) -> None:
    path = write(tmp, "ndt_download.csv", MLAB + "2099-01-01,50,31.85,-102.36\n"
                 "2024-01-01,40,31.85,-102.36\n")
    with pytest.warns(RejectedRowsWarning, match="in the future"):
        tests = am.read_mlab(path)
    assert tests["down_mbps"].tolist() == [40.0]


@case("mlab-thousands-separator")
def _(tmp: Path) -> None:
    path = write(tmp, "ndt_download.csv", MLAB + '2024-01-01,"1,000",31.85,-102.36\n')
    with pytest.warns(RepairWarning, match="thousands separators"):
        tests = am.read_mlab(path)
    assert tests["down_mbps"].tolist() == [1000.0]


@case("mlab-zero-zero")
def _(tmp: Path) -> None:
    path = write(tmp, "ndt_download.csv", MLAB + "2024-01-01,50,0,0\n2024-01-01,40,31.85,"
                 "-102.36\n")
    with pytest.warns(RejectedRowsWarning, match="0,0"):
        tests = am.read_mlab(path)
    assert len(tests) == 1


@case("mlab-path-is-a-folder")
def _(tmp: Path) -> None:
    (tmp / "ndt_download.csv").mkdir()
    with pytest.raises(SchemaError, match="is a folder"):
        am.read_mlab(tmp / "ndt_download.csv")


# --------------------------------------------------------------------------- zones, boundaries


@case("zones-gpkg-two-layers-mixed-crs")
def _(tmp: Path) -> None:
    path = tmp / "zones.gpkg"
    gpd.GeoDataFrame({"schnam": ["A"]}, geometry=[box(-102.4, 31.8, -102.3, 31.9)],
                     crs=4326).to_file(path, layer="a")
    gpd.GeoDataFrame({"schnam": ["B"]}, geometry=[box(-102.3, 31.8, -102.2, 31.9)],
                     crs=4326).to_crs(3857).to_file(path, layer="b")
    with pytest.raises(SchemaError, match=r"zones\.gpkg: holds 2 layers"):
        am.read_attendance_zones(path)


@case("zones-points-not-polygons")
def _(tmp: Path) -> None:
    path = tmp / "zones.geojson"
    gpd.GeoDataFrame({"schnam": ["A", "B"]}, geometry=[Point(-102.36, 31.85),
                                                      box(-102.4, 31.8, -102.3, 31.9)],
                     crs=4326).to_file(path)
    with pytest.warns(AssetmapWarning) as caught:  # also: 1 zone without a school
        zones = am.read_attendance_zones(path)
    assert any("not a polygon" in str(w.message) for w in caught)
    assert len(zones) == 1


@case("tracts-path-is-a-folder")
def _(tmp: Path) -> None:
    (tmp / "tracts.gpkg").mkdir()
    with pytest.raises(SchemaError, match="is a folder"):
        am.load_tracts(path=tmp / "tracts.gpkg")


@case("anchors-zero-zero-and-empty")
def _(tmp: Path) -> None:
    raw = pd.read_csv(ANCHORS, dtype=str, keep_default_na=False).head(4)
    raw.loc[0, ["lat", "lon"]] = "0"
    raw.loc[1, ["lat", "lon"]] = ""
    path = tmp / "anchors.csv"
    raw.to_csv(path, index=False)
    with pytest.warns(RejectedRowsWarning, match="0,0"):
        sites = anchor_sites_as_partners(path)
    assert len(sites) == 2
    assert not sites.geometry.is_empty.any()


@case("geocode-no-address-column")
def _(tmp: Path) -> None:
    with pytest.raises(AssetmapError, match="address"):
        am.geocode_addresses(pd.DataFrame({"street_name": ["1 Main St"]}))


# --------------------------------------------------------------------------- writers


@case("export-layer-name-too-long")
def _(tmp: Path) -> None:
    with pytest.raises(ConfigError, match=r"120 at most"):
        am.export_layers({"a" * 300: pd.DataFrame({"x": [1]})}, tmp, formats=["csv"])


@case("export-no-layers")
def _(tmp: Path) -> None:
    with pytest.raises(ConfigError, match="no layers to export"):
        am.export_layers({}, tmp, formats=["csv"])


@case("export-formula-header-and-categorical")
def _(tmp: Path) -> None:
    frame = pd.DataFrame({"=HYPERLINK(1)": pd.Categorical(["@SUM(A1)", "+1", "ok"])})
    path = am.export_layers({"t": frame}, tmp, formats=["csv"])["t"][0]
    lines = path.read_text("utf-8").splitlines()
    assert lines == ["'=HYPERLINK(1)", "'@SUM(A1)", "+1", "ok"]  # +1 is a plain number


@case("export-infinite-values")
def _(tmp: Path) -> None:
    path = am.export_layers({"t": pd.DataFrame({"x": [np.inf, 1.0]})}, tmp,
                            formats=["csv"])["t"][0]
    assert pd.read_csv(path)["x"].tolist() == [np.inf, 1.0]  # written as numbers, not text


# --------------------------------------------------------------------------- command line


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "assetmap", *args], capture_output=True,
                          text=True, check=False, cwd=ROOT, timeout=120)


@case("cli-study-path-is-a-folder")
def _(tmp: Path) -> None:
    (tmp / "study.toml").mkdir()
    done = _cli("build", str(tmp / "study.toml"))
    assert done.returncode == 2
    assert "is a folder" in done.stderr
    assert "Traceback" not in done.stderr


@case("cli-out-is-a-file")
def _(tmp: Path) -> None:
    (tmp / "out").write_text("x")
    done = _cli("demo", "--out", str(tmp / "out"))
    assert done.returncode == 2
    assert "is a file, not a folder" in done.stderr
    assert "Traceback" not in done.stderr


@case("cli-out-name-too-long")
def _(tmp: Path) -> None:
    study = write(tmp, "study.toml", '[area]\nstate = "TX"\ncounties = ["Ector"]\n')
    done = _cli("score", str(study), "--out", str(tmp / ("x" * 300)))
    assert done.returncode == 2
    assert "too long" in done.stderr
    assert "Traceback" not in done.stderr


@case("cli-study-binary")
def _(tmp: Path) -> None:
    study = write(tmp, "study.toml", bytes(range(256)))
    done = _cli("build", str(study))
    assert done.returncode == 2
    assert "study.toml" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("case_id", list(CASES))
def test_case(case_id: str, tmp_path: Path) -> None:
    CASES[case_id](tmp_path)


def test_campaign_has_40_cases_each_in_the_catalogue() -> None:
    doc = (ROOT / "docs" / "bad-input.md").read_text("utf-8")
    assert len(CASES) >= 40
    missing = [c for c in CASES if f"tests/test_hostile_campaign.py::test_case[{c}]" not in doc]
    assert not missing


def test_district_speed_tests_with_thousands_separators_are_read_and_counted(tmp_path):
    path = tmp_path / "tests.csv"
    path.write_text('download_mbps,upload_mbps,latency_ms,latitude,longitude\n'
                    '"1,000",20,"1,200",31.85,-102.37\n45.5,10,30,31.86,-102.38\n')
    with pytest.warns(am.errors.RepairWarning, match="thousands separators"):
        tests = am.read_speedtests(path)
    assert tests["down_mbps"].tolist() == [1000.0, 45.5]
    assert tests["latency_ms"].tolist() == [1200.0, 30.0]


def test_district_speed_tests_separated_by_semicolons_say_so(tmp_path):
    path = tmp_path / "tests.csv"
    path.write_text("download_mbps;upload_mbps;latitude;longitude\n45,5;10;31,85;-102,37\n")
    with pytest.raises(am.errors.SchemaError, match="separated by ';'"):
        am.read_speedtests(path)
