"""The figures a report states, each computed from the scored frame's documented columns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from assetmap._report import get_report
from assetmap.outputs._classes import column_info, format_value
from assetmap.outputs._report_methods import acs_vintage
from assetmap.outputs._rules_text import mbps, rules_of

__all__ = ["INDICES", "Facts", "drivers", "headline_facts", "index_weights", "top_tracts"]

INDICES = ["infrastructure_gap", "adoption_gap", "need", "resource_gap"]


@dataclass
class Facts:
    """Headline figures: each with its sentence, for the report's top section."""

    tracts: int
    households: float | None = None
    no_fiber_households: float | None = None
    no_fiber_tracts: int | None = None
    unserved_locations: float | None = None
    underserved_locations: float | None = None
    locations: float | None = None
    no_internet_households: float | None = None
    unreliable_tracts: int | None = None
    sentences: list[str] = field(default_factory=list)


def _pct(part: float, whole: float) -> str:
    return f"{part / whole * 100:.1f}%" if whole else "n/a"


def _count(frame: pd.DataFrame, count: str, share: str) -> float | None:
    """Sum a count column, or share x locations when only the share is there."""
    if count in frame:
        return float(pd.to_numeric(frame[count], errors="coerce").sum())
    if share in frame and "locations" in frame:
        return float((frame[share] * frame["locations"]).sum())
    return None


def headline_facts(scored: pd.DataFrame) -> Facts:
    """Return the headline figures of a scored frame (NaN values count as unknown, not zero).

    Examples
    --------
    >>> df = pd.DataFrame({"households": [100, 300], "fiber_share": [0.0, 0.5]})
    >>> f = headline_facts(df)
    >>> f.no_fiber_households, f.sentences[0]
    (100.0, '100 households (25.0%) live in tracts where no location has fiber (1 of 2 tracts).')
    """
    facts = Facts(tracts=len(scored))
    if "households" in scored:
        households = pd.to_numeric(scored["households"], errors="coerce")
        facts.households = float(households.sum())
        if "fiber_share" in scored:
            no_fiber = scored["fiber_share"].eq(0)
            facts.no_fiber_tracts = int(no_fiber.sum())
            facts.no_fiber_households = float(households[no_fiber].sum())
            facts.sentences.append(
                f"{facts.no_fiber_households:,.0f} households "
                f"({_pct(facts.no_fiber_households, facts.households)}) live in tracts where no "
                f"location has fiber ({facts.no_fiber_tracts} of {facts.tracts} tracts)."
            )
        if "no_internet_share" in scored:
            facts.no_internet_households = float((households * scored["no_internet_share"]).sum())
            facts.sentences.append(
                f"An estimated {facts.no_internet_households:,.0f} households "
                f"({_pct(facts.no_internet_households, facts.households)}) have no internet "
                f"subscription at home ({acs_vintage(get_report(scored).get('vintages', {}))})."
            )
    if "locations" in scored:
        facts.locations = float(pd.to_numeric(scored["locations"], errors="coerce").sum())
        facts.unserved_locations = _count(scored, "unserved", "unserved_share")
        facts.underserved_locations = _count(scored, "underserved", "underserved_share")
        if facts.unserved_locations is not None and facts.underserved_locations is not None:
            rules = rules_of(scored)
            facts.sentences.append(
                f"{facts.unserved_locations:,.0f} of {facts.locations:,.0f} residential "
                f"locations ({_pct(facts.unserved_locations, facts.locations)}) are unserved and "
                f"{facts.underserved_locations:,.0f} "
                f"({_pct(facts.underserved_locations, facts.locations)}) underserved (BEAD rule "
                f"set '{rules.name}': no reliable {mbps(rules.underserved)} Mbps; no reliable "
                f"{mbps(rules.served)} Mbps)."
            )
    has_cv = any(str(c).endswith("_cv") for c in scored.columns)
    if "unreliable" in scored and not has_cv:
        facts.sentences.append(
            "The ACS inputs carry no margins of error here, so their reliability (coefficient "
            "of variation) could not be assessed."
        )
    elif "unreliable" in scored:
        facts.unreliable_tracts = int(scored["unreliable"].astype("boolean").fillna(False).sum())
        facts.sentences.append(
            f"{facts.unreliable_tracts} of {facts.tracts} tracts rest partly on ACS estimates with "
            "a coefficient of variation above 0.30 (use with caution)."
        )
    return facts


def index_weights(scored: pd.DataFrame) -> dict[str, float]:
    """Return the priority weights of the indices from ``score_spec`` (equal when unknown)."""
    spec = get_report(scored).get("score_spec") or {}
    weights = (spec.get("priority") or {}).get("weights") if isinstance(spec, dict) else None
    present = [c for c in INDICES if c in scored]
    if isinstance(weights, dict) and weights:
        return {k: float(v) for k, v in weights.items() if k in scored}
    return dict.fromkeys(present, 1.0 / len(present)) if present else {}


def drivers(scored: pd.DataFrame, *, n: int = 2) -> pd.Series:
    """Name each tract's ``n`` largest contributions to its priority (weight x index value).

    Examples
    --------
    >>> df = pd.DataFrame({"need": [90.0, 10.0], "adoption_gap": [20.0, 80.0]})
    >>> drivers(df, n=1).tolist()
    ['need (90)', 'adoption gap (80)']
    """
    weights = index_weights(scored)
    if not weights:
        return pd.Series("", index=scored.index)
    names = list(weights)
    values = scored[names].to_numpy(dtype=float)
    contributions = np.nan_to_num(values * np.array([weights[c] for c in names]), nan=-np.inf)
    order = np.argsort(-contributions, axis=1)[:, :n]
    labels = [
        ", ".join(
            f"{column_info(names[j]).label.lower()} ({format_value(values[i, j], 'index')})"
            for j in row
            if np.isfinite(contributions[i, j])
        )
        for i, row in enumerate(order)
    ]
    return pd.Series(labels, index=scored.index)


def top_tracts(scored: pd.DataFrame, *, n: int = 5) -> pd.DataFrame:
    """Return the ``n`` highest-priority tracts (by ``priority_rank``, else ``priority``)."""
    if "priority_rank" in scored:
        top = scored.nsmallest(n, "priority_rank")
    else:
        top = scored.nlargest(n, "priority")
    return top.assign(drivers=drivers(top))


def tract_paragraph(row: pd.Series, *, total: int, vintages: dict[str, Any]) -> str:
    """Return a plain-language paragraph about one tract, from its columns only."""
    name = str(row.get("NAMELSAD") or row.get("GEOID") or "This tract")
    rank = row.get("priority_rank")
    parts = [f"{name} ranks #{int(rank)} of {total}" if pd.notna(rank) else name]
    if pd.notna(row.get("priority")):
        parts[0] += f" with a priority score of {format_value(row['priority'], 'index')}/100"
    parts[0] += "."
    if pd.notna(row.get("households")):
        parts.append(f"It has {format_value(row['households'], 'count')} households.")
    if pd.notna(row.get("fiber_share")):
        share = format_value(row["fiber_share"], "share")
        parts.append(
            "No location here has a fiber offer."
            if row["fiber_share"] == 0
            else f"Fiber reaches {share} of its residential locations."
        )
    if pd.notna(row.get("no_internet_share")):
        vintage = acs_vintage(vintages, column="no_internet_share")
        parts.append(
            f"{format_value(row['no_internet_share'], 'share')} of households have no internet "
            f"subscription ({vintage})."
        )
    if pd.notna(row.get("dist_library_m")):
        parts.append(f"The nearest library is {format_value(row['dist_library_m'], 'm')} away.")
    if row.get("drivers"):
        parts.append(f"Main drivers: {row['drivers']}.")
    if bool(row.get("unreliable", False)) is True:
        parts.append("Some of its ACS inputs are unreliable (CV > 0.30): read with caution.")
    return " ".join(parts)
