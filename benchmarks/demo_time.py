"""Benchmark: wall time of ``assetmap demo`` (Ector County, shipped data, no network).

Runs the installed command ``--runs`` times in each mode, in the same session:

* ``two processes``: the default (``ASSETMAP_OUTPUT_WORKERS=2``): a second process draws the
  print map and the report while the first writes the HTML map and the exports;
* ``one process``: ``ASSETMAP_OUTPUT_WORKERS=1``, everything in one process (the obvious
  alternative).

For each it prints the median and the best wall time, the CPU seconds (user + system of the
command and its children) and the peak RSS, then the time of each stage of one in-process run
(imports, loading, analysis, outputs). Figures depend on the machine and on what else runs on
it; the script prints the load average beside them.

Usage::

    python benchmarks/demo_time.py --runs 5
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMAND = Path(sys.executable).with_name("assetmap")

STAGES = """
import time, sys, warnings
start = time.perf_counter()
marks = []
def mark(name):
    marks.append((name, time.perf_counter()))
warnings.simplefilter("ignore")
from assetmap.pipeline import stages as _stages
from assetmap.datasets import load_demo
from assetmap.pipeline import demo_study
mark("import")
study = demo_study(sys.argv[1])
sources = load_demo(); mark("load")
results = study.analyse(sources); mark("analyse")
formats = study._formats(None)
_stages.write_outputs(results, sources, study.config, formats=formats,
                      out_dir=study.config.out_dir); mark("outputs (one process)")
last = start
for name, at in marks:
    print(f"{name},{at - last:.3f}")
    last = at
"""


def _run(mode_workers: int, out: Path) -> tuple[float, float, int]:
    env = dict(os.environ, ASSETMAP_OUTPUT_WORKERS=str(mode_workers), ASSETMAP_OFFLINE="1")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    subprocess.run([str(COMMAND), "demo", "--out", str(out), "-q"], env=env, check=True)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, after.ru_maxrss // 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="assetmap_demo_bench_"))
    try:
        subprocess.run([str(COMMAND), "demo", "--out", str(work / "warm"), "-q"], check=True)
        print(f"assetmap demo, {args.runs} runs per mode, {os.cpu_count()} cores, "
              f"load average {os.getloadavg()[0]:.2f} at start")
        print(f"{'mode':<16}{'median s':>10}{'best s':>9}{'CPU s':>8}{'peak RSS MB':>13}")
        medians = {}
        for label, workers in (("two processes", 2), ("one process", 1)):
            runs = [_run(workers, work / f"{workers}_{i}") for i in range(args.runs)]
            walls = [r[0] for r in runs]
            medians[label] = statistics.median(walls)
            print(f"{label:<16}{medians[label]:>10.2f}{min(walls):>9.2f}"
                  f"{statistics.median(r[1] for r in runs):>8.2f}{max(r[2] for r in runs):>13}")
        print(f"one process / two processes: "
              f"{medians['one process'] / medians['two processes']:.2f}x")
        print(f"load average {os.getloadavg()[0]:.2f} at end\n\nstages of one in-process run:")
        done = subprocess.run([sys.executable, "-c", STAGES, str(work / "stages")],
                              capture_output=True, text=True, check=True)
        for line in done.stdout.splitlines():
            name, seconds = line.split(",")
            print(f"  {name:<24}{float(seconds):>7.2f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
