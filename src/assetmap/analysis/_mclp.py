"""Maximal covering location problem (MCLP) solvers on arrays.

The public wrapper is :func:`assetmap.analysis.plan.select_sites`; this module knows nothing
about frames or CRSs. Demand rows are points with a non-negative weight; a candidate covers a
demand row when it lies within the candidate's reach. Coverage is a sparse CSR matrix
(demand x candidate) whose stored values are ``distance + 1`` metres, so that a site standing
exactly on a demand point is still a stored entry (sparse matrices may drop zeros).

Solvers
-------
- :func:`greedy` adds, k times, the candidate with the largest marginal covered demand.
  Uncapacitated, covered demand is a monotone submodular set function, so greedy reaches at
  least ``1 - 1/e`` (about 63.2%) of the optimum (Nemhauser, Wolsey and Fisher 1978). With
  capacities each chosen site is filled with its nearest uncovered demand and the assignment
  is not revised later; the result is feasible but carries no approximation guarantee.
- :func:`assetmap.analysis._mclp_exact.exact` solves the integer programme with
  :func:`scipy.optimize.milp` (HiGHS).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.spatial import cKDTree

__all__ = ["Solution", "coverage_matrix", "greedy", "pattern"]


@dataclass
class Solution:
    """A chosen set of candidates, in the order they were added."""

    chosen: list[int]
    gains: list[float]
    remaining: np.ndarray  # residual (uncovered) demand per demand row
    method: str
    status: str
    seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def covered(self) -> float:
        """Total demand covered by the chosen candidates."""
        return float(np.sum(self.gains))


def coverage_matrix(
    demand_xy: np.ndarray, cand_xy: np.ndarray, reach: np.ndarray
) -> sparse.csr_matrix:
    """Return the demand x candidate coverage matrix (values: distance + 1 metres).

    Parameters
    ----------
    demand_xy, cand_xy : ndarray of shape (n, 2) and (m, 2)
        Projected coordinates in metres.
    reach : ndarray of shape (m,)
        Reach of each candidate in metres.
    """
    n, m = len(demand_xy), len(cand_xy)
    if n == 0 or m == 0:
        return sparse.csr_matrix((n, m))
    pairs = cKDTree(demand_xy).sparse_distance_matrix(
        cKDTree(cand_xy), float(np.max(reach)), output_type="ndarray"
    )
    # structured-array fields are strided views: copy them once
    i, j, d = (np.ascontiguousarray(pairs[f]) for f in ("i", "j", "v"))
    if np.ptp(reach) > 0:
        keep = d <= reach[j]
        i, j, d = i[keep], j[keep], d[keep]
    # scipy's COO -> CSR conversion is a counting sort (pairs are unique)
    return sparse.csr_matrix((d + 1.0, (i, j)), shape=(n, m))


def pattern(cover: sparse.csr_matrix) -> sparse.csr_matrix:
    """Return the coverage matrix with every stored value set to 1."""
    ones = cover.copy()
    ones.data = np.ones_like(ones.data)
    return ones


def greedy(
    demand: np.ndarray,
    cover: sparse.csr_matrix,
    k: int,
    capacity: np.ndarray | None = None,
) -> Solution:
    """Greedy MCLP: add the candidate with the largest marginal gain, k times.

    Ties go to the lowest candidate index, so the result is deterministic.
    """
    start = time.perf_counter()
    m = cover.shape[1]
    residual = np.asarray(demand, dtype=float).copy()
    ones = pattern(cover)
    by_site = cover.T.tocsr()  # candidate -> demand rows, values distance + 1
    chosen: list[int] = []
    gains: list[float] = []
    taken = np.zeros(m, dtype=bool)
    marginal = ones.T @ residual
    for _ in range(k):
        reachable = marginal if capacity is None else np.minimum(marginal, capacity)
        j = int(np.argmax(np.where(taken, -np.inf, reachable)))
        lo, hi = by_site.indptr[j], by_site.indptr[j + 1]
        rows = by_site.indices[lo:hi]
        if capacity is None:
            rows = rows[residual[rows] > 0]
            assigned = residual[rows]
        else:  # fill the site with its nearest uncovered demand, up to its capacity
            rows = rows[np.argsort(by_site.data[lo:hi], kind="stable")]
            take = residual[rows]
            before = np.cumsum(take) - take
            assigned = np.clip(np.minimum(take, capacity[j] - before), 0.0, None)
        # each candidate covering a newly served row loses that row's served demand
        marginal = marginal - ones[rows].T @ assigned
        residual[rows] -= assigned
        taken[j] = True
        chosen.append(j)
        gains.append(float(assigned.sum()))
    residual[residual < 1e-9] = 0.0
    return Solution(
        chosen, gains, residual, "greedy", "heuristic (greedy)", time.perf_counter() - start
    )
