"""The streamed aggregation's one DuckDB query, on integer keys: rows -> area sums.

:func:`assetmap.aggregate_bdc` (``engine="duckdb"``) turns checked rows
(:func:`assetmap.bdc._checks.checked_sql`) into one row per area. BDC ``location_id`` and
``provider_id`` are digit strings, so this query keys them as ``BIGINT`` (hashing and
grouping integers is cheaper than text) and stays exact: a row that passed the checks and
whose id does not read back as the same text (``"0012"``, ``" 12"``, ``"+12"``, 19 digits)
is counted (``odd``), and the caller then runs the text path
(:func:`assetmap.bdc._sql.groups_sql`), so ``"0012"`` and ``"12"`` never merge.

The rows are read once into a narrow common table (integer ids, the offer's bit mask, the
area, the check code) that DuckDB streams to its consumers without storing it: locations
(masks OR-ed) to areas, distinct (area, provider) pairs, and exact row counts per check code
and repair bits. One group per location, as a plain per-location query has, replaces the
former group per (location, provider), which had about as many groups as rows and spilled.
Per location, the providers reaching the served threshold are counted exactly without a
per-(location, provider) group: their number, least and greatest settle up to two
offers, or one provider; a location with more offers and two providers or more (0.2% of
the locations of the benchmark data) is counted by a ``count(DISTINCT ...)`` on its rows only.
"""

from __future__ import annotations

import pandas as pd

from assetmap.bdc import _sql as bead
from assetmap.bdc._common import SUM_COLUMNS, provider_pairs
from assetmap.bdc.rules import RuleSet

__all__ = ["split_stream", "stream_sql"]

_SERVED = f"m & {bead.SERVED_BIT} > 0"
_ODD_PROVIDER = "pk IS NULL OR CAST(pk AS VARCHAR) <> provider_id"
_ODD_LOCATION = "lk IS NULL OR CAST(lk AS VARCHAR) <> location_id"
# distinct served providers of a location from (k offers, least a, greatest b)
_P100 = "CASE WHEN k = 0 THEN 0 WHEN a = b THEN 1 WHEN k = 2 THEN 2 END"


def stream_sql(rows: str, *, rules: RuleSet, area: str, int_ids: bool = False) -> str:
    """Return the query: area rows, check-count rows and the count of non-integer ids.

    Rows of ``kind = 'area'``: ``area``, the sums of :data:`assetmap.bdc._common.SUM_COLUMNS`
    and ``provider_ids`` (distinct, as text); ``kind = 'check'``: ``_check, _fix, n`` over
    every row read; ``kind = 'odd'``: ``n``, rows kept whose ids are not canonical integers
    (then the result must not be used). ``int_ids``: ``location_id`` is already an
    integer column (Parquet of :func:`assetmap.bdc_to_parquet`), ``provider_id`` text.
    """
    odd = _ODD_PROVIDER if int_ids else f"{_ODD_PROVIDER} OR {_ODD_LOCATION}"
    return f"""
WITH r0 AS MATERIALIZED (
  SELECT TRY_CAST(location_id AS BIGINT) AS lk, TRY_CAST(provider_id AS BIGINT) AS pk,
    CASE WHEN _check <= 1 THEN {bead.mask_sql(rules)} END AS m,
    CASE WHEN _check <= 1 THEN {area} END AS area, _check, _fix,
    _check <= 1 AND ({odd}) AS odd
  FROM ({rows}) AS r),
ok AS (SELECT lk, pk, m, area FROM r0 WHERE m IS NOT NULL),
loc0 AS (
  SELECT lk, bit_or(m) AS mask, any_value(area) AS area,
    count(*) FILTER ({_SERVED}) AS k, min(pk) FILTER ({_SERVED}) AS a,
    max(pk) FILTER ({_SERVED}) AS b
  FROM ok GROUP BY lk),
fix AS (
  SELECT lk, count(DISTINCT pk) AS p FROM ok
  WHERE {_SERVED} AND lk IN (SELECT lk FROM loc0 WHERE k > 2 AND a <> b) GROUP BY lk),
loc AS (SELECT loc0.*, coalesce({_P100}, fix.p) AS p100 FROM loc0 LEFT JOIN fix USING (lk)),
sums AS (SELECT area, {bead._AREA_COUNTS} FROM loc GROUP BY area),
pv AS (SELECT area, list(CAST(pk AS VARCHAR)) AS provider_ids
       FROM (SELECT DISTINCT area, pk FROM ok) AS d GROUP BY area)
SELECT 'area' AS kind, sums.*, pv.provider_ids FROM sums LEFT JOIN pv USING (area)
UNION ALL BY NAME
SELECT 'check' AS kind, _check, _fix, count(*) AS n FROM r0 GROUP BY _check, _fix
UNION ALL BY NAME
SELECT 'odd' AS kind, count(*) FILTER (odd) AS n FROM r0"""


def split_stream(result: pd.DataFrame
                 ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame] | None:
    """Split :func:`stream_sql`'s result into sums, (area, provider) pairs and check counts.

    Return None when a kept row had an id that is not a canonical integer (the caller then
    runs the text path).
    """
    kind = result["kind"]
    if int(result.loc[kind == "odd", "n"].fillna(0).sum()):
        return None
    checks = result.loc[kind == "check", ["_check", "_fix", "n"]].astype("int64")
    checks = checks[checks["n"] > 0].reset_index(drop=True)
    sums = result.loc[(kind == "area") & (result["locations"] > 0)]
    pairs = provider_pairs(sums)
    sums = sums[["area", *SUM_COLUMNS]].astype(dict.fromkeys(SUM_COLUMNS, "int64"))
    return sums.reset_index(drop=True), pairs, checks
