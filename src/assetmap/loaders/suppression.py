"""Small-cell suppression for aggregated survey counts, with complementary suppression.

Rules (applied to one table: one row per area, ``responses`` = households in the row):

1. **Primary**: a row with ``0 < responses < min_cell`` is suppressed.
2. **Complementary**: the published total minus the published rows equals the sum of the
   suppressed rows. So while the suppressed rows with responses hold exactly one row, or
   fewer than ``min_cell`` responses together, the next-smallest published row with
   responses is suppressed too. If nothing is left to suppress, every row is, and the total
   is not published (:func:`publishable_total` returns None).
3. **Across two tables of the same households** (areas and school zones): when every
   household of one published row lies in one published row of the other table, their
   difference is a cell; if it holds ``0 < n < min_cell`` households the smaller row is
   suppressed, and rules 1-2 run again until nothing changes. Differences across unions of
   three or more rows are not checked.

Rows with zero responses are published as zero (a zero reveals no household). A suppressed
row carries NaN in every count and rate; only ``suppressed`` is set.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from assetmap.errors import PrivacyError

__all__ = ["MIN_CELL_FLOOR", "check_min_cell", "complementary_suppress", "cross_table_suppress",
           "publishable_total"]

MIN_CELL_FLOOR = 5


def check_min_cell(min_cell: int) -> int:
    """Return ``min_cell`` as an int, refusing thresholds below 5.

    Examples
    --------
    >>> check_min_cell(10)
    10
    """
    try:
        whole = not isinstance(min_cell, bool) and float(min_cell).is_integer()
    except (TypeError, ValueError, OverflowError):
        whole = False
    if not whole:
        raise PrivacyError(f"min_cell must be a whole number of responses, got {min_cell!r}")
    if int(min_cell) < MIN_CELL_FLOOR:
        raise PrivacyError(
            f"min_cell={min_cell} is below the floor of {MIN_CELL_FLOOR} responses: cells that "
            "small can identify households; use 5 or more (10 is the default)"
        )
    return int(min_cell)


def _needs_more(responses: np.ndarray, suppressed: np.ndarray, min_cell: int) -> bool:
    hidden = responses[suppressed]
    hidden = hidden[hidden > 0]
    total = int(hidden.sum())
    return total > 0 and (len(hidden) == 1 or total < min_cell)


def complementary_suppress(
    responses: pd.Series, *, min_cell: int, suppressed: pd.Series | None = None
) -> pd.Series:
    """Return a boolean Series: which rows to suppress (primary + complementary).

    Parameters
    ----------
    responses : Series
        Households per row.
    min_cell : int
        The threshold (>= 5).
    suppressed : Series, optional
        Rows already suppressed (e.g. by the cross-table rule).

    Examples
    --------
    >>> import pandas as pd
    >>> complementary_suppress(pd.Series([3, 40, 25, 0]), min_cell=10).tolist()
    [True, False, True, False]
    """
    min_cell = check_min_cell(min_cell)
    values = responses.fillna(0).to_numpy(dtype=float)
    flags = (values > 0) & (values < min_cell)
    if suppressed is not None:
        flags |= suppressed.to_numpy(dtype=bool)
    while _needs_more(values, flags, min_cell):
        candidates = np.flatnonzero(~flags & (values > 0))
        if len(candidates) == 0:
            break
        flags[candidates[np.argmin(values[candidates])]] = True
    return pd.Series(flags, index=responses.index, name="suppressed")


def publishable_total(responses: pd.Series, *, min_cell: int) -> int | None:
    """Return the total to publish, or None when it would itself be a small cell.

    Examples
    --------
    >>> import pandas as pd
    >>> publishable_total(pd.Series([3, 4]), min_cell=10) is None
    True
    """
    total = int(responses.fillna(0).sum())
    return total if total == 0 or total >= min_cell else None


def cross_table_suppress(
    cross: pd.DataFrame,
    a_responses: pd.Series,
    b_responses: pd.Series,
    *,
    min_cell: int,
    max_rounds: int = 20,
) -> tuple[pd.Series, pd.Series]:
    """Suppress rows of two tables of the same households so neither reveals a small difference.

    Parameters
    ----------
    cross : DataFrame
        Columns ``a``, ``b``, ``n``: households in row ``a`` of table A and row ``b`` of B.
    a_responses, b_responses : Series
        Households per row of each table (indexed by row id). Households of a row that are
        in no row of the other table count as outside it.
    min_cell : int
        The threshold.

    Returns
    -------
    tuple of Series
        The suppression flags of A and of B.
    """
    sup_a = complementary_suppress(a_responses, min_cell=min_cell)
    sup_b = complementary_suppress(b_responses, min_cell=min_cell)
    for _ in range(max_rounds):
        changed = False
        pairs = cross.loc[cross["n"] > 0]
        na = pairs["a"].map(a_responses).to_numpy(dtype=float)
        nb = pairs["b"].map(b_responses).to_numpy(dtype=float)
        n = pairs["n"].to_numpy(dtype=float)
        published = ~pairs["a"].map(sup_a).to_numpy(dtype=bool) & ~pairs["b"].map(sup_b).to_numpy(
            dtype=bool)
        diff = np.abs(na - nb)
        nested = (n == np.minimum(na, nb))
        risky = published & nested & (diff > 0) & (diff < min_cell)
        for a_id, b_id, a_n, b_n in zip(pairs["a"][risky], pairs["b"][risky], na[risky],
                                        nb[risky], strict=True):
            if sup_a[a_id] or sup_b[b_id]:
                continue
            if a_n <= b_n:
                sup_a[a_id] = True
            else:
                sup_b[b_id] = True
            changed = True
        if not changed:
            break
        sup_a = complementary_suppress(a_responses, min_cell=min_cell, suppressed=sup_a)
        sup_b = complementary_suppress(b_responses, min_cell=min_cell, suppressed=sup_b)
    return sup_a, sup_b
