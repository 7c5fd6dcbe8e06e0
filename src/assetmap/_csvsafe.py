"""Neutralise spreadsheet formulas in text written to CSV (formula injection).

Grant writers and district staff open assetmap's CSV files in Excel or Google Sheets, which run
a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return as a formula.
Every CSV writer of assetmap passes its text through here: such cells get a leading ``'``
(shown as text by spreadsheets), except plain numbers like ``-0.5``.
"""

from __future__ import annotations

import re

import pandas as pd

__all__ = ["FORMULA_START", "neutralize_formulas", "neutralize_frame"]

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def neutralize_formulas(values: pd.Series) -> pd.Series:
    """Prefix text cells that start like a spreadsheet formula with ``'`` (numbers stay).

    Examples
    --------
    >>> neutralize_formulas(pd.Series(["=SUM(A1)", "-0.5", "@cmd", "ok"])).tolist()
    ["'=SUM(A1)", '-0.5', "'@cmd", 'ok']
    """
    if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
        return values
    is_text = values.map(lambda v: isinstance(v, str)).astype(bool)
    text = values.where(is_text, "").astype(str)
    risky = is_text & text.str.startswith(FORMULA_START) & ~text.str.strip().str.fullmatch(
        _NUMBER
    )
    out = values.astype(object).copy()
    out[risky.to_numpy()] = ("'" + text[risky]).to_numpy()
    return out


def neutralize_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``frame`` whose text cells and column names cannot start a formula.

    Examples
    --------
    >>> frame = pd.DataFrame({"a": ["=1+2", "ok", "-x"], "n": [-1, 2, 3]})
    >>> neutralize_frame(frame).to_dict("list")
    {'a': ["'=1+2", 'ok', "'-x"], 'n': [-1, 2, 3]}
    """
    out = frame.copy()
    for column in out.columns:
        out[column] = neutralize_formulas(out[column])
    out.columns = [str(c) for c in neutralize_formulas(pd.Series(out.columns, dtype=object))]
    return out
