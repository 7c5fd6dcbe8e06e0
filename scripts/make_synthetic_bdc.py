"""Generate illustrative FCC BDC fixed-availability files in the real schema, at any size.

Texas-like and seeded: about 7,000 census tracts with valid-looking 15-character block GEOIDs in
real Texas county codes, about 3 offers per location, a realistic technology mix (satellite on
nearly every location, fiber and cable mostly in urban tracts, fixed wireless in rural ones),
speeds in the tiers providers advertise, and about 4% of brand names with a quoted comma.
The data are synthetic: every file name contains ``illustrative``.

Like a real release, the rows are split into one file per technology; the script writes CSVs,
zips (one per technology, the CSV inside named like the zip) and/or a Parquet directory::

    python scripts/make_synthetic_bdc.py --rows 1000000 --formats csv,zip,parquet \
        --out benchmarks/_work/bdc_1m

Data written by the benchmark go under ``benchmarks/_work/`` (ignored by git).
"""

from __future__ import annotations

import argparse
import shutil
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import h3
import numpy as np
import pyarrow as pa

COLUMNS = [
    "frn", "provider_id", "brand_name", "location_id", "technology",
    "max_advertised_download_speed", "max_advertised_upload_speed", "low_latency",
    "business_residential_code", "state_usps", "block_geoid", "h3_res8_id",
]
TECH_FILE = {
    0: "Other", 10: "Copper", 40: "Cable", 50: "FibertothePremises", 60: "GSOSatellite",
    61: "NGSOSatellite", 70: "UnlicensedFixedWireless", 71: "LicensedFixedWireless",
    72: "LBRFixedWireless",
}
# (download, upload) tiers per technology, with weights
SPEEDS = {
    0: ([(10, 1), (25, 3)], [0.5, 0.5]),
    10: ([(3, 1), (10, 1), (25, 3), (50, 5), (100, 10), (100, 20)], [.1, .25, .25, .2, .1, .1]),
    40: ([(100, 10), (300, 10), (500, 20), (1000, 35), (1200, 50)], [.05, .2, .25, .4, .1]),
    50: ([(100, 100), (300, 300), (500, 500), (1000, 1000), (2000, 2000)], [.05, .2, .2, .45, .1]),
    60: ([(25, 3), (100, 3)], [0.5, 0.5]),
    61: ([(100, 20), (220, 25)], [0.5, 0.5]),
    70: ([(10, 1), (25, 3), (50, 10), (100, 20)], [.2, .4, .25, .15]),
    71: ([(10, 1), (25, 3), (50, 10), (100, 20), (300, 50)], [.15, .3, .25, .2, .1]),
    72: ([(25, 3), (100, 20), (300, 20)], [.3, .4, .3]),
}
# share of offers by technology in an urban and a rural tract
TECHS = np.array([0, 10, 40, 50, 60, 61, 70, 71, 72])
MIX_URBAN = np.array([.005, .12, .22, .16, .16, .17, .06, .07, .035])
MIX_RURAL = np.array([.005, .12, .02, .03, .26, .27, .17, .09, .035])
TX_COUNTIES = np.arange(1, 508, 2)  # Texas county FIPS codes are the odd numbers 001-507


def _providers(rng: np.random.Generator) -> dict[int, dict[str, np.ndarray]]:
    """A pool of providers per technology: frn, provider_id, brand_name."""
    pool: dict[int, dict[str, np.ndarray]] = {}
    next_id = 130001
    for tech in TECHS:
        n = {60: 3, 61: 1, 0: 3}.get(int(tech), 25)
        ids = np.arange(next_id, next_id + n)
        next_id += n + 7
        frn = np.array([f"{x:010d}" for x in rng.integers(1_000_000, 39_999_999, n)])
        names = []
        for i in range(n):
            base = f"{['West', 'Lone Star', 'Permian', 'Plains', 'Basin', 'Big Sky'][i % 6]}"
            name = f"{base} {TECH_FILE[int(tech)][:5]} {i}"
            names.append(name)
        pool[int(tech)] = {"frn": frn, "provider_id": ids.astype(str),
                           "brand_name": np.array(names)}
    return pool


def _geography(rng: np.random.Generator, n_tracts: int):
    """Tracts (11 digits), urbanness, and seven H3 res-8 cells around a point per tract."""
    county = rng.choice(TX_COUNTIES, n_tracts)
    tract_code = rng.integers(100, 990_000, n_tracts)
    tracts = np.array([f"48{c:03d}{t:06d}" for c, t in zip(county, tract_code, strict=True)])
    tracts, _keep = np.unique(tracts, return_index=True)
    urban = rng.random(len(tracts)) < 0.7
    lat = rng.uniform(26.0, 36.4, len(tracts))
    lon = rng.uniform(-106.5, -93.6, len(tracts))
    cells = np.array([
        sorted(h3.grid_disk(h3.latlng_to_cell(a, b, 8), 1))[:7]
        for a, b in zip(lat, lon, strict=True)
    ])
    return tracts, urban, cells


def local_provider_table(rng, pool, n_tracts):
    """Per technology: (tracts x 3 provider indices, number of local providers per tract)."""
    out = {}
    for t, p in pool.items():
        size = len(p["frn"])
        local = np.stack([rng.permutation(size)[:3] if size >= 3 else np.resize(
            np.arange(size), 3) for _ in range(n_tracts)])
        n_local = rng.integers(1, 4, n_tracts) if t not in (60, 61) else np.full(n_tracts, size)
        out[t] = (local if t not in (60, 61) else np.tile(np.resize(np.arange(size), 3),
                                                           (n_tracts, 1)), np.minimum(n_local, 3))
    return out


def generate_chunk(rng, n_locations, first_location, tracts, urban, cells, pool, brand_comma,
                   local_providers):
    """Return one chunk of availability rows as a pyarrow Table."""
    ti = rng.integers(0, len(tracts), n_locations)
    block = rng.integers(1, 5, n_locations) * 1000 + rng.integers(0, 200, n_locations)
    blocks = np.char.add(tracts[ti], np.char.zfill(block.astype(str), 4))
    h3cell = cells[ti, rng.integers(0, 7, n_locations)]
    code = rng.choice(np.array(["R", "X", "B"]), n_locations, p=[0.25, 0.7, 0.05])
    k = rng.choice([1, 2, 3, 4, 5], n_locations, p=[.12, .23, .3, .22, .13])
    loc = np.repeat(np.arange(n_locations), k)
    is_urban = urban[ti][loc]
    u = rng.random(len(loc))
    tech_idx = np.where(
        is_urban,
        np.searchsorted(np.cumsum(MIX_URBAN) / MIX_URBAN.sum(), u, side="right"),
        np.searchsorted(np.cumsum(MIX_RURAL) / MIX_RURAL.sum(), u, side="right"),
    ).clip(0, len(TECHS) - 1)
    tech = TECHS[tech_idx]
    cols = {c: np.empty(len(loc), dtype=object) for c in ("frn", "provider_id", "brand_name")}
    down = np.zeros(len(loc), dtype=np.int32)
    up = np.zeros(len(loc), dtype=np.int32)
    prov_index = np.zeros(len(loc), dtype=np.int64)
    for t in TECHS:
        m = tech == t
        n = int(m.sum())
        if not n:
            continue
        p = pool[int(t)]
        # each tract has one to three local providers of a technology (satellite: national)
        local, n_local = local_providers[int(t)]
        tract_of_offer = ti[loc[m]]
        pick = (rng.random(n) * n_local[tract_of_offer]).astype(np.int64)
        j = local[tract_of_offer, pick]
        prov_index[m] = j
        for c in cols:
            cols[c][m] = p[c][j]
        tiers, w = SPEEDS[int(t)]
        s = np.array(tiers)[rng.choice(len(tiers), n, p=w)]
        down[m], up[m] = s[:, 0], s[:, 1]
    # one offer per location, provider and technology (as in a real release)
    key = (loc.astype(np.int64) * 1000 + tech) * 100 + prov_index
    _, first = np.unique(key, return_index=True)
    first.sort()
    low = np.where(tech == 60, 0, (rng.random(len(loc)) > 0.02).astype(np.int8)).astype(np.int8)
    brand = cols["brand_name"].astype(str)
    comma = rng.random(len(loc)) < brand_comma
    brand = np.where(comma, np.char.add(brand, ", LLC"), brand)
    loc_ids = (first_location + loc).astype(np.int64)
    sel = first
    return pa.table({
        "frn": cols["frn"][sel].astype(str),
        "provider_id": cols["provider_id"][sel].astype(str),
        "brand_name": brand[sel],
        "location_id": loc_ids[sel].astype(str),
        "technology": tech[sel].astype(np.int16),
        "max_advertised_download_speed": down[sel],
        "max_advertised_upload_speed": up[sel],
        "low_latency": low[sel],
        "business_residential_code": code[loc][sel],
        "state_usps": np.full(len(sel), "TX"),
        "block_geoid": blocks[loc][sel],
        "h3_res8_id": h3cell[loc][sel],
    })


def generate(rows: int, out: Path, *, formats=("csv",), seed: int = 20250630,
             n_tracts: int = 7000, brand_comma: float = 0.04, chunk_rows: int = 2_000_000,
             tag: str = "J25", quiet: bool = False) -> dict[str, list[Path]]:
    """Write about ``rows`` availability rows under ``out``; return the files per format."""
    rng = np.random.default_rng(seed)
    pool = _providers(rng)
    tracts, urban, cells = _geography(rng, n_tracts)
    local_providers = local_provider_table(rng, pool, len(tracts))
    out.mkdir(parents=True, exist_ok=True)
    csv_dir = out / "csv"
    csv_dir.mkdir(exist_ok=True)
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    written = 0
    first_location = 1_000_000_000
    part = 0
    t0 = time.perf_counter()
    per_loc = 2.9  # offers per location after de-duplication
    while written < rows:
        n_loc = max(1, int(min(chunk_rows, rows - written) / per_loc) + 16)
        table = generate_chunk(rng, n_loc, first_location, tracts, urban, cells, pool,
                               brand_comma, local_providers)
        if written + table.num_rows > rows:
            table = table.slice(0, rows - written)
        first_location += n_loc
        written += table.num_rows
        con.register("chunk", table)
        for tech, name in TECH_FILE.items():
            path = csv_dir / f"bdc_48_{name}_fixed_broadband_{tag}_illustrative_part{part:03d}.csv"
            con.execute(
                f"COPY (SELECT * FROM chunk WHERE technology = {tech}) TO '{path}' "
                "(HEADER, DELIMITER ',', QUOTE '\"')"
            )
        con.unregister("chunk")
        part += 1
        if not quiet:
            print(f"  {written:,} rows ({time.perf_counter() - t0:.0f} s)", flush=True)
    # one CSV per technology, as in a release
    files: dict[str, list[Path]] = {"csv": []}
    for name in TECH_FILE.values():
        parts = sorted(csv_dir.glob(f"bdc_48_{name}_*_part*.csv"))
        target = csv_dir / f"bdc_48_{name}_fixed_broadband_{tag}_illustrative.csv"
        with target.open("wb") as dst:
            for i, p in enumerate(parts):
                with p.open("rb") as src:
                    if i:
                        src.readline()
                    shutil.copyfileobj(src, dst, 1 << 22)
                p.unlink()
        files["csv"].append(target)
    if "zip" in formats:
        zdir = out / "zip"
        zdir.mkdir(exist_ok=True)

        def _zip(path: Path) -> Path:
            target = zdir / (path.stem + ".zip")
            with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
                zf.write(path, arcname=path.name)
            return target

        with ThreadPoolExecutor(max_workers=2) as ex:
            files["zip"] = list(ex.map(_zip, files["csv"]))
    if "parquet" in formats:
        pq_dir = out / "parquet"
        if pq_dir.exists():
            shutil.rmtree(pq_dir)
        # the library's own converter: typed, zstd, integer location_id, state partitions
        from assetmap import bdc_to_parquet

        bdc_to_parquet(str(csv_dir / "*.csv"), pq_dir)
        files["parquet"] = [pq_dir]
    if "csv" not in formats:
        shutil.rmtree(csv_dir)
        files.pop("csv")
    con.close()
    return files


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/_work/bdc_synthetic"))
    parser.add_argument("--formats", default="csv,zip,parquet")
    parser.add_argument("--seed", type=int, default=20250630)
    parser.add_argument("--tracts", type=int, default=7000)
    args = parser.parse_args(argv)
    files = generate(args.rows, args.out, formats=tuple(args.formats.split(",")),
                     seed=args.seed, n_tracts=args.tracts)
    for fmt, paths in files.items():
        print(fmt, *[str(p) for p in paths], sep="\n  ")


if __name__ == "__main__":
    main()
