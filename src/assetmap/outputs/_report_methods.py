"""The report's methods text: the ACS definitions, and what the score spec says was done.

:func:`methods_lines` writes one line per index from ``attrs["assetmap"]["score_spec"]`` (the
weights and inputs :func:`assetmap.analysis.score.score_tracts` actually used), so the methods
section never drifts from the computation; :func:`citations` writes one line per source.
"""

from __future__ import annotations

from typing import Any

from assetmap.outputs._classes import column_info

__all__ = ["ACS_DEFINITIONS", "ACS_UNKNOWN", "acs_vintage", "citations", "methods_lines"]

#: Said when the data carry no ACS period (e.g. an ACS CSV read without ``year=`` whose file
#: name does not say ``ACSDT5Y2023``).
ACS_UNKNOWN = "period unknown: no ACS year was recorded with the data"
_NOT_STATED = "(period not stated)"

#: Definitions that do not depend on the BEAD rule set (those come from
#: :func:`assetmap.outputs._rules_text.definitions`, written from the frame's own set).
ACS_DEFINITIONS = [
    (
        "ACS no-internet share = B28002_013 / B28002_001; no-computer share = B28001_011 / "
        "B28001_001; poverty share = B17001_002 / B17001_001. Margins of error follow the Census "
        "Bureau's formula for derived proportions; a CV above 0.30 flags an unreliable estimate."
    ),
]


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_describe(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_describe(v) for v in value)
    return str(value)


def _methods_from_indices(spec: dict[str, Any]) -> list[str]:
    """Methods lines from ``score_tracts``' spec: priority weights, each index's inputs."""
    lines = []
    priority = spec.get("priority") or {}
    weights = priority.get("weights") or {}
    if weights:
        listed = ", ".join(
            f"{column_info(k).label.lower()} {float(v):g}" for k, v in weights.items()
        )
        lines.append(
            f"Priority (0-100): {priority.get('combination', 'weighted mean of the indices')}; "
            f"weights: {listed}."
        )
    for index, entry in (spec.get("indices") or {}).items():
        inputs = [
            f"{i.get('label') or i.get('name')} ({i.get('column', i.get('name'))}, weight "
            f"{float(i.get('weight', 0)):g}, {i.get('direction', '')})"
            for i in entry.get("inputs", [])
        ]
        line = f"{column_info(index).label} ({index}): {entry.get('combination', '')}; inputs: "
        line += "; ".join(inputs) if inputs else "none available"
        if entry.get("absent"):
            line += f"; not available here: {', '.join(map(str, entry['absent']))}"
        lines.append(line + ".")
    if spec.get("normalisation"):
        lines.append(f"Normalisation: {spec['normalisation']}.")
    if spec.get("unreliable_cv") is not None:
        lines.append(
            f"A tract is flagged unreliable when a priority input has a CV above "
            f"{float(spec['unreliable_cv']):g}."
        )
    return lines


def methods_lines(spec: dict[str, Any]) -> list[str]:
    """One paragraph per index, from the score spec actually used."""
    if isinstance(spec.get("indices"), dict):
        return _methods_from_indices(spec)
    lines: list[str] = []
    for index, entry in spec.items():
        if not isinstance(entry, dict):
            lines.append(f"{index}: {_describe(entry)}")
            continue
        label = column_info(index).label
        weights = entry.get("weights") or {}
        inputs = entry.get("inputs") or list(weights)
        direction = entry.get("direction")
        described = []
        for name in inputs:
            text = str(name)
            if isinstance(weights, dict) and name in weights:
                text += f" (weight {float(weights[name]):g})"
            if isinstance(direction, dict) and name in direction:
                text += f" [{direction[name]}]"
            described.append(text)
        line = f"{label} ({index}): inputs {', '.join(described) or 'not stated'}"
        if isinstance(direction, str):
            line += f"; direction: {direction}"
        if entry.get("normalisation"):
            line += f"; normalisation: {entry['normalisation']}"
        lines.append(line + ".")
    return lines or ["The scored frame carries no score_spec: weights and inputs are not known."]


def acs_vintage(vintages: dict[str, Any], *, column: str = "no_internet_share") -> str:
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
    text = str(vintages.get(column) or "").strip()
    if not text:
        return f"ACS, {ACS_UNKNOWN}"
    if _NOT_STATED in text:
        return text.replace(f" {_NOT_STATED}", f", {ACS_UNKNOWN}").replace(
            _NOT_STATED, ACS_UNKNOWN)
    return text


def citations(sources: list[dict[str, Any]]) -> list[str]:
    """One citation per source: name (vintage). URL. License.

    Examples
    --------
    >>> citations([{"name": "ACS", "vintage": "2019-2023", "license": "public domain"}])
    ['ACS (2019-2023). License: public domain.']
    """
    out = []
    for s in sources:
        text = str(s.get("name", "unnamed source"))
        if s.get("vintage") and _NOT_STATED not in str(s["vintage"]):
            text += f" ({s['vintage']})"
        elif "American Community Survey" in text or s.get("vintage"):
            text += f" ({ACS_UNKNOWN})"
        if s.get("url"):
            text += f". {s['url']}"
        if s.get("license"):
            text += f". License: {s['license']}"
        out.append(text + ".")
    return out
