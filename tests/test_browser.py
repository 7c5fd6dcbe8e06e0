"""The offline equity map in a real headless Chromium, served from 127.0.0.1.

Needs Debian's ``chromium`` and ``chromedriver`` (``scripts/ensure_chromium.sh`` installs them).
Without them the tests are skipped, except in CI (``CI=true``), where they fail. The screenshot
goes to ``$ASSETMAP_ARTIFACTS`` (default ``tests/artifacts/``), kept by CI as an artifact.

The accessibility tests run axe-core 4 (WCAG 2.0/2.1 A and AA rules) on the demo's map and
report, and check at desktop and phone sizes that no map control covers another; axe-core comes
from the npm registry into ``.cache/axe`` (``scripts/ensure_axe.sh``, run by ``make test``), or
from ``$ASSETMAP_AXE``. Without it those tests are skipped, except in CI, where they fail.
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

import assetmap as am

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
    m = am.equity_map(
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


# --- accessibility (axe-core, WCAG 2.1 A/AA) and layout of the demo's outputs ---------------

ROOT = Path(__file__).resolve().parent.parent
AXE = Path(os.environ.get("ASSETMAP_AXE", ROOT / ".cache/axe/node_modules/axe-core/axe.min.js"))
AXE_MISSING = f"axe-core not found at {AXE} (scripts/ensure_axe.sh installs it; make test runs it)"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
VIEWPORTS = {"desktop_1280x800": (1280, 800, False), "desktop_1920x1080": (1920, 1080, False),
             "desktop_1200x900": (1200, 900, False), "phone_390x844": (390, 844, True)}
# every box that must not cover another: the title, the legend, each Leaflet control
BOXES = """
var out = [];
document.querySelectorAll(".am-title, .leaflet-control").forEach(function (el) {
  var r = el.getBoundingClientRect(), s = getComputedStyle(el);
  if (r.width > 0 && r.height > 0 && s.display !== "none" && s.visibility !== "hidden") {
    out.push({name: el.className.split(" ").filter(function (c) {
      return c !== "leaflet-control"; })[0] || el.className,
      left: r.left, top: r.top, right: r.right, bottom: r.bottom});
  }
});
return out;
"""


@pytest.fixture(scope="module")
def demo(server):
    """The demo's outputs (``assetmap demo --offline``), served next to the test map."""
    from assetmap.cli import main  # internal: the `assetmap` command, tested as main([...])

    root, base = server
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ASSETMAP_OFFLINE", "1")
        assert main(["demo", "--out", str(root / "demo"), "--offline", "-q"]) == 0
    return root / "demo", f"{base}/demo"


@pytest.fixture(scope="module")
def demo_driver(tmp_path_factory):
    driver = make_driver(tmp_path_factory.mktemp("browser-demo"))
    driver.set_page_load_timeout(60)
    driver.execute_cdp_cmd("Network.enable", {})  # the background tiles stay off the network
    driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*tile.openstreetmap.org*"]})
    yield driver
    driver.quit()


def _open(driver, url: str, width: int = 1280, height: int = 900, mobile: bool = False):
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})
    driver.get(url)
    _wait(driver, lambda d: d.execute_script("return document.readyState") == "complete")


def _axe(driver) -> list[dict]:
    """Run axe-core on the open page; return its violations (rule, impact, nodes)."""
    if not AXE.exists():  # `make test` installs it first: missing means the check did not run
        pytest.fail(AXE_MISSING)
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    driver.set_script_timeout(60)
    result = driver.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
        ".then(function (r) { done(r.violations.map(function (v) { return {id: v.id,"
        " impact: v.impact, nodes: v.nodes.map(function (n) { return n.target.join(' '); })};"
        " })); }, function (e) { done([{id: 'axe-error', impact: 'critical',"
        " nodes: [String(e)]}]); });",
        AXE_TAGS,
    )
    print({v["id"]: (v["impact"], len(v["nodes"])) for v in result})
    return result


def _demo_map(demo) -> str:
    return f"{demo[1]}/ector_county_equity_map.html"


@pytest.mark.parametrize("page_name", ["ector_county_equity_map.html", "ector_county_report.html"])
def test_axe_finds_no_serious_violation_in_the_demo_outputs(demo, demo_driver, page_name):
    _open(demo_driver, f"{demo[1]}/{page_name}")
    if page_name.endswith("map.html"):
        _wait(demo_driver, lambda d: _count(d, "path.am-priority") > 0)
    violations = _axe(demo_driver)
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert serious == []


@pytest.fixture(scope="module")
def demo_es(server, tmp_path_factory):
    """The demo's map in Spanish (offline), as a Spanish study writes it, served by the test."""
    from test_map_spanish import TITLE, demo_layers, spanish_demo

    root, base = server
    result, scored = spanish_demo(tmp_path_factory.mktemp("demo-es"))
    folder = root / "demo_es"
    folder.mkdir(exist_ok=True)
    am.equity_map(scored, title=TITLE, language="es", offline=True,
                  **demo_layers(result)).save(str(folder / "map.html"))
    return f"{base}/demo_es/map.html"


# Leaflet's and the plugins' buttons, by selector, as a Spanish reader hears them
SPANISH_BUTTONS = """
return [".leaflet-control-zoom-in", ".leaflet-control-zoom-out",
        ".leaflet-control-layers-toggle", ".leaflet-control-zoom-fullscreen",
        "[class*=minimap-toggle-display]", ".am-data summary"].map(
  function (sel) { var el = document.querySelector(sel);
    return el ? (el.getAttribute("aria-label") || el.title || el.textContent.trim()) : null; });
"""


def test_axe_finds_no_serious_violation_in_the_spanish_map(demo_es, demo_driver):
    _open(demo_driver, demo_es)
    _wait(demo_driver, lambda d: _count(d, "path.am-priority") > 0)
    assert demo_driver.execute_script("return document.documentElement.lang") == "es"
    violations = _axe(demo_driver)
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert serious == []
    assert demo_driver.execute_script(SPANISH_BUTTONS) == [
        "Acercar", "Alejar", "Capas", "Pantalla completa", "Ocultar minimapa", "Ver como tabla"]
    demo_driver.execute_script("document.querySelector('.am-site').click()")
    _wait(demo_driver, lambda d: _count(d, ".leaflet-popup-close-button") == 1)
    close = demo_driver.execute_script(
        "return document.querySelector('.leaflet-popup-close-button').getAttribute('aria-label')")
    assert close == "Cerrar ventana emergente"


@pytest.fixture(scope="module")
def demo_es_report(server):
    """The demo built as `assetmap demo --language es` builds it, served by the test."""
    from assetmap.pipeline import run_demo

    root, base = server
    run_demo(root / "demo_es_study", language="es")
    return f"{base}/demo_es_study/ector_county_report.html"


def test_axe_finds_no_serious_violation_in_the_spanish_report(demo_es_report, demo_driver):
    _open(demo_driver, demo_es_report)
    assert demo_driver.execute_script("return document.documentElement.lang") == "es"
    violations = _axe(demo_driver)
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert serious == []
    assert "Cifras principales" in demo_driver.execute_script("return document.body.innerText")


def _overlaps(boxes: list[dict]) -> list[tuple[str, str]]:
    pairs = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if (min(a["right"], b["right"]) - max(a["left"], b["left"]) > 0.5
                    and min(a["bottom"], b["bottom"]) - max(a["top"], b["top"]) > 0.5):
                pairs.append((a["name"], b["name"]))
    return pairs


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_no_control_covers_another_at_desktop_and_phone_sizes(demo, demo_driver, viewport):
    width, height, mobile = VIEWPORTS[viewport]
    _open(demo_driver, _demo_map(demo), width, height, mobile)
    _wait(demo_driver, lambda d: _count(d, "path.am-priority") > 0)
    boxes = demo_driver.execute_script(BOXES)
    names = {box["name"] for box in boxes}
    for expected in ("am-title", "am-legend", "leaflet-control-layers",
                     "leaflet-control-attribution"):
        assert expected in names, (expected, names)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / f"a11y_equity_map_{viewport}.png"
    assert demo_driver.save_screenshot(str(shot))
    print(f"screenshot: {shot}")
    outside = [box["name"] for box in boxes if box["left"] < -0.5 or box["top"] < -0.5
               or box["right"] > width + 0.5 or box["bottom"] > height + 0.5]
    assert outside == []
    assert _overlaps(boxes) == []
    # no script error, and nothing the page asks of its own server is missing (tiles come
    # from their host, which the test does not reach)
    errors = [e["message"] for e in demo_driver.get_log("browser") if e["level"] == "SEVERE"
              and "favicon.ico" not in e["message"]
              and (e["source"] != "network" or "127.0.0.1" in e["message"].split(" ")[0])]
    assert errors == []


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_no_control_covers_another_in_the_spanish_map(demo_es, demo_driver, viewport):
    width, height, mobile = VIEWPORTS[viewport]  # Spanish labels run longer than English
    _open(demo_driver, demo_es, width, height, mobile)
    _wait(demo_driver, lambda d: _count(d, "path.am-priority") > 0)
    boxes = demo_driver.execute_script(BOXES)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / f"a11y_equity_map_es_{viewport}.png"
    assert demo_driver.save_screenshot(str(shot))
    print(f"screenshot: {shot}")
    assert {"am-title", "am-legend", "leaflet-control-layers"} <= {b["name"] for b in boxes}
    assert [b["name"] for b in boxes if b["left"] < -0.5 or b["top"] < -0.5
            or b["right"] > width + 0.5 or b["bottom"] > height + 0.5] == []
    assert _overlaps(boxes) == []


def test_the_map_as_tables_lists_every_area_value_and_site(demo, demo_driver):
    from selenium.webdriver.common.keys import Keys

    _open(demo_driver, _demo_map(demo))
    _wait(demo_driver, lambda d: _count(d, "path.am-priority") > 0)
    summary = demo_driver.find_element("css selector", ".am-data summary")
    assert summary.text == "Show as table"
    summary.click()
    panel = demo_driver.find_element("css selector", ".am-data-panel")
    assert panel.is_displayed()
    tables = demo_driver.execute_script(
        "return Array.from(document.querySelectorAll('.am-data-panel table')).map(function (t)"
        " { return {caption: t.caption.textContent, head: Array.from(t.tHead.rows[0].cells)"
        ".map(function (c) { return c.textContent; }), rows: Array.from(t.tBodies[0].rows)"
        ".map(function (r) { return Array.from(r.cells).map(function (c) {"
        " return c.textContent; }); })}; });"
    )
    areas = tables[0]
    assert len(areas["rows"]) == _count(demo_driver, "path.am-priority")
    for theme in ("Priority", "Fiber presence", "Adoption gap", "Need"):
        assert any(label.startswith(theme) for label in areas["head"]), theme
    priority = next(i for i, h in enumerate(areas["head"]) if h.startswith("Priority"))
    assert all(row[priority] for row in areas["rows"])  # a value for every tract
    names = demo_driver.execute_script(
        "return Array.from(document.querySelectorAll('.am-site')).map(function (e) {"
        " return e.getAttribute('aria-label'); });"
    )
    site_rows = next(t["rows"] for t in tables if t["caption"].startswith("Partner sites"))
    assert len(names) == len(site_rows)
    assert sorted(names) == sorted(row[0] for row in site_rows)
    panel.send_keys(Keys.ESCAPE)  # Escape folds the table and gives the focus back
    assert not panel.is_displayed()
    assert demo_driver.switch_to.active_element == summary


def test_escape_closes_popups_and_tooltips_and_every_button_has_a_name(page):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    driver, scored, _ = page
    _wait(driver, lambda d: _count(d, "path.am-tract") >= len(scored))  # any theme shown
    driver.execute_script("document.querySelector('.am-site').click()")
    _wait(driver, lambda d: _count(d, ".leaflet-popup") == 1)
    ActionChains(driver).send_keys(Keys.ESCAPE).perform()
    _wait(driver, lambda d: _count(d, ".leaflet-popup") == 0)
    ActionChains(driver).move_to_element(
        driver.find_elements("css selector", "path.am-tract")[0]).perform()
    _wait(driver, lambda d: _count(d, ".leaflet-tooltip") >= 1)
    ActionChains(driver).send_keys(Keys.ESCAPE).perform()
    _wait(driver, lambda d: _count(d, ".leaflet-tooltip") == 0)
    unnamed = driver.execute_script(
        "return Array.from(document.querySelectorAll('[role=button], button, a[href]'))"
        ".filter(function (e) { return !(e.getAttribute('aria-label') || e.title"
        " || e.textContent.trim()); }).map(function (e) { return e.outerHTML.slice(0, 80); });"
    )
    assert unnamed == []
    regions = driver.execute_script(
        "return Array.from(document.querySelectorAll('.am-legend, .am-data-panel,"
        " .leaflet-control-layers-list')).map(function (e) { return [e.tabIndex,"
        " e.getAttribute('aria-label')]; });"
    )
    assert regions
    assert all(tab == 0 and label for tab, label in regions)
    driver.execute_script("document.activeElement.blur()")
    ActionChains(driver).send_keys(Keys.TAB).perform()  # the first tab stop shows its focus
    outline = driver.execute_script(
        "var s = getComputedStyle(document.activeElement);"
        "return [document.activeElement.tagName, s.outlineStyle, s.outlineWidth];"
    )
    assert outline[1] != "none" and outline[2] != "0px", outline  # noqa: PT018
    assert driver.execute_script("return document.documentElement.lang") == "en"
    assert driver.title == "Ector County <b>priority</b>"


# --- colour is not the only cue (WCAG 1.4.1, 1.4.11): patterns and class numbers -------------

# each theme layer, switched on in turn: every area's class and fill, and the legend's rows
THEME_MARKS = """
var map = window[Object.keys(window).find(function (k) { return /^map_[0-9a-f]+$/.test(k); })];
return Object.keys(window).filter(function (k) { return /^theme_layer_/.test(k); }).map(
  function (name) {
    var layer = window[name], key = layer.amClassKey, on = map.hasLayer(layer), areas = [];
    if (!on) { map.addLayer(layer); }
    layer.eachLayer(function (l) {
      var fill = l._path.getAttribute("fill"), id = (/^url\\(#(.+)\\)$/.exec(fill) || [])[1];
      var def = id ? document.getElementById(id) : null;
      areas.push([l.feature.properties[key], fill, def ? def.tagName : null]);
    });
    var section = document.querySelector('[data-am-layer="' + name + '"]');
    var rows = Array.from(section.querySelectorAll(".am-row")).map(function (r) {
      var rect = r.querySelector("i rect");
      return [r.textContent.trim(), rect ? rect.getAttribute("fill") : null];
    });
    if (!on) { map.removeLayer(layer); }
    return {name: name, areas: areas, rows: rows};
  });
"""


def _check_marks(layers: list[dict]) -> int:
    """Check each hatched layer: one pattern per class, the legend's numbers and patterns."""
    import re

    hatched = 0
    for layer in layers:
        fills: dict[int, set[str]] = {}
        for number, fill, tag in layer["areas"]:
            if number is not None and number >= 0:
                fills.setdefault(number, set()).add(fill)
                assert tag in (None, "pattern"), layer["name"]  # url(#id) names a <pattern>
        if not any(f.startswith("url(") for fs in fills.values() for f in fs):
            assert not any(re.match(r"\(\d+\) ", text) for text, _ in layer["rows"])
            continue
        hatched += 1
        assert all(len(fs) == 1 for fs in fills.values()), layer["name"]  # one fill per class
        assert len({next(iter(fs)) for fs in fills.values()}) == len(fills)  # all different
        for number, (fill,) in fills.items():
            assert fill.startswith(f"url(#am-hatch-{number}-") or (
                number == 0 and fill.startswith("#")), (layer["name"], number, fill)
        numbered = {int(m.group(1)) - 1: rect for text, rect in layer["rows"]
                    if (m := re.match(r"\((\d+)\) ", text))}
        assert set(fills) <= set(numbered), (layer["name"], layer["rows"])
        for number, rect in numbered.items():  # the legend's swatch: the areas' own pattern
            if number in fills and next(iter(fills[number])).startswith("url("):
                assert rect == next(iter(fills[number])), (layer["name"], number)
    return hatched


def test_each_class_carries_its_pattern_and_legend_number(demo, demo_driver):
    from selenium.webdriver.common.action_chains import ActionChains

    _open(demo_driver, _demo_map(demo))
    _wait(demo_driver, lambda d: _count(d, "path.am-priority") > 0)
    layers = demo_driver.execute_script(THEME_MARKS)
    assert len(layers) >= 8  # tract themes, intervention, evidence, change, zones, H3, challenges
    assert _check_marks(layers) >= 5
    priority = next(x for x in layers if x["rows"][0][0].startswith("(1) "))
    assert [row[0][:4] for row in priority["rows"][:5]] == ["(1) ", "(2) ", "(3) ", "(4) ", "(5) "]
    ActionChains(demo_driver).move_to_element(
        demo_driver.find_elements("css selector", "path.am-priority")[0]).perform()
    _wait(demo_driver, lambda d: _count(d, ".leaflet-tooltip") >= 1)
    tooltip = demo_driver.execute_script(
        "return document.querySelector('.leaflet-tooltip').textContent")
    assert "(class " in tooltip  # the area's class number, as the legend numbers it
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "a11y_equity_map_patterns.png"
    assert demo_driver.save_screenshot(str(shot))
    print(f"screenshot: {shot}")


def test_the_spanish_map_carries_the_same_patterns_and_numbers(demo_es, demo_driver):
    _open(demo_driver, demo_es)
    _wait(demo_driver, lambda d: _count(d, "path.am-priority") > 0)
    assert _check_marks(demo_driver.execute_script(THEME_MARKS)) >= 5
    demo_driver.execute_script("document.querySelector('.am-data summary').click()")
    _wait(demo_driver, lambda d: _count(d, ".am-data-panel table tbody tr") > 0)
    head, cells = demo_driver.execute_script(
        "var t = document.querySelector('.am-data-panel table');"
        "return [t.tHead.rows[0].cells[2].textContent, Array.from(t.tBodies[0].rows).map("
        "function (r) { return r.cells[2].textContent; })];")
    assert head.startswith("Prioridad")
    assert cells
    assert all("(clase " in c for c in cells if c)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "a11y_equity_map_es_patterns.png"
    assert demo_driver.save_screenshot(str(shot))
    print(f"screenshot: {shot}")
