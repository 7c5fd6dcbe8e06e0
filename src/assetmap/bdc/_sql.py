"""BEAD service-level classification written once, in SQL, for DuckDB.

Definitions (NTIA BEAD; design.md): reliable technologies are copper (10), cable (40), fiber
(50), licensed (71) and licensed-by-rule (72) fixed wireless, with ``low_latency = 1``.
A location is *unserved* if no reliable offer reaches 25/3 Mbps, *underserved* if one reaches
25/3 but none 100/20, *served* at 100/20. Each test is per offer: download and upload come from
the same offer. Satellite (60, 61) and unlicensed fixed wireless (70) never serve a location.

Each location gets a bit mask, OR-ed over its offers:

====  =========================================
bit   meaning
====  =========================================
1     copper (10)
2     cable (40)
4     fiber (50)
8     licensed fixed wireless (71, 72)
16    unlicensed fixed wireless (70)
32    satellite (60, 61)
64    other (0)
128   a reliable offer reaches 25/3
256   a reliable offer reaches 100/20
====  =========================================
"""

from __future__ import annotations

RELIABLE = (10, 40, 50, 71, 72)
SATELLITE = (60, 61)
UNLICENSED_FW = (70,)
TECH_BITS = {"copper": 1, "cable": 2, "fiber": 4, "licensed_fw": 8, "unlicensed_fw": 16,
             "satellite": 32}
TERRESTRIAL_BITS = 1 | 2 | 4 | 8 | 16 | 64
ANY_TECH_BITS = TERRESTRIAL_BITS | 32

_D = "max_advertised_download_speed"
_U = "max_advertised_upload_speed"
REL = f"(technology IN {RELIABLE} AND low_latency = 1)"
Q25 = f"({REL} AND {_D} >= 25 AND {_U} >= 3)"
Q100 = f"({REL} AND {_D} >= 100 AND {_U} >= 20)"
MASK = f"""(CASE technology WHEN 10 THEN 1 WHEN 40 THEN 2 WHEN 50 THEN 4 WHEN 71 THEN 8
  WHEN 72 THEN 8 WHEN 70 THEN 16 WHEN 60 THEN 32 WHEN 61 THEN 32 ELSE 64 END
  | CASE WHEN {Q25} THEN 128 ELSE 0 END | CASE WHEN {Q100} THEN 256 ELSE 0 END)"""

AREA_EXPR = {
    "tract": "substr(block_geoid, 1, 11)",
    "block_group": "substr(block_geoid, 1, 12)",
    "county": "substr(block_geoid, 1, 5)",
    "h3": "h3_res8_id",
}
AREA_LENGTH = {"tract": 11, "block_group": 12, "county": 5, "h3": 15}

LEVEL_CASE = ("CASE WHEN mask & 256 > 0 THEN 'served' WHEN mask & 128 > 0 THEN 'underserved' "
              "ELSE 'unserved' END")
SAT_ONLY = f"(mask & {ANY_TECH_BITS} = 32)"
UFW_ONLY = f"(mask & {TERRESTRIAL_BITS} = 16)"


def locations_sql(rows: str, *, area: str | None, detail: bool) -> str:
    """One row per location from checked availability rows (``_reject IS NULL``)."""
    cols = [
        "location_id",
        f"bit_or({MASK}) AS mask",
        f"coalesce(len(list_distinct(list(provider_id) FILTER ({Q100}))), 0) AS providers_100_20",
    ]
    if area is not None:
        cols.append(f"any_value({area}) AS area")
    if detail:  # the best offer: highest download, then highest upload
        cols += [
            f"coalesce(max({_D}) FILTER ({REL}), 0) AS best_down",
            (f"coalesce(arg_max({_U}, {_D}::BIGINT * 1000000 + {_U}) FILTER ({REL}), 0) "
             "AS best_up"),
            "any_value(block_geoid) AS block_geoid",
            "any_value(h3_res8_id) AS h3_res8_id",
            "list_sort(list_distinct(list(provider_id))) AS provider_list",
        ]
    return (f"SELECT {', '.join(cols)} FROM ({rows}) AS r WHERE _check <= 1 "
            "GROUP BY location_id")


def area_sums_sql(locations: str) -> str:
    """Count locations per area from the location table (``area`` column)."""
    tech = ", ".join(f"count(*) FILTER (mask & {bit} > 0) AS n_{name}"
                     for name, bit in TECH_BITS.items())
    return f"""
SELECT area,
  count(*) AS locations,
  count(*) FILTER (mask & 384 = 0) AS unserved,
  count(*) FILTER (mask & 128 > 0 AND mask & 256 = 0) AS underserved,
  count(*) FILTER (mask & 256 > 0) AS served,
  sum(providers_100_20) AS providers_100_20_sum,
  count(*) FILTER {SAT_ONLY} AS satellite_only,
  count(*) FILTER {UFW_ONLY} AS unlicensed_fw_only,
  {tech}
FROM ({locations}) AS l GROUP BY area"""


def pairs_sql(rows: str, *, area: str) -> str:
    """Row counts per (area, provider, check code): row checks and provider sets."""
    return f"""
SELECT {area} AS area, provider_id, _check, count(*) AS n
FROM ({rows}) AS r GROUP BY ALL"""


# --- the streamed aggregation: files -> one row per area, every row checked and counted ------

OK = "_check <= 1"
# row checks, kept cheap on the hot path: rows, rows not plainly good, and which check codes
# occur (a bit per code); when one group mixes two codes, a small extra query counts exactly
_CHECKS = ("count(*) AS n, count(*) FILTER (_check > 0) AS nbad, "
           "bit_or(1::SMALLINT << _check) AS codes")
_AREA_COUNTS = f"""count(mask) AS locations,
  count(*) FILTER (mask & 384 = 0) AS unserved,
  count(*) FILTER (mask & 128 > 0 AND mask & 256 = 0) AS underserved,
  count(*) FILTER (mask & 256 > 0) AS served,
  coalesce(sum(p100) FILTER (mask IS NOT NULL), 0) AS providers_100_20_sum,
  count(*) FILTER {SAT_ONLY} AS satellite_only,
  count(*) FILTER {UFW_ONLY} AS unlicensed_fw_only,
  {", ".join(f"count(*) FILTER (mask & {b} > 0) AS n_{t}" for t, b in TECH_BITS.items())}"""


def groups_sql(rows: str, *, area: str, by_provider: bool = True) -> str:
    """Group all rows once: per (location, provider), or per location.

    Per (location, provider) the table gives both the locations (masks OR-ed; the providers
    at 100/20 counted exactly, one group per provider, with no list aggregate) and the
    distinct providers per area, so CSVs are parsed once. Its hash table has about as many
    groups as rows, so past the memory limit it spills; per location (for Parquet, where a
    second scan for the (area, provider) pairs is cheap) the table is ~3x smaller and the
    providers at 100/20 are a distinct list (:func:`areas_sql` with ``rows``).
    """
    if by_provider:
        return f"""
SELECT location_id, provider_id, bit_or({MASK}) FILTER ({OK}) AS mask,
  any_value({area}) FILTER ({OK}) AS area, {_CHECKS}
FROM ({rows}) AS r GROUP BY location_id, provider_id"""
    return f"""
SELECT location_id, bit_or({MASK}) FILTER ({OK}) AS mask,
  coalesce(len(list_distinct(list(provider_id) FILTER ({OK} AND {Q100}))), 0) AS p100,
  any_value({area}) FILTER ({OK}) AS area, {_CHECKS}
FROM ({rows}) AS r GROUP BY location_id"""


def areas_sql(groups: str, *, rows: str | None = None, area: str | None = None) -> str:
    """Roll the table of :func:`groups_sql` up to areas, and count the row checks.

    Area rows have ``kind = 'area'`` and their distinct ``provider_ids``; row-check rows
    have ``kind = 'check'`` and ``codes, nbad, n``. Give ``rows`` and ``area`` when the
    groups are per location: the (area, provider) pairs then come from the rows.
    """
    if rows is None:
        loc = f"""SELECT location_id, bit_or(mask) AS mask,
    count(provider_id) FILTER (mask & 256 > 0) AS p100, any_value(area) AS area
  FROM {groups} GROUP BY location_id"""
        pairs = f"SELECT DISTINCT area, provider_id FROM {groups} WHERE mask IS NOT NULL"
    else:
        loc = f"SELECT * FROM {groups}"
        pairs = f"SELECT DISTINCT {area} AS area, provider_id FROM ({rows}) AS r WHERE {OK}"
    return f"""
WITH loc AS ({loc}),
sums AS (SELECT area, {_AREA_COUNTS} FROM loc GROUP BY area),
pv AS (SELECT area, list(provider_id) AS provider_ids FROM ({pairs}) AS d GROUP BY area)
SELECT 'area' AS kind, sums.*, pv.provider_ids FROM sums LEFT JOIN pv USING (area)
UNION ALL BY NAME
SELECT 'check' AS kind, codes, sum(nbad) AS nbad, sum(n) AS n FROM {groups} GROUP BY codes"""


def check_counts_sql(rows: str) -> str:
    """Exact row counts per check code (only run when one group mixed two codes)."""
    return f"SELECT _check, count(*) AS n FROM ({rows}) AS r WHERE _check > 0 GROUP BY _check"
