"""The offline equity map in a real headless Chromium, served from 127.0.0.1.

Needs Debian's ``chromium`` and ``chromedriver`` (``scripts/ensure_chromium.sh`` installs them).
Without them the tests are skipped, except in CI (``CI=true``), where they fail. The screenshot
goes to ``$ASSETMAP_ARTIFACTS`` (default ``tests/artifacts/``), kept by CI as an artifact.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/ helper modules
import outputs_fixtures as fx

from assetmap.outputs.interactive import equity_map

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
MISSING = "chromium/chromedriver not installed (scripts/ensure_chromium.sh installs them)"
INSTALLED = Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    # off a CI machine, a missing browser skips these tests; in CI (CI=true) they run and fail
    pytest.mark.skipif(not INSTALLED and os.environ.get("CI") != "true", reason=MISSING),
]
ARTIFACTS = Path(os.environ.get("ASSETMAP_ARTIFACTS", Path(__file__).parent / "artifacts"))


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    handler = functools.partial(_QuietHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def make_driver(tmp_path: Path):
    """Return a headless Chromium driver, or skip (fail in CI) when it is not installed."""
    if not INSTALLED:  # reached only in CI, where the browser is required
        pytest.fail(MISSING)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,900",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


@pytest.fixture(scope="module")
def page(server, tmp_path_factory):
    root, base = server
    scored = fx.scored_ector()
    sites = fx.sites_ector(names=["<script>alert(1)</script>", *fx.XSS_PAYLOADS[1:]])
    m = equity_map(
        scored,
        sites=sites,
        schools=fx.schools_ector(),
        district=fx.ector_county(),
        title="Ector County <b>priority</b>",
        tiles=None,
        offline=True,
    )
    m.save(str(root / "map.html"))
    driver = make_driver(tmp_path_factory.mktemp("browser"))
    try:
        driver.set_page_load_timeout(60)
        driver.get(f"{base}/map.html")
        yield driver, scored, sites
    finally:
        driver.quit()


def _count(driver, selector: str) -> int:
    return driver.execute_script(f"return document.querySelectorAll({selector!r}).length")


def _wait(driver, condition, timeout: float = 20):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(condition)


def test_map_renders_one_path_per_tract_with_legend_and_layer_control(page):
    driver, scored, sites = page
    _wait(driver, lambda d: _count(d, "path.am-priority") == len(scored))
    assert _count(driver, "path.am-priority") == len(scored)
    assert _count(driver, ".leaflet-control-layers") == 1
    legend = driver.find_element("css selector", ".am-legend")
    assert "Priority (index 0-100, higher = more need)" in legend.text
    assert _count(driver, ".am-site") == len(sites)
    assert driver.find_element("css selector", ".am-title").text.startswith(
        "Ector County <b>priority</b>"
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "browser_equity_map.png"
    assert driver.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")


def test_toggling_a_layer_changes_what_is_drawn(page):
    driver, scored, _ = page
    _wait(driver, lambda d: _count(d, "path.am-priority") == len(scored))
    assert _count(driver, "path.am-fiber_share") == 0
    labels = driver.find_elements("css selector", ".leaflet-control-layers-overlays label")
    fiber = next(lab for lab in labels if "Fiber presence (tract share)" in lab.text)
    fiber.find_element("css selector", "input").click()
    _wait(driver, lambda d: _count(d, "path.am-fiber_share") == len(scored))
    section = driver.find_element("css selector", ".am-legend-section:nth-child(2)")
    assert section.is_displayed()
    assert "Fiber presence" in section.text
    priority = next(lab for lab in labels if lab.text.strip() == "Priority")
    priority.find_element("css selector", "input").click()
    _wait(driver, lambda d: _count(d, "path.am-priority") == 0)


def test_a_popup_shows_a_script_name_as_text(page):
    from selenium.common.exceptions import NoAlertPresentException

    driver, _, _ = page
    driver.execute_script("document.querySelector('.am-site').click()")
    _wait(driver, lambda d: _count(d, ".leaflet-popup-content") == 1)
    # textContent, not .text: the popup fades in, and .text is empty while it is transparent.
    # Tags that show up in textContent were rendered as text, not parsed as HTML.
    text = driver.execute_script(
        "return document.querySelector('.leaflet-popup-content').textContent"
    )
    assert "<script>alert(1)</script>" in text
    assert "Needs a connectivity fix first" in text
    assert _count(driver, ".leaflet-popup-content script") == 0
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text  # noqa: B018 - reading it is the check


def test_no_javascript_errors_after_all_the_interaction(page):
    driver, scored, _ = page
    _wait(driver, lambda d: _count(d, "path.am-tract") >= len(scored))
    errors = [
        entry
        for entry in driver.get_log("browser")
        if entry["level"] == "SEVERE" and "favicon.ico" not in entry["message"]
    ]
    assert errors == []
