"""Benchmark: wall time of ``assetmap demo`` (Ector County, shipped data, no network).

Each run is a fresh process, ``python -m assetmap demo --out <tmp> -q``, with
``ASSETMAP_OFFLINE=1``. For each version timed it prints the median and best wall time, the
median CPU seconds (user + system of the process and anything it waited for) and the peak
RSS. One warm-up run of each version comes first and is not counted.

With ``--ref REF`` the code of a git commit runs side by side with this checkout, the runs
interleaved (the order swapped every round) so that both see the same load on the machine:
``git archive REF src data`` is unpacked into a temporary folder (nothing in the repository
changes) and run with ``PYTHONPATH=<folder>/src``; this checkout runs with
``PYTHONPATH=<repo>/src``, so both use this interpreter and its installed libraries.
Figures depend on the machine and on what else runs on it; the load average is printed
beside them.

Usage::

    python benchmarks/demo_time.py --runs 5
    python benchmarks/demo_time.py --runs 5 --ref b7f2dbe
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Run:
    """One timed ``assetmap demo``: wall and CPU seconds, peak RSS in MB."""

    wall: float
    cpu: float
    rss_mb: int


def checkout(ref: str, into: Path) -> Path:
    """Unpack ``src/`` and ``data/`` of a git commit into ``into``; return its ``src`` folder."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", ref,
                              "src", "data"], capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def time_demo(src: Path, out: Path) -> Run:
    """Run ``assetmap demo`` from ``src`` in a fresh process and time it."""
    env = dict(os.environ, ASSETMAP_OFFLINE="1", PYTHONPATH=str(src))
    env.pop("ASSETMAP_OUTPUT_WORKERS", None)  # each version runs with its defaults
    began = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "assetmap", "demo", "--out", str(out),
                                "-q"], env=env)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - began
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"assetmap demo from {src} failed (exit {process.returncode})")
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024)


def _line(label: str, runs: list[Run]) -> str:
    walls = [r.wall for r in runs]
    return (f"{label:<28}{statistics.median(walls):>10.2f}{min(walls):>9.2f}"
            f"{statistics.median(r.cpu for r in runs):>8.2f}{max(r.rss_mb for r in runs):>13}"
            f"   {' '.join(f'{w:.2f}' for w in walls)}")


def main() -> None:
    """Time the demo (and the demo of ``--ref``, interleaved) and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per version")
    parser.add_argument("--ref", help="a git commit to time side by side with this checkout")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="assetmap_demo_bench_"))
    try:
        versions = {"this checkout": REPO / "src"}
        if args.ref:
            versions = {f"{args.ref}": checkout(args.ref, work / "before"), **versions}
        for label, src in versions.items():  # warm-up: byte-compiles, fills the page cache
            time_demo(src, work / f"warm_{label.replace(' ', '_')}")
        print(f"assetmap demo, {args.runs} runs per version, {os.cpu_count()} cores, "
              f"load average {os.getloadavg()[0]:.2f} at start")
        runs: dict[str, list[Run]] = {label: [] for label in versions}
        for i in range(args.runs):
            order = list(versions) if i % 2 == 0 else list(reversed(versions))
            for label in order:
                runs[label].append(time_demo(versions[label], work / f"{i}_{len(runs[label])}"
                                             f"_{label.replace(' ', '_')}"))
        print(f"{'version':<28}{'median s':>10}{'best s':>9}{'CPU s':>8}{'peak RSS MB':>13}"
              f"   wall of each run")
        for label, timed in runs.items():
            print(_line(label, timed))
        if args.ref:
            before = statistics.median(r.wall for r in runs[args.ref])
            after = statistics.median(r.wall for r in runs["this checkout"])
            print(f"this checkout / {args.ref}: {after / before:.2f}x (median wall)")
        print(f"load average {os.getloadavg()[0]:.2f} at end")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
