"""``[bdc] files = "fcc"``: ``assetmap fetch`` downloads the study's BDC files, ``build`` uses them.

The FCC Public Data API is the stand-in of tests/test_download_bdc.py (``FakeFcc``: a real HTTP
server on 127.0.0.1 answering in the API's shapes, refusing requests without the credential
headers), here listing one Texas file: the shipped illustrative Ector County availability zip.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import assetmap as am
from assetmap.cli import main  # internal: the `assetmap` command, tested as main([...])
from tests.test_download_bdc import LATEST, TOKEN, USER, FakeFcc, listing_row

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "ector"
J25 = DATA / "fcc" / "bdc_48_illustrative_ector_fixed_availability_J25.zip"
J25_NAME = "bdc_48_Fiber_fixed_broadband_J25_illustrative"
# partner sites that are not CAIs are left out of cai.csv with a RejectedRowsWarning, which the
# command line prints to stderr
pytestmark = pytest.mark.filterwarnings("default::assetmap.errors.RejectedRowsWarning")


@pytest.fixture
def fcc():
    fake = FakeFcc()
    fake.listings[LATEST] = [
        listing_row(3001, "35", "New Mexico", "50", "Fiber"),  # another state: not fetched
        listing_row(7001, "48", "Texas", "50", "Fiber", name=J25_NAME),
    ]
    fake.files["7001"] = J25.read_bytes()
    with am.settings.override(fcc_api_url=fake.base, fcc_username=USER, fcc_api_token=TOKEN,
                              fcc_requests_per_minute=1e6):
        yield fake
    fake.close()


def _study(tmp_path: Path, *, as_of: str = "latest") -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "study.toml"
    path.write_text(f'''
[study]
name = "ector_fcc"

[area]
state = "TX"
counties = ["Ector"]
district = "4818000"

[census]
tracts = "{DATA / 'boundaries' / 'ector_tracts_2020.geojson'}"
acs = "{ROOT / 'examples' / 'ector_county' / 'ACSDT5Y2023.B19001-Data.csv'}"

[bdc]
files = "fcc"
as_of = "{as_of}"

[sources]
schools = "{DATA / 'schools' / 'tea_schools_2023_24_ector_midland_andrews.csv'}"
districts = "{DATA / 'schools' / 'nces_ccd_2013_14_districts_ector_neighbors.csv'}"
partners = "{DATA / 'partners' / 'ector_partner_sites_illustrative.csv'}"

[outputs]
dir = "out"
formats = ["csv", "ntia"]
''', encoding="utf-8")
    return path


def _record(as_of: str = "latest") -> dict:
    path = Path(am.settings.cache_dir) / "bdc" / f"fcc_48_{as_of}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def test_fetch_then_an_offline_build_uses_the_recorded_files(fcc, tmp_path, capsys):
    study = _study(tmp_path)
    assert main(["fetch", str(study)]) == 0
    printed = capsys.readouterr().out
    assert f"as of {LATEST}" in printed
    assert "7001" in printed
    assert fcc.paths() == ["/listAsOfDates", f"/downloads/listAvailabilityData/{LATEST}",
                           "/downloads/downloadFile/availability/7001"]
    record = _record()
    assert record["as_of"] == "latest"
    assert record["as_of_date"] == LATEST
    assert record["file_ids"] == ["7001"]
    assert record["file_names"] == [J25_NAME]
    cached = Path(record["files"][0]["path"])
    assert cached.read_bytes() == J25.read_bytes()
    text = json.dumps(record)
    assert USER not in text
    assert TOKEN not in text

    fcc.log.clear()
    with am.settings.override(fcc_username=None, fcc_api_token=None):  # not needed any more
        code = main(["--offline", "build", str(study)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert fcc.log == []  # no request: the record and the cached file
    out = tmp_path / "out"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["bdc_download"] == {
        "source": "FCC Broadband Data Collection, Public Data API", "api_url": fcc.base,
        "as_of": "latest", "as_of_date": LATEST, "states": ["48"], "file_ids": ["7001"],
        "file_names": [J25_NAME]}
    hashed = {e["path"]: e["sha256"] for e in manifest["inputs"]}
    assert hashed[str(cached)] == hashlib.sha256(J25.read_bytes()).hexdigest()
    assert manifest["ntia"]["files"]["unserved.csv"] > 0
    assert (out / "ntia" / "unserved.csv").is_file()
    assert manifest["rules"]["name"] == "bead"


def test_build_without_fetch_downloads_once_and_names_the_release(fcc, tmp_path):
    study = am.Study.from_toml(_study(tmp_path))
    with pytest.warns(am.errors.RejectedRowsWarning):
        result = study.run()
    assert result.sources.release_label == f"FCC BDC as of {LATEST}"
    assert len(result.sources.availability) > 0
    assert fcc.paths().count("/downloads/downloadFile/availability/7001") == 1
    assert _record()["file_ids"] == ["7001"]
    fcc.log.clear()
    assert study.bdc_files() == [_record()["files"][0]["path"]]  # from the record
    assert fcc.log == []


def test_an_as_of_date_and_fetching_latest_again(fcc, tmp_path, capsys):
    dated = _study(tmp_path / "dated", as_of="2024-06-30")
    assert main(["fetch", str(dated)]) == 0
    assert _record("2024-06-30")["file_ids"] == ["901"]
    assert "/listAsOfDates" not in fcc.paths()

    latest = _study(tmp_path / "latest")
    assert main(["fetch", str(latest)]) == 0
    first = am.Study.from_toml(latest).bdc_files()
    # the FCC publishes a newer release: builds keep the fetched one until the next fetch
    fcc.dates.append({"data_type": "availability", "as_of_date": "2025-06-30"})
    fcc.listings["2025-06-30"] = [listing_row(8001, "48", "Texas", "50", "Fiber",
                                              name="bdc_48_Fiber_fixed_broadband_J25")]
    fcc.files["8001"] = J25.read_bytes()
    assert am.Study.from_toml(latest).bdc_files() == first
    assert main(["fetch", str(latest)]) == 0
    assert _record()["as_of_date"] == "2025-06-30"
    assert _record()["file_ids"] == ["8001"]
    assert am.Study.from_toml(latest).bdc_files() != first
    assert "as of 2025-06-30" in capsys.readouterr().out


def test_fetch_without_credentials_exits_2_before_any_request(fcc, tmp_path, capsys):
    with am.settings.override(fcc_api_token=None):
        assert main(["fetch", str(_study(tmp_path))]) == 2
    err = capsys.readouterr().err
    assert "ASSETMAP_FCC_API_TOKEN" in err
    assert fcc.log == []


def test_an_offline_build_after_the_cache_was_cleared_exits_3(fcc, tmp_path, capsys):
    study = _study(tmp_path)
    assert main(["fetch", str(study)]) == 0
    Path(_record()["files"][0]["path"]).unlink()
    fcc.log.clear()
    assert main(["--offline", "build", str(study)]) == 3
    err = capsys.readouterr().err
    assert "7001" in err
    assert "assetmap fetch" in err
    assert fcc.log == []
    assert not (tmp_path / "out" / "manifest.json").exists()


@pytest.mark.slow
def test_the_command_line_in_subprocesses_reads_the_settings_from_the_environment(tmp_path):
    fake = FakeFcc()
    fake.listings[LATEST] = [listing_row(7001, "48", "Texas", "50", "Fiber", name=J25_NAME)]
    fake.files["7001"] = J25.read_bytes()
    study = _study(tmp_path)
    keep = {k: v for k, v in os.environ.items() if not k.startswith("ASSETMAP_")}
    env = {**keep, "ASSETMAP_CACHE_DIR": str(tmp_path / "cache"),
           "ASSETMAP_FCC_API_URL": fake.base, "ASSETMAP_FCC_REQUESTS_PER_MINUTE": "600"}
    try:
        fetched = subprocess.run(
            [sys.executable, "-m", "assetmap", "fetch", str(study)], capture_output=True,
            text=True, timeout=300, check=False,
            env={**env, "ASSETMAP_FCC_USERNAME": USER, "ASSETMAP_FCC_API_TOKEN": TOKEN})
        assert fetched.returncode == 0, fetched.stderr
        assert (tmp_path / "cache" / "bdc" / "fcc_48_latest.json").is_file()
        built = subprocess.run(
            [sys.executable, "-m", "assetmap", "--offline", "build", str(study)],
            capture_output=True, text=True, timeout=300, check=False, env=env)
        assert built.returncode == 0, built.stderr
    finally:
        fake.close()
    assert len(fake.log) == 3  # the fetch's two listings and one file; the build asked nothing
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["bdc_download"]["file_ids"] == ["7001"]
    assert manifest["bdc_download"]["as_of_date"] == LATEST
    assert TOKEN not in json.dumps(manifest)
