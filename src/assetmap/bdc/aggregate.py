"""BDC availability files streamed straight to BEAD service levels per area, out of core.

:func:`aggregate_bdc` reads a national glob of CSVs, zips or Parquet one state at a time and
returns the area table of :func:`assetmap.service_by_area` without materialising the rows in
pandas. The classification is the rule set's (:func:`assetmap.bdc.rules.rule_set`), written
as SQL by :mod:`assetmap.bdc._sql` for DuckDB (one query per state,
:mod:`assetmap.bdc._stream`), or run by the fast engine
(:mod:`assetmap.bdc.fast`). The engines were chosen by benchmark
(``benchmarks/bdc_aggregation.py``, figures in ``benchmarks/RESULTS.md``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from assetmap._report import attach_report, start_report
from assetmap.bdc import _common as common
from assetmap.bdc import _engine as eng
from assetmap.bdc import _stream as stream
from assetmap.bdc._counts import header_repairs, rejected_places, tally
from assetmap.bdc._schema import RESIDENTIAL_CODES, bdc_source
from assetmap.bdc.rules import RuleSet, RulesLike, rule_set

__all__ = ["aggregate_bdc"]


def aggregate_bdc(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]], *,
                  level: common.Level = "tract", states: Iterable[str] | None = None,
                  counties: Iterable[str] | None = None, tracts: Iterable[str] | None = None,
                  codes: Iterable[str] | None = RESIDENTIAL_CODES, threads: int | None = None,
                  memory_limit: str | None = None, engine: str = "auto",
                  rules: RulesLike = "bead") -> pd.DataFrame:
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
        compiled parsers and hash tables, 2-6x the DuckDB engine's rate (benchmarks/RESULTS.md).
        It reads only plainly good input; a state with anything to repair or reject, or an
        unusual layout, goes to DuckDB, so errors, warnings and report counts are the same,
        and so is the result. Both count every row read before the selection, and both
        compare ``business_residential_code`` and ``state_usps`` upper-cased and trimmed.
        ``"duckdb"``: DuckDB only. ``"auto"`` (default): the fast engine when numba is
        installed and the input is large enough (about 256 MB of CSV) for its start-up to
        pay; else Parquet written by :func:`assetmap.bdc_to_parquet` is read with NumPy
        (the fast engine's path for it, which needs no numba) and the rest with DuckDB.
        For a cluster use
        :func:`assetmap.bdc.service_dask.aggregate_bdc_dask`.
    rules : str, mapping or RuleSet
        The rule set (:func:`assetmap.bdc.rules.rule_set`; default ``"bead"``).

    Returns
    -------
    pandas.DataFrame
        As :func:`assetmap.service_by_area`; the report counts every row read as kept,
        repaired or rejected (``report["checks"]``) before any filter, the rows each filter
        left out (``report["filtered"]``), and names the rule set (``report["rules"]``).

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
    chosen = rule_set(rules)
    area = common.check_level(level)
    key = common.area_key(level)
    files = eng.resolve_paths(paths)
    state_list = list(states) if states else None
    if state_list:
        from assetmap.geoid import state_fips

        wanted = {state_fips(s) for s in state_list}
        files = [f for f in files if eng.state_of_file(f) in (None, *wanted)]
    chosen_rows = {"states": state_list, "counties": list(counties or []) or None,
                   "tracts": list(tracts or []) or None, "codes": tuple(codes) if codes else None}
    selection = eng.row_selection(**chosen_rows)
    fast = _fast_engine(engine, files, chosen, level=level, **chosen_rows)
    report = start_report(", ".join(map(str, paths)) if not isinstance(paths, str | os.PathLike)
                          else str(paths), kind="bdc_service_by_area",
                          sources=[bdc_source(files)],
                          illustrative=any("illustrative" in f.name for f in files))
    columns = ["location_id", "provider_id", "technology", "max_advertised_download_speed",
               "max_advertised_upload_speed", "low_latency", "block_geoid"]
    columns += ["business_residential_code"] if codes else []
    columns += ["state_usps"] if state_list else []
    columns += ["h3_res8_id"] if level == "h3" else []
    all_sums, all_pairs, all_checks = [], [], []
    places: dict[int, list[tuple[str, int, str]]] = {}
    splits: list[int] = []  # locations with rows in two areas, per DuckDB run
    con = None  # DuckDB is connected to only when a state needs it
    try:
        for group in eng.group_by_state(files).values():
            done = fast(group, threads=threads) if fast else None
            if done is None:
                con = con or eng.connect(threads=threads, memory_limit=memory_limit)
                done = _aggregate_group(con, group, area, selection, report, columns, chosen,
                                        splits)
            sums, pairs, checks, found = done
            all_sums.append(sums)
            all_pairs.append(pairs)
            all_checks.append(checks)
            for code, at in found.items():  # the fast engine rejects nothing: {}
                places.setdefault(code, []).extend(at)
    finally:
        if con is not None:
            con.close()
    if not all_sums:
        report["notes"].append(f"no file of the states {state_list} among the inputs")
    elif state_list and not sum(int(c["n"].sum()) for c in all_checks):
        report["notes"].append(f"no row of the states {state_list} among the inputs "
                               "(Parquet partitions of other states are not read)")
    if not all_sums:
        all_sums, all_pairs, all_checks = ([part] for part in _no_rows()[:3])
    tally(report, pd.concat(all_checks, ignore_index=True), selection=selection,
          places=places)
    pairs = pd.concat(all_pairs, ignore_index=True)
    out = common.finish_area(pd.concat(all_sums, ignore_index=True), pairs, key=key,
                             report=report)
    out = common.close_report(report, out, level=level, split=sum(splits), rules=chosen)
    return attach_report(out, report)


def _fast_engine(engine: str, files: list[Path], rules: RuleSet, **selection: Any
                 ) -> Callable | None:
    """Return the fast engine's per-state function for ``engine``, or None for DuckDB.

    The rule set goes to the fast engine as data (its ``selection(..., rules=)``), as it goes
    to DuckDB as SQL: both classify with the same :class:`RuleSet`.
    """
    from assetmap.bdc.fast import engine as _bdc_fast

    if engine == "duckdb":
        return None
    if engine == "numba" and not _bdc_fast.available():
        raise ImportError("engine='numba' needs numba: pip install 'assetmap[fast]'")
    sel = _bdc_fast.selection(**selection, rules=rules)
    if sel is None:
        return None
    if engine == "auto" and (not _bdc_fast.available() or _csv_bytes(files) < 256 << 20):
        # no compiled code to load: only Parquet of bdc_to_parquet, read with NumPy
        return partial(_bdc_fast.aggregate_block_ordered, sel=sel)
    return partial(_bdc_fast.aggregate_group, sel=sel)


def _csv_bytes(files: list[Path]) -> int:
    """About how many bytes of CSV the inputs hold (zips ~5x, Parquet ~7x compressed)."""
    total = 0
    for f in files:
        for part in (f.glob("**/*.parquet") if f.is_dir() else [f]):
            ratio = {".zip": 5, ".parquet": 7}.get(part.suffix.lower(), 1)
            total += ratio * part.stat().st_size
    return total


def _aggregate_group(con, files, area, selection, report, columns, rules: RuleSet,
                     splits: list[int]):
    """One state's files -> (area sums, area-provider pairs, row-check counts, rejected).

    Row-check counts: ``_check, n`` (and ``_fix`` when known) over every row read, before the
    selection (:func:`assetmap.bdc._counts.tally`); rejected: the first ``(file, row,
    column)`` of each reject code (:func:`assetmap.bdc._counts.rejected_places`).

    One query reads every row once (:func:`stream.stream_sql`): one group per location,
    distinct (area, provider) pairs and exact counts per check code and repair bits. A block
    GEOID that is not 14 or 15 ASCII digits rejects its row, in every engine and in
    :func:`assetmap.load_bdc` alike (a letter in the block's digits too, which the area key
    does not show).
    """
    with eng.open_inputs(files, states=selection.get("state_usps")) as inputs:
        if not inputs.files():  # only Parquet partitions of other states
            return _no_rows()
        header_repairs(report, inputs.header_repairs)
        eng.settle_id_type(con, inputs)

        def streamed() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
            rows = eng.checked_sql(eng.source_sql(inputs, columns), selection=selection,
                                   int_ids=inputs.id_type == "BIGINT")
            sums, pairs, checks, split = stream.stream_areas(con, rows, rules=rules, area=area)
            splits.append(split)
            return sums, pairs, checks

        with eng.damaged_parquet(inputs):
            sums, pairs, checks = eng.run_typed(con, inputs, None, streamed)
            codes = {int(c) for c in checks["_check"] if int(c) in eng.REJECT_REASONS}
            found = rejected_places(con, inputs, codes) if codes else {}
    return sums, pairs, checks, found


def _no_rows() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict]:
    """Return the tuple of :func:`_aggregate_group` for a group with no row to read."""
    sums = common.empty_sums().astype(dict.fromkeys(common.SUM_COLUMNS, "int64"))
    pairs = pd.DataFrame({"area": pd.Series([], dtype=object),
                          "provider_id": pd.Series([], dtype=object),
                          "_check": pd.Series([], dtype="int64")})
    return sums, pairs, pd.DataFrame({"_check": [], "n": []}, dtype="int64"), {}
