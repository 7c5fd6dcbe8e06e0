"""The FCC Public Data API's answers, read; and the throttle that spaces its requests.

Pure helpers for :mod:`assetmap.bdc.download`: the ``{"data": [...]}`` envelope of every
listing, the newest availability as-of date of ``listAsOfDates``, and the State
fixed-broadband rows of ``listAvailabilityData`` (fields ``category``, ``technology_type``
(older listings: ``subcategory``), ``file_type``, ``state_fips`` / ``state_name``,
``technology_code`` (a code, a comma-separated list of codes, or null), ``file_id``).
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from assetmap.errors import DownloadError, GeoidError
from assetmap.geoid import state_fips

__all__ = ["THROTTLE", "Throttle", "check_every_state", "data_rows", "is_fixed",
           "latest_availability_date", "row_state", "row_techs", "select_files"]


class Throttle:
    """Start requests at least ``60 / per_minute`` seconds apart; sleep only when needed."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.clock = clock
        self.sleep = sleep
        self._last: float | None = None
        self._lock = threading.Lock()

    def wait(self, per_minute: float) -> float:
        """Wait until the next request may start; return the seconds slept."""
        with self._lock:
            now = self.clock()
            pause = 0.0 if self._last is None else self._last + 60.0 / per_minute - now
            if pause > 0:
                self.sleep(pause)
                now = self.clock()
            self._last = now
            return max(pause, 0.0)


#: one throttle for the process: the FCC's limit is per account, not per call
THROTTLE = Throttle()


def data_rows(payload: Any, endpoint: str) -> list[dict[str, Any]]:
    """Return the ``data`` records of a listing; DownloadError if the envelope is not one."""
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise DownloadError(
            f"{endpoint}: the answer has no 'data' list of records (keys: "
            f"{sorted(payload)[:10] if isinstance(payload, dict) else type(payload).__name__})"
        )
    return data


def latest_availability_date(payload: Any) -> str:
    """Return the newest ``as_of_date`` whose ``data_type`` is ``availability``.

    Examples
    --------
    >>> latest_availability_date({"data": [
    ...     {"data_type": "availability", "as_of_date": "2024-06-30"},
    ...     {"data_type": "challenge", "as_of_date": "2025-06-30"},
    ...     {"data_type": "availability", "as_of_date": "2024-12-31"}]})
    '2024-12-31'
    """
    found = []
    for row in data_rows(payload, "listAsOfDates"):
        if str(row.get("data_type", "")).strip().lower() != "availability":
            continue
        try:
            found.append(dt.date.fromisoformat(str(row.get("as_of_date", "")).strip()[:10]))
        except ValueError:
            continue
    if not found:
        raise DownloadError("listAsOfDates lists no availability as-of date")
    return max(found).isoformat()


def row_state(row: Mapping[str, Any]) -> str | None:
    """Return a listing row's two-digit state FIPS (from state_fips, else state_name)."""
    fips = row.get("state_fips")
    if fips not in (None, ""):
        text = str(fips).strip()
        return text.zfill(2) if text.isdigit() else None
    name = row.get("state_name")
    try:
        return state_fips(str(name)) if name else None
    except GeoidError:
        return None


def row_techs(row: Mapping[str, Any]) -> set[int]:
    """Return the technology codes of a listing row (a code, a list "10,40", or none)."""
    return {int(p) for p in re.split(r"[,\s]+", str(row.get("technology_code") or ""))
            if p.strip().isdigit()}


def is_fixed(row: Mapping[str, Any]) -> bool:
    """Return True for a fixed-broadband row (technology_type, else subcategory)."""
    kind = row.get("technology_type")
    if kind is None:  # listings without technology_type name it in the subcategory
        kind = row.get("subcategory")
    return str(kind or "").strip().lower() == "fixed broadband"


def select_files(rows: list[dict[str, Any]], wanted: list[str],
                 techs: set[int] | None) -> list[dict[str, Any]]:
    """Keep the State fixed-broadband CSV files of ``wanted`` states and ``techs``, sorted.

    Each kept row is a copy with ``_state`` (its two-digit FIPS) added; the order is state,
    lowest technology code, file name, file id.
    """
    keep = []
    for row in rows:
        if str(row.get("category", "")).strip().lower() != "state" or not is_fixed(row):
            continue
        if str(row.get("file_type") or "csv").strip().lower() != "csv":
            continue
        state = row_state(row)
        if state not in wanted or row.get("file_id") in (None, ""):
            continue
        if techs is not None and not (row_techs(row) & techs):
            continue
        keep.append({**row, "_state": state})
    keep.sort(key=lambda r: (r["_state"], min(row_techs(r), default=-1),
                             str(r.get("file_name") or ""), str(r["file_id"])))
    return keep


def check_every_state(rows: list[dict[str, Any]], wanted: list[str],
                      techs: set[int] | None, date: str) -> None:
    """Raise DownloadError naming every wanted state that no selected row covers."""
    missing = sorted(set(wanted) - {r["_state"] for r in rows})
    if missing:
        which = f" with technology codes {sorted(techs)}" if techs else ""
        raise DownloadError(
            f"listAvailabilityData for {date} lists no State fixed-broadband file{which} for "
            f"state FIPS {', '.join(missing)}; check the as-of date (as_of='latest' picks the "
            "newest) and the technology codes"
        )
