"""Neutralise spreadsheet formulas in text written to CSV (formula injection).

Grant writers and district staff open assetmap's CSV files in Excel or Google Sheets, which run
a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return as a formula.
Every CSV writer of assetmap passes its text through here: such cells get a leading ``'``
(shown as text by spreadsheets), except plain numbers like ``-0.5``.

The test is vectorised per column: one ``startswith`` over the column finds the few candidate
cells, and only those are checked further (text, not a plain number).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

__all__ = ["FORMULA_START", "neutralize_formulas", "neutralize_frame"]

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def _is_text_column(values: pd.Series) -> bool:
    return pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)


def _risky(values: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Return the positions of the cells to prefix and their text (both empty when none)."""
    text = values if pd.api.types.is_string_dtype(values) and not pd.api.types.is_object_dtype(
        values) else values.astype("str")
    starts = text.str.startswith(FORMULA_START).to_numpy(dtype=bool, na_value=False)
    positions = np.flatnonzero(starts)
    if not len(positions):
        return positions, text.iloc[:0]
    cells = values.iloc[positions]
    if pd.api.types.is_object_dtype(values):  # only real text cells, never numbers or objects
        is_text = np.fromiter((isinstance(v, str) for v in cells), dtype=bool, count=len(cells))
        positions, cells = positions[is_text], cells[is_text]
    candidates = cells.astype(str)
    number = candidates.str.strip().str.fullmatch(_NUMBER).to_numpy(dtype=bool, na_value=False)
    return positions[~number], candidates[~number]


def neutralize_formulas(values: pd.Series) -> pd.Series:
    """Prefix text cells that start like a spreadsheet formula with ``'`` (numbers stay).

    Text columns come back with object dtype; other columns are returned as they are.

    Examples
    --------
    >>> neutralize_formulas(pd.Series(["=SUM(A1)", "-0.5", "@cmd", "ok"])).tolist()
    ["'=SUM(A1)", '-0.5', "'@cmd", 'ok']
    """
    if not _is_text_column(values):
        return values
    positions, text = _risky(values)
    out = values.astype(object).copy()
    if len(positions):
        out.iloc[positions] = ("'" + text).to_numpy(dtype=object)
    return out


def neutralize_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``frame`` whose text cells and column names cannot start a formula.

    Columns with nothing to neutralise are kept as they are (same dtype, same CSV text).

    Examples
    --------
    >>> frame = pd.DataFrame({"a": ["=1+2", "ok", "-x"], "n": [-1, 2, 3]})
    >>> neutralize_frame(frame).to_dict("list")
    {'a': ["'=1+2", 'ok', "'-x"], 'n': [-1, 2, 3]}
    """
    text = [i for i, dtype in enumerate(frame.dtypes)
            if pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)]
    out = frame.copy()
    source = out.copy(deep=False)
    source.attrs = {}  # column access without copying the run report each time
    for i in text:
        values = source.iloc[:, i]
        positions, cells = _risky(values)
        if len(positions):
            fixed = values.astype(object).copy()
            fixed.iloc[positions] = ("'" + cells).to_numpy(dtype=object)
            out.isetitem(i, fixed)
    out.columns = [str(c) for c in neutralize_formulas(pd.Series(out.columns, dtype=object))]
    return out
