"""Neutralise spreadsheet formulas in text written to CSV (formula injection).

Grant writers and district staff open assetmap's CSV files in Excel or Google Sheets, which run
a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return as a formula.
Every CSV writer of assetmap passes its text through here: such cells get a leading ``'``
(shown as text by spreadsheets), except plain numbers like ``-0.5``.

The test is vectorised per column: one ``startswith`` over the column finds the few candidate
cells, and only those are checked further (text, not a plain number).
"""

from __future__ import annotations

import numbers
import re
from pathlib import Path

import numpy as np
import pandas as pd

from assetmap.errors import ConfigError

__all__ = ["FORMULA_START", "neutralize_formulas", "neutralize_frame", "write_csv"]

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def _is_text_column(values: pd.Series) -> bool:
    """Whether a column can hold text: anything but plain numbers, booleans and datetimes.

    Categoricals (whatever their categories), object columns of mixed types, ``string``
    (python or pyarrow), pyarrow-backed and other extension columns all count as text.
    """
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return True
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_datetime64_any_dtype(dtype):
        return False
    return not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_object_dtype(dtype)


def _risky(values: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Return the positions of the cells to prefix and their text (both empty when none).

    A cell is checked as the CSV writer would write it (``str``); numbers (also numbers held
    in an object or categorical column) are never prefixed, nor text that is a plain number.
    """
    cells_all = values.astype(object)
    plain_text = pd.api.types.is_string_dtype(values.dtype) and not (
        pd.api.types.is_object_dtype(values.dtype)
        or isinstance(values.dtype, pd.CategoricalDtype))
    text = values if plain_text else cells_all.astype(str)
    starts = text.str.startswith(FORMULA_START).to_numpy(dtype=bool, na_value=False)
    positions = np.flatnonzero(starts)
    if not len(positions):
        return positions, text.iloc[:0]
    cells = cells_all.iloc[positions]
    is_number = np.fromiter((isinstance(v, numbers.Number) and not isinstance(v, str)
                             for v in cells), dtype=bool, count=len(cells))
    candidates = text.iloc[positions].astype(object)
    plain = candidates.str.strip().str.fullmatch(_NUMBER).to_numpy(dtype=bool, na_value=False)
    keep = ~(is_number | plain)
    return positions[keep], candidates[keep]


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
    out = frame.copy()
    source = out.copy(deep=False)
    source.columns = pd.RangeIndex(out.shape[1])  # a MultiIndex or repeated names as well
    source.attrs = {}  # column access without copying the run report each time
    for i in range(out.shape[1]):
        values = source.iloc[:, i]
        if not _is_text_column(values):
            continue
        positions, cells = _risky(values)
        if len(positions):
            fixed = values.astype(object).copy()
            fixed.iloc[positions] = ("'" + cells).to_numpy(dtype=object)
            out.isetitem(i, fixed)
    names = [" ".join(map(str, c)) if isinstance(out.columns, pd.MultiIndex) else str(c)
             for c in out.columns]  # levels of a MultiIndex header joined by a space
    out.columns = [str(c) for c in neutralize_formulas(pd.Series(names, dtype=object))]
    return out


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` as UTF-8 CSV (no index, CRLF) with every text cell neutralised.

    The one CSV writer of assetmap: exports, challenge candidates and NTIA's ``cai.csv``
    all go through it, so no writer can forget the guard.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = write_csv(pd.DataFrame({"a": pd.Categorical(["=1", "ok"]), "n": [-1, 2]}), p)
    >>> p.read_text().splitlines()
    ['a,n', "'=1,-1", 'ok,2']
    """
    path = Path(path)
    table = neutralize_frame(frame)
    try:
        table.to_csv(path, index=False, encoding="utf-8", lineterminator="\r\n")
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return path
