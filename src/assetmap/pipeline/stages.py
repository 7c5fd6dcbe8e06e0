"""The stages of a study run, each a plain function: load, analyse, write, manifest.

Kept apart from :mod:`assetmap.pipeline` so each stage stays short and testable; only the
pipeline and the CLI call them.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import platform
import threading
import warnings
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from assetmap.pipeline.sources import Sources, load_releases
from assetmap.pipeline.config import StudyConfig
from assetmap._report import get_report, merge_sources
from assetmap.pipeline._workers import OutputWorker
from assetmap.errors import ConfigError

__all__ = [
    "Results",
    "analyse",
    "fetch_sources",
    "input_files",
    "load_sources",
    "write_manifest",
    "write_outputs",
]


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


# --------------------------------------------------------------------------- load


def load_sources(config: StudyConfig, *, bdc_files: list[str]) -> Sources:
    """Load every source a study file names (see :mod:`assetmap.pipeline`)."""
    from assetmap.geoid import county_fips, state_fips
    from assetmap.loaders.acs import load_acs, read_acs_csv
    from assetmap.loaders.census import load_counties, load_school_districts, load_tracts

    area = config.area
    state = state_fips(area["state"])
    counties = [county_fips(state, c) for c in area["counties"]]
    census = config.census
    base_url = census.get("base_url") or None
    tract_kwargs: dict[str, Any] = {"state": state, "year": census["year"]}
    if counties:
        tract_kwargs["county"] = counties
    if census["tracts"] in {"tiger", "cb"}:
        tract_kwargs["source"] = census["tracts"]
        if base_url:
            tract_kwargs["base_url"] = base_url
    else:
        tract_kwargs["path"] = census["tracts"]
    tracts = load_tracts(**tract_kwargs)

    county = None
    district = None
    if census["tracts"] in {"tiger", "cb"}:
        county = load_counties(
            state=state, county=counties or None, year=census["year"],
            **({"base_url": base_url} if base_url else {}),
        )
        if area.get("district"):
            districts = load_school_districts(
                state=state, year=census["year"], kind="unified",
                **({"base_url": base_url} if base_url else {}),
            )
            district = districts[districts["GEOID"] == area["district"]]
            if district.empty:
                district = None

    if census["acs"] == "api":
        acs_kwargs: dict[str, Any] = {"state": state, "year": census["acs_year"]}
        if counties:
            acs_kwargs["county"] = counties
        if census.get("acs_base_url"):
            acs_kwargs["base_url"] = census["acs_base_url"]
        acs = load_acs(**acs_kwargs)
    else:
        acs = read_acs_csv(census["acs"])

    bdc_files = _local_files(bdc_files)
    previous_files = _local_files(config.bdc["previous_files"]) if bdc_files else []
    releases, others = load_releases(
        bdc_files, previous_files, counties=counties or None,
        meanwhile=lambda: _other_sources(config, tracts),
    )
    label = config.study.get("name") or "study area"
    return Sources(
        tracts=tracts, county=county, district=district, acs=acs, **releases, **others,
        label=label, release_label=config.bdc["release"] or None,
        previous_release_label=config.bdc["previous_release"] or None,
    )


def _other_sources(config: StudyConfig, tracts: gpd.GeoDataFrame) -> dict[str, Any]:
    """Schools, partner sites, zones, survey, rurality, points and speed tests of a study."""
    area = config.area
    srcs = config.sources
    schools = sites = survey = zones = rurality = points = None
    if srcs["schools"]:
        from assetmap.loaders.nces import read_schools

        schools = read_schools(srcs["schools"], district=area.get("district") or None)
    if srcs["partners"]:
        from assetmap.loaders.partners import read_partner_sites

        sites = read_partner_sites(srcs["partners"], area=tracts)
    if srcs["zones"]:
        from assetmap.loaders.nces import read_attendance_zones

        zones = read_attendance_zones(srcs["zones"], schools=schools)
    if srcs["survey"]:
        from assetmap.loaders.survey import read_survey

        survey = read_survey(srcs["survey"], areas=tracts, min_cell=config.survey["min_cell"])
    if srcs["rurality"]:
        from assetmap.loaders.rurality import read_ruca

        rurality = read_ruca(srcs["rurality"])
    if srcs["points"]:
        points = gpd.read_file(srcs["points"]).to_crs(4326)
    speedtests = speed_tiles = None
    if srcs["speedtests"]:
        from assetmap.loaders.speedtests import read_speedtests

        speedtests = read_speedtests(srcs["speedtests"], area=tracts)
    if srcs["ookla_tiles"]:
        from assetmap.loaders.speedtests import read_ookla_tiles

        speed_tiles = read_ookla_tiles(srcs["ookla_tiles"], area=tracts)
    return {"schools": schools, "sites": sites, "zones": zones, "survey": survey,
            "rurality": rurality, "points": points, "speedtests": speedtests,
            "speed_tiles": speed_tiles}


def _local_files(files: list[str]) -> list[str]:
    """Download (or take from the cache) the BDC files given as URLs; local paths pass."""
    from assetmap._http import fetch

    return [
        str(fetch(f, expect="zip" if f.lower().split("?")[0].endswith(".zip") else "csv",
                  description="FCC BDC availability"))
        if "://" in f else f
        for f in files
    ]


def fetch_sources(config: StudyConfig) -> list[Path]:
    """Download and cache the remote sources of a study; return the cached files."""
    from assetmap._http import cached_path

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        load_sources(config, bdc_files=[f for f in config.bdc["files"] if "://" in f])
    urls = [f for f in config.bdc["files"] if "://" in f]
    return [p for p in (cached_path(u) for u in urls) if p is not None]


# --------------------------------------------------------------------------- analyse


#: The modules of :func:`analyse` (scipy among them: ~0.5 s of imports).
ANALYSIS_MODULES = ("assetmap.analysis.plan", "assetmap.analysis.score",
                    "assetmap.analysis.rollup", "assetmap.analysis.evidence",
                    "assetmap.analysis.speedtests", "assetmap.bdc.release_change")


def import_analysis_soon() -> threading.Thread:
    """Import the analysis modules in a thread while the sources load (returns the thread).

    Loading spends most of its time in pyarrow, DuckDB, pyogrio and numpy code that does
    not hold the GIL, so the imports go on meanwhile rather than after it. (Start it after
    :func:`assetmap.pipeline._workers.output_worker`, which forks only while one thread runs.)
    """
    def run() -> None:
        for name in ANALYSIS_MODULES:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - imported again where used, and raised there
                return

    thread = threading.Thread(target=run, name="assetmap-imports", daemon=True)
    thread.start()
    return thread


def analyse(sources: Sources, config: StudyConfig, *,
            scores_ready: Callable[[Results], None] | None = None) -> Results:
    """Score the tracts, roll them up to schools, flag sites and plan new ones.

    The evidence (speed tests, claims, challenge candidates) and the change between BDC
    releases need nothing from the scores, so each runs in a thread beside the rest: most of
    their work is numpy, shapely and pyarrow code that does not hold the GIL. With
    ``scores_ready``, the tract scores come first and ``scores_ready(results)`` is called at
    once (a study run hands the print map to its second process there); the two threads
    start after it.
    """
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="assetmap-side") as pool:
        side: list[Future[dict[str, Any]]] = []

        def start_side(results: Results | None = None) -> None:
            if results is not None and scores_ready is not None:
                scores_ready(results)
            side.extend([pool.submit(_evidence, sources), pool.submit(_release_change, sources)])

        if scores_ready is None:
            start_side()
        try:
            results = _scores_and_plan(sources, config,
                                       scores_ready=start_side if scores_ready else None)
        except BaseException:
            for job in side:
                job.cancel()
            raise
        for job in side:
            for name, value in job.result().items():
                setattr(results, name, value)
    return results


def _scores_and_plan(sources: Sources, config: StudyConfig, *,
                     scores_ready: Callable[[Results], None] | None = None) -> Results:
    """Scores, interventions, H3 cells, school roll-up, site connectivity, plan, what-if.

    ``scores_ready(results)`` is called as soon as the scores and interventions exist.
    """
    from assetmap.analysis.plan import apply_plan, recommend_interventions, select_sites
    from assetmap.analysis.rollup import rollup_to_schools, site_connectivity
    from assetmap.analysis.score import score_tracts

    weights = config.weights or None
    access = config.access
    scored = score_tracts(
        sources.tracts, service=sources.service, acs=sources.acs, sites=sources.sites,
        survey=sources.survey, rurality=sources.rurality, schools=sources.schools,
        points=sources.points, weights=weights,
        urban_reach_m=access["urban_reach_m"], rural_reach_m=access["rural_reach_m"],
    )
    interventions = recommend_interventions(scored)
    scored = scored.assign(
        intervention=interventions["intervention"],
        intervention_reason=interventions["intervention_reason"],
    )
    results = Results(scored=scored)
    if scores_ready is not None:
        scores_ready(results)
    if sources.locations is not None and "h3_res8_id" in sources.locations:
        from assetmap.bdc.service import service_by_area

        results.h3_cells = service_by_area(sources.locations, level="h3")
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


def _release_change(sources: Sources) -> dict[str, Any]:
    """Return the change between the two BDC releases, as :class:`Results` fields."""
    if sources.previous_availability is None or sources.availability is None:
        return {}
    from assetmap.bdc.release_change import release_change_report

    change = release_change_report(
        sources.previous_availability, sources.availability, tracts=sources.tracts,
        schools=sources.schools, zones=sources.zones,
        old_label=sources.previous_release_label or "previous release",
        new_label=sources.release_label or "current release",
    )
    return {"release_change": change, "change": change.tracts}


def _evidence(sources: Sources) -> dict[str, Any]:
    """Speed tests by tract and H3 cell, claims vs evidence by tract, challenge candidates.

    Each step runs only when its inputs are there: tests or a survey for the evidence, and
    location-level BDC rows for the candidates (listed by H3 res-8 cell, never a location).
    """
    from assetmap.analysis.evidence import challenge_candidates, claims_vs_evidence
    from assetmap.analysis.speedtests import aggregate_speedtests

    found: dict[str, Any] = {}
    frames = sources.speed_frames()
    if frames:
        found["speed_tracts"] = aggregate_speedtests(frames, areas=sources.tracts, level="tract")
        found["speed_h3"] = aggregate_speedtests(frames, level="h3")
    if sources.service is None or (not frames and sources.survey is None):
        return found
    found["evidence"] = evidence = claims_vs_evidence(
        sources.service, speedtests=found.get("speed_tracts"), survey=sources.survey,
        level="tract",
    )
    flagged = evidence["flag_claimed_served_contradicted"].any()
    if flagged and sources.availability is not None and len(sources.availability):
        found["challenges"] = challenge_candidates(sources.availability, evidence, level="h3")
    return found


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


# --------------------------------------------------------------------------- outputs


def write_outputs(
    results: Results,
    sources: Sources,
    config: StudyConfig,
    *,
    formats: tuple[str, ...],
    out_dir: Path,
    worker: OutputWorker | None = None,
) -> dict[str, Path]:
    """Write the maps, report and exports named in ``formats`` into ``out_dir``.

    With a ``worker`` (:func:`assetmap.pipeline._workers.output_worker`), the print map, the HTML map
    and the report are drawn in that process while this one writes the exports. A study run
    uses :class:`OutputJobs` instead, to send the print map before the analysis ends.
    """
    jobs = OutputJobs(sources, config, formats=formats, out_dir=out_dir, worker=worker)
    jobs.scores_ready(results)
    return jobs.write(results)


class OutputJobs:
    """The outputs of one run, each handed out as soon as what it needs exists.

    :meth:`scores_ready` sends the print map to the worker (it needs only the scores);
    :meth:`write` sends the HTML map and the report, writes the exports here, then waits for
    the worker. Without a worker, :meth:`write` writes everything in this process.
    """

    def __init__(self, sources: Sources, config: StudyConfig, *, formats: tuple[str, ...],
                 out_dir: Path, worker: OutputWorker | None = None) -> None:
        self.sources, self.config, self.formats, self.worker = sources, config, formats, worker
        self.out_dir = Path(out_dir)
        self.stem = _safe_stem(config.study.get("name") or "study")
        self.title = (config.study.get("title")
                      or f"{self.stem}: connectivity gaps and nearby resources")
        self.paths: dict[str, Path] = {}
        if "html" in formats:
            self.paths["html"] = _inside(self.out_dir, f"{self.stem}_equity_map.html")
        for ext in ("png", "pdf", "svg"):
            if ext in formats:
                self.paths[ext] = _inside(self.out_dir, f"{self.stem}_priority_map.{ext}")
        for fmt, ext in (("report", "html"), ("markdown", "md")):
            if fmt in formats:
                self.paths[fmt] = _inside(self.out_dir, f"{self.stem}_report.{ext}")
        self._pending: list[Any] = []
        self._printed = False

    def _static(self) -> dict[str, Path]:
        return {k: v for k, v in self.paths.items() if k in ("png", "pdf", "svg")}

    def scores_ready(self, results: Results) -> None:
        """Send the print map to the worker, if there is one and the map is asked for."""
        static = self._static()
        if self.worker is None or not static or self._printed:
            return
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._pending.append(self.worker.submit(
            scored=results.scored, paths=static, title=self.title,
            context=self.sources.outline))
        self._printed = True

    def write(self, results: Results) -> dict[str, Path]:
        """Write (or send) every output not yet handed out; wait for them; return the files."""
        from assetmap.pipeline._workers import collect, write_drawn

        self.out_dir.mkdir(parents=True, exist_ok=True)
        sources, scored = self.sources, results.scored
        rest = {k: v for k, v in self.paths.items()
                if not (self._printed and k in ("png", "pdf", "svg"))}
        job: dict[str, Any] = {
            "scored": scored, "paths": rest, "title": self.title, "context": sources.outline,
            "map_image": self.paths.get("png"),
        }
        if "html" in rest:
            job["html"] = {
                "sites": sources.sites, "schools": sources.schools, "zones": results.zones,
                "district": sources.outline, "h3_cells": results.h3_cells,
                "survey": sources.survey, "plan": results.plan,
                "offline": bool(self.config.outputs["offline_html"]),
                "plan_reach_m": (float(self.config.plan["reach_m"])
                                 if results.plan is not None else None),
                "evidence": results.evidence, "challenges": results.challenges,
                "change": results.change, "change_since": sources.previous_release_label,
            }
        if "report" in rest or "markdown" in rest:
            job["report"] = {
                "plan": results.plan, "schools": results.zones, "sites": sources.sites,
                "whatif": results.whatif, "evidence": results.evidence,
                "challenges": results.challenges, "change": results.release_change,
            }
        exports = _exports(results, sources, self.formats, self.out_dir, self.stem)
        paths = dict(self.paths)
        if self.worker is not None:
            if rest:
                self._pending.append(self.worker.submit(**job))
            if exports is not None:
                paths.update(write_exports(**exports))
            for pending in self._pending:  # an error in the worker is raised here
                paths.update(collect(pending))
            self._pending = []
        else:
            paths.update(write_drawn(**job, exports=exports))
        return paths


def _exports(results: Results, sources: Sources, formats: tuple[str, ...], out_dir: Path,
             stem: str) -> dict[str, Any] | None:
    """Return the :func:`write_exports` arguments for the CSV and GeoPackage formats asked for."""
    export_formats = tuple(f for f in ("csv", "gpkg") if f in formats)
    if not export_formats:
        return None
    layers: dict[str, pd.DataFrame] = {f"{stem}_tracts": results.scored}
    for name, frame in (("school_zones", results.zones), ("plan", results.plan),
                        ("sites", results.site_connectivity), ("change", results.change),
                        ("change_schools", results.change_schools),
                        ("evidence", _with_tracts(results.evidence, sources.tracts))):
        if frame is not None and len(frame):
            layers[f"{stem}_{name}"] = frame
    return {"layers": layers, "challenges": results.challenges, "out_dir": out_dir,
            "stem": stem, "formats": export_formats}


def write_exports(*, layers: dict[str, pd.DataFrame], challenges: gpd.GeoDataFrame | None,
                  out_dir: Path, stem: str, formats: tuple[str, ...]) -> dict[str, Path]:
    """Write the layers and the challenge candidates (CSV, GeoPackage); return their files.

    The keys are ``<layer without the stem>.<extension>``, e.g. ``tracts.csv``.
    """
    from assetmap.outputs.export import export_layers

    written = export_layers(layers, out_dir, formats=formats)
    if challenges is not None and len(challenges):
        written.update(_write_challenges(challenges, out_dir, stem, formats))
    paths: dict[str, Path] = {}
    for name, files in written.items():
        for file in files:
            if not file.name.endswith(".report.json"):
                paths[f"{name.removeprefix(stem + '_')}.{file.suffix[1:]}"] = Path(file)
    return paths


def _with_tracts(frame: pd.DataFrame | None, tracts: gpd.GeoDataFrame) -> pd.DataFrame | None:
    """Return a by-tract table as a layer with the tract polygons (same report)."""
    if frame is None or "GEOID" not in frame or "GEOID" not in tracts:
        return frame
    shapes = tracts[["GEOID", "geometry"]].to_crs(4326).drop_duplicates("GEOID")
    layer = shapes.merge(pd.DataFrame(frame).assign(GEOID=frame["GEOID"].astype(str)),
                         on="GEOID", how="right")
    layer.attrs = dict(frame.attrs)
    return gpd.GeoDataFrame(layer, geometry="geometry", crs=4326)


def _write_challenges(
    challenges: gpd.GeoDataFrame, out_dir: Path, stem: str, formats: tuple[str, ...]
) -> dict[str, list[Path]]:
    """Challenge candidates: the CSV (areas only, formula cells neutralised) and a GeoPackage."""
    from assetmap.outputs.challenges import write_challenge_csv
    from assetmap.outputs.export import export_layers

    name = f"{stem}_challenge_candidates"
    if "location_id" in challenges.columns:  # areas only, never a location
        challenges = challenges.drop(columns="location_id")
    files = export_layers({name: challenges}, out_dir, formats=("gpkg",) if "gpkg" in formats
                          else ())[name]
    if "csv" in formats:
        files.insert(0, write_challenge_csv(challenges, _inside(out_dir, f"{name}.csv")))
    return {name: files}


def _safe_stem(name: str) -> str:
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in name.strip().lower())
    return stem.strip("_") or "study"


def _inside(out_dir: Path, name: str) -> Path:
    path = (out_dir / name).resolve()
    if out_dir.resolve() not in path.parents:
        raise ConfigError(f"refusing to write {path} outside the output folder {out_dir}")
    return path


# --------------------------------------------------------------------------- manifest


def input_files(config: StudyConfig) -> list[Path]:
    """Local input files named by a study (for hashing in the manifest)."""
    names = [config.census["tracts"], config.census["acs"], *config.bdc["files"],
             *config.bdc["previous_files"], *config.sources.values()]
    files = []
    for name in names:
        if name and "://" not in name and name not in {"tiger", "cb", "api"}:
            path = Path(name)
            if path.is_file():
                files.append(path)
    if config.path is not None:
        files.insert(0, Path(config.path))
    return files


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in ("assetmap", "geopandas", "shapely", "pandas", "pyproj", "duckdb", "folium"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def write_manifest(
    config: StudyConfig,
    sources: Sources,
    results: Results,
    paths: dict[str, Path],
    *,
    inputs: list[Path],
) -> dict[str, Any]:
    """Write ``manifest.json`` (sources, vintages, versions, input hashes) and return it."""
    frames = [*sources.frames().values(), results.scored]
    cited, vintages, illustrative = merge_sources(*frames)
    reports = {name: _compact(get_report(frame)) for name, frame in sources.frames().items()}
    manifest = {
        "assetmap_manifest": 1,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "study": config.study,
        "study_file": str(config.path) if config.path else None,
        "area": config.area,
        "weights": results.scored.attrs.get("assetmap", {}).get("score_spec", {}).get(
            "weights", config.weights
        ),
        "sources": cited,
        "vintages": vintages,
        "illustrative_data": illustrative,
        "inputs": [
            {"path": str(p), "bytes": p.stat().st_size, "sha256": _sha256(p)} for p in inputs
        ],
        "versions": _versions(),
        "outputs": {k: Path(v).name for k, v in paths.items()},
        "loaded": reports,
    }
    out = Path(config.out_dir) / "manifest.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
    return manifest


def _compact(report: dict[str, Any]) -> dict[str, Any]:
    keep = ("source", "kind", "rows_read", "rows_out", "repaired", "rejected", "illustrative")
    return {k: report.get(k) for k in keep}
