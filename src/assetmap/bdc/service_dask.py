"""The BDC tract aggregation on Dask, for when one machine is not enough.

:func:`aggregate_bdc_dask` computes exactly the frame of :func:`assetmap.aggregate_bdc` (the
same rule set, :func:`assetmap.bdc.rules.rule_set`, and the same columns) with
``dask.dataframe``, so the work can spread over a cluster. The rule set travels to the workers
as data (a small frozen ``RuleSet``) with each partition's task.
Every row read gets the row checks of the other engines (:func:`_checked`) before the
selection of business/residential codes, so the report counts the same rows read, kept,
repaired, rejected and filtered (:func:`assetmap.bdc._counts.tally`). When rows were rejected,
or hold a number outside its column's range, local files are scanned once more with the
single-machine code (:func:`assetmap.bdc._counts.rejected_places`,
:func:`assetmap.bdc._engine.raise_out_of_range`): the warning names the first files, rows and
columns, and a number out of range stops the work with a
:class:`~assetmap.errors.SchemaError` naming them, as in every engine. Files in object
storage are not scanned again: the warning and the error then give counts only. A location's
flags come from its offer mask through
:func:`assetmap.bdc._sql.location_flags`, the one definition every engine counts with.
The single-machine DuckDB path stays the default: on one machine it is faster and needs no
scheduler. Install the extra with ``pip install "assetmap[dask]"``.

On a real cluster
-----------------
1. Convert the release once to Parquet (:func:`assetmap.bdc_to_parquet`) on storage every
   worker can read (a shared file system, or object storage such as ``s3://bucket/bdc/`` with
   ``s3fs`` installed on every worker). Parquet splits into row groups that workers read in
   parallel; zipped CSVs cannot be split and go one file per task.
2. Start a scheduler and workers (``dask scheduler``; ``dask worker tcp://host:8786
   --nthreads 2 --memory-limit 8GB`` per machine, or dask-jobqueue / dask-kubernetes), then
   connect: ``from distributed import Client; client = Client("tcp://host:8786")``.
3. Call ``aggregate_bdc_dask("s3://bucket/bdc/", level="tract")``: it uses the active client.
   The location group-by shuffles rows by ``location_id`` (``split_out`` partitions), so give
   workers memory for about (rows / workers) x 60 bytes, and spill space.

Tests run it on a small ``distributed.LocalCluster``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from assetmap._report import attach_report, start_report
from assetmap.bdc import _common as common
from assetmap.bdc import _engine as eng
from assetmap.bdc import _sql as bead
from assetmap.bdc._checks import (
    BLANKS,
    FIX_GEOID,
    FIX_SPACES,
    ID_COLUMNS,
    REJECT_REASONS,
    filter_code,
)
from assetmap.bdc._counts import rejected_places, tally
from assetmap.bdc._schema import NUMERIC, RANGES, RESIDENTIAL_CODES, TECHNOLOGIES
from assetmap.bdc.rules import RuleSet, RulesLike, rule_set, technology_group, technology_names
from assetmap.errors import SchemaError

__all__ = ["aggregate_bdc_dask"]

_NEEDED = ["provider_id", "location_id", "technology", "max_advertised_download_speed",
           "max_advertised_upload_speed", "low_latency", "business_residential_code",
           "block_geoid", "h3_res8_id"]
#: the bits of a location's offer mask (:mod:`assetmap.bdc._sql`), one 0/1 column each:
#: technology groups (by their codes), then the underserved and served thresholds
_GROUP_CODES = {f"b{bit}": [c for c in technology_names()
                            if bead.GROUP_BITS[technology_group(c)] == bit]
                for bit in bead.GROUP_BITS.values()}
_MASK_BITS = {**{name: int(name[1:]) for name in _GROUP_CODES},
              f"b{bead.UNDERSERVED_BIT}": bead.UNDERSERVED_BIT,
              f"b{bead.SERVED_BIT}": bead.SERVED_BIT}


def _remote(paths) -> list[str]:
    """Return the paths in object storage (``s3://``, ``gs://``, ...)."""
    items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    return [str(p) for p in items if "://" in str(p)]


def _read(paths, blocksize: str | int | None):
    import dask.dataframe as dd

    remote = _remote(paths)
    if remote:  # object storage (s3://, gs://, ...): Parquet, read by the workers themselves
        return dd.read_parquet(remote, columns=_NEEDED)
    files = eng.resolve_paths(paths)
    pq = [f for f in files if f.is_dir() or f.suffix == ".parquet"]
    if pq:
        return dd.read_parquet([str(p) for p in pq], columns=_NEEDED)
    # speeds as floats: compared with the thresholds as they are, fractions included
    dtype = {c: ("string" if eng.BDC_TYPES[c] == "VARCHAR"
                 else "Float64" if c in common.SPEEDS else "Int64") for c in _NEEDED}
    zips = [str(f) for f in files if f.suffix.lower() == ".zip"]
    csvs = [str(f) for f in files if f.suffix.lower() != ".zip"]
    parts = []
    if csvs:
        parts.append(dd.read_csv(csvs, usecols=_NEEDED, dtype=dtype, blocksize=blocksize))
    if zips:
        parts.append(dd.read_csv(zips, usecols=_NEEDED, dtype=dtype, blocksize=None,
                                 compression="zip"))
    return dd.concat(parts) if len(parts) > 1 else parts[0]


def _checked(part: pd.DataFrame, codes: list[str] | None
             ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Run the row checks of :func:`assetmap.bdc._checks.checked_sql` on one partition.

    Returns the partition with its ids trimmed of spaces and tabs and its 14-digit block
    GEOIDs given their leading zero back, each row's check code (``_check``: 0 kept, 1
    repaired, 2-7 rejected, the first failing test winning; a row outside ``codes``, compared
    upper-cased and trimmed, gets the filter's code) and its repair bits (``_fix``).
    """
    fix = np.zeros(len(part), dtype=np.int8)
    ids = {}
    blank = {}
    for column in ID_COLUMNS:
        raw = part[column].astype("string")
        ids[column] = raw.str.strip(BLANKS)
        blank[column] = _true(ids[column].isna() | (ids[column] == ""))
        fix |= np.where(_true(raw != ids[column]), FIX_SPACES, 0).astype(np.int8)
    geoid = part["block_geoid"].astype("string")
    length = geoid.str.len()
    fix |= np.where(_true(length == 14), FIX_GEOID, 0).astype(np.int8)
    tech = part["technology"].astype("Float64")
    down, up = (part[c].astype("Float64") for c in common.SPEEDS)
    latency = part["low_latency"].astype("Float64")
    tests = [  # (code, rejected): the first that holds wins
        (2, ~_true(tech.isin(list(TECHNOLOGIES)))),
        (3, ~_true(length.isin([14, 15]) & geoid.str.fullmatch("[0-9]+"))),  # ASCII digits
        (4, blank["location_id"]),
        (5, ~_true((down >= 0) & (up >= 0))),
        (6, ~_true(latency.isin([0, 1]))),
        (7, blank["provider_id"]),
    ]
    repaired = (fix > 0).astype(np.int8)
    check = repaired.copy()
    if codes:
        letters = part["business_residential_code"].astype("string").str.strip(BLANKS)
        outside = ~_true(letters.str.upper().isin(codes))
        check[outside] = filter_code("codes") + repaired[outside]
    for code, rejected in reversed(tests):
        check[rejected] = code
    rows = part.assign(block_geoid=geoid.where(length != 14, "0" + geoid), **ids)
    return rows, check, fix


def _true(values: pd.Series) -> np.ndarray:
    """Return a nullable boolean column as numpy, missing values False."""
    return values.fillna(False).to_numpy(dtype=bool)


def _flags(part: pd.DataFrame, area_len: int | None, rules: RuleSet,
           codes: list[str] | None) -> pd.DataFrame:
    """Per-row flags under ``rules`` and the row checks (vectorised, a partition at a time)."""
    rows, check, fix = _checked(part, codes)
    tech = rows["technology"].astype("float64")
    down = rows["max_advertised_download_speed"].astype("float64")
    up = rows["max_advertised_upload_speed"].astype("float64")
    latency = rows["low_latency"].astype("float64")
    geoid = rows["block_geoid"].astype("string")
    rel = tech.isin(list(rules.reliable_technologies))
    if rules.low_latency_required:
        rel &= latency == 1
    reach = {bead.UNDERSERVED_BIT: rules.underserved, bead.SERVED_BIT: rules.served}
    return pd.DataFrame({
        "area": (rows["h3_res8_id"].astype("string") if area_len is None
                 else geoid.str[:area_len]),
        "location_id": rows["location_id"],
        "provider_id": rows["provider_id"],
        **{name: tech.isin(group).astype("int8") for name, group in _GROUP_CODES.items()},
        **{f"b{bit}": (rel & (down >= d) & (up >= u)).fillna(False).astype("int8")
           for bit, (d, u) in reach.items()},
        "_check": check, "_fix": fix, "_range": _out_of_range(rows),
    }, index=part.index)


def _out_of_range(rows: pd.DataFrame) -> np.ndarray:
    """Per row, 1 if a number lies outside its column's range (:data:`RANGES`), else 0."""
    outside = np.zeros(len(rows), dtype=bool)
    for column in NUMERIC:
        low, high = RANGES[column]
        values = rows[column].astype("Float64")
        outside |= _true((values < low) | (values > high))
    return outside.astype(np.int8)


def _locate(paths, counts: pd.DataFrame, outside: int) -> dict[int, list[tuple[str, int, str]]]:
    """Raise at a number out of range, or find the first rejected rows: local files only.

    The single-machine scans of the other engines, run only when needed: the first number
    out of range raises :class:`~assetmap.errors.SchemaError` naming file, row and column;
    per reject code found, the first (file, row, column).
    """
    codes = {int(c) for c, n in zip(counts["_check"], counts["n"], strict=True)
             if int(c) in REJECT_REASONS and n > 0}
    if not outside and not codes:
        return {}
    if _remote(paths):
        if outside:
            ranges = "; ".join(f"{c} {low:,} to {high:,}" for c, (low, high) in RANGES.items())
            raise SchemaError(f"{paths}: {outside} rows hold a number outside its column's "
                              f"range ({ranges}); read the files with assetmap.load_bdc to "
                              "find them")
        return {}
    with eng.open_inputs(eng.resolve_paths(paths)) as inputs, eng.connect() as con:
        if outside:
            eng.raise_out_of_range(con, inputs)
        return rejected_places(con, inputs, codes)


def _location_counts(loc: pd.DataFrame) -> pd.DataFrame:
    """Per location (its bits' maxima): its area and the flags each area counts."""
    mask = np.zeros(len(loc), dtype=np.int64)
    for name, bit in _MASK_BITS.items():
        mask |= loc[name].to_numpy(dtype=np.int64) * bit
    flags = bead.location_flags(mask)  # the one definition of the counted flags
    return pd.DataFrame({"area": loc["area"], "locations": np.ones(len(loc), dtype=np.int64),
                         **{c: f.astype(np.int64) for c, f in flags.items()}}, index=loc.index)


def aggregate_bdc_dask(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]], *,
                       level: common.Level = "tract",
                       codes: Iterable[str] | None = RESIDENTIAL_CODES,
                       blocksize: str | int | None = "64MB", split_out: int | None = None,
                       rules: RulesLike = "bead") -> pd.DataFrame:
    r""":func:`assetmap.aggregate_bdc` on ``dask.dataframe`` (a cluster or a local one).

    Parameters
    ----------
    paths : path, glob or list of them
        BDC CSVs, zips, Parquet files or a Parquet directory (the best input on a cluster).
    level : {"tract", "block_group", "county", "h3"}
        The area.
    codes : iterable of str or None
        Business/residential codes kept (default R and X).
    blocksize : str or int or None
        Bytes per CSV partition (zips are one partition each).
    split_out : int, optional
        Output partitions of the location group-by (default: the input partitions / 4, >= 1).
    rules : str, mapping or RuleSet
        The rule set (:func:`assetmap.bdc.rules.rule_set`; default ``"bead"``).

    Returns
    -------
    pandas.DataFrame
        The columns of docs/data-model.md "Service by area", keyed by ``GEOID`` (or
        ``h3_res8_id``); the report names the rule set (``report["rules"]``).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "bdc_48_Fiber.csv").write_text(
    ...     "frn,provider_id,brand_name,location_id,technology,max_advertised_download_speed,"
    ...     "max_advertised_upload_speed,low_latency,business_residential_code,state_usps,"
    ...     "block_geoid,h3_res8_id\n"
    ...     "0001,130001,Fiber Co,1001,50,1000,1000,1,R,TX,481350001001000,8848a2d8c9fffff\n")
    >>> aggregate_bdc_dask(folder / "*.csv")[["GEOID", "locations", "served"]]
             GEOID  locations  served
    0  48135000100          1       1
    """
    import dask

    chosen = rule_set(rules)
    common.check_level(level)
    key = common.area_key(level)
    ddf = _read(paths, blocksize)
    missing = [c for c in _NEEDED if c not in ddf.columns]
    if missing:
        raise SchemaError(f"{paths}: missing BDC column(s) {missing}")
    area_len = None if level == "h3" else bead.AREA_LENGTH[level]
    selection = eng.row_selection(codes=tuple(codes) if codes else None)
    wanted = selection.get("codes")
    meta = _flags(ddf._meta, area_len, chosen, wanted)
    rows = ddf.map_partitions(_flags, area_len, chosen, wanted, meta=meta)
    checks = rows.groupby(["_check", "_fix"]).size()  # every row read, before the selection
    outside = rows["_range"].sum()
    ok = rows[rows["_check"] <= 1]
    n_out = split_out or max(1, ok.npartitions // 4)
    loc = ok.assign(area_max=ok["area"]).groupby("location_id").agg(
        {"area": "min", "area_max": "max", **dict.fromkeys(_MASK_BITS, "max")},
        split_out=n_out)  # a location's area: the smallest of its rows' (note_split)
    split = (loc["area"] != loc["area_max"]).sum()
    per_location = loc.map_partitions(_location_counts,
                                      meta=_location_counts(loc._meta))
    sums = per_location.groupby("area").sum()
    served = f"b{bead.SERVED_BIT}"
    p100 = (ok[ok[served] == 1][["area", "location_id", "provider_id"]].drop_duplicates()
            .groupby("area").size())
    pairs = ok[["area", "provider_id"]].drop_duplicates()
    sums, p100, pairs, checks, split, outside = dask.compute(sums, p100, pairs, checks, split,
                                                             outside)
    counts = checks.rename("n").reset_index()
    places = _locate(paths, counts, int(outside))
    if split:  # providers counted in their location's area, as every engine does
        placed = ok.drop(columns="area").merge(loc[["area"]], left_on="location_id",
                                               right_index=True)
        p100, pairs = dask.compute(
            placed[placed[served] == 1][["area", "location_id", "provider_id"]]
            .drop_duplicates().groupby("area").size(),
            placed[["area", "provider_id"]].drop_duplicates())
    sums = sums.reset_index()
    sums["providers_100_20_sum"] = sums["area"].map(p100).fillna(0).to_numpy()
    report = start_report(str(paths) if isinstance(paths, str | os.PathLike | Path)
                          else ", ".join(map(str, paths)), kind="bdc_service_by_area")
    tally(report, counts, selection=selection, places=places)
    out = common.finish_area(sums, pairs.assign(_check=0), key=key, report=report)
    out = common.close_report(report, out, level=level, split=int(split), rules=chosen)
    report["engine"] = "dask"
    return attach_report(out, report)
