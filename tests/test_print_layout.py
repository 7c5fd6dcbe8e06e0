"""The print map's page layout: no block overlaps another and none leaves the page.

Measured with matplotlib's renderer on the shipped demo (Ector County), in English and
Spanish, with a very long title, with many sources, on both paper sizes and orientations.
"""

from __future__ import annotations

import copy
import itertools
import shutil
from pathlib import Path

import geopandas as gpd
import pytest
from matplotlib.transforms import Bbox
from shapely.geometry import box

import assetmap as am

# internal: print_map returns the written file, and the checks below need the live figure and
# its blocks (title, legend, credits, ...) to measure them with the renderer; print_map draws
# through this same function, so what is measured is what is written.
from assetmap.outputs.static import build_print_map

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
TITLES = {
    "en": "Ector County, Texas: where families are cut off, and what is near them",
    "es": "Condado de Ector, Texas: dónde están desconectadas las familias y qué tienen cerca",
}
LONG_TITLE = ("Broadband access, device ownership and digital skills across every census tract "
              "of the Ector County Independent School District, with the libraries, clinics "
              "and community anchors that could close the gaps, for the 2026 BEAD challenge "
              "and the district's digital equity plan (draft for the board, not for release)")
TOLERANCE = 0.5  # pixels


@pytest.fixture(scope="module")
def demo() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    data = am.load_demo()
    config = {"study": {"name": "ector_county", "title": TITLES["en"]},
              "area": {"state": "TX", "counties": ["Ector"], "district": "4818000"},
              "plan": {"k": 3, "reach_m": 3200.0}, "outputs": {"dir": "unused"}}
    return am.Study.from_dict(config).analyse(data).scored, data.outline


def _many_sources(outline: gpd.GeoDataFrame, count: int) -> gpd.GeoDataFrame:
    """The district outline carrying a report with ``count`` more sources (merged on the map)."""
    frame = outline.copy()
    frame.attrs = copy.deepcopy(outline.attrs)
    report = frame.attrs.setdefault("assetmap", {})
    report["sources"] = [*report.get("sources", []), *(
        {"name": f"Partner survey of anchor institution {i} (community broadband inventory)",
         "vintage": f"20{10 + i % 15}"} for i in range(count))]
    return frame


def _boxes(fig, parts) -> dict[str, Bbox | list[Bbox]]:
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()

    def text(artist) -> Bbox:
        extent = artist.get_window_extent(renderer)
        patch = artist.get_bbox_patch()
        return Bbox.union([extent, patch.get_window_extent(renderer)]) if patch else extent

    boxes: dict[str, Bbox | list[Bbox]] = {
        "title": parts.title.get_window_extent(renderer),
        "legend": parts.legend.get_window_extent(renderer),
        "note": parts.note.get_window_extent(renderer),
        "credits": parts.credits.get_window_extent(renderer),
        "map": parts.map_ax.get_window_extent(renderer),
        "north arrow": parts.north_arrow.get_tightbbox(renderer),
        "scale bar": Bbox.union([
            text(a) if hasattr(a, "get_bbox_patch") else a.get_window_extent(renderer)
            for a in parts.scale_bar]),
        "tracts": parts.map_ax.collections[0].get_datalim(parts.map_ax.transData),
        "labels": [text(label) for label in parts.labels],
    }
    if parts.inset_ax is not None:
        boxes["inset"] = parts.inset_ax.get_tightbbox(renderer)
    if parts.credits_more is not None:
        boxes["credits, continued"] = parts.credits_more.get_window_extent(renderer)
    return boxes


def _overlap(a: Bbox, b: Bbox) -> bool:
    return (min(a.x1, b.x1) - max(a.x0, b.x0) > TOLERANCE
            and min(a.y1, b.y1) - max(a.y0, b.y0) > TOLERANCE)


def _inside(inner: Bbox, outer: Bbox) -> bool:
    return (inner.x0 >= outer.x0 - TOLERANCE and inner.y0 >= outer.y0 - TOLERANCE
            and inner.x1 <= outer.x1 + TOLERANCE and inner.y1 <= outer.y1 + TOLERANCE)


def _check_layout(fig, parts) -> dict[str, Bbox | list[Bbox]]:
    boxes = _boxes(fig, parts)
    page = fig.bbox
    blocks = {k: v for k, v in boxes.items() if k in {"title", "legend", "note", "credits",
                                                       "credits, continued", "map", "inset"}}
    for name, found in [*blocks.items(), ("north arrow", boxes["north arrow"]),
                        ("scale bar", boxes["scale bar"])]:
        assert _inside(found, page), f"{name} leaves the page: {found} not in {page}"
    for (a, box_a), (b, box_b) in itertools.combinations(blocks.items(), 2):
        assert not _overlap(box_a, box_b), f"{a} overlaps {b}: {box_a} / {box_b}"
    marks = {"scale bar": boxes["scale bar"], "north arrow": boxes["north arrow"]}
    for name, found in marks.items():
        # inside the map, under the tracts, and clear of every other block
        assert _inside(found, boxes["map"]), f"{name} is not inside the map axes"
        assert not _overlap(found, boxes["tracts"]), f"{name} is drawn over the tracts"
        for other, block in blocks.items():
            if other != "map":
                assert not _overlap(found, block), f"{other} covers the {name}"
    assert not _overlap(marks["scale bar"], marks["north arrow"])
    labels = boxes["labels"]
    for i, label in enumerate(labels):
        assert _inside(label, boxes["map"]), f"label {i + 1} leaves the map"
        for name, found in [*marks.items(), *((k, v) for k, v in blocks.items() if k != "map")]:
            assert not _overlap(label, found), f"label {i + 1} overlaps the {name}"
        for j, other in enumerate(labels[:i]):
            assert not _overlap(label, other), f"labels {j + 1} and {i + 1} overlap"
    return boxes


def _shown(*texts) -> str:
    return " ".join(" ".join(t.get_text().replace("\\$", "$").split()) for t in texts if t)


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_demo_map_keeps_every_block_apart_and_on_the_page(demo, language, tmp_path):
    scored, outline = demo
    fig, _, parts = build_print_map(scored, title=TITLES[language], context=outline,
                                    language=language, dpi=100)
    boxes = _check_layout(fig, parts)
    assert len(parts.labels) == 5
    assert _shown(parts.title) == TITLES[language]  # wrapped, not cut
    assert parts.title.get_fontsize() >= 14
    assert parts.credits.get_fontsize() >= 5
    # the credits are under the map: below its bottom edge, not over it
    assert boxes["credits"].y1 < boxes["map"].y0
    # the file the public function writes, for a look (tests/artifacts is git-ignored)
    ARTIFACTS.mkdir(exist_ok=True)
    out = am.print_map(scored, tmp_path / "map.png", title=TITLES[language], context=outline,
                       language=language, dpi=150)
    shutil.copyfile(out, ARTIFACTS / f"print_map_{language}.png")


def test_a_very_long_title_wraps_inside_the_page(demo):
    scored, outline = demo
    fig, _, parts = build_print_map(scored, title=LONG_TITLE, context=outline, dpi=100)
    _check_layout(fig, parts)
    assert _shown(parts.title) == LONG_TITLE
    assert parts.title.get_text().count("\n") >= 2


def test_many_sources_get_their_own_band_in_a_smaller_font(demo):
    scored, outline = demo
    many = _many_sources(outline, 60)
    fig, _, parts = build_print_map(scored, title=TITLES["es"], context=many, language="es",
                                    credits="Preparado por el distrito. " * 20, dpi=100)
    boxes = _check_layout(fig, parts)
    printed = _shown(parts.credits, parts.credits_more)
    for source in many.attrs["assetmap"]["sources"]:
        assert source["name"] in printed  # every source is printed, none cut off
    assert parts.credits.get_fontsize() < 6.5
    # the map gave up height to the credits but kept its share of the page
    assert boxes["map"].height > 0.3 * fig.bbox.height


@pytest.mark.parametrize(("paper", "orientation"),
                         [("a4", "portrait"), ("letter", "portrait"), ("a4", "landscape")])
def test_every_paper_and_orientation_with_the_inset(demo, paper, orientation):
    scored, _outline = demo
    west, south, east, north = scored.to_crs(4326).total_bounds
    state = gpd.GeoDataFrame(geometry=[box(west - 2, south - 2, east + 2, north + 2)], crs=4326)
    fig, _, parts = build_print_map(scored, title=LONG_TITLE, context=state, paper=paper,
                                    orientation=orientation, language="es", k=7, dpi=100)
    boxes = _check_layout(fig, parts)
    assert parts.inset_ax is not None
    assert _inside(boxes["inset"], fig.bbox)


def test_many_sources_in_a_small_portrait_page_never_overlap(demo):
    scored, outline = demo
    many = _many_sources(outline, 200)
    fig, _, parts = build_print_map(scored, title=LONG_TITLE, context=many, paper="a4",
                                    orientation="portrait", dpi=100)
    boxes = _check_layout(fig, parts)
    # the first half of the band keeps the smallest regular size; the rest continues smaller
    assert parts.credits.get_fontsize() == 5
    assert parts.credits_more is not None
    assert parts.credits_more.get_fontsize() < 5
    assert boxes["credits, continued"].y1 < boxes["credits"].y0
    printed = _shown(parts.credits, parts.credits_more)
    assert printed.startswith("Illustrative (synthetic) data")
    assert printed.endswith("BEAD-FAQs.pdf")
    for source in many.attrs["assetmap"]["sources"]:
        assert source["name"] in printed
