"""The interactive equity map: escaping, classes and legend, simplification, offline HTML, size."""

from __future__ import annotations

import base64
import itertools
import re
import sys
import warnings
from html.parser import HTMLParser
from pathlib import Path

import folium
import h3
import numpy as np
import pandas as pd
import pytest
import shapely
from folium.utilities import normalize
from matplotlib.colors import to_rgb

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/ helper modules
import outputs_fixtures as fx

import assetmap as am
from assetmap.errors import ConfigError, OfflineError, SchemaError
from assetmap.outputs._classes import (  # internal: class edges/indices; the map shows only labels
    classify,
    column_info,
    palette,
)
from assetmap.outputs._geometry import (  # internal: geometry steps equity_map runs inside
    encode_polygons,
    simplify_coverage,
)
from assetmap.outputs._offline import resolve_asset  # internal: asset lookup by URL, not exposed
from assetmap.outputs._points import (  # internal: H3 cell polygons and the fix-first label
    FIX_FIRST,
    h3_polygons,
)
from assetmap.outputs.interactive import THEMES  # internal: the theme layer list, not in the API

TITLE = "<script>alert(1)</script> Ector & Co"


@pytest.fixture(scope="module")
def scored():
    return fx.scored_ector()


@pytest.fixture(scope="module")
def sites():
    names = [*fx.XSS_PAYLOADS, "Library of <b>Odessa</b>"]
    frame = fx.sites_ector(names=names)
    frame.loc[frame.index[1], "hours"] = "<img src=x onerror=alert(7)>"
    return frame


@pytest.fixture(scope="module")
def html(scored, sites):
    m = am.equity_map(
        scored,
        sites=sites,
        schools=fx.schools_ector(),
        district=fx.ector_county(),
        title=TITLE,
        tiles=None,
        offline=True,
    )
    return m.get_root().render()


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.resources: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.resources.append((tag, attrs["src"]))
        if tag == "link" and attrs.get("href"):
            self.resources.append((tag, attrs["href"]))
        if tag in ("img", "iframe") and attrs.get("src"):
            self.resources.append((tag, attrs["src"]))


def test_every_xss_payload_is_escaped(html):
    for payload in [*fx.XSS_PAYLOADS, "<img src=x onerror=alert(7)>", TITLE]:
        if any(ch in payload for ch in '<>"'):
            assert payload not in html, payload
    # the names are there, as escaped JSON the page's amEsc turns into text
    assert "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e" in html
    assert (
        "\\u0026lt;script\\u0026gt;alert(1)\\u0026lt;/script\\u0026gt; Ector \\u0026amp; Co" in html
    )


def test_title_block_in_normalised_html(html):
    expected = normalize('var div = L.DomUtil.create("div", "am-title",')
    assert expected in normalize(html)


def test_classes_match_an_independent_quantile_computation(scored):
    values = scored["priority"].to_numpy()
    classes = classify(values, column="priority", scheme="quantiles", k=5)
    expected_edges = np.percentile(values, [20, 40, 60, 80, 100])
    np.testing.assert_allclose(classes.edges, expected_edges)
    expected_idx = np.minimum(np.searchsorted(expected_edges, values, side="left"), 4)
    np.testing.assert_array_equal(classes.idx, expected_idx)
    assert sum(classes.counts) == len(scored)


def test_natural_breaks_and_user_bins_on_hand_cases():
    nb = classify([1, 2, 3, 10, 11, 12], column="need", scheme="natural_breaks", k=2)
    assert nb.edges == [3.0, 12.0]
    assert nb.idx.tolist() == [0, 0, 0, 1, 1, 1]
    user = classify(
        [0.1, 0.3, 0.8, np.nan], column="fiber_share", scheme="user", bins=[0.25, 0.5, 1]
    )
    assert user.idx.tolist() == [0, 1, 2, -1]
    assert user.labels == ["10% - 25%", "25% - 50%", "50% - 100%"]
    with pytest.raises(ConfigError, match="bins"):
        classify([1, 2], scheme="user")
    with pytest.raises(ConfigError, match="scheme"):
        classify([1, 2], scheme="jenks")


def test_ties_give_fewer_classes_not_empty_ones():
    classes = classify([0, 0, 0, 0, 1], column="fiber_share", k=5)
    assert classes.k == 2
    assert all(count > 0 for count in classes.counts)


def _luminance(color: str) -> float:
    r, g, b = to_rgb(color)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


@pytest.mark.parametrize("column", ["priority", *[c for c, _ in THEMES], "dist_library_m"])
def test_palettes_are_sequential_in_lightness(column):
    # colour-blind safety: classes differ in lightness, not only hue
    colors = palette(column_info(column).cmap, 5)
    lum = [_luminance(c) for c in colors]
    assert all(a > b for a, b in itertools.pairwise(lum)), (column, colors)


def test_legend_shows_labels_units_and_every_layer(html, scored):
    classes = classify(scored["priority"], column="priority", k=5)
    for label in classes.labels:
        assert label in html
    assert "Priority (index 0-100, higher = more need)" in html
    assert "Fiber presence (locations with fiber) (%)" in html
    for _, name in THEMES:
        assert f'"{name}"' in html  # in the layer control
    for name in ("Schools", "Partner sites", "District boundary"):
        assert f'"{name}"' in html
    assert html.count("L.control.layers(") == 1
    for plugin in ("L.control.fullscreen", "new L.Control.Measure", "new L.Control.MiniMap"):
        assert plugin in html


def test_suppressed_survey_cells_say_so(html, scored):
    text = "suppressed (fewer than 10 responses)"
    # each suppressed tract shows the text for each survey rate it has
    assert html.count(text) >= int(scored["suppressed"].sum())


def test_unserved_site_is_flagged_and_popup_lists_services(html, sites):
    assert html.count(FIX_FIRST) == int((sites["site_service_level"] == "unserved").sum())
    assert "public Wi-Fi, device lending" in html
    assert "Mon-Fri 9-17" in html


def test_attribution_names_every_source_vintage_and_illustrative(html, scored):
    for source in scored.attrs["assetmap"]["sources"]:
        assert source["name"] in html
        assert source["vintage"] in html
    assert "Illustrative (synthetic) data: tract scores, partner sites" in html


def test_coverage_simplification_keeps_a_gapless_coverage(scored):
    original = scored.geometry
    simplified = simplify_coverage(original, tolerance_m=200, precision=5)
    assert shapely.get_num_coordinates(simplified.values).sum() < (
        shapely.get_num_coordinates(original.values).sum()
    )
    assert bool(shapely.coverage_is_valid(simplified.values))
    # no gaps, no overlaps: the union's area equals the sum of the parts' areas
    projected = simplified.to_crs(32613)
    union = shapely.union_all(projected.values)
    assert union.area == pytest.approx(projected.area.sum(), rel=1e-9)
    assert union.area == pytest.approx(original.to_crs(32613).union_all().area, rel=1e-3)


def _decode(encoded, precision):
    """Independent decoder of encode_polygons' format."""
    polygons = []
    for polygon in encoded:
        rings = []
        for flat in polygon:
            xy = np.cumsum(np.array(flat, dtype=np.int64).reshape(-1, 2), axis=0) / 10**precision
            rings.append(np.vstack([xy, xy[:1]]))
        polygons.append(shapely.Polygon(rings[0], rings[1:]))
    return shapely.MultiPolygon(polygons)


def test_delta_encoding_round_trips_to_the_rounded_geometry(scored):
    geoms = simplify_coverage(scored.geometry, tolerance_m=25, precision=5).values
    encoded = encode_polygons(geoms, precision=5)
    for geom, enc in zip(geoms, encoded, strict=True):
        decoded = _decode(enc, 5)
        assert decoded.equals(geom), geom.wkt[:80]


def test_offline_html_loads_nothing_from_the_network(html, scored):
    parser = _Links()
    parser.feed(html)
    assert parser.resources, "the offline file still references its scripts"
    for tag, url in parser.resources:
        assert url.startswith("data:"), (tag, url[:80])
    # any http(s) left is an attribution link or the rule set's source in the legend (text for
    # people), an SVG namespace or the issue link in a comment of folium's measure-control
    # template
    leftovers = re.findall(r"https?://[^\s\"'\\)]+", html)
    allowed = {s["url"] for s in scored.attrs["assetmap"]["sources"]} | {
        am.rule_set("bead").source,
        "http://www.w3.org/2000/svg",
        "https://github.com/ljagis/leaflet-measure/issues/171",
    }
    assert set(leftovers) <= allowed, set(leftovers) - allowed


def test_online_map_links_the_cdn(scored):
    html = am.equity_map(scored).get_root().render()
    assert '<script src="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js">' in html
    assert "tile.openstreetmap.org" in html  # tiles resolved through xyzservices


def test_assets_dir_is_preferred_and_missing_assets_raise(tmp_path, scored):
    (tmp_path / "leaflet.js").write_text("/* site copy of leaflet */", encoding="utf-8")
    assert resolve_asset("https://x/leaflet.js", assets_dir=tmp_path) == tmp_path / "leaflet.js"
    m = am.equity_map(scored, tiles=None, offline=True, assets_dir=tmp_path)
    encoded = base64.b64encode(b"/* site copy of leaflet */").decode()
    assert f"data:text/javascript;base64,{encoded}" in m.get_root().render()
    with pytest.raises(OfflineError, match=r"no local copy of https://example\.org/other\.js"):
        resolve_asset("https://example.org/other.js")


def test_county_map_is_under_one_megabyte(html, scored):
    assert len(html.encode("utf-8")) < 1_000_000
    online = am.equity_map(scored, tiles=None).get_root().render()
    assert len(online.encode("utf-8")) < 300_000


def test_adds_to_an_existing_map_without_a_second_layer_control(scored):
    m = folium.Map(tiles=None)
    out = am.equity_map(scored, m=m, tiles=None)
    assert out is m
    am.equity_map(scored, column="need", m=m, tiles=None)
    controls = [c for c in m._children.values() if isinstance(c, folium.LayerControl)]
    assert len(controls) == 1


def test_h3_cells_layer(scored):
    centres = scored.to_crs(32613).geometry.representative_point().to_crs(4326)
    cells = pd.DataFrame(
        {
            "h3_res8_id": [h3.latlng_to_cell(p.y, p.x, 8) for p in centres],
            "fiber_share": np.linspace(0, 1, len(centres)),
            "locations": 100,
        }
    )
    polygons = h3_polygons(cells)
    assert polygons.geometry.contains(centres.reset_index(drop=True)).all()
    html = am.equity_map(scored, h3_cells=cells, tiles=None).get_root().render()
    assert "Fiber presence (H3 res-8 cells)" in html
    assert "am-h3" in html


def test_bad_input_is_refused_and_input_not_mutated(scored):
    before = scored.copy()
    am.equity_map(scored, tiles=None)
    pd.testing.assert_frame_equal(scored, before)
    with pytest.raises(SchemaError, match="'nope' is not in the scored frame"):
        am.equity_map(scored, column="nope")
    with pytest.raises(SchemaError, match="GeoDataFrame"):
        am.equity_map(pd.DataFrame(scored.drop(columns="geometry")))


@pytest.mark.slow
def test_state_map_of_7000_tracts_is_under_five_megabytes():
    state = fx.synthetic_state()
    assert len(state) > 6900
    simplified = simplify_coverage(state.geometry, tolerance_m=25, precision=5)
    assert bool(shapely.coverage_is_valid(simplified.values))
    html = am.equity_map(state, tiles=None, offline=True).get_root().render()
    assert len(html.encode("utf-8")) < 5_000_000


def test_quantile_classes_equal_mapclassify_quantiles():
    import mapclassify
    import numpy as np

    from assetmap.outputs._classes import quantile_edges  # internal: the classing kernel itself

    rng = np.random.default_rng(7)
    for n, k in ((33, 5), (7000, 7), (10, 5), (100, 3)):
        values = np.round(rng.gamma(2.0, 10.0, size=n), 1)  # ties included
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # mapclassify's note about ties
            expected = np.unique(mapclassify.Quantiles(values, k=k).bins)
        np.testing.assert_allclose(quantile_edges(values, k), expected, rtol=1e-12)
