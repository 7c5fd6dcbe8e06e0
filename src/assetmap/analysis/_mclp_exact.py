"""The exact MCLP solver: the integer programme solved with :func:`scipy.optimize.milp`.

HiGHS ships inside SciPy (>= 1.9), so there is nothing else to install and it runs wherever
SciPy has wheels. The models and the greedy heuristic are described in
:mod:`assetmap.analysis._mclp` and ``docs/planning.md``. Answers do not depend on which of
several equally good solutions HiGHS returns: ties between sets of sites (uncapacitated) go to
earlier-listed candidates, and with capacities demand is assigned to earlier-listed chosen
sites first.
"""

from __future__ import annotations

import time

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from assetmap.analysis._mclp import Solution, greedy, pattern
from assetmap.errors import AssetmapError, ConfigError

__all__ = ["HIGHS_OPTIONS", "MIP_REL_GAP", "exact"]

#: Relative optimality gap at which HiGHS stops (its own default, 1e-4, could stop a few
#: households short of the optimum on a large district; CBC through PuLP used 0).
MIP_REL_GAP = 1e-9
#: HiGHS options. Presolve stays off: the HiGHS in SciPy 1.11-1.16 (HiGHS 1.2-1.8) returns a
#: worse set of sites marked optimal on some capacitated models with presolve on (SciPy 1.16.2:
#: 33 of 1,000 random models, checked against CBC; HiGHS issues #1273, #1725). With presolve
#: off SciPy 1.11.1, 1.16.2 and 1.17.1 agree with CBC on all 1,000, and it is not slower here.
HIGHS_OPTIONS = {"mip_rel_gap": MIP_REL_GAP, "presolve": False}


def _group_rows(
    cover: sparse.csr_matrix, demand: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group demand rows with identical candidate sets (an exact reduction of the model).

    Returns ``(group_of_row, demand_per_group, first_row_of_group)``. Rows are keyed by two
    random linear signatures of their candidate set and its size (collisions: ~1e-30).
    """
    rng = np.random.default_rng(0)
    ones = pattern(cover)
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
    ones = pattern(cover)
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


def _assign_early_first(
    w: np.ndarray, reduced: sparse.csr_matrix, chosen: list[int], capacity: np.ndarray,
    z: np.ndarray,
) -> np.ndarray:
    """Reassign demand to the chosen sites, loading earlier-listed ones first (capacitated).

    Several assignments often cover the same demand; HiGHS returns any. This LP keeps the
    covered total of ``z`` (to ``MIP_REL_GAP`` and 1e-6) and maximises
    ``sum_j (k - rank_j) load_j``, so that the order of sites and their gains do not depend
    on the solver. Returns ``z`` unchanged if the LP fails.
    """
    k = len(chosen)
    rank = np.full(reduced.shape[1], -1)
    rank[chosen] = np.arange(k)  # chosen is sorted: rank = order of listing
    group_of = np.repeat(np.arange(reduced.shape[0]), np.diff(reduced.indptr))
    entries = np.flatnonzero(rank[reduced.indices] >= 0)
    if len(entries) == 0:
        return z
    g, j = group_of[entries], rank[reduced.indices[entries]]
    gain = w[g]
    total = float(gain @ z[entries])
    cols = np.arange(len(entries))
    rows = sparse.vstack([
        sparse.csr_matrix((np.ones(len(entries)), (g, cols)), shape=(reduced.shape[0], len(cols))),
        sparse.csr_matrix((gain, (j, cols)), shape=(k, len(cols))),
        sparse.csr_matrix(-gain[None, :]),
    ], format="csr")
    bound = np.concatenate([
        np.ones(reduced.shape[0]), np.minimum(capacity[chosen], np.bincount(j, gain, k)),
        [-(total - MIP_REL_GAP * total - 1e-6)],  # HiGHS meets rows to ~1e-7
    ])
    res = linprog(-gain * (k - j), A_ub=rows, b_ub=bound, bounds=(0.0, 1.0), method="highs")
    if res.status != 0 or res.x is None:
        return z
    out = np.zeros_like(z)
    out[entries] = res.x
    return out


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
    sub = pattern(cover[rows_used])
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
        zval = _assign_early_first(w, reduced, sorted(chosen_set), capacity, values[m:])
        zval = np.clip(zval, 0.0, 1.0)
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
