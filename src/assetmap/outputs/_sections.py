"""Report sections for the plan and the evidence: interventions, what-if, evidence, change.

Each function turns one analysis result into a :class:`Section` (title, sentences, a table),
computing every figure from the frame's columns or the summary its function attached, with its
words from the message catalogue in ``language``; the report renders the sections as HTML or
Markdown and escapes all text there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from assetmap._i18n import N_, Messages, messages
from assetmap._report import get_report
from assetmap.analysis._evidence_parts import evidence_texts
from assetmap.analysis._funding import SEPARATOR, funding_programs, funding_text
from assetmap.outputs._classes import format_value
from assetmap.outputs._facts import place_name
from assetmap.outputs._legend import INTERVENTION_LABELS
from assetmap.outputs._rules_text import mbps, rules_of, rules_title

__all__ = ["Section", "change_section", "evidence_section", "funding_lines",
           "intervention_section", "tract_names", "whatif_section"]

CHALLENGE_DOC = "docs/challenges.md"
_AREA_KINDS = {"h3": N_("H3 res-8 cells"), "block": N_("census blocks")}


@dataclass
class Section:
    """One report section: a title, plain sentences, bullets and an optional table."""

    title: str
    paragraphs: list[str] = field(default_factory=list)
    bullets: list[str] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    note: str = ""


def _n(value: float, _: Messages) -> str:
    return format_value(value, "count", language=_.language)


def _tracts(n: int, _: Messages) -> str:
    return _.plural("{count} tract", "{count} tracts", int(n))


def _areas(n: int, level: str, _: Messages) -> str:
    if level == "tract":
        return _tracts(n, _)
    return _.plural("{count} H3 cell", "{count} H3 cells", int(n))


def _tract_name(row: Mapping[str, Any], _: Messages) -> str:
    return place_name(row.get("NAMELSAD") or row.get("GEOID") or "", _)


def _label(code: str, _: Messages) -> str:
    return _(INTERVENTION_LABELS[code]) if code in INTERVENTION_LABELS else code


def intervention_section(scored: pd.DataFrame, *, top_n: int = 5,
                         language: str = "en") -> Section | None:
    """Count the tracts (and households) per recommended intervention; top tracts' reasons.

    Examples
    --------
    >>> t = pd.DataFrame({"GEOID": ["1", "2", "3"], "intervention": ["new_site", "monitor",
    ...     "new_site"], "intervention_reason": ["a", "b", "c"], "priority_rank": [2, 3, 1]})
    >>> s = intervention_section(t)
    >>> s.bullets[0], s.rows[0][1:]
    ('New learning center or Wi-Fi site: 2 tracts', ['3', 'New learning center or Wi-Fi site', 'c'])
    >>> intervention_section(t, language="es").title
    'Intervenciones recomendadas'
    """
    if "intervention" not in scored:
        return None
    _ = messages(language)
    codes = scored["intervention"].astype("string")
    counts = codes.value_counts(sort=False)
    order = [c for c in INTERVENTION_LABELS if c in counts.index]
    order += sorted(set(counts.index) - set(order))
    households = pd.to_numeric(scored.get("households"), errors="coerce") \
        if "households" in scored else None
    bullets = []
    for code in order:
        tracts = _tracts(int(counts[code]), _)
        bullets.append(
            _("{intervention}: {tracts}", intervention=_label(code, _), tracts=tracts)
            if households is None else
            _("{intervention}: {tracts}, {households} households", intervention=_label(code, _),
              tracts=tracts, households=_n(households[codes == code].sum(), _)))
    if "priority_rank" in scored:
        top = scored.assign(_r=pd.to_numeric(scored["priority_rank"], errors="coerce")
                            ).nsmallest(top_n, "_r")
    else:
        top = scored.head(top_n)
    rows = [[format_value(r.get("priority_rank"), "rank", language=_.language), _tract_name(r, _),
             _label(str(r["intervention"]), _),
             str(r.get("intervention_reason") or "")] for _i, r in top.iterrows()]
    bullets += [_("Funding: {text}", text=line)
                for line in funding_lines(scored, order, language=language)]
    note = _("Rules and their thresholds: {doc}. Funding statuses are dated facts from {file} "
             "(or the study's own entries): check them before applying.",
             doc="docs/planning.md", file="assetmap/analysis/funding_programs.json")
    if get_report(scored).get("method") == "ddi":
        note = _("Digital Divide Index rule (infrastructure vs socioeconomic score).") + " " + note
    return Section(_("Recommended interventions"),
                   paragraphs=[_("One recommended intervention per tract, from documented rules "
                                 "over the scored columns:")],
                   bullets=bullets, header=[_("Rank"), _("Tract"), _("Intervention"), _("Why")],
                   rows=rows, note=note)


def funding_lines(scored: pd.DataFrame, codes: list[str], *, language: str = "en") -> list[str]:
    """Return each funding sentence once: from ``intervention_funding``, else the shipped file.

    The ``intervention_funding`` column is in the language the interventions were recommended
    in; without it, the sentences are written in ``language``.

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
        texts = [funding_text(c, table, language=language) for c in codes]
    lines = [line for text in texts for line in str(text).split(SEPARATOR) if line.strip()]
    return list(dict.fromkeys(lines))


def _whatif_bullets(info: Mapping[str, Any], names: Mapping[str, str], reach: str,
                    _: Messages) -> list[str]:
    newly = list(info.get("tracts_newly_within_reach") or [])
    bullets = [_("Households newly within {reach} of a site: {households} ({tracts} that had no "
                 "site within reach)", reach=reach,
                 households=_n(info.get("households_newly_within_reach") or 0, _),
                 tracts=_tracts(len(newly), _))]
    if newly:
        bullets.append(_("Tracts newly within reach: {names}",
                         names=", ".join(names.get(g, g) for g in newly)))
    priority = list(info.get("priority_tracts") or [])
    addressed = list(info.get("priority_tracts_addressed") or [])
    if priority:
        text = _("Priority tracts addressed: {count} of the {total} highest-priority tracts",
                 count=len(addressed), total=len(priority))
        if addressed:
            text += " (" + ", ".join(names.get(g, g) for g in addressed) + ")"
        bullets.append(text)
    upgraded = list(info.get("upgraded_tracts") or [])
    if upgraded:
        bullets.append(_("Upgraded tracts: {count}, {locations} locations made served, "
                         "{households} households", count=len(upgraded),
                         locations=_n(info.get("upgraded_locations") or 0, _),
                         households=_n(info.get("upgraded_households") or 0, _)))
    return bullets


def whatif_section(whatif: pd.DataFrame | None, scored: pd.DataFrame, *,
                   language: str = "en") -> Section | None:
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
    _ = messages(language)
    names = {g: place_name(n, _) for g, n in zip(
        scored.get("GEOID", pd.Series(dtype=str)).astype(str),
        scored.get("NAMELSAD", scored.get("GEOID", pd.Series(dtype=str))).astype(str),
        strict=True)} if "GEOID" in scored else {}
    reach = format_value(info.get("reach_m"), "m", language=language)
    sites = _.plural("{count} proposed site", "{count} proposed sites",
                     int(info.get("new_sites") or 0))
    return Section(_("What the plan changes"),
                   paragraphs=[_("With the {sites} added and the tracts rescored (a site "
                                 "reaches a tract when the tract's point is within {reach}):",
                                 sites=sites, reach=reach)],
                   bullets=_whatif_bullets(info, names, reach, _))


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


def _evidence_bullets(c: dict[str, int], level: str, served: str, _: Messages) -> list[str]:
    few = (_("Tracts with too few testing devices to judge: {count} of {total}",
             count=c["too_few_tests"], total=c["areas"]) if level == "tract" else
           _("H3 cells with too few testing devices to judge: {count} of {total}",
             count=c["too_few_tests"], total=c["areas"]))
    return [
        _("Claimed served ({served}) but contradicted by the evidence: {count} of {areas} "
          "claimed served (by speed tests: {tests}; by the family survey: {survey})",
          served=served, count=c["served_contradicted"],
          areas=_areas(c["claimed_served"], level, _), tests=c["by_tests"],
          survey=c["by_survey"]),
        _("Claimed unserved but most tests reach {served}: {areas}", served=served,
          areas=_areas(c["unserved_contradicted"], level, _)),
        few,
    ]


def _challenge_bullet(challenges: pd.DataFrame, served: str, _: Messages) -> str:
    kind = _AREA_KINDS.get(str(challenges["area_type"].iloc[0]), N_("areas"))
    brands = sorted(challenges["brand_name"].astype(str).unique())
    return _("Challenge candidates: {count} {kind} with {claims} of {served} service ({brands} "
             "brands: {names})", count=_n(challenges["area_id"].nunique(), _), kind=_(kind),
             claims=_.plural("{count} provider claim", "{count} provider claims",
                             len(challenges)),
             served=served, brands=len(brands), names=", ".join(brands))


def evidence_section(evidence: pd.DataFrame | None, *, challenges: pd.DataFrame | None = None,
                     names: Mapping[str, str] | None = None,
                     language: str = "en") -> Section | None:
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
    _ = messages(language)
    c = _flag_counts(evidence)
    rules = rules_of(evidence, challenges)
    served = mbps(rules.served)
    level = "tract" if "GEOID" in evidence else "H3 cell"
    key = "GEOID" if "GEOID" in evidence else "h3_res8_id"
    bullets = _evidence_bullets(c, level, served, _)
    flagged = evidence[evidence.get("flag_claimed_served_contradicted", False).astype(bool)
                       | evidence.get("flag_claimed_unserved_contradicted", False).astype(bool)]
    flagged = flagged.sort_values("evidence_strength", ascending=False, kind="stable")
    names = names or {}
    rows = [[names.get(str(r[key]), str(r[key])),
             _("claimed served, evidence says otherwise")
             if bool(r.get("flag_claimed_served_contradicted")) else
             _("claimed unserved, tests show fast service"),
             _.number(float(r["evidence_strength"]), decimals=1), text]
            for (_i, r), text in zip(flagged.iterrows(), evidence_texts(
                flagged, rules, language=_), strict=True)]
    if challenges is not None and len(challenges):
        bullets.append(_challenge_bullet(challenges, served, _))
    paragraphs = [_("What providers claim on the FCC map, set beside what speed tests and the "
                    "family survey report (a flag needs at least 20 testing devices, or a "
                    "published survey cell; evidence strength 0-100 ranks the flags and is not "
                    "a probability). Served and the test thresholds: {rules}.",
                    rules=rules_title(rules, language=_))]
    if get_report(evidence).get("illustrative"):
        paragraphs.append(_("Illustrative data: these flags demonstrate the method and are not "
                            "statements about real service."))
    return Section(
        _("Evidence on the ground"), paragraphs=paragraphs, bullets=bullets,
        header=[_("Tract") if level == "tract" else _("H3 cell"), _("Finding"), _("Strength"),
                _("Evidence")], rows=rows,
        note=_("A district can use these flags and the challenge-candidate list to file FCC "
               "availability challenges (the BDC challenge process) where a provider's claim "
               "does not match what families get; {doc} explains the steps and the evidence "
               "the FCC accepts.", doc=CHALLENGE_DOC),
    )


def _change_bullets(summary: Mapping[str, Any], tracts: pd.DataFrame, served: str,
                    _: Messages) -> list[str]:
    bullets = [
        _("Locations newly served at {served}: {count}", served=served,
          count=_n(summary["newly_served"], _)),
        _("Locations that lost service: {count}", count=_n(summary["lost_service"], _)),
        _("Locations that gained fiber: {gained} (lost fiber: {lost})",
          gained=_n(summary["fiber_gained"], _), lost=_n(summary["fiber_lost"], _)),
        _("Locations added to / removed from the Fabric: {added} / {removed}",
          added=_n(summary["locations_added"], _), removed=_n(summary["locations_removed"], _)),
    ]
    if {"served_old", "served_new", "locations_old", "locations_new"} <= summary.keys():
        old = summary["served_old"] / summary["locations_old"] if summary["locations_old"] else None
        new = summary["served_new"] / summary["locations_new"] if summary["locations_new"] else None
        if old is not None and new is not None:
            bullets.append(_("Residential locations served at {served}: {old} then, {new} now",
                             served=served, old=format_value(old, "share", language=_.language),
                             new=format_value(new, "share", language=_.language)))
    kinds = {"entering": (N_("Providers entering: none"),
                          N_("Providers entering: {names} (in {tracts})")),
             "leaving": (N_("Providers leaving: none"),
                         N_("Providers leaving: {names} (in {tracts})"))}
    for kind, (none, counted) in kinds.items():
        column = f"providers_{kind}_names"
        if column in tracts:
            brands = sorted({b for v in tracts[column].dropna().astype(str)
                             for b in v.split(";") if b})
            if not brands:
                bullets.append(_(none))
                continue
            counts = pd.to_numeric(tracts.get(f"providers_{kind}"), errors="coerce")
            bullets.append(_(counted, names=", ".join(brands),
                             tracts=_tracts(int((counts > 0).sum()), _)))
    return bullets


def change_section(change: Any, *, names: Mapping[str, str] | None = None,
                   top_n: int = 5, language: str = "en") -> Section | None:
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
    _ = messages(language)
    summary, tracts = change.summary, pd.DataFrame(change.tracts)
    rules = rules_of(change.tracts)
    served = mbps(rules.served)
    title = _("Change since the last release ({old} to {new})",
              old=_.recorded(summary.get("old_label")), new=_.recorded(summary.get("new_label")))
    names = names or {}
    top = tracts.assign(_key=pd.to_numeric(tracts["newly_served"], errors="coerce").fillna(0)
                        + pd.to_numeric(tracts["fiber_gained"], errors="coerce").fillna(0))
    top = top[top["_key"] > 0].sort_values(["newly_served", "fiber_gained"], ascending=False,
                                           kind="stable").head(top_n)
    rows = [[names.get(str(r["GEOID"]), str(r["GEOID"])), _n(r["newly_served"], _),
             _n(r["lost_service"], _), _n(r["fiber_gained"], _),
             str(r.get("providers_entering_names") or "")] for _i, r in top.iterrows()]
    paragraphs = [_("The accountability figure boards ask for: what the FCC map says changed "
                    "between the two releases, location by location (residential locations; "
                    "served = {served} Mbps on a reliable technology, {rules}).",
                    served=served, rules=rules_title(rules, language=_))]
    if get_report(change.tracts).get("illustrative"):
        paragraphs.append(_("Illustrative data: at least one of the releases compared is "
                            "synthetic."))
    header = [_("Tract"), _("Newly served"), _("Lost service"), _("Fiber gained"),
              _("Providers entering")]
    bullets = _change_bullets(summary, tracts, served, _)
    return Section(title, paragraphs=paragraphs, bullets=bullets, header=header if rows else [],
                   rows=rows)


def tract_names(scored: pd.DataFrame, *, language: str = "en") -> dict[str, str]:
    """GEOID -> the tract's name (``NAMELSAD``, as the maps say it) when the frame has both."""
    if "GEOID" not in scored or "NAMELSAD" not in scored:
        return {}
    _ = messages(language)
    return {g: place_name(n, _) for g, n in zip(scored["GEOID"].astype(str),
                                                scored["NAMELSAD"].astype(str), strict=True)}
