"""A short plain-text summary of a run, for the terminal (``assetmap demo`` and ``build``).

Its words come from the message catalogue in the ``language`` asked for.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from assetmap._i18n import Messages, check_language, messages
from assetmap.outputs._facts import driver_text, headline_facts, place_name, top_tracts
from assetmap.outputs._legend import INTERVENTION_LABELS
from assetmap.outputs._sections import funding_lines

__all__ = ["summary_lines"]


def _tract_label(row: pd.Series, _: Messages) -> str:
    name = place_name(row.get("NAMELSAD") or row.get("GEOID"), _)
    return f"{name} ({row.get('GEOID')})"


def summary_lines(
    scored: pd.DataFrame,
    *,
    zones: pd.DataFrame | None = None,
    plan: pd.DataFrame | None = None,
    top: int = 5,
    evidence: pd.DataFrame | None = None,
    challenges: pd.DataFrame | None = None,
    change: Any = None,
    language: str = "en",
) -> list[str]:
    """Return the run's summary: headline figures, then top tracts and schools with drivers.

    Every figure is computed from the scored frames' documented columns.

    Parameters
    ----------
    scored : DataFrame
        Scored tracts.
    zones : DataFrame, optional
        School zones from ``rollup_to_schools``.
    plan : DataFrame, optional
        Chosen sites from ``select_sites``.
    top : int
        How many tracts and schools to name.
    evidence, challenges : DataFrame, optional
        ``claims_vs_evidence`` and ``challenge_candidates`` results: one line of flags.
    change : ReleaseChange, optional
        ``release_change_report`` result: one line of change since the previous release.
    language : {"en", "es"}
        The language of the lines (``"es"``: Spanish); names from the data are printed as
        they are.

    With an ``intervention`` column in ``scored``, one line counts the tracts per
    recommended intervention and one line per funding program named for them gives its
    status "as of" its date.

    Returns
    -------
    list of str

    Examples
    --------
    >>> df = pd.DataFrame({"GEOID": ["48135000100", "48135000200"], "households": [100, 300],
    ...                    "fiber_share": [0.0, 0.5], "priority": [80.0, 20.0]})
    >>> summary_lines(df)[0]
    '100 households (25.0%) live in tracts where no location has fiber (1 of 2 tracts).'
    >>> summary_lines(df, language="es")[1]
    'Los 2 sectores censales de mayor prioridad (factores principales):'
    """
    language = check_language(language)
    _ = messages(language)
    lines = list(headline_facts(scored, language=language).sentences)
    if "priority" in scored and scored["priority"].notna().any():
        best = top_tracts(scored.dropna(subset=["priority"]), n=top, language=language)
        lines.append(_("Top {count} priority tracts (drivers):", count=len(best)))
        for rank, (_i, row) in enumerate(best.iterrows(), start=1):
            lines.append("  " + _("{rank}. {tract}: priority {priority}; {drivers}", rank=rank,
                                  tract=_tract_label(row, _), priority=f"{row['priority']:.0f}",
                                  drivers=row["drivers"] or _("no driver data")))
    if zones is not None and len(zones) and "priority" in zones:
        order = "priority_rank" if "priority_rank" in zones else None
        best_zones = zones.nsmallest(top, order) if order else zones.nlargest(top, "priority")
        lines.append(_("Top {count} schools by need (drivers):", count=len(best_zones)))
        for rank, (_i, row) in enumerate(best_zones.iterrows(), start=1):
            lines.append("  " + _("{rank}. {tract}: priority {priority}; {drivers}", rank=rank,
                                  tract=row.get("name"), priority=f"{row['priority']:.0f}",
                                  drivers=driver_text(row.get("drivers"), _)
                                  or _("no driver data")))
    if plan is not None and len(plan):
        lines.append(_plan(plan, _))
    lines += [line for line in (*_interventions(scored, _), _evidence(evidence, challenges, _),
                                _change(change, _)) if line]
    return lines


def _plan(plan: pd.DataFrame, _: Messages) -> str:
    gained = plan["covered_demand_gain"].sum() if "covered_demand_gain" in plan else None
    names = ", ".join(str(n) for n in plan.get("name", plan.get("site_id", [])))
    unit = str(plan.attrs.get("assetmap", {}).get("plan", {}).get("weight", "demand"))
    figure = (" " + _("(+{count} {unit} within reach)", count=_.number(gained),
                      unit=_(unit.replace("_", " ")))) if gained else ""
    return _("Plan: {count} new site(s){figure}: {names}", count=len(plan), figure=figure,
             names=names)


def _interventions(scored: pd.DataFrame, _: Messages) -> list[str]:
    """Count the tracts per intervention; then each funding program named, "as of" its date."""
    if "intervention" not in scored:
        return []
    counts = scored["intervention"].astype("string").value_counts()
    parts = [f"{_label(str(code), _)} {n}" for code, n in counts.items()]
    funding = funding_lines(scored, [str(c) for c in counts.index], language=_.language)
    return [_("Interventions (tracts): {counts}", counts=", ".join(parts)),
            *["  " + _("Funding: {text}", text=line) for line in funding]]


def _label(code: str, _: Messages) -> str:
    """Name an intervention: its code in words (``new site``), or its label in Spanish."""
    if _.language == "en" or code not in INTERVENTION_LABELS:
        return code.replace("_", " ")
    return _(INTERVENTION_LABELS[code])


def _evidence(evidence: pd.DataFrame | None, challenges: pd.DataFrame | None,
              _: Messages) -> str:
    if evidence is None or not len(evidence):
        return ""
    served = int(evidence["flag_claimed_served_contradicted"].astype(bool).sum())
    unserved = int(evidence["flag_claimed_unserved_contradicted"].astype(bool).sum())
    line = (_("Evidence flags: {served} tracts claimed served but contradicted, {unserved} "
              "claimed unserved but tests fast (of {total})", served=served, unserved=unserved,
              total=len(evidence)) if "GEOID" in evidence else
            _("Evidence flags: {served} H3 cells claimed served but contradicted, {unserved} "
              "claimed unserved but tests fast (of {total})", served=served, unserved=unserved,
              total=len(evidence)))
    if challenges is not None and len(challenges):
        line += _("; challenge candidates: {areas} areas, {claims} provider claims",
                  areas=challenges["area_id"].nunique(), claims=len(challenges))
    return line


def _change(change: Any, _: Messages) -> str:
    if change is None:
        return ""
    s = change.summary
    release = _.recorded(s.get("old_label") or _("the previous release"))
    return _("Change since {release}: {served} locations newly served, {lost} lost service, "
             "{fiber} gained fiber", release=release,
             served=_.number(s["newly_served"]), lost=_.number(s["lost_service"]),
             fiber=_.number(s["fiber_gained"]))
