"""Small-cell suppression for aggregated survey counts, with complementary suppression.

Rules (applied to one table: one row per area, ``responses`` = households in the row):

1. **Primary**: a row with ``0 < responses < min_cell`` is suppressed.
2. **Complementary**: the published total minus the published rows equals the sum of the
   suppressed rows. So while the suppressed rows with responses hold exactly one row, or
   fewer than ``min_cell`` responses together, the next-smallest published row with
   responses is suppressed too. If nothing is left to suppress, every row is, and the total
   is not published (:func:`publishable_total` returns None).
3. **Across every table published together** (:func:`suppress_together`: areas, school
   zones, the district total, the total of the zones): each table is given with its
   hierarchy (which rows lie inside which row or total). For every published row and every
   table of its parts, the row minus its published parts is a group of households; it must
   be 0 or at least ``min_cell`` and must not be exactly one suppressed part, else the
   next-smallest published part is suppressed (the row itself when none is left), until
   nothing changes. This covers a total minus the sum of the zones (households in no zone)
   and a zone minus the one tract inside it. Differences of unions of rows taken from two
   or more tables at once are not checked.

Rows with zero responses are published as zero (a zero reveals no household). A suppressed
row carries NaN in every count and rate; only ``suppressed`` is set.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from assetmap.errors import PrivacyError

__all__ = ["MIN_CELL_FLOOR", "check_min_cell", "complementary_suppress", "publishable_total",
           "suppress_published", "suppress_together"]

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


def suppress_together(
    tables: Mapping[str, pd.Series],
    *,
    hierarchy: Sequence[tuple[str, str]],
    min_cell: int,
    cross: Mapping[tuple[str, str], pd.DataFrame] | None = None,
    fixed: Iterable[str] = (),
    suppressed: Mapping[str, pd.Series] | None = None,
) -> dict[str, pd.Series]:
    """Suppress cells of every table published together so no subtraction reveals a small group.

    Parameters
    ----------
    tables : mapping of str to Series
        Table name -> households per row (index = row id). A published total is a table of
        one row (e.g. ``{"district": pd.Series([120], index=["all"])}``).
    hierarchy : sequence of (parent, child)
        The rows of ``child`` that lie wholly inside a row of ``parent`` are its parts: the
        parent row minus its published parts is a group of households an attacker can count.
    min_cell : int
        The threshold (>= 5).
    cross : mapping of (parent, child) to DataFrame, optional
        Columns ``a``, ``b``, ``n``: households in row ``a`` of the parent and row ``b`` of
        the child. Not needed when the parent has one row (every child row lies inside it).
    fixed : iterable of str
        Tables that are published whatever happens (e.g. a total the report's row accounting
        gives anyway); their rows are never suppressed.
    suppressed : mapping of str to Series, optional
        Rows already suppressed (e.g. by an earlier step), per table.

    Returns
    -------
    dict of str to Series
        Table name -> boolean suppression flags.

    Notes
    -----
    Primary: ``0 < n < min_cell`` is suppressed. Then, for every parent row and child table,
    ``R`` = the parent row minus its published parts must be 0 or at least ``min_cell``, and
    must not equal one suppressed part (which would recover it); otherwise the next-smallest
    published part is suppressed (the parent row itself when none is left). Repeats until
    nothing changes. Differences of unions of rows from two or more tables are not checked.

    Examples
    --------
    >>> import pandas as pd
    >>> out = suppress_together(
    ...     {"district": pd.Series([60], index=["all"]),
    ...      "zones": pd.Series([30, 27], index=["a", "b"])},
    ...     hierarchy=[("district", "zones")], min_cell=10, fixed=["district"])
    >>> out["zones"].tolist()  # 3 households in no zone: a zone is hidden with them
    [False, True]
    """
    min_cell = check_min_cell(min_cell)
    sizes = {name: t.fillna(0).to_numpy(dtype=float) for name, t in tables.items()}
    fixed = set(fixed)
    flags = {name: (v > 0) & (v < min_cell) & (name not in fixed) for name, v in sizes.items()}
    for name, already in (suppressed or {}).items():
        flags[name] = flags[name] | already.to_numpy(dtype=bool)
    nested = [(p, c, _nested(tables, p, c, (cross or {}).get((p, c)))) for p, c in hierarchy]
    for _ in range(sum(len(v) for v in sizes.values()) + 1):
        if not any(_fix_one(sizes, flags, p, c, inside, min_cell, p in fixed)
                   for p, c, inside in nested):
            break
    return {name: pd.Series(flags[name], index=t.index, name="suppressed")
            for name, t in tables.items()}


def _nested(tables: Mapping[str, pd.Series], parent: str, child: str,
            cross: pd.DataFrame | None) -> np.ndarray:
    """Boolean matrix parent rows x child rows: the child row lies wholly inside the parent row."""
    p_rows, c_rows = tables[parent].index, tables[child].index
    c_sizes = tables[child].fillna(0).to_numpy(dtype=float)
    if cross is None:
        if len(p_rows) != 1:
            raise ValueError(f"suppress_together: ({parent!r}, {child!r}) needs a cross table")
        return (c_sizes > 0)[None, :]
    overlap = np.zeros((len(p_rows), len(c_rows)))
    a = p_rows.get_indexer(cross["a"])
    b = c_rows.get_indexer(cross["b"])
    ok = (a >= 0) & (b >= 0)
    np.add.at(overlap, (a[ok], b[ok]), cross["n"].to_numpy(dtype=float)[ok])
    return (overlap == c_sizes[None, :]) & (c_sizes[None, :] > 0)


def _fix_one(sizes: dict[str, np.ndarray], flags: dict[str, np.ndarray], parent: str,
             child: str, inside: np.ndarray, min_cell: int, fixed: bool) -> bool:
    """Suppress one more cell where a parent row minus its published parts is unsafe."""
    p_size, c_size = sizes[parent], sizes[child]
    for row in np.flatnonzero(~flags[parent] & inside.any(axis=1)):
        parts = inside[row]
        hidden = parts & flags[child]
        rest = p_size[row] - c_size[parts & ~flags[child]].sum()
        outside = p_size[row] - c_size[parts].sum()
        if not (0 < rest < min_cell or (rest > 0 and outside == 0 and hidden.sum() == 1)):
            continue
        open_parts = np.flatnonzero(parts & ~flags[child])
        if len(open_parts):
            flags[child][open_parts[np.argmin(c_size[open_parts])]] = True
            return True
        if not fixed:
            flags[parent][row] = True
            return True
    return False


def suppress_published(
    frame: pd.DataFrame, *, min_cell: int, columns: Sequence[str], total: float | None = None
) -> tuple[pd.DataFrame, int]:
    """Check a published table of survey counts again; suppress what it still gives away.

    The guard every export runs (:func:`assetmap.outputs.export.export_layers`): a row with
    ``0 < responses < min_cell`` that is not suppressed is, and when the published ``total``
    is known, the rules of :func:`suppress_together` run with the rows as its parts (the
    sizes of rows already suppressed are unknown here, so they count as outside the parts).

    Parameters
    ----------
    frame : DataFrame
        With ``responses`` and ``suppressed`` columns (read_survey's shape).
    min_cell : int
        The threshold (>= 5).
    columns : sequence of str
        The columns blanked in a row that gets suppressed.
    total : float, optional
        The published total of ``responses`` (the report's ``rows_aggregated``).

    Returns
    -------
    tuple
        ``(frame, rows newly suppressed)``; the input is not changed.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"responses": [3.0, 40.0], "suppressed": [False, False]})
    >>> out, n = suppress_published(t, min_cell=10, columns=["responses"])
    >>> out["responses"].tolist()[1], n
    (40.0, 1)
    """
    if "responses" not in frame.columns or "suppressed" not in frame.columns:
        return frame, 0
    hidden = (frame["suppressed"].astype("boolean").fillna(False).to_numpy(dtype=bool)
              | frame["responses"].isna().to_numpy())
    rows = pd.Series(np.where(hidden, 0.0, pd.to_numeric(frame["responses"], errors="coerce")
                              .fillna(0).to_numpy(dtype=float)), index=frame.index)
    tables = {"rows": rows}
    hierarchy: list[tuple[str, str]] = []
    if total is not None and np.isfinite(total):
        tables["total"] = pd.Series([float(total)], index=["all"])
        hierarchy.append(("total", "rows"))
    flags = suppress_together(tables, hierarchy=hierarchy, min_cell=min_cell, fixed=["total"],
                              suppressed={"rows": pd.Series(hidden, index=frame.index)})
    new = flags["rows"].to_numpy() & ~hidden
    if not new.any():
        return frame, 0
    out = frame.copy()
    out.loc[new, [c for c in columns if c in out.columns]] = np.nan
    out.loc[new, "suppressed"] = True
    return out, int(new.sum())
