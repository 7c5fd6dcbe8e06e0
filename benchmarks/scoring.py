"""Benchmark: score a national-size synthetic tract table with 100k partner sites.

Scores 85,528 synthetic tracts (the number of 2020 census tracts) spread over the US with
100,000 synthetic partner sites, with ``assetmap.score_tracts`` (cKDTree, matrix arithmetic,
200 weight-sensitivity draws), and compares it in the same run with the obvious geopandas
approach: ``sjoin_nearest`` for each distance, a buffered ``sjoin`` for sites within reach, and
``DataFrame.apply`` row by row for the indices. The naive version runs on a random subsample of
tracts (all sites) and its time is extrapolated linearly to the full table; the output says so.

All data are synthetic and illustrative, generated here from a fixed seed.

Run: ``.venv/bin/python benchmarks/scoring.py [--tracts 85528 --sites 100000 --naive 5000]``
"""

from __future__ import annotations

import argparse
import resource
import time

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import box

from assetmap.analysis.score import score_tracts

SERVICES = ("public_wifi", "device_lending", "tutoring", "digital_literacy")
TYPES = np.array(["library", "school", "community_center", "place_of_worship", "health_center",
                  "business", "other"])


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def synthetic(n_tracts: int, n_sites: int, seed: int = 0) -> tuple[gpd.GeoDataFrame,
                                                                    gpd.GeoDataFrame]:
    rng = np.random.default_rng(seed)
    # tracts cluster around 300 "metro" centres in the lower 48, plus a rural scatter
    centres = np.column_stack([rng.uniform(-123, -70, 300), rng.uniform(26, 48, 300)])
    metro = rng.random(n_tracts) < 0.8
    pick = rng.integers(0, 300, n_tracts)
    lon = np.where(metro, centres[pick, 0] + rng.normal(0, 0.25, n_tracts),
                   rng.uniform(-123, -70, n_tracts))
    lat = np.where(metro, centres[pick, 1] + rng.normal(0, 0.2, n_tracts),
                   rng.uniform(26, 48, n_tracts))
    half = np.where(metro, 0.01, 0.1)
    geom = [box(x - h, y - h, x + h, y + h) for x, y, h in zip(lon, lat, half, strict=True)]
    unserved = rng.beta(1, 8, n_tracts)
    underserved = rng.beta(1, 10, n_tracts) * (1 - unserved)
    ruca = np.where(metro, rng.choice([1, 2, 3], n_tracts), rng.choice([4, 7, 10], n_tracts))
    tracts = gpd.GeoDataFrame({
        "GEOID": [f"48{i:09d}" for i in range(n_tracts)],
        "INTPTLAT": lat, "INTPTLON": lon,
        "locations": rng.integers(500, 3000, n_tracts),
        "unserved_share": unserved, "underserved_share": underserved,
        "fiber_share": rng.beta(2, 2, n_tracts), "providers_100_20": rng.uniform(0, 4, n_tracts),
        "no_internet_share": rng.beta(2, 12, n_tracts),
        "no_internet_share_cv": rng.uniform(0.05, 0.6, n_tracts),
        "no_computer_share": rng.beta(2, 15, n_tracts),
        "poverty_share": rng.beta(2, 10, n_tracts),
        "children": rng.integers(100, 1500, n_tracts),
        "population": rng.integers(1500, 7000, n_tracts),
        "households": rng.integers(600, 2600, n_tracts),
        "ruca_primary": ruca, "rural": ruca >= 4,
    }, geometry=geom, crs=4326)
    near = rng.integers(0, n_tracts, n_sites)
    sites = gpd.GeoDataFrame({
        "site_id": [f"s{i}" for i in range(n_sites)],
        "site_type": TYPES[rng.integers(0, len(TYPES), n_sites)],
        "capacity_seats": rng.integers(5, 80, n_sites).astype(float),
        **{f"svc_{s}": rng.random(n_sites) < 0.3 for s in SERVICES},
    }, geometry=gpd.points_from_xy(lon[near] + rng.normal(0, 0.05, n_sites),
                                   lat[near] + rng.normal(0, 0.05, n_sites)), crs=4326)
    return tracts, sites


def naive(tracts: gpd.GeoDataFrame, sites: gpd.GeoDataFrame) -> pd.DataFrame:
    """The obvious way: sjoin_nearest per distance, buffer+sjoin for counts, apply per row."""
    crs = 5070
    pts = gpd.GeoDataFrame(tracts.drop(columns="geometry"),
                           geometry=gpd.points_from_xy(tracts["INTPTLON"], tracts["INTPTLAT"]),
                           crs=4326).to_crs(crs)
    s = sites.to_crs(crs)
    out = pts.copy()
    groups = {"library": s[s["site_type"] == "library"], "school": s[s["site_type"] == "school"],
              **{svc: s[s[f"svc_{svc}"]] for svc in SERVICES}}
    for name, group in groups.items():
        j = gpd.sjoin_nearest(pts[["geometry"]], group[["geometry"]], distance_col="d")
        out[f"dist_{name}_m"] = j.groupby(level=0)["d"].first()
    reach = pts.geometry.buffer(np.where(pts["rural"], 16093.4, 3218.7))
    j = gpd.sjoin(gpd.GeoDataFrame(geometry=reach, crs=crs), s[["geometry"]], predicate="contains")
    out["sites_within_reach"] = j.groupby(level=0).size().reindex(pts.index, fill_value=0)
    pct = out.select_dtypes("number").rank(pct=True) * 100

    def row_index(row: pd.Series) -> pd.Series:
        infra = (row["unserved_share"] + 0.5 * row["underserved_share"]
                 + (100 - row["fiber_share"]) + 0.5 * (100 - row["providers_100_20"])) / 3
        adopt = (row["no_internet_share"] + row["no_computer_share"]) / 2
        need = (row["poverty_share"] + row["children"] + 0.5 * row["ruca_primary"]) / 2.5
        dists = [row[f"dist_{s}_m"] for s in SERVICES]
        res = (row["dist_library_m"] + 0.5 * row["dist_school_m"] + sum(dists) / len(dists)
               + (100 - row["sites_within_reach"])) / 3.5
        return pd.Series({"priority": 0.3 * infra + 0.3 * adopt + 0.25 * need + 0.15 * res})

    return out.join(pct.apply(row_index, axis=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracts", type=int, default=85_528)
    parser.add_argument("--sites", type=int, default=100_000)
    parser.add_argument("--naive", type=int, default=5_000, help="naive subsample of tracts")
    parser.add_argument("--draws", type=int, default=200)
    args = parser.parse_args()

    t0 = time.perf_counter()
    tracts, sites = synthetic(args.tracts, args.sites)
    print(f"synthetic data (illustrative, seed 0): {len(tracts):,} tracts, {len(sites):,} sites"
          f" in {time.perf_counter() - t0:.1f} s; peak RSS {peak_rss_mb():,.0f} MB")

    for draws in (0, args.draws):
        t0 = time.perf_counter()
        scored = score_tracts(tracts, sites=sites, sensitivity_draws=draws, top_n=25)
        dt = time.perf_counter() - t0
        label = f"assetmap score_tracts, {draws} sensitivity draws"
        print(f"{label:<52} {dt:7.2f} s  {len(tracts) / dt:>10,.0f} rows/s  "
              f"peak RSS {peak_rss_mb():,.0f} MB")
    crs = scored.attrs["assetmap"]["score_spec"]["access"]["crs"]
    print(f"  distance CRS chosen for the national extent: {crs}")

    sample = tracts.sample(n=min(args.naive, len(tracts)), random_state=0)
    t0 = time.perf_counter()
    naive(sample, sites)
    dt = time.perf_counter() - t0
    full = dt * len(tracts) / len(sample)
    print(f"{'naive sjoin_nearest + apply, ' + f'{len(sample):,} tracts (measured)':<52} "
          f"{dt:7.2f} s  {len(sample) / dt:>10,.0f} rows/s  peak RSS {peak_rss_mb():,.0f} MB")
    print(f"{'naive, all tracts (extrapolated linearly)':<52} {full:7.2f} s")


if __name__ == "__main__":
    main()
