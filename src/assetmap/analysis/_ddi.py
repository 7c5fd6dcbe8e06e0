"""Purdue's Digital Divide Index, approximated within a study area (``ddi_infa``, ``ddi_se``).

Used by :func:`assetmap.analysis.score.score_tracts`; the method and what differs from Purdue's
national index are written into the score spec.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from assetmap.analysis._indices import numeric
from assetmap.bdc.rules import RuleSet

__all__ = ["ddi_scores", "uninhabited"]

_DDI_INFA = ((("unserved_share",), 1), (("no_computer_share",), 1), (("no_internet_share",), 1),
             (("mean_down_mbps", "best_down"), -1), (("mean_up_mbps", "best_up"), -1))
_DDI_SE = ((("poverty_share", "income_lt25k_share"), 1), (("age65_share",), 1),
           (("less_than_hs_share",), 1), (("disability_share",), 1))


def uninhabited(table: pd.DataFrame) -> pd.Series:
    """Return which tracts have no one to serve: 0 households, else 0 residents, when known.

    Examples
    --------
    >>> uninhabited(pd.DataFrame({"households": [0, 12, None]})).tolist()
    [True, False, False]
    """
    for column in ("households", "population"):
        if column in table.columns and table[column].notna().any():
            return pd.Series(numeric(table[column]) == 0, index=table.index)
    return pd.Series(False, index=table.index)


def _has(frame: pd.DataFrame, col: str) -> bool:
    return col in frame.columns and frame[col].notna().any()


def _ddi_part(table: pd.DataFrame, parts: tuple) -> tuple[pd.Series, list[str], list[str]]:
    """Mean z-score of the variables present (need-oriented), and which were used / absent."""
    used, absent, zs = [], [], []
    for columns, sign in parts:
        col = next((c for c in columns if _has(table, c)), None)
        if col is None:
            absent.append(columns[0])
            continue
        v = pd.Series(numeric(table[col]) * sign, index=table.index)
        sd = v.std(ddof=0)
        zs.append(((v - v.mean()) / sd).where(v.notna()) if sd > 0 else v * 0)
        used.append(col)
    if not zs:
        return pd.Series(np.nan, index=table.index), used, absent
    return pd.concat(zs, axis=1).mean(axis=1), used, absent


def _rescale(v: pd.Series) -> pd.Series:
    lo, hi = v.min(), v.max()
    return (v - lo) / (hi - lo) * 100 if hi > lo else v * 0 + 50


def ddi_scores(table: pd.DataFrame, rules: RuleSet) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Return the DDI columns (0-100 within the study area) and the method's description."""
    infa, infa_used, infa_absent = _ddi_part(table, _DDI_INFA)
    se, se_used, se_absent = _ddi_part(table, _DDI_SE)
    out = pd.DataFrame({"ddi_infa": _rescale(infa), "ddi_se": _rescale(se),
                        "ddi": _rescale(infa + se)}, index=table.index)
    spec = {
        "method": "Purdue Center for Regional Development Digital Divide Index, approximated: "
                  "z-scores within the study area (need-oriented), mean of the variables "
                  "present (equal weights), each score rescaled min-max to 0-100 within the "
                  "study area; DDI = rescaled INFA z + SE z",
        "infa_used": infa_used, "infa_absent": infa_absent,
        "se_used": se_used, "se_absent": se_absent,
        "differences": "Purdue uses the population without access at the FCC benchmark, "
                       "national z-scores and rescaling; here BDC location shares (unserved "
                       f"under rule set {rules.name!r}: no reliable offer at "
                       f"{'/'.join(f'{v:g}' for v in rules.underserved)} Mbps), study-area "
                       "z-scores, equal weights, and only the variables present",
    }
    return out, spec
