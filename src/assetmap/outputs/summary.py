"""A short plain-text summary of a run, for the terminal (``assetmap demo`` and ``build``)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from assetmap.outputs._facts import headline_facts, top_tracts
from assetmap.outputs._sections import funding_lines

__all__ = ["summary_lines"]


def _tract_label(row: pd.Series) -> str:
    name = str(row.get("NAMELSAD") or row.get("GEOID"))
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
    """
    lines = list(headline_facts(scored).sentences)
    if "priority" in scored and scored["priority"].notna().any():
        best = top_tracts(scored.dropna(subset=["priority"]), n=top)
        lines.append(f"Top {len(best)} priority tracts (drivers):")
        for rank, (_, row) in enumerate(best.iterrows(), start=1):
            lines.append(
                f"  {rank}. {_tract_label(row)}: priority {row['priority']:.0f}; "
                f"{row['drivers'] or 'no driver data'}"
            )
    if zones is not None and len(zones) and "priority" in zones:
        order = "priority_rank" if "priority_rank" in zones else None
        best_zones = zones.nsmallest(top, order) if order else zones.nlargest(top, "priority")
        lines.append(f"Top {len(best_zones)} schools by need (drivers):")
        for rank, (_, row) in enumerate(best_zones.iterrows(), start=1):
            drivers = row.get("drivers") or "no driver data"
            lines.append(f"  {rank}. {row.get('name')}: priority {row['priority']:.0f}; {drivers}")
    if plan is not None and len(plan):
        gained = plan["covered_demand_gain"].sum() if "covered_demand_gain" in plan else None
        names = ", ".join(str(n) for n in plan.get("name", plan.get("site_id", [])))
        unit = str(plan.attrs.get("assetmap", {}).get("plan", {}).get("weight", "demand"))
        figure = f" (+{gained:,.0f} {unit.replace('_', ' ')} within reach)" if gained else ""
        lines.append(f"Plan: {len(plan)} new site(s){figure}: {names}")
    lines += [line for line in (*_interventions(scored), _evidence(evidence, challenges),
                                _change(change)) if line]
    return lines


def _interventions(scored: pd.DataFrame) -> list[str]:
    """Count the tracts per intervention; then each funding program named, "as of" its date."""
    if "intervention" not in scored:
        return []
    counts = scored["intervention"].astype("string").value_counts()
    parts = [f"{code.replace('_', ' ')} {n}" for code, n in counts.items()]
    funding = funding_lines(scored, [str(c) for c in counts.index])
    return [f"Interventions (tracts): {', '.join(parts)}",
            *[f"  Funding: {line}" for line in funding]]


def _evidence(evidence: pd.DataFrame | None, challenges: pd.DataFrame | None) -> str:
    if evidence is None or not len(evidence):
        return ""
    served = evidence["flag_claimed_served_contradicted"].astype(bool)
    unserved = evidence["flag_claimed_unserved_contradicted"].astype(bool)
    area = "tracts" if "GEOID" in evidence else "H3 cells"
    line = (f"Evidence flags: {int(served.sum())} {area} claimed served but contradicted, "
            f"{int(unserved.sum())} claimed unserved but tests fast (of {len(evidence)})")
    if challenges is not None and len(challenges):
        line += (f"; challenge candidates: {challenges['area_id'].nunique()} areas, "
                 f"{len(challenges)} provider claims")
    return line


def _change(change: Any) -> str:
    if change is None:
        return ""
    s = change.summary
    return (f"Change since {s.get('old_label', 'the previous release')}: "
            f"{s['newly_served']:,} locations newly served, {s['lost_service']:,} lost "
            f"service, {s['fiber_gained']:,} gained fiber")
