"""The report of a BDC read: every row read counted as kept, repaired, rejected or filtered.

The row checks run on every row before any filter (:mod:`assetmap.bdc._checks`), so the
report says, for all rows read:

* ``checks``: ``{"kept": k, "repaired": r, "rejected": j}``, which add up to ``rows_read``;
* ``rejected``: rows per reason (a :class:`~assetmap.errors.RejectedRowsWarning` names the
  first files, rows and columns; ``rejected_at`` keeps them), ``repaired``: rows per repair
  (a :class:`~assetmap.errors.RepairWarning` each; a row may have two repairs);
* ``filtered``: rows that passed the checks and that a filter (state, county or tract,
  residential code, technology) left out, per filter.

``rows_read == rows_out + sum(rejected) + sum(filtered) + merged``.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from assetmap._report import count_reject, count_repair
from assetmap.bdc._checks import (
    FIX_GEOID,
    FIX_NUMBER,
    REJECT_REASONS,
    REPAIR_REASONS,
    checked_sql,
    describe_filters,
    reject_column,
    split_code,
)
from assetmap.bdc._engine import source_sql
from assetmap.bdc._schema import BDC_COLUMNS
from assetmap.errors import RejectedRowsWarning, RepairWarning, where

if TYPE_CHECKING:
    import duckdb

    from assetmap.bdc._inputs import Inputs

__all__ = ["count_sql", "counts_frame", "header_repairs", "rejected_places", "rejected_rows",
           "tally"]

PLACES_SHOWN = 5
_EITHER = f"{REPAIR_REASONS[FIX_GEOID]}, or {REPAIR_REASONS[FIX_NUMBER]}"


def header_repairs(report: dict[str, Any], repairs: list[str]) -> None:
    """Note and warn about header names repaired (case, spaces): a file's header, not a row."""
    if repairs:
        text = "; ".join(repairs)
        report["notes"].append(f"header repaired: {text}")
        warnings.warn(f"{report.get('source') or report['kind']}: header repaired: {text}",
                      RepairWarning, stacklevel=3)


def counts_frame(found: np.ndarray) -> pd.DataFrame:
    """Return the counts ``_check, _fix, n`` (as :func:`tally` takes them) of a histogram.

    ``found`` counts rows per ``_check * 16 + _fix`` (``_fix`` < 16), such as
    ``np.bincount(check * 16 + fix)``.

    Examples
    --------
    >>> counts_frame(np.bincount([0, 0, 2 * 16, 1 * 16 + 1])).to_numpy().tolist()
    [[0, 0, 2], [1, 1, 1], [2, 0, 1]]
    """
    keys = np.flatnonzero(found)
    return pd.DataFrame({"_check": keys // 16, "_fix": keys % 16, "n": found[keys]})


def rejected_rows(check: np.ndarray, download: np.ndarray,
                  seen: dict[int, int] | None = None) -> list[tuple[int, int, str]]:
    """Return the first rejected rows of each reject code: (0-based row, code, column).

    ``check`` holds each row's check code and ``download`` its download speed (which speed a
    speed rejection names, :func:`~assetmap.bdc._checks.reject_column`); ``seen`` counts
    the rows of each code already found elsewhere, so that at most :data:`PLACES_SHOWN` are
    kept in all.

    Examples
    --------
    >>> rejected_rows(np.array([0, 5, 2, 5]), np.array([1.0, -1.0, 1.0, 1.0]))
    [(2, 2, 'technology'), (1, 5, 'max_advertised_download_speed'), \
(3, 5, 'max_advertised_upload_speed')]
    """
    seen = seen or {}
    bad = np.flatnonzero((check >= 2) & (check <= max(REJECT_REASONS)))
    found = []
    for code in np.unique(check[bad]).tolist():
        room = max(PLACES_SHOWN - seen.get(code, 0), 0)
        found += [(int(row), code, reject_column(code, download[row]))
                  for row in bad[check[bad] == code][:room]]
    return found


def count_sql(rows: str) -> str:
    """Rows per check code and repair bits of checked rows (:func:`checked_sql`)."""
    return f"SELECT _check, _fix, count(*) AS n FROM ({rows}) AS r GROUP BY ALL"


def tally(report: dict[str, Any], counts: pd.DataFrame, *, selection: dict[str, list[Any]],
          places: dict[int, list[tuple[str, int, str]]] | None = None,
          numbers_repaired: bool = False) -> None:
    """Record rows read, kept, repaired, rejected and filtered from counts per check code.

    Parameters
    ----------
    report : dict
        The report to fill (``rows_read`` is set here).
    counts : pandas.DataFrame
        ``_check, n`` and, if known, ``_fix`` (:func:`count_sql`; missing or NaN: the
        repairs are named from ``numbers_repaired``).
    selection : dict
        The row selection (:func:`~assetmap.bdc._checks.row_selection`), to name filters.
    places : dict, optional
        Per reject code, the first ``(file, row, column)`` rejected (:func:`rejected_places`).
    numbers_repaired : bool
        Whether numbers were repaired while scanning (names repairs when ``_fix`` is not
        counted).
    """
    unknown = -1  # repairs not counted by kind (the streamed aggregation's fast path)
    fixes = counts["_fix"] if "_fix" in counts.columns else pd.Series(unknown, counts.index)
    counts = counts.assign(_fix=fixes.fillna(unknown).astype("int64"))
    names = describe_filters(selection)
    checks = {"kept": 0, "repaired": 0, "rejected": 0}
    rejected: dict[str, int] = {}
    filtered: dict[str, int] = {}
    repaired: dict[str, int] = {}
    for (code, fix), n in counts.groupby(["_check", "_fix"])["n"].sum().items():
        kind, detail, was_repaired = split_code(int(code))
        n = int(n)
        if n <= 0:
            continue
        if kind == "rejected":
            checks["rejected"] += n
            rejected[str(detail)] = rejected.get(str(detail), 0) + n
            continue
        checks["repaired" if was_repaired else "kept"] += n
        if kind == "filtered":
            filtered[names.get(str(detail), str(detail))] = (
                filtered.get(names.get(str(detail), str(detail)), 0) + n)
        if was_repaired:
            reasons = ([r for bit, r in REPAIR_REASONS.items() if int(fix) & bit]
                       if fix != unknown
                       else [_EITHER if numbers_repaired else REPAIR_REASONS[FIX_GEOID]])
            for reason in reasons:
                repaired[reason] = repaired.get(reason, 0) + n
    report["rows_read"] = sum(checks.values())
    report["checks"] = checks
    report["filtered"] = filtered
    for reason, n in repaired.items():
        count_repair(report, reason, n)
    code_of = {reason: code for code, reason in REJECT_REASONS.items()}
    for reason, n in rejected.items():
        _reject(report, reason, n, (places or {}).get(code_of[reason], []))
    if filtered:
        report["notes"].append(
            f"every row read was checked before the selection; {sum(filtered.values())} rows "
            "that passed the checks were outside it (report['filtered'])")


def _reject(report: dict[str, Any], reason: str, n: int,
            places: list[tuple[str, int, str]]) -> None:
    """Count rejected rows and warn naming the first files, rows and columns."""
    places = places[:PLACES_SHOWN]  # the first in reading order, whoever gathered them
    count_reject(report, reason, n, rows=[row for _, row, _ in places], warn=False)
    shown = [where(f, row=row, column=column) for f, row, column in places]
    report.setdefault("rejected_at", {})[reason] = shown
    more = "; ..." if n > len(shown) else ""
    at = f" (at {'; '.join(shown)}{more})" if shown else ""
    warnings.warn(f"{report.get('source') or report['kind']}: left out {n} of "
                  f"{report['rows_read']} rows: {reason}{at}", RejectedRowsWarning,
                  stacklevel=4)


def rejected_places(con: duckdb.DuckDBPyConnection, inputs: Inputs, codes: set[int], *,
                    limit: int = PLACES_SHOWN
                    ) -> dict[int, list[tuple[str, int, str]]]:
    """Find the first rows rejected for each code in ``codes``: (file, row, column).

    One more scan of the files (one at a time, with row numbers), run only when rows were
    rejected; it stops once each code has ``limit`` rows.
    """
    found: dict[int, list[tuple[str, int, str]]] = {c: [] for c in codes}
    columns = list(BDC_COLUMNS)
    for path in inputs.files():
        wanted = [c for c in codes if len(found[c]) < limit]
        if not wanted:
            break
        rows = checked_sql(source_sql(inputs, columns, guard=False, files=[path],
                                      numbered=True),
                           int_ids=inputs.id_type == "BIGINT")  # as the scan read them
        hits = con.execute(
            f"SELECT _check, _row, max_advertised_download_speed FROM ({rows}) AS r "
            f"WHERE _check IN ({', '.join(map(str, wanted))}) "
            f"QUALIFY row_number() OVER (PARTITION BY _check ORDER BY _row) <= {limit} "
            "ORDER BY _row").fetchall()
        for code, row, down in hits:  # each code's first rows over all files: ``limit``
            if len(found[int(code)]) < limit:
                found[int(code)].append((inputs.name(path), int(row),
                                         reject_column(int(code), down)))
    return found
