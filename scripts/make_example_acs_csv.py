"""Write the example study's ACS table in data.census.gov's download layout (real numbers).

``examples/ector_county/study.toml`` names an ACS table with ``[census] acs = "<file>.csv"``,
which :func:`assetmap.read_acs_csv` reads in the layout of a data.census.gov table download:
a row of variable codes, a row of labels, then one row per geography, ``GEO_ID`` like
``1400000US48135000100``.

The numbers are the real ACS 5-year 2019-2023 table B19001 (household income in the past
12 months) for the 33 Ector County 2020 census tracts, shipped in
``data/ector/acs/acs_b19001_tracts_ector_midland_andrews.csv`` (provenance in
``data/ector/PROVENANCE.md``). Only the layout is rebuilt here; no value is changed. The
shipped cut has no margins of error, so the ``_M`` columns a real download carries are left
out (the reader then computes no CV flags, and says so in its report).

Run: .venv/bin/python scripts/make_example_acs_csv.py
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "data" / "ector" / "acs" / "acs_b19001_tracts_ector_midland_andrews.csv"
TRACTS = ROOT / "data" / "ector" / "boundaries" / "ector_tracts_2020.geojson"
OUT = ROOT / "examples" / "ector_county" / "ACSDT5Y2023.B19001-Data.csv"

# data.census.gov's labels for B19001 (ACS 2023), in column order.
BRACKETS = [
    "Less than $10,000", "$10,000 to $14,999", "$15,000 to $19,999", "$20,000 to $24,999",
    "$25,000 to $29,999", "$30,000 to $34,999", "$35,000 to $39,999", "$40,000 to $44,999",
    "$45,000 to $49,999", "$50,000 to $59,999", "$60,000 to $74,999", "$75,000 to $99,999",
    "$100,000 to $124,999", "$125,000 to $149,999", "$150,000 to $199,999",
    "$200,000 or more",
]


def tract_names() -> dict[str, str]:
    """GEOID -> "Census Tract 1.02; Ector County; Texas" (data.census.gov's 2023 NAME)."""
    import geopandas as gpd

    tracts = gpd.read_file(TRACTS)
    return {g: f"Census Tract {n}; Ector County; Texas"
            for g, n in zip(tracts["GEOID"], tracts["NAME"], strict=True)}


def main() -> None:
    table = pd.read_csv(SOURCE, dtype={"GEOID": str})
    table = table[table["GEOID"].str.startswith("48135")].sort_values("GEOID")
    names = tract_names()
    missing = set(names) - set(table["GEOID"])
    if missing:
        raise SystemExit(f"tracts missing from {SOURCE.name}: {sorted(missing)}")
    codes = [f"B19001_{i:03d}E" for i in range(1, 18)]
    labels = ["Estimate!!Total:"] + [f"Estimate!!Total:!!{b}" for b in BRACKETS]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerow(["GEO_ID", "NAME", *codes])
        writer.writerow(["Geography", "Geographic Area Name", *labels])
        for row in table.itertuples(index=False):
            values = [str(int(getattr(row, c))) for c in codes]
            writer.writerow([f"1400000US{row.GEOID}", names[row.GEOID], *values])
    print(f"wrote {OUT.relative_to(ROOT)} ({len(table)} tracts)")


if __name__ == "__main__":
    main()
