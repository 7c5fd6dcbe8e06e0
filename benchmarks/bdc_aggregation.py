"""Benchmark: BDC availability -> tract service levels, at 1 M, 10 M and 50 M rows.

For each size it generates (once, seeded) illustrative files in the real BDC schema under
``benchmarks/_work/`` (git-ignored): one CSV per technology, the same zipped, and a Parquet
directory, then reads them all once so that every runner finds them in the page cache. Each
measurement runs in its own subprocess (peak RSS from RUSAGE_CHILDREN):

* assetmap ``aggregate_bdc(level="tract")`` from CSV, from zip and from Parquet, with the fast
  engine (``engine="numba"``: ``fast_*``) and with DuckDB (``duckdb_*``);
* the same aggregation in Polars (lazy, streaming engine), to choose the engine;
* plain pandas ``read_csv`` + ``groupby`` (skipped above ``--pandas-max`` rows: it holds all
  rows in memory);
* raw limits: read the CSV files and count newlines in Python; pyarrow.csv full-string parse.

Before the sizes it measures the fast engine's numba compile time: a first run with an empty
cache (``NUMBA_CACHE_DIR`` in a temporary folder) and a second run that loads the cache.

Usage::

    python benchmarks/bdc_aggregation.py --sizes 1000000,10000000,50000000
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
from _bdc_data import WORK, generate, warm  # the data shared with bdc_engines.py

PY = sys.executable

ASSETMAP = """
import assetmap as am
import assetmap.bdc.service
{imports}out = am.aggregate_bdc(r'{{d}}/{path}', level='tract', engine='{engine}')
rows = out.attrs['assetmap']['rows_read']
"""
# numba and the kernels' modules are imported before the clock, as every runner's libraries
# are; loading the compiled kernels from numba's cache (~1 s) is timed (see compile_times)
FAST_IMPORTS = ("import assetmap.bdc.fast.engine, assetmap.bdc.fast.parse\n"
                "import assetmap.bdc.fast.columns, assetmap.bdc.fast.csv_parser\n")
RUNNERS = {
    **{f"fast_{kind}": ASSETMAP.format(path=path, engine="numba", imports=FAST_IMPORTS)
       for kind, path in (("csv", "csv/*.csv"), ("zip", "zip/*.zip"), ("parquet", "parquet"))},
    **{f"duckdb_{kind}": ASSETMAP.format(path=path, engine="duckdb", imports="")
       for kind, path in (("csv", "csv/*.csv"), ("zip", "zip/*.zip"), ("parquet", "parquet"))},
    "polars_csv": """
import polars as pl
S = pl.String
schema = dict(frn=S, provider_id=S, brand_name=S, location_id=S, technology=pl.Int16,
    max_advertised_download_speed=pl.Int32, max_advertised_upload_speed=pl.Int32,
    low_latency=pl.Int8, business_residential_code=S, state_usps=S, block_geoid=S, h3_res8_id=S)
lf = pl.scan_csv(r'{d}/csv/*.csv', schema=schema).filter(
    pl.col('business_residential_code').is_in(['R', 'X']))
t = pl.col('technology'); d = pl.col('max_advertised_download_speed')
u = pl.col('max_advertised_upload_speed')
rel = t.is_in([10, 40, 50, 71, 72]) & (pl.col('low_latency') == 1)
q100 = rel & (d >= 100) & (u >= 20)
lf = lf.with_columns(area=pl.col('block_geoid').str.slice(0, 11),
    s25=rel & (d >= 25) & (u >= 3), s100=q100, fib=t == 50,
    p100=pl.when(q100).then(pl.col('provider_id')))
loc = lf.group_by('location_id').agg(pl.col('area').first(), pl.col('s25').any(),
    pl.col('s100').any(), pl.col('fib').any(), pl.col('p100').drop_nulls().n_unique())
area = loc.group_by('area').agg(pl.len().alias('locations'),
    (~pl.col('s25')).sum().alias('unserved'), pl.col('s100').sum().alias('served'),
    pl.col('fib').sum().alias('fiber'), pl.col('p100').mean())
prov = lf.select('area', 'provider_id').unique().group_by('area').len()
res = pl.collect_all([area, prov, lf.select(pl.len())], engine='streaming')
rows = res[2].item()
""",
    "pandas_csv": """
import glob, pandas as pd
S = 'str'
dt = dict(frn=S, provider_id=S, brand_name=S, location_id=S, technology='int16',
    max_advertised_download_speed='int32', max_advertised_upload_speed='int32',
    low_latency='int8', business_residential_code=S, state_usps=S, block_geoid=S, h3_res8_id=S)
df = pd.concat([pd.read_csv(f, dtype=dt) for f in sorted(glob.glob(r'{d}/csv/*.csv'))],
    ignore_index=True)
rows = len(df)
df = df[df.business_residential_code.isin(['R', 'X'])]
rel = df.technology.isin([10, 40, 50, 71, 72]) & (df.low_latency == 1)
d, u = df.max_advertised_download_speed, df.max_advertised_upload_speed
df = df.assign(area=df.block_geoid.str[:11], s25=rel & (d >= 25) & (u >= 3),
    s100=rel & (d >= 100) & (u >= 20), fib=df.technology == 50)
loc = df.groupby('location_id').agg(area=('area', 'first'), s25=('s25', 'max'),
    s100=('s100', 'max'), fib=('fib', 'max'))
p100 = df[df.s100].groupby('location_id').provider_id.nunique()
loc['p100'] = p100.reindex(loc.index).fillna(0)
area = loc.groupby('area').agg(locations=('s25', 'size'), served=('s100', 'sum'),
    fiber=('fib', 'sum'), p100=('p100', 'mean'))
prov = df.groupby('area').provider_id.nunique()
""",
    "raw_count_newlines": """
import glob
rows = -len(glob.glob(r'{d}/csv/*.csv'))
for f in glob.glob(r'{d}/csv/*.csv'):
    with open(f, 'rb') as fh:
        while chunk := fh.read(1 << 24):
            rows += chunk.count(b'\\n')
""",
    "raw_pyarrow_parse": """
import glob, pyarrow as pa, pyarrow.csv as pc
cols = ['frn', 'provider_id', 'brand_name', 'location_id', 'technology',
    'max_advertised_download_speed', 'max_advertised_upload_speed', 'low_latency',
    'business_residential_code', 'state_usps', 'block_geoid', 'h3_res8_id']
rows = 0
opts = pc.ConvertOptions(column_types={{c: pa.string() for c in cols}})
for f in glob.glob(r'{d}/csv/*.csv'):
    with pc.open_csv(f, convert_options=opts) as reader:
        for batch in reader:
            rows += batch.num_rows
""",
}


def run(name: str, data: Path) -> dict:
    # the child reports its own peak RSS (getrusage RUSAGE_SELF, includes native memory)
    body = RUNNERS[name].format(d=data).strip().splitlines()
    # imports are not timed (about a second on a busy machine; assetmap imports its modules
    # lazily, so the runner imports the one it calls); everything after them is
    head = [ln for ln in body if ln.startswith("import ")]
    rest = [ln for ln in body if not ln.startswith("import ")]
    code = ("import time, json, resource\n" + "\n".join(head)
            + "\nt0 = time.perf_counter()\nru0 = resource.getrusage(resource.RUSAGE_SELF)"
            + "\ncpu0 = ru0.ru_utime + ru0.ru_stime\n" + "\n".join(rest)
            + "\nru = resource.getrusage(resource.RUSAGE_SELF)"
            + "\nprint(json.dumps({'rows': int(rows), 'seconds': time.perf_counter() - t0, "
            "'cpu_s': ru.ru_utime + ru.ru_stime - cpu0, 'rss_mb': ru.ru_maxrss / 1024}))\n")
    load = os.getloadavg()[0]
    proc = subprocess.run([PY, "-c", code], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed"}
    return json.loads(proc.stdout.strip().splitlines()[-1]) | {"load": load}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000000,10000000,50000000")
    parser.add_argument("--pandas-max", type=int, default=10_000_000)
    parser.add_argument("--only", default="", help="comma-separated runner names")
    parser.add_argument("--json", type=Path, default=WORK / "results.json")
    args = parser.parse_args()
    print(f"# {time.strftime('%Y-%m-%d %H:%M')} on {platform.node()} "
          f"({platform.processor() or platform.machine()}, {_cores()} cores, shared)")
    results = []
    names = [n for n in RUNNERS if not args.only or n in args.only.split(",")]
    if not args.only or "compile" in args.only.split(","):
        for line in compile_times():
            print(line, flush=True)
    for size in (int(s) for s in args.sizes.split(",")):
        data = WORK / f"bdc_{size}"
        if not (data / "parquet").exists():
            t0 = time.perf_counter()
            generate(size, data, formats=("csv", "zip", "parquet"), quiet=True)
            print(f"generated {size:,} rows in {time.perf_counter() - t0:.0f} s", flush=True)
        csv_mb = sum(p.stat().st_size for p in (data / "csv").glob("*.csv")) / 1e6
        print(f"{size:,}: {warm(data)}", flush=True)
        for name in names:
            if name == "pandas_csv" and size > args.pandas_max:
                res = {"skipped": f"not run above {args.pandas_max:,} rows: pandas holds "
                       f"every row in memory (~{csv_mb * 2.5 / 1000:.0f} GB at this size)"}
            else:
                res = run(name, data)
            res.update(size=size, name=name, csv_mb=csv_mb)
            if "seconds" in res:
                # rate over the rows in the files (all codes), the same for every run
                res["rows_per_s"] = size / res["seconds"]
            results.append(res)
            print(_line(res), flush=True)
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(results, indent=1))
    print()
    print(table(results))


def compile_times() -> list[str]:
    """Time the fast engine on a one-line file: empty numba cache, then the cache loaded."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="bdc_compile_"))
    csv = folder / "bdc_48_x.csv"
    csv.write_text("frn,provider_id,brand_name,location_id,technology,"
                   "max_advertised_download_speed,max_advertised_upload_speed,low_latency,"
                   "business_residential_code,state_usps,block_geoid,h3_res8_id\n"
                   "0001234567,130001,A,1000000001,50,1000,1000,1,R,TX,481350001001000,"
                   "8848a2d8c9fffff\n")
    code = ("import time, resource, assetmap as am, assetmap.bdc.service\n"
            "t0 = time.perf_counter(); c0 = resource.getrusage(resource.RUSAGE_SELF)\n"
            f"am.aggregate_bdc(r'{csv}', engine='numba')\n"
            "c = resource.getrusage(resource.RUSAGE_SELF)\n"
            "print(time.perf_counter() - t0, c.ru_utime + c.ru_stime - c0.ru_utime - c0.ru_stime)")
    env = dict(os.environ, NUMBA_CACHE_DIR=str(folder / "numba_cache"))
    lines = []
    for what in ("first run (compiles, empty cache)", "second run (loads the cache)"):
        proc = subprocess.run([PY, "-c", code], capture_output=True, text=True, env=env,
                              check=False)
        if proc.returncode:
            lines.append(f"numba {what}: failed ({proc.stderr.strip().splitlines()[-1:]})")
            continue
        wall, cpu = map(float, proc.stdout.split())
        lines.append(f"numba {what}: {wall:.1f} s wall, {cpu:.1f} s CPU")
    return lines


def _cores() -> int:
    return os.cpu_count() or 0


def _line(r: dict) -> str:
    if "seconds" not in r:
        return f"{r['size']:>11,} {r['name']:<20} {r.get('error') or r.get('skipped')}"
    rss = f"{r['rss_mb']:.0f}"
    return (f"{r['size']:>11,} {r['name']:<20} {r['seconds']:8.2f} s "
            f"{r['rows_per_s'] / 1e6:7.2f} M rows/s  CPU {r['cpu_s']:6.1f} s  "
            f"peak RSS {rss} MB  load {r['load']:.1f}")


def table(results: list[dict]) -> str:
    """A Markdown table with ratios to the raw limits and to pandas."""
    lines = [("| rows | run | seconds | M rows/s | CPU s | M rows/CPU-s | peak RSS MB | load "
              "| vs newline count | vs pandas | vs pyarrow parse | vs DuckDB |"),
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    by = {(r["size"], r["name"]): r for r in results}
    for r in results:
        if "seconds" not in r:
            lines.append(f"| {r['size']:,} | {r['name']} | - | - | - | - | - | - | - | - | - | "
                         f"{r.get('skipped') or r.get('error')} |")
            continue
        raw = by.get((r["size"], "raw_count_newlines"), {}).get("rows_per_s")
        pds = by.get((r["size"], "pandas_csv"), {}).get("rows_per_s")
        pya = by.get((r["size"], "raw_pyarrow_parse"), {}).get("rows_per_s")
        rss = f"{r['rss_mb']:.0f}"
        vs_raw = f"{r['rows_per_s'] / raw:.0%}" if raw else "-"
        vs_pd = f"{r['rows_per_s'] / pds:.1f}x" if pds else "-"
        vs_pa = f"{r['rows_per_s'] / pya:.1f}x" if pya else "-"
        kind = r["name"].rsplit("_", 1)[-1]
        duck = by.get((r["size"], f"duckdb_{kind}"), {}).get("rows_per_s")
        vs_db = f"{r['rows_per_s'] / duck:.1f}x" if duck and r["name"].startswith("fast") else "-"
        per_cpu = r["size"] / r["cpu_s"] / 1e6 if r.get("cpu_s") else 0
        lines.append(
            f"| {r['size']:,} | {r['name']} | {r['seconds']:.2f} | {r['rows_per_s'] / 1e6:.2f} "
            f"| {r['cpu_s']:.1f} | {per_cpu:.2f} | {rss} | {r['load']:.1f} | {vs_raw} | {vs_pd} "
            f"| {vs_pa} | {vs_db} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
