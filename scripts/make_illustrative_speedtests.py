"""Generate ILLUSTRATIVE speed tests for Ector County, TX (seeded, reproducible).

Writes, under data/ector/speedtests/:

* ector_speedtests_illustrative.csv: district-run tests (one row per test) at points scattered
  around the Census Bureau's 2020 block-group population centres
  (data/ector/population/ector_blockgroups_2020_pl_population.csv), about one test per 110
  residents, with a device id per tester;
* ookla_fixed_tiles_illustrative_ector.parquet: tiles in the exact schema of Ookla's
  published ``performance_fixed_tiles`` Parquet (2023-Q3 onwards: quadkey, tile, tile_x,
  tile_y, avg_d_kbps, avg_u_kbps, avg_lat_ms, avg_lat_down_ms, avg_lat_up_ms, tests,
  devices), zoom-16 quadkeys computed from the same population centres.

Speeds follow a per-tract profile by geography, calibrated to the real place-level BDC
figures in data/ector/fcc (Odessa: cable and 56% fiber; West Odessa: 1.5% fiber, mostly
fixed wireless and DSL; Gardendale and the far west: no wired service). Three city tracts are
made to test slow although the illustrative BDC layer claims them served: the cases the
claims-vs-evidence analysis must find (the script checks those claims when the layer exists).
None of this is measured data.

Run: .venv/bin/python scripts/make_illustrative_speedtests.py
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import shapely

from assetmap.loaders._quadkey import lonlat_to_tile, tile_bounds, tiles_to_quadkeys

SEED = 20250611
ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "ector"
OUT = DATA / "speedtests"
FRINGE = {"48135002702", "48135002801", "48135002701", "48135002804", "48135002803"}
RURAL = {"48135003001", "48135003003", "48135002200"}
SLOW_CLAIMED = ["48135001000", "48135001100", "48135002000"]

# technology mixes per profile: (share, down median Mbps, up/down ratio or fixed up, latency)
PROFILES = {
    "city": [(0.45, 450, 0.9, 10), (0.45, 230, 0.09, 22), (0.10, 30, 0.12, 35)],
    "fringe": [(0.20, 200, 0.09, 24), (0.50, 45, 0.15, 40), (0.30, 18, 0.12, 45)],
    "rural": [(0.55, 18, 0.15, 50), (0.45, 70, 0.12, 620)],
    "slow": [(0.92, 12, 0.12, 45), (0.08, 60, 0.1, 30)],
}


def tract_profiles(tracts: list[str]) -> dict[str, str]:
    profile = {t: "rural" if t in RURAL else "fringe" if t in FRINGE else "city" for t in tracts}
    for t in SLOW_CLAIMED:
        profile[t] = "slow"
    return profile


def bdc_served_share() -> pd.Series | None:
    """Share of residential locations served at 100/20 per tract in the illustrative BDC layer."""
    files = sorted((DATA / "fcc").glob("*illustrative*fixed_availability*.zip"))
    if not files:
        return None
    bdc = pd.read_csv(files[0], dtype=str)
    bdc = bdc[bdc["business_residential_code"].isin(["R", "X"])]
    down = pd.to_numeric(bdc["max_advertised_download_speed"])
    up = pd.to_numeric(bdc["max_advertised_upload_speed"])
    reliable = bdc["technology"].isin(["10", "40", "50", "71", "72"]) & (bdc["low_latency"] == "1")
    bdc = bdc.assign(served=reliable & (down >= 100) & (up >= 20),
                     tract=bdc["block_geoid"].str[:11])
    per_location = bdc.groupby("location_id").agg(tract=("tract", "first"),
                                                  served=("served", "any"))
    return per_location.groupby("tract")["served"].mean()


def draw_speeds(rng: np.random.Generator, kind: str, n: int) -> tuple[np.ndarray, ...]:
    mix = PROFILES[kind]
    pick = rng.choice(len(mix), size=n, p=[m[0] for m in mix])
    med = np.array([m[1] for m in mix])[pick]
    ratio = np.array([m[2] for m in mix])[pick]
    lat = np.array([m[3] for m in mix])[pick]
    down = med * rng.lognormal(0.0, 0.35, n)
    up = down * ratio * rng.lognormal(0.0, 0.2, n)
    latency = lat * rng.lognormal(0.0, 0.25, n)
    return np.round(down, 2), np.round(up, 2), np.round(latency, 1)


def make_tests(rng: np.random.Generator, bg: pd.DataFrame, profile: dict[str, str]) -> pd.DataFrame:
    n = rng.poisson(bg["POP2020"].to_numpy() / 110.0)
    rows = bg.loc[bg.index.repeat(n)].reset_index(drop=True)
    sd_m = np.minimum(0.25 * np.sqrt(rows["tlc_shape_area_m2"].to_numpy()), 600.0)
    lat = rows["popctr_lat"].to_numpy() + rng.normal(0, 1, len(rows)) * sd_m / 111_320.0
    lon = rows["popctr_lon"].to_numpy() + rng.normal(0, 1, len(rows)) * sd_m / (
        111_320.0 * np.cos(np.radians(31.85)))
    # a point scattered across the county line goes back to its population centre
    county = shapely.union_all(
        gpd.read_file(DATA / "boundaries" / "ector_county_2020.geojson").geometry.to_numpy())
    outside = ~shapely.contains_xy(county, lon, lat)
    lat[outside] = rows.loc[outside, "popctr_lat"].to_numpy()
    lon[outside] = rows.loc[outside, "popctr_lon"].to_numpy()
    down = np.empty(len(rows))
    up = np.empty(len(rows))
    latency = np.empty(len(rows))
    for kind in PROFILES:
        mask = rows["TRACT_GEOID"].map(profile).to_numpy() == kind
        down[mask], up[mask], latency[mask] = draw_speeds(rng, kind, int(mask.sum()))
    # about one tester in five runs a second test from the same device
    device = np.arange(len(rows))
    repeat = rng.random(len(rows)) < 0.2
    device[1:][repeat[1:]] = device[:-1][repeat[1:]]
    start = pd.Timestamp("2025-03-01T14:00:00Z")
    stamp = start + pd.to_timedelta(rng.integers(0, 75 * 24 * 60, len(rows)), unit="min")
    return pd.DataFrame({
        "test_id": [f"T{i:05d}" for i in range(len(rows))],
        "timestamp": stamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "latitude": np.round(lat, 6), "longitude": np.round(lon, 6),
        "download_mbps": down, "upload_mbps": up, "latency_ms": latency,
        "device_id": [f"D{d:05d}" for d in device],
        "connection_type": rng.choice(["wifi", "ethernet"], len(rows), p=[0.8, 0.2]),
    })


def make_tiles(rng: np.random.Generator, bg: pd.DataFrame, profile: dict[str, str]) -> pa.Table:
    records = []
    for row in bg.itertuples(index=False):
        x0, y0 = lonlat_to_tile([row.popctr_lon], [row.popctr_lat], 16)
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                if (dx or dy) and rng.random() < 0.45:
                    continue
                tests = int(rng.poisson(row.POP2020 / (60.0 if dx == dy == 0 else 220.0))) + 1
                down, up, lat = draw_speeds(rng, profile[row.TRACT_GEOID], tests)
                records.append((int(x0[0]) + dx, int(y0[0]) + dy, tests, down, up, lat))
    frame = pd.DataFrame(records, columns=["x", "y", "tests", "down", "up", "lat"])
    # tiles drawn from neighbouring block groups are the same tile: pool their tests
    frame = frame.groupby(["x", "y"], as_index=False).agg(
        tests=("tests", "sum"), down=("down", lambda s: np.concatenate(s.to_list())),
        up=("up", lambda s: np.concatenate(s.to_list())),
        lat=("lat", lambda s: np.concatenate(s.to_list())))
    west, south, east, north = tile_bounds(frame["x"], frame["y"], np.full(len(frame), 16))
    tile = [f"POLYGON(({e} {n}, {e} {s}, {w} {s}, {w} {n}, {e} {n}))"
            for w, s, e, n in zip(west, south, east, north, strict=True)]
    devices = np.maximum(1, np.round(frame["tests"] * rng.uniform(0.35, 0.8, len(frame))))
    loaded = rng.random(len(frame)) < 0.7  # loaded latency is sparsely populated
    lat_mean = np.array([a.mean() for a in frame["lat"]])
    return pa.table({
        "quadkey": pa.array(tiles_to_quadkeys(frame["x"], frame["y"], 16), pa.string()),
        "tile": pa.array(tile, pa.string()),
        "tile_x": pa.array(np.round((west + east) / 2, 4), pa.float64()),
        "tile_y": pa.array(np.round((south + north) / 2, 4), pa.float64()),
        "avg_d_kbps": pa.array([int(a.mean() * 1000) for a in frame["down"]], pa.int64()),
        "avg_u_kbps": pa.array([int(a.mean() * 1000) for a in frame["up"]], pa.int64()),
        "avg_lat_ms": pa.array(np.round(lat_mean).astype("int64"), pa.int64()),
        "avg_lat_down_ms": pa.array(np.round(lat_mean * 4.0).astype("int64"), pa.int32(),
                                    mask=~loaded),
        "avg_lat_up_ms": pa.array(np.round(lat_mean * 6.0).astype("int64"), pa.int32(),
                                  mask=~loaded),
        "tests": pa.array(frame["tests"].astype("int64"), pa.int64()),
        "devices": pa.array(devices.astype("int64"), pa.int64()),
    })


README = """# Illustrative speed tests for Ector County (NOT measured data)

Both files here are **illustrative**: generated by `scripts/make_illustrative_speedtests.py`
(seed {seed}) to demonstrate assetmap's speed-test and claims-vs-evidence analysis. No test
here was ever run. Do not cite them as facts about Ector County.

| file | what |
|---|---|
| ector_speedtests_illustrative.csv | {tests} district-style tests (one row per test; \
{devices} devices) at points scattered around the 2020 block-group population centres \
(Census Bureau), March-May 2025 |
| ookla_fixed_tiles_illustrative_ector.parquet | {tiles} zoom-16 tiles in the exact column \
names and types of Ookla's published `performance_fixed_tiles` Parquet (quadkey, tile, \
tile_x, tile_y, avg_d_kbps, avg_u_kbps, avg_lat_ms, avg_lat_down_ms, avg_lat_up_ms, tests, \
devices); quarter 2025-Q1 (read with `period="2025-Q1"`) |

Speeds follow a per-tract profile ({profile_basis}); tracts {slow} are made to test slow
(most tests below 25/3 Mbps) although the illustrative BDC layer (data/ector/fcc) claims
them served.

Real Ookla open data are licensed CC BY-NC-SA 4.0 (https://github.com/teamookla/ookla-open-data);
real M-Lab data are CC0 (https://www.measurementlab.net/data/). These synthetic files carry
no third-party data and are released with the project.
"""


def main() -> None:
    rng = np.random.default_rng(SEED)
    bg = pd.read_csv(DATA / "population" / "ector_blockgroups_2020_pl_population.csv",
                     dtype={"GEOID": str, "TRACT_GEOID": str})
    bg = bg.sort_values("GEOID").reset_index(drop=True)
    profile = tract_profiles(sorted(bg["TRACT_GEOID"].unique()))
    OUT.mkdir(parents=True, exist_ok=True)
    tests = make_tests(rng, bg, profile)
    tests.to_csv(OUT / "ector_speedtests_illustrative.csv", index=False)
    tiles = make_tiles(rng, bg, profile)
    pq.write_table(tiles, OUT / "ookla_fixed_tiles_illustrative_ector.parquet")
    basis = "by geography: Odessa city, West Odessa fringe, rural north and west"
    share = bdc_served_share()
    if share is not None:
        claimed = share.reindex(SLOW_CLAIMED)
        assert (claimed >= 0.5).all(), f"slow tracts must be claimed served: {claimed}"
        print("BDC served share of the slow tracts:", claimed.round(2).to_dict())
    (OUT / "README.md").write_text(README.format(
        seed=SEED, tests=len(tests), devices=tests["device_id"].nunique(),
        tiles=tiles.num_rows, slow=", ".join(SLOW_CLAIMED), profile_basis=basis))
    print(f"wrote {len(tests)} tests and {tiles.num_rows} tiles to {OUT}")


if __name__ == "__main__":
    main()
