"""The BEAD rule set a frame was classified under, and every piece of text that states it.

No output writes a technology code or a speed threshold of its own: a frame's report names its
rule set (``report["rules"]``, :meth:`assetmap.bdc.rules.RuleSet.as_dict`), :func:`rules_of`
reads it back, and the functions here turn it into the labels, legend notes, footnotes and
report lines the maps and the report print. Thresholds are written with ``:g`` (``100/20``,
``2.5/0.5``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pandas as pd

from assetmap._i18n import N_, messages
from assetmap._report import REPORT_KEY
from assetmap.bdc.rules import (
    FIBER,
    REQUIRED_KEYS,
    RuleSet,
    available_rule_sets,
    rule_set,
    technology_name,
    technology_names,
)

__all__ = [
    "ASSUMED",
    "definitions",
    "fiber_definition",
    "mbps",
    "recorded_rules",
    "rules_known",
    "rules_line",
    "rules_of",
    "rules_sentence",
    "rules_title",
    "service_definition",
    "technologies_text",
]

#: Said wherever a rule set is printed that no frame recorded (the library's default).
ASSUMED = N_("assumed: the data name no rule set, and 'bead' is the default")


def mbps(pair: tuple[float, float]) -> str:
    """Return a (download, upload) threshold as text.

    Examples
    --------
    >>> mbps((100.0, 20.0)), mbps((2.5, 0.5))
    ('100/20', '2.5/0.5')
    """
    return "/".join(f"{float(v):g}" for v in pair)


def _from_dict(data: dict[str, Any]) -> RuleSet:
    found = rule_set({k: data[k] for k in (*REQUIRED_KEYS, "name") if k in data})
    named = available_rule_sets().get(found.name)
    if named is not None and _definition(named) == _definition(found):
        return named
    return replace(found, title=str(data.get("title") or ""),
                   source=str(data.get("source") or ""))


def _definition(rules: RuleSet) -> tuple[Any, ...]:
    return (rules.reliable_technologies, rules.low_latency_required, rules.served,
            rules.underserved)


def recorded_rules(frame: pd.DataFrame | None) -> RuleSet | None:
    """Return the rule set a frame's report names (``report["rules"]``), or None.

    A malformed entry raises :class:`~assetmap.errors.ConfigError` (as a bad ``rules=`` does).

    Examples
    --------
    >>> df = pd.DataFrame()
    >>> recorded_rules(df) is None
    True
    >>> df.attrs["assetmap"] = {"rules": rule_set("bead_2025").as_dict()}
    >>> recorded_rules(df).name
    'bead_2025'
    """
    if frame is None:
        return None
    data = (getattr(frame, "attrs", None) or {}).get(REPORT_KEY, {}).get("rules")
    return _from_dict(dict(data)) if isinstance(data, dict) else None


def rules_known(*frames: pd.DataFrame | None) -> bool:
    """Whether any of the frames names its rule set."""
    return any(recorded_rules(f) is not None for f in frames)


def rules_of(*frames: pd.DataFrame | None) -> RuleSet:
    """Return the rule set of the first frame that names one, else the default (``"bead"``).

    Examples
    --------
    >>> rules_of(None, pd.DataFrame()).name
    'bead'
    """
    for frame in frames:
        found = recorded_rules(frame)
        if found is not None:
            return found
    return rule_set(None)


def rules_title(rules: RuleSet, *, language: object = "en") -> str:
    """Return the heading that names a rule set.

    Examples
    --------
    >>> rules_title(rule_set("bead_2025"))
    "BEAD rule set 'bead_2025'"
    >>> rules_title(rule_set("bead"), language="es")
    "Conjunto de reglas BEAD 'bead'"
    """
    _ = messages(language)
    return _("BEAD rule set '{name}'", name=rules.name)


def technologies_text(codes: tuple[int, ...] | list[int], *, language: object = "en") -> str:
    """Return BDC technologies by name and code, in the reader's language.

    Examples
    --------
    >>> technologies_text([50, 70], language="es")
    'fibra óptica (50), inalámbrico fijo sin licencia (70)'
    """
    _ = messages(language)
    return ", ".join(f"{_(technology_name(c))} ({c})" for c in codes) or _("none")


def service_definition(rules: RuleSet, *, language: object = "en") -> str:
    """Return the served / underserved / unserved definition of a rule set, in words.

    Examples
    --------
    >>> gig = rule_set({"name": "gig", "reliable_technologies": [50],
    ...                 "low_latency_required": False, "served": [1000, 100],
    ...                 "underserved": [100, 20]})
    >>> service_definition(gig).split(". ")[:2]
    ['Served: a reliable offer reaches 1000/100 Mbps; underserved: the best reliable offer \
reaches 100/20 but not 1000/100 Mbps; unserved: no reliable offer reaches 100/20 Mbps', \
'Reliable technologies (BDC codes): fiber (50)']
    """
    _ = messages(language)
    served, under = mbps(rules.served), mbps(rules.underserved)
    others = [c for c in technology_names() if c not in rules.reliable_technologies]
    reliable = technologies_text(rules.reliable_technologies, language=_)
    if rules.low_latency_required:
        reliable = _("{technologies} with low latency (100 ms or less)", technologies=reliable)
    text = _("Served: a reliable offer reaches {served} Mbps; underserved: the best reliable "
             "offer reaches {underserved} but not {served} Mbps; unserved: no reliable offer "
             "reaches {underserved} Mbps. Reliable technologies (BDC codes): {reliable}.",
             served=served, underserved=under, reliable=reliable)
    if others:
        text += " " + _("Other technologies never make a location served or underserved: "
                        "{technologies}.", technologies=technologies_text(others, language=_))
    return text


def rules_sentence(rules: RuleSet, *, language: object = "en") -> str:
    """Return one sentence that states a rule set (its codes, latency and thresholds).

    Examples
    --------
    >>> rules_sentence(rule_set("bead")).startswith("Rule set 'bead': reliable = copper (10)")
    True
    """
    _ = messages(language)
    reliable = technologies_text(rules.reliable_technologies, language=_)
    if rules.low_latency_required:
        reliable = _("{technologies} with low latency", technologies=reliable)
    line = _("Rule set '{name}': reliable = {reliable}; served at {served}, underserved at "
             "{underserved} but below {served}, unserved below {underserved} Mbps",
             name=rules.name, reliable=reliable, served=mbps(rules.served),
             underserved=mbps(rules.underserved))
    if rules.title:
        line += f" ({_(rules.title)})"
    return line + "."


def rules_line(rules: RuleSet, *, assumed: bool = False, language: object = "en") -> str:
    """Return the one line that names a rule set, its definition, title and source.

    The maps' footnotes and the report's "Rule set" line print it; ``assumed`` says that no
    frame recorded the set.

    Examples
    --------
    >>> rules_line(rule_set("bead")).startswith("Rule set 'bead': reliable = copper (10)")
    True
    """
    _ = messages(language)
    line = rules_sentence(rules, language=_)
    if rules.source:
        line += " " + _("Source: {source}", source=rules.source)
    return f"{line} ({_(ASSUMED)})" if assumed else line


def fiber_definition(*, language: object = "en") -> str:
    """Return the definition of fiber presence.

    Examples
    --------
    >>> fiber_definition()
    'Fiber presence: share of residential locations with any fiber (BDC technology 50) offer.'
    """
    _ = messages(language)
    return _("Fiber presence: share of residential locations with any {fiber} (BDC technology "
             "{code}) offer.", fiber=_(technology_name(FIBER)), code=FIBER)


def definitions(rules: RuleSet, *, assumed: bool = False, language: object = "en") -> list[str]:
    """Return the report's definitions: the rule set, the service levels, fiber presence."""
    _ = messages(language)
    return [rules_line(rules, assumed=assumed, language=_),
            _("Service levels ({title}): {definition}", title=rules_title(rules, language=_),
              definition=service_definition(rules, language=_)),
            fiber_definition(language=_)]
