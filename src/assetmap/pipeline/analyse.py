"""The analyse stage: scores, interventions, school roll-up, site plan, evidence, change.

Frames in, frames out: :func:`analyse` takes the loaded :class:`Sources` and returns the
:class:`Results` of one run; nothing here reads or writes a file.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from assetmap._report import get_report
from assetmap.bdc.rules import REQUIRED_KEYS, RuleSet, rule_set
from assetmap.errors import ConfigError
from assetmap.pipeline.config import StudyConfig
from assetmap.pipeline.sources import Sources

__all__ = ["Results", "analyse", "check_rules"]


@dataclass
class Results:
    """The analysed frames of one run."""

    scored: gpd.GeoDataFrame
    zones: gpd.GeoDataFrame | None = None
    plan: gpd.GeoDataFrame | None = None
    whatif: gpd.GeoDataFrame | None = None
    site_connectivity: gpd.GeoDataFrame | None = None
    h3_cells: pd.DataFrame | None = None
    change: pd.DataFrame | None = None
    speed_tracts: gpd.GeoDataFrame | None = None
    speed_h3: gpd.GeoDataFrame | None = None
    evidence: pd.DataFrame | None = None
    challenges: gpd.GeoDataFrame | None = None
    release_change: Any = None  # assetmap.bdc.release_change.ReleaseChange
    notes: list[str] = field(default_factory=list)

    @property
    def change_schools(self) -> pd.DataFrame | None:
        """Change between releases per school area (``release_change_report``), if any."""
        return None if self.release_change is None else self.release_change.schools

    @property
    def change_summary(self) -> dict[str, Any] | None:
        """County totals of the change between releases, if any."""
        return None if self.release_change is None else self.release_change.summary


def analyse(sources: Sources, config: StudyConfig) -> Results:
    """Score the tracts, roll them up to schools, flag sites and plan new ones.

    The evidence (speed tests, claims, challenge candidates) and the change between BDC
    releases need nothing from the scores, so each runs in a thread beside them: most of
    their work is numpy, shapely and pyarrow code that does not hold the GIL. Each reads the
    sources and writes nothing but its own result.

    Parameters
    ----------
    sources : Sources
        The loaded sources (:func:`assetmap.pipeline.load.load_sources`, or
        :func:`assetmap.load_demo`).
    config : StudyConfig
        The study: weights, reach, plan size.

    Returns
    -------
    Results

    Examples
    --------
    Through a study (``Study.analyse`` calls this)::

        import assetmap as am
        study = am.Study.from_toml("study.toml")
        results = study.analyse(study.load())
        results.scored.nlargest(5, "priority")
    """
    rules = config.rules
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="assetmap-side") as pool:
        side = [pool.submit(_evidence, sources, rules),
                pool.submit(_release_change, sources, rules)]
        try:
            results = _scores_and_plan(sources, config)
        except BaseException:
            for job in side:
                job.cancel()
            raise
        for job in side:
            for name, value in job.result().items():
                setattr(results, name, value)
    return results


def _scores_and_plan(sources: Sources, config: StudyConfig) -> Results:
    """Scores, interventions, H3 cells, school roll-up, site connectivity, plan, what-if."""
    from assetmap.analysis.district_area import district_counts
    from assetmap.analysis.plan import apply_plan, recommend_interventions, select_sites
    from assetmap.analysis.rollup import rollup_to_schools, site_connectivity
    from assetmap.analysis.score import score_tracts

    weights = config.weights or None
    access = config.access
    # a district study: each tract counts only its households and locations in the district
    service, acs = (None if f is None else district_counts(f, sources.tracts)
                    for f in (sources.service, sources.acs))
    scored = score_tracts(
        sources.tracts, service=service, acs=acs, sites=sources.sites,
        survey=sources.survey, rurality=sources.rurality, schools=sources.schools,
        points=sources.points, weights=weights,
        urban_reach_m=access["urban_reach_m"], rural_reach_m=access["rural_reach_m"],
    )
    interventions = recommend_interventions(
        scored, programs=config.plan.get("funding_programs") or None,
        language=config.outputs.get("language", "en"))
    scored = scored.assign(
        intervention=interventions["intervention"],
        intervention_reason=interventions["intervention_reason"],
        intervention_funding=interventions["intervention_funding"],
    )
    results = Results(scored=scored)
    if sources.locations is not None and "h3_res8_id" in sources.locations:
        from assetmap.bdc.service import service_by_area

        results.h3_cells = _in_district(
            service_by_area(sources.locations, level="h3", rules=config.rules), sources)
    if sources.schools is not None and len(sources.schools):
        results.zones = rollup_to_schools(scored, sources.schools, zones=sources.zones)
    if sources.sites is not None and len(sources.sites):
        results.site_connectivity = site_connectivity(
            sources.sites, levels=sources.locations, service=sources.service, tracts=scored
        )
        plan_cfg = config.plan
        candidates = _plan_candidates(sources.sites, sources.schools)
        existing = sources.sites[sources.sites["status"].isin(["active", "agreement_signed"])]
        if plan_cfg["k"] > 0 and len(candidates):
            k = min(plan_cfg["k"], len(candidates))
            demand, weight = _plan_demand(scored, results.h3_cells, plan_cfg["weight"])
            reach = float(plan_cfg["reach_m"])
            results.plan = select_sites(
                demand, candidates=candidates.assign(plan_reach_m=reach), k=k, weight=weight,
                reach_m="plan_reach_m", candidate_status=None,
                existing=_existing_reach(existing, reach) if len(existing) else None,
            )
            results.whatif = apply_plan(scored, new_sites=results.plan, sites=sources.sites,
                                        reach_m=reach)
    return results


def check_rules(sources: Sources, rules: RuleSet) -> None:
    """Refuse sources whose BDC service was classified under another rule set than ``rules``.

    Examples
    --------
    >>> import assetmap as am
    >>> rows = pd.DataFrame({
    ...     "frn": ["1"], "provider_id": ["p1"], "brand_name": ["A"], "location_id": ["L1"],
    ...     "technology": [50], "max_advertised_download_speed": [1000],
    ...     "max_advertised_upload_speed": [1000], "low_latency": [1],
    ...     "business_residential_code": ["R"], "state_usps": ["TX"],
    ...     "block_geoid": ["481350001001000"], "h3_res8_id": ["8848a2d8c9fffff"]})
    >>> sources = Sources(tracts=gpd.GeoDataFrame(), locations=am.service_levels(rows))
    >>> check_rules(sources, rule_set("bead"))
    >>> check_rules(sources, rule_set("bead_2025"))
    Traceback (most recent call last):
    ...
    assetmap.errors.ConfigError: the BDC service of the loaded sources (locations) ...
    """
    def definition(r: RuleSet) -> tuple[Any, ...]:
        return r.reliable_technologies, r.low_latency_required, r.served, r.underserved

    for name in ("locations", "service", "previous_service"):
        frame = getattr(sources, name)
        recorded = None if frame is None else get_report(frame).get("rules")
        if not isinstance(recorded, dict):
            continue
        found = rule_set({k: recorded[k] for k in (*REQUIRED_KEYS, "name") if k in recorded})
        if definition(found) != definition(rules):
            raise ConfigError(
                f"the BDC service of the loaded sources ({name}) was classified under rule set "
                f"{found.name!r}, but the study's [bdc] rules is {rules.name!r}: load the "
                "sources again with the study (Study.load), or set [bdc] rules to "
                f"{found.name!r}")


def _release_change(sources: Sources, rules: RuleSet) -> dict[str, Any]:
    """Return the change between the two BDC releases, as :class:`Results` fields."""
    if sources.previous_availability is None or sources.availability is None:
        return {}
    from assetmap.bdc.release_change import release_change_report

    change = release_change_report(
        sources.previous_availability, sources.availability, tracts=sources.tracts,
        schools=sources.schools, zones=sources.zones,
        old_label=sources.previous_release_label or "previous release",
        new_label=sources.release_label or "current release", rules=rules,
    )
    return {"release_change": change, "change": change.tracts}


def _evidence(sources: Sources, rules: RuleSet) -> dict[str, Any]:
    """Speed tests by tract and H3 cell, claims vs evidence by tract, challenge candidates.

    Each step runs only when its inputs are there: tests or a survey for the evidence, and
    location-level BDC rows for the candidates (listed by H3 res-8 cell, never a location).
    """
    from assetmap.analysis.evidence import challenge_candidates, claims_vs_evidence
    from assetmap.analysis.speedtests import aggregate_speedtests

    found: dict[str, Any] = {}
    frames = sources.speed_frames()
    service = sources.service
    if service is not None and "household_share" in sources.tracts:  # a district study
        service = service[service["GEOID"].isin(sources.tracts["GEOID"])]
    if frames:
        found["speed_tracts"] = aggregate_speedtests(frames, areas=sources.tracts, level="tract",
                                                     rules=rules)
        found["speed_h3"] = aggregate_speedtests(frames, level="h3", rules=rules)
    if service is None or (not frames and sources.survey is None):
        return found
    found["evidence"] = evidence = claims_vs_evidence(
        service, speedtests=found.get("speed_tracts"), survey=sources.survey,
        level="tract", rules=rules,
    )
    flagged = evidence["flag_claimed_served_contradicted"].any()
    if flagged and sources.availability is not None and len(sources.availability):
        found["challenges"] = challenge_candidates(sources.availability, evidence, level="h3",
                                                   rules=rules)
    return found


def _in_district(cells: pd.DataFrame, sources: Sources) -> pd.DataFrame:
    """Keep, in a district study, the H3 cells whose centre lies in the district (map, plan)."""
    if sources.district is None or "household_share" not in sources.tracts or not len(cells):
        return cells
    import h3

    lat_lng = np.array([h3.cell_to_latlng(c) for c in cells["h3_res8_id"]])
    centres = gpd.GeoSeries(gpd.points_from_xy(lat_lng[:, 1], lat_lng[:, 0]), crs=4326)
    outline = sources.district.to_crs(4326).geometry.make_valid().union_all()
    return cells[centres.intersects(outline).to_numpy()]


PLAN_LOCATION_WEIGHT = "unserved_underserved_locations"
#: Reach assumed for a hotspot whose Wi-Fi radius is not recorded (metres).
WIFI_RADIUS_UNKNOWN_M = 100.0
_HOST_TYPES = ("library", "school", "place_of_worship", "community_center", "public_housing",
               "health_center")


def _existing_reach(existing: gpd.GeoDataFrame, reach_m: float) -> gpd.GeoDataFrame:
    """Existing sites' reach: a hotspot or Wi-Fi bus stop reaches its Wi-Fi radius only."""
    radius = pd.to_numeric(existing.get("wifi_radius_m"), errors="coerce")
    wifi_only = existing["site_type"].isin(["hotspot", "wifi_bus_stop"])
    reach = np.where(wifi_only, radius.fillna(WIFI_RADIUS_UNKNOWN_M), reach_m)
    return existing.assign(plan_reach_m=reach)


def _plan_candidates(
    sites: gpd.GeoDataFrame, schools: gpd.GeoDataFrame | None
) -> gpd.GeoDataFrame:
    """Candidate hosts for a new learning center or Wi-Fi site.

    Partner-registry entries in the first steps of a partnership (inquiry, vetted); anchor
    sites of a hosting type with no partnership recorded (a library, say); and every school
    (parking-lot Wi-Fi). Sites already active or under agreement are the fixed existing sites.
    """
    status = sites["status"].astype("string").str.lower()
    registry = sites[status.isin(["inquiry", "vetted"]).fillna(False).to_numpy()]
    anchors = sites[(status.isna() & sites["site_type"].isin(_HOST_TYPES)).to_numpy()]
    anchors = anchors.assign(status="no partnership recorded")
    parts = [registry, anchors]
    if schools is not None and len(schools):
        parts.append(gpd.GeoDataFrame(
            {"site_id": "school:" + schools["school_id"].astype(str),
             "name": schools["name"], "site_type": "school",
             "status": "district campus"},
            geometry=schools.geometry.to_numpy(), crs=schools.crs,
        ).to_crs(4326))
    keep = ["site_id", "name", "site_type", "status", "geometry"]
    frame = pd.concat([p[keep] for p in parts], ignore_index=True)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=4326)


def _plan_demand(
    scored: gpd.GeoDataFrame, h3_cells: pd.DataFrame | None, weight: str
) -> tuple[gpd.GeoDataFrame, str]:
    """Demand points for site selection.

    With location-level BDC data, the demand is each H3 res-8 cell's unserved and underserved
    residential locations at the cell centre (about 460 m across, much finer than a tract);
    otherwise the tracts themselves with the study's ``[plan] weight``.
    """
    if h3_cells is None or not len(h3_cells) or weight != "unserved_households":
        return scored, weight
    import h3

    cells = h3_cells[(h3_cells["unserved"] + h3_cells["underserved"]) > 0]
    if cells.empty:
        return scored, weight
    lat_lng = [h3.cell_to_latlng(c) for c in cells["h3_res8_id"]]
    demand = gpd.GeoDataFrame(
        {"h3_res8_id": cells["h3_res8_id"].to_numpy(),
         PLAN_LOCATION_WEIGHT: (cells["unserved"] + cells["underserved"]).to_numpy(float)},
        geometry=gpd.points_from_xy([p[1] for p in lat_lng], [p[0] for p in lat_lng]),
        crs=4326,
    )
    return demand, PLAN_LOCATION_WEIGHT
