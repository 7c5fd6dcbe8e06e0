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
    loc = df.groupby("loc").agg(
        area=("area", "first"), r25=("r25", "any"), r100=("r100", "any"),
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
    out["providers"] = df.groupby("area")["prov"].nunique().reindex(out.index)
    out["providers_100_20"] = g["p100"].mean()
    out["satellite_only"] = g["sat_only"].sum()
    out["unlicensed_fw_only"] = g["ufw_only"].sum()
    for name, col in (("copper", "copper"), ("cable", "cable"), ("fiber", "fiber"),
                      ("licensed_fw", "lfw"), ("unlicensed_fw", "ufw"), ("satellite", "sat")):
        out[f"tech_{name}_share"] = g[col].sum() / n
    out.index.name = "h3_res8_id" if width is None else "GEOID"
    return out.reset_index().sort_values(out.index.name).reset_index(drop=True)
