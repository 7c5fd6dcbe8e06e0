"""The study area of a study file: the district (a file or TIGER), its counties and tracts.

``[area] district_boundary`` (any vector file) or, for an online study, the TIGER school
district of ``[area] district`` (LEAID) makes the district the study area: the tracts are
those that meet it, each with its ``household_share``
(:func:`assetmap.analysis.district_area.district_tracts`), and when ``[area] counties`` is
empty the counties are those the district meets. Without a district the area is the counties.

The shares come from block-group points: ``[sources] points`` when given (weighted by
``households``, else ``population``), else for an online study the TIGER block groups'
internal points weighted by ACS block-group households (B19001); else by area.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from assetmap._report import attach_report, start_report
from assetmap.errors import AssetmapWarning
from assetmap.pipeline.config import StudyConfig

__all__ = ["StudyArea", "study_area"]

#: Point weight columns tried in order for ``[sources] points``.
POINT_WEIGHTS = ("households", "population", "weight", "POP2020")
#: TIGER school-district kinds tried in order for ``[area] district`` (a LEAID).
DISTRICT_KINDS = ("unified", "elementary", "secondary")
#: A county meets the district when at least this share of the district lies in it.
COUNTY_MIN_SHARE = 0.001


@dataclass(frozen=True)
class StudyArea:
    """Tracts (with ``household_share`` for a district), outlines, points and county FIPS."""

    tracts: gpd.GeoDataFrame
    county: gpd.GeoDataFrame | None
    district: gpd.GeoDataFrame | None
    points: gpd.GeoDataFrame | None
    counties: list[str]


def _tiger(config: StudyConfig) -> bool:
    return config.census["tracts"] in {"tiger", "cb"}


def _base(config: StudyConfig) -> dict[str, Any]:
    base_url = config.census.get("base_url") or None
    return {"base_url": base_url} if base_url else {}


def read_district_file(path: str) -> gpd.GeoDataFrame:
    """Read ``[area] district_boundary`` (GeoJSON, GeoPackage, shapefile or zip) in EPSG:4326."""
    from assetmap.loaders._tables import read_vector

    frame, notes = read_vector(path)
    name = Path(path).name
    report = start_report(path, kind="district_boundary", rows_read=len(frame),
                          vintages={"district boundary": f"local file {name}"},
                          sources=[{"name": f"School district boundary (local file {name})"}])
    report["notes"].extend(notes)
    return attach_report(frame, report)


def _tiger_district(config: StudyConfig, state: str) -> gpd.GeoDataFrame | None:
    """Return the TIGER school district whose GEOID is ``[area] district``.

    Unified districts are looked up first, then elementary and secondary ones (a state with
    none of a kind has no such file: HTTP 404 is taken as "not of this kind"). The report
    of the district found says which kind it is.
    """
    from assetmap._http import HTTPStatusError
    from assetmap._report import get_report
    from assetmap.loaders.census import load_school_districts

    leaid, year = config.area["district"], config.census["year"]
    for kind in DISTRICT_KINDS:
        try:
            districts = load_school_districts(state=state, year=year, kind=kind,
                                              **_base(config))
        except HTTPStatusError as exc:
            if exc.status != 404:
                raise
            continue
        district = districts[districts["GEOID"] == leaid]
        if not district.empty:
            report = get_report(districts)
            report["notes"].append(f"LEAID {leaid} found among the {kind} school districts "
                                   f"(TIGER {year}, state {state})")
            report["district_kind"] = kind
            return attach_report(district.reset_index(drop=True), report)
    warnings.warn(f"[area] district {leaid}: no {', '.join(DISTRICT_KINDS[:-1])} or "
                  f"{DISTRICT_KINDS[-1]} school district with this GEOID in the TIGER {year} "
                  f"files of state {state}; the study area is the counties (or give "
                  "[area] district_boundary, a local boundary file)",
                  AssetmapWarning, stacklevel=3)
    return None


def _counties_met(config: StudyConfig, state: str, district: gpd.GeoDataFrame) -> list[str]:
    """Return the state's counties that hold part of the district (from the TIGER county file)."""
    from assetmap._crs import estimate_utm
    from assetmap.loaders.census import load_counties

    counties = load_counties(state=state, year=config.census["year"], **_base(config))
    crs = estimate_utm(district)
    outline = district.to_crs(crs).make_valid().union_all()
    inside = counties.to_crs(crs).intersection(outline).area / outline.area
    return sorted(counties.loc[(inside >= COUNTY_MIN_SHARE).to_numpy(), "GEOID"].astype(str))


def _points(config: StudyConfig, state: str, counties: list[str],
            given: gpd.GeoDataFrame | None) -> tuple[gpd.GeoDataFrame | None, str]:
    """Block-group points for the household shares, and their weight column."""
    if given is not None:
        return given, next((c for c in POINT_WEIGHTS if c in given.columns), "weight")
    if not _tiger(config) or config.census["acs"] != "api":
        return None, "households"
    from assetmap.loaders.acs import load_acs
    from assetmap.loaders.census import load_block_groups

    groups = load_block_groups(state=state, county=counties or None, year=config.census["year"],
                               source="tiger", **_base(config))
    acs_kwargs: dict[str, Any] = {"state": state, "year": config.census["acs_year"],
                                  "geography": "block group", "tables": ["income"]}
    if counties:
        acs_kwargs["county"] = counties
    if config.census.get("acs_base_url"):
        acs_kwargs["base_url"] = config.census["acs_base_url"]
    households = load_acs(**acs_kwargs).set_index("GEOID")["households"]
    lon = pd.to_numeric(groups["INTPTLON"], errors="coerce")
    lat = pd.to_numeric(groups["INTPTLAT"], errors="coerce")
    points = gpd.GeoDataFrame(
        {"GEOID": groups["GEOID"].to_numpy(),
         "households": groups["GEOID"].map(households).to_numpy(float)},
        geometry=gpd.points_from_xy(lon, lat), crs=4326)
    return points, "households"


def study_area(config: StudyConfig, state: str, counties: list[str]) -> StudyArea:
    """Load the study's tracts, county and district outlines and block-group points."""
    from assetmap.analysis.district_area import district_tracts
    from assetmap.loaders.census import load_counties, load_tracts

    census = config.census
    district = None
    if config.district_boundary:
        district = read_district_file(config.district_boundary)
    elif config.area.get("district") and _tiger(config):
        district = _tiger_district(config, state)
    if district is not None and not counties and _tiger(config):
        counties = _counties_met(config, state, district)
    tract_kwargs: dict[str, Any] = {"state": state, "year": census["year"]}
    if counties:
        tract_kwargs["county"] = counties
    if _tiger(config):
        tract_kwargs.update(source=census["tracts"], **_base(config))
    else:
        tract_kwargs["path"] = census["tracts"]
        if "year" not in (config.raw.get("census") or {}):
            tract_kwargs["year"] = None  # a local file's vintage is the study's, if stated
    tracts = load_tracts(**tract_kwargs)
    county = None
    if _tiger(config):
        county = load_counties(state=state, county=counties or None, year=census["year"],
                               **_base(config))
    points = gpd.read_file(config.sources["points"]).to_crs(4326) if config.sources[
        "points"] else None
    if district is not None:
        shares, weight = _points(config, state, counties, points)
        tracts = district_tracts(tracts, district, points=shares, weight=weight)
    return StudyArea(tracts=tracts, county=county, district=district, points=points,
                     counties=counties)
