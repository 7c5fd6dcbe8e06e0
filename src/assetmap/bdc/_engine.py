"""The DuckDB engine under the BDC availability loader and the streamed aggregation.

It turns a file, a list or a glob of BDC fixed-availability CSVs, zips or Parquet files into one
typed SQL relation that DuckDB scans in parallel and out of core, so a national release never
materialises in pandas. Header checks, zip extraction (in parallel threads), row checks and
repairs live here; the BEAD classification lives in :mod:`assetmap.bdc.service`.

Row checks are done in SQL on every row at little cost:

* ``block_geoid`` one character short (a lost leading zero) is repaired; any other length is
  rejected. Non-digit GEOIDs are caught on the (few) area keys after aggregation.
* an unknown technology code, a missing ``location_id`` or speed, ``low_latency`` not 0/1:
  the row is rejected, counted and reported.
* a value that does not parse as its type (speeds written as ``"100.0"`` or ``"100 Mbps"``)
  is found by DuckDB's rejects table: integral numbers written as text are repaired, anything
  else raises :class:`~assetmap.errors.SchemaError` naming file, row and column.
"""

from __future__ import annotations

import contextlib
import glob as globmod
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assetmap._safezip import extract_zip
from assetmap.errors import SchemaError, where

if TYPE_CHECKING:  # imported where used: a clean CSV is read and checked without DuckDB
    import duckdb

__all__ = ["BDC_COLUMNS", "BDC_TYPES", "TECHNOLOGIES", "Inputs", "open_inputs", "row_filter"]

BDC_COLUMNS = (
    "frn", "provider_id", "brand_name", "location_id", "technology",
    "max_advertised_download_speed", "max_advertised_upload_speed", "low_latency",
    "business_residential_code", "state_usps", "block_geoid", "h3_res8_id",
)
BDC_TYPES = dict.fromkeys(BDC_COLUMNS, "VARCHAR") | {
    "technology": "SMALLINT",
    "max_advertised_download_speed": "INTEGER",
    "max_advertised_upload_speed": "INTEGER",
    "low_latency": "TINYINT",
}
NUMERIC = ("technology", "max_advertised_download_speed", "max_advertised_upload_speed",
           "low_latency")
TECHNOLOGIES = (0, 10, 40, 50, 60, 61, 70, 71, 72)
_STATE_IN_NAME = re.compile(r"^bdc_(\d{2})_", re.IGNORECASE)
_INTEGRAL = re.compile(r"^\s*\"?\s*(\d+)(\.0*)?\s*\"?\s*$")


@dataclass
class Inputs:
    """Resolved input files grouped by kind, plus what was repaired on the way."""

    csv_groups: dict[tuple[str, ...], list[Path]] = field(default_factory=dict)
    parquet: list[Path] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    header_repairs: list[str] = field(default_factory=list)
    lenient: bool = False
    numeric_repairs: int = 0
    #: read ``location_id`` as BIGINT (only when every input is Parquet storing integer
    #: ids, which :func:`assetmap.bdc_to_parquet` writes only if they round-trip exactly)
    int_ids: bool = False

    @property
    def id_type(self) -> str:
        """SQL type of ``location_id`` in :func:`source_sql`."""
        return "BIGINT" if self.int_ids and not self.csv_groups else "VARCHAR"


def resolve_paths(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Expand a path, a glob or a list of them into existing files (or Parquet directories)."""
    items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    out: list[Path] = []
    for item in items:
        text = str(item)
        matches = sorted(globmod.glob(text, recursive=True))  # noqa: PTH207 if globmod.has_magic(text) else [text]
        if not matches or not Path(matches[0]).exists():
            raise FileNotFoundError(f"no BDC availability file matches {text!r}")
        out.extend(Path(m) for m in matches)
    if not out:
        raise FileNotFoundError(f"no BDC availability file given ({paths!r})")
    return out


def state_of_file(path: Path) -> str | None:
    """Return the state FIPS code in a BDC file name (``bdc_48_...``), else None."""
    m = _STATE_IN_NAME.match(path.name)
    return m.group(1) if m else None


def group_by_state(files: Sequence[Path]) -> dict[str | None, list[Path]]:
    """Group files by the state in their names; locations never cross a state line."""
    groups: dict[str | None, list[Path]] = {}
    for f in files:
        groups.setdefault(state_of_file(f), []).append(f)
    return groups


def _extract_one(path: Path, target: Path) -> list[Path]:
    # _safezip refuses unsafe member names, bombs and sizes over the setting, and streams
    # with a byte cap (SchemaError naming the zip for a corrupt or truncated one)
    out = extract_zip(path, target, suffixes=(".csv", ".txt"), prefix=f"{path.stem}__")
    if not out:
        with zipfile.ZipFile(path) as zf:
            names = [m.filename for m in zf.infolist()][:5]
        raise SchemaError(f"{path}: the zip holds no CSV file (found {names})")
    return out


def extract_zips(zips: Sequence[Path], target: Path) -> dict[Path, Path]:
    """Unzip in parallel threads (zlib releases the GIL); return extracted CSV -> its zip."""
    with ThreadPoolExecutor(max_workers=max(1, min(len(zips), os.cpu_count() or 2))) as ex:
        results = list(ex.map(lambda z: _extract_one(z, target), zips))
    return {csv: z for z, csvs in zip(zips, results, strict=True) for csv in csvs}


def _read_header(path: Path, shown: str) -> tuple[str, ...]:
    with path.open("rb") as fh:
        first = fh.readline()
    if not first.strip():
        raise SchemaError(f"{shown}: empty file (no header row); is the download complete?")
    names = first.decode("utf-8-sig", errors="replace").strip().split(",")
    return tuple(n.strip().strip('"') for n in names)


def check_header(header: tuple[str, ...], shown: str, repairs: list[str]) -> tuple[str, ...]:
    """Map a file's header onto the canonical names (case and spaces repaired) or raise."""
    mapped = []
    for name in header:
        canon = name.strip().lower().replace(" ", "_")
        if canon != name:
            repairs.append(f"{shown}: header {name!r} read as {canon!r}")
        mapped.append(canon)
    missing = [c for c in BDC_COLUMNS if c not in mapped]
    if missing:
        extra = [h for h, m in zip(header, mapped, strict=True) if m not in BDC_COLUMNS]
        hint = f"; unexpected column(s) {extra}: rename them" if extra else ""
        raise SchemaError(
            f"{where(shown, row=0, column=missing[0])}: missing BDC column(s) {missing}{hint}. "
            f"A BDC availability file has: {', '.join(BDC_COLUMNS)}"
        )
    return tuple(mapped)


@contextlib.contextmanager
def open_inputs(
    files: Sequence[Path], *, keep_zip_names: dict[Path, Path] | None = None
) -> Iterator[Inputs]:
    """Extract zips to a temporary folder, check headers, group CSVs by header layout."""
    inputs = Inputs()
    tmp = None
    try:
        zips = [f for f in files if f.is_file() and f.suffix.lower() == ".zip"]
        origin: dict[Path, Path] = {}
        if zips:
            tmp = Path(tempfile.mkdtemp(prefix="assetmap_bdc_"))
            origin = extract_zips(zips, tmp)
        csvs = [f for f in files if f.is_file() and f.suffix.lower() in (".csv", ".txt")]
        csvs += list(origin)
        for f in files:
            if f.is_dir():
                inputs.parquet.extend(sorted(f.glob("**/*.parquet")))
            elif f.suffix.lower() == ".parquet":
                inputs.parquet.append(f)
            elif f.suffix.lower() not in (".zip", ".csv", ".txt"):
                raise SchemaError(f"{f}: not a BDC CSV, zip or Parquet file")
        for f in csvs:
            shown = f"{origin[f]} ({f.name.split('__', 1)[-1]})" if f in origin else str(f)
            header = check_header(_read_header(f, shown), shown, inputs.header_repairs)
            inputs.csv_groups.setdefault(header, []).append(f)
            inputs.names.append(shown)
            if keep_zip_names is not None:
                keep_zip_names[f] = Path(shown)
        inputs.names.extend(str(p) for p in inputs.parquet)
        yield inputs
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def _sql_list(values: Iterable[Any]) -> str:
    return ", ".join("'" + str(v).replace("'", "''") + "'" for v in values)


def _csv_scan(header: tuple[str, ...], files: list[Path], *, varchar: bool,
              extra: str = "") -> str:
    types = {c: ("VARCHAR" if varchar else BDC_TYPES[c]) for c in header}
    cols = ", ".join(f"'{c}': '{types[c]}'" for c in header)
    return (f"read_csv([{_sql_list(files)}], header=true, columns={{{cols}}}, auto_detect=false, "
            f"delim=',', quote='\"', escape='\"', null_padding=false{extra})")


def parquet_sql(inputs: Inputs) -> str:
    """Return the ``read_parquet`` call over the Parquet inputs."""
    return (f"read_parquet([{_sql_list(inputs.parquet)}], hive_partitioning=true, "
            "union_by_name=true)")


def settle_id_type(con: duckdb.DuckDBPyConnection, inputs: Inputs) -> None:
    """Read ids as integers only if every input is Parquet storing them as integers.

    CSV ids are read as text (exact: ``"0012"`` stays apart from ``"12"``; parsing them as
    integers measured only ~4% faster), and so is Parquet written with text ids.
    """
    inputs.int_ids = not inputs.csv_groups and bool(inputs.parquet)
    if inputs.int_ids:
        kind = con.execute(f"SELECT typeof(location_id) FROM {parquet_sql(inputs)} LIMIT 1"
                           ).fetchall()
        if kind and kind[0][0] not in ("BIGINT", "INTEGER", "UBIGINT", "UINTEGER", "HUGEINT"):
            inputs.int_ids = False


def source_sql(inputs: Inputs, columns: Sequence[str] = BDC_COLUMNS) -> str:
    """Return SQL for the typed union of all inputs: ``columns`` (canonical names) in order.

    ``location_id`` is text, or BIGINT for Parquet with integer ids (:attr:`Inputs.id_type`).
    Only the columns asked for are read.
    """
    parts = []
    id_type = inputs.id_type
    types = BDC_TYPES | {"location_id": id_type}
    for header, files in inputs.csv_groups.items():
        exprs = []
        for c in columns:
            if inputs.lenient and c in NUMERIC:
                exprs.append(f"CAST(CAST(trim(replace({c}, '\"', '')) AS DOUBLE) "
                             f"AS {BDC_TYPES[c]}) AS {c}")
            else:
                exprs.append(c)
        scan = _csv_scan(header, files, varchar=inputs.lenient)
        parts.append(f"SELECT {', '.join(exprs)} FROM {scan}")
    if inputs.parquet:
        exprs = ", ".join(f"CAST({c} AS {types[c]}) AS {c}" for c in columns)
        parts.append(f"SELECT {exprs} FROM {parquet_sql(inputs)}")
    if not parts:
        raise SchemaError("no BDC availability rows to read (no CSV, zip or Parquet input)")
    return "\nUNION ALL\n".join(parts)


def row_selection(*, states=None, counties=None, tracts=None, codes=None,
                  technologies=None) -> dict[str, list[Any]]:
    """Return the selection with its values normalised, for :func:`row_filter` and Arrow.

    Keys (each present only when selected): ``state_usps``, ``state_fips`` (2-digit
    prefixes of the block GEOID), ``county`` (5-digit prefixes), ``tract`` (11-digit
    prefixes), ``codes`` and ``technologies``.
    """
    from assetmap.geoid import county_fips, normalize_geoids, state_fips, state_usps

    selection: dict[str, list[Any]] = {}
    if states:
        selection["state_usps"] = [state_usps(s) for s in states]
        selection["state_fips"] = [state_fips(s) for s in states]
    if counties:
        selection["county"] = [county_fips(str(c)[:2], str(c)) if str(c).isdigit() else str(c)
                               for c in counties]
    if tracts:
        selection["tract"] = list(normalize_geoids(tracts, level="tract"))
    if codes:
        selection["codes"] = [str(c) for c in codes]
    if technologies:
        selection["technologies"] = [int(t) for t in technologies]
    return selection


def row_filter(*, states=None, counties=None, tracts=None, codes=None, technologies=None) -> str:
    """Return the SQL WHERE condition for the selection (applied to repaired block GEOIDs)."""
    selection = row_selection(states=states, counties=counties, tracts=tracts, codes=codes,
                              technologies=technologies)
    conds = []
    if "state_usps" in selection:
        conds.append(f"state_usps IN ({_sql_list(selection['state_usps'])})")
        conds.append(f"substr(block_geoid, 1, 2) IN ({_sql_list(selection['state_fips'])})")
    if "county" in selection:
        conds.append(f"substr(block_geoid, 1, 5) IN ({_sql_list(selection['county'])})")
    if "tract" in selection:
        conds.append(f"substr(block_geoid, 1, 11) IN ({_sql_list(selection['tract'])})")
    if "codes" in selection:
        conds.append(f"business_residential_code IN ({_sql_list(selection['codes'])})")
    if "technologies" in selection:
        conds.append(f"technology IN ({', '.join(map(str, selection['technologies']))})")
    return " AND ".join(conds) if conds else "TRUE"


REJECT_REASONS = {
    2: "unknown technology code",
    3: "block_geoid is not a 15-digit block GEOID",
    4: "missing location_id",
    5: "missing or negative speed",
    6: "low_latency is not 0 or 1",
}


def checked_sql(source: str, where_sql: str, *, digits: bool = True) -> str:
    """Rows of the selection with a repaired block GEOID and a check code ``_check``.

    ``_check`` is 0 for a good row, 1 for a good row whose block GEOID was repaired, and a key
    of :data:`REJECT_REASONS` for a rejected row (small integers keep the group-bys cheap).
    """
    techs = ", ".join(map(str, TECHNOLOGIES))
    geoid = "(CASE WHEN _len = 14 THEN '0' || block_geoid ELSE block_geoid END)"
    return f"""
SELECT * EXCLUDE (block_geoid, _len), {geoid} AS block_geoid,
  CASE
    WHEN technology IS NULL OR technology NOT IN ({techs}) THEN 2
    WHEN _len IS NULL OR _len NOT IN (14, 15)
      {"OR NOT regexp_full_match(block_geoid, '[0-9]+')" if digits else ""} THEN 3
    WHEN location_id IS NULL THEN 4
    WHEN max_advertised_download_speed IS NULL OR max_advertised_upload_speed IS NULL
      OR max_advertised_download_speed < 0 OR max_advertised_upload_speed < 0 THEN 5
    WHEN low_latency IS NULL OR low_latency NOT IN (0, 1) THEN 6
    WHEN _len = 14 THEN 1
    ELSE 0
  END::TINYINT AS _check
FROM (SELECT *, length(block_geoid) AS _len FROM ({source})) AS s
WHERE {where_sql.replace('block_geoid', geoid)}
"""


def connect(*, threads: int | None = None,
            memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB connection set up for streamed scans with a bounded memory footprint."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    # Under Jupyter without ipywidgets DuckDB starts with the bar off and refuses to set it.
    if con.execute("SELECT current_setting('enable_progress_bar')").fetchone()[0]:
        con.execute("SET enable_progress_bar = false")
    con.execute(f"SET threads = {int(threads or os.cpu_count() or 2)}")
    con.execute(f"SET memory_limit = '{memory_limit or '1500MB'}'")
    con.execute(f"SET temp_directory = '{tempfile.gettempdir()}/assetmap_duckdb_spill'")
    return con


def diagnose(con: duckdb.DuckDBPyConnection, inputs: Inputs,
             error: Exception, shown: dict[Path, str]) -> None:
    """After a typed read failed: repair integral numbers written as text, or raise clearly."""
    import duckdb

    bad: list[tuple[str, int, str, str]] = []
    for header, files in inputs.csv_groups.items():
        con.execute("DROP TABLE IF EXISTS reject_errors; DROP TABLE IF EXISTS reject_scans")
        scan = _csv_scan(header, files, varchar=False,
                         extra=", ignore_errors=true, store_rejects=true")
        counted = ", ".join(f"count({c})" for c in header)  # every column is converted
        try:
            con.execute(f"SELECT {counted} FROM {scan}").fetchall()
        except duckdb.Error as exc:  # not a bad value but a line the parser cannot split
            raise _unparsable(files, shown, exc) from error
        rows = con.execute(
            "SELECT s.file_path, e.line, e.column_name, e.csv_line, e.error_type "
            "FROM reject_errors e JOIN reject_scans s USING (scan_id, file_id) "
            "ORDER BY s.file_path, e.line"
        ).fetchall()
        for file_path, line, column, csv_line, error_type in rows:
            bad.append((str(file_path), int(line), str(column or ""),
                        f"{error_type}: {csv_line}"))
    if not bad:
        raise SchemaError(f"reading the BDC files failed: {error}") from error
    fatal = []
    for file_path, line, column, text in bad:
        header = next(h for h, fs in inputs.csv_groups.items() if Path(file_path) in fs)
        values = _split_line(text.split(": ", 1)[1])
        idx = header.index(column) if column in header else -1
        value = values[idx] if 0 <= idx < len(values) else None
        if not (column in NUMERIC and value is not None and _INTEGRAL.match(value)):
            fatal.append((file_path, line, column, value if value is not None else text))
    if fatal:
        file_path, line, column, value = fatal[0]
        name = shown.get(Path(file_path), file_path)
        raise SchemaError(
            f"{where(name, row=line - 1, column=column or None)}: cannot read {value!r} as "
            f"{BDC_TYPES.get(column, 'a value of this column')} "
            f"({len(fatal)} bad row(s) in all; speeds are whole Mbps, technology and "
            "low_latency are integer codes)"
        ) from error
    inputs.lenient = True
    inputs.numeric_repairs = len(bad)


def _unparsable(files: Sequence[Path], shown: dict[Path, str], exc: Exception) -> SchemaError:
    """Return a SchemaError naming the first line that cannot be split into fields, and why."""
    for path in files:
        with path.open("rb") as handle:
            for number, line in enumerate(handle, start=1):
                body = line.rstrip(b"\n")
                body = body[:-1] if body.endswith(b"\r") else body
                if b"\r" in body:
                    reason = "a carriage return inside the line (a line break inside a field?)"
                elif body.count(b'"') % 2:
                    reason = "an unbalanced double quote"
                else:
                    continue
                name = shown.get(path, str(path))
                return SchemaError(f"{where(name, row=number - 1)}: cannot split this line "
                                   f"into fields: {reason}")
    names = ", ".join(shown.get(p, str(p)) for p in files)
    return SchemaError(f"{names}: the CSV parser stopped: {exc}")


def run_typed(con: duckdb.DuckDBPyConnection, inputs: Inputs, shown: dict[Path, str],
              query: Callable[[], Any]) -> Any:
    """Run ``query`` (which builds its SQL from ``inputs``), diagnosing a failed read.

    On a value that does not parse, :func:`diagnose` repairs integral numbers written as text
    (or raises naming file, row and column) and the query runs once more.
    """
    import duckdb

    try:
        return query()
    except (duckdb.ConversionException, duckdb.InvalidInputException) as exc:
        diagnose(con, inputs, exc, shown)
    return query()


@contextlib.contextmanager
def damaged_parquet(inputs: Inputs) -> Iterator[None]:
    """Raise DuckDB's error on a damaged Parquet file as a :class:`SchemaError` naming it.

    DuckDB's Parquet reader says only what it found (``TProtocolException: Invalid data``);
    this adds the files read. Other errors (a bad value, memory) pass unchanged.

    Examples
    --------
    >>> import duckdb
    >>> with damaged_parquet(Inputs(parquet=[Path("x.parquet")])):
    ...     raise duckdb.Error("TProtocolException: Invalid data")
    Traceback (most recent call last):
    ...
    assetmap.errors.SchemaError: x.parquet: the Parquet data cannot be read (a damaged or \
cut-short file?): TProtocolException: Invalid data
    """
    import duckdb

    try:
        yield
    except duckdb.Error as exc:
        if not inputs.parquet or not (type(exc) is duckdb.Error
                                      or isinstance(exc, duckdb.IOException)):
            raise
        names = ", ".join(str(p) for p in inputs.parquet[:5])
        more = f" (and {len(inputs.parquet) - 5} more)" if len(inputs.parquet) > 5 else ""
        raise SchemaError(f"{names}{more}: the Parquet data cannot be read (a damaged or "
                          f"cut-short file?): {exc}") from exc


def _split_line(text: str) -> list[str]:
    import csv

    return next(csv.reader([text]))
