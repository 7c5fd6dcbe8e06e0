"""Intervention typology: one recommended intervention per tract, with the reason in words.

Public through :mod:`assetmap.analysis.plan` as :func:`recommend_interventions`. The rules
and thresholds are documented in ``docs/planning.md``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from assetmap._crs import estimate_utm
from assetmap._i18n import Messages, messages
from assetmap._report import attach_report, merge_sources, start_report
from assetmap.analysis._funding import ProgramsLike, funding_programs, funding_text
from assetmap.errors import ConfigError, SchemaError

__all__ = ["DDI_CODES", "RULE_CODES", "InterventionThresholds", "recommend_interventions"]

#: Intervention codes of ``method="rules"``, in the order the rules are tried.
RULE_CODES = (
    "fiber_extension",
    "wireless_or_satellite",
    "affordability_adoption",
    "new_site",
    "monitor",
)
#: Intervention codes of ``method="ddi"``.
DDI_CODES = ("infrastructure", "adoption", "monitor")


@dataclass(frozen=True)
class InterventionThresholds:
    """Thresholds of the intervention rules (shares are fractions, densities per km² of land).

    Attributes
    ----------
    gap_share_min : float
        Unserved + underserved share of locations from which a tract has a wired gap (0.10).
    dense_min_per_km2 : float
        Locations (else households) per km² of land from which a tract is dense (200).
    neighbor_fiber_min : float
        Fiber share, in the tract or an adjacent one, that makes extending fiber realistic (0.25).
    no_internet_min : float
        No-internet share of households that counts as low adoption (0.15).
    poverty_min : float
        Poverty share that counts as high poverty (0.20).
    income_lt25k_min : float
        Share of households under $25k used when ``poverty_share`` is absent (0.25).
    no_computer_min : float
        No-computer share from which device lending is named in the reason (0.10).
    reach_m : float
        Reach used when ``sites_within_reach`` is absent and ``dist_*_m`` columns decide (3200).
    ddi_cut : float
        Score (0-100) below which both DDI scores count as low: monitor (50).
    """

    gap_share_min: float = 0.10
    dense_min_per_km2: float = 200.0
    neighbor_fiber_min: float = 0.25
    no_internet_min: float = 0.15
    poverty_min: float = 0.20
    income_lt25k_min: float = 0.25
    no_computer_min: float = 0.10
    reach_m: float = 3200.0
    ddi_cut: float = 50.0


def _thresholds(
    value: InterventionThresholds | Mapping[str, float] | None,
) -> InterventionThresholds:
    if value is None:
        return InterventionThresholds()
    if isinstance(value, InterventionThresholds):
        return value
    known = {f.name for f in dataclasses.fields(InterventionThresholds)}
    unknown = sorted(set(value) - known)
    if unknown:
        raise ConfigError(f"unknown threshold(s) {unknown}; allowed: {sorted(known)}")
    bad = [k for k, v in value.items() if not isinstance(v, int | float) or v < 0]
    if bad:
        raise ConfigError(f"thresholds must be non-negative numbers: {bad}")
    return InterventionThresholds(**{k: float(v) for k, v in value.items()})


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return pd.to_numeric(frame[name], errors="coerce").astype(float)
    return pd.Series(np.nan, index=frame.index)


def _neighbour_max(frame: pd.DataFrame, values: pd.Series) -> tuple[pd.Series, str]:
    """Max of ``values`` over each tract and the tracts sharing its boundary."""
    if not isinstance(frame, gpd.GeoDataFrame) or frame.crs is None:
        return values, "fiber share of the tract itself (no geometry for adjacency)"
    metric = frame.geometry.to_crs(estimate_utm(frame))
    # a 1 m buffer joins polygons that share a boundary but do not quite touch numerically
    left, right = metric.sindex.query(metric.buffer(1.0).to_numpy(), predicate="intersects")
    v = values.to_numpy()
    pair_values = pd.Series(v[right]).groupby(left).max()
    out = pd.Series(v, index=frame.index)
    out.iloc[pair_values.index.to_numpy()] = np.fmax(v[pair_values.index], pair_values.to_numpy())
    return out, "fiber share in the tract or an adjacent tract (polygon adjacency)"


def _density(frame: pd.DataFrame) -> pd.Series:
    count = _col(frame, "locations") if "locations" in frame.columns else _col(frame, "households")
    if "ALAND" in frame.columns:
        km2 = _col(frame, "ALAND") / 1e6
    elif isinstance(frame, gpd.GeoDataFrame) and frame.crs is not None:
        km2 = frame.geometry.to_crs(estimate_utm(frame)).area / 1e6
    else:
        km2 = pd.Series(np.nan, index=frame.index)
    return count / km2.where(km2 > 0)


def recommend_interventions(
    scored: pd.DataFrame,
    *,
    rules: Sequence[str] | None = None,
    method: str = "rules",
    thresholds: InterventionThresholds | Mapping[str, float] | None = None,
    programs: ProgramsLike = None,
    language: str = "en",
) -> pd.DataFrame:
    """Recommend one intervention per tract, with the reason in words.

    ``method="rules"`` tries these rules in order; the first that holds names the
    intervention (every rule that holds is listed in ``interventions_all``):

    1. ``fiber_extension``: gap share (unserved + underserved) >= ``gap_share_min``, dense
       (locations per km² >= ``dense_min_per_km2``) and fiber reaches >=
       ``neighbor_fiber_min`` of locations in the tract or an adjacent tract.
    2. ``wireless_or_satellite``: a gap, and rural or sparse or no fiber nearby: fixed
       wireless or a satellite pilot.
    3. ``affordability_adoption``: no gap, but ``no_internet_share`` >= ``no_internet_min``
       and ``poverty_share`` >= ``poverty_min`` (or ``income_lt25k_share`` >=
       ``income_lt25k_min``): affordability and enrollment drive, device lending, navigators.
    4. ``new_site``: no partner site within reach (``sites_within_reach`` == 0, else every
       ``dist_*_m`` > ``reach_m``): a new learning center or Wi-Fi site candidate.
    5. ``monitor``: none of the above.

    ``method="ddi"`` compares an infrastructure score with a socioeconomic score (``ddi_infa``
    and ``ddi_se`` if present, else ``infrastructure_gap`` and ``need``, both 0-100): both
    below ``ddi_cut`` -> ``monitor``; else the larger decides ``infrastructure`` or
    ``adoption`` (the Purdue Digital Divide Index rule).

    A rule whose input is missing (column absent or NaN) does not hold for that tract.

    Parameters
    ----------
    scored : DataFrame or GeoDataFrame
        Scored tracts (columns of docs/data-model.md "Scored tracts"). With polygons, fiber
        in adjacent tracts counts; without, only the tract's own.
    rules : sequence of str, optional
        Rule codes to try, in order (default all of ``RULE_CODES``); ``monitor`` is the
        fallback either way.
    method : {"rules", "ddi"}
    thresholds : InterventionThresholds or dict, optional
        Overrides of the defaults; unknown keys raise ConfigError.
    programs : path, DataFrame or list of dicts, optional
        The study's funding-program entries (see ``assetmap/analysis/funding_programs.json``):
        an entry with a shipped ``key`` (``acp``, ``lifeline``, ``erate``,
        ``digital_equity_act``, ``bead``, ``bead_low_cost_option``) updates it, a new key adds
        a program. Default: the shipped, dated entries.
    language : {"en", "es"}
        Language of ``intervention_reason`` and ``intervention_funding``.

    Returns
    -------
    DataFrame
        Aligned to ``scored.index``: ``intervention`` (categorical), ``intervention_reason``
        (text), ``interventions_all`` (``;``-separated codes of every rule that held),
        ``intervention_funding`` (the programs named for the intervention, each with its
        status "as of" its date, ended and changed ones first, separated by `` | ``).
        ``attrs["assetmap"]["funding_programs"]`` holds the program table used.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"unserved_share": [0.0], "underserved_share": [0.05],
    ...     "no_internet_share": [0.3], "poverty_share": [0.35], "sites_within_reach": [2]})
    >>> out = recommend_interventions(t)
    >>> out["intervention"].tolist()
    ['affordability_adoption']
    >>> out["intervention_funding"].iloc[0].split(" | ")[0][:52]
    'Affordable Connectivity Program (ACP): ended when it'
    >>> mine = [{"key": "lifeline", "status": "ended", "status_date": "2030-01-01",
    ...          "status_text": "ended by the study's state"}]
    >>> "ended by the study's state (as of January 1, 2030)" in recommend_interventions(
    ...     t, programs=mine)["intervention_funding"].iloc[0]
    True
    """
    th = _thresholds(thresholds)
    _ = messages(language)
    table = funding_programs(programs)
    if method not in ("rules", "ddi"):
        raise ConfigError(f"method must be 'rules' or 'ddi', got {method!r}")
    sources, vintages, illustrative = merge_sources(scored)
    report = start_report(None, kind="interventions", rows_read=len(scored), sources=sources,
                          vintages=vintages, illustrative=illustrative)
    if method == "ddi":
        out = _ddi(scored, th, _)
    else:
        order = list(RULE_CODES[:-1] if rules is None else rules)
        unknown = [r for r in order if r not in RULE_CODES]
        if unknown:
            raise ConfigError(f"unknown rule(s) {unknown}; allowed: {list(RULE_CODES)}")
        out, note = _rules(scored, th, [r for r in order if r != "monitor"], _)
        report["notes"].append(note)
    text = {c: funding_text(c, table, language=_) for c in out["intervention"].cat.categories}
    out["intervention_funding"] = out["intervention"].astype(object).map(text).fillna("")
    report["thresholds"] = dataclasses.asdict(th)
    report["method"] = method
    report["funding_programs"] = table.to_dict("records")
    return attach_report(out, report)


def _rules(scored: pd.DataFrame, th: InterventionThresholds, order: list[str],
           _: Messages) -> Any:
    idx = scored.index
    gap = _col(scored, "unserved_share") + _col(scored, "underserved_share")
    locations = _col(scored, "locations")
    density = _density(scored)
    fiber_near, note = _neighbour_max(scored, _col(scored, "fiber_share"))
    rural = scored["rural"].astype("boolean") if "rural" in scored.columns else pd.Series(
        pd.NA, index=idx, dtype="boolean")
    no_internet = _col(scored, "no_internet_share")
    poverty = _col(scored, "poverty_share")
    low_income = _col(scored, "income_lt25k_share")
    no_computer = _col(scored, "no_computer_share")
    if "sites_within_reach" in scored.columns:
        no_site = _col(scored, "sites_within_reach") == 0
    else:
        dists = [c for c in scored.columns if c.startswith("dist_") and c.endswith("_m")]
        nearest = scored[dists].apply(pd.to_numeric, errors="coerce").min(axis=1) if dists else (
            pd.Series(np.nan, index=idx))
        no_site = nearest > th.reach_m
    has_gap = gap >= th.gap_share_min
    dense = density >= th.dense_min_per_km2
    fiber_ok = fiber_near >= th.neighbor_fiber_min
    poor = (poverty >= th.poverty_min) if "poverty_share" in scored.columns else (
        low_income >= th.income_lt25k_min)
    held = {
        "fiber_extension": has_gap & dense & fiber_ok,
        "wireless_or_satellite": has_gap & (
            rural.fillna(False).astype(bool)
            | (density < th.dense_min_per_km2)
            | ~fiber_ok
        ),
        "affordability_adoption": (
            (gap < th.gap_share_min) & (no_internet >= th.no_internet_min) & poor
        ),
        "new_site": no_site.fillna(False).astype(bool),
    }
    code = pd.Series("monitor", index=idx, dtype=object)
    reason = pd.Series("", index=idx, dtype=object)
    decided = pd.Series(False, index=idx)
    for rule in order:
        hit = held[rule].fillna(False).astype(bool) & ~decided
        code[hit] = rule
        decided |= hit
    all_held = pd.Series(
        [";".join(r for r in order if bool(held[r].iloc[i])) for i in range(len(idx))],
        index=idx, dtype=object,
    )
    for i in range(len(idx)):  # text per tract: a few dozen tracts, not a hot path
        reason.iloc[i] = _reason(code.iloc[i], th, _, {
            "gap": gap.iloc[i], "locations": locations.iloc[i], "density": density.iloc[i],
            "fiber": fiber_near.iloc[i], "rural": rural.iloc[i], "no_internet": no_internet.iloc[i],
            "poverty": poverty.iloc[i], "low_income": low_income.iloc[i],
            "no_computer": no_computer.iloc[i],
        })
    out = pd.DataFrame({
        "intervention": pd.Categorical(code, categories=list(RULE_CODES)),
        "intervention_reason": reason,
        "interventions_all": all_held,
    }, index=idx)
    return out, note


def _reason(code: str, th: InterventionThresholds, _: Messages, v: dict[str, Any]) -> str:
    gap = (_("{share} of {count} locations unserved or underserved", share=_.percent(v["gap"]),
             count=_.number(v["locations"]))
           if np.isfinite(v["locations"]) else
           _("{share} of locations unserved or underserved", share=_.percent(v["gap"])))
    if code == "fiber_extension":
        return _("{gap}, dense ({density} locations per km²), and fiber reaches {fiber} of "
                 "locations in or next to the tract: fiber extension partnership with the "
                 "nearby provider", gap=gap, density=_.number(v["density"]),
                 fiber=_.percent(v["fiber"]))
    if code == "wireless_or_satellite":
        why = []
        if v["rural"] is not pd.NA and bool(v["rural"]):
            why.append(_("rural"))
        if np.isfinite(v["density"]) and v["density"] < th.dense_min_per_km2:
            why.append(_("sparse ({density} per km²)", density=_.number(v["density"])))
        if not (v["fiber"] >= th.neighbor_fiber_min):
            why.append(_("no fiber in or next to the tract") if not np.isfinite(v["fiber"])
                       or v["fiber"] == 0 else
                       _("fiber nearby only {share}", share=_.percent(v["fiber"])))
        return _("{gap}, {why}: fixed wireless or a satellite pilot", gap=gap,
                 why=", ".join(why))
    if code == "affordability_adoption":
        poor = (_("{share} in poverty", share=_.percent(v["poverty"]))
                if np.isfinite(v["poverty"]) else
                _("{share} of households under $25k", share=_.percent(v["low_income"])))
        devices = (_("; {share} without a computer: device lending",
                     share=_.percent(v["no_computer"]))
                   if v["no_computer"] >= th.no_computer_min else "")
        return _("served (gap {gap}) but {share} of households have no internet and {poor}: "
                 "affordability and enrollment drive, digital navigators{devices}",
                 gap=_.percent(v["gap"]), share=_.percent(v["no_internet"]), poor=poor,
                 devices=devices)
    if code == "new_site":
        return _("no partner site within reach: candidate area for a new learning center or "
                 "Wi-Fi site")
    return _("no rule's threshold reached (or its inputs are missing): monitor")


def _ddi(scored: pd.DataFrame, th: InterventionThresholds, _: Messages) -> pd.DataFrame:
    if {"ddi_infa", "ddi_se"} <= set(scored.columns):
        infra_col, se_col = "ddi_infa", "ddi_se"
    elif {"infrastructure_gap", "need"} <= set(scored.columns):
        infra_col, se_col = "infrastructure_gap", "need"
    else:
        raise SchemaError("method='ddi' needs columns ddi_infa and ddi_se, or "
                          "infrastructure_gap and need")
    infra, se = _col(scored, infra_col), _col(scored, se_col)
    low = (infra < th.ddi_cut) & (se < th.ddi_cut)
    code = np.where(infra.isna() | se.isna() | low, "monitor",
                    np.where(infra >= se, "infrastructure", "adoption"))
    text = {
        "infrastructure": _("infrastructure-first (Purdue DDI rule)"),
        "adoption": _("adoption-first: affordability, devices, skills (Purdue DDI rule)"),
        "monitor": _("both below {cut} or missing: monitor", cut=format(th.ddi_cut, "g")),
    }
    reason = [
        f"{infra_col} {a:.0f} vs {se_col} {b:.0f}: {text[c]}" for a, b, c in
        zip(infra, se, code, strict=True)
    ]
    return pd.DataFrame({
        "intervention": pd.Categorical(code, categories=list(DDI_CODES)),
        "intervention_reason": reason,
        "interventions_all": code,
    }, index=scored.index)
