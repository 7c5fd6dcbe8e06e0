"""HTML size and browser render time of the equity map, next to folium's default GeoJson.

Sizes: the Ector County map (33 tracts, with sites, schools and district) and a synthetic
7,000-tract state (illustrative), online (CDN links) and offline (Leaflet inlined). Render time:
headless Chromium opens each file from a local http.server on 127.0.0.1; the time is from
navigation start (``performance.timeOrigin``) to the moment every tract path exists in the page,
read from a script appended after folium's own, and to the next animation frame (first paint).
The alternative is ``folium.GeoJson`` of the unsimplified geometry with every column, as
``GeoDataFrame.explore`` would embed it, with the same inlined Leaflet.

Run: ``.venv/bin/python benchmarks/map_render.py`` (needs chromium + chromedriver).
"""

from __future__ import annotations

import functools
import http.server
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

import folium

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import outputs_fixtures as fx  # noqa: E402

from assetmap.outputs._offline import inline_assets  # noqa: E402
from assetmap.outputs.interactive import equity_map  # noqa: E402

PROBE = """<script>
window.__paths = document.querySelectorAll("path.{cls}").length;
window.__pathsAt = performance.now();
requestAnimationFrame(function () {{ window.__paintAt = performance.now(); }});
</script>"""


def _save(m: folium.Map, path: Path, path_class: str) -> int:
    html = m.get_root().render()
    path.write_text(html.replace("</html>", PROBE.format(cls=path_class) + "</html>"), "utf-8")
    return len(html.encode("utf-8"))


def _driver(tmp: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
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
        f"--user-data-dir={tmp / 'profile'}",
    ):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def _render(driver, url: str, runs: int = 3) -> tuple[int, float, float]:
    best_paths, best_paint, count = float("inf"), float("inf"), 0
    for _ in range(runs):
        driver.get("about:blank")
        driver.get(url)
        deadline = time.time() + 60
        while time.time() < deadline:
            done = driver.execute_script("return window.__paintAt || null")
            if done:
                break
            time.sleep(0.05)
        count, at, paint = driver.execute_script(
            "return [window.__paths, window.__pathsAt, window.__paintAt]"
        )
        best_paths, best_paint = min(best_paths, at), min(best_paint, paint)
    return count, best_paths / 1000, best_paint / 1000


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="map_render_"))
    scored = fx.scored_ector()
    extras = {
        "sites": fx.sites_ector(),
        "schools": fx.schools_ector(),
        "district": fx.ector_county(),
    }
    t0 = time.perf_counter()
    county_off = _save(
        equity_map(scored, **extras, tiles=None, offline=True),
        tmp / "county_offline.html",
        "am-priority",
    )
    county_time = time.perf_counter() - t0
    county_on = _save(equity_map(scored, **extras), tmp / "county_online.html", "am-priority")

    state = fx.synthetic_state()
    t0 = time.perf_counter()
    state_off = _save(
        equity_map(state, tiles=None, offline=True), tmp / "state_offline.html", "am-priority"
    )
    state_time = time.perf_counter() - t0
    state_on = _save(equity_map(state), tmp / "state_online.html", "am-priority")
    t0 = time.perf_counter()
    plain = folium.Map(tiles=None)
    folium.GeoJson(state, style_function=lambda f: {"fillColor": "#fd8d3c"}).add_to(plain)
    plain.fit_bounds(
        [
            [state.total_bounds[1], state.total_bounds[0]],
            [state.total_bounds[3], state.total_bounds[2]],
        ]
    )
    inline_assets(plain)
    plain_size = _save(plain, tmp / "state_folium_default.html", "leaflet-interactive")
    plain_time = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print("Measured on a shared 2-core machine (other jobs running); best of 3 browser runs.")
    print(f"{'map':44s} {'tracts':>7s} {'HTML MB':>8s} {'build s':>8s}")
    print(
        f"{'Ector County, offline (Leaflet inlined)':44s} {len(scored):7d} "
        f"{county_off / 1e6:8.3f} {county_time:8.2f}"
    )
    print(f"{'Ector County, online (CDN links)':44s} {len(scored):7d} {county_on / 1e6:8.3f}")
    print(
        f"{'synthetic state, offline':44s} {len(state):7d} {state_off / 1e6:8.3f} {state_time:8.2f}"
    )
    print(f"{'synthetic state, online':44s} {len(state):7d} {state_on / 1e6:8.3f}")
    print(
        f"{'synthetic state, folium.GeoJson default':44s} {len(state):7d} "
        f"{plain_size / 1e6:8.3f} {plain_time:8.2f}"
    )
    print(f"peak RSS of this process: {rss:.0f} MB")

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp))
    handler.func.log_message = lambda *a: None  # type: ignore[method-assign]
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    driver = _driver(tmp)
    try:
        print(f"{'render in headless chromium':44s} {'paths':>7s} {'paths s':>8s} {'paint s':>8s}")
        for name, file in (
            ("Ector County, offline", "county_offline.html"),
            ("synthetic state, offline (equity_map)", "state_offline.html"),
            ("synthetic state, folium.GeoJson default", "state_folium_default.html"),
        ):
            count, at, paint = _render(driver, f"{base}/{file}")
            print(f"{name:44s} {count:7d} {at:8.2f} {paint:8.2f}")
    finally:
        driver.quit()
        httpd.shutdown()


if __name__ == "__main__":
    main()
