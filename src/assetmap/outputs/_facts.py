"""The figures a report states, each computed from the scored frame's documented columns."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from assetmap._i18n import Messages, messages
from assetmap._report import get_report
from assetmap.outputs._classes import column_info, format_value
from assetmap.outputs._report_methods import acs_vintage, spec_label
from assetmap.outputs._rules_text import mbps, rules_of

__all__ = [
    "INDICES",
    "Facts",
    "column_label",
    "driver_text",
    "drivers",
    "headline_facts",
    "index_weights",
    "place_name",
    "top_tracts",
    "value_text",
]

INDICES = ["infrastructure_gap", "adoption_gap", "need", "resource_gap"]


def value_text(value: object, unit: str, _: Messages) -> str:
    """Format one value as :func:`format_value` does, with its words in the reader's language.

    Examples
    --------
    >>> value_text(0.4567, "share", messages("es")), value_text(None, "share", messages("es"))
    ('46%', 'sin datos')
    """
    return format_value(value, unit, language=_.language)


_TIGER_TRACT = re.compile(r"^Census Tract (.+)$")


def place_name(name: object, _: Messages) -> str:
    """Return a tract's name as the maps print it: TIGER's "Census Tract N" in the language.

    Examples
    --------
    >>> place_name("Census Tract 12", messages("es")), place_name("Odessa", messages("es"))
    ('Sector censal 12', 'Odessa')
    """
    text = str(name)
    found = _TIGER_TRACT.match(text) if _.language != "en" else None
    return _("Census Tract {name}", name=found.group(1)) if found else text


_DRIVER = re.compile(r"^(.*?\S) (\S+(?: km)?)$")  # a value: "32%", "0.01", "6.4 km"


def driver_text(text: object, _: Messages) -> str:
    """Return a ``"label value; label value"`` drivers text with each label in the language.

    The labels are the score spec's input labels
    (:data:`assetmap.outputs._report_methods.SPEC_WORDS`); values are printed as they are.

    Examples
    --------
    >>> driver_text("children 32%; low income 14%", messages("es"))
    'niños 32%; bajos ingresos 14%'
    """
    if _.language == "en" or not text:
        return str(text or "")
    parts = []
    for part in str(text).split("; "):
        found = _DRIVER.match(part)
        parts.append(f"{spec_label(found.group(1), _)} {found.group(2)}" if found else part)
    return "; ".join(parts)


def column_label(column: str, _: Messages) -> str:
    """Return a column's label in the reader's language (``column_info(column).label``).

    Examples
    --------
    >>> column_label("households", messages("es"))
    'Hogares'
    """
    return _(column_info(column).label)


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


def _pct(part: float, whole: float, _: Messages) -> str:
    if not whole:
        return _("n/a")
    return f"{part / whole * 100:.1f}%" if _.language == "en" else _.percent(
        part / whole, decimals=1)


def _num(value: float, _: Messages) -> str:
    return f"{value:,.0f}" if _.language == "en" else _.number(value)


def _whole(value: float, _: Messages) -> str:
    """Write a whole number as English always has (no separator), else as the locale does."""
    return str(int(value)) if _.language == "en" else _.number(int(value))


def _count(frame: pd.DataFrame, count: str, share: str) -> float | None:
    """Sum a count column, or share x locations when only the share is there."""
    if count in frame:
        return float(pd.to_numeric(frame[count], errors="coerce").sum())
    if share in frame and "locations" in frame:
        return float((frame[share] * frame["locations"]).sum())
    return None


def _household_sentences(scored: pd.DataFrame, facts: Facts, _: Messages) -> None:
    households = pd.to_numeric(scored["households"], errors="coerce")
    facts.households = float(households.sum())
    if "fiber_share" in scored:
        no_fiber = scored["fiber_share"].eq(0)
        facts.no_fiber_tracts = int(no_fiber.sum())
        facts.no_fiber_households = float(households[no_fiber].sum())
        facts.sentences.append(_(
            "{households} households ({share}) live in tracts where no location has fiber "
            "({count} of {total} tracts).",
            households=_num(facts.no_fiber_households, _),
            share=_pct(facts.no_fiber_households, facts.households, _),
            count=_whole(facts.no_fiber_tracts, _), total=_whole(facts.tracts, _)))
    if "no_internet_share" in scored:
        facts.no_internet_households = float((households * scored["no_internet_share"]).sum())
        facts.sentences.append(_(
            "An estimated {households} households ({share}) have no internet subscription at "
            "home ({vintage}).",
            households=_num(facts.no_internet_households, _),
            share=_pct(facts.no_internet_households, facts.households, _),
            vintage=acs_vintage(get_report(scored).get("vintages", {}), language=_.language)))


def headline_facts(scored: pd.DataFrame, *, language: str = "en") -> Facts:
    """Return the headline figures of a scored frame (NaN values count as unknown, not zero).

    Examples
    --------
    >>> df = pd.DataFrame({"households": [100, 300], "fiber_share": [0.0, 0.5]})
    >>> f = headline_facts(df)
    >>> f.no_fiber_households, f.sentences[0]
    (100.0, '100 households (25.0%) live in tracts where no location has fiber (1 of 2 tracts).')
    >>> headline_facts(df, language="es").sentences[0][:40]
    '100 hogares (25.0%) viven en sectores ce'
    """
    _ = messages(language)
    facts = Facts(tracts=len(scored))
    if "households" in scored:
        _household_sentences(scored, facts, _)
    if "locations" in scored:
        facts.locations = float(pd.to_numeric(scored["locations"], errors="coerce").sum())
        facts.unserved_locations = _count(scored, "unserved", "unserved_share")
        facts.underserved_locations = _count(scored, "underserved", "underserved_share")
        if facts.unserved_locations is not None and facts.underserved_locations is not None:
            rules = rules_of(scored)
            facts.sentences.append(_(
                "{unserved} of {locations} residential locations ({unserved_share}) are "
                "unserved and {underserved} ({underserved_share}) underserved (BEAD rule set "
                "'{name}': no reliable {underserved_mbps} Mbps; no reliable {served_mbps} "
                "Mbps).",
                unserved=_num(facts.unserved_locations, _), locations=_num(facts.locations, _),
                unserved_share=_pct(facts.unserved_locations, facts.locations, _),
                underserved=_num(facts.underserved_locations, _),
                underserved_share=_pct(facts.underserved_locations, facts.locations, _),
                name=rules.name, underserved_mbps=mbps(rules.underserved),
                served_mbps=mbps(rules.served)))
    has_cv = any(str(c).endswith("_cv") for c in scored.columns)
    if "unreliable" in scored and not has_cv:
        facts.sentences.append(_(
            "The ACS inputs carry no margins of error here, so their reliability (coefficient "
            "of variation) could not be assessed."))
    elif "unreliable" in scored:
        facts.unreliable_tracts = int(scored["unreliable"].astype("boolean").fillna(False).sum())
        facts.sentences.append(_(
            "{count} of {total} tracts rest partly on ACS estimates with a coefficient of "
            "variation above 0.30 (use with caution).",
            count=_whole(facts.unreliable_tracts, _), total=_whole(facts.tracts, _)))
    return facts


def index_weights(scored: pd.DataFrame) -> dict[str, float]:
    """Return the priority weights of the indices from ``score_spec`` (equal when unknown)."""
    spec = get_report(scored).get("score_spec") or {}
    weights = (spec.get("priority") or {}).get("weights") if isinstance(spec, dict) else None
    present = [c for c in INDICES if c in scored]
    if isinstance(weights, dict) and weights:
        return {k: float(v) for k, v in weights.items() if k in scored}
    return dict.fromkeys(present, 1.0 / len(present)) if present else {}


def drivers(scored: pd.DataFrame, *, n: int = 2, language: str = "en") -> pd.Series:
    """Name each tract's ``n`` largest contributions to its priority (weight x index value).

    Examples
    --------
    >>> df = pd.DataFrame({"need": [90.0, 10.0], "adoption_gap": [20.0, 80.0]})
    >>> drivers(df, n=1).tolist()
    ['need (90)', 'adoption gap (80)']
    """
    _ = messages(language)
    weights = index_weights(scored)
    if not weights:
        return pd.Series("", index=scored.index)
    names = list(weights)
    values = scored[names].to_numpy(dtype=float)
    contributions = np.nan_to_num(values * np.array([weights[c] for c in names]), nan=-np.inf)
    order = np.argsort(-contributions, axis=1)[:, :n]
    labels = [
        ", ".join(
            f"{column_label(names[j], _).lower()} ({value_text(values[i, j], 'index', _)})"
            for j in row
            if np.isfinite(contributions[i, j])
        )
        for i, row in enumerate(order)
    ]
    return pd.Series(labels, index=scored.index)


def top_tracts(scored: pd.DataFrame, *, n: int = 5, language: str = "en") -> pd.DataFrame:
    """Return the ``n`` highest-priority tracts (by ``priority_rank``, else ``priority``)."""
    if "priority_rank" in scored:
        top = scored.nsmallest(n, "priority_rank")
    else:
        top = scored.nlargest(n, "priority")
    return top.assign(drivers=drivers(top, language=language))


def tract_paragraph(row: pd.Series, *, total: int, vintages: dict[str, Any],
                    language: str = "en") -> str:
    """Return a plain-language paragraph about one tract, from its columns only."""
    _ = messages(language)
    name = place_name(row.get("NAMELSAD") or row.get("GEOID") or _("This tract"), _)
    rank, priority = row.get("priority_rank"), row.get("priority")
    values = {"name": name, "total": _whole(total, _)}
    if pd.notna(rank):
        values["rank"] = _whole(rank, _)
    if pd.notna(priority):
        values["score"] = value_text(priority, "index", _)
    first = {
        (True, True): _("{name} ranks #{rank} of {total} with a priority score of {score}/100."),
        (True, False): _("{name} ranks #{rank} of {total}."),
        (False, True): _("{name} with a priority score of {score}/100."),
        (False, False): "{name}.",
    }[(pd.notna(rank), pd.notna(priority))]
    parts = [first.format(**values)]
    if pd.notna(row.get("households")):
        parts.append(_("It has {count} households.",
                       count=value_text(row["households"], "count", _)))
    if pd.notna(row.get("fiber_share")):
        parts.append(
            _("No location here has a fiber offer.")
            if row["fiber_share"] == 0
            else _("Fiber reaches {share} of its residential locations.",
                   share=value_text(row["fiber_share"], "share", _)))
    if pd.notna(row.get("no_internet_share")):
        vintage = acs_vintage(vintages, column="no_internet_share", language=language)
        parts.append(_("{share} of households have no internet subscription ({vintage}).",
                       share=value_text(row["no_internet_share"], "share", _), vintage=vintage))
    if pd.notna(row.get("dist_library_m")):
        parts.append(_("The nearest library is {distance} away.",
                       distance=value_text(row["dist_library_m"], "m", _)))
    if row.get("drivers"):
        parts.append(_("Main drivers: {drivers}.", drivers=row["drivers"]))
    if bool(row.get("unreliable", False)) is True:
        parts.append(_("Some of its ACS inputs are unreliable (CV > 0.30): read with caution."))
    return " ".join(parts)
