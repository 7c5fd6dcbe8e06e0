"""The BDC tract aggregation on Dask, for when one machine is not enough.

:func:`aggregate_bdc_dask` computes exactly the frame of :func:`assetmap.aggregate_bdc` (the
same rule set, :func:`assetmap.bdc.rules.rule_set`, and the same columns) with
``dask.dataframe``, so the work can spread over a cluster. The rule set travels to the workers
as data (a small frozen ``RuleSet``) with each partition's task.
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

from assetmap._report import attach_report, count_reject, start_report
from assetmap.bdc import _common as common
from assetmap.bdc import _engine as eng
from assetmap.bdc import _sql as bead
from assetmap.bdc.rules import RuleSet, RulesLike, rule_set, technology_group, technology_names
from assetmap.errors import SchemaError

__all__ = ["aggregate_bdc_dask"]

_NEEDED = ["provider_id", "location_id", "technology", "max_advertised_download_speed",
           "max_advertised_upload_speed", "low_latency", "business_residential_code",
           "block_geoid", "h3_res8_id"]
#: technology codes of each group counted per area (n_<group>)
_BITS = {group: [c for c in technology_names() if technology_group(c) == group]
         for group in bead.TECH_BITS}


def _read(paths, blocksize: str | int | None):
    import dask.dataframe as dd

    items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    remote = [str(p) for p in items if "://" in str(p)]
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


def _flags(part: pd.DataFrame, area_len: int | None, rules: RuleSet) -> pd.DataFrame:
    """Per-row flags under ``rules`` (vectorised, one partition at a time)."""
    tech = part["technology"].astype("float64")
    down = part["max_advertised_download_speed"].astype("float64")
    up = part["max_advertised_upload_speed"].astype("float64")
    latency = part["low_latency"].astype("float64")
    geoid = part["block_geoid"].astype("string")
    glen = geoid.str.len()
    geoid = geoid.where(glen != 14, "0" + geoid)
    rel = tech.isin(list(rules.reliable_technologies))
    if rules.low_latency_required:
        rel &= latency == 1
    (served_down, served_up), (under_down, under_up) = rules.served, rules.underserved
    out = pd.DataFrame({
        "area": (part["h3_res8_id"].astype("string") if area_len is None
                 else geoid.str[:area_len]),
        # " 12" and "12" are one location, as in every engine (_checks.ID_COLUMNS)
        "location_id": part["location_id"].astype("string").str.strip(" \t"),
        "provider_id": part["provider_id"].astype("string").str.strip(" \t"),
        "s25": (rel & (down >= under_down) & (up >= under_up)).fillna(False).astype("int8"),
        "s100": (rel & (down >= served_down) & (up >= served_up)).fillna(False).astype("int8"),
        "other": (~tech.isin([t for ts in _BITS.values() for t in ts])).astype("int8"),
        **{f"n_{k}": tech.isin(v).astype("int8") for k, v in _BITS.items()},
    }, index=part.index)
    bad = ~tech.isin(eng.TECHNOLOGIES) | ~glen.isin([14, 15]).fillna(False).astype(bool)
    bad |= part["location_id"].isna() | down.isna() | up.isna() | (down < 0) | (up < 0)
    bad |= ~latency.isin([0, 1])
    out["_check"] = np.where(bad.fillna(True).to_numpy(dtype=bool), 9, 0).astype("int8")
    return out


def aggregate_bdc_dask(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]], *,
                       level: common.Level = "tract",
                       codes: Iterable[str] | None = ("R", "X"),
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
    if codes:
        ddf = ddf[ddf["business_residential_code"].isin(list(codes))]
    area_len = None if level == "h3" else bead.AREA_LENGTH[level]
    meta = _flags(ddf._meta, area_len, chosen)
    rows = ddf.map_partitions(_flags, area_len, chosen, meta=meta)
    checks = rows.groupby("_check").size()
    ok = rows[rows["_check"] == 0]
    flag_cols = ["s25", "s100", "other", *(f"n_{k}" for k in _BITS)]
    n_out = split_out or max(1, ok.npartitions // 4)
    loc = ok.assign(area_max=ok["area"]).groupby("location_id").agg(
        {"area": "min", "area_max": "max", **dict.fromkeys(flag_cols, "max")},
        split_out=n_out)  # a location's area: the smallest of its rows' (note_split)
    split = (loc["area"] != loc["area_max"]).sum()
    terrestrial = loc[["n_copper", "n_cable", "n_fiber", "n_licensed_fw", "other"]].sum(axis=1)
    loc = loc.assign(
        unserved=(loc["s25"] == 0).astype("int64"),
        underserved=((loc["s25"] == 1) & (loc["s100"] == 0)).astype("int64"),
        served=(loc["s100"] == 1).astype("int64"),
        satellite_only=((loc["n_satellite"] == 1) & (terrestrial == 0)
                        & (loc["n_unlicensed_fw"] == 0)).astype("int64"),
        unlicensed_fw_only=((loc["n_unlicensed_fw"] == 1) & (terrestrial == 0)).astype("int64"),
        locations=1,
    )
    sums = loc.groupby("area").agg(
        dict.fromkeys(["locations", "unserved", "underserved", "served", "satellite_only",
                       "unlicensed_fw_only", *(f"n_{k}" for k in _BITS)], "sum"))
    p100 = (ok[ok["s100"] == 1][["area", "location_id", "provider_id"]].drop_duplicates()
            .groupby("area").size())
    pairs = ok[["area", "provider_id"]].drop_duplicates()
    sums, p100, pairs, checks, split = dask.compute(sums, p100, pairs, checks, split)
    if split:  # providers counted in their location's area, as every engine does
        placed = ok.drop(columns="area").merge(loc[["area"]], left_on="location_id",
                                               right_index=True)
        p100, pairs = dask.compute(
            placed[placed["s100"] == 1][["area", "location_id", "provider_id"]]
            .drop_duplicates().groupby("area").size(),
            placed[["area", "provider_id"]].drop_duplicates())
    sums = sums.reset_index()
    sums["providers_100_20_sum"] = sums["area"].map(p100).fillna(0).to_numpy()
    report = start_report(str(paths) if isinstance(paths, str | os.PathLike | Path)
                          else ", ".join(map(str, paths)), kind="bdc_service_by_area")
    report["rows_read"] = int(checks.sum())
    count_reject(report, "unknown technology, bad block_geoid, missing or negative speed, or "
                 "low_latency not 0/1", int(checks.get(9, 0)))
    out = common.finish_area(sums, pairs.assign(_check=0), key=key)
    out = common.check_keys(out, key, level, report)
    common.note_split(report, int(split), level)
    common.note_rules(report, chosen)
    report.update(level=level, engine="dask")
    report["merged"] = max(0, report["rows_read"] - sum(report["rejected"].values()) - len(out))
    return attach_report(out, report)
