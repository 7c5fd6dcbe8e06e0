"""Benchmark data: illustrative BDC availability files in every layout a user may hold.

Shared by ``bdc_aggregation.py`` and ``bdc_engines.py``. The rows come from the seeded
generator ``scripts/make_synthetic_bdc.py`` (real BDC schema, Texas-like, ~93 bytes a row);
this module lays them out under ``benchmarks/_work/bdc_<rows>/`` (git-ignored):

* ``csv/``      one CSV per technology, as a release ships them (9 files);
* ``zip/``      the same, one zip per technology;
* ``parquet/``  :func:`assetmap.bdc_to_parquet` of the CSVs (one state, ordered);
* ``one_csv/``  one CSV of all technologies (the per-technology files concatenated);
* ``one_zip/``  that CSV zipped.
"""

from __future__ import annotations

import shutil
import sys
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / "_work"
ONE_NAME = "bdc_48_fixed_broadband_J25_illustrative"
# the layouts and the path (glob) aggregate_bdc is given for each, relative to the size folder
LAYOUTS = {
    "one_csv": f"one_csv/{ONE_NAME}.csv",
    "tech_csv": "csv/*.csv",
    "tech_zip": "zip/*.zip",
    "one_zip": f"one_zip/{ONE_NAME}.zip",
    "parquet": "parquet",
}


def generate(rows: int, out: Path, *, formats=("csv",), quiet: bool = True, **kwargs):
    """Write about ``rows`` rows under ``out`` (``scripts/make_synthetic_bdc.generate``)."""
    scripts = str(HERE.parent / "scripts")
    if scripts not in sys.path:
        sys.path.insert(0, scripts)
    from make_synthetic_bdc import generate as _generate

    return _generate(rows, out, formats=formats, quiet=quiet, **kwargs)


def data_dir(rows: int) -> Path:
    """The folder of one size (shared with ``bdc_aggregation.py``)."""
    return WORK / f"bdc_{rows}"


def ensure_layouts(rows: int, *, folder: Path | None = None) -> tuple[Path, str]:
    """Make every layout of ``rows`` rows that is missing; return the folder and a note."""
    data = folder or data_dir(rows)
    notes = []
    t0 = time.perf_counter()
    if not ((data / "csv").exists() and (data / "zip").exists()
            and (data / "parquet").exists()):
        generate(rows, data, formats=("csv", "zip", "parquet"))
        notes.append("per-technology CSVs, zips, Parquet")
    one_csv = data / LAYOUTS["one_csv"]
    if not one_csv.exists():
        one_csv.parent.mkdir(parents=True, exist_ok=True)
        tmp = one_csv.with_suffix(".tmp")
        with tmp.open("wb") as dst:
            for i, part in enumerate(sorted((data / "csv").glob("*.csv"))):
                with part.open("rb") as src:
                    if i:
                        src.readline()  # one header
                    shutil.copyfileobj(src, dst, 1 << 22)
        tmp.rename(one_csv)
        notes.append("one CSV")
    one_zip = data / LAYOUTS["one_zip"]
    if not one_zip.exists():
        one_zip.parent.mkdir(parents=True, exist_ok=True)
        tmp = one_zip.with_suffix(".tmp")
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
            zf.write(one_csv, arcname=one_csv.name)
        tmp.rename(one_zip)
        notes.append("one zip")
    note = (f"made {', '.join(notes)} in {time.perf_counter() - t0:.0f} s" if notes
            else "files already there")
    return data, note


def warm(data: Path) -> str:
    """Read every file under ``data`` once, so each runner finds them in the page cache.

    Without it the first runner of a size pays the disk reads of the files (e.g. 4.4 GB of
    CSV at 50 M rows) and the others do not.
    """
    t0 = time.perf_counter()
    total = 0
    for f in sorted(p for p in data.rglob("*") if p.is_file()):
        with f.open("rb") as handle:
            while chunk := handle.read(1 << 24):
                total += len(chunk)
    seconds = time.perf_counter() - t0
    return f"read {total / 1e9:.2f} GB of files into the page cache in {seconds:.1f} s"
