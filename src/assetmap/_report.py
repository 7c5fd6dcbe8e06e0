"""The run report every loader and analysis result carries in ``frame.attrs``.

A report is a plain, JSON-serialisable dict under ``frame.attrs["assetmap"]`` that says
what was read, repaired and rejected, and which sources and vintages a frame rests on.
Outputs print the sources and vintages; tests check that no row goes missing:
``rows_read == rows_out + sum(rejected.values())`` unless rows were merged on purpose
(``merged`` counts those).

Helpers here keep the bookkeeping in one place::

    report = start_report("partners.csv", kind="partner_sites", rows_read=len(raw))
    count_repair(report, "lat/lon swapped", 3)
    count_reject(report, "no coordinates and no address", 1, rows=[17])
    return attach_report(frame, report)
"""

from __future__ import annotations

import copy
import os
import warnings
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

import pandas as pd

from assetmap.errors import RejectedRowsWarning, RepairWarning

__all__ = [
    "REPORT_KEY",
    "Report",
    "attach_report",
    "count_reject",
    "count_repair",
    "get_report",
    "merge_sources",
    "start_report",
]

REPORT_KEY = "assetmap"
_MAX_ROWS_LISTED = 50

Frame = TypeVar("Frame", bound=pd.DataFrame)


class Report(dict):
    """A run report: a plain dict that pandas copies cheaply.

    pandas deep-copies ``frame.attrs`` on nearly every operation; a report's nested lists and
    dicts made that a large share of a study's run time. A report is therefore copied one
    level deep when pandas copies it (top-level keys may be set on the copy freely), and code
    that changes a nested value first takes its own copy with :func:`get_report` and attaches
    it again with :func:`attach_report`. ``copy.deepcopy(dict(report))`` is a full copy.

    Examples
    --------
    >>> import copy
    >>> r = Report(kind="demo", notes=[])
    >>> c = copy.deepcopy(r)
    >>> c["kind"] = "other"
    >>> r["kind"], isinstance(c, Report)
    ('demo', True)
    """

    __slots__ = ()

    def __deepcopy__(self, memo: dict[int, Any]) -> Report:
        return Report(self)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Report, (dict(self),))


def start_report(
    source: str | os.PathLike[str] | None,
    *,
    kind: str,
    rows_read: int = 0,
    vintages: Mapping[str, str] | None = None,
    sources: Iterable[Mapping[str, Any]] = (),
    illustrative: bool = False,
) -> dict[str, Any]:
    """Return a new, empty report for reading ``source``.

    Parameters
    ----------
    source : str, path-like or None
        File path or URL read (None for a frame built in memory).
    kind : str
        What the frame holds, e.g. ``"tracts"``, ``"bdc_availability"``.
    rows_read : int
        Data rows read from the source.
    vintages : mapping, optional
        Column or layer -> vintage text, e.g. ``{"no_internet_share": "ACS 2019-2023"}``.
    sources : iterable of mappings, optional
        Citations: dicts with at least ``name``; optional ``vintage``, ``url``, ``license``.
    illustrative : bool
        True when any of the data are synthetic and must be labelled so.

    Returns
    -------
    dict
        The report.

    Examples
    --------
    >>> r = start_report("a.csv", kind="demo", rows_read=3)
    >>> r["rows_read"], r["rejected"]
    (3, {})
    """
    return {
        "source": None if source is None else str(source),
        "kind": kind,
        "rows_read": int(rows_read),
        "rows_out": None,
        "repaired": {},
        "rejected": {},
        "rejected_rows": {},
        "merged": 0,
        "vintages": dict(vintages or {}),
        "sources": [dict(s) for s in sources],
        "illustrative": bool(illustrative),
        "notes": [],
    }


def count_repair(report: dict[str, Any], reason: str, count: int, *, warn: bool = True) -> None:
    """Record ``count`` rows repaired for ``reason`` and (by default) warn with the count.

    Examples
    --------
    >>> r = start_report("a.csv", kind="demo", rows_read=3)
    >>> count_repair(r, "trimmed spaces", 2, warn=False)
    >>> r["repaired"]
    {'trimmed spaces': 2}
    """
    if count <= 0:
        return
    report["repaired"][reason] = report["repaired"].get(reason, 0) + int(count)
    if warn:
        warnings.warn(
            f"{report.get('source') or report['kind']}: repaired {count} of "
            f"{report['rows_read']} rows: {reason}",
            RepairWarning,
            stacklevel=3,
        )


def count_reject(
    report: dict[str, Any],
    reason: str,
    count: int,
    *,
    rows: Iterable[int] | None = None,
    warn: bool = True,
) -> None:
    """Record ``count`` rows left out for ``reason`` (with up to 50 row numbers) and warn.

    Examples
    --------
    >>> r = start_report("a.csv", kind="demo", rows_read=3)
    >>> count_reject(r, "no coordinates", 1, rows=[2], warn=False)
    >>> r["rejected"], r["rejected_rows"]
    ({'no coordinates': 1}, {'no coordinates': [2]})
    """
    if count <= 0:
        return
    report["rejected"][reason] = report["rejected"].get(reason, 0) + int(count)
    if rows is not None:
        listed = report["rejected_rows"].setdefault(reason, [])
        for row in rows:
            if len(listed) >= _MAX_ROWS_LISTED:
                break
            listed.append(int(row))
    if warn:
        listed = report["rejected_rows"].get(reason, [])
        shown = f" (rows {', '.join(map(str, listed[:10]))}{', ...' if len(listed) > 10 else ''})"
        warnings.warn(
            f"{report.get('source') or report['kind']}: left out {count} of "
            f"{report['rows_read']} rows: {reason}{shown if listed else ''}",
            RejectedRowsWarning,
            stacklevel=3,
        )


def attach_report(frame: Frame, report: dict[str, Any]) -> Frame:
    """Set ``rows_out`` and store the report in ``frame.attrs`` (returns the same frame).

    Examples
    --------
    >>> import pandas as pd
    >>> df = attach_report(pd.DataFrame({"a": [1]}), start_report(None, kind="demo", rows_read=1))
    >>> get_report(df)["rows_out"]
    1
    """
    report = Report(copy.deepcopy(dict(report)))
    report["rows_out"] = len(frame)
    frame.attrs[REPORT_KEY] = report
    return frame


def get_report(frame: pd.DataFrame) -> dict[str, Any]:
    """Return the report of a frame made by assetmap (an empty one if it has none).

    Examples
    --------
    >>> import pandas as pd
    >>> get_report(pd.DataFrame())["kind"]
    'unknown'
    """
    report = frame.attrs.get(REPORT_KEY)
    if report is None:
        return start_report(None, kind="unknown", rows_read=len(frame))
    return copy.deepcopy(dict(report))


def merge_sources(
    *frames: pd.DataFrame | None,
) -> tuple[list[dict[str, Any]], dict[str, str], bool]:
    """Collect sources, vintages and the illustrative flag of several frames' reports.

    Returns
    -------
    tuple
        ``(sources, vintages, illustrative)``, sources de-duplicated by name and vintage.

    Examples
    --------
    >>> merge_sources(None)
    ([], {}, False)
    """
    sources: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    vintages: dict[str, str] = {}
    illustrative = False
    for frame in frames:
        if frame is None or REPORT_KEY not in frame.attrs:
            continue
        report = frame.attrs[REPORT_KEY]
        for source in report.get("sources", []):
            key = (str(source.get("name")), str(source.get("vintage")))
            if key not in seen:
                seen.add(key)
                sources.append(dict(source))
        vintages.update(report.get("vintages", {}))
        illustrative = illustrative or bool(report.get("illustrative"))
    return sources, vintages, illustrative
