"""The BEAD rule set travels from the service frame to the scores, the maps and the report.

Frames are built through the public API from the shipped Ector County demo: service levels
under a named set ("bead_2025") or a custom mapping (served at 200/50, underserved at 50/10),
then scored. Every output must name the set and print its thresholds, never the defaults'.
"""

from __future__ import annotations

import warnings
from html import unescape

import pytest

import assetmap as am

GIG = {"name": "gig", "reliable_technologies": [40, 50], "low_latency_required": True,
       "served": [200, 50], "underserved": [50, 10]}


@pytest.fixture(scope="module")
def demo():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the demo's own repair warnings are tested elsewhere
        return am.load_demo()


def _study(demo, rules):
    """Service, scores, evidence and release change under one rule set."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        service = am.service_by_area(demo.availability, level="tract", rules=rules)
        scored = am.score_tracts(demo.tracts, service=service, acs=demo.acs,
                                 sensitivity_draws=0)
        tests = am.aggregate_speedtests(demo.speedtests, areas=demo.tracts, rules=rules)
        evidence = am.claims_vs_evidence(service, speedtests=tests)
        change = am.release_change_report(demo.previous_availability, demo.availability,
                                          tracts=demo.tracts, rules=rules,
                                          old_label="December 2024", new_label="June 2025")
    return {"service": service, "scored": scored, "evidence": evidence, "change": change}


@pytest.fixture(scope="module")
def bead_2025(demo):
    return _study(demo, "bead_2025")


@pytest.fixture(scope="module")
def gig(demo):
    return _study(demo, GIG)


def _map_html(study) -> str:
    """The map's HTML as text a person reads (the legend is escaped, then embedded as JSON)."""
    m = am.equity_map(study["scored"], tiles=None, evidence=study["evidence"],
                      change=study["change"].tracts, change_since="December 2024")
    return unescape(m.get_root().render().replace("\\u0026", "&"))


def _pdf_text(study, path) -> str:
    pypdf = pytest.importorskip("pypdf", reason="pypdf reads the print map's PDF text")
    am.print_map(study["scored"], path, dpi=72)
    return " ".join(page.extract_text() for page in pypdf.PdfReader(path).pages)


def _report_text(study, path) -> str:
    am.write_report(study["scored"], path, map_image="map.png", evidence=study["evidence"],
                    change=study["change"])
    return path.read_text(encoding="utf-8")


def test_score_and_rollup_carry_the_service_rule_set(bead_2025, demo):
    expected = am.rule_set("bead_2025").as_dict()
    assert am.get_report(bead_2025["service"])["rules"] == expected
    report = am.get_report(bead_2025["scored"])
    assert report["rules"] == expected
    assert report["definition"] == am.rule_set("bead_2025").describe()
    assert not any("rule set" in note for note in report["notes"])
    zones = am.rollup_to_schools(bead_2025["scored"], demo.schools)
    assert am.get_report(zones)["rules"] == expected
    sites = am.site_connectivity(demo.sites, service=bead_2025["service"],
                                 tracts=bead_2025["scored"])
    assert am.get_report(sites)["rules"]["name"] == "bead_2025"


def test_rescoring_a_plan_keeps_the_rule_set(bead_2025):
    scored = bead_2025["scored"]
    after = am.apply_plan(scored, upgraded_tracts=[scored["GEOID"].iloc[0]],
                          score_kwargs={"sensitivity_draws": 0})
    assert am.get_report(after)["rules"]["name"] == "bead_2025"


def test_a_service_frame_without_a_rule_set_is_scored_as_bead_with_a_note(bead_2025, demo):
    service = bead_2025["service"].copy()
    service.attrs = {}
    scored = am.score_tracts(demo.tracts, service=service, sensitivity_draws=0)
    report = am.get_report(scored)
    assert report["rules"] == am.rule_set("bead").as_dict()
    assert any("'bead'" in note and "assumed" in note for note in report["notes"])


def test_the_map_names_the_rule_set(bead_2025):
    html = _map_html(bead_2025)
    assert "BEAD rule set 'bead_2025'" in html
    assert "unlicensed fixed wireless (70)" in html
    assert "Restructuring Policy Notice" in html  # the set's title


def test_the_print_map_names_the_rule_set(bead_2025, tmp_path):
    text = " ".join(_pdf_text(bead_2025, tmp_path / "map.pdf").split())
    assert "Rule set 'bead_2025'" in text
    assert "unlicensed fixed wireless (70)" in text


def test_the_report_names_the_rule_set(bead_2025, tmp_path):
    text = _report_text(bead_2025, tmp_path / "report.md")
    # the Markdown escapes the underscore
    assert "- Rule set 'bead\\_2025': reliable = copper (10)" in text
    assert "bead-restructuring-policy-notice.pdf" in text  # its source


def test_a_custom_set_labels_every_output_with_its_thresholds(gig, tmp_path):
    spec = am.get_report(gig["scored"])["score_spec"]
    labels = [i["label"] for i in spec["indices"]["infrastructure_gap"]["inputs"]]
    assert "providers at 200/50" in labels
    assert "rule set 'gig': no reliable offer at 50/10 Mbps" in spec["ddi"]["differences"]

    texts = {
        "map": _map_html(gig),
        "print map": " ".join(_pdf_text(gig, tmp_path / "map.pdf").split()),
        "report": _report_text(gig, tmp_path / "report.md"),
    }
    wanted = {
        "map": ["Tests below 50/10", "Served at 200/50", "BEAD rule set 'gig'"],
        "print map": ["Rule set 'gig'", "served at 200/50, underserved at 50/10"],
        "report": ["Locations newly served at 200/50",
                   "no reliable 50/10 Mbps; no reliable 200/50 Mbps",
                   "Served: a reliable offer reaches 200/50 Mbps"],
    }
    for output, text in texts.items():
        for phrase in wanted[output]:
            assert phrase in text, (output, phrase)
        for default in ("100/20", "25/3"):  # the default set's thresholds appear nowhere
            assert default not in text, (output, default)
