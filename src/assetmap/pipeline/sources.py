"""The loaded sources of a study, passed from the load stage to the analysis stage."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

import geopandas as gpd
import pandas as pd

from assetmap.bdc.rules import RulesLike, rule_set

__all__ = ["Sources", "load_releases"]

T = TypeVar("T")


@dataclass(frozen=True)
class Sources:
    """Every frame a study has loaded; fields a study does not have are None.

    Attributes
    ----------
    tracts : GeoDataFrame
        Census tracts (TIGER columns, EPSG:4326).
    county : GeoDataFrame or None
        The county outline(s).
    district : GeoDataFrame or None
        The school district's boundary, when the study is a district (TIGER by
        ``[area] district``, or the file ``[area] district_boundary``); the tracts then carry
        ``household_share`` (:func:`assetmap.district_tracts`).
    availability : DataFrame or None
        BDC availability rows (location x provider x technology).
    service : DataFrame or None
        Service by tract (``service_by_area``).
    locations : DataFrame or None
        Service per location (``service_levels``), for H3 cells and site connectivity.
    acs : DataFrame or None
        ACS derived columns by tract.
    rurality : DataFrame or None
        RUCA codes by tract.
    points : GeoDataFrame or None
        Weighted points (e.g. block-group population centres) for tract centres.
    schools, sites, zones : GeoDataFrame or None
        Schools, partner sites, attendance zones.
    survey : DataFrame or None
        Aggregated, suppressed survey rates by tract.
    previous_service : DataFrame or None
        Service by tract of an earlier BDC release.
    previous_availability : DataFrame or None
        BDC availability rows of the earlier release (for ``release_change_report``: newly
        served locations, fiber gained, providers entering and leaving).
    speedtests : GeoDataFrame or None
        Speed tests with a point or a tract each (``read_speedtests``, ``read_mlab``); may
        hold household points, so it never leaves the analysis unaggregated.
    speed_tiles : GeoDataFrame or None
        Speed-test tiles (``read_ookla_tiles``).
    release_label, previous_release_label : str or None
        Names of the current and earlier BDC releases (e.g. ``"June 2025"``).
    label : str
        A short name for titles.
    """

    tracts: gpd.GeoDataFrame
    county: gpd.GeoDataFrame | None = None
    district: gpd.GeoDataFrame | None = None
    availability: pd.DataFrame | None = None
    service: pd.DataFrame | None = None
    locations: pd.DataFrame | None = None
    acs: pd.DataFrame | None = None
    rurality: pd.DataFrame | None = None
    points: gpd.GeoDataFrame | None = None
    schools: gpd.GeoDataFrame | None = None
    sites: gpd.GeoDataFrame | None = None
    zones: gpd.GeoDataFrame | None = None
    survey: pd.DataFrame | None = None
    previous_service: pd.DataFrame | None = None
    previous_availability: pd.DataFrame | None = None
    speedtests: gpd.GeoDataFrame | None = None
    speed_tiles: gpd.GeoDataFrame | None = None
    release_label: str | None = None
    previous_release_label: str | None = None
    label: str = "study area"
    extras: dict[str, object] = field(default_factory=dict)

    @property
    def outline(self) -> gpd.GeoDataFrame | None:
        """The study area's outline: the district if known, else the county."""
        return self.district if self.district is not None else self.county

    def speed_frames(self) -> list[gpd.GeoDataFrame]:
        """Return the speed-test frames present (tests, then tiles), for pooling."""
        return [f for f in (self.speedtests, self.speed_tiles) if f is not None and len(f)]

    def frames(self) -> dict[str, pd.DataFrame]:
        """Return the frames that are present, keyed by field name."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if isinstance(getattr(self, f.name), pd.DataFrame)
        }


def load_releases(
    current: Any,
    previous: Any = None,
    *,
    counties: list[str] | None = None,
    meanwhile: Callable[[], T],
    rules: RulesLike = None,
) -> tuple[dict[str, Any], T]:
    """Load a BDC release and an earlier one while ``meanwhile`` loads the other sources.

    The current release is read in the calling thread (rows, service per location, service
    by tract), the earlier one (rows, service by tract) and ``meanwhile()`` in two threads:
    pyarrow, DuckDB, pyogrio and numpy do most of that work without holding the GIL. With two
    releases, each is parsed in one thread: side by side they already use two cores, and
    more threads per file only add CPU time. Both releases are classified under ``rules``
    (:func:`assetmap.bdc.rules.rule_set`; None: ``"bead"``).

    Returns
    -------
    tuple
        The :class:`Sources` fields ``availability``, ``locations``, ``service``,
        ``previous_availability``, ``previous_service`` (None where there is no file), and
        what ``meanwhile`` returned.
    """
    from assetmap.bdc.read import load_bdc
    from assetmap.bdc.service import service_by_area, service_levels

    def earlier() -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
        if not previous:
            return None, None
        rows = load_bdc(previous, counties=counties, threads=1)
        return rows, service_by_area(rows, level="tract", rules=chosen)

    chosen = rule_set(rules)
    found: dict[str, Any] = dict.fromkeys(("availability", "locations", "service"))
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="assetmap-load") as pool:
        before, others = pool.submit(earlier), pool.submit(meanwhile)
        try:
            if current:
                rows = load_bdc(current, counties=counties,
                                threads=1 if previous else None)
                levels = service_levels(rows, rules=chosen)
                found.update(availability=rows, locations=levels,
                             service=service_by_area(levels, level="tract", rules=chosen))
            found["previous_availability"], found["previous_service"] = before.result()
            other = others.result()
        except BaseException:
            before.cancel()
            others.cancel()
            raise
    return found, other
