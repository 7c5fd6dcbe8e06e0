"""Funding programs as dated data, and the sentences that name them ("as of" a date).

:func:`funding_programs` reads ``funding_programs.json`` and merges a study's entries;
:func:`program_sentence` and :func:`funding_text` write every sentence that names a program.

The shipped file (``assetmap/analysis/funding_programs.json``) holds one entry per program:
``key``, ``name``, ``status`` (active, ended, changed, cancelled), ``status_date`` (ISO),
``status_text``, ``interventions`` (the intervention codes it is named for) and ``source``
(an official address, or empty with the reason in the file's ``source_note``). A study passes
its own entries (a JSON or CSV path, a DataFrame or a list of dicts): an entry with a shipped
key updates that entry field by field, a new key adds a program.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from importlib.resources import files
from pathlib import Path
from typing import Any, TypeAlias

import pandas as pd

from assetmap._i18n import messages
from assetmap.errors import ConfigError

__all__ = [
    "FIELDS",
    "SEPARATOR",
    "STATUSES",
    "TRANSLATED_FIELDS",
    "ProgramsLike",
    "funding_programs",
    "funding_text",
    "program_sentence",
]

#: Columns of the program table, in order.
FIELDS = ("key", "name", "status", "status_date", "status_text", "interventions", "source")
#: Optional columns: the name and status text in another language (``name_es``).
TRANSLATED_FIELDS = ("name_es", "status_text_es")
#: Allowed values of ``status``.
STATUSES = ("active", "ended", "changed", "cancelled")
#: Between two program sentences in the ``intervention_funding`` column.
SEPARATOR = " | "

ProgramsLike: TypeAlias = str | Path | pd.DataFrame | Iterable[Mapping[str, Any]] | None


def _shipped() -> list[dict[str, Any]]:
    text = files("assetmap.analysis").joinpath("funding_programs.json").read_text("utf-8")
    return list(json.loads(text)["programs"])


def _codes(value: Any) -> list[str]:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return []
    if isinstance(value, str):
        return [c.strip() for c in value.replace(",", ";").split(";") if c.strip()]
    return [str(c).strip() for c in value]


def _study_entries(programs: ProgramsLike) -> list[dict[str, Any]]:
    if programs is None:
        return []
    if isinstance(programs, str | Path):
        path = Path(programs)
        if not path.exists():
            raise ConfigError(f"funding programs file {path} does not exist")
        if path.suffix.lower() == ".json":
            data = json.loads(path.read_text("utf-8"))
            entries = data.get("programs", []) if isinstance(data, dict) else data
        elif path.suffix.lower() == ".csv":
            entries = pd.read_csv(path, dtype=str, keep_default_na=False).to_dict("records")
        else:
            raise ConfigError(f"funding programs file {path}: expected .json or .csv")
    elif isinstance(programs, pd.DataFrame):
        entries = programs.to_dict("records")
    else:
        entries = list(programs)
    out = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, Mapping) or not str(entry.get("key") or "").strip():
            raise ConfigError(f"funding program entry {i + 1} has no 'key': {entry!r}")
        unknown = sorted(set(entry) - set(FIELDS) - set(TRANSLATED_FIELDS))
        if unknown:
            raise ConfigError(f"funding program {entry['key']!r}: unknown field(s) {unknown}; "
                              f"allowed: {[*FIELDS, *TRANSLATED_FIELDS]}")
        # a blank cell (CSV) or NaN (frame) keeps the shipped value; a blank source clears it
        out.append({k: v for k, v in entry.items() if k == "source" or not _blank(v)})
    return out


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (
        isinstance(value, float) and pd.isna(value))


def _check(entry: dict[str, Any]) -> dict[str, Any]:
    key = entry["key"]
    missing = [f for f in FIELDS if f != "source" and entry.get(f) in (None, "")]
    if missing:
        raise ConfigError(f"funding program {key!r} lacks {missing}")
    if entry["status"] not in STATUSES:
        raise ConfigError(f"funding program {key!r}: status must be one of {STATUSES}, "
                          f"got {entry['status']!r}")
    try:
        date = dt.date.fromisoformat(str(entry["status_date"]))
    except ValueError as exc:
        raise ConfigError(f"funding program {key!r}: status_date must be an ISO date "
                          f"(YYYY-MM-DD), got {entry['status_date']!r}") from exc
    return {**entry, "status_date": date.isoformat(), "interventions": _codes(
        entry["interventions"]), "source": str(entry.get("source") or ""),
        **{f: str(entry.get(f) or "") for f in TRANSLATED_FIELDS}}


def funding_programs(programs: ProgramsLike = None) -> pd.DataFrame:
    """Return the program table: the shipped entries, updated and extended by ``programs``.

    Parameters
    ----------
    programs : path, DataFrame or list of dicts, optional
        A study's entries (JSON with a ``programs`` list, or CSV with the columns of
        :data:`FIELDS`; ``interventions`` ``;``-separated in a CSV). An entry whose ``key`` is
        shipped updates only the fields it gives; a new key needs every field but ``source``.

    Returns
    -------
    DataFrame
        One row per program, columns :data:`FIELDS` and :data:`TRANSLATED_FIELDS`, shipped
        order then new keys.

    Raises
    ------
    ConfigError
        Unknown fields, a missing field, a status not in :data:`STATUSES`, a date not ISO.

    Examples
    --------
    >>> t = funding_programs([{"key": "lifeline", "status": "ended",
    ...                        "status_date": "2030-01-01", "status_text": "ended"}])
    >>> t.set_index("key").loc[["acp", "lifeline"], ["status", "status_date"]].values.tolist()
    [['ended', '2024-06-01'], ['ended', '2030-01-01']]
    """
    merged = {e["key"]: dict(e) for e in _shipped()}
    for entry in _study_entries(programs):
        merged[entry["key"]] = {**merged.get(entry["key"], {}), **entry}
    rows = [_check(e) for e in merged.values()]
    return pd.DataFrame(rows, columns=[*FIELDS, *TRANSLATED_FIELDS])


def _in_language(row: Mapping[str, Any], field: str, language: str) -> str:
    translated = row.get(f"{field}_{language}") if language != "en" else None
    return str(translated) if translated and not _blank(translated) else str(row[field])


def program_sentence(row: Mapping[str, Any], *, language: object = "en") -> str:
    """Return one program's sentence: its name, status text and "as of" its status date.

    ``language="es"`` uses the entry's ``name_es`` and ``status_text_es`` (its own words when
    it has none) and a Spanish date.

    Examples
    --------
    >>> t = funding_programs().set_index("key", drop=False)
    >>> program_sentence(t.loc["acp"])[:60]
    'Affordable Connectivity Program (ACP): ended when its fundin'
    >>> program_sentence(t.loc["acp"]).endswith("(as of June 1, 2024)")
    True
    >>> program_sentence(t.loc["acp"], language="es").endswith("(al 1 de junio de 2024)")
    True
    """
    _ = messages(language)
    return _("{name}: {status} (as of {date})", name=_in_language(row, "name", _.language),
             status=_in_language(row, "status_text", _.language),
             date=_.date(str(row["status_date"])))


def funding_text(code: str, table: pd.DataFrame, *, language: object = "en") -> str:
    """Return the sentences of the programs named for one intervention code, joined.

    Ended, cancelled and changed programs come first so the caveat is read first.

    Examples
    --------
    >>> text = funding_text("affordability_adoption", funding_programs())
    >>> "E-Rate" in text and "hotspot" in text and "(as of September 30, 2025)" in text
    True
    >>> funding_text("monitor", funding_programs())
    ''
    """
    named = table[[code in codes for codes in table["interventions"]]]
    rank = {"ended": 0, "cancelled": 1, "changed": 2, "active": 3}
    named = named.assign(_r=named["status"].map(rank)).sort_values("_r", kind="stable")
    return SEPARATOR.join(program_sentence(r, language=language) for _, r in named.iterrows())
