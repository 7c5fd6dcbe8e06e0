"""FCC Broadband Data Collection (BDC): fixed availability rows, read and checked.

Availability files are large (a release is ~0.9 billion rows, one zip per state and
technology), so :func:`load_bdc` returns only the selected rows; :func:`assetmap.aggregate_bdc`
goes straight from files to areas, and :func:`assetmap.bdc_to_parquet` converts a release
once to partitioned Parquet that both read much faster. Every row read is checked before any
filter and counted in the report as kept, repaired, rejected or filtered
(:mod:`assetmap.bdc._counts`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pyarrow as pa

from assetmap._report import attach_report, count_reject, start_report
from assetmap.bdc import _engine as eng
from assetmap.bdc._arrow import memory_pool
from assetmap.bdc._checks import REJECT_REASONS
from assetmap.bdc._counts import count_sql, header_repairs, rejected_places, tally
from assetmap.bdc._csv_ranges import read_checked_csvs
from assetmap.bdc._schema import (
    BDC_COLUMNS,
    BDC_SOURCE,
    PANDAS_DTYPES,
    RESIDENTIAL_CODES,
    bdc_source,
)
from assetmap.bdc._sort import sort_in_parts
from assetmap.bdc.parquet import LOCATIONS_KEY, ORDER_KEY, bdc_to_parquet
from assetmap.bdc.summary import load_bdc_summary

# bdc_to_parquet, load_bdc_summary and the Parquet keys live in their own modules; they are
# named here too for code that imports them from this module
__all__ = ["BDC_SOURCE", "LOCATIONS_KEY", "ORDER_KEY", "bdc_to_parquet", "load_bdc",
           "load_bdc_summary"]

Paths = str | os.PathLike[str] | Iterable[str | os.PathLike[str]]


def load_bdc(paths: Paths, *, states: Iterable[str] | None = None,
             counties: Iterable[str] | None = None, tracts: Iterable[str] | None = None,
             codes: Iterable[str] | None = RESIDENTIAL_CODES,
             technologies: Iterable[int] | None = None, engine: str = "duckdb",
             threads: int | None = None) -> pd.DataFrame:
    r"""Read BDC fixed-availability rows, check every row, keep the selected ones.

    Parameters
    ----------
    paths : path, glob or list of them
        CSVs, zips (the CSVs inside may have any names), Parquet files, or a directory
        written by :func:`assetmap.bdc_to_parquet`. Every file is read, also when two share
        a name.
    states, counties, tracts : iterable of str, optional
        Keep only rows in these states (name, USPS or FIPS), counties (5-digit GEOIDs) or tracts
        (11-digit GEOIDs). Files named ``bdc_<fips>_...`` and Parquet partitions of other
        states are not opened (their rows are not read, nor counted).
    codes : iterable of str or None
        ``business_residential_code`` values kept (default R and X, residential); None: all.
        Letter codes are compared upper-cased, without surrounding spaces (``" r "`` is R).
    technologies : iterable of int, optional
        Technology codes kept (default all).
    engine : {"duckdb"}
        The engine that scans the files (chosen by benchmark; see benchmarks/RESULTS.md).
        Clean CSVs are parsed by pyarrow and checked with pyarrow compute, the same checks.
    threads : int, optional
        Threads for parsing and checking (default: all cores); 1 when the caller reads
        several releases side by side, as :func:`assetmap.load_demo` does.

    Returns
    -------
    pandas.DataFrame
        The columns of docs/data-model.md "BDC availability": speeds as float64 Mbps exactly
        as written (24.6 stays 24.6), technology int16, low_latency int8, letter codes
        upper-cased. The report (:func:`assetmap.get_report`) counts every row read, before
        any filter: ``checks`` (kept, repaired, rejected; they add up to ``rows_read``),
        ``rejected`` and ``repaired`` per reason, ``filtered`` per filter; exact duplicate
        rows among the selected ones are rejected too. ``rows_read == rows_out +
        sum(rejected) + sum(filtered)``.

    Raises
    ------
    SchemaError
        For a missing column, an empty file, text that is not UTF-8, a truncated or
        password-protected zip, a value that is not a number in a number column or a number
        out of its column's range (naming file, row and column).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "bdc_48_Cable.csv").write_text(
    ...     "frn,provider_id,brand_name,location_id,technology,max_advertised_download_speed,"
    ...     "max_advertised_upload_speed,low_latency,business_residential_code,state_usps,"
    ...     "block_geoid,h3_res8_id\n"
    ...     '0001,130001,"Cable, Inc.",1001,40,1000,35,1,R,TX,481350001001000,8848a2d8c9fffff\n'
    ...     '0001,130001,"Cable, Inc.",1002,40,1000,35,1,B,TX,481350001001000,8848a2d8c9fffff\n')
    >>> avail = load_bdc(folder / "*.csv", counties=["48135"])
    >>> avail[["brand_name", "technology", "max_advertised_download_speed", "block_geoid"]]
        brand_name  technology  max_advertised_download_speed      block_geoid
    0  Cable, Inc.          40                         1000.0  481350001001000
    >>> import assetmap as am
    >>> report = am.get_report(avail)
    >>> report["rows_read"], report["checks"]
    (2, {'kept': 2, 'repaired': 0, 'rejected': 0})
    >>> report["filtered"]
    {"business_residential_code not in ['R', 'X']": 1}
    """
    if engine != "duckdb":
        raise ValueError(f"engine must be 'duckdb', got {engine!r}")
    files = eng.resolve_paths(paths)
    state_list = list(states) if states else None
    if state_list:
        from assetmap.geoid import state_fips

        wanted = {state_fips(s) for s in state_list}
        files = [f for f in files if eng.state_of_file(f) in (None, *wanted)]
    selection = eng.row_selection(
        states=state_list, counties=list(counties) if counties else None,
        tracts=list(tracts) if tracts else None, codes=tuple(codes) if codes else None,
        technologies=list(technologies) if technologies else None)
    report = start_report(str(paths) if isinstance(paths, str | os.PathLike) else
                          ", ".join(map(str, paths)), kind="bdc_availability",
                          sources=[bdc_source(files)])
    if any("illustrative" in f.name for f in files):
        report["illustrative"] = True
    if not files:
        report["notes"].append(f"no file of the states {state_list} among {paths}")
        report.update(checks={"kept": 0, "repaired": 0, "rejected": 0}, filtered={})
        empty = pd.DataFrame({c: pd.Series([], dtype=PANDAS_DTYPES[c]) for c in BDC_COLUMNS})
        return attach_report(empty, report)
    with eng.open_inputs(files, states=selection.get("state_usps")) as inputs:
        header_repairs(report, inputs.header_repairs)
        checked = read_checked_csvs(inputs, selection, threads=threads)
        if checked is not None:  # clean files: pyarrow parses and checks, rows in file order
            table, counts, places = checked.table, checked.counts, checked.places
        else:
            table, counts, places = _checked_in_duckdb(inputs, selection, threads=threads)
        report["sources"][0]["files"] = inputs.names[:20]
        tally(report, counts, selection=selection, places=places)
        frame = _without_duplicates(table, report, threads=threads)
    return attach_report(frame.astype(PANDAS_DTYPES), report)


def _checked_in_duckdb(inputs: eng.Inputs, selection: dict, *, threads: int | None
                       ) -> tuple[pa.Table, pd.DataFrame, dict]:
    """Check in DuckDB: counts per code (one scan), then the rows that pass (another)."""
    cols = ", ".join(BDC_COLUMNS)

    def rows() -> str:
        return eng.checked_sql(eng.source_sql(inputs), selection=selection, letters=True)

    with eng.connect(threads=threads) as con:
        con.execute("SET preserve_insertion_order = true")  # rows in file order
        with eng.damaged_parquet(inputs):
            counts = eng.run_typed(con, inputs, None, lambda: con.sql(count_sql(rows())).df())
            # a hash of each row finds the candidates for exact duplicates without comparing
            table = eng.run_typed(con, inputs, None, lambda: con.sql(
                f"SELECT {cols}, hash({cols}) AS _hash FROM ({rows()}) AS r WHERE _check <= 1"
            ).to_arrow_table())  # all columns now: text that is not UTF-8 is found here
            codes = {int(c) for c in counts.loc[counts["n"] > 0, "_check"]
                     if int(c) in REJECT_REASONS}
            places = rejected_places(con, inputs, codes) if codes else {}
    return table, counts, places


def _without_duplicates(table: pa.Table, report: dict, *, threads: int | None = None
                        ) -> pd.DataFrame:
    """Reject exact duplicates among the selected rows (rows sharing a hash, compared).

    A sort finds the shared hashes faster than a hash table; it runs on every core
    (:func:`~assetmap.bdc._sort.sort_in_parts`) while the table becomes a frame.
    """
    hashes = table.column("_hash")
    table = table.drop_columns(["_hash"])
    ordered = hashes.to_numpy()  # pieces joined: a new array (one piece: Arrow's, read-only)
    ordered = ordered if ordered.flags.writeable else ordered.copy()
    workers = max(1, threads or os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        frame_job = pool.submit(table.to_pandas, split_blocks=True, self_destruct=True,
                                memory_pool=memory_pool())
        del table
        sort_in_parts(ordered, pool=pool, parts=workers)
        shared = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
        del ordered
        frame = frame_job.result()
    dup = np.zeros(len(frame), dtype=bool)
    if len(shared):  # rows sharing a hash: compare them in full
        keys = hashes.to_numpy()
        at = np.minimum(np.searchsorted(shared, keys), len(shared) - 1)
        candidates = np.flatnonzero(shared[at] == keys)
        dup[candidates] = frame.iloc[candidates].duplicated(keep="first").to_numpy()
    count_reject(report, "exact duplicate of another row", int(dup.sum()))
    if dup.any():
        frame = frame.loc[~dup].reset_index(drop=True)
    return frame
