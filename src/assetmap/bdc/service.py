"""BEAD service levels per location and their roll-up to tracts, block groups, counties, H3.

Definitions (NTIA BEAD, as in design.md): reliable technologies are copper (10), cable (40),
fiber (50) and licensed / licensed-by-rule fixed wireless (71, 72) with ``low_latency = 1``.
A location is **unserved** if no reliable offer reaches 25/3 Mbps, **underserved** if the best
reliable offer reaches 25/3 but not 100/20, **served** at 100/20 or more; each test takes
download and upload from the same offer. Satellite (60, 61) and unlicensed fixed wireless (70)
never make a location served. Locations are unique ``location_id`` values, residential only
(``business_residential_code`` R or X) unless ``codes`` says otherwise.

Everything is computed by DuckDB (a core dependency), from a frame or straight from files:
:func:`aggregate_bdc` streams a national glob of CSVs, zips or Parquet to one row per area
without materialising the rows in pandas. The engine was chosen by benchmark
(``benchmarks/bdc_aggregation.py``, figures in ``benchmarks/RESULTS.md``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from assetmap._report import attach_report, count_reject, count_repair, merge_sources, start_report
from assetmap.bdc import _frame_levels as bead_codes
from assetmap.bdc import _sql as bead
from assetmap.errors import SchemaError
from assetmap.bdc import _engine as eng
from assetmap.bdc.read import BDC_SOURCE

if TYPE_CHECKING:  # connections come from _bdc_engine.connect, which imports DuckDB
    import duckdb

__all__ = ["aggregate_bdc", "compare_releases", "service_by_area", "service_levels"]

Level = Literal["tract", "block_group", "county", "h3"]
DEFINITION = (
    "BEAD (NTIA): reliable = technology 10/40/50/71/72 with low_latency 1; unserved < 25/3, "
    "underserved 25/3 to < 100/20, served >= 100/20 (download and upload of one offer); "
    "satellite and unlicensed fixed wireless never serve"
)
AREA_COLUMNS = [
    "locations", "unserved", "underserved", "served", "unserved_share", "underserved_share",
    "served_share", "fiber_locations", "fiber_share", "providers", "providers_100_20",
    "satellite_only", "unlicensed_fw_only", "tech_copper_share", "tech_cable_share",
    "tech_fiber_share", "tech_licensed_fw_share", "tech_unlicensed_fw_share",
    "tech_satellite_share",
]
_TECH_COLS = {"copper": "has_copper", "cable": "has_cable", "fiber": "has_fiber",
              "licensed_fw": "has_licensed_fw", "unlicensed_fw": "has_unlicensed_fw",
              "satellite": "has_satellite"}


def _check_level(level: str) -> str:
    if level not in bead.AREA_EXPR:
        raise ValueError(f"level must be one of {list(bead.AREA_EXPR)}, got {level!r}")
    return bead.AREA_EXPR[level]


def _frame_rows(con: duckdb.DuckDBPyConnection, avail: pd.DataFrame, codes) -> str:
    missing = [c for c in eng.BDC_COLUMNS if c not in avail.columns]
    if missing:
        raise SchemaError(f"availability frame: missing BDC column(s) {missing}")
    con.register("avail_frame", avail[list(eng.BDC_COLUMNS)])
    typed = ", ".join(f"CAST({c} AS {eng.BDC_TYPES[c]}) AS {c}" for c in eng.BDC_COLUMNS)
    return eng.checked_sql(f"SELECT {typed} FROM avail_frame", eng.row_filter(codes=codes))


def _count_checks(report: dict[str, Any], pairs: pd.DataFrame) -> None:
    report["rows_read"] = int(pairs["n"].sum())
    for code, n in pairs.groupby("_check")["n"].sum().items():
        if int(code) > 1:
            count_reject(report, eng.REJECT_REASONS[int(code)], int(n))
    count_repair(report, "block_geoid had lost its leading zero (14 digits); restored",
                 int(pairs.loc[pairs["_check"] == 1, "n"].sum()))


def _split_areas(result: pd.DataFrame, exact: Callable[[], pd.DataFrame]
                 ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Split the result of :func:`bead.areas_sql` into sums, pairs and row-check counts.

    Sums and (area, provider) pairs as :func:`_finish_area` takes them, row-check counts
    (``_check, n``) as :func:`_count_checks` does; ``exact()`` counts rows per check code
    when one group mixed two codes.
    """
    kind = result["kind"]
    areas, groups = result.loc[kind == "area"], result.loc[kind == "check"]
    bad = groups.loc[groups["nbad"] > 0]
    bits = bad["codes"].astype("int64") & ~1  # bit k: check code k occurred
    if (bits & (bits - 1)).any():  # a group with two codes: count them exactly
        checks = exact()
    else:
        code = np.log2(bits.clip(lower=1)).round().astype("int64")
        checks = pd.DataFrame({"_check": code, "n": bad["nbad"].astype("int64")})
    total = int(groups["n"].sum())
    checks = pd.concat([pd.DataFrame({"_check": [0], "n": [total - int(checks["n"].sum())]}),
                        checks], ignore_index=True)
    checks = checks[checks["n"] > 0]
    sums = areas.loc[areas["locations"] > 0]
    ids = sums["provider_ids"]
    lengths = ids.map(len).to_numpy() if len(ids) else np.zeros(0, dtype="int64")
    pairs = pd.DataFrame({
        "area": np.repeat(sums["area"].to_numpy(), lengths),
        "provider_id": (np.concatenate([np.asarray(x, dtype=object) for x in ids])
                        if len(ids) else np.zeros(0, dtype=object)),
    }).assign(_check=0)
    sums = sums.drop(columns=["kind", "provider_ids", "codes", "nbad", "n"])
    counts = [c for c in sums.columns if c != "area"]
    return sums.astype(dict.fromkeys(counts, "int64")), pairs, checks


def service_levels(avail: pd.DataFrame, *, codes: Iterable[str] | None = ("R", "X")
                   ) -> pd.DataFrame:
    """Classify every location by its best reliable offer (BEAD definitions).

    Parameters
    ----------
    avail : pandas.DataFrame
        BDC availability rows (:func:`assetmap.load_bdc`), one per location x provider x
        technology.
    codes : iterable of str or None
        ``business_residential_code`` values kept (default residential: R and X); None keeps all.

    Returns
    -------
    pandas.DataFrame
        One row per ``location_id``: ``block_geoid, h3_res8_id, service_level, best_down,
        best_up, has_fiber, providers, providers_100_20, satellite_only, unlicensed_fw_only``
        and, for :func:`service_by_area`, ``has_copper, has_cable, has_licensed_fw,
        has_unlicensed_fw, has_satellite`` and ``provider_ids`` (``;``-separated).

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
    """
    report = start_report(None, kind="bdc_service_levels")
    _need_columns(avail)
    coded = bead_codes.code_rows(avail, tuple(codes) if codes else None)
    if coded is not None:
        _count_checks(report, bead_codes.check_pairs(coded))
        out = _levels_frame(coded)
    else:
        out = _levels_sql(avail, codes, report)
    sources, vintages, illustrative = merge_sources(avail)
    report.update(sources=sources, vintages=vintages, illustrative=illustrative,
                  definition=DEFINITION)
    report["merged"] = report["rows_read"] - sum(report["rejected"].values()) - len(out)
    return attach_report(out, report)


_LEVEL_FIRST = ["location_id", "block_geoid", "h3_res8_id", "service_level", "best_down",
                "best_up", "has_fiber", "providers", "providers_100_20", "satellite_only",
                "unlicensed_fw_only"]


def _levels_frame(coded: bead_codes.Coded) -> pd.DataFrame:
    """Return the :func:`service_levels` frame from integer-coded rows (no SQL)."""
    loc = bead_codes.locations(coded)
    mask = loc.mask
    level = np.where(mask & 256 > 0, 2, np.where(mask & 128 > 0, 1, 0))
    columns = {
        "location_id": loc.ids, "block_geoid": coded.block_ids.take(coded.block[loc.first]),
        "h3_res8_id": coded.h3_ids.take(coded.h3[loc.first]),
        "service_level": pa.array(["unserved", "underserved", "served"]).take(pa.array(level)),
        "best_down": loc.best_down, "best_up": loc.best_up, "has_fiber": mask & 4 > 0,
        "providers": loc.providers, "providers_100_20": loc.providers_100_20,
        "satellite_only": mask & bead.ANY_TECH_BITS == 32,
        "unlicensed_fw_only": mask & bead.TERRESTRIAL_BITS == 16,
    }
    for name, bit in bead.TECH_BITS.items():
        if _TECH_COLS[name] not in columns:
            columns[_TECH_COLS[name]] = mask & bit > 0
    columns["provider_ids"] = bead_codes.provider_lists(loc.provider_set, coded.prov_ids)
    return pa.table(columns).to_pandas()


def _need_columns(avail: pd.DataFrame) -> None:
    missing = [c for c in eng.BDC_COLUMNS if c not in avail.columns]
    if missing:
        raise SchemaError(f"availability frame: missing BDC column(s) {missing}")


def _levels_sql(avail: pd.DataFrame, codes, report: dict[str, Any]) -> pd.DataFrame:
    """Return the :func:`service_levels` frame computed by DuckDB (any castable frame)."""
    with eng.connect() as con:
        rows = _frame_rows(con, avail, tuple(codes) if codes else None)
        pairs = con.sql(bead.pairs_sql(rows, area="substr(block_geoid, 1, 11)")).df()
        _count_checks(report, pairs)
        tech = ", ".join(f"(mask & {bit} > 0) AS {_TECH_COLS[name]}"
                         for name, bit in bead.TECH_BITS.items())
        sql = f"""
SELECT location_id, block_geoid, h3_res8_id, {bead.LEVEL_CASE} AS service_level,
  best_down::INTEGER AS best_down, best_up::INTEGER AS best_up,
  len(provider_list) AS providers, providers_100_20,
  {bead.SAT_ONLY} AS satellite_only, {bead.UFW_ONLY} AS unlicensed_fw_only, {tech},
  array_to_string(provider_list, ';') AS provider_ids
FROM ({bead.locations_sql(rows, area=None, detail=True)}) AS l ORDER BY location_id"""
        out = con.sql(sql).df()
    for c in ("providers", "providers_100_20"):
        out[c] = out[c].astype("int64")
    return out[_LEVEL_FIRST + [c for c in out.columns if c not in _LEVEL_FIRST]]


def _finish_area(sums: pd.DataFrame, pairs: pd.DataFrame, *, level: str, key: str) -> pd.DataFrame:
    """Shares and distinct providers from summed counts and (area, provider) pairs."""
    count_cols = ["locations", "unserved", "underserved", "served", "providers_100_20_sum",
                  "satellite_only", "unlicensed_fw_only", *(f"n_{t}" for t in bead.TECH_BITS)]
    sums = sums.groupby("area", sort=True)[count_cols].sum()
    ok = pairs[pairs["_check"] <= 1]
    providers = ok.drop_duplicates(["area", "provider_id"]).groupby("area").size()
    out = pd.DataFrame(index=sums.index)
    n = sums["locations"].astype("int64")
    for c in ("locations", "unserved", "underserved", "served"):
        out[c] = sums[c].astype("int64")
    for c in ("unserved", "underserved", "served"):
        out[f"{c}_share"] = sums[c] / n
    out["fiber_locations"] = sums["n_fiber"].astype("int64")
    out["fiber_share"] = sums["n_fiber"] / n
    out["providers"] = providers.reindex(out.index).fillna(0).astype("int64")
    out["providers_100_20"] = sums["providers_100_20_sum"] / n
    out["satellite_only"] = sums["satellite_only"].astype("int64")
    out["unlicensed_fw_only"] = sums["unlicensed_fw_only"].astype("int64")
    for t in bead.TECH_BITS:
        out[f"tech_{t}_share"] = sums[f"n_{t}"] / n
    out.index = out.index.astype(object).astype("str")
    out.index.name = key
    return out.reset_index()[[key, *AREA_COLUMNS]]


def _check_keys(out: pd.DataFrame, key: str, level: str, report: dict[str, Any]) -> pd.DataFrame:
    """Reject areas whose key is not well formed (non-digit GEOID, unknown state)."""
    keys = out[key].astype(str)
    if level == "h3":
        bad = ~keys.str.fullmatch(r"[0-9a-f]{15}")
        reason = "h3_res8_id is not 15 hexadecimal characters"
    else:
        from assetmap.geoid import _states

        bad = ~keys.str.fullmatch(r"\d+") | ~keys.str[:2].isin(set(_states()[1]))
        reason = "block_geoid is not digits starting with a state FIPS code"
    if bad.any():
        count_reject(report, f"{reason} (locations)", int(out.loc[bad, "locations"].sum()))
        out = out.loc[~bad].reset_index(drop=True)
    return out


def service_by_area(avail_or_levels: pd.DataFrame, *, level: Level = "tract",
                    codes: Iterable[str] | None = ("R", "X")) -> pd.DataFrame:
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

    Returns
    -------
    pandas.DataFrame
        One row per area, sorted by key, with the columns of docs/data-model.md
        "Service by area".

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
    """
    area = _check_level(level)
    key = "h3_res8_id" if level == "h3" else "GEOID"
    frame = avail_or_levels
    if "service_level" in frame.columns:
        out, report = _area_from_levels(frame, level=level, key=key)
    else:
        report = start_report(None, kind="bdc_service_by_area")
        _need_columns(frame)
        coded = bead_codes.code_rows(frame, tuple(codes) if codes else None)
        if coded is not None:
            checks = bead_codes.check_pairs(coded)
            sums, pairs = _area_sums_coded(coded, level)
        else:
            with eng.connect() as con:
                rows = _frame_rows(con, frame, tuple(codes) if codes else None)
                groups = f"({bead.groups_sql(rows, area=area)})"
                sums, pairs, checks = _split_areas(
                    con.sql(bead.areas_sql(groups)).df(),
                    lambda: con.sql(bead.check_counts_sql(rows)).df())
        _count_checks(report, checks)
        out = _finish_area(sums, pairs, level=level, key=key)
    out = _check_keys(out, key, level, report)
    sources, vintages, illustrative = merge_sources(frame)
    report.update(sources=sources, vintages=vintages, illustrative=illustrative, level=level,
                  definition=DEFINITION)
    report["merged"] = max(0, report["rows_read"] - sum(report["rejected"].values()) - len(out))
    return attach_report(out, report)


def _area_from_levels(levels: pd.DataFrame, *, level: str, key: str):
    report = start_report(None, kind="bdc_service_by_area", rows_read=len(levels))
    need = ["location_id", "block_geoid", "h3_res8_id", "service_level", "providers_100_20",
            "satellite_only", "unlicensed_fw_only", "provider_ids", *_TECH_COLS.values()]
    missing = [c for c in need if c not in levels.columns]
    if missing:
        raise SchemaError(f"service-levels frame: missing column(s) {missing}; "
                          "make it with service_levels()")
    lv = pd.DataFrame(levels[need])
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
        **{f"n_{t}": lv[col].astype("int64") for t, col in _TECH_COLS.items()},
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
    return _finish_area(sums, pairs, level=level, key=key), report


def _area_sums_coded(coded: bead_codes.Coded, level: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Area sums and (area, provider) pairs as :func:`_finish_area` takes them (no SQL)."""
    loc = bead_codes.locations(coded)
    if level == "h3":
        area, areas = coded.h3[loc.first], coded.h3_ids
    else:
        prefix = pc.dictionary_encode(
            pc.utf8_slice_codeunits(coded.block_ids, 0, bead.AREA_LENGTH[level]))
        area = prefix.indices.to_numpy()[coded.block[loc.first]]
        areas = prefix.dictionary
    mask, n = loc.mask, len(areas)

    def count(values: np.ndarray) -> np.ndarray:
        return np.bincount(area, weights=values, minlength=n).round().astype("int64")

    columns = {
        "locations": np.bincount(area, minlength=n).astype("int64"),
        "unserved": count(mask & 384 == 0),
        "underserved": count((mask & 128 > 0) & (mask & 256 == 0)),
        "served": count(mask & 256 > 0),
        "providers_100_20_sum": count(loc.providers_100_20),
        "satellite_only": count(mask & bead.ANY_TECH_BITS == 32),
        "unlicensed_fw_only": count(mask & bead.TERRESTRIAL_BITS == 16),
        **{f"n_{t}": count(mask & bit > 0) for t, bit in bead.TECH_BITS.items()},
    }
    used = np.flatnonzero(columns["locations"] > 0)
    sums = pd.DataFrame({"area": areas.take(pa.array(used)).to_pandas(),
                         **{c: v[used] for c, v in columns.items()}})
    provider_set = np.zeros(n, dtype=np.uint64)
    np.bitwise_or.at(provider_set, area, loc.provider_set)
    bits = (provider_set[used, None] >> np.arange(len(coded.prov_ids), dtype=np.uint64)) & 1
    pair_area, pair_provider = np.nonzero(bits.astype(bool))
    pairs = pd.DataFrame({"area": sums["area"].to_numpy()[pair_area],
                          "provider_id": coded.prov_ids.take(pa.array(pair_provider))
                          .to_pandas().to_numpy(),
                          "_check": 0})
    return sums, pairs


def aggregate_bdc(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]], *,
                  level: Level = "tract", states: Iterable[str] | None = None,
                  counties: Iterable[str] | None = None, tracts: Iterable[str] | None = None,
                  codes: Iterable[str] | None = ("R", "X"), threads: int | None = None,
                  memory_limit: str | None = None, engine: str = "auto") -> pd.DataFrame:
    r"""Stream BDC availability files straight to one row per area, out of core.

    Files are processed one state at a time (locations never cross a state line), so memory
    stays bounded by the largest state; within a state DuckDB scans all technology files in
    parallel and spills to disk past ``memory_limit``. Zips are unzipped in parallel threads.

    Parameters
    ----------
    paths : path, glob or list of them
        BDC availability CSVs, zips (one per state and technology), Parquet files or a
        directory written by :func:`assetmap.bdc_to_parquet`.
    level : {"tract", "block_group", "county", "h3"}
        The area.
    states, counties, tracts : iterable of str, optional
        Keep only these (state names/USPS/FIPS, 5-digit county and 11-digit tract GEOIDs).
    codes : iterable of str or None
        Business/residential codes kept (default R and X).
    threads : int, optional
        Threads of either engine (default: all cores).
    memory_limit : str, optional
        DuckDB memory limit before spilling (default ``"1500MB"``).
    engine : {"auto", "numba", "duckdb"}
        ``"numba"``: the fast engine (the ``fast`` extra, ``pip install 'assetmap[fast]'``):
        compiled parsers and hash tables, several times DuckDB's rate (benchmarks/RESULTS.md).
        It reads only plainly good input; a state with anything to repair or reject, or an
        unusual layout, goes to DuckDB, so errors, warnings and report counts are the same,
        and so is the result. ``"duckdb"``: DuckDB only. ``"auto"`` (default): the fast engine
        when numba is installed and the input is large enough (about 256 MB of CSV) for its
        start-up to pay, else DuckDB. For a cluster use
        :func:`assetmap.bdc.service_dask.aggregate_bdc_dask`.

    Returns
    -------
    pandas.DataFrame
        As :func:`service_by_area`; the report counts rows read, repaired and rejected.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "bdc_48_Fiber.csv").write_text(
    ...     "frn,provider_id,brand_name,location_id,technology,max_advertised_download_speed,"
    ...     "max_advertised_upload_speed,low_latency,business_residential_code,state_usps,"
    ...     "block_geoid,h3_res8_id\n"
    ...     '0001,130001,"Fiber, LLC",1001,50,1000,1000,1,R,TX,481350001001000,8848a2d8c9fffff\n')
    >>> aggregate_bdc(folder / "*.csv")[["GEOID", "locations", "served", "fiber_share"]]
             GEOID  locations  served  fiber_share
    0  48135000100          1       1          1.0
    """
    if engine not in ("auto", "numba", "duckdb"):
        raise ValueError(f"engine must be 'auto', 'numba' or 'duckdb' (for a cluster use "
                         f"aggregate_bdc_dask), got {engine!r}")
    area = _check_level(level)
    key = "h3_res8_id" if level == "h3" else "GEOID"
    files = eng.resolve_paths(paths)
    state_list = list(states) if states else None
    if state_list:
        from assetmap.geoid import state_fips

        wanted = {state_fips(s) for s in state_list}
        files = [f for f in files if eng.state_of_file(f) in (None, *wanted)]
    chosen = {"states": state_list, "counties": list(counties or []) or None,
              "tracts": list(tracts or []) or None, "codes": tuple(codes) if codes else None}
    where_sql = eng.row_filter(**chosen)
    fast = _fast_engine(engine, files, level=level, **chosen)
    report = start_report(", ".join(map(str, paths)) if not isinstance(paths, str | os.PathLike)
                          else str(paths), kind="bdc_service_by_area",
                          sources=[BDC_SOURCE],
                          illustrative=any("illustrative" in f.name for f in files))
    columns = ["location_id", "provider_id", "technology", "max_advertised_download_speed",
               "max_advertised_upload_speed", "low_latency", "block_geoid"]
    columns += ["business_residential_code"] if codes else []
    columns += ["state_usps"] if state_list else []
    columns += ["h3_res8_id"] if level == "h3" else []
    all_sums, all_pairs, all_checks, repairs = [], [], [], 0
    with eng.connect(threads=threads, memory_limit=memory_limit) as con:
        for group in eng.group_by_state(files).values():
            done = fast(group, threads=threads) if fast else None
            sums, pairs, checks, fixed = done or _aggregate_group(
                con, group, area, where_sql, report, columns)
            all_sums.append(sums)
            all_pairs.append(pairs)
            all_checks.append(checks)
            repairs += fixed
    if not all_sums:
        report["notes"].append(f"no file of the states {state_list} among the inputs")
        all_sums = [pd.DataFrame(columns=["area", "locations", "unserved", "underserved",
                                          "served", "providers_100_20_sum", "satellite_only",
                                          "unlicensed_fw_only",
                                          *(f"n_{t}" for t in bead.TECH_BITS)])]
        all_pairs = [pd.DataFrame({"area": [], "provider_id": [], "_check": []})]
        all_checks = [pd.DataFrame({"_check": [], "n": []})]
    _count_checks(report, pd.concat(all_checks, ignore_index=True))
    count_repair(report, "integral numbers written as text (e.g. '100.0') read as integers",
                 repairs)
    pairs = pd.concat(all_pairs, ignore_index=True)
    out = _finish_area(pd.concat(all_sums, ignore_index=True), pairs, level=level, key=key)
    out = _check_keys(out, key, level, report)
    report.update(level=level, definition=DEFINITION, rows_out=len(out))
    report["merged"] = max(0, report["rows_read"] - sum(report["rejected"].values()) - len(out))
    report["notes"].append("exact duplicate rows do not change the aggregation (it takes "
                           "maxima and distinct values) and are not counted here")
    return attach_report(out, report)


def _fast_engine(engine: str, files: list[Path], **selection: Any) -> Callable | None:
    """Return the fast engine's per-state function for ``engine``, or None for DuckDB."""
    from assetmap.bdc.fast import engine as _bdc_fast

    if engine == "duckdb" or (engine == "auto" and not _bdc_fast.available()):
        return None
    if not _bdc_fast.available():
        raise ImportError("engine='numba' needs numba: pip install 'assetmap[fast]'")
    if engine == "auto" and _csv_bytes(files) < 256 << 20:
        return None
    sel = _bdc_fast.selection(**selection)
    return None if sel is None else partial(_bdc_fast.aggregate_group, sel=sel)


def _csv_bytes(files: list[Path]) -> int:
    """About how many bytes of CSV the inputs hold (zips ~5x, Parquet ~7x compressed)."""
    total = 0
    for f in files:
        for part in (f.glob("**/*.parquet") if f.is_dir() else [f]):
            ratio = {".zip": 5, ".parquet": 7}.get(part.suffix.lower(), 1)
            total += ratio * part.stat().st_size
    return total


def _aggregate_group(con, files, area, where_sql, report, columns):
    """One state's files -> (area sums, area-provider pairs, row-check counts, repairs).

    One hash group-by over all rows into a temporary table (:func:`bead.groups_sql`; DuckDB
    spills it past the memory limit): per (location, provider) for CSVs and zips, parsed once;
    per location for Parquet (a smaller table), scanned once more for the (area, provider)
    pairs. Then small group-bys on that table (:func:`bead.areas_sql`).
    ``location_id`` is grouped as an integer from Parquet that stores integers
    (:func:`assetmap.bdc_to_parquet`), else as text; non-digit GEOIDs are caught on the area
    keys after aggregation (:func:`_check_keys`), which spares a regular expression per row.
    """
    shown: dict[Path, Path] = {}
    with eng.open_inputs(files, keep_zip_names=shown) as inputs:
        if inputs.header_repairs:
            count_repair(report, "; ".join(inputs.header_repairs), 1)
        eng.settle_id_type(con, inputs)
        by_provider = bool(inputs.csv_groups)  # parse CSVs once; scan Parquet twice

        def rows() -> str:
            return eng.checked_sql(eng.source_sql(inputs, columns), where_sql, digits=False)

        def group() -> None:  # the one pass over all rows (a temporary table spills to disk)
            con.execute("CREATE OR REPLACE TEMP TABLE bdc_groups AS "
                        + bead.groups_sql(rows(), area=area, by_provider=by_provider))

        with eng.damaged_parquet(inputs):
            eng.run_typed(con, inputs, {k: str(v) for k, v in shown.items()}, group)
            try:
                result = con.sql(bead.areas_sql(
                    "bdc_groups", rows=None if by_provider else rows(), area=area)).df()
                sums, pairs, checks = _split_areas(
                    result, lambda: con.sql(bead.check_counts_sql(rows())).df())
            finally:
                con.execute("DROP TABLE IF EXISTS bdc_groups")
    return sums, pairs, checks, inputs.numeric_repairs


def compare_releases(old: Any, new: Any, *, level: Level = "tract",
                     codes: Iterable[str] | None = ("R", "X")) -> pd.DataFrame:
    """Change between two BDC releases per area: newly served, lost service, fiber, providers.

    Parameters
    ----------
    old, new : pandas.DataFrame or path/glob/list
        Availability rows (frames from :func:`assetmap.load_bdc`, or files).
    level : {"tract", "block_group", "county", "h3"}
        The area.
    codes : iterable of str or None
        Business/residential codes kept (default R and X).

    Returns
    -------
    pandas.DataFrame
        One row per area: ``locations_old, locations_new, served_old, served_new,
        unserved_old, unserved_new, newly_served, lost_service, locations_added,
        locations_removed, fiber_gained, fiber_lost, providers_old, providers_new,
        providers_entering, providers_leaving, served_share_change``; totals over all areas in
        ``attrs["assetmap"]["totals"]``.

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
    from assetmap.bdc._compare import compare

    return compare(old, new, level=level, codes=codes)
