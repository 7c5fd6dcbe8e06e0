"""Small pieces the fast BDC engine's modules share (:mod:`assetmap.bdc.fast.engine`).

The fall-back signal, the columns of the per-area sums and the area keys as text: kept here
so that the driver (:mod:`~assetmap.bdc.fast.engine`), the Parquet reader
(:mod:`~assetmap.bdc.fast.columns`) and the sorted path (:mod:`~assetmap.bdc.fast.sorted_files`)
import them without importing each other.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["AREA_DIV", "KEY_WIDTH", "SUM_COLUMNS", "Fallback", "area_text"]

#: the per-area sums every path returns, in the order of the kernels' count columns
SUM_COLUMNS = ["locations", "unserved", "underserved", "served", "providers_100_20_sum",
               "satellite_only", "unlicensed_fw_only", "n_copper", "n_cable", "n_fiber",
               "n_licensed_fw", "n_unlicensed_fw", "n_satellite"]
#: the block GEOID's divisor of each area level (H3: the cell itself)
AREA_DIV = {"tract": 10**4, "block_group": 10**3, "county": 10**10, "h3": 1}
#: digits of each level's GEOID
KEY_WIDTH = {"tract": 11, "block_group": 12, "county": 5}


class Fallback(Exception):  # noqa: N818 (a signal, not an error)
    """The state's input needs the DuckDB engine."""


def area_text(keys: np.ndarray, level: str) -> np.ndarray:
    """Return integer area keys as the DuckDB engine's text keys (GEOIDs or H3 cells).

    Examples
    --------
    >>> import numpy as np
    >>> area_text(np.array([48135000100]), "tract").tolist()
    ['48135000100']
    >>> area_text(np.array([0x8848a2d8c9fffff]), "h3").tolist()
    ['8848a2d8c9fffff']
    """
    if level == "h3":
        return np.array([f"{int(k):015x}" for k in keys], dtype=object)
    return pd.Series(keys, dtype="int64").astype(str).str.zfill(KEY_WIDTH[level]).to_numpy(
        dtype=object)
