"""The load stage: every source a study file names, read into one :class:`Sources`.

Census tracts, counties and the district first (the other readers clip to the tracts), then
the BDC releases beside the other sources (:func:`assetmap.pipeline.sources.load_releases`).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd

from assetmap.pipeline.config import StudyConfig
from assetmap.pipeline.sources import Sources, load_releases

__all__ = ["fetch_sources", "load_sources"]


def load_sources(config: StudyConfig, *, bdc_files: list[str],
                 bdc_record: dict[str, Any] | None = None) -> Sources:
    """Load every source a study file names.

    Both BDC releases are classified under the study's rule set (``[bdc] rules``).

    Parameters
    ----------
    config : StudyConfig
        The study (:func:`assetmap.pipeline.config.parse_study`).
    bdc_files : list of str
        The BDC availability files, globs expanded (URLs are downloaded or taken from the
        cache).
    bdc_record : dict, optional
        The record of an FCC Public Data API download (``[bdc] files = "fcc"``,
        :func:`assetmap.pipeline.fcc.fcc_files`), kept in ``Sources.extras["bdc_download"]``
        for the manifest; its as-of date names the release when ``[bdc] release`` is empty.

    Returns
    -------
    Sources

    Examples
    --------
    Through a study (``Study.load`` calls this)::

        import assetmap as am
        sources = am.Study.from_toml("study.toml").load()
        sources.tracts.head()
    """
    from assetmap.geoid import county_fips, state_fips
    from assetmap.loaders.acs import load_acs
    from assetmap.pipeline._acs_tables import read_acs_files
    from assetmap.pipeline._study_area import study_area

    area = config.area
    state = state_fips(area["state"])
    found = study_area(config, state, [county_fips(state, c) for c in area["counties"]])
    counties, tracts = found.counties, found.tracts
    census = config.census
    if census["acs"] == "api":
        acs_kwargs: dict[str, Any] = {"state": state, "year": census["acs_year"]}
        if counties:
            acs_kwargs["county"] = counties
        if census.get("acs_base_url"):
            acs_kwargs["base_url"] = census["acs_base_url"]
        acs = load_acs(**acs_kwargs)
    else:
        acs = read_acs_files(config.acs_files, year=census["acs_year"])

    bdc_files = _local_files(bdc_files)
    previous_files = _local_files(config.bdc["previous_files"]) if bdc_files else []
    releases, others = load_releases(
        bdc_files, previous_files, counties=counties or None,
        meanwhile=lambda: _other_sources(config, tracts, found.points, found.counties),
        rules=config.rules,
    )
    if bdc_record:  # cite the FCC's file names (the cached files are named by a hash)
        from assetmap.pipeline.fcc import cite_release

        releases = cite_release(releases, bdc_record)
    downloads = others.pop("downloads")
    label = config.study.get("name") or "study area"
    release = config.bdc["release"] or None
    if bdc_record and not release:
        release = f"FCC BDC as of {bdc_record.get('as_of_date')}"
    extras: dict[str, object] = {"bdc_download": bdc_record} if bdc_record else {}
    if downloads:
        extras["downloads"] = downloads
    return Sources(
        tracts=tracts, county=found.county, district=found.district, acs=acs, **releases,
        **others,
        label=label, release_label=release,
        previous_release_label=config.bdc["previous_release"] or None,
        extras=extras,
    )


def _other_sources(config: StudyConfig, tracts: gpd.GeoDataFrame,
                   points: gpd.GeoDataFrame | None, counties: list[str]) -> dict[str, Any]:
    """Schools, partner sites, zones, survey, rurality and speed tests of a study.

    ``downloads`` holds the record of each file downloaded for ``[sources]`` (by key).
    """
    from assetmap.pipeline import downloads as remote

    area = config.area
    srcs = config.sources
    schools = sites = survey = zones = rurality = None
    downloads: dict[str, Any] = {}
    if config.nces_schools:
        schools, downloads["schools"] = remote.nces_schools(config, tracts=tracts,
                                                            counties=counties)
    elif srcs["schools"]:
        from assetmap.loaders.nces import read_schools

        schools = read_schools(srcs["schools"], district=area.get("district") or None,
                               districts=srcs["districts"] or None)
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
    speedtests = speed_tiles = None
    if srcs["speedtests"]:
        from assetmap.loaders.speedtests import read_speedtests

        speedtests = read_speedtests(srcs["speedtests"], area=tracts)
    if srcs["ookla_tiles"]:
        from assetmap.loaders.speedtests import read_ookla_tiles

        speed_tiles = read_ookla_tiles(srcs["ookla_tiles"], area=tracts)
    elif config.ookla_quarter is not None:
        speed_tiles, downloads["ookla_tiles"] = remote.ookla_tiles(config, tracts=tracts)
    return {"schools": schools, "sites": sites, "zones": zones, "survey": survey,
            "rurality": rurality, "points": points, "speedtests": speedtests,
            "speed_tiles": speed_tiles, "downloads": downloads}


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
    """Download and cache the remote sources of a study; return the cached files.

    With ``[bdc] files = "fcc"`` the state's files come from the FCC Public Data API for
    ``[bdc] as_of`` (:func:`assetmap.pipeline.fcc.fetch_fcc`), asked again on every fetch,
    and their record is kept in the cache for later builds. ``[sources] schools = "nces"``
    and ``ookla_year``/``ookla_quarter`` download the NCES EDGE school file and Ookla's
    tiles (:mod:`assetmap.pipeline.downloads`). The list holds the BDC files, then those.

    Examples
    --------
    Through a study, then build offline::

        import assetmap as am
        am.Study.from_toml("study.toml").fetch()
        am.settings.offline = True
    """
    from assetmap._http import cached_path
    from assetmap.pipeline.downloads import downloaded_paths

    if config.from_fcc:
        from assetmap.pipeline.fcc import fetch_fcc

        record = fetch_fcc(config)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sources = load_sources(config, bdc_files=[])  # tracts, ACS: BDC files are cached
        bdc = [Path(f["path"]) for f in record["files"]]
    else:
        urls = [f for f in config.bdc["files"] if "://" in f]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sources = load_sources(config, bdc_files=urls)
        bdc = [p for p in (cached_path(u) for u in urls) if p is not None]
    return bdc + downloaded_paths(sources.extras.get("downloads"))
