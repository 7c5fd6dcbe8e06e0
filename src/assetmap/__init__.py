"""assetmap: where families are cut off from the internet, and what nearby could help.

The public API is listed explicitly below. Names are imported on first use (PEP 562), so
``import assetmap`` is fast and a notebook pays only for what it calls.

Examples
--------
>>> import assetmap as am
>>> am.state_fips("TX")
'48'
"""

from __future__ import annotations

import importlib
from typing import Any

from assetmap import errors
from assetmap.settings import settings

# public name -> module that defines it
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
    "load_bdc_summary": "assetmap.bdc.read",
    "bdc_to_parquet": "assetmap.bdc.read",
    # loaders: the district's own data
    "read_schools": "assetmap.loaders.nces",
    "read_attendance_zones": "assetmap.loaders.nces",
    "read_partner_sites": "assetmap.loaders.partners",
    "write_partner_sites": "assetmap.loaders.partners",
    "partner_sites_from_osm": "assetmap.loaders.partners",
    "anchor_sites_as_partners": "assetmap.loaders.partners",
    "geocode_addresses": "assetmap.loaders.geocode",
    "read_survey": "assetmap.loaders.survey",
    "read_speedtests": "assetmap.loaders.speedtests",
    "read_ookla_tiles": "assetmap.loaders.speedtests",
    "read_mlab": "assetmap.loaders.mlab",
    # analysis
    "service_levels": "assetmap.bdc.service",
    "service_by_area": "assetmap.bdc.service",
    "aggregate_bdc": "assetmap.bdc.service",
    "compare_releases": "assetmap.bdc.service",
    "aggregate_speedtests": "assetmap.analysis.speedtests",
    "claims_vs_evidence": "assetmap.analysis.evidence",
    "challenge_candidates": "assetmap.analysis.evidence",
    "release_change_report": "assetmap.bdc.release_change",
    "assemble_tracts": "assetmap.analysis.join",
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
    # the study and the shipped demo
    "Study": "assetmap.pipeline.study",
    "load_demo": "assetmap.datasets",
}

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
