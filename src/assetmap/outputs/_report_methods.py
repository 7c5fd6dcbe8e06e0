"""The report's methods text: the ACS definitions, and what the score spec says was done.

:func:`methods_lines` writes one line per index from ``attrs["assetmap"]["score_spec"]`` (the
weights and inputs :func:`assetmap.analysis.score.score_tracts` actually used), so the methods
section never drifts from the computation; :func:`citations` writes one line per source. Each
takes ``language`` and writes its words from the message catalogue.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from assetmap._i18n import N_, Messages, messages
from assetmap.outputs._classes import column_info

__all__ = ["ACS_DEFINITIONS", "ACS_UNKNOWN", "SPEC_WORDS", "acs_vintage", "citations",
           "methods_lines", "spec_label"]

#: Said when the data carry no ACS period (e.g. an ACS CSV read without ``year=`` whose file
#: name does not say ``ACSDT5Y2023``).
ACS_UNKNOWN = N_("period unknown: no ACS year was recorded with the data")
_NOT_STATED = "(period not stated)"

#: Definitions that do not depend on the BEAD rule set (those come from
#: :func:`assetmap.outputs._rules_text.definitions`, written from the frame's own set);
#: translated where shown.
ACS_DEFINITIONS = [
    N_(
        "ACS no-internet share = B28002_013 / B28002_001; no-computer share = B28001_011 / "
        "B28001_001; poverty share = B17001_002 / B17001_001. Margins of error follow the Census "
        "Bureau's formula for derived proportions; a CV above 0.30 flags an unreliable estimate."
    ),
]

#: The words :func:`assetmap.analysis.score.score_tracts` writes into its spec (input labels,
#: directions, combinations, normalisations), so the methods section can say them in the
#: reader's language; a phrase not listed here is printed as the spec wrote it.
SPEC_WORDS = (
    N_("higher = more need"), N_("lower = more need"),
    N_("weighted mean of the normalised inputs present for the tract (weights re-scaled over "
       "those present)"),
    N_("weighted mean of the indices present for the tract"),
    N_("weighted mean of the indices present"),
    N_("weighted mean of the indices"),
    N_("weighted mean of the normalised inputs present"),
    N_("percentile rank within the study area, 0-100: (rank - 1) / (n - 1) * 100 of the "
       "need-oriented value, ties averaged"),
    N_("z-score within the study area of the need-oriented value; each index is the weighted "
       "mean z, rescaled min-max to 0-100 within the study area"),
    N_("percentile rank within the study area"),
    N_("percentile rank within the study area, 0-100"),
    N_("unserved locations"), N_("underserved locations"), N_("fiber reach"),
    N_("providers at the served threshold"), N_("no internet subscription"), N_("no computer"),
    N_("no broadband subscription"), N_("survey: no home internet"), N_("survey: no device"),
    N_("low income"), N_("children"), N_("rurality (RUCA)"), N_("distance to a library"),
    N_("distance to a school"), N_("partner sites in reach"), N_("2SFCA capacity per person"),
    N_("public wifi"),
)
#: Spec labels written from a name (``distance to child care``, ``providers at 100/20``).
_LABEL_PATTERNS = ((re.compile(r"^distance to (.+)$"), N_("distance to {what}")),
                   (re.compile(r"^providers at (.+)$"), N_("providers at {what}")))


def spec_label(text: str, _: Messages) -> str:
    """Return a spec's input label in the language, also when it was written from a name.

    Examples
    --------
    >>> spec_label("distance to child care", messages("es"))
    'distancia a cuidado infantil'
    """
    if not text:
        return text
    translated = _(text)
    if translated != text or _.language == "en":
        return translated
    for pattern, message in _LABEL_PATTERNS:
        found = pattern.match(text)
        if found:
            return _(message, what=_(found.group(1)))
    return text


def _describe(value: Any, _: Messages) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_describe(v, _)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_describe(v, _) for v in value)
    return _(str(value)) if value != "" else ""


def _input_text(i: dict[str, Any], _: Messages) -> str:
    return _("{label} ({column}, weight {weight}, {direction})",
             label=spec_label(str(i.get("label") or i.get("name")), _),
             column=i.get("column", i.get("name")), weight=f"{float(i.get('weight', 0)):g}",
             direction=_describe(i.get("direction", ""), _))


def _methods_from_indices(spec: dict[str, Any], _: Messages) -> list[str]:
    """Methods lines from ``score_tracts``' spec: priority weights, each index's inputs."""
    lines = []
    priority = spec.get("priority") or {}
    weights = priority.get("weights") or {}
    if weights:
        listed = ", ".join(
            f"{_(column_info(k).label).lower()} {float(v):g}" for k, v in weights.items()
        )
        combination = priority.get("combination")
        lines.append(_("Priority (0-100): {combination}; weights: {weights}.",
                       combination=_describe(combination, _) if combination
                       else _("weighted mean of the indices"), weights=listed))
    for index, entry in (spec.get("indices") or {}).items():
        inputs = [_input_text(i, _) for i in entry.get("inputs", [])]
        line = _("{label} ({index}): {combination}; inputs: {inputs}",
                 label=_(column_info(index).label), index=index,
                 combination=_describe(entry.get("combination", ""), _),
                 inputs="; ".join(inputs) if inputs else _("none available"))
        if entry.get("absent"):
            line += _("; not available here: {names}",
                      names=", ".join(map(str, entry["absent"])))
        lines.append(line + ".")
    if spec.get("normalisation"):
        lines.append(_("Normalisation: {text}.", text=_describe(spec["normalisation"], _)))
    if spec.get("unreliable_cv") is not None:
        lines.append(_("A tract is flagged unreliable when a priority input has a CV above "
                       "{limit}.", limit=f"{float(spec['unreliable_cv']):g}"))
    return lines


def _entry_line(index: str, entry: dict[str, Any], _: Messages) -> str:
    weights = entry.get("weights") or {}
    inputs = entry.get("inputs") or list(weights)
    direction = entry.get("direction")
    described = []
    for name in inputs:
        text = str(name)
        if isinstance(weights, dict) and name in weights:
            text += " " + _("(weight {weight})", weight=f"{float(weights[name]):g}")
        if isinstance(direction, dict) and name in direction:
            text += f" [{_describe(direction[name], _)}]"
        described.append(text)
    line = _("{label} ({index}): inputs {inputs}", label=_(column_info(index).label),
             index=index, inputs=", ".join(described) or _("not stated"))
    if isinstance(direction, str):
        line += _("; direction: {direction}", direction=_describe(direction, _))
    if entry.get("normalisation"):
        line += _("; normalisation: {text}", text=_describe(entry["normalisation"], _))
    return line + "."


def methods_lines(spec: dict[str, Any], *, language: str = "en") -> list[str]:
    """One paragraph per index, from the score spec actually used.

    Examples
    --------
    >>> methods_lines({})
    ['The scored frame carries no score_spec: weights and inputs are not known.']
    """
    _ = messages(language)
    if isinstance(spec.get("indices"), dict):
        return _methods_from_indices(spec, _)
    lines: list[str] = []
    for index, entry in spec.items():
        if not isinstance(entry, dict):
            lines.append(f"{index}: {_describe(entry, _)}")
            continue
        lines.append(_entry_line(index, entry, _))
    return lines or [_("The scored frame carries no score_spec: weights and inputs are not "
                       "known.")]


def acs_vintage(vintages: dict[str, Any], *, column: str = "no_internet_share",
                language: str = "en") -> str:
    """Return the ACS period of ``column`` as the data recorded it, or say it is unknown.

    Examples
    --------
    >>> acs_vintage({"no_internet_share": "ACS 5-year 2019-2023"})
    'ACS 5-year 2019-2023'
    >>> acs_vintage({"no_internet_share": "ACS 5-year (period not stated)"})
    'ACS 5-year, period unknown: no ACS year was recorded with the data'
    >>> acs_vintage({})
    'ACS, period unknown: no ACS year was recorded with the data'
    """
    unknown = messages(language)(ACS_UNKNOWN)
    text = str(vintages.get(column) or "").strip()
    if not text:
        return f"ACS, {unknown}"
    if _NOT_STATED in text:
        return text.replace(f" {_NOT_STATED}", f", {unknown}").replace(_NOT_STATED, unknown)
    return messages(language).recorded(text)


def _address(url: str) -> str:
    """Return a web address as it is, and a local file by its name only."""
    return url if re.match(r"[a-z][a-z0-9+.-]*://", url, re.I) else Path(url).name


def citations(sources: list[dict[str, Any]], *, language: str = "en") -> list[str]:
    """One citation per source: name (vintage). URL. License.

    Names, vintages and licences are the sources' own words, as their reports recorded them
    (in Spanish where the ``recorded`` catalogue has them); a local file is named, not its
    folder.

    Examples
    --------
    >>> citations([{"name": "ACS", "vintage": "2019-2023", "license": "public domain"}])
    ['ACS (2019-2023). License: public domain.']
    """
    _ = messages(language)
    out = []
    for s in sources:
        text = _.recorded(s["name"]) if "name" in s else _("unnamed source")
        if s.get("vintage") and _NOT_STATED not in str(s["vintage"]):
            text += f" ({_.recorded(s['vintage'])})"
        elif "American Community Survey" in text or s.get("vintage"):
            text += f" ({_(ACS_UNKNOWN)})"
        if s.get("url"):
            text += f". {_address(str(s['url']))}"
        if s.get("license"):
            text += ". " + _("License: {license}", license=_.recorded(s["license"]))
        out.append(text + ".")
    return out
