"""A second process that draws the print map and writes the report while the first goes on.

Drawing a 300 dpi print map and its PDF, then the report that embeds it, is CPU work that
needs nothing from the HTML map or the exports. With two or more cores a study run starts one
worker process before it loads its sources: the worker imports matplotlib and the report
writer while the main process loads and scores, then draws while the main process writes the
HTML map and the exports.

On Linux, while the calling process runs a single thread, the worker is a fork of it: it
starts with every module already imported (about 1.5 CPU-seconds less than a new interpreter)
and runs nothing of the caller's but the drawing. Elsewhere, or when other threads run (a
fork copies their locks in whatever state they are), it is a fresh interpreter
(``python -c ...``). Neither is a :mod:`multiprocessing` child, so a user's script is never
re-run (one without an ``if __name__ == "__main__":`` guard works), and the worker behaves
the same on every platform and in Jupyter. The job and its result travel as pickles in a
private temporary folder.

``settings.output_workers = 1`` (or ``ASSETMAP_OUTPUT_WORKERS=1``) writes everything in one
process. Warnings raised in the worker are raised again in the main process, an error there
is raised in the main process as it was, and a worker that cannot start or dies is replaced
by drawing in the main process (with a warning saying so).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["DRAWN_FORMATS", "OutputWorker", "collect", "output_worker", "serve", "write_drawn"]

#: Output formats the worker writes: the print map and the report.
DRAWN_FORMATS = frozenset({"png", "pdf", "svg", "report", "markdown"})
_GO = b"go\n"
_WAIT_S = 600.0


class OutputWorker:
    """One worker process for :func:`write_drawn` (see the module docstring)."""

    def __init__(self, *, start: str | None = None) -> None:
        self._folder = Path(tempfile.mkdtemp(prefix="assetmap_worker_"))
        self._process: subprocess.Popen | _Forked | None = None
        if (start or _start_method()) == "fork":
            try:
                self._process = _Forked(self._folder)
            except OSError:  # no fork here (e.g. out of processes): a fresh interpreter
                self._process = None
        if self._process is None:
            self._process = self._interpreter()
        self._submitted = False

    def _interpreter(self) -> subprocess.Popen | None:
        package_root = str(Path(__file__).resolve().parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (package_root, env.get("PYTHONPATH", "")) if p)
        try:
            return subprocess.Popen(
                [sys.executable, "-c", "from assetmap._workers import serve; serve()",
                 str(self._folder)],
                stdin=subprocess.PIPE, env=env,
            )
        except OSError as exc:  # no usable interpreter (e.g. an embedded Python)
            warnings.warn(f"could not start the drawing process ({exc}); drawing here",
                          RuntimeWarning, stacklevel=3)
            return None

    def submit(self, **job: Any) -> _Pending:
        """Send one :func:`write_drawn` job (keyword arguments as that function's)."""
        if self._submitted:
            raise RuntimeError("an OutputWorker takes one job")
        self._submitted = True
        if self._process is None:
            return _Pending(None, self._folder, job)
        if self._process.poll() is not None:
            return _Pending(None, self._folder, job, stopped=self._process.returncode)
        staged = self._folder / "job.pickle.part"
        with staged.open("wb") as handle:
            pickle.dump(job, handle, protocol=pickle.HIGHEST_PROTOCOL)
        staged.replace(self._folder / "job.pickle")
        try:
            assert self._process.stdin is not None
            self._process.stdin.write(_GO)
            self._process.stdin.close()
        except OSError:  # a broken pipe: the worker is gone
            return _Pending(None, self._folder, job, stopped=self._process.wait())
        return _Pending(self._process, self._folder, job)

    def close(self, *, kill: bool = False) -> None:
        """Stop the worker (at once with ``kill``, e.g. after Ctrl-C) and remove its folder."""
        process = self._process
        if process is not None and kill:
            process.kill()
        if process is not None:
            with contextlib.suppress(OSError, ValueError):
                if process.stdin is not None and not process.stdin.closed:
                    process.stdin.close()  # end of input: an idle worker exits
            try:
                process.wait(timeout=_WAIT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(self._folder, ignore_errors=True)


class _Pending:
    """A submitted job; :meth:`result` waits for it (the interface of a Future)."""

    def __init__(self, process: subprocess.Popen | _Forked | None, folder: Path,
                 job: dict[str, Any], *, stopped: int | None = None) -> None:
        self._process, self._folder, self._job, self._stopped = process, folder, job, stopped

    def result(self) -> tuple[dict[str, Path], list[tuple[type[Warning], str]]]:
        code = self._stopped
        if self._process is not None:
            code = self._process.wait()
            answer = self._folder / "result.pickle"
            if code == 0 and answer.is_file():
                with answer.open("rb") as handle:
                    ok, value, caught = pickle.load(handle)  # written by serve() below
                if not ok:
                    raise value
                return value, caught
        if code is not None:
            warnings.warn(f"the drawing process stopped (exit code {code}); drawing here",
                          RuntimeWarning, stacklevel=3)
        return _run_job(self._job)


def _start_method() -> str:
    """``"fork"`` where a fork is safe and cheaper (Linux, one thread), else ``"interpreter"``."""
    if sys.platform == "linux" and hasattr(os, "fork") and threading.active_count() == 1:
        return "fork"
    return "interpreter"


class _Forked:
    """A forked worker, with the parts of :class:`subprocess.Popen` that the worker uses."""

    def __init__(self, folder: Path) -> None:
        read, write = os.pipe()
        for stream in (sys.stdout, sys.stderr):  # nothing buffered is written twice
            with contextlib.suppress(AttributeError, OSError, ValueError):
                stream.flush()
        pid = os.fork()
        if pid == 0:  # the worker: never returns into the caller's code
            code = 1
            try:
                os.close(write)
                with os.fdopen(read, "rb") as go:
                    _serve(folder, go)
                code = 0
            finally:
                os._exit(code)
        os.close(read)
        self.pid = pid
        self.stdin = os.fdopen(write, "wb", buffering=0)
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if timeout is None:
            if self.returncode is None:
                self.returncode = os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])
            return self.returncode
        end = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() > end:
                raise subprocess.TimeoutExpired(f"worker {self.pid}", timeout)
            time.sleep(0.01)
        return self.returncode

    def kill(self) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)


def serve() -> None:
    """Run in a fresh worker interpreter: see :func:`_serve`."""
    _serve(Path(sys.argv[1]), sys.stdin.buffer)


def _serve(folder: Path, go: Any) -> None:
    """Import, wait for the go, run the job, write the result."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    with warnings.catch_warnings():  # an import's warning is not the job's to report
        warnings.simplefilter("ignore")
        _warm_up()
    if go.readline() != _GO:
        return  # the main process finished without a job for us
    with (folder / "job.pickle").open("rb") as handle:
        job = pickle.load(handle)
    try:
        paths, caught = _run_job(job)
        answer: tuple[bool, Any, list] = (True, paths, caught)
    except Exception as exc:  # noqa: BLE001 - sent back and raised in the main process
        answer = (False, exc, [])
    staged = folder / "result.pickle.part"
    with staged.open("wb") as handle:
        try:
            pickle.dump(answer, handle, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError):
            handle.seek(0)
            handle.truncate()
            error = RuntimeError(f"{type(answer[1]).__name__}: {answer[1]}")
            pickle.dump((False, error, []), handle)
    staged.replace(folder / "result.pickle")


def _warm_up() -> None:
    """Import what the jobs need (drawing, report, exports), so a job starts at once.

    The caller ignores warnings meanwhile: a library's import-time deprecation warning (e.g.
    pyogrio < 0.8 importing ``shapely.geos``) is not the job's to report.
    """
    import pyogrio  # noqa: F401 - the GeoPackage writer of the exports

    import assetmap.outputs.export
    import assetmap.outputs.report
    import assetmap.outputs.static  # noqa: F401


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
    except BaseException:
        worker.close(kill=True)
        raise
    worker.close()


def _run_job(job: dict[str, Any]) -> tuple[dict[str, Path], list[tuple[type[Warning], str]]]:
    """Run :func:`write_drawn` in the worker, returning its warnings to the caller."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        paths = write_drawn(**job)
    return paths, [(w.category, str(w.message)) for w in caught]


def collect(pending: Any) -> dict[str, Path]:
    """Wait for a job and raise its warnings again here; return the paths it wrote."""
    paths, caught = pending.result()
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
    exports: dict[str, Any] | None = None,
) -> dict[str, Path]:
    """Draw the print map into ``paths`` (png/pdf/svg), write the report(s), then the exports.

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
    exports : dict, optional
        Keyword arguments for :func:`assetmap._stages.write_exports` (the CSV and GeoPackage
        layers), written last, so a study's second process takes them too.

    Returns
    -------
    dict
        The same keys and files, written, and the exported files.
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
    written = dict(paths)
    if exports is not None:
        from assetmap._stages import write_exports

        written.update(write_exports(**exports))
    return written
