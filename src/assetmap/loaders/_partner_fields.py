"""The partner-site schema and how each field of a registry is parsed.

:data:`PARTNER_COLUMNS` is the frame every partner loader returns (registry, anchor sites,
OpenStreetMap). The parsers map a registry's text through the vocabulary of
:mod:`assetmap.loaders.partner_vocab` (site types, services, statuses), turn Excel time cells
into ``HH:MM`` text and make stable site ids; an unknown value raises
:class:`~assetmap.errors.SchemaError` naming file, row, column and the allowed values.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any

import numpy as np
import pandas as pd

from assetmap._report import count_repair
from assetmap.errors import SchemaError, where
from assetmap.loaders import partner_vocab as vocab

__all__ = [
    "NUMERIC_COLUMNS",
    "PARTNER_COLUMNS",
    "TEXT_COLUMNS",
    "clean",
    "hours",
    "joined_services",
    "map_values",
    "service_flags",
    "site_ids",
]

PARTNER_COLUMNS = [
    "site_id", "name", "site_type", "services", *(f"svc_{s}" for s in vocab.SERVICES),
    "capacity_seats", "capacity_devices", "capacity_hotspots", "hours", "wifi_radius_m",
    "status", "contact", "address", "route", "schedule", "source", "illustrative", "geometry",
]
NUMERIC_COLUMNS = ("capacity_seats", "capacity_devices", "capacity_hotspots", "wifi_radius_m")
TEXT_COLUMNS = ("contact", "route", "schedule")
_EXCEL_EPOCHS = {dt.date(1899, 12, 30), dt.date(1899, 12, 31), dt.date(1900, 1, 1)}
_DATE_TEXT = re.compile(r"^(\d{4}-\d{2}-\d{2}([ T]00:00(:00)?)?|\d{1,2}/\d{1,2}/\d{2,4})$")
_FRACTION = re.compile(r"^0?\.\d+$")


def clean(value: Any) -> str | None:
    """Return a cell as stripped text, or None for an empty or missing cell."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    return str(value).strip() or None


def map_values(
    values: pd.Series, table: dict[str, tuple[str, ...]], *, column: str, source: str
) -> pd.Series:
    """Map text through a synonym table; unknown values raise SchemaError with the allowed ones."""
    lookup = vocab.lookup(table)
    keys = values.map(lambda v: None if v is None or pd.isna(v) else vocab.value_key(v))
    mapped = pd.Series([lookup.get(k) if k else None for k in keys], index=values.index,
                       dtype=object)
    bad = keys.notna() & (keys != "") & pd.Series([m is None for m in mapped], index=keys.index)
    if bad.any():
        row = bad[bad].index[0]
        raise SchemaError(
            f"{where(source, row=int(row), column=column)}: unknown value {values.loc[row]!r}; "
            f"allowed: {', '.join(table)} (or a synonym listed in assetmap.loaders.partner_vocab)"
            f"; {int(bad.sum())} row(s) have unknown values"
        )
    return mapped


def service_flags(values: pd.Series, *, source: str) -> pd.DataFrame:
    """Return one boolean column per service from ``;``-, ``,``- or ``|``-separated cells."""
    lookup = vocab.lookup(vocab.SERVICE_SYNONYMS)
    flags = pd.DataFrame(False, index=values.index, columns=list(vocab.SERVICES))
    for row, cell in values.dropna().items():
        for token in re.split(r"[;,|]", str(cell)):
            key = vocab.value_key(token)
            if not key:
                continue
            if key not in lookup:
                raise SchemaError(
                    f"{where(source, row=int(row), column='services')}: unknown service "
                    f"{token.strip()!r}; allowed: {', '.join(vocab.SERVICES)} (separate several "
                    "with ';')"
                )
            flags.loc[row, lookup[key]] = True
    return flags


def hours(values: pd.Series, report: dict[str, Any]) -> pd.Series:
    """Text hours; Excel time cells become HH:MM, Excel date cells are blanked and reported."""
    times: list[int] = []
    dates: list[int] = []

    def convert(row: int, cell: Any) -> Any:
        if cell is None or (isinstance(cell, float) and np.isnan(cell)):
            return None
        if isinstance(cell, dt.time):
            times.append(row)
            return cell.strftime("%H:%M")
        if isinstance(cell, dt.datetime | dt.date):
            stamp = pd.Timestamp(cell)
            if stamp.date() in _EXCEL_EPOCHS:
                times.append(row)
                return stamp.strftime("%H:%M")
            dates.append(row)
            return None
        if isinstance(cell, int | float) and 0 < float(cell) < 1:
            times.append(row)
            minutes = round(float(cell) * 24 * 60)
            return f"{minutes // 60:02d}:{minutes % 60:02d}"
        text = str(cell).strip()
        if _FRACTION.match(text):
            return convert(row, float(text))
        if _DATE_TEXT.match(text):
            dates.append(row)
            return None
        return text or None

    out = pd.Series([convert(int(r), c) for r, c in values.items()], index=values.index,
                    dtype=object)
    count_repair(report, "hours: an Excel time cell was converted to HH:MM text", len(times))
    if dates:
        reason = ("hours: an Excel date was found instead of hours; left blank, retype them "
                  "as text (e.g. 'Mon-Fri 9-5')")
        count_repair(report, reason, len(dates))
        report["notes"].append(f"{reason}: rows {dates[:20]}")
    return out


def site_ids(names: pd.Series, lat: np.ndarray, lon: np.ndarray) -> list[str]:
    """Return stable ids: ``"site-" + sha1("name key|lat|lon")[:10]`` (5 decimals)."""
    keys = [f"{vocab.value_key(n)}|{y:.5f}|{x:.5f}"
            for n, y, x in zip(names, lat, lon, strict=True)]
    return ["site-" + hashlib.sha1(k.encode("utf-8")).hexdigest()[:10] for k in keys]


def joined_services(flags: pd.DataFrame) -> list[str]:
    """Return each row's services as ``;``-separated text in vocabulary order."""
    return [";".join(s for s in vocab.SERVICES if r[s]) for r in flags.to_dict("records")]
