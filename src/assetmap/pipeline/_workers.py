"""A second process that draws the maps and writes the report while the first goes on.

Drawing a 300 dpi print map and its PDF, the HTML map and the report is CPU work that needs
only the scores and a few small frames. With two or more cores a study run starts one worker
process before it loads its sources: the worker imports matplotlib, folium and the report
writer while the main process loads. It takes jobs in order: the print map as soon as the
scores exist (while the main process still works out the evidence and the change between
releases), then the HTML map and the report, while the main process writes the exports.

On Linux, while the calling process runs a single thread, the worker is a fork of it: it
starts with every module already imported (about 1.5 CPU-seconds less than a new interpreter)
and runs nothing of the caller's but the drawing. Elsewhere, or when other threads run (a
fork copies their locks in whatever state they are), it is a fresh interpreter
(``python -c ...``). Neither is a :mod:`multiprocessing` child, so a user's script is never
re-run (one without an ``if __name__ == "__main__":`` guard works), and the worker behaves
the same on every platform and in Jupyter. Jobs and their results travel as pickles in a
private temporary folder; a line on a pipe says that a job is there or that it is done.

``settings.output_workers = 1`` (or ``ASSETMAP_OUTPUT_WORKERS=1``) writes everything in one
process. Warnings raised in the worker are raised again in the main process, an error there
is raised in the main process as it was, and a worker that cannot start or dies is replaced
by drawing in the main process (with a warning saying so).
"""

from __future__ import annotations

import contextlib
import importlib
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
    """One worker process for :func:`write_drawn` jobs, run in order (see the module docstring).

    Parameters
    ----------
    start : {"fork", "interpreter"}, optional
        How to start the process (default: :func:`_start_method`).
    formats : iterable of str, optional
        The formats the jobs will write; the worker imports what they need while it waits
        (default: every drawn format and the HTML map).
    """

    def __init__(self, *, start: str | None = None,
                 formats: tuple[str, ...] | list[str] | None = None) -> None:
        self._folder = Path(tempfile.mkdtemp(prefix="assetmap_worker_"))
        self._warm = _warm_list(formats)
        self._process: subprocess.Popen | _Forked | None = None
        answers, answer_end = os.pipe()
        try:
            if (start or _start_method()) == "fork":
                try:
                    self._process = _Forked(self._folder, answer_end, self._warm)
                except OSError:  # no fork here (e.g. out of processes): a fresh interpreter
                    self._process = None
            if self._process is None:
                self._process = self._interpreter(answer_end)
        finally:
            os.close(answer_end)  # the worker holds the other end: EOF here when it ends
        self._answers = os.fdopen(answers, "rb")
        self._jobs = 0
        self._done: set[int] = set()

    def _interpreter(self, answer_end: int) -> subprocess.Popen | None:
        package_root = str(Path(__file__).resolve().parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (package_root, env.get("PYTHONPATH", "")) if p)
        try:
            return subprocess.Popen(
                [sys.executable, "-c", "from assetmap.pipeline._workers import serve; serve()",
                 str(self._folder), str(answer_end), ",".join(self._warm)],
                stdin=subprocess.PIPE, env=env, bufsize=0, pass_fds=(answer_end,),
            )
        except OSError as exc:  # no usable interpreter (e.g. an embedded Python)
            warnings.warn(f"could not start the drawing process ({exc}); drawing here",
                          RuntimeWarning, stacklevel=3)
            return None

    def submit(self, **job: Any) -> _Pending:
        """Send a :func:`write_drawn` job (keyword arguments as that function's).

        Jobs run one after the other, in the order they were sent.
        """
        number = self._jobs
        self._jobs += 1
        if self._process is None:
            return _Pending(None, number, job)
        if self._process.poll() is not None:
            return _Pending(None, number, job, stopped=self._process.returncode)
        staged = self._folder / f"job-{number}.pickle.part"
        with staged.open("wb") as handle:
            pickle.dump(job, handle, protocol=pickle.HIGHEST_PROTOCOL)
        staged.replace(self._folder / f"job-{number}.pickle")
        try:
            assert self._process.stdin is not None
            self._process.stdin.write(f"job {number}\n".encode())
        except OSError:  # a broken pipe: the worker is gone
            return _Pending(None, number, job, stopped=self._process.wait())
        return _Pending(self, number, job)

    def _answer(self, number: int) -> Any:
        """Wait for job ``number``; return its pickled answer, or None if the worker ended."""
        while number not in self._done:
            line = self._answers.readline()
            if not line.startswith(b"done "):
                return None  # end of the pipe: the worker stopped
            self._done.add(int(line.split()[1]))
        answer = self._folder / f"result-{number}.pickle"
        with answer.open("rb") as handle:
            return pickle.load(handle)  # written by _serve() below

    def _stopped(self) -> int | None:
        assert self._process is not None
        return self._process.wait()

    def close(self, *, kill: bool = False) -> None:
        """Stop the worker (at once with ``kill``, e.g. after Ctrl-C) and remove its folder.

        Without ``kill``, the jobs sent are finished first.
        """
        process = self._process
        if process is not None and kill:
            process.kill()
        if process is not None:
            with contextlib.suppress(OSError, ValueError):
                if process.stdin is not None and not process.stdin.closed:
                    process.stdin.close()  # end of input: the worker exits after its jobs
            try:
                process.wait(timeout=_WAIT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._answers.close()
        shutil.rmtree(self._folder, ignore_errors=True)


class _Pending:
    """A submitted job; :meth:`result` waits for it (the interface of a Future)."""

    def __init__(self, worker: OutputWorker | None, number: int, job: dict[str, Any], *,
                 stopped: int | None = None) -> None:
        self._worker, self._number, self._job, self._stopped = worker, number, job, stopped

    def result(self) -> tuple[dict[str, Path], list[tuple[type[Warning], str]]]:
        code = self._stopped
        if self._worker is not None:
            answer = self._worker._answer(self._number)
            if answer is not None:
                ok, value, caught = answer
                if not ok:
                    raise value
                return value, caught
            code = self._worker._stopped()
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

    def __init__(self, folder: Path, answer_end: int, warm: list[str]) -> None:
        read, write = os.pipe()
        for stream in (sys.stdout, sys.stderr):  # nothing buffered is written twice
            with contextlib.suppress(AttributeError, OSError, ValueError):
                stream.flush()
        pid = os.fork()
        if pid == 0:  # the worker: never returns into the caller's code
            code = 1
            try:
                os.close(write)
                with os.fdopen(read, "rb") as jobs, os.fdopen(answer_end, "wb", 0) as answers:
                    _serve(folder, jobs, answers, warm)
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
    folder, answer_end, warm = sys.argv[1:4]
    with os.fdopen(int(answer_end), "wb", 0) as answers:
        _serve(Path(folder), sys.stdin.buffer, answers, [m for m in warm.split(",") if m])


def _serve(folder: Path, jobs: Any, answers: Any, warm: list[str]) -> None:
    """Import, then run each job announced on ``jobs`` and say on ``answers`` when it is done."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    with warnings.catch_warnings():  # an import's warning is not the job's to report
        warnings.simplefilter("ignore")
        for module in warm:
            importlib.import_module(module)
    for line in iter(jobs.readline, b""):
        number = int(line.split()[1])  # "job <n>", written by OutputWorker.submit
        with (folder / f"job-{number}.pickle").open("rb") as handle:
            job = pickle.load(handle)
        try:
            paths, caught = _run_job(job)
            answer: tuple[bool, Any, list] = (True, paths, caught)
        except Exception as exc:  # noqa: BLE001 - sent back and raised in the main process
            answer = (False, exc, [])
        staged = folder / f"result-{number}.pickle.part"
        with staged.open("wb") as handle:
            try:
                pickle.dump(answer, handle, protocol=pickle.HIGHEST_PROTOCOL)
            except (pickle.PicklingError, TypeError, AttributeError):
                handle.seek(0)
                handle.truncate()
                error = RuntimeError(f"{type(answer[1]).__name__}: {answer[1]}")
                pickle.dump((False, error, []), handle)
        staged.replace(folder / f"result-{number}.pickle")
        answers.write(f"done {number}\n".encode())


#: What the worker imports while it waits, by the format its jobs will write.
_WARM_UP = {
    "png": "assetmap.outputs.static", "pdf": "assetmap.outputs.static",
    "svg": "assetmap.outputs.static", "report": "assetmap.outputs.report",
    "markdown": "assetmap.outputs.report", "html": "assetmap.outputs.interactive",
}


def _warm_list(formats: tuple[str, ...] | list[str] | None) -> list[str]:
    """Return the modules to import for ``formats`` (None: all), each once, in order."""
    wanted = _WARM_UP if formats is None else [f for f in formats if f in _WARM_UP]
    return list(dict.fromkeys(_WARM_UP[f] for f in wanted))


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
    worker = OutputWorker(formats=formats)
    try:
        yield worker
    except BaseException:
        worker.close(kill=True)
        raise
    worker.close()


def _run_job(job: dict[str, Any]) -> tuple[dict[str, Path], list[tuple[type[Warning], str]]]:
    """Run :func:`write_drawn` in the worker, returning its warnings to the caller.

    The writers the job needs are imported first with warnings ignored: a library's
    import-time warning (e.g. pyogrio < 0.11 importing ``shapely.geos``) is not the job's.
    """
    needed = [*_warm_list([f for f in job.get("paths", {}) if f in _WARM_UP])]
    if job.get("exports") is not None:
        needed += ["pyogrio", "assetmap.outputs.export"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for module in needed:
            importlib.import_module(module)
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
    html: dict[str, Any] | None = None,
    report: dict[str, Any] | None = None,
    map_image: Path | None = None,
    exports: dict[str, Any] | None = None,
) -> dict[str, Path]:
    """Draw the print map into ``paths`` (png/pdf/svg), the HTML map, the report(s), the exports.

    Parameters
    ----------
    scored : GeoDataFrame
        Scored tracts (:func:`assetmap.score_tracts`).
    paths : dict
        Format -> file for the drawn outputs: any of ``png``, ``pdf``, ``svg`` (one drawing,
        saved in each), ``html`` (the map of ``html``), ``report`` (HTML) and ``markdown``.
    title : str
        The title of the maps and the report.
    context : GeoDataFrame, optional
        The outline drawn around the tracts on the print map.
    html : dict, optional
        Keyword arguments for :func:`assetmap.outputs.interactive.equity_map` (without
        ``scored`` and ``title``); the map is saved to ``paths["html"]``.
    report : dict, optional
        Keyword arguments for :func:`assetmap.outputs.report.write_report` (plan, schools,
        sites, whatif, evidence, challenges, change).
    map_image : Path, optional
        The print map's PNG that the report embeds, when an earlier job drew it (default:
        ``paths["png"]``).
    exports : dict, optional
        Keyword arguments for :func:`assetmap.pipeline.stages.write_exports` (the CSV and GeoPackage
        layers), written last.

    Returns
    -------
    dict
        The same keys and files, written, and the exported files.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from assetmap.datasets import load_demo
    >>> import assetmap as am
    >>> demo = load_demo()
    >>> scored = am.score_tracts(demo.tracts, service=demo.service, acs=demo.acs)
    >>> out = Path(tempfile.mkdtemp())
    >>> sorted(write_drawn(scored=scored, title="Ector County",
    ...                    paths={"svg": out / "map.svg", "markdown": out / "report.md"}))
    ['markdown', 'svg']
    """
    static = [paths[ext] for ext in ("png", "pdf", "svg") if ext in paths]
    if static:
        from assetmap.outputs.static import print_map

        first, *rest = static
        print_map(scored, first, also=rest, title=title, context=context)
    if "html" in paths:
        from assetmap.outputs.interactive import equity_map

        equity_map(scored, title=title, **(html or {})).save(str(paths["html"]))
    for key in ("report", "markdown"):
        if key in paths:
            from assetmap.outputs.report import write_report

            write_report(scored, paths[key], title=title,
                         map_image=map_image if map_image is not None else paths.get("png"),
                         **(report or {}))
    written = dict(paths)
    if exports is not None:
        from assetmap.pipeline.stages import write_exports

        written.update(write_exports(**exports))
    return written
