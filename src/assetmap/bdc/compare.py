"""Change between two BDC releases, per area: :func:`compare_releases`.

Both releases are classified under one rule set (:func:`assetmap.bdc.rules.rule_set`),
named in the result's report; :mod:`assetmap.bdc.release_change` adds brand names, school
areas and the report text on top.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pandas as pd

from assetmap._report import attach_report, count_repair, start_report
from assetmap.bdc import _common as common
from assetmap.bdc import _engine as eng
from assetmap.bdc import _sql as bead
from assetmap.bdc._checks import BLANKS_SQL
from assetmap.bdc._counts import header_repairs, rejected_places, tally
from assetmap.bdc._schema import RESIDENTIAL_CODES
from assetmap.bdc._stream import LOCATION_GROUP, offer_ctes
from assetmap.bdc.rules import RuleSet, RulesLike, rule_set

if TYPE_CHECKING:  # connections come from _engine.connect, which imports DuckDB
    import duckdb

__all__ = ["compare_releases"]

#: a location's H3 cell as the FCC writes it (lower case, trimmed), as every engine keys it
_H3_AREA = f"lower(trim({bead.AREA_EXPR['h3']}, {BLANKS_SQL}))"

COLUMNS = [
    "locations_old", "locations_new", "served_old", "served_new", "unserved_old",
    "unserved_new", "newly_served", "lost_service", "locations_added", "locations_removed",
    "fiber_gained", "fiber_lost", "providers_old", "providers_new", "providers_entering",
    "providers_leaving", "served_share_change",
]


def _is_levels(release: Any) -> bool:
    return isinstance(release, pd.DataFrame) and "service_level" in release.columns


def _locations(con: duckdb.DuckDBPyConnection, release: Any, name: str, area: str,
               selection: dict, stack: contextlib.ExitStack, rules: RuleSet
               ) -> dict[str, Any] | None:
    """Create tables ``loc_<name>`` (location_id, area, mask), ``prov_<name>`` (area, provider).

    Return the release's own report of its rows (every row read, counted as kept, repaired,
    rejected or left out by the code selection, as :func:`assetmap.load_bdc` counts them;
    warnings name the release), or None for a :func:`service_levels` frame (no rows).
    """
    if _is_levels(release):
        _levels_tables(con, release, name, area)
        return None
    inputs = None
    if not isinstance(release, pd.DataFrame):
        inputs = stack.enter_context(eng.open_inputs(eng.resolve_paths(release)))

    def rows() -> str:
        if inputs is None:
            return common.frame_rows(con, release, selection.get("codes"), name=f"frame_{name}")
        return eng.checked_sql(eng.source_sql(inputs), selection=selection)

    def build() -> tuple[pd.DataFrame, int]:
        """Read the rows once: tables loc_ and prov_; rows per check code; H3 repairs."""
        checked = rows()
        con.execute(f"CREATE OR REPLACE TEMP TABLE scan_{name} AS "
                    f"{_scan_sql(checked, rules=rules, area=area, h3=area == _H3_AREA)}")
        con.execute(f"CREATE OR REPLACE TEMP TABLE loc_{name} AS SELECT location_id, area, "
                    f"mask FROM scan_{name} WHERE kind = 'loc'")
        split = con.sql(f"SELECT count(*) FROM scan_{name} WHERE kind = 'loc' AND split"
                        ).fetchall()[0][0]
        pairs = (f"SELECT area, provider_id FROM scan_{name} WHERE kind = 'prov'" if not split
                 else f"SELECT DISTINCT l.area, r.provider_id FROM ({checked}) AS r "
                      f"JOIN loc_{name} AS l USING (location_id) WHERE r._check <= 1")
        con.execute(f"CREATE OR REPLACE TEMP TABLE prov_{name} AS {pairs}")  # location's area
        found = con.sql(f"SELECT coalesce(sum(n), 0) FROM scan_{name} WHERE kind = 'h3'"
                        ).fetchall()
        counts = con.sql(f"SELECT _check, _fix, n FROM scan_{name} WHERE kind = 'check'").df()
        con.execute(f"DROP TABLE scan_{name}")
        return counts, int(found[0][0])  # and the locations with an H3 cell repaired

    places: dict[int, list[tuple[str, int, str]]] = {}
    if inputs is None:
        counts, repaired = build()
        source = f"the {name} release (a frame)"
    else:
        with eng.damaged_parquet(inputs):
            counts, repaired = eng.run_typed(con, inputs, None, build)
            codes = {int(c) for c in counts.loc[counts["n"] > 0, "_check"]
                     if int(c) in eng.REJECT_REASONS}
            places = rejected_places(con, inputs, codes) if codes else {}
        source = f"the {name} release ({', '.join(inputs.names[:3])}"
        source += ", ...)" if len(inputs.names) > 3 else ")"
    header_repairs_of = [] if inputs is None else inputs.header_repairs
    own = start_report(source, kind="bdc_availability")
    header_repairs(own, header_repairs_of)
    tally(own, counts, selection=selection, places=places, numbers_repaired=bool(
        inputs is not None and inputs.lenient))
    count_repair(own, common.H3_REPAIR, repaired)
    return own


def _scan_sql(checked: str, *, rules: RuleSet, area: str, h3: bool) -> str:
    """Return the one query over a release's checked rows, read once (rows by ``kind``).

    DuckDB streams the rows to each part (a materialised CTE, nothing stored per row):

    * ``loc``: one row per location (``location_id, area, mask``; ``split`` when its rows
      lie in two areas: it is counted in the smallest, and its providers are joined there);
    * ``prov``: the distinct (area, provider) pairs of the kept rows, in the rows' areas
      (their locations' areas unless a location is split);
    * ``check``: rows per check code and repair bits (``_check, _fix, n``), every row read;
    * ``h3`` (``h3``): the locations whose cell is written in capitals or with spaces (``n``).
    """
    fixed_h3 = f", _check <= 1 AND h3_res8_id IS DISTINCT FROM {area} AS h3_fixed" if h3 else ""
    h3_part = ("\nUNION ALL BY NAME\nSELECT 'h3' AS kind, count(DISTINCT location_id) AS n "
               "FROM r0 WHERE h3_fixed") if h3 else ""
    return f"""
WITH {offer_ctes(checked, rules=rules, area=area, extra=fixed_h3)}
SELECT 'loc' AS kind, * FROM ({LOCATION_GROUP})
UNION ALL BY NAME
SELECT 'prov' AS kind, area, provider_id FROM ok GROUP BY area, provider_id
UNION ALL BY NAME
SELECT 'check' AS kind, _check, _fix, count(*) AS n FROM r0 GROUP BY _check, _fix{h3_part}"""


def _levels_tables(con: duckdb.DuckDBPyConnection, levels: pd.DataFrame, name: str,
                   area: str) -> None:
    """Location and provider tables from a :func:`service_levels` frame."""
    bits = {common.TECH_COLUMNS[group]: bit for group, bit in bead.TECH_BITS.items()}
    frame = pd.DataFrame({"location_id": levels["location_id"].astype(str),
                          "block_geoid": levels["block_geoid"].astype(str),
                          "h3_res8_id": levels["h3_res8_id"].astype(str)})
    mask = pd.Series(0, index=levels.index, dtype="int64")
    for col, bit in bits.items():
        if col in levels.columns:
            mask += levels[col].astype(bool).astype("int64") * bit
    level = levels["service_level"].astype(str)
    mask += level.isin(["underserved", "served"]).astype("int64") * bead.UNDERSERVED_BIT
    mask += (level == "served").astype("int64") * bead.SERVED_BIT
    frame["mask"] = mask.to_numpy()
    ids = (levels["provider_ids"] if "provider_ids" in levels.columns
           else pd.Series("", index=levels.index)).fillna("").astype(str)
    frame["provider_ids"] = ids.to_numpy()
    con.register(f"levels_{name}", frame)
    con.execute(f"CREATE TEMP TABLE loc_{name} AS SELECT location_id, {area} AS area, mask "
                f"FROM levels_{name}")
    con.execute(f"CREATE TEMP TABLE prov_{name} AS SELECT DISTINCT {area} AS area, "
                f"unnest(string_split(provider_ids, ';')) AS provider_id FROM levels_{name} "
                "WHERE provider_ids <> ''")


def compare_releases(old: Any, new: Any, *, level: common.Level = "tract",
                     codes: Iterable[str] | None = RESIDENTIAL_CODES,
                     rules: RulesLike = None) -> pd.DataFrame:
    """Change between two BDC releases per area: newly served, lost service, fiber, providers.

    Parameters
    ----------
    old, new : pandas.DataFrame or path/glob/list
        Availability rows (frames from :func:`assetmap.load_bdc`, or files), or
        :func:`assetmap.service_levels` frames.
    level : {"tract", "block_group", "county", "h3"}
        The area.
    codes : iterable of str or None
        Business/residential codes kept (default R and X).
    rules : str, mapping, RuleSet or None
        The rule set both releases are classified under (:func:`assetmap.bdc.rules.rule_set`).
        None: ``"bead"``, or the set ``service_levels`` frames were made with (frames made
        under another set than ``rules``, or under two sets, raise ValueError).

    Returns
    -------
    pandas.DataFrame
        One row per area: ``locations_old, locations_new, served_old, served_new,
        unserved_old, unserved_new, newly_served, lost_service, locations_added,
        locations_removed, fiber_gained, fiber_lost, providers_old, providers_new,
        providers_entering, providers_leaving, served_share_change``; totals over all areas in
        ``attrs["assetmap"]["totals"]``, the rule set in ``attrs["assetmap"]["rules"]``. Every
        row of each release is counted before the code selection, as :func:`assetmap.load_bdc`
        counts it: ``report["releases"]["old"]`` and ``["new"]`` hold ``rows_read``, ``checks``,
        ``rejected``, ``repaired`` and ``filtered``; the report's own are their sums (a
        :func:`service_levels` frame counts its locations as its rows).

    Examples
    --------
    >>> import pandas as pd
    >>> def rows(tech, down, up):
    ...     return pd.DataFrame({"frn": ["1"], "provider_id": ["p1"], "brand_name": ["A"],
    ...         "location_id": ["L1"], "technology": [tech],
    ...         "max_advertised_download_speed": [down], "max_advertised_upload_speed": [up],
    ...         "low_latency": [1], "business_residential_code": ["R"], "state_usps": ["TX"],
    ...         "block_geoid": ["481350001001000"], "h3_res8_id": ["8848a2d8c9fffff"]})
    >>> change = compare_releases(rows(10, 10, 1), rows(50, 1000, 1000))
    >>> change[["GEOID", "newly_served", "fiber_gained"]]
             GEOID  newly_served  fiber_gained
    0  48135000100             1             1
    """
    area = _H3_AREA if level == "h3" else common.check_level(level)
    key = common.area_key(level)
    selection = eng.row_selection(codes=tuple(codes) if codes else None)
    report = start_report(None, kind="bdc_release_change")
    levels = [r for r in (old, new) if _is_levels(r)]
    chosen = common.rules_of_levels(levels, rules, report) if levels else rule_set(rules)
    with eng.connect() as con, contextlib.ExitStack() as stack:
        counted = {name: _locations(con, release, name, area, selection, stack, chosen)
                   for name, release in (("old", old), ("new", new))}
        served = f"(mask & {bead.SERVED_BIT} > 0)"
        unserved = f"(mask & {bead.LEVEL_BITS} = 0)"
        fiber = f"(mask & {bead.FIBER_BIT} > 0)"
        out = con.sql(f"""
WITH j AS (
  SELECT coalesce(n.area, o.area) AS area, o.mask AS om, n.mask AS nm,
         o.location_id IS NOT NULL AS in_old, n.location_id IS NOT NULL AS in_new
  FROM loc_old o FULL OUTER JOIN loc_new n USING (location_id)
), a AS (
  SELECT area,
    count(*) FILTER (in_old) AS locations_old, count(*) FILTER (in_new) AS locations_new,
    count(*) FILTER ({served.replace('mask', 'om')}) AS served_old,
    count(*) FILTER ({served.replace('mask', 'nm')}) AS served_new,
    count(*) FILTER ({unserved.replace('mask', 'om')}) AS unserved_old,
    count(*) FILTER ({unserved.replace('mask', 'nm')}) AS unserved_new,
    count(*) FILTER ({served.replace('mask', 'nm')}
                     AND NOT coalesce({served.replace('mask', 'om')}, false)) AS newly_served,
    count(*) FILTER ({served.replace('mask', 'om')}
                     AND NOT coalesce({served.replace('mask', 'nm')}, false)) AS lost_service,
    count(*) FILTER (in_new AND NOT in_old) AS locations_added,
    count(*) FILTER (in_old AND NOT in_new) AS locations_removed,
    count(*) FILTER ({fiber.replace('mask', 'nm')}
                     AND NOT coalesce({fiber.replace('mask', 'om')}, false)) AS fiber_gained,
    count(*) FILTER ({fiber.replace('mask', 'om')}
                     AND NOT coalesce({fiber.replace('mask', 'nm')}, false)) AS fiber_lost
  FROM j GROUP BY area
), p AS (
  SELECT coalesce(o.area, n.area) AS area,
    count(o.provider_id) AS providers_old, count(n.provider_id) AS providers_new,
    count(*) FILTER (o.provider_id IS NULL) AS providers_entering,
    count(*) FILTER (n.provider_id IS NULL) AS providers_leaving
  FROM prov_old o FULL OUTER JOIN prov_new n USING (area, provider_id) GROUP BY ALL
)
SELECT a.*, coalesce(p.providers_old, 0) AS providers_old,
  coalesce(p.providers_new, 0) AS providers_new,
  coalesce(p.providers_entering, 0) AS providers_entering,
  coalesce(p.providers_leaving, 0) AS providers_leaving
FROM a LEFT JOIN p USING (area) ORDER BY area""").df()
    for c in COLUMNS[:-1]:
        out[c] = out[c].astype("int64")
    out["served_share_change"] = (out["served_new"] / out["locations_new"].where(
        out["locations_new"] > 0)) - (out["served_old"] / out["locations_old"].where(
            out["locations_old"] > 0))
    out = out.rename(columns={"area": key})[[key, *COLUMNS]]
    common.note_rules(report, chosen)
    common.add_release_rows(report, {  # a service_levels frame: its locations as its rows
        side: (counted[side], len(release) if counted[side] is None else 0)
        for side, release in (("old", old), ("new", new))})
    report["totals"] = {c: int(out[c].sum()) for c in COLUMNS[:-1] if not c.startswith("prov")}
    report["level"] = level
    common.note_merged(report, len(out))
    return attach_report(out, report)

