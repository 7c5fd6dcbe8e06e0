"""Distance-decay factories for the 2SFCA (styled on pysal/access ``access/weights.py``).

Each factory returns a function from distances in metres (array) to weights in [0, 1].
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from assetmap.errors import ConfigError

__all__ = ["Decay", "gaussian", "linear", "step_fn"]

Decay = Callable[[np.ndarray], np.ndarray]


def step_fn(steps: Mapping[float, float]) -> Decay:
    """Step decay: weight ``w_k`` for distances up to ``d_k`` (sorted), 0 beyond the last.

    Examples
    --------
    >>> f = step_fn({1600: 1, 3200: 0.68})
    >>> f(np.array([0, 1600, 2000, 3500])).tolist()
    [1.0, 1.0, 0.68, 0.0]
    """
    if not steps:
        raise ConfigError("step_fn: give at least one {distance: weight} step")
    edges = np.array(sorted(steps), dtype=float)
    values = np.array([steps[k] for k in sorted(steps)] + [0.0], dtype=float)
    if (values < 0).any() or (edges < 0).any():
        raise ConfigError("step_fn: distances and weights must be non-negative")

    def decay(d: np.ndarray) -> np.ndarray:
        return values[np.searchsorted(edges, np.asarray(d, dtype=float), side="left")]

    return decay


def linear(d0: float) -> Decay:
    """Linear decay ``max(0, 1 - d / d0)``.

    Examples
    --------
    >>> linear(1000)(np.array([0, 250, 1000, 2000])).tolist()
    [1.0, 0.75, 0.0, 0.0]
    """
    if d0 <= 0:
        raise ConfigError("linear: d0 must be positive")
    return lambda d: np.clip(1.0 - np.asarray(d, dtype=float) / d0, 0.0, 1.0)


def gaussian(d0: float) -> Decay:
    """Gaussian decay of the Gaussian 2SFCA (Dai 2010): 1 at distance 0, 0 at ``d0``.

    ``w = (exp(-(d/d0)^2 / 2) - exp(-1/2)) / (1 - exp(-1/2))`` for ``d <= d0``, else 0.

    Examples
    --------
    >>> gaussian(1000)(np.array([0, 500, 1000, 1200])).round(3).tolist()
    [1.0, 0.701, 0.0, 0.0]
    """
    if d0 <= 0:
        raise ConfigError("gaussian: d0 must be positive")
    floor = np.exp(-0.5)

    def decay(d: np.ndarray) -> np.ndarray:
        d = np.asarray(d, dtype=float)
        w = (np.exp(-0.5 * (d / d0) ** 2) - floor) / (1 - floor)
        return np.where(d <= d0, w, 0.0)

    return decay
