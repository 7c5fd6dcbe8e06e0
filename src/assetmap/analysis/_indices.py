"""The index definitions and the arithmetic shared by scoring, sensitivity and rollup.

An index is a weighted mean of normalised inputs; the priority is a weighted mean of the
indices. Everything here works on matrices (areas x inputs x weight draws), so the same code
scores one set of weights or hundreds of perturbed ones. ``docs/methods.md`` gives the formulas.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal, overload

import numpy as np
import pandas as pd

from assetmap.bdc._common import recorded_rules
from assetmap.bdc.rules import RuleSet, rule_set
from assetmap.errors import ConfigError, SchemaError

INDICES = ("infrastructure_gap", "adoption_gap", "need", "resource_gap")
PRIORITY_WEIGHTS = {"infrastructure_gap": 0.3, "adoption_gap": 0.3, "need": 0.25,
                    "resource_gap": 0.15}
CV_LIMIT = 0.30
NORMALISATIONS = ("percentile", "zscore")


@dataclass(frozen=True)
class Input:
    """One index input: candidate columns (first present wins), direction, default weight."""

    name: str
    columns: tuple[str, ...]
    direction: int  # +1: higher value = more need; -1: lower value = more need
    weight: float
    label: str
    unit: str  # "share", "m", "count", "rate", "code"


_STATIC: dict[str, tuple[Input, ...]] = {
    "infrastructure_gap": (
        Input("unserved_share", ("unserved_share",), 1, 1.0, "unserved locations", "share"),
        Input("underserved_share", ("underserved_share",), 1, 0.5, "underserved locations",
              "share"),
        Input("no_fiber", ("fiber_share",), -1, 1.0, "fiber reach", "share"),
        # the label names the served threshold of the frame's rule set (see inputs_for)
        Input("few_providers", ("providers_100_20", "providers"), -1, 0.5,
              "providers at the served threshold", "count"),
    ),
    "adoption_gap": (
        Input("no_internet_share", ("no_internet_share",), 1, 1.0, "no internet subscription",
              "share"),
        Input("no_computer_share", ("no_computer_share",), 1, 1.0, "no computer", "share"),
        Input("no_broadband_share", ("no_broadband_share",), 1, 0.5, "no broadband subscription",
              "share"),
        Input("survey_no_internet_rate", ("survey_no_internet_rate",), 1, 1.0,
              "survey: no home internet", "share"),
        Input("survey_no_device_rate", ("survey_no_device_rate",), 1, 0.5,
              "survey: no device", "share"),
    ),
    "need": (
        Input("low_income", ("poverty_share", "income_lt25k_share"), 1, 1.0, "low income",
              "share"),
        Input("children", ("children_share", "children"), 1, 1.0, "children", "share"),
        Input("rurality", ("ruca_primary", "rural"), 1, 0.5, "rurality (RUCA)", "code"),
    ),
    "resource_gap": (
        Input("dist_library_m", ("dist_library_m",), 1, 1.0, "distance to a library", "m"),
        Input("dist_school_m", ("dist_school_m",), 1, 0.5, "distance to a school", "m"),
        Input("sites_within_reach", ("sites_within_reach",), -1, 1.0, "partner sites in reach",
              "count"),
        Input("access_2sfca", ("access_2sfca",), -1, 1.0, "2SFCA capacity per person", "rate"),
    ),
}


def numeric(values: pd.Series) -> np.ndarray:
    """Return a column as float64 (booleans as 0/1; unparseable values and NA as NaN)."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.astype(float).to_numpy()
    return pd.to_numeric(values, errors="coerce").astype(float).to_numpy(na_value=np.nan)


def _mbps(pair: tuple[float, float]) -> str:
    return "/".join(f"{v:g}" for v in pair)


def scored_rules(*frames: pd.DataFrame | None) -> tuple[RuleSet, str | None]:
    """Return the rule set the first frame names in its report, and a note when none does.

    With no frame naming one, the set is ``"bead"``: the default ``service_by_area`` and
    ``service_levels`` classify under.
    """
    for frame in frames:
        found = None if frame is None else recorded_rules(frame)
        if found is not None:
            return found, None
    default = rule_set(None)
    return default, (f"no input names its BEAD rule set: the default {default.name!r} "
                     "(the one service_by_area uses) is assumed")


def inputs_for(table: pd.DataFrame, rules: RuleSet | None = None) -> dict[str, list[Input]]:
    """Return the inputs of each index, with one ``dist_<service>_m`` input per service.

    Labels that name a threshold take it from ``rules`` (default ``"bead"``).
    """
    chosen = rule_set(rules)
    out = {k: list(v) for k, v in _STATIC.items()}
    out["infrastructure_gap"] = [
        replace(i, label=f"providers at {_mbps(chosen.served)}") if i.name == "few_providers"
        else i for i in out["infrastructure_gap"]]
    services = sorted(c for c in table.columns
                      if str(c).startswith("dist_") and str(c).endswith("_m")
                      and c not in ("dist_library_m", "dist_school_m"))
    for col in services:
        code = col[len("dist_"):-len("_m")]
        out["resource_gap"].append(Input(col, (col,), 1, 1.0 / len(services),
                                         f"distance to {code.replace('_', ' ')}", "m"))
    return out


def allowed_weight_names(table: pd.DataFrame) -> list[str]:
    """Names a user may weight: the four indices and every input."""
    return [*INDICES, *(i.name for group in inputs_for(table).values() for i in group)]


def validate_weights(weights: dict[str, float] | None, table: pd.DataFrame) -> dict[str, float]:
    """Check user weights: known names, finite, non-negative. Raises ConfigError."""
    if not weights:
        return {}
    allowed = allowed_weight_names(table)
    unknown = sorted(set(weights) - set(allowed))
    if unknown:
        raise ConfigError(f"unknown weight name(s) {unknown}; allowed: {allowed}")
    for name, value in weights.items():
        try:
            ok = np.isfinite(float(value)) and float(value) >= 0
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ConfigError(f"weight {name!r} = {value!r}: weights must be numbers >= 0")
    priority = [weights.get(k, PRIORITY_WEIGHTS[k]) for k in INDICES]
    if sum(float(v) for v in priority) <= 0:
        raise ConfigError("the four index weights of the priority are all zero")
    return {k: float(v) for k, v in weights.items()}


def build_spec(table: pd.DataFrame, weights: dict[str, float], normalise: str,
               rules: RuleSet | None = None) -> dict[str, Any]:
    """Choose the columns present and write the JSON-serialisable score specification."""
    if normalise not in NORMALISATIONS:
        raise ConfigError(f"normalise={normalise!r}; allowed: {list(NORMALISATIONS)}")
    indices: dict[str, Any] = {}
    for index, group in inputs_for(table, rules).items():
        used, absent = [], []
        for inp in group:
            col = next((c for c in inp.columns if c in table.columns
                        and table[c].notna().any()), None)
            if col is None:
                absent.append(inp.name)
                continue
            used.append({
                "name": inp.name, "column": col, "label": inp.label, "unit": inp.unit,
                "direction": "higher = more need" if inp.direction > 0 else
                             "lower = more need",
                "sign": inp.direction, "weight": weights.get(inp.name, inp.weight),
            })
        indices[index] = {
            "inputs": used, "absent": absent,
            "combination": "weighted mean of the normalised inputs present for the tract "
                           "(weights re-scaled over those present)",
        }
    return {
        "normalise": normalise,
        "normalisation": (
            "percentile rank within the study area, 0-100: (rank - 1) / (n - 1) * 100 of the "
            "need-oriented value, ties averaged" if normalise == "percentile" else
            "z-score within the study area of the need-oriented value; each index is the "
            "weighted mean z, rescaled min-max to 0-100 within the study area"),
        "indices": indices,
        "priority": {"weights": {k: weights.get(k, PRIORITY_WEIGHTS[k]) for k in INDICES},
                     "combination": "weighted mean of the indices present for the tract"},
        "unreliable_cv": CV_LIMIT,
    }


def spec_inputs(spec: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(index, input dict) for every input used, in a fixed order."""
    return [(index, inp) for index in INDICES for inp in spec["indices"][index]["inputs"]]


def normalised_inputs(table: pd.DataFrame, spec: dict[str, Any]) -> pd.DataFrame:
    """Need-oriented, normalised input values (0-100 percentiles, or z-scores); NaN kept."""
    items = spec_inputs(spec)
    if not items:
        return pd.DataFrame(index=table.index)
    raw = pd.DataFrame({inp["name"]: numeric(table[inp["column"]]) * inp["sign"]
                        for _, inp in items}, index=table.index)
    if spec["normalise"] == "percentile":
        n = raw.notna().sum()
        pct = (raw.rank(method="average") - 1).div((n - 1).where(n > 1), axis=1) * 100
        pct[n.index[n == 1]] = 50.0
        return pct.where(raw.notna())
    sd = raw.std(ddof=0)
    return ((raw - raw.mean()) / sd.where(sd > 0)).fillna(0.0).where(raw.notna())


def weight_matrices(spec: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Input weights (m,), index weights (k,), and the input positions of each index."""
    items = spec_inputs(spec)
    w_in = np.array([inp["weight"] for _, inp in items], dtype=float)
    w_idx = np.array([spec["priority"]["weights"][k] for k in INDICES], dtype=float)
    members = [np.array([p for p, (index, _) in enumerate(items) if index == k], dtype=int)
               for k in INDICES]
    return w_in, w_idx, members


def prepare(norm: np.ndarray, members: list[np.ndarray],
            dtype: type = np.float64) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per index: (values with NaN as 0, presence as 0/1), computed once for many draws."""
    blocks: list[tuple[np.ndarray, np.ndarray]] = []
    for cols in members:
        block = norm[:, cols]
        present = ~np.isnan(block)
        blocks.append((np.where(present, block, 0).astype(dtype), present.astype(dtype)))
    return blocks


@overload
def combine(
    norm: np.ndarray | list[tuple[np.ndarray, np.ndarray]],
    w_in: np.ndarray,
    w_idx: np.ndarray,
    members: list[np.ndarray],
    *,
    rescale: bool,
    keep_indices: Literal[True] = ...,
) -> tuple[np.ndarray, np.ndarray]: ...


@overload
def combine(
    norm: np.ndarray | list[tuple[np.ndarray, np.ndarray]],
    w_in: np.ndarray,
    w_idx: np.ndarray,
    members: list[np.ndarray],
    *,
    rescale: bool,
    keep_indices: bool,
) -> tuple[np.ndarray | None, np.ndarray]: ...


def combine(
    norm: np.ndarray | list[tuple[np.ndarray, np.ndarray]],
    w_in: np.ndarray,
    w_idx: np.ndarray,
    members: list[np.ndarray],
    *,
    rescale: bool,
    keep_indices: bool = True,
) -> tuple[np.ndarray | None, np.ndarray]:
    """Return indices (n x k x D, or None) and priority (n x D) for D weight draws.

    ``norm`` is n x m with NaN (or its :func:`prepare` blocks); ``w_in`` is m x D; ``w_idx``
    is k x D.
    """
    blocks = prepare(norm, members) if isinstance(norm, np.ndarray) else norm
    n = len(blocks[0][0]) if blocks else 0
    draws = w_in.shape[1]
    dtype = blocks[0][0].dtype if blocks else np.float64
    out = np.full((n, len(members), draws), np.nan) if keep_indices else None
    num_p = np.zeros((n, draws), dtype=dtype)
    den_p = np.zeros((n, draws), dtype=dtype)
    for k, cols in enumerate(members):
        if not len(cols):
            continue
        filled, present = blocks[k]
        w = w_in[cols].astype(dtype)
        num = filled @ w
        den = present @ w
        have = den > 0
        value = np.divide(num, den, out=np.zeros_like(num), where=have)
        if rescale:
            lo = np.where(have, value, np.inf).min(axis=0)
            hi = np.where(have, value, -np.inf).max(axis=0)
            span = hi - lo
            value = np.where(span > 0, (value - lo) / np.where(span > 0, span, 1) * 100, 50.0)
            value = value.astype(dtype)
        num_p += np.where(have, value, 0) * w_idx[k].astype(dtype)
        den_p += have * w_idx[k].astype(dtype)
        if out is not None:
            out[:, k, :] = np.where(have, value, np.nan)
    priority = np.divide(num_p, den_p, out=np.full_like(num_p, np.nan), where=den_p > 0)
    return out, priority


def contributions(norm: pd.DataFrame, spec: dict[str, Any]) -> pd.DataFrame:
    """Each input's pull on a tract's priority: effective weight x (normalised - neutral).

    The neutral value is the study-area median (50 for percentiles, 0 for z-scores), so an
    input pushes the priority up only where the tract is worse off than the middle tract.
    """
    w_in, w_idx, members = weight_matrices(spec)
    present = norm.notna().to_numpy(float)
    eff = np.zeros_like(present)
    idx_present = np.zeros((len(norm), len(INDICES)))
    for k, cols in enumerate(members):
        if len(cols):
            den = present[:, cols] @ w_in[cols]
            share = np.divide(present[:, cols] * w_in[cols], den[:, None],
                              out=np.zeros((len(norm), len(cols))), where=den[:, None] > 0)
            eff[:, cols] = share
            idx_present[:, k] = den > 0
    idx_w = idx_present * w_idx
    idx_share = idx_w / np.where(idx_w.sum(axis=1, keepdims=True) > 0,
                                 idx_w.sum(axis=1, keepdims=True), np.nan)
    for k, cols in enumerate(members):
        if len(cols):
            eff[:, cols] *= idx_share[:, [k]]
    centre = 50.0 if spec["normalise"] == "percentile" else 0.0
    return pd.DataFrame(eff * np.nan_to_num(norm.to_numpy(float) - centre), index=norm.index,
                        columns=norm.columns)


def _format(v: np.ndarray, unit: str) -> np.ndarray:
    """Values as short text for one unit (the text pandas gives a rounded float, or int)."""
    v = np.asarray(v, dtype=float)
    if unit == "share":
        rounded = np.round(v * 100, 0)
        text = [f"{int(x)}%" if x == x else "" for x in rounded.tolist()]
    elif unit == "m":
        text = [f"{x!s} km" for x in np.round(v / 1000, 1).tolist()]
    elif unit == "rate":
        text = [str(x) for x in np.round(v, 3).tolist()]
    else:
        text = [str(x) for x in np.round(v, 1).tolist()]
    return np.where(~np.isnan(v), np.asarray(text, dtype=object), "n/a")


def driver_text(contrib: pd.DataFrame, values: pd.DataFrame, spec: dict[str, Any],
                *, top: int = 3) -> pd.Series:
    """'label value; ...' naming the ``top`` inputs pulling each row's priority up most."""
    items = {inp["name"]: inp for _, inp in spec_inputs(spec)}
    out = pd.Series("", index=contrib.index, dtype=object)
    if contrib.empty or not items or not len(contrib.columns):
        return out
    names = list(contrib.columns)
    labels = np.array([items[c]["label"] + " " for c in names], dtype=object)
    units = np.array([items[c]["unit"] for c in names], dtype=object)
    raw = np.column_stack([numeric(values[items[c]["column"]]) for c in names])
    c = np.nan_to_num(contrib.to_numpy(float), nan=-np.inf)
    k = min(top, c.shape[1])
    order = np.argsort(-c, axis=1, kind="stable")[:, :k]
    rows = np.arange(len(c))
    for r in range(k):
        pos = order[:, r]
        value = raw[rows, pos]
        text = np.full(len(c), "", dtype=object)
        for unit in np.unique(units[pos]):
            mask = units[pos] == unit
            text[mask] = _format(value[mask], unit)
        part = np.where(c[rows, pos] > 0, labels[pos] + text, "")
        sep = np.where((out.to_numpy(object) != "") & (part != ""), "; ", "")
        out = out + sep + part
    return out


def require_spec(frame: pd.DataFrame) -> dict[str, Any]:
    """Return the score spec of a scored frame, or raise a SchemaError saying how to get one."""
    spec = frame.attrs.get("assetmap", {}).get("score_spec")
    if spec is None:
        raise SchemaError("the frame has no attrs['assetmap']['score_spec']; pass the output of "
                          "score_tracts()")
    return spec
