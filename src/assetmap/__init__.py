"""assetmap: where families are cut off from the internet, and what nearby could help.

The public API is listed explicitly below. Names are imported on first use (PEP 562), so
``import assetmap`` is fast and a notebook pays only for what it calls. Type checkers and IDEs
see the same names, with their real signatures, through the ``if TYPE_CHECKING:`` imports (the
package ships ``py.typed``); ``tests/test_public_api.py`` keeps the two lists the same.

Examples
--------
>>> import assetmap as am
>>> am.state_fips("TX")
'48'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from assetmap import errors
from assetmap.settings import settings

# public name -> module that defines it (and the same import under TYPE_CHECKING below)
_API: dict[str, str] = {
    # GEOIDs and FIPS
    "state_fips": "assetmap.geoid",
    "county_fips": "assetmap.geoid",
    "normalize_geoids": "assetmap.geoid",
    # reports carried in frame.attrs
    "get_report": "assetmap._report",
    # loaders: census boundaries and ACS
    "load_tracts": "assetmap.loaders.census",
    "load_block_groups": "assetmap.loaders.census",
    "load_counties": "assetmap.loaders.census",
    "load_states": "assetmap.loaders.census",
    "load_school_districts": "assetmap.loaders.census",
    "load_acs": "assetmap.loaders.acs",
    "read_acs_csv": "assetmap.loaders.acs",
    "acs_to_2020_tracts": "assetmap.loaders.acs",
    "acs_cv_flags": "assetmap.loaders.acs",
    # loaders: FCC Broadband Data Collection
    "load_bdc": "assetmap.bdc.read",
    "load_bdc_summary": "assetmap.bdc.summary",
    "bdc_to_parquet": "assetmap.bdc.parquet",
    "download_bdc": "assetmap.bdc.download",
    # loaders: the district's own data
    "read_schools": "assetmap.loaders.nces",
    "load_schools": "assetmap.loaders.nces_edge",
    "load_districts": "assetmap.loaders.nces_edge",
    "read_attendance_zones": "assetmap.loaders.nces",
    "read_partner_sites": "assetmap.loaders.partners",
    "write_partner_sites": "assetmap.loaders.partners",
    "partner_sites_from_osm": "assetmap.loaders.partners",
    "anchor_sites_as_partners": "assetmap.loaders.partners",
    "geocode_addresses": "assetmap.loaders.geocode",
    "read_survey": "assetmap.loaders.survey",
    "read_speedtests": "assetmap.loaders.speedtests",
    "read_ookla_tiles": "assetmap.loaders.speedtests",
    "load_ookla_tiles": "assetmap.loaders._ookla_download",
    "read_mlab": "assetmap.loaders.mlab",
    # analysis
    "rule_set": "assetmap.bdc.rules",
    "available_rule_sets": "assetmap.bdc.rules",
    "service_levels": "assetmap.bdc.levels",
    "service_by_area": "assetmap.bdc.levels",
    "aggregate_bdc": "assetmap.bdc.aggregate",
    "compare_releases": "assetmap.bdc.compare",
    "aggregate_speedtests": "assetmap.analysis.speedtests",
    "claims_vs_evidence": "assetmap.analysis.evidence",
    "challenge_candidates": "assetmap.analysis.evidence",
    "release_change_report": "assetmap.bdc.release_change",
    "assemble_tracts": "assetmap.analysis.join",
    "district_tracts": "assetmap.analysis.district_area",
    "nearest_site_distance": "assetmap.analysis.access",
    "sites_within_reach": "assetmap.analysis.access",
    "two_step_fca": "assetmap.analysis.access",
    "coverage_share": "assetmap.analysis.access",
    "score_tracts": "assetmap.analysis.score",
    "weight_sensitivity": "assetmap.analysis.score",
    "rollup_to_schools": "assetmap.analysis.rollup",
    "site_connectivity": "assetmap.analysis.rollup",
    "select_sites": "assetmap.analysis.plan",
    "recommend_interventions": "assetmap.analysis.plan",
    "apply_plan": "assetmap.analysis.plan",
    # outputs
    "equity_map": "assetmap.outputs.interactive",
    "print_map": "assetmap.outputs.static",
    "write_report": "assetmap.outputs.report",
    "export_layers": "assetmap.outputs.export",
    "write_challenge_csv": "assetmap.outputs.challenges",
    "write_ntia_files": "assetmap.outputs.ntia",
    # the study and the shipped demo
    "Study": "assetmap.pipeline.study",
    "load_demo": "assetmap.datasets",
}

if TYPE_CHECKING:  # the same names, for type checkers (`X as X`: an explicit re-export)
    from assetmap._report import get_report as get_report
    from assetmap.analysis.access import coverage_share as coverage_share
    from assetmap.analysis.access import nearest_site_distance as nearest_site_distance
    from assetmap.analysis.access import sites_within_reach as sites_within_reach
    from assetmap.analysis.access import two_step_fca as two_step_fca
    from assetmap.analysis.district_area import district_tracts as district_tracts
    from assetmap.analysis.evidence import challenge_candidates as challenge_candidates
    from assetmap.analysis.evidence import claims_vs_evidence as claims_vs_evidence
    from assetmap.analysis.join import assemble_tracts as assemble_tracts
    from assetmap.analysis.plan import apply_plan as apply_plan
    from assetmap.analysis.plan import recommend_interventions as recommend_interventions
    from assetmap.analysis.plan import select_sites as select_sites
    from assetmap.analysis.rollup import rollup_to_schools as rollup_to_schools
    from assetmap.analysis.rollup import site_connectivity as site_connectivity
    from assetmap.analysis.score import score_tracts as score_tracts
    from assetmap.analysis.score import weight_sensitivity as weight_sensitivity
    from assetmap.analysis.speedtests import aggregate_speedtests as aggregate_speedtests
    from assetmap.bdc.aggregate import aggregate_bdc as aggregate_bdc
    from assetmap.bdc.compare import compare_releases as compare_releases
    from assetmap.bdc.download import download_bdc as download_bdc
    from assetmap.bdc.levels import service_by_area as service_by_area
    from assetmap.bdc.levels import service_levels as service_levels
    from assetmap.bdc.parquet import bdc_to_parquet as bdc_to_parquet
    from assetmap.bdc.read import load_bdc as load_bdc
    from assetmap.bdc.release_change import release_change_report as release_change_report
    from assetmap.bdc.rules import available_rule_sets as available_rule_sets
    from assetmap.bdc.rules import rule_set as rule_set
    from assetmap.bdc.summary import load_bdc_summary as load_bdc_summary
    from assetmap.datasets import load_demo as load_demo
    from assetmap.geoid import county_fips as county_fips
    from assetmap.geoid import normalize_geoids as normalize_geoids
    from assetmap.geoid import state_fips as state_fips
    from assetmap.loaders._ookla_download import load_ookla_tiles as load_ookla_tiles
    from assetmap.loaders.acs import acs_cv_flags as acs_cv_flags
    from assetmap.loaders.acs import acs_to_2020_tracts as acs_to_2020_tracts
    from assetmap.loaders.acs import load_acs as load_acs
    from assetmap.loaders.acs import read_acs_csv as read_acs_csv
    from assetmap.loaders.census import load_block_groups as load_block_groups
    from assetmap.loaders.census import load_counties as load_counties
    from assetmap.loaders.census import load_school_districts as load_school_districts
    from assetmap.loaders.census import load_states as load_states
    from assetmap.loaders.census import load_tracts as load_tracts
    from assetmap.loaders.geocode import geocode_addresses as geocode_addresses
    from assetmap.loaders.mlab import read_mlab as read_mlab
    from assetmap.loaders.nces import read_attendance_zones as read_attendance_zones
    from assetmap.loaders.nces import read_schools as read_schools
    from assetmap.loaders.nces_edge import load_districts as load_districts
    from assetmap.loaders.nces_edge import load_schools as load_schools
    from assetmap.loaders.partners import anchor_sites_as_partners as anchor_sites_as_partners
    from assetmap.loaders.partners import partner_sites_from_osm as partner_sites_from_osm
    from assetmap.loaders.partners import read_partner_sites as read_partner_sites
    from assetmap.loaders.partners import write_partner_sites as write_partner_sites
    from assetmap.loaders.speedtests import read_ookla_tiles as read_ookla_tiles
    from assetmap.loaders.speedtests import read_speedtests as read_speedtests
    from assetmap.loaders.survey import read_survey as read_survey
    from assetmap.outputs.challenges import write_challenge_csv as write_challenge_csv
    from assetmap.outputs.export import export_layers as export_layers
    from assetmap.outputs.interactive import equity_map as equity_map
    from assetmap.outputs.ntia import write_ntia_files as write_ntia_files
    from assetmap.outputs.report import write_report as write_report
    from assetmap.outputs.static import print_map as print_map
    from assetmap.pipeline.study import Study as Study

__all__ = ["__version__", "errors", "settings", *_API]


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # ~0.1 s: only when asked

    try:
        return version("assetmap")
    except PackageNotFoundError:  # running from a source tree without installing
        return "0.0.0+unknown"


def __getattr__(name: str) -> Any:
    if name == "__version__":
        globals()[name] = value = _version()
        return value
    module_name = _API.get(name)
    if module_name is None:
        raise AttributeError(f"module 'assetmap' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
