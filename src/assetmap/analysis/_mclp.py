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
- :func:`exact` solves the integer programme with PuLP and its bundled CBC (no download).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse
from scipy.spatial import cKDTree

__all__ = ["Solution", "coverage_matrix", "exact", "greedy", "pulp_available"]


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


def _pattern(cover: sparse.csr_matrix) -> sparse.csr_matrix:
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
    ones = _pattern(cover)
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


def _cbc(time_limit: float | None = None) -> Any:
    """CBC through PuLP's ``COIN_CMD``: the binary bundled with PuLP, else ``cbc`` on PATH."""
    import pulp
    from pulp.apis import coin_api

    bundled = getattr(coin_api, "pulp_cbc_path", None)
    path = str(bundled) if bundled and os.access(bundled, os.X_OK) else None
    return pulp.COIN_CMD(path=path, msg=False, timeLimit=time_limit)


def pulp_available() -> bool:
    """Return True when PuLP and a CBC binary (bundled with PuLP or on PATH) can be used."""
    try:
        return bool(_cbc().available())
    except ImportError:
        return False


def _group_rows(
    cover: sparse.csr_matrix, demand: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group demand rows with identical candidate sets (an exact reduction of the model).

    Returns ``(group_of_row, demand_per_group, first_row_of_group)``. Rows are keyed by two
    random linear signatures of their candidate set and its size (collisions: ~1e-30).
    """
    rng = np.random.default_rng(0)
    ones = _pattern(cover)
    keys = np.column_stack(
        [ones @ rng.random(cover.shape[1]), ones @ rng.random(cover.shape[1]), ones.getnnz(1)]
    )
    _, first, group = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    group = group.ravel()
    return group, np.bincount(group, weights=demand, minlength=len(first)), first


def exact(
    demand: np.ndarray,
    cover: sparse.csr_matrix,
    k: int,
    capacity: np.ndarray | None = None,
    time_limit: float = 60.0,
) -> Solution:
    """Solve the MCLP exactly with PuLP/CBC.

    Uncapacitated: maximise ``sum_i w_i y_i`` subject to ``y_i <= sum_{j in N(i)} x_j``,
    ``sum_j x_j = k``, ``x`` binary, ``0 <= y <= 1``. Capacitated: fractions ``z_ij`` of demand
    i assigned to candidate j in reach, ``sum_j z_ij <= 1``, ``sum_i w_i z_ij <= c_j x_j``,
    maximise ``sum w_i z_ij``. Demand rows with identical candidate sets are merged first.
    """
    import pulp

    start = time.perf_counter()
    m = cover.shape[1]
    demand = np.asarray(demand, dtype=float)
    useful = (demand > 0) & (cover.getnnz(1) > 0)
    rows_used = np.flatnonzero(useful)
    sub = _pattern(cover[rows_used])
    sub.sort_indices()
    group, w, first = _group_rows(sub, demand[rows_used])
    reduced = sub[first].tocsr()
    prob = pulp.LpProblem("mclp", pulp.LpMaximize)
    # PuLP >= 3.3 creates variables through the problem; older versions directly
    new_var = getattr(prob, "add_variable", None) or pulp.LpVariable
    x = [new_var(f"x{j}", 0, 1, "Integer") for j in range(m)]
    prob += pulp.lpSum(x) == k
    z_of_entry: list[Any] = []
    if capacity is None:
        y = [new_var(f"y{g}", 0, 1, "Continuous") for g in range(len(w))]
        prob += pulp.LpAffineExpression([(y[g], float(w[g])) for g in range(len(w))])
        for g in range(len(w)):
            cands = reduced.indices[reduced.indptr[g] : reduced.indptr[g + 1]]
            prob += pulp.LpAffineExpression([(y[g], 1.0)] + [(x[j], -1.0) for j in cands]) <= 0
    else:
        z_of_entry = [new_var(f"z{e}", 0, 1, "Continuous") for e in range(reduced.nnz)]
        rows_of_entry = np.repeat(np.arange(len(w)), np.diff(reduced.indptr))
        prob += pulp.LpAffineExpression(
            [(z, float(w[g])) for z, g in zip(z_of_entry, rows_of_entry, strict=True)]
        )
        for g in range(len(w)):
            lo, hi = reduced.indptr[g], reduced.indptr[g + 1]
            prob += pulp.lpSum(z_of_entry[lo:hi]) <= 1
        by_site = reduced.tocsc()
        entry_id = sparse.csr_matrix(
            (np.arange(reduced.nnz) + 1.0, reduced.indices, reduced.indptr), shape=reduced.shape
        ).tocsc()
        for j in range(m):
            lo, hi = by_site.indptr[j], by_site.indptr[j + 1]
            if lo == hi:
                continue
            entries = entry_id.data[lo:hi].astype(np.int64) - 1
            groups = by_site.indices[lo:hi]
            reachable = float(w[groups].sum())
            cap = reachable if not np.isfinite(capacity[j]) else min(capacity[j], reachable)
            terms = [(z_of_entry[e], float(w[g])) for e, g in zip(entries, groups, strict=True)]
            prob += pulp.LpAffineExpression([*terms, (x[j], -cap)]) <= 0
    prob.solve(_cbc(float(time_limit)))
    status = pulp.LpStatus[prob.status]
    sol_status = pulp.LpSolution.get(prob.sol_status, str(prob.sol_status))
    chosen_set = [j for j in range(m) if (x[j].value() or 0) > 0.5]
    notes: list[str] = []
    if len(chosen_set) != k:
        raise RuntimeError(f"CBC returned {len(chosen_set)} sites for k={k} ({status})")
    if capacity is None:
        # order the optimal set by greedy marginal gain inside it (the coverage curve)
        inner = greedy(demand, cover[:, chosen_set], k)
        chosen = [chosen_set[j] for j in inner.chosen]
        gains, residual = inner.gains, inner.remaining
    else:
        zval = np.clip(np.array([z.value() or 0.0 for z in z_of_entry]), 0.0, 1.0)
        zmat = sparse.csr_matrix((zval, reduced.indices, reduced.indptr), shape=reduced.shape)
        per_site = np.asarray(zmat.T @ w).ravel()
        # CBC meets constraints within its tolerance; scale down to exact feasibility
        scale = np.ones(m)
        over = per_site > capacity
        scale[over] = capacity[over] / per_site[over]
        zmat = zmat @ sparse.diags(scale)
        zmat = zmat.multiply(1.0 / np.maximum(1.0, np.asarray(zmat.sum(axis=1)))).tocsr()
        per_site = np.asarray(zmat.T @ w).ravel()
        share = np.clip(np.asarray(zmat.sum(axis=1)).ravel(), 0.0, 1.0)
        residual = demand.copy()
        residual[rows_used] = demand[rows_used] * (1.0 - share[group])
        residual[residual < 1e-9] = 0.0
        chosen = sorted(chosen_set, key=lambda j: (-per_site[j], j))
        gains = [float(per_site[j]) for j in chosen]
    if sol_status != "Optimal Solution Found":
        notes.append(f"CBC stopped before proving optimality ({sol_status}); best found kept")
    return Solution(
        chosen,
        gains,
        residual,
        "exact",
        f"{status} ({sol_status})",
        time.perf_counter() - start,
        notes,
    )
