"""BEAD service levels per location, and their roll-up to areas, from frames in memory.

A rule set (:func:`assetmap.bdc.rules.rule_set`: a name, a mapping or a ``RuleSet``;
``"bead"`` by default) says which offers are reliable, whether they must be low latency,
and the served and underserved thresholds. A location is **served** if a reliable offer
reaches ``served``, **underserved** if the best reliable offer reaches ``underserved`` but
not ``served``, **unserved** otherwise; each test takes download and upload from one offer
and compares the speeds as they are, fractions included. Locations are unique
``location_id`` values, residential only (``business_residential_code`` R or X) unless
``codes`` says otherwise. Every result's report names its rule set (``report["rules"]``).

A frame with text ids and integer codes (the frame of :func:`assetmap.load_bdc`) is
classified with numpy (:mod:`assetmap.bdc._frame_levels`; raw rows to areas, any number of
providers: :mod:`assetmap.bdc._frame_areas`); anything else by DuckDB
(:mod:`assetmap.bdc._sql`); all give the same frame.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa

from assetmap._report import attach_report, get_report, merge_sources, start_report
from assetmap.bdc import _common as common
from assetmap.bdc import _engine as eng
from assetmap.bdc import _frame_areas as frame_areas
from assetmap.bdc import _frame_levels as bead_codes
from assetmap.bdc import _sql as bead
from assetmap.bdc import _stream as stream
from assetmap.bdc._counts import tally
from assetmap.bdc._schema import RESIDENTIAL_CODES
from assetmap.bdc.rules import RuleSet, RulesLike, rule_set
from assetmap.errors import SchemaError

__all__ = ["service_by_area", "service_levels"]

_LEVEL_FIRST = ["location_id", "block_geoid", "h3_res8_id", "service_level", "best_down",
                "best_up", "has_fiber", "providers", "providers_100_20", "satellite_only",
                "unlicensed_fw_only"]
_NAMES = pa.array(["unserved", "underserved", "served"])


def _selection(codes: Iterable[str] | None) -> dict:
    """Return the row selection of ``codes`` (upper-cased, trimmed), to name the filter."""
    return eng.row_selection(codes=tuple(codes) if codes else None)


def service_levels(avail: pd.DataFrame, *, codes: Iterable[str] | None = RESIDENTIAL_CODES,
                   rules: RulesLike = "bead") -> pd.DataFrame:
    """Classify every location by its best reliable offer under a BEAD rule set.

    Parameters
    ----------
    avail : pandas.DataFrame
        BDC availability rows (:func:`assetmap.load_bdc`), one per location x provider x
        technology.
    codes : iterable of str or None
        ``business_residential_code`` values kept (default residential: R and X); None keeps all.
    rules : str, mapping or RuleSet
        The rule set (:func:`assetmap.bdc.rules.rule_set`): a name (default ``"bead"``) or a
        mapping with ``reliable_technologies``, ``low_latency_required``, ``served`` and
        ``underserved``.

    Returns
    -------
    pandas.DataFrame
        One row per ``location_id``: ``block_geoid, h3_res8_id, service_level, best_down,
        best_up, has_fiber, providers, providers_100_20, satellite_only, unlicensed_fw_only``
        and, for :func:`service_by_area`, ``has_copper, has_cable, has_licensed_fw,
        has_unlicensed_fw, has_satellite`` and ``provider_ids`` (``;``-separated).
        ``providers_100_20`` counts the providers with a reliable offer at the rule set's
        served threshold; best speeds are int32, or float64 when the frame's speeds are not
        integers. ``h3_res8_id`` is written as the FCC writes it (lower case, trimmed; the
        locations whose cell was written otherwise are counted as repaired). The report names
        the rule set (``report["rules"]``).

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({
    ...     "frn": ["1", "2"], "provider_id": ["p1", "p2"], "brand_name": ["A", "B"],
    ...     "location_id": ["L1", "L1"], "technology": [60, 70],
    ...     "max_advertised_download_speed": [100, 100], "max_advertised_upload_speed": [20, 20],
    ...     "low_latency": [0, 1], "business_residential_code": ["R", "R"],
    ...     "state_usps": ["TX", "TX"], "block_geoid": ["481350001001000"] * 2,
    ...     "h3_res8_id": ["8848a2d8c9fffff"] * 2})
    >>> service_levels(rows)[["location_id", "service_level", "best_down"]]
      location_id service_level  best_down
    0          L1      unserved          0
    >>> wireless = {"reliable_technologies": [70], "low_latency_required": True,
    ...             "served": [100, 20], "underserved": [25, 3], "name": "ufw"}
    >>> service_levels(rows, rules=wireless)["service_level"].tolist()
    ['served']
    """
    chosen = rule_set(rules)
    report = start_report(None, kind="bdc_service_levels")
    common.need_columns(avail)
    coded = bead_codes.code_rows(avail, tuple(codes) if codes else None)
    if coded is not None:
        tally(report, bead_codes.check_pairs(coded), selection=_selection(codes))
        out = _levels_frame(coded, chosen, report)
    else:
        out = _levels_sql(avail, codes, report, chosen)
    out = common.canonical_cells(out, report)
    sources, vintages, illustrative = merge_sources(avail)
    report.update(sources=sources, vintages=vintages, illustrative=illustrative)
    common.note_rules(report, chosen)
    common.note_merged(report, len(out))
    return attach_report(out, report)


def _levels_frame(coded: bead_codes.Coded, rules: RuleSet, report: dict) -> pd.DataFrame:
    """Return the :func:`service_levels` frame from integer-coded rows (no SQL)."""
    loc = bead_codes.locations(coded, rules)
    common.note_split(report, loc.split, "block")
    mask = loc.mask
    flags = bead.location_flags(mask)
    level = np.where(flags["served"], 2, np.where(flags["underserved"], 1, 0))
    columns = {
        "location_id": loc.ids, "block_geoid": coded.block_ids.take(loc.block),
        "h3_res8_id": coded.h3_ids.take(loc.h3),
        "service_level": _NAMES.take(pa.array(level)),
        "best_down": loc.best_down, "best_up": loc.best_up,
        "has_fiber": mask & bead.FIBER_BIT > 0,
        "providers": loc.providers, "providers_100_20": loc.providers_100_20,
        **{c: flags[c] for c in ("satellite_only", "unlicensed_fw_only")},
    }
    for name in bead.TECH_BITS:
        if common.TECH_COLUMNS[name] not in columns:
            columns[common.TECH_COLUMNS[name]] = flags[f"n_{name}"]
    columns["provider_ids"] = bead_codes.provider_lists(loc.provider_set, coded.prov_ids)
    return pa.table(columns).to_pandas()


def _levels_sql(avail: pd.DataFrame, codes, report: dict, rules: RuleSet) -> pd.DataFrame:
    """Return the :func:`service_levels` frame computed by DuckDB (any castable frame)."""
    speed = "INTEGER" if common.integral_speeds(avail) else "DOUBLE"
    with eng.connect() as con:
        rows = common.frame_rows(con, avail, tuple(codes) if codes else None)
        pairs = con.sql(bead.pairs_sql(rows, area="substr(block_geoid, 1, 11)")).df()
        tally(report, pairs, selection=_selection(codes))
        tech = ", ".join(f"(mask & {bit} > 0) AS {common.TECH_COLUMNS[name]}"
                         for name, bit in bead.TECH_BITS.items())
        sql = f"""
SELECT location_id, block_geoid, h3_res8_id, split, {bead.LEVEL_CASE} AS service_level,
  coalesce(best[1], 0)::{speed} AS best_down, coalesce(best[2], 0)::{speed} AS best_up,
  len(provider_list) AS providers, providers_100_20,
  {bead.SAT_ONLY} AS satellite_only, {bead.UFW_ONLY} AS unlicensed_fw_only, {tech},
  array_to_string(provider_list, ';') AS provider_ids
FROM ({bead.locations_sql(rows, rules=rules)}) AS l
ORDER BY location_id"""
        out = con.sql(sql).df()
    common.note_split(report, int(out.pop("split").sum()), "block")
    for c in ("providers", "providers_100_20"):
        out[c] = out[c].astype("int64")
    return out[_LEVEL_FIRST + [c for c in out.columns if c not in _LEVEL_FIRST]]


def service_by_area(avail_or_levels: pd.DataFrame, *, level: common.Level = "tract",
                    codes: Iterable[str] | None = RESIDENTIAL_CODES,
                    rules: RulesLike = None) -> pd.DataFrame:
    """Roll BEAD service levels up to tracts, block groups, counties or H3 res-8 cells.

    Parameters
    ----------
    avail_or_levels : pandas.DataFrame
        Raw availability rows (:func:`assetmap.load_bdc`) or the frame of
        :func:`service_levels`.
    level : {"tract", "block_group", "county", "h3"}
        The area; the key column is ``GEOID`` (``h3_res8_id`` for ``"h3"``).
    codes : iterable of str or None
        Business/residential codes kept when raw rows are given (default R and X).
    rules : str, mapping, RuleSet or None
        The rule set (:func:`assetmap.bdc.rules.rule_set`). None: ``"bead"`` for raw rows,
        and for a :func:`service_levels` frame the set it was made with (a different set
        raises ValueError: classify the rows again).

    Returns
    -------
    pandas.DataFrame
        One row per area, sorted by key, with the columns of docs/data-model.md
        "Service by area"; the report names the rule set (``report["rules"]``).

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({
    ...     "frn": ["1", "2", "3"], "provider_id": ["p1", "p2", "p1"],
    ...     "brand_name": ["A", "B", "A"], "location_id": ["L1", "L2", "L2"],
    ...     "technology": [50, 70, 40], "max_advertised_download_speed": [1000, 25, 50],
    ...     "max_advertised_upload_speed": [1000, 3, 5], "low_latency": [1, 1, 1],
    ...     "business_residential_code": ["R", "X", "X"], "state_usps": ["TX"] * 3,
    ...     "block_geoid": ["481350001001000", "481350001002000", "481350001002000"],
    ...     "h3_res8_id": ["8848a2d8c9fffff"] * 3})
    >>> area = service_by_area(rows, level="tract")
    >>> area[["GEOID", "locations", "served", "underserved", "fiber_share", "providers"]]
             GEOID  locations  served  underserved  fiber_share  providers
    0  48135000100          2       1            1          0.5          2
    >>> area.attrs["assetmap"]["rules"]["name"]
    'bead'
    """
    area = common.check_level(level)
    key = common.area_key(level)
    frame = avail_or_levels
    if "service_level" in frame.columns:
        out, report = _area_from_levels(frame, level=level, key=key, rules=rules)
    else:
        chosen = rule_set(rules)
        report = start_report(None, kind="bdc_service_by_area")
        common.need_columns(frame)
        fast = frame_areas.area_sums(frame, tuple(codes) if codes else None, level, chosen)
        split = 0  # the numpy path takes no location with rows in two areas
        if fast is not None:  # text ids and integer codes (load_bdc's frame): numpy
            sums, pairs, checks = fast
        else:
            with eng.connect() as con:
                rows = common.frame_rows(con, frame, tuple(codes) if codes else None)
                sums, pairs, checks, split = stream.stream_areas(con, rows, rules=chosen,
                                                                 area=area)
        common.note_split(report, split, level)
        tally(report, checks, selection=_selection(codes))
        common.note_rules(report, chosen)
        out = common.finish_area(sums, pairs, key=key, report=report)
    out = common.check_keys(out, key, level, report)
    sources, vintages, illustrative = merge_sources(frame)
    report.update(sources=sources, vintages=vintages, illustrative=illustrative, level=level)
    common.note_merged(report, len(out))
    return attach_report(out, report)


def _area_from_levels(levels: pd.DataFrame, *, level: str, key: str, rules: RulesLike):
    report = start_report(None, kind="bdc_service_by_area", rows_read=len(levels))
    common.note_rules(report, common.rules_of_levels([levels], rules, report))
    need = ["location_id", "block_geoid", "h3_res8_id", "service_level", "providers_100_20",
            "satellite_only", "unlicensed_fw_only", "provider_ids",
            *common.TECH_COLUMNS.values()]
    missing = [c for c in need if c not in levels.columns]
    if missing:
        raise SchemaError(f"service-levels frame: missing column(s) {missing}; "
                          "make it with service_levels()")
    lv = pd.DataFrame(levels[need])
    if level == "h3" and common.H3_REPAIR in get_report(levels).get("repaired", {}):
        report["notes"].append("service_levels wrote some locations' H3 cells in lower case "
                               "and trimmed (counted in that frame's report) before these "
                               "areas were summed")
    n_key = bead.AREA_LENGTH[level]
    # areas as integer codes (-1: no area); sums and provider sets per code, then per area
    area, areas = pd.factorize(lv["h3_res8_id"] if level == "h3"
                               else lv["block_geoid"].str[:n_key])
    per_location = pd.DataFrame({
        "locations": 1,
        **{c: (lv["service_level"] == c).astype("int64")
           for c in ("unserved", "underserved", "served")},
        "providers_100_20_sum": lv["providers_100_20"],
        "satellite_only": lv["satellite_only"].astype("int64"),
        "unlicensed_fw_only": lv["unlicensed_fw_only"].astype("int64"),
        **{f"n_{t}": lv[col].astype("int64") for t, col in common.TECH_COLUMNS.items()},
    })
    placed = area >= 0
    sums = per_location.loc[placed].groupby(area[placed]).sum()
    sums.insert(0, "area", np.asarray(areas, dtype=object)[sums.index.to_numpy()])
    # provider lists: split each distinct list once, then pair it with the areas holding it
    lists, distinct = pd.factorize(lv["provider_ids"].fillna(""))
    split = pd.Series(distinct).str.split(";")
    pair = np.unique(area[placed].astype(np.int64) * max(len(distinct), 1) + lists[placed])
    pair_area, pair_list = np.divmod(pair, max(len(distinct), 1))
    lengths = split.str.len().to_numpy()[pair_list] if len(pair) else np.zeros(0, np.int64)
    ids = (np.concatenate([np.asarray(x, dtype=object) for x in split])
           if len(split) else np.zeros(0, dtype=object))
    starts = np.r_[0, np.cumsum(split.str.len().to_numpy())][pair_list]
    take = np.repeat(starts - np.r_[0, np.cumsum(lengths)][:-1], lengths) + np.arange(
        lengths.sum())
    pairs = pd.DataFrame({"area": np.asarray(areas, dtype=object)[np.repeat(pair_area, lengths)],
                          "provider_id": ids[take]})
    pairs = pairs[pairs["provider_id"] != ""].assign(_check=0)
    return common.finish_area(sums, pairs, key=key, report=report), report
