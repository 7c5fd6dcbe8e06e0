"""Several ACS table downloads of a study (``[census] acs = [...]``) as one table by tract.

Offline, a study gives the tables it downloaded from data.census.gov one file each (internet
B28002, computers B28001, income B19001, poverty B17001, ...). Each is read with
:func:`assetmap.read_acs_csv` and the frames are joined column-wise by ``GEOID``:

* a column in two files must hold the same values on the tracts both have, else the study
  stops with an error naming the column and both files;
* ``households`` comes from B28002 when a file has it (as :func:`~assetmap.load_acs` does),
  so the B19001 total of an income file does not conflict with it;
* tracts missing from a file are counted and warned about (their columns from that file stay
  empty, and the scores flag the inputs as missing).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from assetmap._report import attach_report, get_report, start_report
from assetmap.errors import AssetmapWarning, SchemaError

__all__ = ["read_acs_files"]

_HOUSEHOLDS = ("households", "households_moe", "households_cv")
_TEXT = ("NAME",)  # the same tract may be named differently across vintages: first file wins


def _same(left: pd.Series, right: pd.Series) -> pd.Series:
    """Element-wise: both missing, or equal (numbers within floating-point noise)."""
    both_na = left.isna() & right.isna()
    a = pd.to_numeric(left, errors="coerce")
    b = pd.to_numeric(right, errors="coerce")
    if a.notna().sum() == left.notna().sum() and b.notna().sum() == right.notna().sum():
        close = np.isclose(a.to_numpy(float), b.to_numpy(float), rtol=1e-9, atol=1e-9)
        return both_na | pd.Series(close, index=left.index)
    return both_na | (left.astype("string") == right.astype("string")).fillna(False)


def read_acs_files(files: Sequence[str | Path], *, year: int | None = None) -> pd.DataFrame:
    r"""Read ACS table files and join them column-wise by tract.

    Parameters
    ----------
    files : sequence of str or path-like
        data.census.gov table downloads (``...-Data.csv``), one table (or several) each.
    year : int, optional
        Last year of the 5-year period, for files whose names do not say it.

    Returns
    -------
    pandas.DataFrame
        One row per GEOID of any file, the columns of every file; the report merges the
        files' sources, vintages and notes, and counts the tracts missing from each file.

    Raises
    ------
    SchemaError
        If a column is in two files with different values (names the column and the files).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> head = '"GEO_ID","NAME",'
    >>> _ = (d / "ACSDT5Y2023.B28001-Data.csv").write_text(
    ...     head + '"B28001_001E","B28001_011E"\n'
    ...     '"1400000US48135000100","Tract 1","100","25"\n')
    >>> _ = (d / "ACSDT5Y2023.B17001-Data.csv").write_text(
    ...     head + '"B17001_001E","B17001_002E"\n'
    ...     '"1400000US48135000100","Tract 1","300","60"\n')
    >>> acs = read_acs_files(sorted(d.glob("*.csv")))
    >>> acs[["GEOID", "no_computer_share", "poverty_share"]].values.tolist()
    [['48135000100', 0.25, 0.2]]
    """
    from assetmap.loaders.acs import read_acs_csv

    names = [str(f) for f in files]
    if not names:
        raise SchemaError("no ACS files given")
    frames = [read_acs_csv(f, year=year) for f in names]
    if len(frames) == 1:
        return frames[0]
    notes: list[str] = []
    if any("B28002_001E" in f for f in frames):
        for i, frame in enumerate(frames):
            if "B28002_001E" not in frame and "households" in frame:
                frames[i] = frame.drop(columns=[c for c in _HOUSEHOLDS if c in frame])
                notes.append(f"{names[i]}: households taken from B28002 (another file), not "
                             "from this file's B19001 total")
    combined = frames[0]
    owner = dict.fromkeys(combined.columns, names[0])
    for name, frame in zip(names[1:], frames[1:], strict=True):
        shared = [c for c in frame.columns if c != "GEOID" and c in combined.columns]
        merged = combined.merge(frame, on="GEOID", how="outer", suffixes=("", "__new"),
                                validate="one_to_one")
        both = merged["GEOID"].isin(combined["GEOID"]) & merged["GEOID"].isin(frame["GEOID"])
        for column in shared:
            new = f"{column}__new"
            if column not in _TEXT:
                differs = ~_same(merged.loc[both, column], merged.loc[both, new])
                if differs.any():
                    first = merged.loc[both, "GEOID"][differs].iloc[0]
                    raise SchemaError(
                        f"ACS column {column!r} is in {owner[column]} and {name} with different "
                        f"values ({int(differs.sum())} tract(s), first {first}); give each "
                        "table once, or files of the same ACS period")
            merged[column] = merged[column].where(merged[column].notna(), merged[new])
            merged = merged.drop(columns=new)
        owner.update({c: name for c in frame.columns if c not in owner})
        combined = merged
    report = start_report("; ".join(names), kind="acs", rows_read=len(combined))
    all_ids = set(combined["GEOID"])
    for name, frame in zip(names, frames, strict=True):
        part = get_report(frame)
        report["vintages"].update(part.get("vintages", {}))
        report["sources"].extend(s for s in part.get("sources", [])
                                 if s not in report["sources"])
        report["notes"].extend(f"{name}: {n}" for n in part.get("notes", []))
        for reason, count in part.get("repaired", {}).items():
            report["repaired"][f"{name}: {reason}"] = count
        missing = len(all_ids - set(frame["GEOID"]))
        if missing:
            text = (f"{name}: no row for {missing} of {len(all_ids)} tracts in the other ACS "
                    "files; their columns from this file are missing")
            report["notes"].append(text)
            warnings.warn(text, AssetmapWarning, stacklevel=2)
    report["notes"].extend(notes)
    report["acs_files"] = names
    out = combined.sort_values("GEOID").reset_index(drop=True)
    return attach_report(out, report)
