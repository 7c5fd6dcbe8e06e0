"""ACS cells as numbers, and the values no ACS table can hold.

:func:`parse_values` reads one column of text cells (a data.census.gov CSV, or the Census
API's strings): annotations (``-``, ``N``, ``(X)``, ``*****``, ...) become NaN and are
counted; numbers written with thousands separators (``1,234``) are read as numbers and
counted as a repair; top- and bottom-coded values (``250,000+``, ``2,500-``) are read as
their bound and counted; anything else (``1,2,3``, ``1.234,5``, ``12 apples``) is a
:class:`~assetmap.errors.SchemaError` naming file, row and column.

A fractional value in a column of a table of whole counts (``12.5`` households in
``B19001_002E``) is kept as given (rounding would break the table's sums and its margins),
counted as a repair and warned about: such a file is usually interpolated or crosswalked
(:func:`~assetmap.loaders.acs.acs_to_2020_tracts` writes fractional counts on purpose).

:func:`check_plausible` refuses values that cannot be true: a negative estimate or margin
of error (after the API's negative sentinel codes are set to NaN), and a count above its
table's universe (e.g. ``B28002_013E`` households without internet above ``B28002_001E``
households). No repair is defensible there (which of the two numbers is wrong?), so the
error names the file, the row's GEOID and the column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from assetmap._report import count_repair
from assetmap.errors import SchemaError, where

__all__ = ["ANNOTATIONS", "ParseCounts", "check_plausible", "count_repairs", "parse_values"]

ANNOTATIONS = {"-", "N", "(X)", "*****", "****", "***", "**", "*", "null", ""}
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?[+-]?$")
_CODED = re.compile(r"^\d+(\.\d+)?[+-]$")
# tables whose _001 estimate is the universe of every other estimate of the table
_UNIVERSE_TABLES = ("B28002", "B28001", "B17001", "B19001")
# tables of whole counts (households, people): a fraction there is interpolated or wrong
_COUNT_TABLES = (*_UNIVERSE_TABLES, "B01003", "B11001", "B25003", "B08201", "B09001")


@dataclass
class ParseCounts:
    """What :func:`parse_values` read as missing or repaired, summed over columns."""

    annotations: dict[str, int] = field(default_factory=dict)
    thousands: int = 0
    coded: int = 0
    fractional: dict[str, int] = field(default_factory=dict)


def parse_values(text: pd.Series, *, source: str, column: str, first_row: int,
                 counts: ParseCounts) -> pd.Series:
    """Return the cells of one ACS column as float, counting annotations and repairs.

    ``first_row`` is the row number of the first cell in the file (for messages).

    Examples
    --------
    >>> c = ParseCounts()
    >>> parse_values(pd.Series(["1,234", "(X)", "250,000+", "7"]), source="a.csv",
    ...              column="B01003_001E", first_row=3, counts=c).tolist()
    [1234.0, nan, 250000.0, 7.0]
    >>> c.thousands, c.coded, c.annotations
    (2, 1, {'(X)': 1})
    >>> parse_values(pd.Series(["1.234,5"]), source="a.csv", column="x", first_row=3,
    ...              counts=c)
    Traceback (most recent call last):
    ...
    assetmap.errors.SchemaError: a.csv, row 3, column 'x': '1.234,5' is neither a number ...
    """
    cells = text.reset_index(drop=True).astype(object)
    stripped = cells.map(lambda v: v.strip() if isinstance(v, str) else v)
    missing = stripped.isna()
    as_text = stripped.where(~missing, "null").astype(str)
    is_note = as_text.isin(ANNOTATIONS)
    for code, n in as_text[is_note].replace("", "(blank)").value_counts().items():
        counts.annotations[code] = counts.annotations.get(code, 0) + int(n)
    grouped = as_text.str.fullmatch(_THOUSANDS)
    counts.thousands += int(grouped.sum())
    plain = as_text.where(~grouped, as_text.str.replace(",", "", regex=False))
    bound = plain.str.fullmatch(_CODED)
    counts.coded += int(bound.sum())
    plain = plain.where(~bound, plain.str[:-1]).mask(is_note)
    values = pd.to_numeric(plain, errors="coerce").astype(float)
    bad = (values.isna() & plain.notna()) | np.isinf(values)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise SchemaError(f"{where(source, row=row + first_row, column=column)}: "
                          f"{cells.iloc[row]!r} is neither a number nor an ACS annotation")
    if column.partition("_")[0] in _COUNT_TABLES:
        fractional = int(((values % 1).fillna(0) != 0).sum())
        if fractional:
            counts.fractional[column] = counts.fractional.get(column, 0) + fractional
    return values


def count_repairs(report: dict[str, Any], counts: ParseCounts) -> None:
    """Record (and warn about) the repairs :func:`parse_values` counted."""
    if counts.thousands:
        count_repair(report, "numbers with thousands separators (e.g. 1,234) read as numbers",
                     counts.thousands)
    if counts.fractional:
        count_repair(report, "fractional values in count columns kept as given (an "
                     "interpolated or crosswalked table?): "
                     + ", ".join(f"{c} ({n})" for c, n in counts.fractional.items()),
                     sum(counts.fractional.values()))
    if counts.coded:
        count_repair(report, "top/bottom-coded values (e.g. 250,000+) read as their bound",
                     counts.coded)


def check_plausible(frame: pd.DataFrame, variables: list[str], *, source: str) -> None:
    """Raise a SchemaError for a repeated GEOID, a negative value or a count above its universe.

    Examples
    --------
    >>> f = pd.DataFrame({"GEOID": ["48135000100"], "B28002_001E": [100.0],
    ...                   "B28002_013E": [120.0]})
    >>> check_plausible(f, ["B28002_001E", "B28002_013E"], source="acs.csv")
    Traceback (most recent call last):
    ...
    assetmap.errors.SchemaError: acs.csv, row with GEOID 48135000100, column 'B28002_013E': ...
    """
    geoids = frame["GEOID"].astype(str).to_numpy() if "GEOID" in frame else None
    if geoids is not None:
        twice = frame["GEOID"].duplicated(keep=False).to_numpy()
        if twice.any():
            rows = (np.flatnonzero(twice) + 1).tolist()[:5]
            raise SchemaError(f"{source}: GEOID {geoids[twice][0]} appears in more than one row "
                              f"(data rows {rows}, {int(twice.sum())} rows in all); keep one "
                              "row per area")

    def fail(column: str, hit: pd.Series, why: str) -> None:
        i = int(np.flatnonzero(hit.to_numpy())[0])
        row = f"row with GEOID {geoids[i]}" if geoids is not None else f"row {i + 1}"
        raise SchemaError(f"{source}, {row}, column {column!r}: {why.format(frame[column].iloc[i])}"
                          f" ({int(hit.sum())} such rows); correct the file or download the "
                          "table again")

    for column in variables:
        values = frame[column]
        negative = values < 0
        if negative.any():
            fail(column, negative, "{:g} is negative, which no ACS count or margin can be")
        table, _, rest = column.partition("_")
        number = rest[:3]
        universe = f"{table}_001E"
        if (column.endswith("E") and table in _UNIVERSE_TABLES and number != "001"
                and universe in frame):
            above = values > frame[universe]
            if above.any():
                i = int(np.flatnonzero(above.to_numpy())[0])
                fail(column, above, "{:g} is above the table's universe " + universe
                     + f" ({frame[universe].iloc[i]:g}), which counts all of them")
