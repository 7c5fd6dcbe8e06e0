"""FCC Broadband Data Collection (BDC): fixed availability rows and the summary by geography.

Availability files are large (a release is ~0.9 billion rows, one zip per state and
technology), so :func:`load_bdc` pushes every filter into DuckDB and returns only the selected
rows; :func:`assetmap.aggregate_bdc` goes straight from files to areas. :func:`bdc_to_parquet`
converts a release once to partitioned Parquet that both read much faster.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from assetmap._report import attach_report, count_reject, count_repair, start_report
from assetmap._safezip import open_zip, read_member
from assetmap.errors import SchemaError, where
from assetmap.bdc import _engine as eng
from assetmap.bdc._arrow import checked_table, read_clean_csvs
from assetmap.loaders._textfile import parse_errors

if TYPE_CHECKING:  # imported where used: clean CSVs are read and checked without DuckDB
    import duckdb

__all__ = ["bdc_to_parquet", "load_bdc", "load_bdc_summary"]

BDC_SOURCE = {"name": "FCC Broadband Data Collection, fixed availability",
              "url": "https://broadbandmap.fcc.gov/data-download", "license": "public domain"}
SUMMARY_COLUMNS = (
    "area_data_type", "geography_type", "geography_id", "geography_desc", "geography_desc_full",
    "total_units", "biz_res", "technology", "speed_02_02", "speed_10_1", "speed_25_3",
    "speed_100_20", "speed_250_25", "speed_1000_100",
)
SPEED_TIERS = {"speed_02_02": "0.2/0.2", "speed_10_1": "10/1", "speed_25_3": "25/3",
               "speed_100_20": "100/20", "speed_250_25": "250/25", "speed_1000_100": "1000/100"}
DTYPES = {"technology": "int16", "max_advertised_download_speed": "int32",
          "max_advertised_upload_speed": "int32", "low_latency": "int8"}
Paths = str | os.PathLike[str] | Iterable[str | os.PathLike[str]]


def load_bdc(paths: Paths, *, states: Iterable[str] | None = None,
             counties: Iterable[str] | None = None, tracts: Iterable[str] | None = None,
             codes: Iterable[str] | None = ("R", "X"),
             technologies: Iterable[int] | None = None, engine: str = "duckdb",
             threads: int | None = None) -> pd.DataFrame:
    r"""Read BDC fixed-availability rows, filtered in the engine, typed as the data model says.

    Parameters
    ----------
    paths : path, glob or list of them
        CSVs, zips (the CSV inside may have any name), Parquet files, or a directory written
        by :func:`bdc_to_parquet`.
    states, counties, tracts : iterable of str, optional
        Keep only rows in these states (name, USPS or FIPS), counties (5-digit GEOIDs) or tracts
        (11-digit GEOIDs). Files named ``bdc_<fips>_...`` of other states are not opened.
    codes : iterable of str or None
        ``business_residential_code`` values kept (default R and X, residential); None: all.
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
        The columns of docs/data-model.md "BDC availability"; the report counts rows read,
        repaired (lost leading zeros, integral numbers written as text, header case) and
        rejected (unknown technology, bad GEOID, missing values, exact duplicates).

    Raises
    ------
    SchemaError
        For a missing column, an empty file, a truncated zip or an unreadable value (naming
        file, row and column).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "bdc_48_Cable.csv").write_text(
    ...     "frn,provider_id,brand_name,location_id,technology,max_advertised_download_speed,"
    ...     "max_advertised_upload_speed,low_latency,business_residential_code,state_usps,"
    ...     "block_geoid,h3_res8_id\n"
    ...     '0001,130001,"Cable, Inc.",1001,40,1000,35,1,R,TX,481350001001000,8848a2d8c9fffff\n')
    >>> avail = load_bdc(folder / "*.csv", counties=["48135"])
    >>> avail[["brand_name", "technology", "block_geoid"]]
        brand_name  technology      block_geoid
    0  Cable, Inc.          40  481350001001000
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
    where_sql = eng.row_filter(
        states=state_list, counties=list(counties) if counties else None,
        tracts=list(tracts) if tracts else None, codes=tuple(codes) if codes else None,
        technologies=list(technologies) if technologies else None)
    report = start_report(str(paths) if isinstance(paths, str | os.PathLike) else
                          ", ".join(map(str, paths)), kind="bdc_availability",
                          sources=[BDC_SOURCE])
    if any("illustrative" in f.name for f in files):
        report["illustrative"] = True
    if not files:
        report["notes"].append(f"no file of the states {state_list} among {paths}")
        empty = pd.DataFrame({c: pd.Series([], dtype=DTYPES.get(c, "str"))
                              for c in eng.BDC_COLUMNS})
        return attach_report(empty, report)
    shown: dict[Path, Path] = {}
    with eng.open_inputs(files, keep_zip_names=shown) as inputs:
        if inputs.header_repairs:
            count_repair(report, "; ".join(inputs.header_repairs), 1)
        parsed = read_clean_csvs(inputs, eng.BDC_COLUMNS, threads=threads != 1)
        if parsed is not None:  # clean files: pyarrow parses and checks, rows in file order
            table = checked_table(parsed, selection)
        else:
            table = _checked_in_duckdb(inputs, where_sql, shown, threads=threads)
        report["sources"][0]["files"] = inputs.names[:20]
    report["rows_read"] = table.num_rows
    count_repair(report, "integral numbers written as text (e.g. '100.0') read as integers",
                 inputs.numeric_repairs)
    checks = np.bincount(table.column("_check").to_numpy(), minlength=2)
    count_repair(report, "block_geoid had lost its leading zero (14 digits); restored",
                 int(checks[1]))
    for code in np.flatnonzero(checks[2:]) + 2:
        count_reject(report, eng.REJECT_REASONS[int(code)], int(checks[code]))
    if checks[2:].any():
        table = table.filter(pc.less_equal(table.column("_check"), 1))
    keys = pd.Series(table.column("_hash").to_numpy())
    frame = table.drop_columns(["_check", "_hash"]).to_pandas()
    candidates = np.flatnonzero(keys.duplicated(keep=False).to_numpy())
    dup = np.zeros(len(frame), dtype=bool)
    if len(candidates):  # rows sharing a hash: compare them in full
        dup[candidates] = frame.iloc[candidates].duplicated(keep="first").to_numpy()
    count_reject(report, "exact duplicate of another row", int(dup.sum()))
    if dup.any():
        frame = frame.loc[~dup].reset_index(drop=True)
    frame = frame.astype({c: DTYPES.get(c, "str") for c in eng.BDC_COLUMNS})
    return attach_report(frame, report)


def _checked_in_duckdb(inputs: eng.Inputs, where_sql: str, shown: dict[Path, Path], *,
                       threads: int | None) -> pa.Table:
    """Run the typed DuckDB scan of ``checked_sql`` (repairs numbers as text, names errors)."""
    import duckdb

    cols = ", ".join(eng.BDC_COLUMNS)
    # a hash of each row finds the candidates for exact duplicates without comparing text
    sql = f"SELECT {cols}, _check, hash({cols}) AS _hash FROM ({{}}) AS r"
    with eng.connect(threads=threads) as con:
        con.execute("SET preserve_insertion_order = true")  # rows in file order
        with eng.damaged_parquet(inputs):
            try:
                return con.sql(sql.format(eng.checked_sql(eng.source_sql(inputs), where_sql))
                               ).to_arrow_table()
            except (duckdb.ConversionException, duckdb.InvalidInputException) as exc:
                eng.diagnose(con, inputs, exc, {k: str(v) for k, v in shown.items()})
                return con.sql(sql.format(eng.checked_sql(eng.source_sql(inputs), where_sql))
                               ).to_arrow_table()


def bdc_to_parquet(paths: Paths, out_dir: str | os.PathLike[str], *,
                   partition_by: Iterable[str] = ("state_usps",),
                   threads: int | None = None, by_location: bool = True) -> Path:
    r"""Convert a BDC release (CSVs or zips) once to typed, partitioned Parquet.

    The result is a directory that :func:`load_bdc` and :func:`assetmap.aggregate_bdc` read
    many times faster than the CSVs (typed columns, zstd-compressed, state partitions skipped
    when filtering by state). Each partition's rows are ordered by
    ``(block_geoid, location_id)``, or by ``location_id`` when a location of the partition
    has more than one block (``by_location``: a location's rows are then contiguous, which
    the fast engine of :func:`assetmap.aggregate_bdc` uses; the order is recorded in the
    file's metadata), values as read; checks and repairs happen when reading.
    ``location_id`` is stored as a 64-bit integer when every id is a plain integer (as in BDC
    releases; exactly: written back as text it is the same id), else as text.

    Parameters
    ----------
    paths : path, glob or list of them
        The release's CSVs or zips.
    out_dir : path
        The directory to write (``<out_dir>/state_usps=TX/...parquet``).
    partition_by : iterable of str
        Partition columns (default ``("state_usps",)``).
    threads : int, optional
        DuckDB threads (default: all cores).
    by_location : bool
        Order each partition's rows as above (default True; one file per partition).
        False keeps the order of the input and is quicker to write.

    Returns
    -------
    pathlib.Path
        ``out_dir``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "bdc_48_Fiber.csv").write_text(
    ...     "frn,provider_id,brand_name,location_id,technology,max_advertised_download_speed,"
    ...     "max_advertised_upload_speed,low_latency,business_residential_code,state_usps,"
    ...     "block_geoid,h3_res8_id\n"
    ...     "0001,130001,Fiber Co,1001,50,1000,1000,1,R,TX,481350001001000,8848a2d8c9fffff\n")
    >>> out = bdc_to_parquet(folder / "*.csv", folder / "parquet")
    >>> len(load_bdc(out))
    1
    """
    out = Path(out_dir)
    parts = [p for p in partition_by if p in eng.BDC_COLUMNS]
    if len(parts) != len(list(partition_by)):
        raise ValueError(f"partition_by must name BDC columns, got {list(partition_by)}")
    files = eng.resolve_paths(paths)
    shown: dict[Path, Path] = {}
    with eng.connect(threads=threads) as con, eng.open_inputs(files, keep_zip_names=shown) as inp:
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent if out.parent.exists()
                                    else None))
        try:
            eng.run_typed(con, inp, {k: str(v) for k, v in shown.items()},
                          lambda: _copy_parquet(con, eng.source_sql(inp), tmp, parts))
            if by_location:
                _order_by_location(con, tmp)
            for f in sorted(tmp.rglob("*.parquet")):  # written in full: move into place
                target = out / f.relative_to(tmp)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(f, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return out


_INT_IDS = "int_ids"  # marker of the error raised when an id does not round-trip
_AS_INT = (f"CASE WHEN CAST(TRY_CAST(location_id AS BIGINT) AS VARCHAR) = location_id "
           f"THEN CAST(location_id AS BIGINT) ELSE error('{_INT_IDS}') END")


def _copy_parquet(con: duckdb.DuckDBPyConnection, source: str, target: Path,
                  parts: list[str]) -> None:
    """COPY the rows to zstd Parquet; ``location_id`` as BIGINT if every id round-trips."""
    import duckdb

    def copy(ids: str, folder: Path) -> None:
        con.execute(f"COPY (SELECT * REPLACE ({ids} AS location_id) FROM ({source}) AS s) "
                    f"TO '{folder}' (FORMAT parquet, COMPRESSION zstd, "
                    f"PARTITION_BY ({', '.join(parts)}), OVERWRITE_OR_IGNORE)")

    try:
        copy(_AS_INT, target / "int")
        (target / "int").rename(target / "ok")
    except duckdb.InvalidInputException as exc:
        if _INT_IDS not in str(exc):
            raise
        shutil.rmtree(target / "int", ignore_errors=True)
        copy("location_id", target / "ok")  # ids that are not plain integers stay text
    for f in (target / "ok").rglob("*.parquet"):
        dest = target / f.relative_to(target / "ok")
        dest.parent.mkdir(parents=True, exist_ok=True)
        f.rename(dest)
    shutil.rmtree(target / "ok", ignore_errors=True)


ORDER_KEY = "assetmap.bdc_order"  # Parquet key-value metadata: the order of the rows
LOCATIONS_KEY = "assetmap.bdc_locations"  # ... and the number of distinct locations


def _order_by_location(con: duckdb.DuckDBPyConnection, target: Path) -> None:
    """Rewrite each partition's files as one file, a location's rows contiguous.

    Ordered by ``(block_geoid, location_id)`` when every location of the partition has
    exactly one ``block_geoid`` (as in BDC releases: areas then change rarely from row to
    row), else by ``location_id``. The order and the number of distinct locations are
    recorded in the file's key-value metadata (:data:`ORDER_KEY`, :data:`LOCATIONS_KEY`).
    """
    folders = sorted({f.parent for f in target.rglob("*.parquet")})
    con.execute("SET preserve_insertion_order = true")  # COPY writes in ORDER BY order
    try:
        for folder in folders:
            files = sorted(folder.glob("*.parquet"))
            listed = ", ".join(f"'{f}'" for f in files)
            source = f"read_parquet([{listed}], hive_partitioning = false)"
            n_loc, n_bad = con.execute(
                "SELECT count(*), count(*) FILTER (WHERE bad) FROM (SELECT (min(block_geoid) "
                "<> max(block_geoid) OR count(block_geoid) < count(*)) AS bad "
                f"FROM {source} GROUP BY location_id)").fetchone()
            order = "location_id" if n_bad else "block_geoid, location_id"
            kv = f"{{'{ORDER_KEY}': '{order.replace(' ', '')}', '{LOCATIONS_KEY}': '{n_loc}'}}"
            ordered = folder / ".ordered.parquet"
            con.execute(f"COPY (SELECT * FROM {source} ORDER BY {order}) TO '{ordered}' "
                        f"(FORMAT parquet, COMPRESSION zstd, KV_METADATA {kv})")
            for f in files:
                f.unlink()
            ordered.rename(folder / "data_0.parquet")
    finally:
        con.execute("SET preserve_insertion_order = false")


def _summary_text(path: Path) -> tuple[bytes, str]:
    if path.suffix.lower() == ".zip":
        with open_zip(path) as zf:
            members = [m for m in zf.namelist() if m.lower().endswith(".csv")]
            if len(members) != 1:
                raise SchemaError(f"{path}: expected one CSV in the zip, found {members}")
            return read_member(zf, members[0], str(path)), f"{path} ({members[0]})"
    return path.read_bytes(), str(path)


def load_bdc_summary(path: str | os.PathLike[str], *, geography_type: str | None = None,
                     area_data_type: str | None = "Total", biz_res: str | None = "R",
                     wide: bool = False) -> pd.DataFrame:
    """Read the BDC "fixed broadband summary by geography" file into tidy shares.

    Parameters
    ----------
    path : path
        The CSV, or the zip the FCC publishes (one CSV inside).
    geography_type : str, optional
        Keep one geography type (e.g. ``"Census Place"``); default all.
    area_data_type : str or None
        ``"Total"`` (default), ``"Urban"``, ``"Rural"``, ``"Tribal"``, ``"Nontribal"``; None: all.
    biz_res : str or None
        ``"R"`` residential (default), ``"B"`` business; None: both.
    wide : bool
        Return one row per geography and technology with a column per speed tier instead.

    Returns
    -------
    pandas.DataFrame
        Long: ``geography_id`` (str), ``geography_type``, ``geography_desc``,
        ``area_data_type``, ``biz_res``, ``technology`` (the FCC's label, e.g. ``"Fiber"``,
        ``"All Wired"``), ``speed_tier`` (``"25/3"``, ``"100/20"`` ...), ``share`` (0-1) and
        ``total_units``.

    Examples
    --------
    >>> from assetmap.datasets import data_path
    >>> s = load_bdc_summary(data_path("fcc", "fcc_bdc_J25_fixed_summary_by_place_ector_area.csv"))
    >>> odessa = s[(s.geography_desc == "Odessa") & (s.technology == "Fiber")]
    >>> round(float(odessa.loc[odessa.speed_tier == "1000/100", "share"].iloc[0]), 4)
    0.5589
    """
    path = Path(path)
    data, shown = _summary_text(path)
    if not data.strip():
        raise SchemaError(f"{shown}: empty file (no header row)")
    header = data.split(b"\n", 1)[0].decode("utf-8-sig", errors="replace").strip().split(",")
    missing = [c for c in SUMMARY_COLUMNS if c not in header]
    if missing:
        raise SchemaError(f"{where(shown, row=0, column=missing[0])}: missing summary "
                          f"column(s) {missing}; expected {', '.join(SUMMARY_COLUMNS)}")
    with parse_errors(shown):
        raw = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False,
                          usecols=list(SUMMARY_COLUMNS))
    report = start_report(shown, kind="bdc_summary", rows_read=len(raw), sources=[
        {"name": "FCC Broadband Data Collection, fixed broadband summary by geography",
         "url": "https://broadbandmap.fcc.gov/data-download", "license": "public domain"}])
    file_rows = pd.Series(range(1, len(raw) + 1), index=raw.index)  # 1-based data rows
    keep = pd.Series(True, index=raw.index)
    for col, value in (("geography_type", geography_type), ("area_data_type", area_data_type),
                       ("biz_res", biz_res)):
        if value is not None:
            keep &= raw[col] == value
    raw, file_rows = raw.loc[keep].reset_index(drop=True), file_rows[keep].to_numpy()
    report["notes"].append(f"selected {len(raw)} of {report['rows_read']} rows "
                           f"(area_data_type={area_data_type}, biz_res={biz_res}, "
                           f"geography_type={geography_type})")
    report["rows_read"] = len(raw)
    numbers = raw[list(SPEED_TIERS)].apply(pd.to_numeric, errors="coerce")
    units = pd.to_numeric(raw["total_units"], errors="coerce")
    bad = numbers.isna().any(axis=1) | units.isna() | ((numbers < 0) | (numbers > 1)).any(axis=1)
    if bad.any():
        count_reject(report, "share not a number in [0, 1] or total_units not a number",
                     int(bad.sum()), rows=file_rows[bad.to_numpy()].tolist())
    raw, numbers, units = raw.loc[~bad], numbers.loc[~bad], units.loc[~bad]
    ids = ["geography_id", "geography_type", "geography_desc", "area_data_type", "biz_res",
           "technology"]
    base = raw[ids].assign(total_units=units.astype("int64"))
    if wide:
        out = pd.concat([base, numbers.rename(columns=SPEED_TIERS)], axis=1)
        return attach_report(out.reset_index(drop=True), report)
    long = pd.concat([base.assign(speed_tier=tier, share=numbers[col].to_numpy())
                      for col, tier in SPEED_TIERS.items()], ignore_index=True)
    long = long.sort_values(["geography_id", "area_data_type", "biz_res", "technology"],
                            kind="stable").reset_index(drop=True)
    long = long[[*ids, "speed_tier", "share", "total_units"]]
    report["merged"] = 0
    out = attach_report(long, report)
    out.attrs["assetmap"]["notes"].append("long format: one row per input row and speed tier")
    return out
