"""BEAD service-level classification in SQL for DuckDB, generated from a rule set.

Nothing here names a technology code or a speed: the SQL is written from a
:class:`~assetmap.bdc.rules.RuleSet` (which offers are reliable, whether they must be low
latency, the served and underserved thresholds) and from the technology groups of
:mod:`assetmap.bdc.rules`. A reliable offer reaches a threshold when its download and its
upload (of the same offer) are at least the threshold's; speeds are compared as they are,
fractions included (thresholds are written as ``DOUBLE`` literals, exact for the integer
speeds of a BDC file and for fractional speeds of a frame).

Each location gets a bit mask, OR-ed over its offers (the fast engine uses the same layout):

=========  ====================================================
bit        meaning
=========  ====================================================
1 << i     an offer of technology group ``rules.GROUPS[i]`` (copper 1, cable 2, fiber 4,
           licensed_fw 8, unlicensed_fw 16, satellite 32, other 64)
128        a reliable offer reaches the ``underserved`` threshold
256        a reliable offer reaches the ``served`` threshold
=========  ====================================================
"""

from __future__ import annotations

from typing import Any

from assetmap.bdc.rules import FIBER, GROUPS, RuleSet, technology_group, technology_names

#: bit of each technology group in the offer mask
GROUP_BITS = {group: 1 << i for i, group in enumerate(GROUPS)}
UNDERSERVED_BIT = 1 << len(GROUPS)
SERVED_BIT = UNDERSERVED_BIT << 1
LEVEL_BITS = UNDERSERVED_BIT | SERVED_BIT
#: the groups counted per area (``n_<group>``, ``tech_<group>_share``): all but "other"
TECH_BITS = {group: bit for group, bit in GROUP_BITS.items() if group != "other"}
FIBER_BIT = GROUP_BITS[technology_group(FIBER)]
SATELLITE_BIT = GROUP_BITS["satellite"]
UNLICENSED_FW_BIT = GROUP_BITS["unlicensed_fw"]
ANY_TECH_BITS = sum(GROUP_BITS.values())
TERRESTRIAL_BITS = ANY_TECH_BITS & ~SATELLITE_BIT

_D = "max_advertised_download_speed"
_U = "max_advertised_upload_speed"

AREA_EXPR = {
    "tract": "substr(block_geoid, 1, 11)",
    "block_group": "substr(block_geoid, 1, 12)",
    "county": "substr(block_geoid, 1, 5)",
    "h3": "h3_res8_id",
}
AREA_LENGTH = {"tract": 11, "block_group": 12, "county": 5, "h3": 15}

LEVEL_CASE = (f"CASE WHEN mask & {SERVED_BIT} > 0 THEN 'served' "
              f"WHEN mask & {UNDERSERVED_BIT} > 0 THEN 'underserved' ELSE 'unserved' END")
SAT_ONLY = f"(mask & {ANY_TECH_BITS} = {SATELLITE_BIT})"
UFW_ONLY = f"(mask & {TERRESTRIAL_BITS} = {UNLICENSED_FW_BIT})"
UNSERVED = f"(mask & {LEVEL_BITS} = 0)"
UNDERSERVED = f"(mask & {UNDERSERVED_BIT} > 0 AND mask & {SERVED_BIT} = 0)"
SERVED = f"(mask & {SERVED_BIT} > 0)"


def location_flags(mask: Any) -> dict[str, Any]:
    """Per location mask (a numpy array of them): the flags each area counts.

    The array form of ``UNSERVED``, ``UNDERSERVED``, ``SERVED``, ``SAT_ONLY``, ``UFW_ONLY``
    and ``n_<group>``, for the numpy paths.

    Examples
    --------
    >>> import numpy as np
    >>> flags = location_flags(np.array([SERVED_BIT | UNDERSERVED_BIT | FIBER_BIT,
    ...                                  SATELLITE_BIT]))
    >>> flags["served"].tolist(), flags["satellite_only"].tolist(), flags["n_fiber"].tolist()
    ([True, False], [False, True], [True, False])
    """
    return {
        "unserved": mask & LEVEL_BITS == 0,
        "underserved": (mask & UNDERSERVED_BIT > 0) & (mask & SERVED_BIT == 0),
        "served": mask & SERVED_BIT > 0,
        "satellite_only": mask & ANY_TECH_BITS == SATELLITE_BIT,
        "unlicensed_fw_only": mask & TERRESTRIAL_BITS == UNLICENSED_FW_BIT,
        **{f"n_{group}": mask & bit > 0 for group, bit in TECH_BITS.items()},
    }


def _number(value: float) -> str:
    return f"{float(value)!r}::DOUBLE"


def reliable_sql(rules: RuleSet) -> str:
    """Return the SQL condition: the offer is reliable under ``rules``.

    Examples
    --------
    >>> from assetmap.bdc.rules import rule_set
    >>> reliable_sql(rule_set({"reliable_technologies": [50, 40], "low_latency_required": False,
    ...                        "served": [100, 20], "underserved": [25, 3]}))
    '(technology IN (40, 50))'
    """
    if not rules.reliable_technologies:
        return "(FALSE)"
    codes = ", ".join(str(int(c)) for c in rules.reliable_technologies)
    latency = " AND low_latency = 1" if rules.low_latency_required else ""
    return f"(technology IN ({codes}){latency})"


def reaches_sql(rules: RuleSet, threshold: tuple[float, float]) -> str:
    """Return the SQL condition: a reliable offer reaching ``threshold`` (down and up)."""
    down, up = threshold
    return f"({reliable_sql(rules)} AND {_D} >= {_number(down)} AND {_U} >= {_number(up)})"


def served_sql(rules: RuleSet) -> str:
    """Return the SQL condition: the offer makes its location served."""
    return reaches_sql(rules, rules.served)


def mask_sql(rules: RuleSet) -> str:
    """Return the SQL expression of the offer's bits (technology group, thresholds)."""
    groups: dict[int, list[int]] = {}
    for code in technology_names():
        groups.setdefault(GROUP_BITS[technology_group(code)], []).append(code)
    whens = " ".join(f"WHEN technology IN ({', '.join(map(str, codes))}) THEN {bit}"
                     for bit, codes in sorted(groups.items()))
    return (f"((CASE {whens} ELSE {GROUP_BITS['other']} END)"
            f" | CASE WHEN {reaches_sql(rules, rules.underserved)} THEN {UNDERSERVED_BIT} "
            f"ELSE 0 END | CASE WHEN {served_sql(rules)} THEN {SERVED_BIT} ELSE 0 END)")


def locations_sql(rows: str, *, rules: RuleSet) -> str:
    """One row per location from checked availability rows (``_check <= 1``).

    ``mask`` (the bits above), ``providers_100_20``, ``best`` ([download, upload] of the best
    reliable offer: highest download, then highest upload; NULL without a reliable offer),
    ``block_geoid`` and ``h3_res8_id`` (the smallest of its rows': one each in an FCC release;
    see :func:`assetmap.bdc._common.note_split`), ``split`` (whether the location's rows name
    two blocks) and ``provider_list``.
    """
    cols = [
        "location_id",
        f"bit_or({mask_sql(rules)}) AS mask",
        (f"coalesce(len(list_distinct(list(provider_id) FILTER ({served_sql(rules)}))), 0) "
         "AS providers_100_20"),
        f"max([{_D}, {_U}]) FILTER ({reliable_sql(rules)}) AS best",
        "min(block_geoid) AS block_geoid",
        "min(h3_res8_id) AS h3_res8_id",
        "min(block_geoid) <> max(block_geoid) AS split",
        "list_sort(list_distinct(list(provider_id))) AS provider_list",
    ]
    return (f"SELECT {', '.join(cols)} FROM ({rows}) AS r WHERE _check <= 1 "
            "GROUP BY location_id")


def pairs_sql(rows: str, *, area: str) -> str:
    """Row counts per (area, provider, check code): row checks and provider sets."""
    return f"""
SELECT {area} AS area, provider_id, _check, _fix, count(*) AS n
FROM ({rows}) AS r GROUP BY ALL"""


#: per-area sums of one row per location (``mask``), as :mod:`assetmap.bdc._stream` takes
#: them: every column of ``SUM_COLUMNS`` but ``providers_100_20_sum``
AREA_COUNTS = f"""count(mask) AS locations,
  count(*) FILTER {UNSERVED} AS unserved,
  count(*) FILTER {UNDERSERVED} AS underserved,
  count(*) FILTER {SERVED} AS served,
  count(*) FILTER {SAT_ONLY} AS satellite_only,
  count(*) FILTER {UFW_ONLY} AS unlicensed_fw_only,
  {", ".join(f"count(*) FILTER (mask & {b} > 0) AS n_{t}" for t, b in TECH_BITS.items())}"""
