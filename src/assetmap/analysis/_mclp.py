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
- :func:`exact` solves the integer programme with :func:`scipy.optimize.milp` (the HiGHS
  solver shipped inside SciPy >= 1.9: nothing else to install, wheels on every platform).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.spatial import cKDTree

from assetmap.errors import AssetmapError, ConfigError

__all__ = ["HIGHS_OPTIONS", "MIP_REL_GAP", "Solution", "coverage_matrix", "exact", "greedy"]

#: Relative optimality gap at which HiGHS stops (its own default, 1e-4, could stop a few
#: households short of the optimum on a large district; CBC through PuLP used 0).
MIP_REL_GAP = 1e-9
#: HiGHS options. Presolve stays off: the HiGHS in SciPy 1.11-1.16 (HiGHS 1.2-1.8) returns a
#: worse set of sites marked optimal on some capacitated models with presolve on (SciPy 1.16.2:
#: 33 of 1,000 random models, checked against CBC; HiGHS issues #1273, #1725). With presolve
#: off SciPy 1.11.1, 1.16.2 and 1.17.1 agree with CBC on all 1,000, and it is not slower here.
HIGHS_OPTIONS = {"mip_rel_gap": MIP_REL_GAP, "presolve": False}


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


def _model(
    w: np.ndarray, reduced: sparse.csr_matrix, k: int, capacity: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, list[LinearConstraint]]:
    """Objective (minimised), integrality and constraints of the MCLP on merged demand groups.

    Variables are ``x`` (one binary per candidate), then ``y`` (the covered share of each
    group) or, with capacities, ``z`` (the share of a group assigned to a candidate in reach,
    one per stored entry of ``reduced``). With capacities the model also has the linking
    rows ``z_gj <= x_j`` of the strong formulation.
    """
    n_groups, m = reduced.shape
    n_cont = n_groups if capacity is None else reduced.nnz
    x_block = sparse.csr_matrix(np.ones((1, m)))
    cons = [LinearConstraint(sparse.hstack([x_block, sparse.csr_matrix((1, n_cont))]), k, k)]
    if capacity is None:
        # y_g - sum_{j in N(g)} x_j <= 0
        cover_rows = sparse.hstack([-reduced, sparse.identity(n_groups)], format="csr")
        cons.append(LinearConstraint(cover_rows, -np.inf, 0.0))
        gain = w
    else:
        entries = np.arange(reduced.nnz)
        gain = w[np.repeat(np.arange(n_groups), np.diff(reduced.indptr))]
        # sum_j z_gj <= 1 for every group
        shares = sparse.csr_matrix(
            (np.ones(reduced.nnz), entries, reduced.indptr), shape=(n_groups, reduced.nnz)
        )
        cons.append(LinearConstraint(
            sparse.hstack([sparse.csr_matrix((n_groups, m)), shares], format="csr"), -np.inf, 1.0
        ))
        # sum_g w_g z_gj - c_j x_j <= 0 for every candidate; c_j at most the demand it reaches
        load = sparse.csr_matrix((gain, (reduced.indices, entries)), shape=(m, reduced.nnz))
        cap = np.minimum(capacity, np.asarray(reduced.T @ w).ravel())
        cons.append(LinearConstraint(
            sparse.hstack([sparse.diags(-cap), load], format="csr"), -np.inf, 0.0
        ))
        # z_gj - x_j <= 0: implied by the rows above for whole x, but it makes the relaxation
        # tight (one branch-and-bound node instead of ~1,100 and 5-12x faster on benchmark C)
        site_of = sparse.csr_matrix(
            (-np.ones(reduced.nnz), (entries, reduced.indices)), shape=(reduced.nnz, m)
        )
        cons.append(LinearConstraint(
            sparse.hstack([site_of, sparse.identity(reduced.nnz)], format="csr"), -np.inf, 0.0
        ))
    c = np.concatenate([np.zeros(m), -gain])
    return c, np.concatenate([np.ones(m), np.zeros(n_cont)]), cons


def _solve(
    c: np.ndarray, integrality: np.ndarray, cons: list[LinearConstraint], time_limit: float
) -> tuple[np.ndarray, str, list[str]]:
    """Run HiGHS; return the solution, a status in words and notes. Raise if there is none."""
    res = milp(
        c, integrality=integrality, bounds=Bounds(0.0, 1.0), constraints=cons,
        options={**HIGHS_OPTIONS, "time_limit": float(time_limit)},
    )
    if res.status == 0 and res.x is not None:
        return res.x, "Optimal (HiGHS via scipy.optimize.milp)", []
    if res.status == 1 and res.x is not None:
        # the dual bound is minus the most new demand any k sites could cover
        bound = -float(res.get("mip_dual_bound") or -np.inf)
        gap_text = f"; no set covers more than {bound:,.6g}" if np.isfinite(bound) else ""
        notes = [(
            f"HiGHS stopped at its limit (time_limit={time_limit:g} s) before proving the "
            f"best sites optimal{gap_text}; the best set found is kept"
        )]
        return res.x, "Not proven optimal (HiGHS via scipy.optimize.milp, time limit)", notes
    if res.status == 1:
        raise ConfigError(
            f"the exact site selection found no feasible set of sites within "
            f"time_limit={time_limit:g} s (HiGHS: {res.message}); raise time_limit or use "
            f"method='greedy'"
        )
    # every model built here is feasible (no site serves anybody) and bounded (0 <= x, y <= 1)
    raise AssetmapError(
        f"the exact site selection failed (HiGHS status {res.status}: {res.message}); "
        f"use method='greedy' and please report this as a bug"
    )


def _prefer_low_positions(
    demand: np.ndarray, cover: sparse.csr_matrix, chosen: list[int]
) -> list[int]:
    """Break ties between optimal sets toward lower candidate positions (uncapacitated).

    Swaps a chosen candidate for the lowest-positioned unchosen one before it whenever the
    covered demand stays the same (within ``MIP_REL_GAP`` of the total), until no such swap
    is left. Solvers pick among equally good sets arbitrarily (CBC and HiGHS, and HiGHS
    versions, differ); this keeps answers the same across them, like greedy's tie rule.
    """
    ones = _pattern(cover)
    by_site = ones.T.tocsr()
    chosen = sorted(chosen)
    free = np.ones(cover.shape[1], dtype=bool)
    free[chosen] = False
    count = np.asarray(ones[:, chosen].sum(axis=1)).ravel()
    target = float(demand[count > 0].sum())
    covered = target
    tol = MIP_REL_GAP * max(1.0, float(demand.sum()))
    swapped = True
    while swapped:
        swapped = False
        for j in sorted(chosen, reverse=True):
            rows = by_site.indices[by_site.indptr[j] : by_site.indptr[j + 1]]
            alone = rows[count[rows] == 1]
            without = covered - float(demand[alone].sum())
            open_demand = np.where(count == 0, demand, 0.0)
            open_demand[alone] = demand[alone]
            gains = ones.T @ open_demand
            lower = np.flatnonzero(free[:j] & (without + gains[:j] >= target - tol))
            if len(lower):
                i = int(lower[0])
                free[i], free[j] = False, True
                count[rows] -= 1
                count[by_site.indices[by_site.indptr[i] : by_site.indptr[i + 1]]] += 1
                covered = without + float(gains[i])
                chosen = sorted([*(c for c in chosen if c != j), i])
                swapped = True
                break
    return chosen


def exact(
    demand: np.ndarray,
    cover: sparse.csr_matrix,
    k: int,
    capacity: np.ndarray | None = None,
    time_limit: float = 60.0,
) -> Solution:
    """Solve the MCLP exactly with :func:`scipy.optimize.milp` (HiGHS).

    Uncapacitated: maximise ``sum_i w_i y_i`` subject to ``y_i <= sum_{j in N(i)} x_j``,
    ``sum_j x_j = k``, ``x`` binary, ``0 <= y <= 1``. Capacitated: fractions ``z_ij`` of demand
    i assigned to candidate j in reach, ``sum_j z_ij <= 1``, ``sum_i w_i z_ij <= c_j x_j``,
    maximise ``sum w_i z_ij``. Demand rows with identical candidate sets are merged first.

    Raises
    ------
    ConfigError
        ``time_limit`` ran out before HiGHS found any feasible set of sites.
    AssetmapError
        HiGHS failed otherwise (the models are always feasible and bounded).
    """
    start = time.perf_counter()
    m = cover.shape[1]
    demand = np.asarray(demand, dtype=float)
    useful = (demand > 0) & (cover.getnnz(1) > 0)
    rows_used = np.flatnonzero(useful)
    sub = _pattern(cover[rows_used])
    sub.sort_indices()
    group, w, first = _group_rows(sub, demand[rows_used])
    reduced = sub[first].tocsr()
    c, integrality, cons = _model(w, reduced, k, capacity)
    values, status, notes = _solve(c, integrality, cons, time_limit)
    chosen_set = [int(j) for j in np.flatnonzero(values[:m] > 0.5)]
    if len(chosen_set) != k:
        raise AssetmapError(
            f"HiGHS returned {len(chosen_set)} sites for k={k} ({status}); use method='greedy' "
            f"and please report this as a bug"
        )
    if capacity is None:
        chosen_set = _prefer_low_positions(demand, cover, chosen_set)
        # order the optimal set by greedy marginal gain inside it (the coverage curve)
        inner = greedy(demand, cover[:, chosen_set], k)
        chosen = [chosen_set[j] for j in inner.chosen]
        gains, residual = inner.gains, inner.remaining
    else:
        zval = np.clip(values[m:], 0.0, 1.0)
        zmat = sparse.csr_matrix((zval, reduced.indices, reduced.indptr), shape=reduced.shape)
        per_site = np.asarray(zmat.T @ w).ravel()
        # HiGHS meets constraints within its tolerance; scale down to exact feasibility
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
    return Solution(
        chosen, gains, residual, "exact", status, time.perf_counter() - start, notes
    )
