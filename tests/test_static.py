"""The print map: files, pixel size at 300 dpi, shared classes, scale bar and north arrow."""

from __future__ import annotations

import math
import struct
import sys
from pathlib import Path

import matplotlib
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/ helper modules
import outputs_fixtures as fx

import assetmap as am
from assetmap.errors import ConfigError, SchemaError
from assetmap.outputs._classes import classify  # internal: the classes both maps share
from assetmap.outputs.static import (  # internal: scale-bar and north-arrow maths, not public
    _nice_length,
    _north_angle,
)


@pytest.fixture(scope="module")
def scored():
    return fx.scored_ector()


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_png_letter_landscape_is_3300_by_2550_at_300_dpi(scored, tmp_path):
    out = am.print_map(scored, tmp_path / "map.png", title="Ector County",
                       context=fx.ector_county())
    assert _png_size(out) == (11 * 300, int(8.5 * 300))


def test_png_a4_portrait_at_100_dpi(scored, tmp_path):
    out = am.print_map(
        scored,
        tmp_path / "a4.png",
        paper="a4",
        orientation="portrait",
        dpi=100,
        label_top=0,
        inset=False,
    )
    assert _png_size(out) == (827, 1169)  # 8.27 x 11.69 in


def test_svg_and_pdf_carry_title_legend_credits_and_the_interactive_classes(scored, tmp_path):
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        svg = am.print_map(
            scored,
            tmp_path / "map.svg",
            title="Where to act: $25k & <more>",
            context=fx.ector_county(),
            credits="Prepared by the district.",
        )
    text = svg.read_text()
    assert text.lstrip().startswith("<?xml")
    classes = classify(scored["priority"], column="priority", scheme="quantiles", k=5)
    for color in classes.colors:  # the same colours as the interactive map
        assert f"fill: {color}" in text
    for label in classes.labels:
        assert label in text
    assert "Where to act: $25k &amp; &lt;more&gt;" in text
    assert "Priority (index 0-100, higher = more need)" in text
    for source in scored.attrs["assetmap"]["sources"]:
        assert source["name"] in text
    assert "Illustrative (synthetic) data" in text
    assert "Prepared by the district." in text
    assert "km (" in text  # scale bar label with miles
    pdf = am.print_map(scored, tmp_path / "map.pdf", paper="a4")
    assert pdf.read_bytes()[:5] == b"%PDF-"


def test_nice_scale_bar_lengths():
    assert _nice_length(40_000) == 10_000
    assert _nice_length(70_000) == 10_000
    assert _nice_length(90_000) == 20_000
    assert _nice_length(250_000) == 50_000
    assert _nice_length(3_000) == 500


def test_north_arrow_follows_grid_convergence():
    # east of UTM 13N's central meridian (105 W) true north leans west of grid north by about
    # delta-longitude x sin(latitude): 2.5 deg x sin(31.9 deg) = 1.32 deg at Odessa, TX
    from pyproj import CRS, Transformer

    x, y = Transformer.from_crs(4326, 32613, always_xy=True).transform(-102.5, 31.9)
    angle = math.degrees(_north_angle(CRS(32613), [x - 10, y - 10, x + 10, y + 10]))
    assert angle == pytest.approx(-2.5 * math.sin(math.radians(31.9)), abs=0.05)


def test_bad_options_are_refused(scored, tmp_path):
    with pytest.raises(ConfigError, match="png"):
        am.print_map(scored, tmp_path / "map.jpg")
    with pytest.raises(ConfigError, match="paper"):
        am.print_map(scored, tmp_path / "map.png", paper="legal")
    with pytest.raises(SchemaError, match="nope"):
        am.print_map(scored, tmp_path / "map.png", column="nope")
