"""Benchmark: assetmap's BDC engines against plain Polars and plain DuckDB, on every layout.

The targets of issue "The BDC core, rebuilt", item 4: ``aggregate_bdc`` >= 1.5x a plain
Polars lazy query on one CSV, per-technology CSVs, zips and ``bdc_to_parquet`` output; the
DuckDB engine >= 1x a plain DuckDB query; ``service_by_area(load_bdc(...))`` >= 0.4x Polars
on a state-sized CSV; peak RSS <= 2 GB at 50 M rows.

For each size (``--sizes``) the data (``_bdc_data.py``, seeded, real BDC schema) are laid out
under ``benchmarks/_work/`` (git-ignored) as one CSV, per-technology CSVs, per-technology
zips, one CSV zipped and ``bdc_to_parquet`` output, read once into the page cache, then every
runner runs in its own fresh process, as a user's script: imports first (their time is
reported, not counted), then the clock, the first call included (numba loads its compiled
kernels from its on-disk cache inside the call). Runners:

* ``numba``: ``aggregate_bdc(engine="numba")`` (if numba is installed); a state that falls
  back to DuckDB is flagged;
* ``duckdb``: ``aggregate_bdc(engine="duckdb")``;
* ``frame``: ``service_by_area(load_bdc(path))`` (one CSV, sizes <= ``--frame-max``, 20 M
  by default: the frame holds every residential row, ~160 bytes each, ~4 GB peak at 20 M);
* ``polars``: a plain Polars lazy query (below, ``POLARS``), the reference of every ratio;
* ``plain_duckdb``: the same query in plain DuckDB SQL (``PLAIN_DUCKDB``).

The plain queries compute per location its BEAD level under the default rules (reliable:
technology 10, 40, 50, 71, 72 with low_latency 1; served 100/20; underserved 25/3;
residential R or X), then counts per tract of locations, unserved, underserved and served;
``location_id`` is read as a 64-bit integer (as ``bdc_to_parquet`` stores it: less CPU than
text in both), Polars collects with its streaming engine (``--polars-engine``).
Zips are decompressed into memory by two threads, then given to the same query. Every
runner's per-tract counts are compared with Polars' on one CSV of the same size; a
difference is printed as MISMATCH. Before the sizes, each assetmap runner runs once on a
tiny copy of every layout (untimed) so that numba's cache is filled, as after an install.

Two things make single runs on a shared virtual machine wander by 20-40%, and both are
dealt with the same way for every runner:

* **memory the host has taken back.** On such a machine (a balloon device and DAMON
  reclaiming idle memory) a process's first touch of memory no process has used for some
  seconds costs about 2 s per GB, ten times the usual cost of a fresh page (about 0.2 s per
  GB, which every runner pays). So the runner that follows a large one ran on warm memory and
  the one that follows a pause did not. Before every timed run, a separate process touches
  ``--warm-gb`` GB (more than any runner's peak) and exits (:func:`warm_memory`); the runner
  then starts on memory in use a moment before, as on a machine that keeps its memory.
* **the other tenants.** ``--repeat`` runs every (layout, runner) pair that many times, the
  pairs taken in turn within each round; the tables give the median and the range.

Usage::

    python benchmarks/bdc_engines.py --sizes 5000000,20000000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bdc_data import LAYOUTS, WORK, ensure_layouts, warm

PY = sys.executable
SRC = Path(__file__).resolve().parents[1] / "src" / "assetmap" / "bdc"
OUT = WORK / "engines_out"
COUNTS = ["locations", "unserved", "underserved", "served"]

LIB_IMPORTS = """
import logging, duckdb, pyarrow, pyarrow.csv, pyarrow.compute, pyarrow.parquet
import assetmap as am
import assetmap.bdc.service, assetmap.bdc.read
"""
FAST_IMPORTS = """
import importlib, pkgutil, numba, assetmap.bdc.fast
for _m in pkgutil.iter_modules(assetmap.bdc.fast.__path__):
    importlib.import_module('assetmap.bdc.fast.' + _m.name)
class _Seen(logging.Handler):
    notes = []
    def emit(self, record):
        self.notes.append(record.getMessage())
_log = logging.getLogger('assetmap.bdc.fast')
_log.addHandler(_Seen())
_log.setLevel(logging.INFO)
"""
AGGREGATE = "out = am.aggregate_bdc(PATH, level='tract', engine=ENGINE)"
FRAME = "out = am.service_by_area(am.load_bdc(PATH), level='tract')"
UNZIP = """
def _unzip(p):
    with zipfile.ZipFile(p) as zf:
        return [zf.read(m) for m in zf.namelist() if m.lower().endswith('.csv')]
with ThreadPoolExecutor(2) as ex:
    blobs = [b for bs in ex.map(_unzip, sorted(glob.glob(PATH))) for b in bs]
"""
POOL = "from concurrent.futures import ThreadPoolExecutor\n"
POLARS_IMPORTS = "import glob, zipfile, polars as pl\n" + POOL
POLARS_SCHEMA = """
S = pl.String
schema = dict(frn=S, provider_id=S, brand_name=S, location_id=pl.Int64, technology=pl.Int16,
    max_advertised_download_speed=pl.Int32, max_advertised_upload_speed=pl.Int32,
    low_latency=pl.Int8, business_residential_code=S, state_usps=S, block_geoid=S, h3_res8_id=S)
"""
POLARS_SCAN = {
    "csv": "lf = pl.scan_csv(PATH, schema=schema)",
    "zip": UNZIP + "lf = pl.concat([pl.scan_csv(b, schema=schema) for b in blobs])",
    "parquet": "lf = pl.scan_parquet(PATH + '/**/*.parquet')",
}
POLARS = """
t, ll = pl.col('technology'), pl.col('low_latency')
d, u = pl.col('max_advertised_download_speed'), pl.col('max_advertised_upload_speed')
rel = t.is_in([10, 40, 50, 71, 72]) & (ll == 1)
loc = lf.filter(pl.col('business_residential_code').is_in(['R', 'X'])).group_by(
    'location_id').agg(GEOID=pl.col('block_geoid').first().str.slice(0, 11),
    s100=(rel & (d >= 100) & (u >= 20)).any(), s25=(rel & (d >= 25) & (u >= 3)).any())
s25, s100 = pl.col('s25'), pl.col('s100')
out = loc.group_by('GEOID').agg(locations=pl.len(), unserved=(~s25).sum(),
    underserved=(s25 & ~s100).sum(), served=s100.sum()).collect(engine=POLARS_ENGINE)
"""
DUCK_IMPORTS = "import glob, io, zipfile, duckdb\n" + POOL
DUCK_TYPES = """
V = 'VARCHAR'
types = dict(frn=V, provider_id=V, brand_name=V, location_id='BIGINT', technology='SMALLINT',
    max_advertised_download_speed='INTEGER', max_advertised_upload_speed='INTEGER',
    low_latency='TINYINT', business_residential_code=V, state_usps=V, block_geoid=V, h3_res8_id=V)
con = duckdb.connect()
"""
DUCK_SCAN = {
    "csv": "src = f\"read_csv('{PATH}', header=true, columns={types})\"",
    "zip": UNZIP + "rows = con.read_csv([io.BytesIO(b) for b in blobs], header=True, dtype=types)\n"
                   "src = 'rows'",
    "parquet": "src = f\"read_parquet('{PATH}/**/*.parquet')\"",
}
PLAIN_DUCKDB = """
out = con.sql(f'''
WITH loc AS (
  SELECT location_id, substr(any_value(block_geoid), 1, 11) AS GEOID,
    bool_or(rel AND d >= 100 AND u >= 20) AS s100, bool_or(rel AND d >= 25 AND u >= 3) AS s25
  FROM (SELECT location_id, block_geoid, business_residential_code,
      technology IN (10, 40, 50, 71, 72) AND low_latency = 1 AS rel,
      max_advertised_download_speed AS d, max_advertised_upload_speed AS u FROM {src})
  WHERE business_residential_code IN ('R', 'X')
  GROUP BY location_id)
SELECT GEOID, count(*) AS locations, count(*) FILTER (NOT s25) AS unserved,
  count(*) FILTER (s25 AND NOT s100) AS underserved, count(*) FILTER (s100) AS served
FROM loc GROUP BY GEOID''').df()
"""
CHILD = """
import time, json, resource
_ti = time.perf_counter()
{imports}
PATH, ENGINE, POLARS_ENGINE = {path!r}, {engine!r}, {polars_engine!r}
{setup}
import_s = time.perf_counter() - _ti
_c0 = resource.getrusage(resource.RUSAGE_SELF)
t0 = time.perf_counter()
{body}
seconds = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_SELF)
if hasattr(out, 'to_pandas'):
    out = out.to_pandas()
out[['GEOID', 'locations', 'unserved', 'underserved', 'served']].to_parquet({result!r})
notes = [n for n in globals().get('_Seen', type('', (), {{'notes': []}})).notes
         if 'DuckDB engine' in n]
print(json.dumps({{'seconds': seconds, 'import_s': import_s,
    'cpu_s': ru.ru_utime + ru.ru_stime - _c0.ru_utime - _c0.ru_stime,
    'rss_mb': ru.ru_maxrss / 1024, 'fallback': notes[:2]}}))
"""


WARM = "import numpy as np\nnp.ones({words}, dtype=np.int64)\n"


def warm_memory(gb: float) -> float:
    """Touch ``gb`` GB in a process of its own, which then exits; return the seconds.

    The next process is given pages that were in use a moment before (see the module
    docstring), not pages the host has to hand back first.
    """
    if gb <= 0:
        return 0.0
    t0 = time.perf_counter()
    subprocess.run([PY, "-c", WARM.format(words=int(gb * (1 << 27)))], check=True)
    return time.perf_counter() - t0


def kind(layout: str) -> str:
    return "parquet" if layout == "parquet" else layout.split("_")[1]


def child_code(runner: str, layout: str, path: str, result: Path, polars_engine: str) -> str:
    """The script of one fresh process: imports, then the timed call, then its counts saved."""
    imports, setup, body = LIB_IMPORTS, "", AGGREGATE
    if runner == "numba":
        imports += FAST_IMPORTS
    elif runner == "frame":
        body = FRAME
    elif runner == "polars":
        imports, setup = POLARS_IMPORTS, POLARS_SCHEMA
        body = POLARS_SCAN[kind(layout)] + "\n" + POLARS
    elif runner == "plain_duckdb":
        imports, setup = DUCK_IMPORTS, DUCK_TYPES
        body = DUCK_SCAN[kind(layout)] + "\n" + PLAIN_DUCKDB
    engine = runner if runner in ("numba", "duckdb") else ""
    return CHILD.format(imports=imports, path=path, engine=engine, setup=setup, body=body,
                        result=str(result), polars_engine=polars_engine)


def run(runner: str, layout: str, data: Path, *, polars_engine: str, tag: str,
        timeout: int, warm_gb: float = 0.0) -> dict:
    """Run one runner in a fresh process (after :func:`warm_memory`); return its figures."""
    OUT.mkdir(parents=True, exist_ok=True)
    result = OUT / f"{tag}_{layout}_{runner}.parquet"
    result.unlink(missing_ok=True)
    code = child_code(runner, layout, str(data / LAYOUTS[layout]), result, polars_engine)
    warm_memory(warm_gb)
    load = os.getloadavg()[0]
    try:
        proc = subprocess.run([PY, "-c", code], capture_output=True, text=True, check=False,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s", "load": load}
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        return {"error": lines[-1] if lines else "failed", "load": load}
    return json.loads(proc.stdout.strip().splitlines()[-1]) | {"load": load,
                                                                "result": str(result)}


def compare(res: dict, reference: dict) -> str:
    """'' when ``res``'s per-tract counts equal the reference's, else what differs."""
    import pandas as pd

    if "result" not in res or "result" not in reference:
        return "not compared"
    a = pd.read_parquet(res["result"]).set_index("GEOID").sort_index()
    b = pd.read_parquet(reference["result"]).set_index("GEOID").sort_index()
    if a.index.equals(b.index) and (a[COUNTS].astype("int64").values
                                    == b[COUNTS].astype("int64").values).all():
        return ""
    both = a.join(b, how="outer", lsuffix="", rsuffix="_ref").fillna(-1)
    diff = both[(both[COUNTS].values != both[[c + "_ref" for c in COUNTS]].values).any(axis=1)]
    return (f"MISMATCH: {len(diff)} of {len(both)} tracts differ (tracts {len(a)} vs "
            f"{len(b)}; totals {a[COUNTS].sum().tolist()} vs {b[COUNTS].sum().tolist()}); "
            f"first: {diff.head(2).to_dict('index')}")


def by_key(results: list[dict]) -> dict[tuple, dict]:
    return {(r["size"], r["layout"], r["runner"]): r for r in results}


def _bdc_stamp() -> float:
    return max((p.stat().st_mtime for p in SRC.rglob("*.py")), default=0.0)


def prime(runners: list[str], polars_engine: str) -> list[str]:
    """Run each assetmap runner on a tiny copy of every layout (fills numba's cache)."""
    tiny, _ = ensure_layouts(20_000, folder=WORK / "bdc_tiny_20000")
    lines = []
    for runner in (r for r in runners if r in ("numba", "duckdb")):
        for layout in LAYOUTS:
            r = run(runner, layout, tiny, polars_engine=polars_engine, tag="tiny", timeout=900)
            lines.append(f"prime {runner:<6} {layout:<9} "
                         + (f"{r['seconds']:.1f} s" if "seconds" in r else r["error"]))
    if "numba" in runners:  # tiny Parquet takes the NumPy path: compile the sorted kernel too
        t0 = time.perf_counter()
        done = subprocess.run([PY, "-c", PRIME_SORTED.format(path=str(tiny / "parquet"))],
                              capture_output=True, text=True, check=False)
        lines.append(f"prime numba  sorted kernel {time.perf_counter() - t0:.1f} s"
                     + ("" if done.returncode == 0 else f" ({done.stderr.strip()[-200:]})"))
    return lines


PRIME_SORTED = """
import assetmap as am, assetmap.bdc.fast.sorted_files as sorted_files
sorted_files.NUMPY_MAX_ROWS = 0  # untimed: only to compile the kernel of larger states
am.aggregate_bdc({path!r}, level='tract', engine='numba')
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="5000000,20000000")
    parser.add_argument("--layouts", default=",".join(LAYOUTS))
    parser.add_argument("--runners", default="polars,plain_duckdb,numba,duckdb,frame")
    parser.add_argument("--frame-max", type=int, default=20_000_000)
    parser.add_argument("--polars-engine", default="streaming", help="collect(engine=...)")
    parser.add_argument("--timeout", type=int, default=1800)
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs of each (layout, runner); the tables give the median")
    parser.add_argument("--warm-gb", type=float, default=8.0,
                        help="GB touched before each timed run (0: none; see the docstring)")
    parser.add_argument("--no-append", action="store_true", help="do not append RESULTS.md")
    args = parser.parse_args()
    import importlib.util

    runners = [r for r in args.runners.split(",")
               if r != "numba" or importlib.util.find_spec("numba")]
    started = time.strftime("%Y-%m-%d %H:%M")
    head = [(f"{started} on {platform.node()} ({platform.machine()}, {os.cpu_count()} cores, "
             f"shared), Python {platform.python_version()}, {_versions()}"),
            f"uptime before: {_uptime()}",
            (f"each (layout, runner) run {args.repeat} time(s), {args.warm_gb:g} GB of "
             "memory touched before each run")]
    print(*head, sep="\n", flush=True)
    for line in prime(runners, args.polars_engine):
        print(line, flush=True)
    stamp = _bdc_stamp()
    results: list[dict] = []
    for size in (int(s) for s in args.sizes.split(",")):
        data, note = ensure_layouts(size)
        print(f"{size:,}: {note}; {warm(data)}", flush=True)
        for rep in range(args.repeat):
            for layout in args.layouts.split(","):
                for runner in runners:
                    if runner == "frame" and (layout != "one_csv" or size > args.frame_max):
                        continue
                    if runner in ("numba", "duckdb") and _bdc_stamp() != stamp:
                        print("  library changed under src/assetmap/bdc: priming again",
                              flush=True)
                        prime([runner], args.polars_engine)
                        stamp = _bdc_stamp()
                    res = run(runner, layout, data, polars_engine=args.polars_engine,
                              tag=f"{size}_{rep}", timeout=args.timeout, warm_gb=args.warm_gb)
                    res.update(size=size, layout=layout, runner=runner, rep=rep)
                    if _bdc_stamp() != stamp and runner in ("numba", "duckdb", "frame"):
                        res["changed"] = True
                    results.append(res)
                    print(_line(res), flush=True)
        # every run against Polars' first run on one CSV of the same size
        ref = next((r for r in results if (r["size"], r["layout"], r["runner"], r["rep"])
                    == (size, "one_csv", "polars", 0)), {})
        for r in (r for r in results if r["size"] == size and r is not ref):
            r["check"] = compare(r, ref)
            if r["check"].startswith("MISMATCH"):
                print(f"!!! {size:,} {r['layout']} {r['runner']}: {r['check']}", flush=True)
        (WORK / "engines_results.json").write_text(json.dumps(results, indent=1))
    head.append(f"uptime after: {_uptime()}")
    text = report(summarised(results), head)
    print("\n" + text)
    if not args.no_append:
        with (Path(__file__).resolve().parent / "RESULTS.md").open("a") as fh:
            fh.write(f"\n## bdc_engines.py: engines x layouts vs plain Polars and DuckDB "
                     f"({started})\n\n{text}\n")


def _versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for name in ("polars", "duckdb", "numba", "pyarrow", "pandas"):
        try:
            out.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            out.append(f"{name} absent")
    return ", ".join(out)


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def _line(r: dict) -> str:
    what = f"{r['size']:>11,} {r['layout']:<9} {r['runner']:<13}"
    if "seconds" not in r:
        return f"{what} {r['error']}"
    return (f"{what} {r['seconds']:7.2f} s  {r['size'] / r['seconds'] / 1e6:6.2f} M rows/s  "
            f"CPU {r['cpu_s']:6.1f} s  RSS {r['rss_mb']:5.0f} MB  imports {r['import_s']:.1f} s"
            f"  load {r['load']:.1f}" + ("  FELL BACK TO DUCKDB" if r.get("fallback") else ""))


def summarised(results: list[dict]) -> list[dict]:
    """One figure per (size, layout, runner): the median of its runs, and their range.

    Seconds, CPU and import seconds are medians; the peak RSS is the largest; the counts
    are MISMATCH if any run's were.
    """
    import statistics

    groups: dict[tuple, list[dict]] = {}
    for r in results:
        groups.setdefault((r["size"], r["layout"], r["runner"]), []).append(r)
    out = []
    for runs in groups.values():
        done = [r for r in runs if "seconds" in r]
        if not done:
            out.append(runs[0])
            continue
        seconds = [r["seconds"] for r in done]
        checks = [r.get("check") for r in done if "check" in r]
        bad = [c for c in checks if c and c.startswith("MISMATCH")]
        row = dict(done[0], seconds=statistics.median(seconds), low=min(seconds),
                   high=max(seconds), runs=len(done), failed=len(runs) - len(done),
                   cpu_s=statistics.median(r["cpu_s"] for r in done),
                   import_s=statistics.median(r["import_s"] for r in done),
                   rss_mb=max(r["rss_mb"] for r in done),
                   load=statistics.mean(r["load"] for r in done),
                   fallback=[f for r in done for f in r.get("fallback", [])],
                   changed=any(r.get("changed") for r in done))
        if checks:
            row["check"] = bad[0] if bad else next((c for c in checks if c), "")
        out.append(row)
    return out


def report(results: list[dict], head: list[str]) -> str:
    """The Markdown table (ratios: the reference's seconds / the run's) and the targets."""
    by = by_key(results)
    lines = [*(f"{h}  " for h in head), "",
             ("| rows | layout | runner | seconds (median) | range s | M rows/s | CPU s "
              "| vs Polars | vs plain DuckDB | CPU vs Polars | peak RSS MB | imports s | load "
              "| counts |"),
             "|---:|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    targets = []
    for r in results:
        cell = f"| {r['size']:,} | {r['layout']} | {r['runner']} "
        if "seconds" not in r:
            lines.append(cell + f"| - | - | - | - | - | - | - | - | - | {r['load']:.1f} | "
                         f"{r['error'][:80]} |")
            continue
        pol = by.get((r["size"], r["layout"], "polars"), {}).get("seconds")
        pol_cpu = by.get((r["size"], r["layout"], "polars"), {}).get("cpu_s")
        duck = by.get((r["size"], r["layout"], "plain_duckdb"), {}).get("seconds")
        vs_pol, vs_duck = (pol / r["seconds"] if pol else None,
                           duck / r["seconds"] if duck else None)
        check = r.get("check", "reference" if r["runner"] == "polars" else "not compared")
        check = "same" if check == "" else ("MISMATCH" if check.startswith("MISMATCH") else check)
        flags = (" (fell back to DuckDB)" if r.get("fallback") else "") + (
            " (library changed)" if r.get("changed") else "")
        spread = (f"{r['low']:.2f}-{r['high']:.2f} ({r['runs']} runs"
                  + (f", {r['failed']} failed" if r.get("failed") else "") + ")"
                  if "low" in r else "1 run")
        lines.append(cell + f"| {r['seconds']:.2f} | {spread} | "
                     f"{r['size'] / r['seconds'] / 1e6:.2f} | "
                     f"{r['cpu_s']:.1f} | {_x(vs_pol)} | {_x(vs_duck)} | "
                     f"{_x(pol_cpu / r['cpu_s'] if pol_cpu and r['cpu_s'] else None)} | "
                     f"{r['rss_mb']:.0f} | "
                     f"{r['import_s']:.1f} | {r['load']:.1f} | {check}{flags} |")
        goal = {"numba": (vs_pol, 1.5, "Polars"), "duckdb": (vs_duck, 1.0, "plain DuckDB"),
                "frame": (vs_pol, 0.4, "Polars")}.get(r["runner"])
        if goal and goal[0] is not None:
            ok = "met" if goal[0] >= goal[1] else "MISSED"
            targets.append(f"- {r['size']:,} {r['layout']} {r['runner']}: {goal[0]:.2f}x "
                           f"{goal[2]} (target >= {goal[1]}x): {ok}")
    rss = max((r["rss_mb"] for r in results if r["runner"] in ("numba", "duckdb")
               and "rss_mb" in r), default=0)
    targets.append(f"- peak RSS of aggregate_bdc: {rss:.0f} MB at "
                   f"{max(r['size'] for r in results):,} rows (target <= 2 GB at 50 M)")
    targets += [f"- peak RSS of the notebook path at {r['size']:,} rows: {r['rss_mb']:.0f} MB "
                "(the frame of load_bdc holds every selected row; no target)"
                for r in results if r["runner"] == "frame" and "rss_mb" in r]
    return "\n".join([*lines, "", "Targets:", "", *targets])


def _x(v: float | None) -> str:
    return f"{v:.2f}x" if v is not None else "-"


if __name__ == "__main__":
    main()
