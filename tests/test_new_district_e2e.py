"""A new district from nothing, as a new user runs it: ``init --district``, ``fetch``, ``build``.

The district is Midland ISD, Texas (NCES LEAID 4830570, Midland County 48329), not the demo's.
Every source is served by ONE local HTTP server on 127.0.0.1 (``LocalSources``, a
``FaultServer`` that also refuses FCC API requests without the credential headers), in the
real shapes, and assetmap is pointed at it only through its settings' environment variables
(``ASSETMAP_*_URL``, the FCC credentials, a fresh ``ASSETMAP_CACHE_DIR``):

* NCES EDGE district (LEA) geocodes, 2024-25 layout (``init --district``): the real rows of
  tests/test_init_district.py plus Midland ISD's real row (NCES CCD 2013-14 office point,
  tests/data/midland/nces_ccd_2013_14_districts_midland.csv);
* NCES EDGE public school geocodes (tests/test_nces_download.py: real CCD rows of the area);
* the FCC BDC Public Data API (``listAsOfDates``, ``downloads/listAvailabilityData/{date}``,
  ``downloads/downloadFile/availability/{file_id}``) listing one zip per technology, cut from
  tests/data/midland/bdc_48_illustrative_midland_fixed_availability_J25.zip (ILLUSTRATIVE
  rows in the BDC schema: see that folder's PROVENANCE.md), plus rows the client must skip;
* TIGER/Line 2020 tracts (the real Midland and Ector tracts), counties (Ector's real outline,
  Midland's as the union of its real tracts), unified school districts and block groups; the
  Midland ISD polygon is SYNTHETIC (Midland County west of 102.02 W and north of 31.90 N) and
  so are the block groups (one per tract: the tract itself, at its Gazetteer internal point);
* the Census ACS API: B19001 is the real ACS 2019-2023 table of the fixture; the other tables'
  values are SYNTHETIC fractions of those households;
* Ookla's fixed-tile Parquet (2024 Q1) with SYNTHETIC tiles placed by hand in Midland, one in
  Odessa and one in London (both left out).

The tract counts are checked against a plain pandas recount of the served BDC rows under the
BEAD rule set. A second variant runs fully offline with local files only.
"""

from __future__ import annotations

import io
import json
import math
import os
import tomllib
import warnings
import zipfile
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import urlsplit

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

import assetmap as am
from assetmap.cli import main  # internal: the `assetmap` command, tested as main([...])
from assetmap.datasets import data_path
from tests.http_fixtures import (
    FaultServer,
    Reply,
    acs_api_body,
    ector_tracts_nad83,
    ookla_parquet,
    shapefile_zip,
)
from tests.test_download_bdc import TOKEN, USER, envelope, listing_row
from tests.test_init_district import LEA_ROWS
from tests.test_nces_download import school_zip

ROOT = Path(__file__).resolve().parents[1]
MIDLAND = ROOT / "tests" / "data" / "midland"
BDC_ZIP = MIDLAND / "bdc_48_illustrative_midland_fixed_availability_J25.zip"
TRACTS = MIDLAND / "midland_tracts_2020.geojson"
ACS_CSV = MIDLAND / "ACSDT5Y2023.B19001-Data.csv"
LEAID = "4830570"
AS_OF = "2025-06-30"  # the fixture's BDC release, J25
FCC = "/api/public/map"
LEA_2425 = "/EDGE_GEOCODE_PUBLICLEA_2425.zip"
SCH_2425 = "/EDGE_GEOCODE_PUBLICSCH_2425.zip"
OOKLA = ("/parquet/performance/type=fixed/year=2024/quarter=1/"
         "2024-01-01_performance_fixed_tiles.parquet")
ACS_PATH = "/data/2023/acs/acs5"
TECH_NAMES = {10: "Copper", 40: "Cable", 50: "Fiber", 60: "GSO-Satellite",
              61: "NGSO-Satellite", 70: "Unlicensed-Fixed-Wireless",
              71: "Licensed-Fixed-Wireless", 72: "LBR-Fixed-Wireless"}
CUT = (-102.02, 31.90)  # SYNTHETIC district: Midland County west of 102.02 W, north of 31.90 N
# Midland ISD's office (NCES CCD 2013-14), in the 2024-25 EDGE LEA layout
MIDLAND_LEA = [LEAID, "MIDLAND ISD", "48", "615 W MISSOURI AVE", "MIDLAND", "TX", "79701", "48",
               "48329", "Midland County", "31.99582", "-102.081381", "33260", "Midland, TX", "1",
               "", "", "", "", "4811", "082", "031", "2024-2025"]
# partner sites and schools outside the district's tracts are left out with a warning, which
# the command line prints to stderr
pytestmark = pytest.mark.filterwarnings("default::assetmap.errors.RejectedRowsWarning",
                                        "default::assetmap.errors.AssetmapWarning")


# --- the served files --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def bdc_text() -> tuple[str, pd.DataFrame]:
    """The fixture's BDC file: its text and its rows, as text (what the FCC files hold)."""
    with zipfile.ZipFile(BDC_ZIP) as archive:
        text = archive.read(archive.namelist()[0]).decode("utf-8")
    rows = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, engine="pyarrow")
    return text, rows


@pytest.fixture(scope="module")
def recount(bdc_text) -> pd.DataFrame:
    return bead_recount(bdc_text[1])


@pytest.fixture(scope="module")
def fcc_files(bdc_text) -> dict[str, tuple[int, str, bytes]]:
    """One zip per technology, as the FCC publishes a state's files: file id -> (tech, name, zip).

    Each holds the fixture's own lines of that technology, unchanged, under its header.
    """
    text, rows = bdc_text
    lines = text.splitlines()
    assert len(lines) == len(rows) + 1  # one line per row: no field holds a line break
    files = {}
    for i, (tech, index) in enumerate(sorted(rows.groupby("technology").indices.items())):
        name = f"bdc_48_{TECH_NAMES[int(tech)]}_fixed_broadband_J25_illustrative"
        body = "\n".join([lines[0], *(lines[j + 1] for j in index)]) + "\n"
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
            archive.writestr(f"{name}.csv", body)
        files[str(8100 + i)] = (int(tech), name, buffer.getvalue())
    return files


def _midland_tracts() -> gpd.GeoDataFrame:
    return gpd.read_file(TRACTS)


def _county_outline() -> gpd.GeoDataFrame:
    tracts = _midland_tracts()
    return gpd.GeoDataFrame(
        {"STATEFP": ["48"], "COUNTYFP": ["329"], "GEOID": ["48329"], "NAME": ["Midland"],
         "NAMELSAD": ["Midland County"], "ALAND": [int(tracts["ALAND"].sum())],
         "AWATER": [int(tracts["AWATER"].sum())]},
        geometry=[tracts.union_all()], crs=4326)


def synthetic_district() -> gpd.GeoDataFrame:
    """SYNTHETIC Midland ISD outline: Midland County west of 102.02 W and north of 31.90 N."""
    county = _county_outline()
    west, _, _, north = county.total_bounds
    part = county.clip(box(west - 1, CUT[1], CUT[0], north + 1))
    return gpd.GeoDataFrame({"NAME": ["SYNTHETIC outline standing in for Midland ISD"]},
                            geometry=part.geometry.to_numpy(), crs=4326)


def _tiger_files() -> dict[str, bytes]:
    tracts = _midland_tracts()
    both = pd.concat([tracts.to_crs(4269), ector_tracts_nad83()], ignore_index=True)
    ector = gpd.read_file(data_path("boundaries", "ector_county_2020.geojson")).to_crs(4326)
    counties = pd.concat([_county_outline(), ector], ignore_index=True).to_crs(4269)
    district = synthetic_district().assign(
        STATEFP="48", UNSDLEA=LEAID[2:], GEOID=LEAID, NAME="Midland Independent School District"
    ).to_crs(4269)
    groups = gpd.GeoDataFrame(
        {"STATEFP": "48", "COUNTYFP": "329", "TRACTCE": tracts["TRACTCE"], "BLKGRPCE": "1",
         "GEOID": tracts["GEOID"] + "1", "INTPTLAT": tracts["INTPTLAT"],
         "INTPTLON": tracts["INTPTLON"]},
        geometry=tracts.geometry, crs=4326).to_crs(4269)
    return {
        "/TIGER2020/TRACT/tl_2020_48_tract.zip": shapefile_zip(both, "tl_2020_48_tract"),
        "/TIGER2020/COUNTY/tl_2020_us_county.zip": shapefile_zip(counties, "tl_2020_us_county"),
        "/TIGER2020/UNSD/tl_2020_48_unsd.zip": shapefile_zip(district, "tl_2020_48_unsd"),
        "/TIGER2020/BG/tl_2020_48_bg.zip": shapefile_zip(groups, "tl_2020_48_bg"),
    }


def _b19001() -> pd.DataFrame:
    table = pd.read_csv(ACS_CSV, skiprows=[1], dtype=str)
    table["GEOID"] = table["GEO_ID"].str[-11:]
    return table.set_index("GEOID")


def _acs_api(query: dict[str, list[str]]) -> Reply:
    """The Census API's answer: B19001 real; every other variable a SYNTHETIC fraction."""
    names = query["get"][0].split(",")
    block_groups = query["for"][0].startswith("block group")
    real = _b19001()
    fractions = {"B28002_002": 0.88, "B28002_004": 0.84, "B28002_012": 0.02,
                 "B28002_013": 0.10, "B28001_011": 0.05, "B17001_002": 0.30,
                 "B09001_001": 0.70, "B01003_001": 2.70, "B17001_001": 2.60}
    rows = []
    for geoid in sorted(_midland_tracts()["GEOID"]):
        total = int(real.at[geoid, "B19001_001E"]) if geoid in real.index else 0
        cells = []
        for name in names:
            variable, kind = name[:-1], name[-1]
            if name == "NAME":
                cells.append(f"Census Tract {int(geoid[5:]) / 100:g}; Midland County; Texas")
            elif kind == "M":
                cells.append(str(max(10, total // 10)))
            elif variable.startswith("B19001_"):
                cells.append(real.at[geoid, name] if geoid in real.index else "0")
            elif variable in ("B28002_001", "B28001_001"):
                cells.append(str(total))
            elif variable == "B19013_001":
                cells.append("71250" if total else "-666666666")
            else:
                cells.append(str(round(total * fractions[variable])))
        parts = [geoid[:2], geoid[2:5], geoid[5:]] + (["1"] if block_groups else [])
        rows.append([*cells, *parts])
    geo = ["state", "county", "tract"] + (["block group"] if block_groups else [])
    return Reply(body=acs_api_body([*names, *geo], rows),
                 headers={"Content-Type": "application/json"})


def _quadkey(lon: float, lat: float, zoom: int = 16) -> tuple[str, tuple[float, ...]]:
    """The zoom-16 Bing tile holding a point: its quadkey and bounds (west, south, east, north)."""
    n = 2**zoom
    x = int((lon + 180) / 360 * n)
    rad = math.radians(lat)
    y = int((1 - math.log(math.tan(rad) + 1 / math.cos(rad)) / math.pi) / 2 * n)
    digits = "".join(str(((x >> b) & 1) + 2 * ((y >> b) & 1)) for b in range(zoom - 1, -1, -1))

    def lat_of(row: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return digits, (x / n * 360 - 180, lat_of(y + 1), (x + 1) / n * 360 - 180, lat_of(y))


# SYNTHETIC tiles: three in Midland (inside the district), one in Odessa, one in London
TILE_POINTS = {"midland_1": (-102.08, 32.00), "midland_2": (-102.10, 31.99),
               "midland_3": (-102.06, 32.03), "odessa": (-102.37, 31.85),
               "london": (-0.13, 51.507)}


def _ookla_parquet() -> bytes:
    rows = []
    for i, (lon, lat) in enumerate(TILE_POINTS.values()):
        quadkey, bounds = _quadkey(lon, lat)
        rows.append({"quadkey": quadkey, "tile": box(*bounds).wkt, "tile_x": round(lon, 4),
                     "tile_y": round(lat, 4), "avg_d_kbps": 60_000 + 5000 * i,
                     "avg_u_kbps": 8_000 + 500 * i, "avg_lat_ms": 18 + i,
                     "avg_lat_down_ms": 90.0 + i, "avg_lat_up_ms": 180.0 + i,
                     "tests": 12 + i, "devices": 4 + i})
    rows.sort(key=lambda r: r["quadkey"])
    return ookla_parquet(rows)


def _lea_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("EDGE_GEOCODE_PUBLICLEA_2425.TXT",
                         "\r\n".join("|".join(r) for r in [*LEA_ROWS, MIDLAND_LEA]) + "\r\n")
    return buffer.getvalue()


class LocalSources(FaultServer):
    """Every source on one 127.0.0.1 server; FCC API paths answer 401 without credentials."""

    def __init__(self) -> None:
        super().__init__()
        self.fcc_refused = 0
        self.closed = False

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        path = urlsplit(handler.path).path
        if path.startswith(FCC) and (handler.headers.get("username") != USER
                                     or handler.headers.get("hash_value") != TOKEN):
            self.fcc_refused += 1
            body = json.dumps({"status": "fail", "status_code": 401,
                               "message": "Unauthorized access"}).encode()
            handler.send_response(401)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
            handler.close_connection = True
            return
        super()._serve(handler)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            super().close()


@pytest.fixture
def served(fcc_files, monkeypatch, tmp_path):
    server = LocalSources()
    zip_headers = {"Content-Type": "application/zip"}
    server.route(LEA_2425, Reply(body=_lea_zip(), headers=zip_headers))
    server.route(SCH_2425, Reply(body=school_zip(), headers=zip_headers))
    server.route(OOKLA, Reply(body=_ookla_parquet()))
    for path, body in _tiger_files().items():
        server.route(path, Reply(body=body, headers=zip_headers))
    server.respond(ACS_PATH, _acs_api)
    as_json = {"Content-Type": "application/json"}
    server.route(f"{FCC}/listAsOfDates", Reply(body=envelope([
        {"data_type": "availability", "as_of_date": "2024-12-31"},
        {"data_type": "availability", "as_of_date": AS_OF},
        {"data_type": "challenge", "as_of_date": "2025-12-31"},  # newer, not availability
    ]), headers=as_json))
    listing = [listing_row(3001, "35", "New Mexico", "50", "Fiber"),  # another state
               listing_row(8099, "48", "Texas", "50", "Fiber", category="Provider",
                           subcategory="Fixed Broadband", name="bdc_48_provider_130001")]
    for file_id, (tech, name, body) in fcc_files.items():
        listing.append(listing_row(int(file_id), "48", "Texas", str(tech),
                                   TECH_NAMES[tech], name=name))
        server.route(f"{FCC}/downloads/downloadFile/availability/{file_id}",
                     Reply(body=body, headers={
                         **zip_headers,
                         "Content-Disposition": f'attachment; filename="{name}.zip"'}))
    server.route(f"{FCC}/downloads/listAvailabilityData/{AS_OF}",
                 Reply(body=envelope(listing), headers=as_json))
    _environment(monkeypatch, tmp_path / "cache", {
        "ASSETMAP_NCES_EDGE_URL": server.base,
        "ASSETMAP_OOKLA_OPEN_DATA_URL": server.base,
        "ASSETMAP_TIGER_URL": server.base,
        "ASSETMAP_CENSUS_API_URL": server.url("/data"),
        "ASSETMAP_FCC_API_URL": server.url(FCC),
        "ASSETMAP_FCC_USERNAME": USER,
        "ASSETMAP_FCC_API_TOKEN": TOKEN,
        "ASSETMAP_FCC_REQUESTS_PER_MINUTE": "6000",
    })
    yield server
    server.close()


def _environment(monkeypatch: pytest.MonkeyPatch, cache: Path, values: dict[str, str]) -> None:
    """Only these ASSETMAP_* variables, read as a new process would (settings.reset)."""
    for name in list(os.environ):
        if name.startswith("ASSETMAP_") or name == "CENSUS_API_KEY":
            monkeypatch.delenv(name)
    for name, value in {"ASSETMAP_CACHE_DIR": str(cache), "ASSETMAP_BACKOFF": "0.01",
                        "ASSETMAP_TIMEOUT": "10", **values}.items():
        monkeypatch.setenv(name, value)
    am.settings.reset()  # the conftest fixture restores the test settings afterwards


# --- what a user does ----------------------------------------------------------------------------

def _edit(study: Path, *changes: tuple[str, str]) -> None:
    """Edit the written study file as the template's comments say (each line found once)."""
    text = study.read_text(encoding="utf-8")
    for old, new in changes:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    study.write_text(text, encoding="utf-8")


def _run(*argv: str) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("always")  # the command line prints warnings as "warning: ..."
        return main(list(argv))


def bead_recount(rows: pd.DataFrame) -> pd.DataFrame:
    """Locations, served, underserved and unserved per tract: BEAD, in plain pandas.

    Residential locations (R, X); a location is served by a reliable technology (copper,
    cable, fiber, licensed fixed wireless) with low latency at 100/20 Mbps or more,
    underserved at 25/3 or more, else unserved.
    """
    rows = rows[rows["business_residential_code"].isin(["R", "X"])]
    down = rows["max_advertised_download_speed"].astype(float)
    up = rows["max_advertised_upload_speed"].astype(float)
    good = (rows["technology"].astype(int).isin([10, 40, 50, 71, 72])
            & (rows["low_latency"].astype(int) == 1))
    level = (good & (down >= 25) & (up >= 3)).astype(int) + (
        good & (down >= 100) & (up >= 20)).astype(int)
    best = level.groupby(rows["location_id"]).max()
    tract = rows.groupby("location_id")["block_geoid"].first().str[:11]
    table = pd.DataFrame({"tract": tract, "best": best})
    return pd.DataFrame({
        "locations": table.groupby("tract").size(),
        "served": (table["best"] == 2).groupby(table["tract"]).sum(),
        "underserved": (table["best"] == 1).groupby(table["tract"]).sum(),
        "unserved": (table["best"] == 0).groupby(table["tract"]).sum(),
    })


def _check_outputs(out: Path, recount: pd.DataFrame) -> tuple[dict, pd.DataFrame]:
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    written = manifest["outputs"]
    assert {"html", "png", "pdf", "report", "tracts.csv", "tracts.gpkg"} <= set(written)
    for name in written.values():
        assert (out / name).is_file(), name
    table = pd.read_csv(out / written["tracts.csv"], dtype={"GEOID": str})
    assert set(table["GEOID"].str[:5]) == {"48329"}
    share = table.set_index("GEOID")["household_share"]
    assert ((share > 0) & (share <= 1)).all()
    # a tract without BDC locations (48329980000: no households) has no counts (NaN)
    expected = recount.reindex(share.index).mul(share, axis=0)
    for column in ("locations", "served", "underserved", "unserved"):
        got = table.set_index("GEOID")[column]
        pd.testing.assert_series_equal(got.astype(float), expected[column].astype(float),
                                       check_names=False, rtol=1e-9)
    return manifest, table


def _report_text(out: Path) -> str:
    text = "".join(p.read_text(encoding="utf-8", errors="replace")
                   for p in out.rglob("*") if p.suffix in {".html", ".md"})
    return text


# --- the tests -----------------------------------------------------------------------------------

def test_init_fetch_build_for_midland_isd_from_local_servers(served, recount, fcc_files,
                                                             tmp_path, capsys):
    study = tmp_path / "midland" / "study.toml"
    study.parent.mkdir()
    assert _run("init", "--district", LEAID, "--out", str(study)) == 0
    assert f"LEAID {LEAID} is MIDLAND ISD (Midland County, TX)" in capsys.readouterr().out
    written = tomllib.loads(study.read_text(encoding="utf-8"))
    assert written["area"] == {"state": "TX", "counties": ["Midland County"], "district": LEAID}
    assert written["study"]["name"] == "MIDLAND ISD"

    _edit(study, ('files = ["bdc/*.zip"]', 'files = "fcc"'),
          ('schools = ""   ', 'schools = "nces"'),
          ("# ookla_year = 2025", "ookla_year = 2024"),
          ("# ookla_quarter = 2", "ookla_quarter = 1"))
    code = _run("fetch", str(study))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert f"as of {AS_OF}" in captured.out
    assert served.fcc_refused == 0
    fetched = {p for _, p, _ in served.log}
    assert {f"{FCC}/downloads/downloadFile/availability/{i}" for i in fcc_files} <= fetched
    assert f"{FCC}/downloads/downloadFile/availability/3001" not in fetched
    assert {SCH_2425, OOKLA, ACS_PATH, "/TIGER2020/BG/tl_2020_48_bg.zip"} <= fetched
    cache = Path(am.settings.cache_dir)
    assert (cache / "bdc" / "fcc_48_latest.json").is_file()
    for path in cache.rglob("*.json"):  # the record and each download's .meta.json
        assert TOKEN not in path.read_text(encoding="utf-8"), path
        assert USER not in path.read_text(encoding="utf-8"), path

    served.log.clear()
    out = study.parent / "out"
    code = _run("--offline", "build", str(study))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert served.log == []  # every file from the cache
    manifest, table = _check_outputs(out, recount)
    download = manifest["bdc_download"]
    assert download["as_of_date"] == AS_OF
    assert download["file_ids"] == sorted(fcc_files)
    assert download["file_names"] == [fcc_files[i][1] for i in sorted(fcc_files)]
    assert TOKEN not in json.dumps(manifest)
    assert USER not in json.dumps(manifest)
    downloads = manifest["downloads"]
    assert downloads["schools"]["file_name"] == "EDGE_GEOCODE_PUBLICSCH_2425.zip"
    assert downloads["ookla_tiles"]["period"] == "2024-Q1"
    assert manifest["loaded"]["speed_tiles"]["rows_out"] == 3  # the Midland tiles only
    assert manifest["loaded"]["schools"]["rows_out"] > 0
    assert 0 < len(table) < 37  # the district's tracts, not the county's
    # the FCC's file names, not the cached files' hashed names, give the release and the label
    assert manifest["illustrative_data"] is True
    cited = [s for s in manifest["sources"] if s["name"].startswith("FCC Broadband")]
    assert {s.get("vintage") for s in cited} == {"as of June 30, 2025"}
    text = _report_text(out)
    assert "FCC Broadband Data Collection, fixed availability (as of June 30, 2025)" in text
    assert "MIDLAND ISD" in text
    assert "Ector" not in text
    assert "Odessa" not in text

    served.close()  # offline from the cache, with nothing to ask
    again = tmp_path / "again"
    code = _run("--offline", "build", str(study), "--out", str(again))
    assert code == 0, capsys.readouterr().err
    second, _ = _check_outputs(again, recount)
    assert second["bdc_download"] == download


def test_init_fetch_build_offline_with_local_files_only(recount, monkeypatch, tmp_path, capsys):
    _environment(monkeypatch, tmp_path / "cache", {})
    folder = tmp_path / "midland"
    folder.mkdir()
    study = folder / "study.toml"
    assert _run("--offline", "init", "--district", LEAID, "--county", "Midland",
                "--out", str(study)) == 0
    assert f"LEAID {LEAID} could not be checked" in capsys.readouterr().err
    assert tomllib.loads(study.read_text(encoding="utf-8"))["area"]["counties"] == ["Midland"]
    synthetic_district().to_file(folder / f"district_{LEAID}_boundary.geojson")
    _edit(study,
          (f'# district_boundary = "district_{LEAID}_boundary.geojson"',
           f'district_boundary = "district_{LEAID}_boundary.geojson"'),
          ('tracts = "tiger"', f'tracts = "{TRACTS}"'),
          ('acs = "api"', f'acs = "{ACS_CSV}"'),
          ('files = ["bdc/*.zip"]', f'files = ["{BDC_ZIP}"]'),
          ('schools = ""   ', f'schools = "{MIDLAND / "tea_schools_2023_24_midland.csv"}"'),
          ('rurality = ""  ', f'rurality = "{MIDLAND / "usda_ruca_2020_tracts2020_midland.csv"}"'))
    assert _run("--offline", "fetch", str(study)) == 0
    code = _run("--offline", "build", str(study))
    assert code == 0, capsys.readouterr().err
    manifest, table = _check_outputs(folder / "out", recount)
    assert 0 < len(table) < 37
    assert (table["household_share"] < 1).any()  # by area: the outline cuts tracts
    hashed = {Path(e["path"]).name for e in manifest["inputs"]}
    assert {f"district_{LEAID}_boundary.geojson", BDC_ZIP.name, ACS_CSV.name} <= hashed
    text = _report_text(folder / "out")
    assert "Midland" in text  # the study's name, as init wrote it
    assert "Ector" not in text
    assert not list((tmp_path / "cache").rglob("*.zip"))  # nothing was downloaded
