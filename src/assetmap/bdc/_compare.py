"""Change between two BDC releases, per area (the engine of ``compare_releases``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import duckdb
import pandas as pd

from assetmap._report import attach_report, start_report
from assetmap.bdc import _sql as bead
from assetmap.bdc import _engine as eng

COLUMNS = [
    "locations_old", "locations_new", "served_old", "served_new", "unserved_old",
    "unserved_new", "newly_served", "lost_service", "locations_added", "locations_removed",
    "fiber_gained", "fiber_lost", "providers_old", "providers_new", "providers_entering",
    "providers_leaving", "served_share_change",
]


def _locations(con: duckdb.DuckDBPyConnection, release: Any, name: str, area: str,
               codes: tuple[str, ...] | None, stack) -> None:
    """Create tables ``loc_<name>`` (location_id, area, mask), ``prov_<name>`` (area, provider)."""
    if isinstance(release, pd.DataFrame) and "service_level" in release.columns:
        _levels_tables(con, release, name, area)
        return
    if isinstance(release, pd.DataFrame):
        from assetmap.bdc.service import _frame_rows

        con.register(f"frame_{name}", release)
        rows = _frame_rows(con, release, codes)
    else:
        files = eng.resolve_paths(release)
        inputs = stack.enter_context(eng.open_inputs(files))
        rows = eng.checked_sql(eng.source_sql(inputs), eng.row_filter(codes=codes))
    con.execute(f"CREATE TEMP TABLE loc_{name} AS "
                f"{bead.locations_sql(rows, area=area, detail=False)}")
    con.execute(f"CREATE TEMP TABLE prov_{name} AS SELECT DISTINCT {area} AS area, provider_id "
                f"FROM ({rows}) AS r WHERE _check <= 1")


def _levels_tables(con: duckdb.DuckDBPyConnection, levels: pd.DataFrame, name: str,
                   area: str) -> None:
    """Location and provider tables from a :func:`service_levels` frame."""
    bits = {"has_copper": 1, "has_cable": 2, "has_fiber": 4, "has_licensed_fw": 8,
            "has_unlicensed_fw": 16, "has_satellite": 32}
    frame = pd.DataFrame({"location_id": levels["location_id"].astype(str),
                          "block_geoid": levels["block_geoid"].astype(str),
                          "h3_res8_id": levels["h3_res8_id"].astype(str)})
    mask = pd.Series(0, index=levels.index, dtype="int64")
    for col, bit in bits.items():
        if col in levels.columns:
            mask += levels[col].astype(bool).astype("int64") * bit
    level = levels["service_level"].astype(str)
    mask += level.isin(["underserved", "served"]).astype("int64") * 128
    mask += (level == "served").astype("int64") * 256
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


def compare(old: Any, new: Any, *, level: str, codes: Iterable[str] | None) -> pd.DataFrame:
    """See :func:`assetmap.bdc.service.compare_releases`."""
    import contextlib

    from assetmap.bdc.service import _check_level

    area = _check_level(level)
    key = "h3_res8_id" if level == "h3" else "GEOID"
    codes_t = tuple(codes) if codes else None
    with eng.connect() as con, contextlib.ExitStack() as stack:
        _locations(con, old, "old", area, codes_t, stack)
        _locations(con, new, "new", area, codes_t, stack)
        served = "(mask & 256 > 0)"
        unserved = "(mask & 384 = 0)"
        fiber = "(mask & 4 > 0)"
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
    report = start_report(None, kind="bdc_release_change")
    report["rows_read"] = int(out["locations_old"].sum() + out["locations_new"].sum())
    report["totals"] = {c: int(out[c].sum()) for c in COLUMNS[:-1] if not c.startswith("prov")}
    report["level"] = level
    report["merged"] = max(0, report["rows_read"] - len(out))
    return attach_report(out, report)
