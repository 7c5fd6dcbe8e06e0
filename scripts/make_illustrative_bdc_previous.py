"""Derive an ILLUSTRATIVE previous BDC release (December 2024) from the June-2025 layer.

The demo needs two releases to show what changed between them. This script reads the shipped
illustrative June-2025 layer (``bdc_48_illustrative_ector_fixed_availability_J25.zip``, itself
synthetic; see data/ector/fcc/ILLUSTRATIVE_BDC.md) and writes
``bdc_48_illustrative_ector_fixed_availability_D24.zip`` in the same exact schema, with three
documented differences, so that June 2025 shows them as change since December 2024:

1. **Fiber gained.** In the Odessa tracts ``FIBER_TRACTS``, a seeded ``FIBER_DROP_SHARE`` of
   the locations with a fiber (technology 50) offer had no fiber offer in December: every
   technology-50 row of those locations is left out.
2. **A provider entering.** ``ENTERING_PROVIDER`` (a second licensed fixed-wireless provider)
   had no offer at all in December: all its rows are left out. It is a slower second offer
   wherever it appears, so leaving it out changes no location's service level.
3. **Upgraded locations.** In the West Odessa tracts ``UPGRADE_TRACTS``, a seeded
   ``UPGRADE_SHARE`` of the locations served at 100/20 in June were underserved in December:
   each of their reliable offers (technology 10, 40, 50, 71, 72) at 100/20 or more is written
   at its technology's 25/3 tier (``TIER_25_3``), so the best reliable offer reaches 25/3 but
   not 100/20.

Nothing else differs: the same locations, the same row order, the same text formats. Same
seed, same library versions -> a byte-identical zip (fixed entry timestamp).

Usage::

    .venv/bin/python scripts/make_illustrative_bdc_previous.py
    .venv/bin/python scripts/make_illustrative_bdc_previous.py --out DIR --seed 20241231
"""

from __future__ import annotations

import argparse
import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
FCC = ROOT / "data" / "ector" / "fcc"
SEED = 20241231
SOURCE_ZIP = "bdc_48_illustrative_ector_fixed_availability_J25.zip"
STEM = "bdc_48_illustrative_ector_fixed_availability_D24"
ZIP_NAME = f"{STEM}.zip"
CSV_NAME = f"{STEM}.csv"

#: Odessa tracts where fiber was built out between the releases (almost all fiber in June).
FIBER_TRACTS = ("48135000400", "48135001300", "48135002900")
FIBER_DROP_SHARE = 0.6
#: provider_id of the provider with no offer in December 2024 (Caliche Wireless, Inc.).
ENTERING_PROVIDER = "990042"
#: West Odessa tracts where some served locations were underserved in December 2024.
UPGRADE_TRACTS = ("48135002801", "48135002804")
UPGRADE_SHARE = 0.25
RELIABLE = (10, 40, 50, 71, 72)
#: (download, upload) of each reliable technology's 25/3 tier in the J25 generator.
TIER_25_3 = {10: (45, 6), 40: (50, 5), 50: (50, 50), 71: (50, 5), 72: (50, 5)}


def read_rows(path: Path) -> pd.DataFrame:
    """Read a BDC zip with every column as text, exactly as written."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _served(rows: pd.DataFrame) -> pd.Series:
    tech = rows["technology"].astype(int)
    down = rows["max_advertised_download_speed"].astype(int)
    up = rows["max_advertised_upload_speed"].astype(int)
    return tech.isin(RELIABLE) & (rows["low_latency"] == "1") & (down >= 100) & (up >= 20)


def derive(j25: pd.DataFrame, seed: int = SEED) -> tuple[pd.DataFrame, dict[str, object]]:
    """Return the December-2024 rows and what was changed (ids, counts).

    Parameters
    ----------
    j25 : DataFrame
        The June-2025 rows, every column as text.
    seed : int
        Seed of the random choices.
    """
    rng = np.random.default_rng(seed)
    tract = j25["block_geoid"].str[:11]
    fiber = j25["technology"] == "50"
    fiber_locs = np.sort(j25.loc[fiber & tract.isin(FIBER_TRACTS), "location_id"].unique())
    n_drop = round(FIBER_DROP_SHARE * len(fiber_locs))
    dropped = set(rng.choice(fiber_locs, size=n_drop, replace=False))
    remove_fiber = fiber & j25["location_id"].isin(dropped)
    remove_provider = j25["provider_id"] == ENTERING_PROVIDER

    served_row = _served(j25)
    served_locs = np.sort(j25.loc[served_row & tract.isin(UPGRADE_TRACTS),
                                  "location_id"].unique())
    n_up = round(UPGRADE_SHARE * len(served_locs))
    upgraded = set(rng.choice(served_locs, size=n_up, replace=False))
    downgrade = served_row & j25["location_id"].isin(upgraded) & ~remove_provider
    d24 = j25.copy()
    tech = d24.loc[downgrade, "technology"].astype(int)
    d24.loc[downgrade, "max_advertised_download_speed"] = tech.map(
        lambda t: str(TIER_25_3[t][0])).to_numpy()
    d24.loc[downgrade, "max_advertised_upload_speed"] = tech.map(
        lambda t: str(TIER_25_3[t][1])).to_numpy()
    d24 = d24[~(remove_fiber | remove_provider)].reset_index(drop=True)
    changes = {
        "fiber_locations_dropped": sorted(dropped),
        "fiber_rows_removed": int((remove_fiber & ~remove_provider).sum()),
        "provider_rows_removed": int(remove_provider.sum()),
        "upgraded_locations": sorted(upgraded),
        "rows_downgraded": int(downgrade.sum()),
    }
    return d24, changes


def write(d24: pd.DataFrame, out: Path) -> Path:
    """Write the zip (one CSV, fixed timestamp), deterministically."""
    out.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    d24.to_csv(buf, index=False, lineterminator="\n")
    info = zipfile.ZipInfo(CSV_NAME, date_time=(2025, 5, 30, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    path = out / ZIP_NAME
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(info, buf.getvalue().encode("utf-8"), compresslevel=9)
    return path


def main(argv: list[str] | None = None) -> None:
    """Derive and write the December-2024 layer; print what changed."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", type=Path, default=FCC / SOURCE_ZIP, help="the J25 layer")
    ap.add_argument("--out", type=Path, default=FCC, help="output directory")
    ap.add_argument("--seed", type=int, default=SEED, help="random seed")
    args = ap.parse_args(argv)
    d24, changes = derive(read_rows(args.source), args.seed)
    path = write(d24, args.out)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB, {len(d24):,} rows); "
          f"fiber left out at {len(changes['fiber_locations_dropped']):,} locations "
          f"({changes['fiber_rows_removed']:,} rows), provider {ENTERING_PROVIDER} left out "
          f"({changes['provider_rows_removed']:,} rows), "
          f"{len(changes['upgraded_locations']):,} locations underserved "
          f"({changes['rows_downgraded']:,} rows at 25/3)")


if __name__ == "__main__":
    main()
