"""The streamed aggregation's one DuckDB query: checked rows -> area sums, pairs, checks.

:func:`assetmap.aggregate_bdc` (``engine="duckdb"``) and :func:`assetmap.service_by_area`
(on a frame its numpy path does not take) turn checked rows
(:func:`assetmap.bdc._checks.checked_sql`) into one row per area with this query. Ids are
keyed as they are read (text from CSVs, integers from Parquet that stores them so), so
``"0012"`` and ``"12"`` stay two locations with no test per row; the row checks have only
trimmed spaces and tabs around them.

DuckDB reads the rows once and streams each chunk to four consumers, none of which waits
for another, so nothing is stored per row:

* locations: one group per location, its offers' bit masks OR-ed
  (:mod:`assetmap.bdc._sql`) and its area (any of its rows'), then summed per area;
* providers at the served threshold: distinct (area, location, provider) of the offers
  that reach it, counted per area (the sum over the area's locations of their providers
  at 100/20);
* distinct (area, provider) pairs of the kept rows;
* rows per check code and repair bits, over every row read.

In an FCC release each location lies in one block. A location whose rows name blocks in two
areas (files joined from two releases, hand edits) is counted once, with its providers and
its providers at 100/20, in the smallest of its areas (by key: the area of its smallest
block GEOID), in every engine. The query counts such locations (``min(area) <> max(area)``);
when there are any, :func:`stream_areas` runs it again with the rows joined to their
location's area; the common case (no such location) reads the rows once, as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from assetmap.bdc import _sql as bead
from assetmap.bdc._common import SUM_COLUMNS, provider_pairs
from assetmap.bdc.rules import RuleSet

if TYPE_CHECKING:  # connections come from _engine.connect, which imports DuckDB
    import duckdb

__all__ = ["LOCATION_GROUP", "offer_ctes", "split_stream", "stream_areas", "stream_sql"]

_SERVED = f"m & {bead.SERVED_BIT} > 0"


#: one row per location of ``ok`` (:func:`offer_ctes`): its offers' bits OR-ed, its area (the
#: smallest of its rows') and whether its rows lie in two areas
LOCATION_GROUP = ("SELECT location_id, bit_or(m) AS mask, min(area) AS area, "
                  "min(area) <> max(area) AS split FROM ok GROUP BY location_id")


def offer_ctes(rows: str, *, rules: RuleSet, area: str, extra: str = "") -> str:
    """Return the CTEs ``r0`` (every checked row, read once) and ``ok`` (the kept rows).

    ``r0``: ``location_id, provider_id``, ``m`` (the offer's bits under ``rules``) and
    ``area`` (the SQL ``area`` of the row) for kept rows (NULL for others), ``_check, _fix``
    and the ``extra`` columns (SQL, each with a leading comma). DuckDB materialises it as a
    stream to each query that reads it: nothing is stored per row.
    """
    return f"""r0 AS MATERIALIZED (
  SELECT location_id, provider_id,
    CASE WHEN _check <= 1 THEN {bead.mask_sql(rules)} END AS m,
    CASE WHEN _check <= 1 THEN {area} END AS area, _check, _fix{extra}
  FROM ({rows}) AS r),
ok AS (SELECT location_id, provider_id, m, area FROM r0 WHERE _check <= 1)"""


def stream_sql(rows: str, *, rules: RuleSet, area: str, split: bool = False) -> str:
    """Return the query: area rows and check-count rows.

    Rows of ``kind = 'area'``: ``area``, the sums of :data:`assetmap.bdc._common.SUM_COLUMNS`,
    ``split_locations`` (locations with rows in more than one area) and ``provider_ids``
    (distinct, as text); ``kind = 'check'``: ``_check, _fix, n`` over every row read.
    ``area`` is the SQL of a row's area key (``_common.check_level``). A location's area is
    the smallest of its rows'; with ``split`` its providers are counted there too (the rows
    joined to their location's area), else in their rows' areas, which is the same when no
    location has rows in two areas.

    Examples
    --------
    >>> import duckdb
    >>> from assetmap.bdc.rules import rule_set
    >>> rows = ("SELECT * FROM (VALUES "
    ...         "('1', 'p', 50, 1000.0, 1000.0, 1, '481350001001000', 0, 0), "
    ...         "('1', 'q', 60, 100.0, 20.0, 0, '481350001001000', 0, 0), "
    ...         "('', 'p', 50, 1000.0, 1000.0, 1, '481350001001000', 4, 0)) AS t(location_id, "
    ...         "provider_id, technology, max_advertised_download_speed, "
    ...         "max_advertised_upload_speed, low_latency, block_geoid, _check, _fix)")
    >>> sql = stream_sql(rows, rules=rule_set("bead"), area="substr(block_geoid, 1, 11)")
    >>> sums, pairs, checks = split_stream(duckdb.sql(sql).df())
    >>> sums[["area", "locations", "served", "n_fiber", "providers_100_20_sum"]].to_dict("records")
    [{'area': '48135000100', 'locations': 1, 'served': 1, 'n_fiber': 1, 'providers_100_20_sum': 1}]
    >>> sorted(pairs["provider_id"]), checks.sort_values("_check")["n"].tolist()
    (['p', 'q'], [2, 1])
    """
    # with split: each row takes its location's area (a join), else its own
    offers = ("(SELECT ok.location_id, ok.provider_id, ok.m, loc.area FROM ok "
              "JOIN loc USING (location_id))" if split else "ok")
    return f"""
WITH {offer_ctes(rows, rules=rules, area=area)},
loc AS {"MATERIALIZED " if split else ""}({LOCATION_GROUP}),
p100 AS (SELECT area, count(*) AS providers_100_20_sum FROM (
  SELECT DISTINCT area, location_id, provider_id FROM {offers} AS o WHERE {_SERVED}) AS s
  GROUP BY area),
sums AS (SELECT area, {bead.AREA_COUNTS}, count(*) FILTER (split) AS split_locations
         FROM loc GROUP BY area),
pv AS (SELECT area, list(provider_id) AS provider_ids
       FROM (SELECT DISTINCT area, provider_id FROM {offers} AS o) AS d GROUP BY area)
SELECT 'area' AS kind, sums.*, coalesce(p100.providers_100_20_sum, 0) AS providers_100_20_sum,
  pv.provider_ids FROM sums LEFT JOIN pv USING (area) LEFT JOIN p100 USING (area)
UNION ALL BY NAME
SELECT 'check' AS kind, _check, _fix, count(*) AS n FROM r0 GROUP BY _check, _fix"""


def split_stream(result: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Split :func:`stream_sql`'s result into sums, (area, provider) pairs and check counts.

    The sums keep ``split_locations`` beside :data:`~assetmap.bdc._common.SUM_COLUMNS`.
    """
    kind = result["kind"]
    checks = result.loc[kind == "check", ["_check", "_fix", "n"]].astype("int64")
    checks = checks[checks["n"] > 0].reset_index(drop=True)
    sums = result.loc[(kind == "area") & (result["locations"] > 0)]
    pairs = provider_pairs(sums)
    counted = [*SUM_COLUMNS, "split_locations"]
    sums = sums[["area", *counted]].astype(dict.fromkeys(counted, "int64"))
    return sums.reset_index(drop=True), pairs, checks


def stream_areas(con: duckdb.DuckDBPyConnection, rows: str, *, rules: RuleSet, area: str
                 ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, int]:
    """Run :func:`stream_sql` on ``rows``: sums, pairs, check counts and split locations.

    When some location has rows in more than one area, the query runs again with every row
    in its location's area (``split=True``), so that providers are counted where the
    location is; the sums returned are :data:`~assetmap.bdc._common.SUM_COLUMNS` only.
    """
    sums, pairs, checks = split_stream(con.sql(stream_sql(rows, rules=rules, area=area)).df())
    split = int(sums.pop("split_locations").sum())
    if split:
        sums, pairs, checks = split_stream(
            con.sql(stream_sql(rows, rules=rules, area=area, split=True)).df())
        sums = sums.drop(columns="split_locations")
    return sums, pairs, checks, split
