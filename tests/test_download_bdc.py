"""am.download_bdc against a local stand-in for the FCC BDC Public Data API.

``FakeFcc`` is a real HTTP server on 127.0.0.1 that answers the three endpoints the client uses
in the API's own shapes (the ``{"data": [...], "result_count", "status_code", "message",
"status"}`` envelope; listing rows with ``file_id``, ``category``, ``subcategory``,
``technology_type``, ``technology_code``, ``state_fips``, ``state_name``, ``file_type``,
``file_name``, ``record_count``; zips holding one CSV), answers HTTP 401 without the right
``username`` / ``hash_value`` headers, and logs every request with its headers and time.
It is a plain ``http.server``, not pytest-httpserver: werkzeug drops request headers whose
names hold an underscore (``hash_value``), so that server cannot see the FCC's token header.
"""

from __future__ import annotations

import io
import itertools
import json
import logging
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

import assetmap as am
from assetmap._http import cached_path  # internal: what the download cache holds for a URL
from assetmap.bdc import _fcc_api  # internal: the request throttle, run on a fake clock
from assetmap.settings import Settings
from tests.bdc_fixtures import csv_text, offer

USER = "planner@district.example.org"
TOKEN = "Zk3r9Qm2Lx7vW1pT8sYb4nHc6dJf0aGe"
ROOT = "/api/public/map"
LATEST = "2024-12-31"


def envelope(rows: list[dict]) -> bytes:
    """Every list endpoint's JSON envelope."""
    return json.dumps({"data": rows, "result_count": len(rows), "status_code": 200,
                       "message": None, "status": "successful"}).encode()


def listing_row(file_id, state_fips, state_name, tech, desc, *, category="State",
                technology_type="Fixed Broadband", subcategory="Location Coverage",
                file_type="csv", name=None):
    return {"file_id": file_id, "category": category, "subcategory": subcategory,
            "technology_type": technology_type, "technology_code": tech,
            "technology_code_desc": desc, "speed_tier": None, "state_fips": state_fips,
            "state_name": state_name, "provider_id": None, "provider_name": None,
            "file_type": file_type,
            "file_name": name or f"bdc_{state_fips}_{desc}_fixed_broadband_D24_08may2025",
            "record_count": "2"}


def zip_of(name: str, tech: int, locations: tuple[int, ...]) -> bytes:
    rows = [offer(loc, tech, 1000 if tech == 50 else 300, 35) for loc in locations]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{name}.csv", csv_text(rows))
    return buffer.getvalue()


class FakeFcc:
    """The FCC Public Data API's three endpoints, in its shapes, on 127.0.0.1."""

    def __init__(self) -> None:
        self.log: list[dict] = []
        self.override: dict[str, tuple[int, bytes]] = {}
        self.dates = [
            {"data_type": "availability", "as_of_date": "2023-12-31"},
            {"data_type": "challenge", "as_of_date": "2025-06-30"},  # newer, not availability
            {"data_type": "availability", "as_of_date": LATEST},
            {"data_type": "availability", "as_of_date": "2024-06-30"},
        ]
        # deliberately unordered; rows the client must leave out are mixed in
        self.listings = {
            LATEST: [
                listing_row(1002, "48", "Texas", "50", "Fiber"),
                listing_row(3001, "35", "New Mexico", "50", "Fiber"),
                listing_row(1004, "48", "Texas", "300", "Mobile", technology_type="Mobile "
                            "Broadband", subcategory="Hexagon Coverage", file_type="gis"),
                listing_row(1001, "48", "Texas", "40", "Cable"),
                listing_row(1005, "48", "Texas", "50", "Fiber", category="Provider",
                            subcategory="Fixed Broadband", name="bdc_48_provider_130001"),
                listing_row(1006, None, None, None, "Summary", category="Summary",
                            subcategory="Fixed Broadband Summary by Geography Type",
                            name="bdc_us_fixed_broadband_summary_by_geography_D24"),
                listing_row(1003, "48", "Texas", "10", "Copper"),
            ],
            "2024-06-30": [listing_row(901, "48", "Texas", "50", "Fiber",
                                       name="bdc_48_Fiber_fixed_broadband_J24")],
        }
        techs = {1001: 40, 1002: 50, 1003: 10, 1004: 50, 1005: 50, 3001: 50, 901: 50}
        self.files = {}
        for rows in self.listings.values():
            for row in rows:
                fid = row["file_id"]
                self.files[str(fid)] = zip_of(row["file_name"], techs.get(fid, 50),
                                              (fid * 10 + 1, fid * 10 + 2))
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                fake._serve(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02},
                         daemon=True).start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{ROOT}"

    def paths(self) -> list[str]:
        return [entry["path"].removeprefix(ROOT) for entry in self.log]

    def _answer(self, path: str, headers) -> tuple[int, bytes, dict[str, str]]:
        as_json = {"Content-Type": "application/json"}
        if headers.get("username") != USER or headers.get("hash_value") != TOKEN:
            body = {"status": "fail", "status_code": 401, "message": "Unauthorized access"}
            return 401, json.dumps(body).encode(), as_json
        if path in self.override:
            status, body = self.override[path]
            return status, body, as_json
        if path == "/listAsOfDates":
            return 200, envelope(self.dates), as_json
        if path.startswith("/downloads/listAvailabilityData/"):
            date = path.rsplit("/", 1)[1]
            return 200, envelope(self.listings.get(date, [])), as_json
        if path.startswith("/downloads/downloadFile/availability/"):
            file_id = path.rsplit("/", 1)[1]
            if file_id in self.files:
                return 200, self.files[file_id], {
                    "Content-Type": "application/zip",
                    "Content-Disposition": f'attachment; filename="bdc_{file_id}.csv.zip"'}
        return 405, b"Method Not Available", {"Content-Type": "text/plain"}

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        path = parts.path.removeprefix(ROOT)
        with self._lock:
            self.log.append({"time": time.monotonic(), "path": parts.path,
                             "query": parse_qs(parts.query),
                             "headers": dict(handler.headers.items())})
            status, body, headers = self._answer(path, handler.headers)
        handler.send_response(status)
        handler.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)
        handler.close_connection = True

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def fcc():
    fake = FakeFcc()
    with am.settings.override(fcc_api_url=fake.base, fcc_username=USER, fcc_api_token=TOKEN,
                              fcc_requests_per_minute=1e6):
        yield fake
    fake.close()


def _all_cache_text(cache: Path) -> list[str]:
    """Every cache file's name and (for text files) contents."""
    out = []
    for path in cache.rglob("*"):
        out.append(path.name)
        if path.is_file() and path.suffix in (".json", ".txt", ".csv"):
            out.append(path.read_text("utf-8", "replace"))
    return out


# --- dates, filtering, order, record -----------------------------------------------------------

def test_latest_availability_date_and_filtering(fcc):
    files = am.download_bdc(states=["tx"], technologies=[50, 40])
    assert files.record["as_of_date"] == LATEST  # not the newer challenge date
    assert files.record["file_ids"] == ["1001", "1002"]  # cable (40) before fiber (50)
    assert files.record["file_names"] == ["bdc_48_Cable_fixed_broadband_D24_08may2025",
                                          "bdc_48_Fiber_fixed_broadband_D24_08may2025"]
    assert fcc.paths() == ["/listAsOfDates", f"/downloads/listAvailabilityData/{LATEST}",
                           "/downloads/downloadFile/availability/1001",
                           "/downloads/downloadFile/availability/1002"]
    listing_query = fcc.log[1]["query"]
    assert listing_query == {"category": ["State"], "technology_type": ["Fixed Broadband"]}
    assert [p.read_bytes() for p in files] == [fcc.files["1001"], fcc.files["1002"]]
    assert isinstance(files, list)
    assert all(isinstance(p, Path) for p in files)


def test_filters_category_fixed_and_state_without_technologies(fcc):
    files = am.download_bdc(states="48")  # FIPS; every fixed technology
    # copper (10), cable (40), fiber (50); not mobile 1004, provider 1005, summary 1006, NM 3001
    assert files.record["file_ids"] == ["1003", "1001", "1002"]
    assert files.record["technologies"] is None
    assert files.record["states"] == ["48"]
    both = am.download_bdc(states=["NM", "Tx"], technologies=["50"])
    assert both.record["file_ids"] == ["3001", "1002"]  # state 35 before 48
    assert [f["state_fips"] for f in both.record["files"]] == ["35", "48"]


def test_given_as_of_date_skips_the_date_list(fcc):
    files = am.download_bdc(states=["TX"], as_of="2024-06-30")
    assert files.record["as_of_date"] == "2024-06-30"
    assert files.record["file_ids"] == ["901"]
    assert "/listAsOfDates" not in fcc.paths()


def test_latest_in_any_case_and_a_date_object(fcc):
    import datetime as dt

    assert am.download_bdc(states=["TX"], as_of="Latest").record["as_of_date"] == LATEST
    dated = am.download_bdc(states=["TX"], as_of=dt.date(2024, 6, 30))
    assert dated.record["file_ids"] == ["901"]


def test_record_is_plain_json_without_credentials(fcc):
    files = am.download_bdc(states=["TX"], technologies=[40])
    text = json.dumps(files.record)
    assert USER not in text
    assert TOKEN not in text
    assert files.record["files"][0]["path"] == str(files[0])
    assert files.record["source"].startswith("FCC Broadband Data Collection")


def test_a_state_without_files_is_an_error_before_any_download(fcc):
    with pytest.raises(am.errors.DownloadError, match=r"state FIPS 35") as info:
        am.download_bdc(states=["TX", "NM"], technologies=[40])
    assert "technology codes [40]" in str(info.value)
    assert not [p for p in fcc.paths() if "downloadFile" in p]


@pytest.mark.parametrize(("kwargs", "error"), [
    ({"states": ["TX"], "technologies": [99]}, am.errors.ConfigError),
    ({"states": ["TX"], "as_of": "June 2024"}, am.errors.ConfigError),
    ({"states": ["ZZ"]}, am.errors.GeoidError),
    ({"states": []}, am.errors.ConfigError),
])
def test_bad_options_fail_before_any_request(fcc, kwargs, error):
    with pytest.raises(error):
        am.download_bdc(**kwargs)
    assert fcc.log == []


# --- credentials -----------------------------------------------------------------------------

def test_credentials_sent_as_headers_on_every_request(fcc):
    am.download_bdc(states=["TX"], technologies=[40])
    assert len(fcc.log) == 3
    for entry in fcc.log:
        headers = {k.lower(): v for k, v in entry["headers"].items()}
        assert headers["username"] == USER
        assert headers["hash_value"] == TOKEN
        assert headers["user-agent"] == am.settings.user_agent
        assert "authorization" not in headers


@pytest.mark.parametrize("missing", [["fcc_username"], ["fcc_api_token"],
                                     ["fcc_username", "fcc_api_token"]])
def test_missing_credentials_fail_before_any_request(fcc, missing):
    with (
        am.settings.override(**dict.fromkeys(missing)),
        pytest.raises(am.errors.ConfigError) as info,
    ):
        am.download_bdc(states=["TX"])
    message = str(info.value)
    assert f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set" in message
    assert "ASSETMAP_FCC_USERNAME" in message
    assert "ASSETMAP_FCC_API_TOKEN" in message
    assert fcc.log == []


def test_refused_credentials_say_so_and_cache_nothing(fcc):
    wrong = "WRONG-token-123456789"
    with (
        am.settings.override(fcc_api_token=wrong),
        pytest.raises(am.errors.DownloadError, match="refused the credentials") as info,
    ):
        am.download_bdc(states=["TX"])
    message = str(info.value)
    assert "HTTP 401" in message
    assert "ASSETMAP_FCC_API_TOKEN" in message
    assert wrong not in message
    assert USER not in message
    assert len(fcc.log) == 1  # not retried
    http = Path(am.settings.cache_dir) / "http"
    assert not http.exists() or not any(http.iterdir())


def test_refused_file_download_names_the_file(fcc):
    fcc.override["/downloads/downloadFile/availability/1001"] = (403, b'{"status":"fail"}')
    with pytest.raises(am.errors.DownloadError, match="HTTP 403") as info:
        am.download_bdc(states=["TX"], technologies=[40])
    assert "1001" in str(info.value)


def test_token_never_reaches_cache_messages_or_logs(fcc, caplog):
    caplog.set_level(logging.DEBUG)
    files = am.download_bdc(states=["TX"], technologies=[40, 50])
    cache = Path(am.settings.cache_dir)
    texts = _all_cache_text(cache)
    assert len(texts) > 6  # two listings and two zips, each with a sidecar
    assert not [t for t in texts if TOKEN in t or USER in t]
    assert all(len(p.stem) == 64 for p in files)  # sha256 names, no credentials
    assert TOKEN not in caplog.text
    assert USER not in caplog.text
    assert TOKEN not in repr(am.settings)
    assert USER not in repr(am.settings)
    # the key holds no credentials: another token finds the same cached files
    with am.settings.override(fcc_api_token="another-token"):
        fcc.log.clear()
        with pytest.raises(am.errors.DownloadError, match="refused"):
            am.download_bdc(states=["TX"], technologies=[40, 50])  # listings are asked again
    assert cached_path(f"{fcc.base}/downloads/downloadFile/availability/1001") == files[0]


def test_token_in_an_error_body_is_redacted(fcc):
    fcc.override["/downloads/downloadFile/availability/1001"] = (
        404, json.dumps({"message": f"no file for {USER} / {TOKEN}"}).encode())
    with pytest.raises(am.errors.DownloadError) as info:
        am.download_bdc(states=["TX"], technologies=[40])
    assert "HTTP 404" in str(info.value)
    assert TOKEN not in str(info.value)
    assert USER not in str(info.value)
    assert "REDACTED" in str(info.value)


# --- throttle ---------------------------------------------------------------------------------

def test_throttle_spaces_requests(fcc):
    with am.settings.override(fcc_requests_per_minute=120):  # 0.5 s apart
        am.download_bdc(states=["TX"], technologies=[40, 50])
    starts = [entry["time"] for entry in fcc.log]
    assert len(starts) == 4
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert min(gaps) >= 0.45, gaps
    assert max(gaps) < 2.0, gaps  # it sleeps only what is needed


def test_cached_files_are_not_throttled(fcc):
    am.download_bdc(states=["TX"], technologies=[40, 50])
    fcc.log.clear()
    began = time.monotonic()
    with am.settings.override(fcc_requests_per_minute=120):
        again = am.download_bdc(states=["TX"], technologies=[40, 50])
    assert fcc.paths() == ["/listAsOfDates", f"/downloads/listAvailabilityData/{LATEST}"]
    assert time.monotonic() - began < 2.0  # one 0.5 s wait (between the listings), not three
    assert again.record["file_ids"] == ["1001", "1002"]


def test_a_high_limit_is_not_slow(fcc):
    began = time.monotonic()
    am.download_bdc(states=["TX", "NM"])  # 2 listings + 4 files: 30 s at the FCC's 10/min
    assert time.monotonic() - began < 5.0
    assert len(fcc.log) == 6


def test_throttle_with_a_fake_clock():
    now = [100.0]
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    throttle = _fcc_api.Throttle(clock=lambda: now[0], sleep=sleep)
    assert throttle.wait(10) == 0.0  # the first request never waits
    now[0] += 2.0
    assert throttle.wait(10) == pytest.approx(4.0)  # 6 s after the first start
    now[0] += 10.0  # a long download: no wait after it
    assert throttle.wait(10) == 0.0
    assert slept == [pytest.approx(4.0)]
    assert throttle.wait(120) == pytest.approx(0.5)


# --- offline, bad bodies, the zip loads -------------------------------------------------------

def test_offline_serves_the_cache_without_credentials(fcc):
    first = am.download_bdc(states=["TX"], technologies=[40])
    fcc.log.clear()
    with am.settings.override(offline=True, fcc_username=None, fcc_api_token=None):
        again = am.download_bdc(states=["TX"], technologies=[40])
    assert list(again) == list(first)
    assert again.record["as_of_date"] == LATEST
    assert fcc.log == []


def test_offline_without_cache_raises_offline_error(fcc):
    with (
        am.settings.override(offline=True),
        pytest.raises(am.errors.OfflineError, match="listAsOfDates"),
    ):
        am.download_bdc(states=["TX"])
    assert fcc.log == []


def test_offline_with_listings_but_not_the_file(fcc):
    am.download_bdc(states=["TX"], technologies=[40])
    with (
        am.settings.override(offline=True),
        pytest.raises(am.errors.OfflineError, match="1002"),
    ):
        am.download_bdc(states=["TX"], technologies=[40, 50])


@pytest.mark.parametrize("body", [
    pytest.param(lambda good: good[: len(good) // 2], id="truncated-zip"),
    pytest.param(lambda good: b'{"status": "fail", "message": "file not ready"}', id="json"),
    pytest.param(lambda good: b"<html><title>Service Unavailable</title></html>", id="html"),
])
def test_a_bad_download_names_the_file_id_and_is_not_cached(fcc, body):
    path = "/downloads/downloadFile/availability/1002"
    fcc.override[path] = (200, body(fcc.files["1002"]))
    with pytest.raises(am.errors.DownloadError, match="1002") as info:
        am.download_bdc(states=["TX"], technologies=[40, 50])
    assert "nothing was cached" in str(info.value)
    assert cached_path(fcc.base + path) is None
    assert cached_path(f"{fcc.base}/downloads/downloadFile/availability/1001")


def test_server_errors_are_retried_a_bounded_number_of_times(fcc):
    path = "/downloads/downloadFile/availability/1001"
    fcc.override[path] = (500, b"busy")
    with (
        am.settings.override(max_retries=2),
        pytest.raises(am.errors.DownloadError, match=r"1001.*HTTP 500.*3 attempt"),
    ):
        am.download_bdc(states=["TX"], technologies=[40])
    assert fcc.paths().count(path) == 3  # bounded


def test_downloaded_zips_load_with_load_bdc(fcc):
    files = am.download_bdc(states=["TX"], technologies=[40, 50])
    avail = am.load_bdc(files)
    assert sorted(avail["technology"].unique().tolist()) == [40, 50]
    assert sorted(avail["location_id"]) == ["10011", "10012", "10021", "10022"]
    assert am.get_report(avail)["rows_read"] == 4


def test_dest_gets_the_fcc_file_names(fcc, tmp_path):
    dest = tmp_path / "bdc"
    files = am.download_bdc(states=["TX"], technologies=[40, 50], dest=dest)
    assert [p.name for p in files] == ["bdc_48_Cable_fixed_broadband_D24_08may2025.zip",
                                       "bdc_48_Fiber_fixed_broadband_D24_08may2025.zip"]
    assert all(p.parent == dest for p in files)
    assert sorted(p.name for p in dest.iterdir()) == [p.name for p in files]  # no temp files
    assert files[1].read_bytes() == fcc.files["1002"]
    avail = am.load_bdc(dest / "*.zip", states=["TX"])
    assert len(avail) == 4
    again = am.download_bdc(states=["TX"], technologies=[40, 50], dest=dest)
    assert list(again) == list(files)


def test_unsafe_file_names_stay_in_dest(fcc, tmp_path):
    row = listing_row(1001, "48", "Texas", "40", "Cable", name="../../etc/evil name")
    fcc.listings[LATEST] = [row]
    files = am.download_bdc(states=["TX"], dest=tmp_path / "bdc")
    assert files[0].parent == tmp_path / "bdc"
    assert files[0].name == "etc_evil_name.zip"


# --- settings ---------------------------------------------------------------------------------

def test_fcc_settings_from_the_environment_and_validated():
    s = Settings(environ={"ASSETMAP_FCC_USERNAME": USER, "ASSETMAP_FCC_API_TOKEN": TOKEN,
                          "ASSETMAP_FCC_API_URL": "http://127.0.0.1:9/api/public/map/",
                          "ASSETMAP_FCC_REQUESTS_PER_MINUTE": "5"})
    assert (s.fcc_username, s.fcc_api_token) == (USER, TOKEN)
    assert s.fcc_api_url == "http://127.0.0.1:9/api/public/map"
    assert s.fcc_requests_per_minute == 5
    assert TOKEN not in repr(s)
    assert USER not in repr(s)
    default = Settings(environ={})
    assert default.fcc_api_url == "https://broadbandmap.fcc.gov/api/public/map"
    assert default.fcc_requests_per_minute == 10
    assert default.fcc_username is None
    assert default.fcc_api_token is None
    with pytest.raises(am.errors.ConfigError, match="fcc_requests_per_minute"):
        default.fcc_requests_per_minute = 0
    with pytest.raises(am.errors.ConfigError, match="URL"):
        default.fcc_api_url = "broadbandmap.fcc.gov"
    with pytest.raises(am.errors.ConfigError, match="ASSETMAP_FCC_REQUESTS_PER_MINUTE"):
        Settings(environ={"ASSETMAP_FCC_REQUESTS_PER_MINUTE": "ten"})
