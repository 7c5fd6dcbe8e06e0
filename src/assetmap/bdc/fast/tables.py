"""The hash tables of the fast BDC engine's hash path, one set per partition of locations.

:class:`Tables` holds one partition's open-addressing tables (locations, areas, providers,
(area, provider) pairs, the overflow set of providers at the served thresholds), folds parsed
rows into them with :func:`assetmap.bdc.fast.kernels.aggregate`, doubles a table when it is
60% full, and returns the partition's per-area sums and (area, provider) pairs
(:func:`assetmap.bdc.fast.kernels.finish`). Used by :mod:`assetmap.bdc.fast.engine`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from assetmap.bdc.fast.common import (
    MASK_COUNTS,
    P100_COLUMN,
    SUM_COLUMNS,
    Fallback,
    area_text,
    id_text,
)

__all__ = ["Tables"]


class Tables:
    """One partition's tables (:func:`assetmap.bdc.fast.kernels.aggregate`), grown on demand.

    The arrays are made on first use, by the thread that folds the partition: the large
    location table (tens of MB) is then filled by the threads side by side.
    """

    WIDTH = (2, 2, 2, 1, 2)  # locations, areas, providers, (area, provider) set, overflow

    def __init__(self, locations: int) -> None:
        from assetmap.bdc.fast import kernels as kernels

        self.K = kernels
        self.bits = [max(10, int(np.ceil(np.log2(max(locations, 1) / 0.55)))), 10, 8, 12, 8]
        self.meta = np.zeros(11, dtype=np.int64)
        self.tabs: list[np.ndarray] = []

    def _make(self) -> None:
        if self.tabs:
            return
        for t, b in enumerate(self.bits):
            self.meta[2 * t + 1] = b
            self.tabs.append(np.full(self.WIDTH[t] << b, self._empty(t), dtype=np.int64))
        self.akeys = np.zeros(1 << self.bits[1], dtype=np.int64)
        self.pkeys = np.zeros(1 << self.bits[2], dtype=np.int64)

    def _empty(self, t: int) -> int:
        return int(self.K.EMPTY) if t in (0, 4) else -1

    def grow(self, t: int) -> None:
        """Double table ``t`` (0 locations, 1 areas, 2 providers, 3 pairs, 4 overflow)."""
        old_bits = int(self.meta[2 * t + 1])
        new = np.full(self.WIDTH[t] << (old_bits + 1), self._empty(t), dtype=np.int64)
        self.K.rehash(self.tabs[t], self.WIDTH[t], old_bits, new, old_bits + 1,
                      self._empty(t), t == 4)
        self.tabs[t] = new
        self.meta[2 * t + 1] = old_bits + 1
        if t in (1, 2):
            keys = self.akeys if t == 1 else self.pkeys
            wider = np.zeros(1 << (old_bits + 1), dtype=np.int64)
            wider[:len(keys)] = keys
            self.akeys, self.pkeys = (wider, self.pkeys) if t == 1 else (self.akeys, wider)

    def fold(self, loc, prov, area, bits, n: int) -> None:
        """Fold ``n`` parsed rows (location, provider, area keys and offer bits)."""
        self._make()
        start = 0
        while True:
            lt, at, pt, st, ot = self.tabs
            start, grow, status = self.K.aggregate(loc, prov, area, bits, n, start, lt, at,
                                                   self.akeys, pt, self.pkeys, st, ot, self.meta)
            if status == self.K.SPLIT:
                raise Fallback("a location with rows in two areas")
            if status:
                raise Fallback("too many providers or areas for the fast engine's tables")
            if grow < 0:
                return
            self.grow(grow)

    def result(self, level: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Return the partition's per-area sums and its (area, provider) pairs."""
        self._make()
        n_area = int(self.meta[2])
        counts = self.K.finish(self.tabs[0], int(self.meta[1]), n_area, self.tabs[4],
                               int(self.meta[9]), MASK_COUNTS, P100_COLUMN)
        sums = pd.DataFrame(counts, columns=SUM_COLUMNS)
        sums.insert(0, "area", area_text(self.akeys[:n_area], level))
        pairs = self.tabs[3][self.tabs[3] >= 0]
        area = area_text(self.akeys[pairs >> 16], level)
        provider = id_text(self.pkeys[pairs & 0xFFFF])
        return sums, pd.DataFrame({"area": area, "provider_id": provider, "_check": 0})
