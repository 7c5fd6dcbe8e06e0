"""Report sections for the plan and the evidence: interventions, what-if, evidence, change.

Each function turns one analysis result into a :class:`Section` (title, sentences, a table),
computing every figure from the frame's columns or the summary its function attached; the
report renders the sections as HTML or Markdown and escapes all text there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from assetmap._report import get_report
from assetmap.analysis._funding import SEPARATOR, funding_programs, funding_text
from assetmap.outputs._classes import format_value
from assetmap.outputs._legend import INTERVENTION_LABELS
from assetmap.outputs._rules_text import mbps, rules_of, rules_title

__all__ = [
    "Section",
    "change_section",
    "evidence_section",
    "funding_lines",
    "intervention_section",
    "tract_names",
    "whatif_section",
]

CHALLENGE_DOC = "docs/challenges.md"


@dataclass
class Section:
    """One report section: a title, plain sentences, bullets and an optional table."""

    title: str
    paragraphs: list[str] = field(default_factory=list)
    bullets: list[str] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    note: str = ""


def _n(value: float) -> str:
    return format_value(value, "count")


def _plural(n: float, noun: str) -> str:
    return f"{_n(n)} {noun}{'' if n == 1 else 's'}"


def _tract_name(row: Mapping[str, Any]) -> str:
    return str(row.get("NAMELSAD") or row.get("GEOID") or "")


def intervention_section(scored: pd.DataFrame, *, top_n: int = 5) -> Section | None:
    """Count the tracts (and households) per recommended intervention; top tracts' reasons.

    Examples
    --------
    >>> t = pd.DataFrame({"GEOID": ["1", "2", "3"], "intervention": ["new_site", "monitor",
    ...     "new_site"], "intervention_reason": ["a", "b", "c"], "priority_rank": [2, 3, 1]})
    >>> s = intervention_section(t)
    >>> s.bullets[0], s.rows[0][1:]
    ('New learning center or Wi-Fi site: 2 tracts', ['3', 'New learning center or Wi-Fi site', 'c'])
    """
    if "intervention" not in scored:
        return None
    codes = scored["intervention"].astype("string")
    counts = codes.value_counts(sort=False)
    order = [c for c in INTERVENTION_LABELS if c in counts.index]
    order += sorted(set(counts.index) - set(order))
    households = pd.to_numeric(scored.get("households"), errors="coerce") \
        if "households" in scored else None
    bullets = []
    for code in order:
        text = f"{INTERVENTION_LABELS.get(code, code)}: {_plural(int(counts[code]), 'tract')}"
        if households is not None:
            text += f", {_n(households[codes == code].sum())} households"
        bullets.append(text)
    if "priority_rank" in scored:
        top = scored.assign(_r=pd.to_numeric(scored["priority_rank"], errors="coerce")
                            ).nsmallest(top_n, "_r")
    else:
        top = scored.head(top_n)
    rows = [[format_value(r.get("priority_rank"), "rank"), _tract_name(r),
             INTERVENTION_LABELS.get(str(r["intervention"]), str(r["intervention"])),
             str(r.get("intervention_reason") or "")] for _, r in top.iterrows()]
    bullets += [f"Funding: {line}" for line in funding_lines(scored, order)]
    method = get_report(scored).get("method")
    note = ("Rules and their thresholds: docs/planning.md. Funding statuses are dated facts "
            "from assetmap/analysis/funding_programs.json (or the study's own entries): "
            "check them before applying.")
    if method == "ddi":
        note = "Digital Divide Index rule (infrastructure vs socioeconomic score). " + note
    return Section("Recommended interventions",
                   paragraphs=[("One recommended intervention per tract, from documented rules "
                               "over the scored columns:")],
                   bullets=bullets, header=["Rank", "Tract", "Intervention", "Why"], rows=rows,
                   note=note)


def funding_lines(scored: pd.DataFrame, codes: list[str]) -> list[str]:
    """Return each funding sentence once: from ``intervention_funding``, else the shipped file.

    Examples
    --------
    >>> t = pd.DataFrame({"intervention": ["new_site"]})
    >>> [line.split(":")[0] for line in funding_lines(t, ["new_site"])]
    ['Digital Equity Act grants', 'E-Rate']
    """
    if "intervention_funding" in scored:
        texts = scored["intervention_funding"].astype("string").dropna().tolist()
    else:
        table = funding_programs()
        texts = [funding_text(c, table) for c in codes]
    lines = [line for text in texts for line in str(text).split(SEPARATOR) if line.strip()]
    return list(dict.fromkeys(lines))


def whatif_section(whatif: pd.DataFrame | None, scored: pd.DataFrame) -> Section | None:
    """Say what the plan changes, from ``apply_plan``'s summary (``attrs["whatif"]``).

    Examples
    --------
    >>> w = pd.DataFrame({"GEOID": ["1"]})
    >>> w.attrs["assetmap"] = {"whatif": {"reach_m": 3200.0, "new_sites": 3,
    ...     "tracts_newly_within_reach": ["1"], "households_newly_within_reach": 300.0,
    ...     "priority_tracts": ["1", "2"], "priority_tracts_addressed": ["1"],
    ...     "upgraded_tracts": [], "upgraded_locations": 0.0, "upgraded_households": 0.0}}
    >>> whatif_section(w, pd.DataFrame({"GEOID": ["1"]})).bullets[0]
    'Households newly within 3.2 km of a site: 300 (1 tract that had no site within reach)'
    """
    if whatif is None:
        return None
    info = get_report(whatif).get("whatif")
    if not info:
        return None
    names = dict(zip(scored.get("GEOID", pd.Series(dtype=str)).astype(str),
                     scored.get("NAMELSAD", scored.get("GEOID", pd.Series(dtype=str))).astype(str),
                     strict=True)) if "GEOID" in scored else {}
    reach = format_value(info.get("reach_m"), "m")
    newly = list(info.get("tracts_newly_within_reach") or [])
    bullets = [
        (f"Households newly within {reach} of a site: "
        f"{_n(info.get('households_newly_within_reach') or 0)} "
        f"({_plural(len(newly), 'tract')} that had no site within reach)"),
    ]
    if newly:
        bullets.append("Tracts newly within reach: " + ", ".join(names.get(g, g) for g in newly))
    priority = list(info.get("priority_tracts") or [])
    addressed = list(info.get("priority_tracts_addressed") or [])
    if priority:
        text = (f"Priority tracts addressed: {len(addressed)} of the {len(priority)} "
                "highest-priority tracts")
        if addressed:
            text += " (" + ", ".join(names.get(g, g) for g in addressed) + ")"
        bullets.append(text)
    upgraded = list(info.get("upgraded_tracts") or [])
    if upgraded:
        bullets.append(f"Upgraded tracts: {len(upgraded)}, "
                       f"{_n(info.get('upgraded_locations') or 0)} locations made served, "
                       f"{_n(info.get('upgraded_households') or 0)} households")
    sites = int(info.get("new_sites") or 0)
    return Section("What the plan changes",
                   paragraphs=[(f"With the {_plural(sites, 'proposed site')} added and the "
                               "tracts rescored (a site reaches a tract when the tract's point "
                               f"is within {reach}):")],
                   bullets=bullets)


def _flag_counts(evidence: pd.DataFrame) -> dict[str, int]:
    def flag(name: str) -> pd.Series:
        return evidence.get(name, pd.Series(False, index=evidence.index)).astype(
            "boolean").fillna(False)

    served = flag("flag_claimed_served_contradicted")
    return {
        "areas": len(evidence),
        "claimed_served": int(flag("claimed_served").sum()),
        "served_contradicted": int(served.sum()),
        "by_tests": int((served & flag("evidence_tests_slow")).sum()),
        "by_survey": int((served & flag("evidence_survey_not_available")).sum()),
        "unserved_contradicted": int(flag("flag_claimed_unserved_contradicted").sum()),
        "too_few_tests": int(flag("too_few_tests").sum()),
    }


def evidence_section(evidence: pd.DataFrame | None, *, challenges: pd.DataFrame | None = None,
                     names: Mapping[str, str] | None = None) -> Section | None:
    """Describe the flags (counts, strength), the challenge candidates and how to file.

    Examples
    --------
    >>> ev = pd.DataFrame({"GEOID": ["1", "2"], "claimed_served": [True, True],
    ...     "flag_claimed_served_contradicted": [True, False],
    ...     "flag_claimed_unserved_contradicted": [False, False],
    ...     "evidence_tests_slow": [True, False], "evidence_strength": [55.4, 0.0],
    ...     "evidence_summary": ["318 of 349 tests below 25/3", ""]})
    >>> evidence_section(ev).bullets[0]
    'Claimed served (100/20) but contradicted by the evidence: 1 of 2 tracts claimed served \
(by speed tests: 1; by the family survey: 0)'
    """
    if evidence is None or not len(evidence):
        return None
    c = _flag_counts(evidence)
    rules = rules_of(evidence, challenges)
    served = mbps(rules.served)
    level = "tract" if "GEOID" in evidence else "H3 cell"
    key = "GEOID" if "GEOID" in evidence else "h3_res8_id"
    bullets = [
        (f"Claimed served ({served}) but contradicted by the evidence: "
        f"{c['served_contradicted']} "
        f"of {_plural(c['claimed_served'], level)} claimed served (by speed tests: "
        f"{c['by_tests']}; by the family survey: {c['by_survey']})"),
        f"Claimed unserved but most tests reach {served}: "
        + _plural(c["unserved_contradicted"], level),
        (f"{level.capitalize()}s with too few testing devices to judge: {c['too_few_tests']} "
        f"of {c['areas']}"),
    ]
    flagged = evidence[evidence.get("flag_claimed_served_contradicted", False).astype(bool)
                       | evidence.get("flag_claimed_unserved_contradicted", False).astype(bool)]
    flagged = flagged.sort_values("evidence_strength", ascending=False, kind="stable")
    names = names or {}
    rows = [[names.get(str(r[key]), str(r[key])),
             "claimed served, evidence says otherwise"
             if bool(r.get("flag_claimed_served_contradicted")) else
             "claimed unserved, tests show fast service",
             f"{float(r['evidence_strength']):.1f}", str(r.get("evidence_summary") or "")]
            for _, r in flagged.iterrows()]
    if challenges is not None and len(challenges):
        areas = challenges["area_id"].nunique()
        kind = {"h3": "H3 res-8 cells", "block": "census blocks"}.get(
            str(challenges["area_type"].iloc[0]), "areas")
        brands = sorted(challenges["brand_name"].astype(str).unique())
        bullets.append(f"Challenge candidates: {_n(areas)} {kind} with "
                       f"{_plural(len(challenges), 'provider claim')} of {served} service "
                       f"({len(brands)} brands: {', '.join(brands)})")
    paragraphs = [("What providers claim on the FCC map, set beside what speed tests and the "
                  "family survey report (a flag needs at least 20 testing devices, or a "
                  "published survey cell; evidence strength 0-100 ranks the flags and is not "
                  f"a probability). Served and the test thresholds: {rules_title(rules)}.")]
    if get_report(evidence).get("illustrative"):
        paragraphs.append("Illustrative data: these flags demonstrate the method and are not "
                          "statements about real service.")
    return Section(
        "Evidence on the ground", paragraphs=paragraphs, bullets=bullets,
        header=[level.capitalize(), "Finding", "Strength", "Evidence"], rows=rows,
        note=("A district can use these flags and the challenge-candidate list to file FCC "
              "availability challenges (the BDC challenge process) where a provider's claim "
              f"does not match what families get; {CHALLENGE_DOC} explains the steps and the "
              "evidence the FCC accepts."),
    )


def change_section(change: Any, *, names: Mapping[str, str] | None = None,
                   top_n: int = 5) -> Section | None:
    """Describe what changed since the previous BDC release (``release_change_report``).

    Examples
    --------
    >>> from assetmap.bdc.release_change import release_change_report
    >>> def release(level):
    ...     return pd.DataFrame({"location_id": ["1", "2"], "service_level": level,
    ...         "has_fiber": [False, False], "h3_res8_id": "8848d6d969fffff",
    ...         "block_geoid": "481350001001000"})
    >>> ch = release_change_report(release(["underserved", "served"]),
    ...     release(["served", "served"]), old_label="December 2024", new_label="June 2025")
    >>> s = change_section(ch)
    >>> s.title, s.bullets[0]
    ('Change since the last release (December 2024 to June 2025)', \
'Locations newly served at 100/20: 1')
    """
    if change is None:
        return None
    summary, tracts = change.summary, pd.DataFrame(change.tracts)
    rules = rules_of(change.tracts)
    served = mbps(rules.served)
    title = (f"Change since the last release ({summary.get('old_label')} to "
             f"{summary.get('new_label')})")
    bullets = [
        f"Locations newly served at {served}: {_n(summary['newly_served'])}",
        f"Locations that lost service: {_n(summary['lost_service'])}",
        (f"Locations that gained fiber: {_n(summary['fiber_gained'])} (lost fiber: "
        f"{_n(summary['fiber_lost'])})"),
        (f"Locations added to / removed from the Fabric: {_n(summary['locations_added'])} / "
        f"{_n(summary['locations_removed'])}"),
    ]
    if {"served_old", "served_new", "locations_old", "locations_new"} <= summary.keys():
        old = summary["served_old"] / summary["locations_old"] if summary["locations_old"] else None
        new = summary["served_new"] / summary["locations_new"] if summary["locations_new"] else None
        if old is not None and new is not None:
            bullets.append(f"Residential locations served at {served}: "
                           f"{format_value(old, 'share')} then, {format_value(new, 'share')} now")
    for kind in ("entering", "leaving"):
        column = f"providers_{kind}_names"
        if column in tracts:
            brands = sorted({b for v in tracts[column].dropna().astype(str)
                             for b in v.split(";") if b})
            counts = pd.to_numeric(tracts.get(f"providers_{kind}"), errors="coerce")
            bullets.append(f"Providers {kind}: {', '.join(brands) or 'none'}"
                           + (f" (in {_plural(int((counts > 0).sum()), 'tract')})"
                              if brands else ""))
    names = names or {}
    top = tracts.assign(_key=pd.to_numeric(tracts["newly_served"], errors="coerce").fillna(0)
                        + pd.to_numeric(tracts["fiber_gained"], errors="coerce").fillna(0))
    top = top[top["_key"] > 0].sort_values(["newly_served", "fiber_gained"], ascending=False,
                                           kind="stable").head(top_n)
    rows = [[names.get(str(r["GEOID"]), str(r["GEOID"])), _n(r["newly_served"]),
             _n(r["lost_service"]), _n(r["fiber_gained"]),
             str(r.get("providers_entering_names") or "")] for _, r in top.iterrows()]
    paragraphs = [("The accountability figure boards ask for: what the FCC map says changed "
                  "between the two releases, location by location (residential locations; "
                  f"served = {served} Mbps on a reliable technology, {rules_title(rules)}).")]
    if get_report(change.tracts).get("illustrative"):
        paragraphs.append("Illustrative data: at least one of the releases compared is synthetic.")
    return Section(title, paragraphs=paragraphs, bullets=bullets,
                   header=["Tract", "Newly served", "Lost service", "Fiber gained",
                           "Providers entering"] if rows else [], rows=rows)


def tract_names(scored: pd.DataFrame) -> dict[str, str]:
    """GEOID -> the tract's name (``NAMELSAD``) when the scored frame has both."""
    if "GEOID" not in scored or "NAMELSAD" not in scored:
        return {}
    return dict(zip(scored["GEOID"].astype(str), scored["NAMELSAD"].astype(str), strict=True))

