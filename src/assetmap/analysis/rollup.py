"""Tract scores to schools: attendance zones or nearest-school areas; partner sites' own service.

:func:`rollup_to_schools` moves tract values onto school zones by dasymetric areal
interpolation (as in tobler's ``area_interpolate``, with the tract split by where its
locations or households are rather than by area when points are given): counts are split
by each tract's share inside a zone, and rates are weighted means. Totals are conserved
(checked, and reported). Without attendance zones, the district is split by nearest school
(Voronoi cells of the school points clipped to the tracts' union).

:func:`site_connectivity` flags each partner site with the service level and fiber presence
of its own location: a learning center in an unserved area needs a fix first.
"""

from __future__ import annotations

import copy
import warnings
from typing import Any

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from assetmap._report import attach_report, get_report, merge_sources, start_report
from assetmap.analysis._indices import (
    INDICES,
    contributions,
    driver_text,
    normalised_inputs,
    numeric,
    require_spec,
    scored_rules,
    spec_inputs,
)
from assetmap.analysis.access import _WEIGHT_COLUMNS, _point_tracts, study_crs
from assetmap.errors import ConfigError, RejectedRowsWarning, SchemaError

__all__ = ["rollup_to_schools", "site_connectivity"]

COUNTS = ("households", "locations", "unserved", "underserved", "served", "fiber_locations",
          "children", "population", "satellite_only", "unlicensed_fw_only")
_SHARES = {"unserved_share": "unserved", "underserved_share": "underserved",
           "served_share": "served", "fiber_share": "fiber_locations"}
_HOUSEHOLD_RATES = ("no_internet_share", "no_broadband_share", "no_computer_share",
                    "poverty_share", "income_lt25k_share", "survey_no_internet_rate",
                    "survey_limited_rate", "survey_no_device_rate")
_SCORES = (*INDICES, "priority", "ddi_infa", "ddi_se", "ddi")
_LEVELS = ("unserved", "underserved", "served")


def _targets(
    tracts: gpd.GeoDataFrame, schools: gpd.GeoDataFrame, zones: gpd.GeoDataFrame | None
) -> tuple[gpd.GeoDataFrame, np.ndarray, str]:
    """Target polygons (projected) and, per school row, its target position."""
    if zones is not None:
        if "school_id" not in zones.columns:
            raise SchemaError("zones: needs a 'school_id' column naming each zone's school")
        target = zones[["school_id", zones.geometry.name]].to_crs(tracts.crs)
        target = target.reset_index(drop=True)
        return target, np.arange(len(target)), "attendance zones"
    xy = np.column_stack([schools.geometry.x.to_numpy(), schools.geometry.y.to_numpy()])
    uniq, owner = np.unique(xy.round(1), axis=0, return_inverse=True)
    union = shapely.union_all(tracts.geometry.to_numpy())
    if len(uniq) == 1:
        cells = np.array([union])
    else:
        frame = shapely.buffer(shapely.envelope(union), 1000.0)
        vor = shapely.voronoi_polygons(shapely.multipoints(uniq), extend_to=frame, ordered=True)
        cells = shapely.intersection(np.asarray(shapely.get_parts(vor)), union)
    target = gpd.GeoDataFrame({"cell": np.arange(len(uniq))}, geometry=cells, crs=tracts.crs)
    return target, owner.ravel(), "nearest school (Voronoi cells clipped to the tracts' union)"


def _shares(
    tracts: gpd.GeoDataFrame, target: gpd.GeoDataFrame, points: gpd.GeoDataFrame | None,
    weight_col: str | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(tract position, target position, share of the tract inside the target)."""
    tgeom = tracts.geometry.to_numpy()
    zgeom = target.geometry.to_numpy()
    z_idx, t_idx = shapely.STRtree(tgeom).query(zgeom, predicate="intersects")
    inter = shapely.area(shapely.intersection(tgeom[t_idx], zgeom[z_idx]))
    share = inter / np.maximum(shapely.area(tgeom[t_idx]), 1e-12)
    if points is None or not len(points):
        return t_idx, z_idx, share
    pts = points.to_crs(tracts.crs)
    if weight_col is None:
        weight_col = next((c for c in _WEIGHT_COLUMNS if c in pts.columns), None)
    w = (np.ones(len(pts)) if weight_col is None else
         pd.to_numeric(pts[weight_col], errors="coerce").fillna(0).to_numpy(float))
    tract_pos = pd.Index(tracts["GEOID"].astype(str)).get_indexer(_point_tracts(pts))
    p_idx, pz = shapely.STRtree(zgeom).query(pts.geometry.to_numpy(), predicate="intersects")
    first = ~pd.Series(p_idx).duplicated().to_numpy()
    p_idx, pz = p_idx[first], pz[first]
    ok = tract_pos[p_idx] >= 0
    frame = pd.DataFrame({"t": tract_pos[p_idx][ok], "z": pz[ok], "w": w[p_idx][ok]})
    inside = frame.groupby(["t", "z"])["w"].sum()
    tract_w = pd.Series(w[tract_pos >= 0]).groupby(tract_pos[tract_pos >= 0]).sum()
    tract_w = tract_w[tract_w > 0]
    by_points = inside / tract_w.reindex(inside.index.get_level_values("t")).to_numpy()
    by_points = by_points[np.isfinite(by_points.to_numpy())]
    use_area = ~np.isin(t_idx, tract_w.index.to_numpy())
    t_all = np.concatenate([t_idx[use_area], by_points.index.get_level_values("t").to_numpy()])
    z_all = np.concatenate([z_idx[use_area], by_points.index.get_level_values("z").to_numpy()])
    s_all = np.concatenate([share[use_area], by_points.to_numpy()])
    return t_all, z_all, s_all


def _weighted_mean(values: pd.Series, w: np.ndarray, t: np.ndarray, z: np.ndarray,
                   s: np.ndarray, nz: int) -> np.ndarray:
    x = numeric(values)[t]
    ww = s * w[t] * ~np.isnan(x)
    num = np.bincount(z, weights=np.nan_to_num(x) * ww, minlength=nz)
    den = np.bincount(z, weights=ww, minlength=nz)
    return np.divide(num, den, out=np.full(nz, np.nan), where=den > 0)


def rollup_to_schools(
    scored: gpd.GeoDataFrame,
    schools: gpd.GeoDataFrame,
    *,
    zones: gpd.GeoDataFrame | None = None,
    weight: str = "locations",
    points: gpd.GeoDataFrame | None = None,
    weight_col: str | None = None,
    crs: Any = None,
) -> gpd.GeoDataFrame:
    """Roll scored tracts up to school attendance zones (or nearest-school areas) and rank them.

    Parameters
    ----------
    scored : geopandas.GeoDataFrame
        Output of :func:`~assetmap.analysis.score.score_tracts`.
    schools : geopandas.GeoDataFrame
        School points with ``school_id`` and ``name``.
    zones : geopandas.GeoDataFrame, optional
        Attendance-zone polygons with ``school_id``. Without them each school gets the part
        of the tracts' union nearer to it than to any other school.
    weight : {"locations", "households"}
        The tract column weighting rates, indices and the priority in each zone (the other
        is used when it is missing for a tract, else 1).
    points : geopandas.GeoDataFrame, optional
        Weighted points with a ``GEOID`` (BDC locations, block-group centres): a tract is split
        between zones by the share of its points' weight in each; else by area.
    weight_col : str, optional
        Weight column of ``points`` (default: ``weight``, ``locations``, ``households``,
        ``population``, ``POP2020``, else 1 per point).
    crs : optional
        Projected CRS for areas (default the study's UTM zone).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per school (per zone when ``zones`` is given), EPSG:4326: ``school_id``,
        ``name``, the counts (``households``, ``locations``, ``unserved`` ...), shares,
        household rates, the indices, ``priority``, ``priority_rank``, ``drivers`` and
        ``geometry`` (zone polygon, or the school point). ``attrs["assetmap"]["rollup"]``
        holds the method and, per count, the tract and zone totals (conservation check);
        ``["rules"]`` the BEAD rule set of ``scored`` (``"bead"`` with a note if it names none).

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely.geometry import Point, box
    >>> from assetmap.analysis.score import score_tracts
    >>> t = gpd.GeoDataFrame({"GEOID": ["48135000100", "48135000200"],
    ...                       "households": [100, 300], "unserved_share": [0.5, 0.1]},
    ...                      geometry=[box(-102.5, 31.8, -102.4, 31.9),
    ...                                box(-102.4, 31.8, -102.3, 31.9)], crs=4326)
    >>> sch = gpd.GeoDataFrame({"school_id": ["a", "b"], "name": ["A", "B"]},
    ...                        geometry=[Point(-102.45, 31.85), Point(-102.35, 31.85)], crs=4326)
    >>> z = rollup_to_schools(score_tracts(t, sensitivity_draws=0), sch)
    >>> z["households"].round(1).tolist(), z["priority_rank"].tolist()
    ([100.0, 300.0], [1, 2])
    """
    if weight not in ("locations", "households"):
        raise ConfigError(f"weight={weight!r}; allowed: ['locations', 'households']")
    for col in ("school_id", "name"):
        if col not in schools.columns:
            raise SchemaError(f"schools: no column {col!r}")
    spec = require_spec(scored)
    space = study_crs(scored, schools, crs=crs)
    if space.is_geocentric:
        space = CRS.from_epsg(5070)
    tracts = scored.to_crs(space).reset_index(drop=True)
    sch = schools.to_crs(space).reset_index(drop=True)
    target, owner, method = _targets(tracts, sch, zones)
    t, z, s = _shares(tracts, target, points, weight_col)
    nz = len(target)

    other = "households" if weight == "locations" else "locations"
    w = np.ones(len(tracts))
    for col in (other, weight):
        if col in tracts.columns:
            v = pd.to_numeric(tracts[col], errors="coerce").to_numpy(float)
            w = np.where(np.isfinite(v), v, w)
    hh = (pd.to_numeric(tracts["households"], errors="coerce").fillna(0).to_numpy(float)
          if "households" in tracts.columns else np.ones(len(tracts)))

    values: dict[str, np.ndarray] = {}
    conservation: dict[str, dict[str, float]] = {}
    for col in (c for c in COUNTS if c in tracts.columns):
        x = pd.to_numeric(tracts[col], errors="coerce").fillna(0).to_numpy(float)
        values[col] = np.bincount(z, weights=x[t] * s, minlength=nz)
        conservation[col] = {"tracts": float(x.sum()), "zones": float(values[col].sum())}
    for share, count in _SHARES.items():
        if count in values and "locations" in values:
            values[share] = np.divide(values[count], values["locations"],
                                      out=np.full(nz, np.nan), where=values["locations"] > 0)
    rate_cols = [c for c in _HOUSEHOLD_RATES if c in tracts.columns]
    for col in rate_cols:
        values[col] = _weighted_mean(tracts[col], hh if hh.sum() > 0 else w, t, z, s, nz)
    input_cols = [inp["column"] for _, inp in spec_inputs(spec)]
    for col in dict.fromkeys([*input_cols, *_SCORES]):
        if col in tracts.columns and col not in values:
            values[col] = _weighted_mean(tracts[col], w, t, z, s, nz)
    contrib = contributions(normalised_inputs(tracts, spec), spec)
    zone_contrib = pd.DataFrame({c: _weighted_mean(contrib[c], w, t, z, s, nz)
                                 for c in contrib.columns}, index=pd.RangeIndex(nz))

    per_zone = pd.DataFrame(values)
    if zones is None:
        colocated = np.bincount(owner, minlength=nz)[owner]
        rows = per_zone.iloc[owner].reset_index(drop=True)
        for col in conservation:
            rows[col] = rows[col] / colocated
        out = pd.concat([sch[["school_id", "name"]], rows], axis=1)
        zone_contrib = zone_contrib.iloc[owner].reset_index(drop=True)
        geometry = sch.geometry
    else:
        names = sch.drop_duplicates("school_id").set_index("school_id")["name"]
        zone_names = (target["school_id"].map(names) if "name" not in zones.columns
                      else pd.Series(zones["name"].to_numpy()))
        out = pd.concat([target[["school_id"]].assign(name=zone_names.to_numpy()), per_zone],
                        axis=1)
        geometry = target.geometry
    for col in conservation:
        conservation[col]["zones"] = float(out[col].sum())
        conservation[col]["uncovered"] = conservation[col]["tracts"] - conservation[col]["zones"]
    if "priority" in out.columns:
        out["priority_rank"] = out["priority"].rank(ascending=False, method="min").astype(
            "Int64")
    out["drivers"] = driver_text(zone_contrib, out, spec)
    result = gpd.GeoDataFrame(out, geometry=geometry.to_numpy(), crs=space).to_crs(4326)

    lost = {c: v["uncovered"] for c, v in conservation.items()
            if abs(v["uncovered"]) > 1e-6 * max(abs(v["tracts"]), 1)}
    sources, vintages, illustrative = merge_sources(scored, schools, zones, points)
    report = start_report(None, kind="school_zones", rows_read=len(schools), sources=sources,
                          vintages=vintages, illustrative=illustrative)
    report["rollup"] = {
        "method": method,
        "split": "by the share of each tract's point weight in the zone" if points is not None
                 else "by the share of each tract's area in the zone",
        "rates": f"weighted means: household rates by households, scores by {weight}",
        "conservation": conservation,
    }
    rules, rules_note = scored_rules(scored)
    report["rules"], report["definition"] = rules.as_dict(), rules.describe()
    if rules_note:
        report["notes"].append(rules_note)
    if lost:
        text = ", ".join(f"{c} {v:,.1f}" for c, v in lost.items())
        report["notes"].append(f"part of the tracts lies outside every zone: {text} not rolled up")
        warnings.warn(f"rollup_to_schools: zones do not cover every tract; left out: {text}",
                      RejectedRowsWarning, stacklevel=2)
    return attach_report(result, report)


def _tract_of_sites(sites: gpd.GeoDataFrame, service: pd.DataFrame | None,
                    tracts: gpd.GeoDataFrame | None) -> pd.Series:
    for col in ("GEOID", "tract_geoid", "tract_geoid_2020"):
        if col in sites.columns:
            return sites[col].astype("string").str.slice(0, 11)
    polys = tracts if tracts is not None else (service if isinstance(service, gpd.GeoDataFrame)
                                               else None)
    if polys is None:
        return pd.Series(pd.NA, index=sites.index, dtype="string")
    joined = gpd.sjoin(sites[[sites.geometry.name]].to_crs(4326),
                       polys[["GEOID", polys.geometry.name]].to_crs(4326),
                       how="left", predicate="within")
    return joined["GEOID"].groupby(level=0).first().reindex(sites.index).astype("string")


def site_connectivity(
    sites: gpd.GeoDataFrame,
    *,
    levels: pd.DataFrame | None = None,
    service: pd.DataFrame | None = None,
    tracts: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Flag each partner site with the service level and fiber presence where it stands.

    The site's H3 res-8 cell is used when BDC location data (``levels``, from
    ``service_levels``) cover it; otherwise its tract (``service``: service by tract, or
    scored tracts). The level is the most common one among the area's locations (a tie goes
    to the worse level).

    Parameters
    ----------
    sites : geopandas.GeoDataFrame
        Partner sites (points).
    levels : pandas.DataFrame, optional
        One row per location: ``h3_res8_id``, ``service_level``, ``has_fiber``.
    service : pandas.DataFrame, optional
        Per tract: ``GEOID``, ``unserved_share``, ``underserved_share``, ``served_share``,
        ``fiber_share`` (a GeoDataFrame of tracts also locates the sites).
    tracts : geopandas.GeoDataFrame, optional
        Tract polygons to find each site's tract when the sites carry no tract GEOID.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``sites`` with ``site_service_level``, ``site_unserved_share``,
        ``site_fiber_share``, ``site_fiber`` (any fiber), ``site_level_source``
        (``h3_res8``, ``tract`` or ``none``) and ``needs_connectivity_fix`` (level not served).
        When ``levels`` or ``service`` names its BEAD rule set, the copy's report names it too
        (``attrs["assetmap"]["rules"]``).

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely.geometry import Point
    >>> s = gpd.GeoDataFrame({"site_id": ["s1"], "GEOID": ["48135003001"]},
    ...                      geometry=[Point(-102.7, 31.6)], crs=4326)
    >>> svc = pd.DataFrame({"GEOID": ["48135003001"], "unserved_share": [0.7],
    ...                     "underserved_share": [0.2], "served_share": [0.1],
    ...                     "fiber_share": [0.0]})
    >>> out = site_connectivity(s, service=svc)
    >>> r = out.iloc[0]
    >>> r["site_service_level"], bool(r["site_fiber"]), bool(r["needs_connectivity_fix"])
    ('unserved', False, True)
    """
    out = sites.copy()
    n = len(out)
    shares = np.full((n, 3), np.nan)
    fiber = np.full(n, np.nan)
    source = np.full(n, "none", dtype=object)
    if levels is not None and len(levels):
        for col in ("h3_res8_id", "service_level", "has_fiber"):
            if col not in levels.columns:
                raise SchemaError(f"levels: no column {col!r} (expected service_levels output)")
        cell_tab = pd.crosstab(levels["h3_res8_id"], levels["service_level"], normalize="index")
        cell_tab = cell_tab.reindex(columns=list(_LEVELS), fill_value=0.0)
        cell_fiber = levels.groupby("h3_res8_id")["has_fiber"].mean()
        geo = out.geometry.to_crs(4326)
        cells = pd.Index([h3.latlng_to_cell(lat, lon, 8)
                          for lat, lon in zip(geo.y.to_numpy(), geo.x.to_numpy(), strict=True)])
        pos = cell_tab.index.get_indexer(cells)
        hit = pos >= 0
        shares[hit] = cell_tab.to_numpy()[pos[hit]]
        fiber[hit] = cell_fiber.reindex(cell_tab.index).to_numpy()[pos[hit]]
        source[hit] = "h3_res8"
    if service is not None and (source == "none").any():
        need = [c for c in ("GEOID", "unserved_share", "underserved_share", "served_share")
                if c not in service.columns]
        if need:
            raise SchemaError(f"service: missing columns {need}")
        tab = service.drop_duplicates("GEOID").set_index(service["GEOID"].drop_duplicates()
                                                         .astype(str).to_numpy())
        pos = tab.index.get_indexer(_tract_of_sites(out, service, tracts).fillna("").to_numpy())
        hit = (pos >= 0) & (source == "none")
        shares[hit] = tab[[f"{lv}_share" for lv in _LEVELS]].to_numpy(float)[pos[hit]]
        if "fiber_share" in tab.columns:
            fiber[hit] = tab["fiber_share"].to_numpy(float)[pos[hit]]
        source[hit] = "tract"
    known = ~np.isnan(shares).any(axis=1)
    missing = np.array(None, dtype=object)  # None for np.where: numpy's stubs refuse a bare None
    level = np.where(known, np.array(_LEVELS, dtype=object)[np.argmax(np.nan_to_num(shares,
                                                                                    nan=-1),
                                                                      axis=1)], missing)
    out["site_service_level"] = pd.array(level, dtype="string")
    out["site_unserved_share"] = shares[:, 0]
    out["site_fiber_share"] = fiber
    out["site_fiber"] = pd.array(np.where(np.isnan(fiber), missing, fiber > 0),
                                 dtype="boolean")
    out["site_level_source"] = source
    out["needs_connectivity_fix"] = pd.array(np.where(known, level != "served", missing),
                                             dtype="boolean")
    out.attrs = copy.deepcopy(sites.attrs)
    used = [f for f, src in ((levels, "h3_res8"), (service, "tract")) if (source == src).any()]
    rules, rules_note = scored_rules(*used)
    if used and rules_note is None:
        report = get_report(sites)
        report["rules"], report["definition"] = rules.as_dict(), rules.describe()
        out = attach_report(out, report)
    return out
