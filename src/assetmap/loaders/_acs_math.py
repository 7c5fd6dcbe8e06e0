"""ACS variables, annotation codes and the derived columns with their margins of error.

Margins of error follow the Census Bureau's *Understanding and Using ACS Data* (2020),
chapter 8, at the ACS's 90% confidence level:

* sum of estimates: ``MOE = sqrt(sum(MOE_i**2))``; when several of the terms are zero
  estimates, only the largest of their MOEs enters the sum (:func:`sum_moe`; chapter 8,
  "Calculating Measures of Error for Derived Estimates": zero estimates share one MOE, so
  adding each would overstate the error);
* proportion ``p = X / Y`` where X is a subset of Y:
  ``MOE_p = sqrt(MOE_X**2 - p**2 * MOE_Y**2) / Y``, and when the value under the root is
  negative the ratio formula ``sqrt(MOE_X**2 + p**2 * MOE_Y**2) / Y`` instead;
* coefficient of variation ``CV = (MOE / 1.645) / estimate``; a CV above 0.30 is unreliable.
  A zero estimate has no CV (NaN).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from assetmap._report import count_repair
from assetmap.errors import RepairWarning

__all__ = ["ACS_TABLES", "SENTINELS", "acs_cv_flags", "derive_acs", "proportion_moe", "sum_moe"]

ACS_TABLES: dict[str, list[str]] = {
    "internet": ["B28002_001", "B28002_002", "B28002_004", "B28002_012", "B28002_013"],
    "computers": ["B28001_001", "B28001_011"],
    "poverty": ["B17001_001", "B17001_002"],
    "children": ["B09001_001"],
    "population": ["B01003_001"],
    "median_income": ["B19013_001"],
    "income": [f"B19001_{i:03d}" for i in range(1, 18)],
}
SENTINELS: dict[int, str] = {
    -666666666: "estimate could not be computed (too few sample observations)",
    -999999999: "estimate or MOE not shown (too few sample cases)",
    -888888888: "estimate or MOE not applicable / not available",
    -222222222: "MOE could not be computed (too few sample observations)",
    -333333333: "MOE not computed (median in the lowest or highest interval)",
    -555555555: "MOE not appropriate (estimate controlled; no sampling error)",
}
Z90 = 1.645

# derived column -> (kind, numerator variables, denominator variable); "count" has no denominator
_DERIVED: dict[str, tuple[str, list[str], str | None]] = {
    "households": ("count", ["B28002_001"], None),
    "no_internet_share": ("share", ["B28002_013"], "B28002_001"),
    "no_broadband_share": ("complement", ["B28002_004"], "B28002_001"),
    "no_computer_share": ("share", ["B28001_011"], "B28001_001"),
    "poverty_share": ("share", ["B17001_002"], "B17001_001"),
    "income_lt25k_share": ("share", [f"B19001_{i:03d}" for i in range(2, 6)], "B19001_001"),
    "children": ("count", ["B09001_001"], None),
    "population": ("count", ["B01003_001"], None),
    "median_income": ("count", ["B19013_001"], None),
}
DERIVED_COLUMNS = tuple(_DERIVED)


def proportion_moe(num: Any, num_moe: Any, den: Any, den_moe: Any) -> np.ndarray:
    """Return the MOE of ``num / den`` by the Census Bureau's proportion formula.

    Falls back to the ratio formula where the proportion formula's radicand is negative.

    Examples
    --------
    >>> round(float(proportion_moe(200, 50, 1000, 100)[0]), 6)  # sqrt(2500 - 0.04*10000)/1000
    0.045826
    >>> round(float(proportion_moe(900, 20, 1000, 100)[0]), 6)  # ratio: sqrt(400+8100)/1000
    0.092195
    """
    num, num_moe, den, den_moe = (np.atleast_1d(np.asarray(a, dtype=float))
                                  for a in (num, num_moe, den, den_moe))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = num / den
        radicand = num_moe**2 - p**2 * den_moe**2
        ratio = np.sqrt(num_moe**2 + p**2 * den_moe**2) / den
        moe = np.where(radicand >= 0, np.sqrt(np.clip(radicand, 0, None)) / den, ratio)
    return np.where(den > 0, moe, np.nan)


def sum_moe(estimates: list[Any], moes: list[Any]) -> np.ndarray:
    """Return the MOE of a sum of ACS estimates, zero estimates counted once.

    ``sqrt(sum of MOE_i**2 over the non-zero estimates + max(MOE_j over the zero
    estimates)**2)``, the Census Bureau's rule for sums with several zero estimates (ACS
    General Handbook 2020, *Understanding and Using ACS Data*, chapter 8). A missing
    estimate or MOE gives a missing result.

    Examples
    --------
    >>> float(sum_moe([0, 0, 10], [20, 30, 5])[0]) == (30**2 + 5**2) ** 0.5
    True
    >>> round(float(sum_moe([4, 10], [3, 4])[0]), 6)  # no zero estimate: all terms
    5.0
    """
    est = np.column_stack([np.asarray(e, dtype=float).reshape(-1) for e in estimates])
    moe = np.column_stack([np.asarray(m, dtype=float).reshape(-1) for m in moes])
    zero = est == 0
    others = np.where(zero, 0.0, moe**2).sum(axis=1)
    largest = np.where(zero, moe, -np.inf).max(axis=1)  # NaN stays NaN
    largest = np.where(zero.any(axis=1), largest, 0.0)
    out = np.sqrt(others + largest**2)
    return np.where(np.isnan(est).any(axis=1), np.nan, out)


def _cv(estimate: pd.Series, moe: pd.Series) -> pd.Series:
    with np.errstate(divide="ignore", invalid="ignore"):
        cv = (moe / Z90) / estimate.abs()
    return cv.where(estimate != 0)


def mask_sentinels(frame: pd.DataFrame, columns: Iterable[str]) -> dict[str, int]:
    """Set the ACS sentinel codes in ``columns`` to NaN in place; return counts per code."""
    counts: dict[str, int] = {}
    for column in columns:
        values = frame[column]
        hit = values.isin(list(SENTINELS))
        if hit.any():
            for code, n in values[hit].astype("int64").value_counts().items():
                counts[str(code)] = counts.get(str(code), 0) + int(n)
            frame[column] = values.mask(hit)
    return counts


def warn_missing_codes(
    report: dict[str, Any], counts: dict[str, int], rows: int, *, what: str
) -> None:
    """Record codes set to NaN in the report and issue one warning that counts them."""
    total = sum(counts.values())
    if not total:
        return
    detail = ", ".join(f"{code}: {n}" for code, n in sorted(counts.items()))
    count_repair(report, f"{what} set to NaN", rows, warn=False)
    report["notes"].append(f"{total} {what} set to NaN ({detail})")
    warnings.warn(
        f"{report.get('source')}: {total} {what} in {rows} rows set to NaN ({detail}); "
        "the Census Bureau publishes no usable value there",
        RepairWarning,
        stacklevel=3,
    )


def derive_acs(frame: pd.DataFrame, *, vintage: str) -> tuple[pd.DataFrame, dict[str, str]]:
    """Add the derived columns of docs/data-model.md that the raw variables allow.

    Returns the new frame (a copy) and ``{derived column: vintage}``.

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.DataFrame({"B17001_001E": [1000.0], "B17001_001M": [100.0],
    ...                     "B17001_002E": [200.0], "B17001_002M": [50.0]})
    >>> out, _ = derive_acs(raw, vintage="ACS 5-year 2019-2023")
    >>> out[["poverty_share", "poverty_share_moe"]].round(6).values.tolist()
    [[0.2, 0.045826]]
    """
    out = frame.copy()
    vintages: dict[str, str] = {}
    for name, (kind, nums, den) in _DERIVED.items():
        if name == "households" and "B28002_001E" not in out:
            nums = ["B19001_001"]
        needed = [*nums, *([den] if den else [])]
        if not all(f"{v}E" in out for v in needed):
            continue
        has_moe = all(f"{v}M" in out for v in needed)
        num = sum(out[f"{v}E"] for v in nums)
        num_moe = (pd.Series(sum_moe([out[f"{v}E"] for v in nums], [out[f"{v}M"] for v in nums]),
                             index=out.index) if has_moe else None)
        if kind == "count":
            out[name] = num
            if has_moe:
                out[f"{name}_moe"] = num_moe
        else:
            total = out[f"{den}E"]
            with np.errstate(divide="ignore", invalid="ignore"):
                share = (num / total).where(total > 0)
            out[name] = 1 - share if kind == "complement" else share
            if has_moe:
                moe = proportion_moe(num, num_moe, total, out[f"{den}M"])
                out[f"{name}_moe"] = pd.Series(moe, index=out.index)
        if has_moe:
            out[f"{name}_cv"] = _cv(out[name], out[f"{name}_moe"])
        vintages[name] = vintage
    return out, vintages


def acs_cv_flags(frame: pd.DataFrame, *, threshold: float = 0.30) -> pd.DataFrame:
    """Return one boolean column per derived measure: True where its CV exceeds ``threshold``.

    A measure with no CV (a zero estimate, or no margin of error) is not flagged; the
    ``<name>_cv`` column stays NaN there.

    Parameters
    ----------
    frame : pandas.DataFrame
        A frame from :func:`~assetmap.loaders.acs.load_acs` or ``read_acs_csv``.
    threshold : float
        The CV above which an estimate is unreliable (Census guidance: 0.30).

    Returns
    -------
    pandas.DataFrame
        Columns ``<name>_unreliable`` and ``any_unreliable``, aligned to ``frame``.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"poverty_share_cv": [0.1, 0.45, float("nan")]})
    >>> acs_cv_flags(f)["poverty_share_unreliable"].tolist()
    [False, True, False]
    """
    flags = pd.DataFrame(index=frame.index)
    for name in DERIVED_COLUMNS:
        if f"{name}_cv" in frame:
            flags[f"{name}_unreliable"] = (frame[f"{name}_cv"] > threshold).fillna(False)
    flags["any_unreliable"] = flags.any(axis=1) if len(flags.columns) else False
    return flags
