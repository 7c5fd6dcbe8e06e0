"""The number columns of an availability frame read without :func:`assetmap.load_bdc`.

A frame read with ``pandas.read_csv(path, dtype=str)`` (or edited by hand) holds its speeds,
technology codes and latency flags as text. Before DuckDB classifies its rows
(:func:`assetmap.bdc._common.frame_rows`), :func:`frame_numbers` reads them as the BDC file
readers do: exact float64 (``24.6`` stays 24.6, a code is never rounded), an empty value as
missing (the row is then rejected and counted by the checks), spaces around a number read
past, a number written with quotes inside the field (``'" 500 "'``) read and flagged as
repaired, anything else an error naming the row and column, as is a number outside its
column's range (for files: :func:`assetmap.bdc._arrow.out_of_range`), but for a negative
speed: the row checks reject its row and count it, as every frame engine did.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from assetmap.bdc._arrow import out_of_range_error
from assetmap.bdc._checks import BLANKS
from assetmap.bdc._schema import NUMERIC, RANGES, SPEEDS
from assetmap.errors import SchemaError, where

__all__ = ["FRAME_NAME", "frame_numbers", "typed_frame"]

#: how messages name a frame's rows
FRAME_NAME = "availability frame"
_QUOTES = '"' + BLANKS


def frame_numbers(avail: pd.DataFrame, *, name: str = FRAME_NAME
                  ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Return the number columns of ``avail`` as float64 arrays, and which rows were repaired.

    Parameters
    ----------
    avail : pandas.DataFrame
        Availability rows with the BDC columns (not changed).
    name : str
        How messages name the frame.

    Returns
    -------
    tuple
        ``{column: float64 array}`` for :data:`~assetmap.bdc._schema.NUMERIC` (NaN: missing),
        and a boolean array: the rows where a number was written with quotes in the field.

    Raises
    ------
    SchemaError
        At the first value that is not a number, or a number outside its column's range,
        naming the row (1-based position in the frame) and the column.

    Examples
    --------
    >>> rows = pd.DataFrame({"technology": ["50", " 40 "], "low_latency": ["1", ""],
    ...                      "max_advertised_download_speed": ["24.6", '"100"'],
    ...                      "max_advertised_upload_speed": [3, 20]})
    >>> numbers, repaired = frame_numbers(rows)
    >>> numbers["max_advertised_download_speed"].tolist(), numbers["low_latency"].tolist()
    ([24.6, 100.0], [1.0, nan])
    >>> repaired.tolist()
    [False, True]
    >>> frame_numbers(rows.assign(technology=["50", "fifty"]))
    Traceback (most recent call last):
    ...
    assetmap.errors.SchemaError: availability frame, row 2, column 'technology': cannot read 'fifty' as a number (speeds are Mbps, technology and low_latency are integer codes); correct the value, then classify the rows again
    """  # noqa: E501
    repaired = np.zeros(len(avail), dtype=bool)
    numbers: dict[str, np.ndarray] = {}
    for column in NUMERIC:
        values = avail[column]
        if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
            parsed, fixed = _parsed(values.astype("string"), column, name)
            repaired |= fixed
        else:
            parsed = values.to_numpy(dtype="float64", na_value=np.nan)
        _check_range(parsed, column, name)
        numbers[column] = parsed
    return numbers, repaired


def _parsed(text: pd.Series, column: str, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Read text as numbers: empty is missing, quotes around a number a repair."""
    trimmed = text.str.strip(BLANKS)
    blank = (text.isna() | (text == "")).to_numpy(dtype=bool, na_value=True)  # as in files
    parsed = pd.to_numeric(trimmed.where(~blank), errors="coerce").to_numpy(
        dtype="float64", na_value=np.nan)
    failed = np.isnan(parsed) & ~blank
    if failed.any():  # '"500"': the quotes of a CSV field kept as text
        unquoted = trimmed[failed].str.strip(_QUOTES)
        again = pd.to_numeric(unquoted.where(unquoted != ""), errors="coerce").to_numpy(
            dtype="float64", na_value=np.nan)
        parsed[failed] = again
        still = np.flatnonzero(failed)[np.isnan(again)]
        if len(still):
            row = int(still[0])
            raise SchemaError(
                f"{where(name, row=row + 1, column=column)}: cannot read "
                f"{text.iloc[row]!r} as a number (speeds are Mbps, technology and low_latency "
                "are integer codes); correct the value, then classify the rows again")
    return parsed, failed  # spaces alone are no repair: the typed file scan reads past them


def _check_range(values: np.ndarray, column: str, name: str) -> None:
    """Raise naming the first value outside the column's range (infinity included).

    A negative speed is left to the row checks, which reject and count its row: in a frame
    it always was a rejected row (code 5), in every frame engine.
    """
    low, high = RANGES[column]
    lowest = -np.inf if column in SPEEDS else float(low)
    with np.errstate(invalid="ignore"):
        outside = np.flatnonzero((values < lowest) | (values > high) | np.isinf(values))
    if len(outside):
        row = int(outside[0])
        raise out_of_range_error(name, row + 1, column, float(values[row]))


def typed_frame(avail: pd.DataFrame, columns: Sequence[str], *, name: str = FRAME_NAME
                ) -> pd.DataFrame:
    """Return ``avail[columns]`` (index 0..n-1) with exact numbers and text columns as text.

    Number columns as :func:`frame_numbers` reads them; the other columns as text (an object
    column mixing text and integers, as ``pandas.read_csv`` may leave an id column, too),
    an empty value as missing, as the file readers read an empty field. The column
    ``_fixed`` tells the rows where a number was repaired. ``avail`` is not changed.

    Examples
    --------
    >>> rows = pd.DataFrame({"location_id": [1001, ""], "technology": ["50", '" 40 "'],
    ...                      "low_latency": [1, 1], "max_advertised_download_speed": [100, 25],
    ...                      "max_advertised_upload_speed": [20, 3]})
    >>> typed_frame(rows, ["location_id", "technology"])
      location_id  technology  _fixed
    0        1001        50.0   False
    1         NaN        40.0    True
    """
    numbers, repaired = frame_numbers(avail, name=name)
    texts = {c: _text(avail[c]) for c in columns
             if c not in numbers and not pd.api.types.is_numeric_dtype(avail[c])}
    return avail[list(columns)].reset_index(drop=True).assign(
        **texts, **{c: v for c, v in numbers.items() if c in columns}, _fixed=repaired)


def _text(values: pd.Series) -> np.ndarray:
    """Return a text column as text values, an empty one missing (as an empty CSV field)."""
    text = values.astype("string")
    return text.mask(text == "").to_numpy(dtype=object, na_value=None)
