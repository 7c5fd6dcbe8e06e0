"""Small pieces the fast BDC engine's modules share (:mod:`assetmap.bdc.fast.engine`).

The fall-back signal, the columns of the per-area sums, the area keys as text and the row
counts as the report takes them (:func:`check_counts`): kept here
so that the driver (:mod:`~assetmap.bdc.fast.engine`), the Parquet reader
(:mod:`~assetmap.bdc.fast.columns`) and the sorted path (:mod:`~assetmap.bdc.fast.sorted_files`)
import them without importing each other.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from assetmap.bdc import _common
from assetmap.bdc import _sql as bead
from assetmap.bdc._checks import FILTERS, filter_code

__all__ = ["AREA_DIV", "KEY_WIDTH", "MASK_COUNTS", "P100_COLUMN", "SUM_COLUMNS", "TALLY",
           "Fallback", "area_text", "check_counts", "id_text", "mask_counts"]

#: the per-area sums every path returns (one definition, :mod:`assetmap.bdc._common`); the
#: kernels write their count columns in this order (the conformance tests hold them to it)
SUM_COLUMNS = _common.SUM_COLUMNS
#: the column of the providers at 100/20 (summed per location, not a flag)
P100_COLUMN = SUM_COLUMNS.index("providers_100_20_sum")


def mask_counts() -> np.ndarray:
    """Per offer mask (rows 0 to 511): what a location with it adds to each sum column.

    1 to ``locations`` and to each flag of :func:`assetmap.bdc._sql.location_flags` (the one
    definition of unserved, underserved, served, satellite only, ...) that the mask has; 0 to
    ``providers_100_20_sum``. The kernels take it as an argument (:data:`MASK_COUNTS`), so a
    change of the definition never meets an old compiled copy.

    Examples
    --------
    >>> table = mask_counts()
    >>> dict(zip(SUM_COLUMNS, table[bead.SERVED_BIT | bead.FIBER_BIT].tolist()))["n_fiber"]
    1
    """
    table = np.zeros((512, len(SUM_COLUMNS)), dtype=np.int32)
    table[:, SUM_COLUMNS.index("locations")] = 1
    for name, flag in bead.location_flags(np.arange(512, dtype=np.int64)).items():
        table[:, SUM_COLUMNS.index(name)] = flag
    return table


#: :func:`mask_counts`, made once
MASK_COUNTS = mask_counts()

#: the block GEOID's divisor of each area level (H3: the cell itself)
AREA_DIV = {"tract": 10**4, "block_group": 10**3, "county": 10**10, "h3": 1}
#: digits of each level's GEOID
KEY_WIDTH = {"tract": 11, "block_group": 12, "county": 5}
#: the kernels' row counts: rows kept, then rows left out by each filter, in the order of
#: :data:`assetmap.bdc._checks.FILTERS` (:func:`assetmap.bdc.fast.parse.filter_of`)
TALLY = ("kept", *FILTERS[:3])


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


def id_text(keys: np.ndarray) -> np.ndarray:
    """Return id keys (``value * 32 + length``) as their text, each distinct key once.

    Examples
    --------
    >>> import numpy as np
    >>> id_text(np.array([130001 * 32 + 6, 12 * 32 + 4, 130001 * 32 + 6])).tolist()
    ['130001', '0012', '130001']
    """
    keys = np.asarray(keys, dtype=np.int64)
    distinct, where = np.unique(keys, return_inverse=True)
    texts = np.array([str(k >> 5).zfill(k & 31) for k in distinct.tolist()] or [""],
                     dtype=object)
    return texts[where.reshape(-1)] if len(keys) else np.zeros(0, dtype=object)


def check_counts(tally: np.ndarray) -> pd.DataFrame:
    """Return the kernels' row counts (:data:`TALLY`) as rows per check code.

    The ``_check, _fix, n`` counts of :func:`assetmap.bdc._counts.count_sql`, which
    :func:`assetmap.bdc._counts.tally` turns into the report: every row read, kept (code 0)
    or left out by a filter (codes 8 and up). The fast engine repairs and rejects nothing
    (such input goes to the DuckDB engine), so no other code occurs.

    Examples
    --------
    >>> import numpy as np
    >>> check_counts(np.array([5, 0, 2, 1])).to_numpy().tolist()
    [[0, 0, 5], [10, 0, 2], [12, 0, 1]]
    """
    codes = [0, *(filter_code(name) for name in TALLY[1:])]
    counts = pd.DataFrame({"_check": np.array(codes, dtype=np.int64), "_fix": np.int64(0),
                           "n": np.asarray(tally, dtype=np.int64)})
    return counts[counts["n"] > 0].reset_index(drop=True)
