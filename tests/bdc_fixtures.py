"""Helpers for the BDC tests: write small availability files and generate synthetic ones."""

from __future__ import annotations

import csv
import importlib.util
import io
import zipfile
from functools import cache
from pathlib import Path

import pandas as pd
import pytest

HEADER = [
    "frn", "provider_id", "brand_name", "location_id", "technology",
    "max_advertised_download_speed", "max_advertised_upload_speed", "low_latency",
    "business_residential_code", "state_usps", "block_geoid", "h3_res8_id",
]
H3 = "8848a2d8c9fffff"
BLOCK = "481350001001000"  # Ector County, tract 48135000100


def offer(location, tech, down, up, *, ll=1, provider="130001", code="R",
          block=BLOCK, brand="Provider", frn="0001234567", h3=H3, state="TX"):
    """One availability row as a dict in the BDC column order."""
    return dict(zip(HEADER, [frn, provider, brand, str(location), str(tech), str(down), str(up),
                             str(ll), code, state, block, h3], strict=True))


def csv_text(rows, header=HEADER) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for r in rows:
        writer.writerow([r[h] if isinstance(r, dict) else r[i] for i, h in enumerate(header)])
    return buf.getvalue()


def write_csv(path: Path, rows, header=HEADER) -> Path:
    path.write_text(csv_text(rows, header))
    return path


def write_zip(path: Path, rows, *, member: str | None = None, header=HEADER) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(member or path.with_suffix(".csv").name, csv_text(rows, header))
    return path


@cache
def _generator():
    script = Path(__file__).resolve().parents[1] / "scripts" / "make_synthetic_bdc.py"
    spec = importlib.util.spec_from_file_location("make_synthetic_bdc", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def generate(out: Path, rows: int = 20_000, *, seed: int = 7, tracts: int = 40,
             formats=("csv", "zip", "parquet")) -> dict[str, list[Path]]:
    """Small seeded synthetic release (the benchmark's generator) under ``out``."""
    return _generator().generate(rows, out, formats=formats, seed=seed, n_tracts=tracts,
                                 chunk_rows=rows, quiet=True)


@pytest.fixture(scope="session")
def synthetic(tmp_path_factory) -> dict[str, list[Path]]:
    """A seeded 20,000-row synthetic release (CSV per technology, zips, Parquet)."""
    return generate(tmp_path_factory.mktemp("bdc_synthetic"))


def pandas_recompute(csv_files, *, level: str = "tract", codes=("R", "X")) -> pd.DataFrame:
    """An independent pandas recomputation of service_by_area from raw CSVs."""
    raw = pd.concat([pd.read_csv(f, dtype=str, keep_default_na=False) for f in csv_files],
                    ignore_index=True)
    raw = raw[raw["business_residential_code"].isin(codes)]
    tech = raw["technology"].astype(int)
    down = raw["max_advertised_download_speed"].astype(int)
    up = raw["max_advertised_upload_speed"].astype(int)
    reliable = tech.isin([10, 40, 50, 71, 72]) & (raw["low_latency"].astype(int) == 1)
    width = {"tract": 11, "block_group": 12, "county": 5}.get(level)
    df = pd.DataFrame({
        "area": raw["h3_res8_id"] if width is None else raw["block_geoid"].str[:width],
        "loc": raw["location_id"], "prov": raw["provider_id"],
        "r25": reliable & (down >= 25) & (up >= 3), "r100": reliable & (down >= 100) & (up >= 20),
        "copper": tech == 10, "cable": tech == 40, "fiber": tech == 50,
        "lfw": tech.isin([71, 72]), "ufw": tech == 70, "sat": tech.isin([60, 61]),
        "terr_not_ufw": tech.isin([0, 10, 40, 50, 71, 72]),
    })
    loc = df.groupby("loc").agg(  # a location in two areas: the smallest (note_split)
        area=("area", "min"), r25=("r25", "any"), r100=("r100", "any"),
        copper=("copper", "any"), cable=("cable", "any"), fiber=("fiber", "any"),
        lfw=("lfw", "any"), ufw=("ufw", "any"), sat=("sat", "any"),
        terr=("terr_not_ufw", "any"))
    loc["p100"] = (df[df["r100"]].groupby("loc")["prov"].nunique()
                   .reindex(loc.index).fillna(0))
    loc["sat_only"] = loc["sat"] & ~loc["terr"] & ~loc["ufw"]
    loc["ufw_only"] = loc["ufw"] & ~loc["terr"]
    g = loc.groupby("area")
    n = g.size()
    out = pd.DataFrame({
        "locations": n,
        "unserved": g["r25"].apply(lambda s: int((~s).sum())),
        "underserved": (loc["r25"] & ~loc["r100"]).groupby(loc["area"]).sum(),
        "served": g["r100"].sum(),
    })
    for c in ("unserved", "underserved", "served"):
        out[f"{c}_share"] = out[c] / n
    out["fiber_locations"] = g["fiber"].sum()
    out["fiber_share"] = out["fiber_locations"] / n
    placed = df.assign(area=df["loc"].map(loc["area"]))  # providers in their location's area
    out["providers"] = placed.groupby("area")["prov"].nunique().reindex(out.index)
    out["providers_100_20"] = g["p100"].mean()
    out["satellite_only"] = g["sat_only"].sum()
    out["unlicensed_fw_only"] = g["ufw_only"].sum()
    for name, col in (("copper", "copper"), ("cable", "cable"), ("fiber", "fiber"),
                      ("licensed_fw", "lfw"), ("unlicensed_fw", "ufw"), ("satellite", "sat")):
        out[f"tech_{name}_share"] = g[col].sum() / n
    out.index.name = "h3_res8_id" if width is None else "GEOID"
    return out.reset_index().sort_values(out.index.name).reset_index(drop=True)


# --- the rule-set conformance release (tests/test_bdc_conformance.py) ----------------------

CONFORMANCE_BLOCKS = ("481350001001000", "481350001002000", "481350002001000",
                      "481350003001000", "481350003002001")
CONFORMANCE_H3 = ("8848d6d969fffff", "8848d6d96bfffff", "8848d6d961fffff", "8848d6d969fffff",
                  "8848d6d965fffff")  # the H3 cell of each block
CONFORMANCE_TECHNOLOGIES = (0, 10, 40, 50, 60, 61, 70, 71, 72)
#: fractional speeds either side of the default thresholds (25/3, 100/20)
FRACTIONAL_PAIRS = ((24.6, 3), (25, 2.9), (99.99, 20), (100, 19.5), (24.6, 2.9), (99.99, 19.5))


def boundary_pairs(thresholds, *, fractional: bool) -> list[tuple[float, float]]:
    """(download, upload) pairs on, just under and just over every threshold given.

    ``thresholds`` are (download, upload) pairs (each rule set's served and underserved).
    Integral thresholds get integral neighbours (+-1); with ``fractional`` also +-0.01 and
    -0.4 neighbours and :data:`FRACTIONAL_PAIRS`. No speed is negative.
    """
    steps = (1, 0.01, 0.4) if fractional else (1,)
    pairs = set(FRACTIONAL_PAIRS) if fractional else set()
    for down, up in thresholds:
        for step in steps:
            for d, u in ((down, up), (down - step, up), (down, up - step),
                         (down - step, up - step), (down + step, up + step)):
                whole = float(d).is_integer() and float(u).is_integer()
                if d >= 0 and u >= 0 and (fractional or whole):
                    pairs.add((round(d, 6), round(u, 6)))
    pairs.add((0, 0))
    return sorted(pairs)


def conformance_offers(thresholds, *, fractional: bool, seed: int = 11,
                       mixed: int = 400) -> list[dict]:
    """Availability rows that walk every technology, both latency flags and every threshold.

    One location per (technology, low_latency, boundary pair), then ``mixed`` locations with
    2-4 offers drawn from the same grid (several providers, technologies and speeds, so the
    best offer and the per-offer test matter), and a few business-only rows (left out by the
    default codes). Location and provider ids are integers written as text, as in BDC
    releases. Speeds are ints unless ``fractional`` (then floats where fractional).
    """
    import random

    rng = random.Random(seed)
    pairs = boundary_pairs(thresholds, fractional=fractional)

    def speed(v):
        return int(v) if float(v).is_integer() else float(v)

    def row(loc, tech, ll, pair, provider, code="R"):
        b = loc % len(CONFORMANCE_BLOCKS)
        return {"frn": "0001234567", "provider_id": str(130000 + provider),
                "brand_name": f"Provider {provider}", "location_id": str(1_000_000 + loc),
                "technology": tech, "max_advertised_download_speed": speed(pair[0]),
                "max_advertised_upload_speed": speed(pair[1]), "low_latency": ll,
                "business_residential_code": code, "state_usps": "TX",
                "block_geoid": CONFORMANCE_BLOCKS[b], "h3_res8_id": CONFORMANCE_H3[b]}

    rows, loc = [], 0
    for tech in CONFORMANCE_TECHNOLOGIES:
        for ll in (0, 1):
            for pair in pairs:
                rows.append(row(loc, tech, ll, pair, rng.randrange(8),
                                code=rng.choice("RRRX")))
                loc += 1
    for _ in range(mixed):
        used = set()
        for _ in range(rng.randint(2, 4)):
            tech, provider = rng.choice(CONFORMANCE_TECHNOLOGIES), rng.randrange(8)
            if (tech, provider) not in used:  # one row per location x provider x technology
                used.add((tech, provider))
                rows.append(row(loc, tech, rng.randint(0, 1), rng.choice(pairs), provider))
        loc += 1
    for _ in range(20):  # business-only locations
        rows.append(row(loc, rng.choice(CONFORMANCE_TECHNOLOGIES), 1, rng.choice(pairs),
                        rng.randrange(8), code="B"))
        loc += 1
    return rows


def write_by_technology(folder: Path, rows) -> list[Path]:
    """Write rows as one BDC CSV per technology (``bdc_48_<tech>_...csv``), as releases are."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for tech in sorted({int(r["technology"]) for r in rows}):
        part = [{k: str(v) for k, v in r.items()} for r in rows if int(r["technology"]) == tech]
        paths.append(write_csv(folder / f"bdc_48_{tech}_conformance.csv", part))
    return paths
