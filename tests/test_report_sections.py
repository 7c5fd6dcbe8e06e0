"""Report sections for interventions, what-if, evidence and change: every figure from the frames.

The frames are the Ector County demo's own analysis (shipped data); each expected figure is
recomputed here from the frames' columns with pandas, then looked for in the written report.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

import assetmap as am
from assetmap.outputs._plan_layers import INTERVENTION_LABELS  # internal: legend words per code
from assetmap.outputs.summary import summary_lines  # internal: the CLI's console summary

pytestmark = pytest.mark.slow


def _demo_study(out_dir) -> am.Study:
    """The study the shipped demo runs (``assetmap demo``), built through ``am.Study``."""
    return am.Study.from_dict({
        "study": {
            "name": "ector_county",
            "title": "Ector County, Texas: where families are cut off, and what is near them",
        },
        "area": {"state": "TX", "counties": ["Ector"], "district": "4818000"},
        "plan": {"k": 3, "reach_m": 3200.0},
        "outputs": {"dir": str(out_dir.resolve())},
    })


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return _demo_study(tmp_path_factory.mktemp("out")).analyse(am.load_demo())


@pytest.fixture(scope="module")
def markdown(results, tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "report.md"
    am.write_report(results.scored, path, plan=results.plan, whatif=results.whatif,
                    evidence=results.evidence, challenges=results.challenges,
                    change=results.release_change, map_image="map.png")
    return path.read_text(encoding="utf-8")


def _section(text: str, title: str) -> str:
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 3)
    return text[start:end if end > 0 else None]


def _n(x: float) -> str:
    return f"{x:,.0f}"


def test_intervention_counts_equal_the_frame(results, markdown):
    section = _section(markdown, "Recommended interventions")
    scored = results.scored
    for code, group in scored.groupby(scored["intervention"].astype(str)):
        tracts = len(group)
        households = group["households"].sum()
        label = INTERVENTION_LABELS[code]
        line = (f"- {label}: {tracts} tract{'s' if tracts != 1 else ''}, "
                f"{_n(households)} households")
        assert line in section, line
    top = scored.nsmallest(5, "priority_rank")
    for _, row in top.iterrows():  # each top tract's reason is quoted (escaped as Markdown)
        reason = str(row["intervention_reason"])
        assert reason.replace("_", "\\_") in section


def test_whatif_figures_equal_apply_plan_summary(results, markdown):
    section = _section(markdown, "What the plan changes")
    info = results.whatif.attrs["assetmap"]["whatif"]
    newly = results.whatif.loc[results.whatif["plan_new_reach"].astype(bool)]
    # the summary agrees with the rescored frame's own flags ...
    assert sorted(newly["GEOID"]) == sorted(info["tracts_newly_within_reach"])
    households = results.scored.set_index("GEOID").loc[newly["GEOID"], "households"].sum()
    assert households == info["households_newly_within_reach"]
    # ... and the report states it
    assert f"Households newly within 3.2 km of a site: {_n(households)}" in section
    assert (f"Priority tracts addressed: {len(info['priority_tracts_addressed'])} of the "
            f"{len(info['priority_tracts'])} highest-priority tracts") in section


def test_evidence_counts_equal_the_frame(results, markdown):
    section = _section(markdown, "Evidence on the ground")
    ev = results.evidence
    flag = ev["flag_claimed_served_contradicted"]
    by_tests = int((flag & ev["evidence_tests_slow"]).sum())
    by_survey = int((flag & ev["evidence_survey_not_available"]).sum())
    assert (f"contradicted by the evidence: {int(flag.sum())} of "
            f"{int(ev['claimed_served'].sum())} tracts claimed served (by speed tests: "
            f"{by_tests}; by the family survey: {by_survey})") in section
    for _, row in ev[flag].iterrows():
        assert f"| {row['evidence_strength']:.1f} |" in section
    cc = results.challenges
    claims = (f"Challenge candidates: {cc['area_id'].nunique()} H3 res-8 cells with "
              f"{len(cc)} provider claims")
    assert claims in section
    assert "file FCC availability challenges" in section
    assert "docs/challenges.md" in section
    assert "Illustrative data" in section


def test_change_figures_equal_release_change_report(results, markdown):
    change = results.release_change
    section = _section(markdown, "Change since the last release")
    tracts = pd.DataFrame(change.tracts)
    assert "(December 2024 to June 2025)" in section
    assert f"Locations newly served at 100/20: {_n(tracts['newly_served'].sum())}" in section
    assert f"Locations that gained fiber: {_n(tracts['fiber_gained'].sum())}" in section
    assert f"Locations that lost service: {_n(tracts['lost_service'].sum())}" in section
    entering = sorted({b for v in tracts["providers_entering_names"].dropna() for b in
                       str(v).split(";") if b})
    assert entering == ["Caliche Wireless, Inc."]
    in_tracts = int((tracts["providers_entering"] > 0).sum())
    assert f"Providers entering: Caliche Wireless, Inc. (in {in_tracts} tracts)" in section
    # the table's rows are the tracts with the most newly served locations
    best = tracts.sort_values(["newly_served", "fiber_gained"], ascending=False).iloc[0]
    row = re.search(r"\| Census Tract [\d.]+ \| ([\d,]+) \|", section)
    assert row.group(1) == _n(best["newly_served"])


def test_summary_has_one_line_each(results):
    lines = summary_lines(results.scored, evidence=results.evidence,
                          challenges=results.challenges, change=results.release_change)
    counts = results.scored["intervention"].value_counts()
    (line,) = [x for x in lines if x.startswith("Interventions (tracts):")]
    for code, n in counts.items():
        assert f"{code.replace('_', ' ')} {n}" in line
    (line,) = [x for x in lines if x.startswith("Evidence flags:")]
    assert f"{int(results.evidence['flag_claimed_served_contradicted'].sum())} tracts" in line
    assert f"{results.challenges['area_id'].nunique()} areas" in line
    (line,) = [x for x in lines if x.startswith("Change since December 2024:")]
    assert f"{results.change_summary['newly_served']:,} locations newly served" in line


def test_sections_escape_source_text(results, tmp_path):
    scored = results.scored.copy()
    scored.loc[scored.index[0], "intervention_reason"] = "<script>alert(1)</script>"
    scored.loc[scored.index[0], "priority_rank"] = 0
    path = am.write_report(scored, tmp_path / "r.html", map_image=_png(tmp_path))
    text = path.read_text()
    assert "<script>alert(1)" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_without_the_new_results_no_new_section(results, tmp_path):
    scored = results.scored.drop(columns=["intervention", "intervention_reason"])
    text = am.write_report(scored, tmp_path / "r.md", map_image="m.png").read_text()
    for title in ("Recommended interventions", "What the plan changes",
                  "Evidence on the ground", "Change since the last release"):
        assert f"## {title}" not in text


def _png(folder) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = folder / "m.png"
    fig = plt.figure(figsize=(1, 1))
    fig.savefig(path)
    plt.close(fig)
    return str(path)
