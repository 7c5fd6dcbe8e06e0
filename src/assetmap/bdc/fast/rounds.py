"""The rounds of parse jobs of the fast BDC engine (:mod:`assetmap.bdc.fast.engine`).

Each round gives every worker thread one unit to parse (a CSV piece, a row group, a piece of
an inflated zip member); :func:`rounds` forms them from the input streams and
:func:`ahead` reads them up to a few rounds ahead on a thread of its own, so that zips are
inflated (ISA-L and zlib release the GIL) while the workers parse, numba's start-up in the
first round included.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

__all__ = ["ahead", "rounds"]


def rounds(streams: list[Iterator], workers: int, reader: ThreadPoolExecutor
            ) -> Iterator[list[tuple]]:
    """Yield rounds of up to ``workers`` jobs, reading the next round while one is used.

    A round takes its jobs from the first streams, several from one stream when there are
    fewer streams than workers (one zip: its pieces are inflated in order by one thread,
    while the workers parse the round before); distinct streams are read in parallel. No
    stream is read by two threads at once: a round is asked for once the one before is in.
    """
    active = list(streams)

    def grab(stream: Iterator, k: int) -> list[tuple]:
        out = []
        for _ in range(k):
            job = next(stream, None)
            if job is None:
                break
            out.append(job)
        return out

    def submit() -> tuple[list[Iterator], list[int], list[Any]]:
        take = active[:workers]
        shares = [workers // len(take) + (i < workers % len(take)) for i in range(len(take))]
        return take, shares, [reader.submit(grab, s, k) for s, k in zip(take, shares,
                                                                         strict=True)]

    pending = submit() if active else None
    while pending is not None:
        take, shares, futures = pending
        jobs: list[tuple] = []
        for s, k, fut in zip(take, shares, futures, strict=True):
            got = fut.result()
            if len(got) < k:
                active.remove(s)
            jobs += got
        pending = submit() if active else None
        if jobs:
            yield jobs


_END = object()


def ahead(rounds: Iterator[list[tuple]], *, depth: int) -> Iterator[list[tuple]]:
    """Yield the rounds of ``rounds``, read up to ``depth`` rounds ahead by a thread.

    Zips are inflated (without the GIL) while the workers parse the rounds before, numba's
    start-up in the first round included; at most ``depth`` rounds wait in memory.
    """
    waiting: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                waiting.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for jobs in rounds:
                if not put(jobs):
                    return
            put(_END)
        except Exception as exc:  # noqa: BLE001 (handed to the consumer, raised there)
            put(exc)

    reader = threading.Thread(target=produce, name="bdc-fast-reader", daemon=True)
    reader.start()
    try:
        while (item := _next_item(waiting, reader)) is not _END:
            if isinstance(item, Exception):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        reader.join()


def _next_item(waiting: queue.Queue, reader: threading.Thread) -> object:
    """Return the next item the reader put (RuntimeError if the reader died first)."""
    while True:
        try:
            return waiting.get(timeout=0.5)
        except queue.Empty:
            if not reader.is_alive() and waiting.empty():
                raise RuntimeError("the BDC fast engine's reader thread stopped") from None
