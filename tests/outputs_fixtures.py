"""Frames for the output tests: Ector County scored tracts (illustrative scores), sites, schools.

The tract boundaries and school points are the real shipped files; every score column is
generated here from a seeded random generator and the frames are labelled illustrative.
``synthetic_state`` builds a 7,000-tract state (a valid polygon coverage) for size tests.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point, box

from assetmap._report import (  # internal: a loader's report for made-up frames; no public maker
    attach_report,
    start_report,
)
from assetmap.datasets import data_path

XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(2)>',
    "</script><script>alert(3)</script>",
    "<svg/onload=alert(4)>",
    "javascript:alert(5)",
    "' onmouseover='alert(6)",
]

WEIGHTS = {"infrastructure_gap": 0.35, "adoption_gap": 0.25, "need": 0.25, "resource_gap": 0.15}
SCORE_SPEC = {
    "priority": {
        "inputs": list(WEIGHTS),
        "weights": WEIGHTS,
        "direction": "higher = more need",
        "normalisation": "weighted mean of the four indices (each 0-100)",
    },
    "infrastructure_gap": {
        "inputs": ["unserved_share", "underserved_share", "fiber_share"],
        "weights": {"unserved_share": 0.5, "underserved_share": 0.25, "fiber_share": 0.25},
        "direction": {"unserved_share": "+", "underserved_share": "+", "fiber_share": "-"},
        "normalisation": "percentile rank within the study area",
    },
    "adoption_gap": {
        "inputs": ["no_internet_share", "no_computer_share"],
        "weights": {"no_internet_share": 0.6, "no_computer_share": 0.4},
        "direction": "+",
        "normalisation": "percentile rank within the study area",
    },
    "need": {
        "inputs": ["poverty_share", "children"],
        "weights": {"poverty_share": 0.7, "children": 0.3},
        "direction": "+",
        "normalisation": "percentile rank within the study area",
    },
    "resource_gap": {
        "inputs": ["dist_library_m", "sites_within_reach"],
        "weights": {"dist_library_m": 0.5, "sites_within_reach": 0.5},
        "direction": {"dist_library_m": "+", "sites_within_reach": "-"},
        "normalisation": "percentile rank within the study area",
    },
}
SOURCES = [
    {
        "name": "US Census Bureau TIGER/Line tracts",
        "vintage": "2020",
        "url": "https://www2.census.gov/geo/tiger/TIGER2020/TRACT/",
        "license": "public domain",
    },
    {
        "name": "ACS 5-year estimates",
        "vintage": "2019-2023",
        "url": "https://api.census.gov/data/2023/acs/acs5",
        "license": "public domain",
    },
    {
        "name": "FCC Broadband Data Collection (illustrative locations)",
        "vintage": "June 2025",
        "url": "https://broadbandmap.fcc.gov/data-download",
        "license": "public domain",
    },
]


def _percentile(values: np.ndarray) -> np.ndarray:
    return pd.Series(values).rank(pct=True).to_numpy() * 100


def scored_ector(seed: int = 7) -> gpd.GeoDataFrame:
    """Scored Ector County tracts: real boundaries, seeded illustrative score columns."""
    rng = np.random.default_rng(seed)
    tracts = gpd.read_file(data_path("boundaries", "ector_tracts_2020.geojson"))
    n = len(tracts)
    frame = tracts.copy()
    frame["households"] = rng.integers(300, 3000, n)
    frame["locations"] = (frame["households"] * rng.uniform(1.0, 1.2, n)).round().astype(int)
    fiber = rng.uniform(0, 1, n)
    fiber[rng.choice(n, 6, replace=False)] = 0.0  # tracts where no location has fiber
    frame["fiber_share"] = fiber
    unserved = rng.uniform(0, 0.4, n)
    underserved = rng.uniform(0, 0.6 - unserved)
    frame["unserved_share"] = unserved
    frame["underserved_share"] = underserved
    frame["served_share"] = 1 - unserved - underserved
    frame["no_internet_share"] = rng.uniform(0.03, 0.4, n)
    frame["no_internet_share_cv"] = rng.uniform(0.05, 0.6, n)
    frame["no_computer_share"] = rng.uniform(0.02, 0.25, n)
    frame["poverty_share"] = rng.uniform(0.03, 0.45, n)
    frame["poverty_share_cv"] = rng.uniform(0.05, 0.5, n)
    frame["children"] = rng.integers(100, 2500, n)
    frame["dist_library_m"] = rng.uniform(300, 30000, n)
    frame["sites_within_reach"] = rng.integers(0, 12, n)
    frame["survey_limited_rate"] = rng.uniform(0.1, 0.7, n)
    frame["survey_no_internet_rate"] = frame["survey_limited_rate"] * 0.5
    suppressed = np.zeros(n, dtype=bool)
    suppressed[rng.choice(n, 4, replace=False)] = True
    frame["suppressed"] = suppressed
    frame.loc[suppressed, ["survey_limited_rate", "survey_no_internet_rate"]] = np.nan
    frame["infrastructure_gap"] = _percentile(
        unserved * 0.5 + underserved * 0.25 + (1 - fiber) * 0.25
    )
    frame["adoption_gap"] = _percentile(
        frame["no_internet_share"] * 0.6 + frame["no_computer_share"] * 0.4
    )
    frame["need"] = _percentile(frame["poverty_share"].to_numpy())
    frame["resource_gap"] = _percentile(frame["dist_library_m"].to_numpy())
    frame["priority"] = sum(frame[c] * w for c, w in WEIGHTS.items())
    frame["priority_rank"] = frame["priority"].rank(ascending=False, method="first").astype(int)
    frame["unreliable"] = (frame["no_internet_share_cv"] > 0.30) | (
        frame["poverty_share_cv"] > 0.30
    )
    frame["missing_inputs"] = ""
    frame.loc[frame.index[0], "missing_inputs"] = "survey_limited_rate"
    frame["top_n_stability"] = rng.uniform(0, 1, n)
    report = start_report(
        None,
        kind="scored_tracts",
        rows_read=n,
        sources=SOURCES,
        illustrative=True,
        vintages={
            "no_internet_share": "ACS 5-year 2019-2023",
            "poverty_share": "ACS 5-year 2019-2023",
            "fiber_share": "FCC BDC June 2025 (illustrative)",
            "unserved_share": "FCC BDC June 2025 (illustrative)",
        },
    )
    report["score_spec"] = SCORE_SPEC
    report["min_responses"] = 10
    return attach_report(frame, report)


def ector_county() -> gpd.GeoDataFrame:
    """The real Ector County outline."""
    return gpd.read_file(data_path("boundaries", "ector_county_2020.geojson"))


def schools_ector() -> gpd.GeoDataFrame:
    """The real NCES school points, in the data-model column names."""
    raw = gpd.read_file(data_path("schools", "nces_ccd_2013_14_schools_ector.geojson"))
    frame = gpd.GeoDataFrame(
        {
            "school_id": raw["NCESSCH"].astype(str),
            "name": raw["SCHNAM"].astype(str),
            "district_id": raw["LEAID"].astype(str),
            "grades": raw["GSLO"].astype(str) + "-" + raw["GSHI"].astype(str),
            "enrollment": pd.array([pd.NA] * len(raw), dtype="Int64"),
        },
        geometry=raw.geometry,
        crs=raw.crs,
    )
    report = start_report(
        "nces_ccd_2013_14_schools_ector.geojson",
        kind="schools",
        rows_read=len(raw),
        sources=[{"name": "NCES Common Core of Data", "vintage": "2013-14"}],
    )
    return attach_report(frame, report)


def sites_ector(seed: int = 3, *, names: list[str] | None = None) -> gpd.GeoDataFrame:
    """Illustrative partner sites inside Ector County (one per type, plus given names)."""
    rng = np.random.default_rng(seed)
    county = ector_county().to_crs(32613).geometry.iloc[0]
    minx, miny, maxx, maxy = county.bounds
    types = [
        "library",
        "school",
        "place_of_worship",
        "community_center",
        "health_center",
        "business",
        "public_housing",
        "hotspot",
        "wifi_bus_stop",
        "other",
    ]
    names = [f"Illustrative {t.replace('_', ' ')}" for t in types] if names is None else names
    points = []
    while len(points) < len(names):
        p = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if county.contains(p):
            points.append(p)
    n = len(names)
    frame = gpd.GeoDataFrame(
        {
            "site_id": [f"S{i:03d}" for i in range(n)],
            "name": names,
            "site_type": [types[i % len(types)] for i in range(n)],
            "services": ["public_wifi;device_lending", "tutoring;computer_lab"] * (n // 2)
            + ["hotspot_lending"] * (n % 2),
            "capacity_seats": rng.integers(5, 60, n).astype(float),
            "capacity_devices": np.where(rng.uniform(size=n) > 0.5, 20.0, np.nan),
            "hours": ["Mon-Fri 9-17"] * n,
            "status": ["active", "agreement_signed"] * (n // 2) + ["inquiry"] * (n % 2),
            "site_service_level": ["unserved"] + ["served"] * (n - 1),
            "illustrative": True,
        },
        geometry=points,
        crs=32613,
    ).to_crs(4326)
    report = start_report(
        None,
        kind="partner_sites",
        rows_read=n,
        illustrative=True,
        sources=[{"name": "Partner registry (illustrative)", "vintage": "2025"}],
    )
    return attach_report(frame, report)


def synthetic_state(
    n: int = 7000, *, seed: int = 11, vertices_per_edge: int = 12
) -> gpd.GeoDataFrame:
    """A synthetic state of about ``n`` tracts: Voronoi cells with wiggly shared edges.

    Edges are built once, densified and jittered, then polygonized, so the result is a valid
    coverage (neighbours share identical edges) with realistic vertex counts. Illustrative.
    """
    rng = np.random.default_rng(seed)
    side = 800_000.0  # metres, about the size of Texas
    pts = shapely.points(rng.uniform(0, side, (n, 2)))
    cells = shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=box(0, 0, side, side))
    cells = shapely.intersection(shapely.get_parts(cells), box(0, 0, side, side))
    edges = shapely.get_parts(shapely.line_merge(shapely.union_all(shapely.boundary(cells))))
    edges = shapely.get_parts(shapely.union_all(edges))  # node at every junction
    spacing = side / np.sqrt(n) / vertices_per_edge
    dense = shapely.segmentize(edges, spacing)
    coords, index = shapely.get_coordinates(dense, return_index=True)
    first = np.r_[True, index[1:] != index[:-1]]
    last = np.r_[index[1:] != index[:-1], True]
    inner = ~(first | last)
    coords[inner] += rng.normal(0, spacing * 0.15, (int(inner.sum()), 2))
    wiggly = shapely.linestrings(coords, indices=index)
    polygons = shapely.get_parts(shapely.polygonize(wiggly))
    frame = gpd.GeoDataFrame(geometry=polygons, crs="EPSG:5070")
    frame["geometry"] = frame.translate(-1_000_000, 700_000)  # somewhere in the middle of the US
    frame = frame.to_crs(4326)
    count = len(frame)
    frame.insert(0, "GEOID", [f"48{i // 1000:03d}{i % 1000:06d}" for i in range(count)])
    frame.insert(1, "NAMELSAD", [f"Census Tract {i}" for i in range(count)])
    frame["priority"] = rng.uniform(0, 100, count)
    frame["fiber_share"] = rng.uniform(0, 1, count)
    frame["need"] = rng.uniform(0, 100, count)
    return attach_report(
        frame, start_report(None, kind="scored_tracts", rows_read=count, illustrative=True)
    )
