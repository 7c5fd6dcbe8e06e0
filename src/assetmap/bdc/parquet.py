"""Convert a BDC availability release once to typed, partitioned Parquet.

:func:`bdc_to_parquet` writes what :func:`assetmap.load_bdc` and :func:`assetmap.aggregate_bdc`
then read many times faster than the CSVs. Values are stored as read (checks and repairs run
when reading), in the narrowest type that holds them exactly: ``location_id`` as a 64-bit
integer when every id round-trips, the numbers as integers when every one is whole (else as
DOUBLE: a fractional speed is never rounded).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from assetmap.bdc import _engine as eng
from assetmap.bdc._schema import BDC_COLUMNS, NUMERIC

if TYPE_CHECKING:  # imported where used
    import duckdb

__all__ = ["LOCATIONS_KEY", "ORDER_KEY", "bdc_to_parquet"]

Paths = str | os.PathLike[str] | Iterable[str | os.PathLike[str]]
ORDER_KEY = "assetmap.bdc_order"  # Parquet key-value metadata: the order of the rows
LOCATIONS_KEY = "assetmap.bdc_locations"  # ... and the number of distinct locations


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
    releases; exactly: written back as text it is the same id), else as text; the numbers
    as integers when every one is whole, else as DOUBLE (never rounded).

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
    >>> from assetmap.bdc.read import load_bdc
    >>> len(load_bdc(out))
    1
    """
    out = Path(out_dir)
    parts = [p for p in partition_by if p in BDC_COLUMNS]
    if len(parts) != len(list(partition_by)):
        raise ValueError(f"partition_by must name BDC columns, got {list(partition_by)}")
    files = eng.resolve_paths(paths)
    with eng.connect(threads=threads) as con, eng.open_inputs(files) as inp:
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent if out.parent.exists()
                                    else None))
        try:
            eng.run_typed(con, inp, None,
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


_MARK = "assetmap-not-narrow:"  # the error raised when a value does not fit a narrow type
_INTEGERS = {"technology": "SMALLINT", "max_advertised_download_speed": "INTEGER",
             "max_advertised_upload_speed": "INTEGER", "low_latency": "TINYINT"}


def _narrowed(source: str, narrow: set[str]) -> str:
    """Return the rows to write: ids as BIGINT, numbers as integers where ``narrow`` says."""
    replace = []
    if "ids" in narrow:
        replace.append("CASE WHEN CAST(TRY_CAST(location_id AS BIGINT) AS VARCHAR) = location_id "
                       f"THEN CAST(location_id AS BIGINT) ELSE error('{_MARK}ids') END "
                       "AS location_id")
    if "numbers" in narrow:  # the range is checked while scanning: whole numbers fit
        replace += [f"CASE WHEN {c} IS NULL OR {c} = trunc({c}) THEN CAST({c} AS {_INTEGERS[c]}) "
                    f"ELSE error('{_MARK}numbers') END AS {c}" for c in NUMERIC]
    replaced = f" REPLACE ({', '.join(replace)})" if replace else ""
    return f"SELECT * EXCLUDE (_fixed){replaced} FROM ({source}) AS s"


def _copy_parquet(con: duckdb.DuckDBPyConnection, source: str, target: Path,
                  parts: list[str]) -> None:
    """COPY the rows to zstd Parquet in the narrowest types that hold them exactly."""
    import duckdb

    narrow = {"ids", "numbers"}
    while True:
        folder = target / "try"
        shutil.rmtree(folder, ignore_errors=True)  # nothing of an earlier attempt stays
        try:
            con.execute(f"COPY ({_narrowed(source, narrow)}) TO '{folder}' (FORMAT parquet, "
                        f"COMPRESSION zstd, PARTITION_BY ({', '.join(parts)}), "
                        "OVERWRITE_OR_IGNORE)")
            break
        except duckdb.InvalidInputException as exc:
            shutil.rmtree(folder, ignore_errors=True)
            failed = [n for n in narrow if f"{_MARK}{n}" in str(exc)]
            if not failed:
                raise
            narrow -= set(failed)  # ids that are not plain integers stay text, and so on
    for f in folder.rglob("*.parquet"):
        dest = target / f.relative_to(folder)
        dest.parent.mkdir(parents=True, exist_ok=True)
        f.rename(dest)
    shutil.rmtree(folder, ignore_errors=True)


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
            counted = con.execute(
                "SELECT count(*), count(*) FILTER (WHERE bad) FROM (SELECT (min(block_geoid) "
                "<> max(block_geoid) OR count(block_geoid) < count(*)) AS bad "
                f"FROM {source} GROUP BY location_id)").fetchone()
            n_loc, n_bad = counted if counted is not None else (0, 0)
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
