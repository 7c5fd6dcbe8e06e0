"""Score every tract: infrastructure gap, adoption gap, need, resource gap, and priority.

:func:`score_tracts` assembles the tract table (:func:`~assetmap.analysis.join.assemble_tracts`),
measures access to partner sites (:mod:`assetmap.analysis.access`), normalises each input within
the study area (percentile rank by default, or z-scores), combines them into four indices and a
priority (0-100, higher = more need), flags missing and unreliable inputs, computes Purdue
DDI-style INFA and SE scores for comparison, and tests the top N against weight perturbations
(:func:`~assetmap.analysis.sensitivity.weight_sensitivity`). The full specification travels in
``attrs["assetmap"]["score_spec"]``; the formulas are in ``docs/methods.md``.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from assetmap._report import REPORT_KEY, attach_report, get_report, merge_sources
from assetmap.analysis._ddi import ddi_scores, uninhabited
from assetmap.analysis._indices import (
    CV_LIMIT,
    INDICES,
    NORMALISATIONS,
    build_spec,
    combine,
    contributions,
    driver_text,
    normalised_inputs,
    scored_rules,
    spec_inputs,
    validate_weights,
    weight_matrices,
)
from assetmap.analysis._space import _Space
from assetmap.analysis.access import (
    RURAL_REACH_M,
    URBAN_REACH_M,
    Decay,
    _area_coords,
    _count_within,
    _fca,
    _fca_inputs,
    _nearest,
    _reach,
    _site_coords,
    area_points,
    nearest_site_distance,
    sites_within_reach,
    study_crs,
    two_step_fca,
)
from assetmap.analysis.join import assemble_tracts
from assetmap.analysis.sensitivity import _stability, weight_sensitivity
from assetmap.errors import ConfigError

__all__ = ["score_tracts", "weight_sensitivity"]

_CAPACITY = ("capacity_seats", "capacity_devices", "capacity_hotspots")
_DEMAND = ("children", "households", "population")


def _has(frame: pd.DataFrame | None, col: str) -> bool:
    return frame is not None and col in frame.columns and frame[col].notna().any()


def _access(
    table: gpd.GeoDataFrame,
    *,
    sites: gpd.GeoDataFrame | None,
    schools: gpd.GeoDataFrame | None,
    points: gpd.GeoDataFrame | None,
    reach_m: float | None,
    urban_reach_m: float,
    rural_reach_m: float,
    decay: Decay | None,
    crs: Any,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Access columns for the tracts, and what was done (for the spec)."""
    spec: dict[str, Any] = {"notes": []}
    cols: dict[str, pd.Series] = {}
    if sites is None and schools is None:
        spec["notes"].append("no sites or schools given: access columns left out")
        return pd.DataFrame(index=table.index), spec
    space = study_crs(table, sites, schools, crs=crs)
    pts = area_points(table, points=points, crs=space)
    areas = gpd.GeoDataFrame({"GEOID": table["GEOID"]}, geometry=pts.geometry, crs=4326)
    spec["crs"] = space.to_string()
    spec["point_source"] = {str(k): int(v) for k, v in pts["point_source"].value_counts().items()}
    metric = _Space(space)
    area_xy = _area_coords(areas, None, metric)
    if schools is not None and len(schools):
        cols["dist_school_m"] = nearest_site_distance(areas, schools, crs=space)
        spec["dist_school_m"] = "nearest school in `schools`"
    elif sites is not None and "site_type" in sites and (sites["site_type"] == "school").any():
        cols["dist_school_m"] = nearest_site_distance(areas, sites, site_type="school", crs=space)
        spec["dist_school_m"] = "nearest partner site of type school"
    if sites is not None and len(sites):
        # every site's coordinates once (each subset below is a selection of them)
        site_xy = _valid_site_coords(sites, metric)
        if "site_type" in sites and (sites["site_type"] == "library").any():
            cols["dist_library_m"] = (
                nearest_site_distance(areas, sites, site_type="library", crs=space)
                if site_xy is None else
                _nearest(area_xy, site_xy[sites["site_type"].isin(["library"]).to_numpy(bool)],
                         metric, index=areas.index, name="dist_library_m"))
        offered = {c: sites[c].astype("boolean").fillna(False).to_numpy(bool)
                   for c in sites.columns if str(c).startswith("svc_")}
        services = [c for c, mask in offered.items() if mask.any()]
        for col in services:
            code = col[len("svc_"):]
            cols[f"dist_{code}_m"] = (
                nearest_site_distance(areas, sites, service=code, crs=space)
                if site_xy is None else
                _nearest(area_xy, site_xy[offered[col]], metric, index=areas.index,
                         name=f"dist_{code}_m"))
        rural = table["rural"] if "rural" in table.columns else None
        if site_xy is None:
            reach = sites_within_reach(areas, sites, reach_m=reach_m, rural=rural, crs=space,
                                       urban_reach_m=urban_reach_m,
                                       rural_reach_m=rural_reach_m)
        else:
            radius = _reach(areas, reach_m=reach_m, rural=rural, urban_reach_m=urban_reach_m,
                            rural_reach_m=rural_reach_m)
            reach = pd.DataFrame({
                "sites_within_reach": np.asarray(
                    _count_within(area_xy, site_xy, metric, radius), dtype=int),
                "reach_m": radius.to_numpy(float)}, index=areas.index)
        cols["sites_within_reach"], cols["reach_m"] = reach["sites_within_reach"], reach["reach_m"]
        spec["reach"] = ("reach_m for every tract" if reach_m is not None else
                         f"{urban_reach_m:,.1f} m urban, {rural_reach_m:,.1f} m rural "
                         "(RUCA primary code >= 4)")
        demand = next((c for c in _DEMAND if _has(table, c)), None)
        if demand is None:
            spec["notes"].append("2SFCA left out: no children, households or population column")
        else:
            supply = sites.copy()
            cap = next((c for c in _CAPACITY if _has(sites, c)), None)
            if cap is None:
                supply["_capacity"] = 1.0
                capacity_note = "no capacity known: each site counts as 1"
            else:
                known = pd.to_numeric(supply[cap], errors="coerce")
                unknown = int(known.isna().sum())
                supply["_capacity"] = known.fillna(known.median())
                capacity_note = (f"{cap}; {unknown} sites of unknown capacity given the median "
                                 f"of the others ({known.median():g})" if unknown else cap)
            d0 = float(reach_m) if reach_m is not None else float(urban_reach_m)
            demand_frame = areas.assign(_demand=table[demand].to_numpy())
            if site_xy is None:
                cols["access_2sfca"] = two_step_fca(demand_frame, supply, demand_col="_demand",
                                                    capacity_col="_capacity", d0=d0,
                                                    decay=decay, crs=space)
            else:
                pop, capacity = _fca_inputs(demand_frame, supply, demand_col="_demand",
                                            capacity_col="_capacity", d0=d0)
                cols["access_2sfca"] = pd.Series(
                    _fca(area_xy, site_xy, metric, pop=pop, capacity=capacity, d0=d0,
                         decay=decay), index=areas.index, name="access_2sfca")
            spec["two_step_fca"] = {"demand": demand, "capacity": capacity_note, "d0_m": d0,
                                    "decay": "none (step at d0)" if decay is None else
                                    getattr(decay, "__name__", "user function")}
    return pd.DataFrame(cols, index=table.index), spec


def _valid_site_coords(sites: gpd.GeoDataFrame, space: _Space) -> np.ndarray | None:
    """Return every site's coordinates, or None when a site has no geometry or CRS.

    Such sites make the public access functions raise their own errors, so they take that
    path instead.
    """
    if sites.crs is None:
        return None
    geom = sites.geometry
    if geom.isna().any() or geom.is_empty.any():
        return None
    return _site_coords(sites, space)


def _flag_text(mask: pd.DataFrame) -> pd.Series:
    """Join with ';' the column names where ``mask`` is True (vectorised)."""
    out = np.full(len(mask), "", dtype=object)
    m = mask.to_numpy(bool)
    rows = m.any(axis=1) if m.size else np.zeros(len(mask), dtype=bool)
    if rows.any():
        names = np.array([f"{c};" for c in mask.columns], dtype=object)
        joined = m[rows].astype(object) @ names
        out[rows] = pd.Series(joined, dtype=object).str.slice(0, -1).to_numpy(object)
    return pd.Series(out, index=mask.index, dtype=object)


def score_tracts(
    tracts: gpd.GeoDataFrame,
    *,
    service: pd.DataFrame | None = None,
    acs: pd.DataFrame | None = None,
    sites: gpd.GeoDataFrame | None = None,
    survey: pd.DataFrame | None = None,
    rurality: pd.DataFrame | None = None,
    schools: gpd.GeoDataFrame | None = None,
    points: gpd.GeoDataFrame | None = None,
    weights: dict[str, float] | None = None,
    normalise: str = "percentile",
    reach_m: float | None = None,
    urban_reach_m: float = URBAN_REACH_M,
    rural_reach_m: float = RURAL_REACH_M,
    decay: Decay | None = None,
    top_n: int = 5,
    sensitivity_draws: int = 200,
    seed: int = 0,
    crs: Any = None,
) -> gpd.GeoDataFrame:
    """Score every tract for connectivity gap, need and nearby resources.

    Parameters
    ----------
    tracts : geopandas.GeoDataFrame
        Tract polygons (``GEOID``), or a table already assembled with its sources.
    service, acs, survey, rurality : pandas.DataFrame, optional
        Per-tract sources (see :func:`~assetmap.analysis.join.assemble_tracts`). The BEAD
        rule set ``service`` was made under (its report's ``rules``; else the one ``tracts``
        names; else ``"bead"``, with a note) goes into the result's report.
    sites : geopandas.GeoDataFrame, optional
        Partner sites: distances to libraries, schools and each ``svc_<code>`` service,
        sites within reach and the 2SFCA (capacity ``capacity_seats``, else devices, else
        hotspots; demand children, else households, else population).
    schools : geopandas.GeoDataFrame, optional
        School points for ``dist_school_m`` (else partner sites of type ``school``).
    points : geopandas.GeoDataFrame, optional
        Weighted points (block-group population centres, BDC locations) for each tract's
        population-weighted point; else the internal point.
    weights : dict, optional
        Weights by name: the four indices (for the priority) and any input (within its
        index). Unknown names raise :class:`~assetmap.errors.ConfigError` listing the allowed.
    normalise : {"percentile", "zscore"}
        Normalisation of each input within the study area.
    reach_m : float, optional
        One reach for every tract (also the 2SFCA catchment); default by rurality:
        ``urban_reach_m`` for urban tracts, ``rural_reach_m`` for rural ones, and an
        ``urban_reach_m`` 2SFCA catchment.
    urban_reach_m, rural_reach_m : float
        The reach defaults by rurality: 3,218.7 m (2 miles) and 16,093.4 m (10 miles).
    decay : callable, optional
        Distance decay for the 2SFCA (``access.step_fn``, ``linear``, ``gaussian``).
    top_n, sensitivity_draws, seed :
        Weight sensitivity (0 draws: left out).
    crs : optional
        Override the distance CRS (default :func:`~assetmap.analysis.access.study_crs`).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per tract, EPSG:4326: the assembled columns, access columns,
        ``infrastructure_gap``, ``adoption_gap``, ``need``, ``resource_gap``, ``priority``
        (0-100, higher = more need), ``priority_rank``, ``unreliable``,
        ``unreliable_inputs``, ``missing_inputs``, ``drivers``, ``ddi_infa``, ``ddi_se``,
        ``ddi`` and ``top_n_stability``. The specification is in
        ``attrs["assetmap"]["score_spec"]``, the rule set in ``attrs["assetmap"]["rules"]``
        (:meth:`~assetmap.bdc.rules.RuleSet.as_dict`) and ``["definition"]``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> t = gpd.GeoDataFrame({"GEOID": ["48135000100", "48135000200", "48135000300"],
    ...                       "unserved_share": [0.5, 0.1, 0.0],
    ...                       "poverty_share": [0.3, 0.1, None]},
    ...                      geometry=[box(i, 0, i + 1, 1) for i in range(3)], crs=4326)
    >>> s = score_tracts(t, sensitivity_draws=0)
    >>> s["infrastructure_gap"].tolist(), s["need"].tolist()
    ([100.0, 50.0, 0.0], [100.0, 0.0, nan])
    >>> s["priority_rank"].tolist(), s["missing_inputs"].tolist()
    ([1, 2, 3], ['', '', 'low_income;need'])
    """
    if normalise not in NORMALISATIONS:
        raise ConfigError(f"normalise={normalise!r}; allowed: {list(NORMALISATIONS)}")
    table = assemble_tracts(tracts, service=service, acs=acs, survey=survey, rurality=rurality)
    report = get_report(table)
    if _has(table, "children") and _has(table, "population") and "children_share" not in table:
        pop = pd.to_numeric(table["population"], errors="coerce")
        table["children_share"] = pd.to_numeric(table["children"], errors="coerce") / pop.where(
            pop > 0)
        if "children_cv" in table.columns:
            table["children_share_cv"] = table["children_cv"]
    access, access_spec = _access(table, sites=sites, schools=schools, points=points,
                                  reach_m=reach_m, urban_reach_m=urban_reach_m,
                                  rural_reach_m=rural_reach_m, decay=decay, crs=crs)
    table = table.drop(columns=[c for c in access.columns if c in table.columns])
    table = pd.concat([table, access], axis=1)

    rules, rules_note = scored_rules(service, tracts)
    user_weights = validate_weights(weights, table)
    spec = build_spec(table, user_weights, normalise, rules)
    norm = normalised_inputs(table, spec)
    empty = uninhabited(table)
    if empty.any():  # no one to serve: not ranked (a park, an airport, a prison-only tract)
        norm.loc[empty.to_numpy()] = np.nan
        report["notes"].append(
            f"{int(empty.sum())} tract(s) with no households or residents are not scored or "
            f"ranked: {', '.join(map(str, table.loc[empty.to_numpy(), 'GEOID']))}"
            if "GEOID" in table else f"{int(empty.sum())} tract(s) with no residents not ranked")
    w_in, w_idx, members = weight_matrices(spec)
    indices, priority = combine(norm.to_numpy(float), w_in[:, None], w_idx[:, None], members,
                                rescale=normalise == "zscore")
    for k, name in enumerate(INDICES):
        table[name] = indices[:, k, 0]
    table["priority"] = priority[:, 0]
    table["priority_rank"] = table["priority"].rank(ascending=False, method="min").astype(
        "Int64")

    missing = norm.isna()
    for name in INDICES:
        if spec["indices"][name]["inputs"]:
            missing[name] = table[name].isna()
    table["missing_inputs"] = _flag_text(missing)
    cv_mask = pd.DataFrame(index=table.index)
    for index, inp in spec_inputs(spec):
        cv_col = f"{inp['column']}_cv"
        if cv_col in table.columns and inp["weight"] > 0 and spec["priority"]["weights"][index]:
            cv_mask[inp["name"]] = pd.to_numeric(table[cv_col], errors="coerce").gt(CV_LIMIT)
    table["unreliable_inputs"] = _flag_text(cv_mask)
    table["unreliable"] = table["unreliable_inputs"].ne("")
    table["drivers"] = driver_text(contributions(norm, spec), table, spec)
    ddi, ddi_spec = ddi_scores(table, rules)
    table = pd.concat([table, ddi], axis=1)

    spec["access"] = access_spec
    spec["ddi"] = ddi_spec
    spec["missing"] = ("an input missing for a tract is left out and its index re-weighted over "
                       "the inputs present; named in missing_inputs. An index with no input for "
                       "a tract is NaN and the priority re-weighted over the other indices")
    spec["unreliable"] = f"a priority input whose ACS coefficient of variation > {CV_LIMIT}"
    out = gpd.GeoDataFrame(table, geometry=tracts.geometry.name, crs=4326)
    assembled = pd.DataFrame()
    assembled.attrs[REPORT_KEY] = report  # pd.concat above dropped the assembled table's attrs
    sources, vintages, illustrative = merge_sources(assembled, sites, schools, points)
    report.update(kind="scored_tracts", sources=sources, vintages=vintages,
                  illustrative=illustrative)
    report["notes"].extend([*access_spec["notes"], *([rules_note] if rules_note else [])])
    report["score_spec"] = spec
    report["rules"], report["definition"] = rules.as_dict(), rules.describe()
    out = attach_report(out, report)
    if sensitivity_draws:
        stability, summary = _stability(out, norm.to_numpy(float), spec, top_n=top_n,
                                        spread=0.25, draws=sensitivity_draws, seed=seed)
        out["top_n_stability"] = stability
        out.attrs["assetmap"]["sensitivity"] = summary
    else:
        out.attrs["assetmap"]["notes"].append("weight sensitivity not run (0 draws)")
    return out
