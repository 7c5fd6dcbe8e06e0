"""Rank stability of the top-N priority tracts under random perturbations of the weights."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd

from assetmap.analysis._indices import (
    combine,
    normalised_inputs,
    prepare,
    require_spec,
    weight_matrices,
)
from assetmap.errors import ConfigError

__all__ = ["weight_sensitivity"]

_CHUNK = 25
_TIE = 1e-4  # priority points (0-100 scale); draws are computed in float32


def _check(top_n: int, spread: float, draws: int) -> None:
    if int(top_n) < 1:
        raise ConfigError(f"top_n={top_n!r}: must be at least 1")
    if not 0 <= float(spread) < 1:
        raise ConfigError(f"spread={spread!r}: must be in [0, 1) (0.25 = weights x 0.75-1.25)")
    if int(draws) < 1:
        raise ConfigError(f"draws={draws!r}: must be at least 1")


def weight_sensitivity(
    scored: pd.DataFrame,
    *,
    top_n: int = 5,
    spread: float = 0.25,
    draws: int = 200,
    seed: int = 0,
) -> pd.DataFrame:
    """How often each tract stays in the top N when every weight is perturbed.

    In each draw every input weight and every index weight is multiplied by an independent
    factor drawn uniformly from ``[1 - spread, 1 + spread]``; the indices and the priority are
    recomputed from the same normalised inputs, and the top N tracts are taken (priorities
    within 1e-4 points of each other are ties, broken at random in each draw).
    ``top_n_stability`` is the share of draws in which a tract is in the top N. Tracts
    whose best case under any admissible weights is below the N-th best worst case are
    skipped (they can never be in the top N); with z-scores every tract is drawn.

    Parameters
    ----------
    scored : pandas.DataFrame
        Output of :func:`~assetmap.analysis.score.score_tracts` (needs its ``score_spec``).
    top_n : int
        Size of the top group.
    spread : float
        Relative perturbation of each weight (0.25 = +-25%).
    draws : int
        Number of random weight sets.
    seed : int
        Seed of the random generator (results are reproducible).

    Returns
    -------
    pandas.DataFrame
        A copy of ``scored`` with ``top_n_stability``; ``attrs["assetmap"]["sensitivity"]``
        holds the summary: the baseline top N with their stability, every tract that entered
        the top N in some draw, and the mean share of the baseline top N kept per draw.

    Examples
    --------
    >>> import assetmap as am, pandas as pd, geopandas as gpd
    >>> from shapely.geometry import box
    >>> t = gpd.GeoDataFrame({"GEOID": [f"4813500{i:02d}00" for i in range(1, 5)],
    ...                       "unserved_share": [0.9, 0.2, 0.1, 0.0],
    ...                       "no_internet_share": [0.5, 0.2, 0.1, 0.0]},
    ...                      geometry=[box(i, 0, i + 1, 1) for i in range(4)], crs=4326)
    >>> s = am.score_tracts(t, top_n=1, sensitivity_draws=50)
    >>> s.attrs["assetmap"]["sensitivity"]["baseline_top"]
    ['48135000100']
    >>> float(s["top_n_stability"].iloc[0])
    1.0
    """
    _check(top_n, spread, draws)
    spec = require_spec(scored)
    norm = normalised_inputs(scored, spec).to_numpy(float)
    stability, summary = _stability(scored, norm, spec, top_n=top_n, spread=spread,
                                    draws=draws, seed=seed)
    out = scored.copy()
    out["top_n_stability"] = stability
    out.attrs = copy.deepcopy(scored.attrs)
    out.attrs.setdefault("assetmap", {})["sensitivity"] = summary
    return out


def _box_max(x: np.ndarray, w: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Return the largest weighted mean of each row of ``x`` (NaN = absent) over weights.

    Every weight ``w_i`` may be scaled by any factor in ``[lo, hi]``; the optimum gives ``hi``
    to the ``j`` largest values and ``lo`` to the rest, for the best ``j``.
    """
    present = ~np.isnan(x)
    order = np.argsort(np.where(present, -x, np.inf), axis=1)
    xs = np.take_along_axis(np.where(present, x, 0.0), order, axis=1)
    ws = np.take_along_axis(np.where(present, w[None, :], 0.0), order, axis=1)
    zero = np.zeros((len(x), 1))
    cwx = np.hstack([zero, np.cumsum(ws * xs, axis=1)])
    cw = np.hstack([zero, np.cumsum(ws, axis=1)])
    num = hi * cwx + lo * (cwx[:, -1:] - cwx)
    den = hi * cw + lo * (cw[:, -1:] - cw)
    ratio = np.divide(num, den, out=np.full_like(num, -np.inf), where=den > 0)
    best = ratio.max(axis=1)
    return np.where(present.any(axis=1), best, np.nan)


def _candidates(norm: np.ndarray, w_in: np.ndarray, w_idx: np.ndarray,
                members: list[np.ndarray], spread: float, top: int) -> np.ndarray:
    """Rows that can reach the top N under some admissible weights (percentile scores).

    Bounds each row's priority over every weight set within +-spread (exact box bounds of
    the weighted means, index by index, then over the indices); a row whose upper bound is
    below the N-th largest lower bound can never be in the top N and is left out of the draws.
    """
    lo, hi = 1 - spread, 1 + spread
    upper = np.full((len(norm), len(members)), np.nan)
    lower = np.full((len(norm), len(members)), np.nan)
    for k, cols in enumerate(members):
        if len(cols):
            upper[:, k] = _box_max(norm[:, cols], w_in[cols], lo, hi)
            lower[:, k] = -_box_max(-norm[:, cols], w_in[cols], lo, hi)
    p_hi = _box_max(upper, w_idx, lo, hi)
    p_lo = -_box_max(-lower, w_idx, lo, hi)
    p_lo = np.nan_to_num(p_lo, nan=-np.inf)
    tau = np.partition(p_lo, len(p_lo) - top)[len(p_lo) - top]
    return np.nan_to_num(p_hi, nan=-np.inf) >= tau - 10 * _TIE


def _stability(
    scored: pd.DataFrame, norm: np.ndarray, spec: dict[str, Any], *, top_n: int,
    spread: float, draws: int, seed: int,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Share of draws each row is in the top N, and the summary (see weight_sensitivity)."""
    _check(top_n, spread, draws)
    w_in, w_idx, members = weight_matrices(spec)
    rng = np.random.default_rng(seed)
    n = len(scored)
    top = min(int(top_n), n)
    hits = np.zeros(n)
    kept = []
    base_priority = combine(norm, w_in[:, None], w_idx[:, None], members,
                            rescale=spec["normalise"] == "zscore", keep_indices=False)[1][:, 0]
    base_order = np.lexsort((np.arange(n), -np.nan_to_num(base_priority, nan=-np.inf)))[:top]
    base_mask = np.zeros(n, dtype=bool)
    base_mask[base_order] = True
    cand = (np.ones(n, dtype=bool) if spec["normalise"] == "zscore" else
            _candidates(norm, w_in, w_idx, members, spread, top) | base_mask)
    blocks = prepare(norm[cand], members, np.float32)
    pos = np.flatnonzero(cand)
    done = 0
    while done < draws:
        d = min(_CHUNK, draws - done)
        f_in = rng.uniform(1 - spread, 1 + spread, size=(len(w_in), d))
        f_idx = rng.uniform(1 - spread, 1 + spread, size=(len(w_idx), d))
        _, priority = combine(blocks, w_in[:, None] * f_in, w_idx[:, None] * f_idx, members,
                              rescale=spec["normalise"] == "zscore", keep_indices=False)
        # priorities within _TIE points of each other are ties, broken at random
        key = np.nan_to_num(priority, nan=-np.inf) + rng.random(priority.shape) * _TIE
        order = np.argpartition(-key, top - 1, axis=0)[:top]
        in_top = np.zeros_like(priority, dtype=bool)
        in_top[order, np.arange(d)[None, :]] = True
        hits[pos] += in_top.sum(axis=1)
        kept.extend((in_top & base_mask[pos][:, None]).sum(axis=0) / top)
        done += d
    stability = hits / draws
    ids = (scored["GEOID"].astype(str) if "GEOID" in scored.columns
           else pd.Series(scored.index.astype(str), index=scored.index)).to_numpy()
    summary: dict[str, Any] = {
        "top_n": top, "draws": int(draws), "spread": float(spread), "seed": int(seed),
        "perturbation": "each input and index weight x U(1 - spread, 1 + spread), independent",
        "baseline_top": [str(ids[i]) for i in base_order],
        "baseline_top_stability": {str(ids[i]): float(stability[i]) for i in base_order},
        "entered_top": {str(ids[i]): float(stability[i])
                        for i in np.flatnonzero(stability > 0) if not base_mask[i]},
        "mean_share_of_baseline_top_kept": float(np.mean(kept)),
    }
    return stability, summary
