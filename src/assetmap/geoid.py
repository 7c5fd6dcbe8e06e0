"""GEOID and FIPS codes: normalise, validate and look up.

Census GEOIDs are fixed-width strings of digits:

=============  ======  ===========================
geography      digits  example
=============  ======  ===========================
state          2       ``48``
county         5       ``48135``
tract          11      ``48135000100``
block group    12      ``481350001001``
block          15      ``481350001001000``
=============  ======  ===========================

Spreadsheets turn them into numbers and drop the leading zero (``01001`` -> ``1001``) or
write them in scientific notation. :func:`normalize_geoids` repairs a value only when its
length makes the repair unambiguous (one digit short, for a code whose state FIPS starts
with 0) and says how many it repaired; anything else raises :class:`~assetmap.errors.GeoidError`
naming the value and where it came from.
"""

from __future__ import annotations

import csv
import re
import warnings
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Literal

import numpy as np
import pandas as pd

from assetmap.errors import GeoidError, RepairWarning, where

__all__ = [
    "GEOID_LENGTHS",
    "county_fips",
    "geoid_level",
    "normalize_geoid",
    "normalize_geoids",
    "state_fips",
    "state_usps",
    "tract_of",
]

Level = Literal["state", "county", "tract", "block_group", "block"]

GEOID_LENGTHS: dict[Level, int] = {
    "state": 2,
    "county": 5,
    "tract": 11,
    "block_group": 12,
    "block": 15,
}
_LEVEL_BY_LENGTH = {n: level for level, n in GEOID_LENGTHS.items()}
_DIGITS = re.compile(r"^\d+$")
_FLOATISH = re.compile(r"^(\d+)\.0+$")
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")


class GeoidRepairWarning(RepairWarning):
    """GEOIDs were repaired (leading zeros restored); the message counts them."""


@cache
def _states() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """Return (key -> fips, fips -> usps, fips -> name) from the bundled state list."""
    by_key: dict[str, str] = {}
    usps: dict[str, str] = {}
    names: dict[str, str] = {}
    text = resources.files("assetmap._fips").joinpath("states.csv").read_text("utf-8")
    for row in csv.DictReader(text.splitlines()):
        fips = row["fips"].zfill(2)
        by_key[row["name"].strip().lower()] = fips
        by_key[row["postal"].strip().lower()] = fips
        by_key[fips] = fips
        usps[fips] = row["postal"].strip().upper()
        names[fips] = row["name"].strip()
    return by_key, usps, names


@cache
def _county_rows() -> dict[str, list[tuple[str, str]]]:
    """Return state fips -> [(county name, 5-digit fips)] from the bundled county list."""
    rows: dict[str, list[tuple[str, str]]] = {}
    text = resources.files("assetmap._fips").joinpath("counties_2020.csv").read_text("utf-8")
    for row in csv.DictReader(text.splitlines()):
        state = row["statefp"].zfill(2)
        rows.setdefault(state, []).append((row["name"], state + row["countyfp"].zfill(3)))
    return rows


@cache
def _state_counties(state: str) -> dict[str, str]:
    """Return {normalised county name -> 5-digit fips} for one state (built once per state)."""
    names: dict[str, str] = {}
    for name, code in _county_rows().get(state, []):
        for key in _county_keys(name):
            names.setdefault(key, code)
    return names


def _counties() -> dict[str, dict[str, str]]:
    """Return state fips -> {normalised county name -> 5-digit fips}."""
    return {state: _state_counties(state) for state in _county_rows()}


_COUNTY_SUFFIXES = (
    " county", " parish", " borough", " census area", " city and borough",
    " municipality", " municipio", " planning region",
)


def _county_keys(name: str) -> set[str]:
    key = re.sub(r"[^a-z0-9 ]", "", name.lower().replace("saint ", "st ").replace("st. ", "st "))
    key = re.sub(r"\s+", " ", key).strip()
    keys = {key}
    for suffix in _COUNTY_SUFFIXES:
        if key.endswith(suffix):
            keys.add(key[: -len(suffix)].strip())
    return keys


def state_fips(state: str | int) -> str:
    """Return the two-digit FIPS code of a state given by name, USPS code or FIPS.

    Parameters
    ----------
    state : str or int
        ``"Texas"``, ``"TX"``, ``"tx"``, ``48`` or ``"48"``.

    Returns
    -------
    str
        The two-digit state FIPS code.

    Raises
    ------
    GeoidError
        If the state is not recognised.

    Examples
    --------
    >>> state_fips("Texas"), state_fips("tx"), state_fips(6)
    ('48', '48', '06')
    """
    by_key, _, _ = _states()
    key = str(state).strip().lower()
    if key.isdigit():
        key = key.zfill(2)
    if key not in by_key:
        raise GeoidError(
            f"unknown state {state!r}: give a state name, USPS code (e.g. 'TX') or FIPS code"
        )
    return by_key[key]


def state_usps(state: str | int) -> str:
    """Return the USPS code (``"TX"``) of a state given by name, code or FIPS.

    Examples
    --------
    >>> state_usps("48")
    'TX'
    """
    return _states()[1][state_fips(state)]


def county_fips(state: str | int, county: str | int) -> str:
    """Return the five-digit FIPS code of a county.

    Parameters
    ----------
    state : str or int
        The state, as accepted by :func:`state_fips`.
    county : str or int
        A county name (``"Ector"``, ``"Ector County"``, case-insensitive), its three-digit
        county code (``"135"`` or ``135``) or its five-digit FIPS code (``"48135"``).

    Returns
    -------
    str
        The five-digit county FIPS code.

    Raises
    ------
    GeoidError
        If the county is not found in that state, naming close matches.

    Examples
    --------
    >>> county_fips("TX", "Ector")
    '48135'
    >>> county_fips("Texas", 135)
    '48135'
    """
    st = state_fips(state)
    text = str(county).strip()
    if text.isdigit():
        if len(text) <= 3:
            return st + text.zfill(3)
        if len(text) == 5 and text.startswith(st):
            return text
        if len(text) == 4 and st.startswith("0") and ("0" + text).startswith(st):
            return "0" + text
        raise GeoidError(f"county code {county!r} is not a county of state {st}")
    names = _state_counties(st)
    for key in _county_keys(text):
        if key in names:
            return names[key]
    first = text[:3].lower()
    close = sorted(k for k in names if k.startswith(first))[:5]
    hint = f"; did you mean one of {close}?" if close else ""
    raise GeoidError(f"no county named {county!r} in state {st}{hint}")


def geoid_level(geoid: str) -> Level:
    """Return the geography level of a well-formed GEOID string, from its length.

    Examples
    --------
    >>> geoid_level("48135000100")
    'tract'
    """
    try:
        return _LEVEL_BY_LENGTH[len(geoid)]
    except KeyError:
        raise GeoidError(f"{geoid!r} has {len(geoid)} characters, not a GEOID length") from None


def tract_of(geoid: str) -> str:
    """Return the 11-digit tract GEOID that a block group or block GEOID lies in.

    Examples
    --------
    >>> tract_of("481350001001000")
    '48135000100'
    """
    if len(geoid) < 11 or not geoid[:11].isdigit():
        raise GeoidError(f"{geoid!r} is not a tract, block group or block GEOID")
    return geoid[:11]


def normalize_geoid(value: object, *, level: Level, source: str | None = None) -> str:
    """Normalise one GEOID; see :func:`normalize_geoids` for the rules.

    Examples
    --------
    >>> normalize_geoid(1001020100, level="tract")
    '01001020100'
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GeoidRepairWarning)
        return str(normalize_geoids(pd.Series([value]), level=level, source=source).iloc[0])


def normalize_geoids(
    values: Iterable[object] | pd.Series,
    *,
    level: Level,
    source: str | None = None,
    column: str | None = None,
) -> pd.Series:
    """Return GEOIDs as zero-padded strings of the expected length.

    Accepted without change: strings of exactly the expected number of digits. Repaired,
    with one :class:`GeoidRepairWarning` that counts them:

    * integers or floats (``1001020100``, ``1001020100.0``) and digit strings that are
      exactly one digit short: a leading zero is restored. This is unambiguous because only
      state FIPS codes 01-09 begin with zero, and a lost zero shortens the code by one;
    * surrounding white space and a trailing ``.0`` (Excel's float export).

    Anything else (scientific notation, which has lost digits; letters; a wrong length;
    a missing value) raises :class:`~assetmap.errors.GeoidError` naming the first bad value,
    its row and how many rows are bad.

    Parameters
    ----------
    values : iterable or pandas.Series
        The raw values.
    level : {"state", "county", "tract", "block_group", "block"}
        The geography the codes must be.
    source : str, optional
        The file or frame the values came from, for messages.
    column : str, optional
        The column the values came from, for messages.

    Returns
    -------
    pandas.Series
        Strings (``object`` dtype), aligned to the input index when a Series was given.

    Examples
    --------
    >>> import pandas as pd
    >>> normalize_geoids(pd.Series(["48135000100", 48135000300]), level="tract").tolist()
    ['48135000100', '48135000300']
    """
    if level not in GEOID_LENGTHS:
        raise ValueError(f"level must be one of {list(GEOID_LENGTHS)}, got {level!r}")
    width = GEOID_LENGTHS[level]
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    clean = _clean_codes(series, width)
    if clean is not None:
        return pd.Series(clean, index=series.index, name=series.name)
    text = series.astype("string").str.strip()
    floatish = text.str.extract(_FLOATISH, expand=False)
    text = floatish.fillna(text)
    is_digits = text.str.fullmatch(r"\d+").fillna(False).astype(bool)
    lengths = text.str.len()
    short_by_one = is_digits & (lengths == width - 1)
    ok = is_digits & (lengths == width)
    bad = ~(ok | short_by_one)
    if bad.any():
        positions = np.flatnonzero(bad.to_numpy())
        first = int(positions[0])
        raw = series.iloc[first]
        row = first + 1
        reason = _why_bad(raw, width)
        raise GeoidError(
            f"{where(source, row=row, column=column) or 'value'}: {raw!r} is not a {level} "
            f"GEOID ({width} digits): {reason}; {len(positions)} of {len(series)} values are "
            "bad. Keep GEOIDs as text when saving from a spreadsheet."
        )
    repaired = int(short_by_one.sum())
    text = text.where(~short_by_one, "0" + text)
    unknown_state = ~text.str[:2].isin(set(_states()[1]))
    if unknown_state.any():
        first = int(np.flatnonzero(unknown_state.to_numpy())[0])
        raise GeoidError(
            f"{where(source, row=first + 1, column=column) or 'value'}: "
            f"{series.iloc[first]!r} starts with {text.iloc[first][:2]!r}, which is not a state "
            f"FIPS code; {int(unknown_state.sum())} of {len(series)} values are bad"
        )
    if repaired:
        label = where(source, column=column) or "input"
        warnings.warn(
            f"{label}: restored a lost leading zero in {repaired} of {len(series)} {level} "
            "GEOIDs (saved as numbers by a spreadsheet)",
            GeoidRepairWarning,
            stacklevel=2,
        )
    out = pd.Series(text.astype(object).to_numpy(), index=series.index, name=series.name)
    return out


def _clean_codes(series: pd.Series, width: int) -> np.ndarray | None:
    """Return the codes as an object array if all are well formed (``width`` digits), else None.

    Well formed: a string of ``width`` ASCII digits starting with a state FIPS code. The
    common case is checked without regular expressions; any other input takes the general
    path of :func:`normalize_geoids` (repairs and errors).
    """
    if not (pd.api.types.is_string_dtype(series.dtype) or series.dtype == object):
        return None
    values = series.to_numpy(dtype=object, na_value=None)
    states = _states()[1]
    for value in values:
        if not (type(value) is str and len(value) == width and value.isascii()
                and value.isdigit() and value[:2] in states):
            return None
    return values


def _why_bad(raw: object, width: int) -> str:
    if raw is None or (isinstance(raw, float) and np.isnan(raw)) or raw is pd.NA:
        return "missing value"
    text = str(raw).strip()
    if _SCIENTIFIC.match(text):
        return "scientific notation has lost digits (a spreadsheet saved it as a number)"
    if not text.isdigit():
        return "contains characters other than digits"
    return f"has {len(text)} digits"
