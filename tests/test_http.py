"""The download layer against a real HTTP server on 127.0.0.1: every fault of issue 3."""

from __future__ import annotations

import io
import json
import logging
import os
import time
import zipfile
from pathlib import Path

import pytest

import assetmap as am
from assetmap import _http  # internal: the download layer itself, with any URL
from assetmap.errors import DownloadError, OfflineError
from tests.http_fixtures import FaultServer, Reply, tiger_tract_zip

ZIP = "application/zip"


@pytest.fixture
def server():
    running = FaultServer()
    yield running
    running.close()


@pytest.fixture(scope="module")
def tract_zip() -> bytes:
    return tiger_tract_zip()


def cache_files() -> list[str]:
    root = Path(am.settings.cache_dir) / "http"
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def test_success_caches_body_and_sidecar(server, tract_zip):
    url = server.route("/TIGER2020/TRACT/tl_2020_48_tract.zip",
                             Reply(body=tract_zip, headers={"Content-Type": ZIP}))
    path = _http.fetch(url, expect="zip", description="tracts")
    assert path.read_bytes() == tract_zip
    assert path.suffix == ".zip"
    assert path.parent == Path(am.settings.cache_dir) / "http"
    meta = json.loads(path.with_name(path.name.replace(".zip", ".meta.json")).read_text())
    assert meta["url"] == url
    assert meta["size"] == len(tract_zip)
    import hashlib

    assert meta["sha256"] == hashlib.sha256(tract_zip).hexdigest()
    assert meta["content_type"] == ZIP
    assert server.hits("/TIGER2020/TRACT/tl_2020_48_tract.zip") == 1
    with zipfile.ZipFile(path) as archive:
        assert "tl_2020_48_tract.shp" in archive.namelist()


def test_cache_hit_makes_no_request(server, tract_zip):
    url = server.route("/a.zip", Reply(body=tract_zip))
    first = _http.fetch(url, expect="zip")
    second = _http.fetch(url, expect="zip")
    assert first == second
    assert server.hits("/a.zip") == 1


def test_cache_false_downloads_again(server):
    url = server.route("/v.csv", Reply(body=b"a,b\n1,2\n"), Reply(body=b"a,b\n3,4\n"))
    assert _http.fetch(url, expect="csv").read_bytes() == b"a,b\n1,2\n"
    assert _http.fetch(url, expect="csv", cache=False).read_bytes() == b"a,b\n3,4\n"
    assert server.hits("/v.csv") == 2


def test_offline_hit_serves_cache_without_request(server, tract_zip):
    url = server.route("/b.zip", Reply(body=tract_zip))
    path = _http.fetch(url, expect="zip")
    with am.settings.override(offline=True):
        assert _http.fetch(url, expect="zip") == path
    assert server.hits("/b.zip") == 1


def test_offline_miss_raises_naming_url(server):
    url = server.route("/never.zip", Reply(body=b"PK"))
    with am.settings.override(offline=True), pytest.raises(OfflineError, match=r"never\.zip"):
        _http.fetch(url, expect="zip")
    assert server.hits("/never.zip") == 0


def test_500_then_success_is_retried(server, tract_zip):
    url = server.route("/c.zip", Reply(500, b"boom"), Reply(body=tract_zip))
    assert _http.fetch(url, expect="zip").read_bytes() == tract_zip
    assert server.hits("/c.zip") == 2


def test_retries_are_bounded(server):
    url = server.route("/down.json", Reply(503, b"busy"))
    with am.settings.override(max_retries=2), pytest.raises(DownloadError) as info:
        _http.fetch(url, expect="json")
    assert server.hits("/down.json") == 3
    assert "HTTP 503" in str(info.value)
    assert "3 attempt" in str(info.value)
    assert cache_files() == []


def test_429_honours_retry_after(server):
    url = server.route("/d.json", Reply(429, b"slow down", {"Retry-After": "1"}),
                             Reply(body=b'[["NAME"]]'))
    start = time.monotonic()
    path = _http.fetch(url, expect="json")
    elapsed = time.monotonic() - start
    assert json.loads(path.read_text()) == [["NAME"]]
    assert elapsed >= 0.9  # conftest's backoff is 0.01 s, so only Retry-After explains this
    assert server.hits("/d.json") == 2


def test_4xx_is_not_retried(server):
    url = server.route("/missing.zip", Reply(404, b"no such file"))
    with pytest.raises(DownloadError, match=r"HTTP 404.*no such file"):
        _http.fetch(url, expect="zip")
    assert server.hits("/missing.zip") == 1


def test_read_timeout_then_success(server):
    url = server.route("/slow.csv", Reply(body=b"a\n1\n", delay=1.0), Reply(body=b"a\n2\n"))
    with am.settings.override(timeout=0.3):
        assert _http.fetch(url, expect="csv").read_bytes() == b"a\n2\n"
    assert server.hits("/slow.csv") == 2


def test_read_timeout_gives_up_with_clear_error(server):
    url = server.route("/stuck.csv", Reply(body=b"a\n1\n", delay=1.0))
    with am.settings.override(timeout=0.3, max_retries=1), pytest.raises(DownloadError) as info:
        _http.fetch(url, expect="csv")
    assert "timed out" in str(info.value)
    assert "/stuck.csv" in str(info.value)
    assert cache_files() == []


def test_truncated_body_is_refused_and_not_cached(server, tract_zip):
    url = server.route("/short.zip", Reply(body=tract_zip, send=len(tract_zip) // 2))
    with am.settings.override(max_retries=1), pytest.raises(DownloadError) as info:
        _http.fetch(url, expect="zip")
    message = str(info.value)
    assert "/short.zip" in message
    assert "shorter" in message
    assert f"{len(tract_zip):,}" in message
    assert cache_files() == []


def test_truncated_body_then_full_body(server, tract_zip):
    url = server.route("/short2.zip", Reply(body=tract_zip, send=1000), Reply(body=tract_zip))
    assert _http.fetch(url, expect="zip").read_bytes() == tract_zip
    assert server.hits("/short2.zip") == 2


def test_html_page_instead_of_zip(server):
    page = b"<!DOCTYPE html><html><head><title>Access Denied</title></head><body/></html>"
    url = server.route("/e.zip", Reply(body=page, headers={"Content-Type": "text/html"}))
    with pytest.raises(DownloadError, match=r"/e\.zip.*HTML page.*Access Denied"):
        _http.fetch(url, expect="zip")
    assert server.hits("/e.zip") == 1
    assert cache_files() == []


def test_corrupt_zip_is_refused(server):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("tl_2020_48_tract.dbf", os.urandom(2000) + bytes(20000))
    raw = bytearray(buffer.getvalue())
    for offset in range(200, 260):  # inside the compressed data of the only member
        raw[offset] ^= 0xFF
    url = server.route("/bad.zip", Reply(body=bytes(raw)))
    with pytest.raises(DownloadError, match=r"/bad\.zip.*zip file (is corrupt|does not open)"):
        _http.fetch(url, expect="zip")
    assert cache_files() == []


def test_invalid_json_is_refused(server):
    url = server.route("/f.json", Reply(body=b'[["NAME", "B01003_001E"], ["x"'))
    with pytest.raises(DownloadError, match=r"/f\.json.*not valid JSON"):
        _http.fetch(url, expect="json")
    assert cache_files() == []


def test_keyboard_interrupt_mid_download_leaves_nothing(server, monkeypatch):
    body = os.urandom(400_000)
    url = server.route("/big.bin", Reply(body=body))
    seen: list[int] = []

    def interrupt(url: str, so_far: int) -> None:
        seen.append(so_far)
        if so_far >= 64 * 1024:
            raise KeyboardInterrupt

    monkeypatch.setattr(_http, "_CHUNK_HOOKS", [interrupt])
    with pytest.raises(KeyboardInterrupt):
        _http.fetch(url)
    assert seen
    assert seen[-1] < len(body)
    assert cache_files() == []  # no entry, no sidecar, no temporary file
    monkeypatch.setattr(_http, "_CHUNK_HOOKS", [])
    assert _http.fetch(url).read_bytes() == body


def test_corrupted_cache_file_is_detected_and_refetched(server, tract_zip, caplog):
    url = server.route("/g.zip", Reply(body=tract_zip))
    path = _http.fetch(url, expect="zip")
    damaged = bytearray(path.read_bytes())
    damaged[5000] ^= 0xFF  # same size, different content
    path.write_bytes(bytes(damaged))
    with caplog.at_level(logging.WARNING, logger="assetmap._http"):
        again = _http.fetch(url, expect="zip")
    assert again.read_bytes() == tract_zip
    assert server.hits("/g.zip") == 2
    assert "corrupted" in caplog.text


def test_truncated_cache_file_is_refetched(server, tract_zip):
    url = server.route("/h.zip", Reply(body=tract_zip))
    path = _http.fetch(url, expect="zip")
    path.write_bytes(tract_zip[:100])
    assert _http.fetch(url, expect="zip").read_bytes() == tract_zip
    assert server.hits("/h.zip") == 2


def test_size_limit_refused_from_content_length(server, tract_zip):
    url = server.route("/huge.zip", Reply(body=tract_zip))
    with am.settings.override(max_download_bytes=1000), pytest.raises(
        DownloadError, match="max_download_bytes"
    ):
        _http.fetch(url, expect="zip")
    assert server.hits("/huge.zip") == 1


def test_size_limit_enforced_while_streaming(server):
    url = server.route("/stream.bin", Reply(body=os.urandom(300_000), no_length=True))
    with am.settings.override(max_download_bytes=100_000), pytest.raises(
        DownloadError, match="while downloading"
    ):
        _http.fetch(url)
    assert cache_files() == []


def test_api_key_is_never_shown(server):
    url = server.route("/data/2023/acs/acs5", Reply(400, b"error: unknown variable"))
    with pytest.raises(DownloadError) as info:
        _http.fetch(url, params={"get": "NAME", "key": "SECRET123"}, expect="json")
    assert "SECRET123" not in str(info.value)
    assert "key=REDACTED" in str(info.value)
    assert "unknown variable" in str(info.value)
    assert "key=SECRET123" in server.queries("/data/2023/acs/acs5")[0]


def test_api_key_not_in_cache_files(server):
    url = server.route("/data/2023/acs/acs5", Reply(body=b'[["NAME"]]'))
    path = _http.fetch(url, params={"get": "NAME", "key": "SECRET123"}, expect="json")
    for name in cache_files():
        assert "SECRET123" not in name
        assert "SECRET123" not in (path.parent / name).read_text()
    # a different key reuses the same entry
    _http.fetch(url, params={"get": "NAME", "key": "OTHER"}, expect="json")
    assert server.hits("/data/2023/acs/acs5") == 1


def test_post_bodies_are_part_of_the_key(server):
    url = server.route("/geocoder", Reply(body=b"1,ok\n"))
    _http.fetch(url, method="POST", files={"addressFile": ("a.csv", b"1,main st")}, expect="csv")
    _http.fetch(url, method="POST", files={"addressFile": ("a.csv", b"1,main st")}, expect="csv")
    _http.fetch(url, method="POST", files={"addressFile": ("a.csv", b"2,elm st")}, expect="csv")
    assert server.hits("/geocoder") == 2


def test_cache_listing_and_clearing(server):
    url = server.route("/i.csv", Reply(body=b"a\n1\n"))
    path = _http.fetch(url, expect="csv")
    entries = _http.cache_entries()
    assert [e["path"] for e in entries] == [str(path)]
    assert entries[0]["url"] == url
    assert _http.clear_cache(older_than_days=1) == 0
    assert _http.clear_cache() == 1
    assert cache_files() == []


def test_retry_after_http_date():
    from assetmap._http_checks import retry_after_seconds  # internal: parser with a set clock

    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412460.0) == 20.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412500.0) == 0.0
    assert retry_after_seconds(None) is None


def test_bad_expect_is_refused():
    with pytest.raises(ValueError, match="expect must be one of"):
        _http.fetch("http://127.0.0.1:9/x", expect="shapefile")


@pytest.mark.network
@pytest.mark.skipif(
    os.environ.get("ASSETMAP_NETWORK_TESTS") != "1",
    reason="touches the real internet; set ASSETMAP_NETWORK_TESTS=1 to run",
)
def test_real_census_download():
    url = "https://www2.census.gov/geo/tiger/GENZ2020/shp/cb_2020_us_state_20m.zip"
    path = _http.fetch(url, expect="zip")
    with zipfile.ZipFile(path) as archive:
        assert "cb_2020_us_state_20m.shp" in archive.namelist()


def test_cached_path_looks_up_without_request(server):
    url = server.route("/j.zip", Reply(body=tiger_tract_zip()))
    assert _http.cached_path(url) is None
    path = _http.fetch(url, expect="zip")
    assert _http.cached_path(url) == path
    path.unlink()
    assert _http.cached_path(url) is None
    assert cache_files() == []  # the orphaned sidecar went too
    assert server.hits("/j.zip") == 1
