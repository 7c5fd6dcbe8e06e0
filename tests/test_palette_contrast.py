"""Class colours: WCAG contrast between neighbours, colour-vision simulation, patterns if needed.

Every ramp the maps use is checked at every class count a map draws by default or is likely to
be asked for (2 to 9): neighbouring classes must stay apart with protanopia, deuteranopia and
tritanopia (CIEDE2000, Machado et al. 2009), and where they cannot differ 3:1 (WCAG 1.4.11),
the print map hatches and numbers them (WCAG 1.4.1).
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/ helper modules
import outputs_fixtures as fx

import assetmap as am
from assetmap.outputs._class_marks import (  # internal: the print map's second cue
    CLASS_HATCHES,
    class_hatch,
    hatch_color,
    marked,
    svg_pattern,
    svg_patterns,
)
from assetmap.outputs._classes import (  # internal: the palettes both maps draw with
    _INFO,
    NO_DATA_COLOR,
    classify,
    column_info,
    palette,
)
from assetmap.outputs._contrast import (  # internal: the check itself
    MIN_CONTRAST,
    MIN_DELTA_E,
    _delta_e00,
    check_palette,
    ciede2000,
    contrast_ratio,
    needs_marks,
    relative_luminance,
    simulate_cvd,
)

# every ramp a map can draw: the named columns', and the fallbacks for other columns
RAMPS = sorted({info.cmap for info in _INFO.values()}
               | {column_info(c).cmap for c in ("x_share", "dist_x_m", "x_value")})
COUNTS = range(2, 10)


def test_contrast_ratio_matches_wcag_examples():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#000000") == pytest.approx(21.0)
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)  # AA grey
    assert contrast_ratio("#949494", "#ffffff") == pytest.approx(3.03, abs=0.01)
    assert contrast_ratio("#336699", "#336699") == 1.0
    assert relative_luminance("#fff") == pytest.approx(1.0)


@pytest.mark.parametrize(("lab1", "lab2", "expected"), [  # Sharma, Wu and Dalal (2005), table 1
    ((50, 2.6772, -79.7751), (50, 0, -82.7485), 2.0425),
    ((50, 0, 0), (50, -1, 2), 2.3669),
    ((50, 2.49, -0.001), (50, -2.49, 0.0009), 7.1792),
    ((50, 2.5, 0), (73, 25, -18), 27.1492),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ((22.7233, 20.0904, -46.694), (23.0331, 14.973, -42.5619), 2.0373),
    ((2.0776, 0.0795, -1.135), (0.9033, -0.0636, -0.5514), 0.9082),
])
def test_ciede2000_matches_the_published_test_data(lab1, lab2, expected):
    assert _delta_e00(np.array(lab1, float), np.array(lab2, float)) == pytest.approx(
        expected, abs=1e-4)
    assert _delta_e00(np.array(lab2, float), np.array(lab1, float)) == pytest.approx(
        expected, abs=1e-4)


def test_cvd_simulation_keeps_greys_and_merges_red_and_green():
    for kind in ("protan", "deutan", "tritan"):
        for grey in ("#000000", "#808080", "#ffffff"):
            assert simulate_cvd(grey, kind) == grey
    red, green = "#d62728", "#2ca02c"
    assert ciede2000(red, green) > 60
    for kind in ("protan", "deutan"):  # the classic red-green confusion
        assert ciede2000(simulate_cvd(red, kind), simulate_cvd(green, kind)) < 25
    with pytest.raises(ValueError, match="protan, deutan, tritan"):
        simulate_cvd(red, "achromat")


@pytest.mark.parametrize("cmap", RAMPS)
def test_every_ramp_keeps_neighbours_apart_with_every_colour_vision(cmap):
    for k in COUNTS:
        colors = palette(cmap, k)
        check = check_palette(colors)
        lum = [relative_luminance(c) for c in colors]
        # one direction of lightness, so the order reads without hue
        assert all(a > b for a, b in itertools.pairwise(lum)) or all(
            a < b for a, b in itertools.pairwise(lum)), (cmap, k, colors)
        # equal contrast steps: the weakest pair is within 15% of the strongest
        assert check.min_contrast >= 0.85 * max(check.ratios), (cmap, k, check.ratios)
        if k <= 3:  # colour alone passes WCAG 1.4.11 and the colour-vision check
            assert check.meets_contrast, (cmap, k, check.ratios)
            assert check.distinguishable, (cmap, k, check.delta_e)
            assert not needs_marks(colors)
        if k <= 5:  # the default five classes stay apart for every simulated vision
            assert check.distinguishable, (cmap, k, check.delta_e)
        if k >= 4:  # 21 ** (1 / 3) < 3: no colour ramp can pass, the print map marks them
            assert not check.meets_contrast
            assert needs_marks(colors)


@pytest.mark.parametrize("cmap", RAMPS)
def test_five_classes_contrast_more_than_the_old_positions(cmap):
    # before: classes at 0.2, 0.375, ... 0.9 of the ramp, min neighbour ratio 1.26 to 1.45
    assert check_palette(palette(cmap, 5)).min_contrast >= 1.7


def test_no_data_grey_next_to_the_last_class_brings_marks_when_it_is_too_close():
    values = [1.0, 2.0, 3.0, float("nan")]
    rank = classify(values, column="priority_rank", k=3)  # its last class is the light one
    assert contrast_ratio(rank.colors[-1], NO_DATA_COLOR) < MIN_CONTRAST
    assert marked(rank)
    assert not marked(classify(values[:3], column="priority_rank", k=3))


def test_hatches_are_all_different_and_contrast_with_every_fill():
    assert len(set(CLASS_HATCHES)) == len(CLASS_HATCHES)
    for cmap in RAMPS:
        for number, fill in enumerate(palette(cmap, 9)):
            if class_hatch(number):
                assert contrast_ratio(hatch_color(fill), fill) >= 4.5, (cmap, fill)


def test_print_map_hatches_and_numbers_five_classes_but_not_three(tmp_path):
    scored = fx.scored_ector()
    with matplotlib.rc_context({"svg.fonttype": "none"}):  # text as text
        five = am.print_map(scored, tmp_path / "five.svg", k=5, inset=False, label_top=0)
        three = am.print_map(scored, tmp_path / "three.svg", k=3, inset=False, label_top=0)
    text = five.read_text()
    assert text.count("<pattern") >= 4  # classes 2 to 5
    classes = classify(scored["priority"], column="priority", k=5)
    for number, label in enumerate(classes.labels):
        assert f"({number + 1}) {label}" in text
    assert "<pattern" not in three.read_text()
    assert "(1) " not in three.read_text()


def test_the_html_map_draws_the_print_maps_patterns():
    """One definition (CLASS_HATCHES): the SVG pattern of a class is its matplotlib hatch."""
    fill = "#fd8d3c"
    patterns = [svg_pattern(n, fill) for n in range(len(CLASS_HATCHES))]
    assert [bool(p) for p in patterns] == [bool(h) for h in CLASS_HATCHES]
    bodies = [p.split(">", 1)[1] for p in patterns if p]  # without the id
    assert len(set(bodies)) == len(bodies)  # every hatched class draws a different pattern
    for number, pattern in enumerate(patterns):
        if pattern:
            assert f'fill="{fill}"' in pattern
            assert hatch_color(fill) in pattern
            assert f'id="am-hatch-{number}-fd8d3c"' in pattern
    classes = classify(fx.scored_ector()["priority"], column="priority", k=5)
    ids, defs = svg_patterns(classes.colors)
    assert marked(classes)
    assert ids[0] is None
    assert all(ids[1:])
    assert defs.count("<pattern ") == 4  # classes 2 to 5, as the print map hatches them


def test_html_map_numbers_and_hatches_the_classes_in_legend_and_popups():
    scored = fx.scored_ector()
    html = am.equity_map(scored, tiles=None, k=5).get_root().render()
    classes = classify(scored["priority"], column="priority", k=5)
    for number, label in enumerate(classes.labels):
        assert f"({number + 1}) {label}" in html
    assert "amPatterns(" in html
    assert "am-hatch-1-" in html
    assert "(class 5)" in html
    three = am.equity_map(scored, tiles=None, k=3, column="priority").get_root().render()
    three_classes = classify(scored["priority"], column="priority", k=3)
    assert f"(1) {three_classes.labels[0]}" not in three  # colour alone keeps three apart


def test_thresholds_are_the_documented_ones():
    assert MIN_CONTRAST == 3.0
    assert MIN_DELTA_E == 10.0
