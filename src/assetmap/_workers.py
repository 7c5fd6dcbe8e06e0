"""A second process that draws the print map and writes the report while the first goes on.

Drawing a 300 dpi print map and its PDF, then the report that embeds it, is CPU work that
needs nothing from the HTML map or the exports. With two or more cores a study run starts one
worker process (``spawn``, so it is safe on every platform and inside Jupyter) before it loads
its sources: the worker imports matplotlib and the report writer while the main process loads
and scores, then draws while the main process writes the HTML map and the exports.

``settings.output_workers = 1`` (or ``ASSETMAP_OUTPUT_WORKERS=1``) writes everything in one
process. Warnings raised in the worker are raised again in the main process, and an error
there is raised in the main process as it was.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import warnings
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

__all__ = ["DRAWN_FORMATS", "OutputWorker", "collect", "output_worker", "write_drawn"]

#: Output formats the worker writes: the print map and the report.
DRAWN_FORMATS = frozenset({"png", "pdf", "svg", "report", "markdown"})


def _warm_up() -> int:
    """Import what drawing needs, so the first real task starts at once."""
    import assetmap.outputs.report
    import assetmap.outputs.static  # noqa: F401

    return os.getpid()


class OutputWorker:
    """One worker process for :func:`write_drawn` (see the module docstring)."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._pool = ProcessPoolExecutor(max_workers=1, mp_context=context)
        self._warm = self._pool.submit(_warm_up)

    def submit(self, **job: Any) -> Future:
        """Queue one :func:`write_drawn` call (keyword arguments as that function's)."""
        return self._pool.submit(_run_job, job)

    def close(self) -> None:
        """Stop the worker (pending jobs are cancelled)."""
        self._pool.shutdown(wait=True, cancel_futures=True)


@contextlib.contextmanager
def output_worker(formats: tuple[str, ...] | list[str]) -> Iterator[OutputWorker | None]:
    """Yield a started :class:`OutputWorker`, or None when one process is better.

    None when ``settings.output_workers`` is 1, when the machine has one core, or when no
    drawn format (print map, report) is asked for.

    Examples
    --------
    >>> with output_worker(("html", "csv")) as worker:
    ...     worker is None
    True
    """
    from assetmap.settings import settings

    wanted = DRAWN_FORMATS.intersection(formats)
    if not wanted or settings.output_workers < 2 or (os.cpu_count() or 1) < 2:
        yield None
        return
    worker = OutputWorker()
    try:
        yield worker
    finally:
        worker.close()


def _run_job(job: dict[str, Any]) -> tuple[dict[str, Path], list[tuple[type[Warning], str]]]:
    """Run :func:`write_drawn` in the worker, returning its warnings to the caller."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        paths = write_drawn(**job)
    return paths, [(w.category, str(w.message)) for w in caught]


def collect(future: Future) -> dict[str, Path]:
    """Wait for a job and raise its warnings again here; return the paths it wrote."""
    paths, caught = future.result()
    for category, message in caught:
        warnings.warn(message, category, stacklevel=2)
    return paths


def write_drawn(
    *,
    scored: Any,
    paths: dict[str, Path],
    title: str,
    context: Any = None,
    report: dict[str, Any] | None = None,
) -> dict[str, Path]:
    """Draw the print map into ``paths`` (png/pdf/svg), then write the report(s).

    Parameters
    ----------
    scored : GeoDataFrame
        Scored tracts (:func:`assetmap.score_tracts`).
    paths : dict
        Format -> file for the drawn outputs: any of ``png``, ``pdf``, ``svg`` (one drawing,
        saved in each) and ``report`` (HTML), ``markdown``.
    title : str
        The title of the map and the report.
    context : GeoDataFrame, optional
        The outline drawn around the tracts.
    report : dict, optional
        Keyword arguments for :func:`assetmap.outputs.report.write_report` (plan, schools,
        sites, whatif, evidence, challenges, change); the PNG, when drawn, is embedded.

    Returns
    -------
    dict
        The same keys and files, written.
    """
    static = [paths[ext] for ext in ("png", "pdf", "svg") if ext in paths]
    if static:
        from assetmap.outputs.static import print_map

        first, *rest = static
        print_map(scored, first, also=rest, title=title, context=context)
    for key in ("report", "markdown"):
        if key in paths:
            from assetmap.outputs.report import write_report

            write_report(scored, paths[key], title=title, map_image=paths.get("png"),
                         **(report or {}))
    return dict(paths)
