"""The grant-ready report: every figure equals a recomputation from the scored frame."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/ helper modules
import outputs_fixtures as fx

import assetmap as am
from assetmap.errors import ConfigError
from assetmap.outputs._facts import (  # internal: fact helpers on a two-row frame, not a report
    drivers,
    headline_facts,
)


@pytest.fixture(scope="module")
def scored():
    return fx.scored_ector()


@pytest.fixture(scope="module")
def reports(scored, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    image = out / "map.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\nnot-a-real-image")
    zones = pd.DataFrame(
        {
            "school_id": ["1", "2"],
            "name": ["<b>Bonham</b> MS", "Ector HS"],
            "priority": [88.0, 40.0],
            "priority_rank": [1, 2],
            "drivers": ["need (90)", "adoption gap (45)"],
        }
    )
    html = am.write_report(
        scored, out / "r.html", title="<script>alert(1)</script>", map_image=image, schools=zones
    )
    md = am.write_report(scored, out / "r.md", title="Ector", map_image=image, schools=zones)
    return html.read_text(), md.read_text()


def test_headline_figures_equal_the_table(scored, reports):
    households = scored["households"].sum()
    no_fiber = scored.loc[scored["fiber_share"] == 0, "households"].sum()
    sentence = (
        f"{no_fiber:,.0f} households ({no_fiber / households * 100:.1f}%) live in tracts "
        f"where no location has fiber ({(scored['fiber_share'] == 0).sum()} of "
        f"{len(scored)} tracts)."
    )
    unserved = (scored["unserved_share"] * scored["locations"]).sum()
    locations = scored["locations"].sum()
    unserved_text = f"{unserved:,.0f} of {locations:,.0f} residential locations"
    no_internet = (scored["households"] * scored["no_internet_share"]).sum()
    html, md = reports
    for text in (html, md):
        assert sentence in text
        assert unserved_text in text
        assert f"An estimated {no_internet:,.0f} households" in text
        assert f"{int(scored['unreliable'].sum())} of {len(scored)} tracts rest partly" in text


def test_top_tracts_are_listed_in_priority_order(scored, reports):
    top = scored.sort_values("priority", ascending=False).head(5)
    _, md = reports
    positions = [
        md.index(f"| {rank} | {name} | {value:.0f} |")
        for rank, (name, value) in enumerate(zip(top["NAMELSAD"], top["priority"], strict=True), 1)
    ]
    assert positions == sorted(positions)
    first = top.iloc[0]
    assert f"{first['NAMELSAD']} ranks #1 of {len(scored)}" in md


def test_methods_state_every_weight_used(scored, reports):
    html, md = reports
    for entry in scored.attrs["assetmap"]["score_spec"].values():
        for name, weight in entry["weights"].items():
            assert f"{name} (weight {weight:g})" in html
            assert f"{name.replace('_', chr(92) + '_')} (weight {weight:g})" in md


def test_sources_reliability_schools_and_illustrative(scored, reports):
    html, md = reports
    for source in scored.attrs["assetmap"]["sources"]:
        assert f"{source['name']} ({source['vintage']})" in html
    assert "Illustrative data:" in html
    assert "Illustrative data:" in md
    flagged = scored.nsmallest(5, "priority_rank")
    flagged = flagged[flagged["no_internet_share_cv"] > 0.30]
    for name in flagged["NAMELSAD"]:
        assert f"{name}: CV &gt; 0.30 for no_internet_share" in html
    assert "&lt;b&gt;Bonham&lt;/b&gt; MS" in html
    assert "&lt;b&gt;Bonham&lt;/b&gt; MS" in md


def test_html_is_self_contained_and_escaped(reports):
    html, _ = reports
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "src='data:image/png;base64," in html
    assert "<script" not in html


def test_drivers_and_facts_on_hand_cases():
    frame = pd.DataFrame(
        {
            "need": [90.0, 10.0],
            "adoption_gap": [20.0, 80.0],
            "households": [100, 300],
            "fiber_share": [0.0, 0.2],
        }
    )
    assert drivers(frame, n=2).tolist() == [
        "need (90), adoption gap (20)",
        "adoption gap (80), need (10)",
    ]
    facts = headline_facts(frame)
    assert (facts.households, facts.no_fiber_households, facts.no_fiber_tracts) == (400, 100, 1)


def test_report_draws_the_print_map_when_no_image_is_given(scored, tmp_path):
    md = am.write_report(scored, tmp_path / "plain.md")
    assert (tmp_path / "plain_map.png").exists()
    assert "![Priority map](plain_map.png)" in md.read_text()
    with pytest.raises(ConfigError, match=r"\.html or \.md"):
        am.write_report(scored, tmp_path / "r.docx")


def test_methods_follow_the_score_tracts_spec_layout(scored, tmp_path):
    # the layout score_tracts writes: indices -> inputs with label, column, weight, direction
    frame = scored.copy()
    frame.attrs = {"assetmap": dict(scored.attrs["assetmap"])}
    frame.attrs["assetmap"]["score_spec"] = {
        "normalise": "percentile",
        "normalisation": "percentile rank within the study area, 0-100",
        "indices": {
            "need": {
                "inputs": [
                    {"name": "poverty", "column": "poverty_share", "label": "Poverty",
                     "direction": "higher = more need", "weight": 0.6},
                ],
                "absent": ["rural"],
                "combination": "weighted mean of the normalised inputs present",
            }
        },
        "priority": {"weights": {"need": 0.4, "adoption_gap": 0.6},
                     "combination": "weighted mean of the indices present"},
        "unreliable_cv": 0.3,
    }  # fmt: skip
    md = am.write_report(frame, tmp_path / "m.md", map_image="map.png").read_text()
    assert "weights: need 0.4, adoption gap 0.6" in md
    assert "Poverty (poverty\\_share, weight 0.6, higher = more need)" in md
    assert "not available here: rural" in md
    assert "CV above 0.3." in md
