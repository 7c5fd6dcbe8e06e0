"""Sort a large array on every core: partition it into value ranges, sort those side by side.

NumPy sorts one array on one core, and lets go of the GIL while it sorts. A partition at
``parts - 1`` ranks (:meth:`numpy.ndarray.partition`, linear time) leaves every value of a
range before every value of the next, so sorting the ranges in place on a thread pool sorts
the whole array. For 20 M int64 keys on two cores: 0.9-1.0 s against 1.36 s for one sort
(benchmarks/RESULTS.md). :func:`assetmap.load_bdc` sorts its duplicate keys so, and
:func:`assetmap.service_by_area` its rows by location.
"""

from __future__ import annotations

import itertools
from concurrent.futures import Executor

import numpy as np

__all__ = ["MIN_PART", "sort_in_parts"]

#: fewer values than this per range: one sort (a thread is not worth its start)
MIN_PART = 1 << 20


def sort_in_parts(values: np.ndarray, *, pool: Executor, parts: int,
                  min_part: int = MIN_PART) -> np.ndarray:
    """Sort ``values`` (one-dimensional, writable) in place, in up to ``parts`` ranges.

    Parameters
    ----------
    values : numpy.ndarray
        The array to sort; it is changed.
    pool : concurrent.futures.Executor
        Where the ranges are sorted (a thread pool: NumPy's sort runs without the GIL).
    parts : int
        Ranges sorted side by side (the pool's threads); fewer when there are fewer than
        ``min_part`` values per range.
    min_part : int
        The fewest values a range is cut for (default :data:`MIN_PART`).

    Returns
    -------
    numpy.ndarray
        ``values``, sorted.

    Examples
    --------
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> values = np.array([5, -3, 7, 5, 0, 9])
    >>> with ThreadPoolExecutor(2) as pool:
    ...     sort_in_parts(values, pool=pool, parts=2, min_part=2).tolist()
    [-3, 0, 5, 5, 7, 9]
    """
    n = len(values)
    parts = max(1, min(parts, n // max(1, min_part)))
    if parts == 1:
        values.sort()
        return values
    ranks = [n * i // parts for i in range(1, parts)]
    values.partition(ranks)
    edges = list(itertools.pairwise([0, *ranks, n]))
    list(pool.map(lambda edge: values[edge[0]:edge[1]].sort(), edges))
    return values
