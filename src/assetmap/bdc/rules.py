"""BEAD rule sets and BDC technology codes: one definition, as data.

The data live in ``rules.json`` beside this module: the FCC Broadband Data Collection
technology codes (with the group each belongs to) and the named BEAD rule sets. A rule set says
which technologies are *reliable*, whether an offer must be low latency to count, and the
(download, upload) thresholds in Mbps of *served* and *underserved*:

* a location is **served** if a reliable offer reaches ``served``;
* **underserved** if the best reliable offer reaches ``underserved`` but not ``served``;
* **unserved** otherwise.

Each test is per offer (download and upload from the same offer) and compares the advertised
speeds as they are, fractions included. Every engine of :mod:`assetmap.bdc` (the frame path,
DuckDB, the fast engine, Dask), the release change and the evidence ranking take a
:class:`RuleSet` from :func:`rule_set`; none writes a code or a threshold of its own.

Examples
--------
>>> rules = rule_set("bead")
>>> rules.served, rules.underserved
((100.0, 20.0), (25.0, 3.0))
>>> custom = rule_set({"reliable_technologies": [50], "low_latency_required": True,
...                    "served": [1000, 100], "underserved": [100, 20], "name": "fiber-gig"})
>>> custom.name, custom.is_reliable(40)
('fiber-gig', False)
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any

from assetmap.errors import ConfigError

__all__ = [
    "FIBER",
    "GROUPS",
    "RuleSet",
    "RulesLike",
    "available_rule_sets",
    "rule_set",
    "technology_group",
    "technology_name",
    "technology_names",
]

#: the keys a rule-set mapping must have (``name`` is optional)
REQUIRED_KEYS = ("reliable_technologies", "low_latency_required", "served", "underserved")
_OPTIONAL_KEYS = ("name", "title", "source", "notes")


@cache
def _data() -> dict[str, Any]:
    text = files("assetmap.bdc").joinpath("rules.json").read_text(encoding="utf-8")
    return json.loads(text)


def technology_names() -> dict[int, str]:
    """Return the BDC technology codes and their names.

    Examples
    --------
    >>> technology_names()[50]
    'fiber'
    """
    return {int(t["code"]): str(t["name"]) for t in _data()["technologies"]}


def technology_name(code: int) -> str:
    """Return the name of one BDC technology code (``"code N"`` if it is not a BDC code).

    Examples
    --------
    >>> technology_name(61)
    'NGSO satellite'
    """
    return technology_names().get(int(code), f"code {int(code)}")


def technology_group(code: int) -> str:
    """Return the group of one BDC technology code.

    Groups: ``copper``, ``cable``, ``fiber``, ``licensed_fw``, ``unlicensed_fw``,
    ``satellite``, ``other``.

    Examples
    --------
    >>> technology_group(72)
    'licensed_fw'
    """
    for t in _data()["technologies"]:
        if int(t["code"]) == int(code):
            return str(t["group"])
    return "other"


#: technology groups in the order of their bits in the engines' offer masks
GROUPS: tuple[str, ...] = ("copper", "cable", "fiber", "licensed_fw", "unlicensed_fw",
                           "satellite", "other")
#: the technology code whose presence is "fiber presence"
FIBER: int = int(_data()["fiber_technology"])


@dataclass(frozen=True)
class RuleSet:
    """One BEAD rule set: which offers are reliable and the two speed thresholds.

    Build one with :func:`rule_set`; its fields are the definition, and :meth:`as_dict` is
    what every report and output prints.
    """

    name: str
    reliable_technologies: tuple[int, ...]
    low_latency_required: bool
    served: tuple[float, float]
    underserved: tuple[float, float]
    title: str = ""
    source: str = ""
    notes: str = field(default="", compare=False)

    def is_reliable(self, technology: int) -> bool:
        """Whether an offer of this technology can make a location served or underserved."""
        return int(technology) in self.reliable_technologies

    def as_dict(self) -> dict[str, Any]:
        """Return the definition as plain data (for reports, manifests and outputs)."""
        return {
            "name": self.name,
            "reliable_technologies": list(self.reliable_technologies),
            "low_latency_required": self.low_latency_required,
            "served": list(self.served),
            "underserved": list(self.underserved),
            "title": self.title,
            "source": self.source,
        }

    def describe(self) -> str:
        """Return one sentence that states the rule set, for maps, reports and manifests."""
        names = ", ".join(f"{technology_name(c)} ({c})" for c in self.reliable_technologies)
        latency = " with low latency" if self.low_latency_required else ""
        return (f"Rule set '{self.name}': reliable = {names}{latency}; served at "
                f"{_mbps(self.served)}, underserved at {_mbps(self.underserved)} but below "
                f"{_mbps(self.served)}, unserved below {_mbps(self.underserved)} Mbps"
                + (f" ({self.title})" if self.title else "") + ".")


def _mbps(pair: tuple[float, float]) -> str:
    return "/".join(f"{v:g}" for v in pair)


RulesLike = str | Mapping[str, Any] | RuleSet | None


def available_rule_sets() -> dict[str, RuleSet]:
    """Return the named rule sets shipped with assetmap.

    Examples
    --------
    >>> "bead" in available_rule_sets()
    True
    """
    return {str(d["name"]): _from_mapping(d, where="rules.json", strict=False)
            for d in _data()["rule_sets"]}


def rule_set(rules: RulesLike = None) -> RuleSet:
    """Resolve a rule set from a name, a mapping or a :class:`RuleSet`.

    Parameters
    ----------
    rules : str, mapping, RuleSet or None
        A name from :func:`available_rule_sets` (None: ``"bead"``), or a mapping with exactly
        the keys ``reliable_technologies`` (list of BDC technology codes),
        ``low_latency_required`` (bool), ``served`` and ``underserved`` ([download, upload]
        in Mbps), and optionally ``name`` (and the ``title`` and ``source`` that
        :meth:`RuleSet.as_dict` writes, so a report's ``"rules"`` entry resolves again).

    Returns
    -------
    RuleSet

    Raises
    ------
    ConfigError
        For an unknown name, a missing or unknown key, a code that is not a BDC technology
        code, or thresholds that are not finite positive numbers with served >= underserved.

    Examples
    --------
    >>> rule_set().name
    'bead'
    >>> rule_set("no-such-set")
    Traceback (most recent call last):
    ...
    assetmap.errors.ConfigError: unknown BEAD rule set 'no-such-set'; the named sets are ...
    """
    if isinstance(rules, RuleSet):
        return rules
    if rules is None:
        rules = str(_data()["default"])
    if isinstance(rules, str):
        named = available_rule_sets()
        key = rules.strip().lower()
        if key not in named:
            raise ConfigError(
                f"unknown BEAD rule set {rules!r}; the named sets are {', '.join(named)}, or "
                f"give a mapping with the keys {', '.join(REQUIRED_KEYS)} (and optionally name)")
        return named[key]
    if isinstance(rules, Mapping):
        return _from_mapping(rules, where="rules", strict=True)
    raise ConfigError(f"rules must be a rule-set name or a mapping, got {type(rules).__name__}")


def _from_mapping(data: Mapping[str, Any], *, where: str, strict: bool) -> RuleSet:
    keys = set(data)
    missing = [k for k in REQUIRED_KEYS if k not in keys]
    allowed = set(REQUIRED_KEYS) | set(_OPTIONAL_KEYS if not strict else _OPTIONAL_KEYS[:3])
    unknown = sorted(keys - allowed)
    if missing or unknown:
        raise ConfigError(
            f"{where}: a rule set needs exactly the keys {', '.join(REQUIRED_KEYS)} (and "
            f"optionally name); missing: {', '.join(missing) or 'none'}; unknown: "
            f"{', '.join(unknown) or 'none'}")
    codes = _codes(data["reliable_technologies"], where=where)
    latency = data["low_latency_required"]
    if not isinstance(latency, bool):
        raise ConfigError(f"{where}: low_latency_required must be true or false, got {latency!r}")
    served = _pair(data["served"], key="served", where=where)
    under = _pair(data["underserved"], key="underserved", where=where)
    if served[0] < under[0] or served[1] < under[1]:
        raise ConfigError(f"{where}: served {list(served)} must be at least underserved "
                          f"{list(under)} in both download and upload")
    name = data.get("name", "custom")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{where}: name must be a non-empty text, got {name!r}")
    return RuleSet(name=name.strip(), reliable_technologies=codes, low_latency_required=latency,
                   served=served, underserved=under, title=str(data.get("title", "")),
                   source=str(data.get("source", "")), notes=str(data.get("notes", "")))


def _codes(values: Any, *, where: str) -> tuple[int, ...]:
    known = technology_names()
    if isinstance(values, str | bytes) or not hasattr(values, "__iter__"):
        raise ConfigError(f"{where}: reliable_technologies must be a list of codes, got {values!r}")
    codes = []
    for v in values:
        whole = isinstance(v, int | float) and not isinstance(v, bool) and int(v) == v
        if not whole or int(v) not in known:
            raise ConfigError(f"{where}: {v!r} in reliable_technologies is not a BDC technology "
                              f"code (codes: {', '.join(map(str, known))})")
        codes.append(int(v))
    return tuple(sorted(set(codes)))


def _pair(value: Any, *, key: str, where: str) -> tuple[float, float]:
    ok = (not isinstance(value, str | bytes) and hasattr(value, "__len__") and len(value) == 2
          and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value))
    if not ok or not all(math.isfinite(v) and v > 0 for v in value):
        raise ConfigError(f"{where}: {key} must be [download, upload] in Mbps, two finite "
                          f"positive numbers, got {value!r}")
    return float(value[0]), float(value[1])
