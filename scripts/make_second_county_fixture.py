"""Build the second-county test study: Midland County, TX (48329), Midland ISD (LEAID 4830570).

Everything but the BDC layer is a cut of real public files; the BDC layer is ILLUSTRATIVE,
made by the same generator as the Ector demo's (``scripts/make_illustrative_bdc.py``), fed
with Midland's tracts, households and the real FCC place figures for the city of Midland.
The files and ``PROVENANCE.md`` go to ``tests/data/midland/``, and are committed: the tests
read only them. Only this script reads the source folder (default ``/work/shared/data/ector``,
described in that folder's ``PROVENANCE.md``), and only when the fixture is regenerated.

Usage::

    .venv/bin/python scripts/make_second_county_fixture.py
    .venv/bin/python scripts/make_second_county_fixture.py --src DIR --out DIR

Same inputs, same seed, same library versions -> the same files.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import sys
import tempfile
from pathlib import Path
from types import ModuleType

import geopandas as gpd
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SRC = Path("/work/shared/data/ector")
OUT = ROOT / "tests" / "data" / "midland"
COUNTY = "48329"
COUNTY_NAME = "Midland County"
LEAID = "4830570"  # MIDLAND ISD in the NCES CCD 2013-14 district file (not 4830060)
PLACE = "4848072"  # the city of Midland in the FCC BDC place summary
SEED = 20250630
BDC_STEM = "bdc_48_illustrative_midland_fixed_availability_J25"
PLACE_CSV = "bdc_48_midland_fixed_J25_illustrative_place_assignment.csv"
#: Words of the Ector demo that must not reach this study's outputs; a source row that
#: carries one is dropped here (and counted in PROVENANCE.md), so that the leak test can
#: tell library text from data.
DEMO_WORDS = ("ector", "odessa", "ecisd", "starlink", "goldsmith", "gardendale")


def _script(name: str) -> ModuleType:
    """Import one of the repository's scripts as a module (they are not a package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot import scripts/{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _mentions_demo(text: pd.Series) -> pd.Series:
    low = text.astype(str).str.lower()
    return np.logical_or.reduce([low.str.contains(w, regex=False) for w in DEMO_WORDS])


def tracts(src: Path) -> gpd.GeoDataFrame:
    """Midland's 2020 tracts, checked against the 2024 Gazetteer (land area, internal point)."""
    permian = gpd.read_file(src / "boundaries" / "permian_tracts_2020.geojson")
    out = permian[permian["GEOID"].str.startswith(COUNTY)].sort_values("GEOID")
    gaz = pd.read_csv(src / "raw" / "floodgap" / "2024_gaz_tracts_48.txt", sep="\t",
                      dtype={"GEOID": str})
    gaz.columns = [c.strip() for c in gaz.columns]
    gaz = gaz[gaz["GEOID"].str.startswith(COUNTY)].set_index("GEOID")
    if sorted(gaz.index) != out["GEOID"].tolist():
        raise SystemExit("Midland tracts differ between the tract file and the Gazetteer")
    if (out.set_index("GEOID")["ALAND"].astype("int64") != gaz["ALAND"]).any():
        raise SystemExit("ALAND differs between the tract file and the Gazetteer")
    return out.reset_index(drop=True)


def acs_csv(src: Path, tr: gpd.GeoDataFrame, path: Path) -> pd.DataFrame:
    """B19001 in data.census.gov's download layout (two header rows), values unchanged."""
    brackets = _script("make_example_acs_csv").BRACKETS
    table = pd.read_csv(src / "acs" / "acs_b19001_tracts_ector_midland_andrews.csv",
                        dtype={"GEOID": str})
    table = table[table["GEOID"].str.startswith(COUNTY)].sort_values("GEOID")
    names = dict(zip(tr["GEOID"], tr["NAME"], strict=True))
    codes = [f"B19001_{i:03d}E" for i in range(1, 18)]
    labels = ["Estimate!!Total:"] + [f"Estimate!!Total:!!{b}" for b in brackets]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerow(["GEO_ID", "NAME", *codes])
        writer.writerow(["Geography", "Geographic Area Name", *labels])
        for row in table.itertuples(index=False):
            name = f"Census Tract {names[row.GEOID]}; {COUNTY_NAME}; Texas"
            writer.writerow([f"1400000US{row.GEOID}", name,
                             *(str(int(getattr(row, c))) for c in codes)])
    return table


def schools(src: Path, out: Path) -> dict[str, int]:
    """TEA 2023-24 campuses of Midland County and the NCES CCD 2013-14 LEAs there."""
    tea = pd.read_csv(src / "schools" / "tea_schools_2023_24_ector_midland_andrews.csv",
                      dtype=str, keep_default_na=False)
    tea = tea[tea["County"].str.upper() == "MIDLAND"]
    dropped = int(_mentions_demo(tea["School_name"] + " " + tea["District_ISD"]).sum())
    tea = tea[~_mentions_demo(tea["School_name"] + " " + tea["District_ISD"])]
    tea.to_csv(out / "tea_schools_2023_24_midland.csv", index=False, lineterminator="\n")
    lea = pd.read_csv(src / "schools" / "nces_ccd_2013_14_districts_ector_neighbors.csv",
                      dtype=str, keep_default_na=False)
    lea = lea[lea["CONUM"] == COUNTY]
    if LEAID not in set(lea["LEAID"]) or lea.loc[lea["LEAID"] == LEAID, "NAME"].iloc[0] != (
            "MIDLAND ISD"):
        raise SystemExit(f"LEAID {LEAID} is not MIDLAND ISD in the NCES district file")
    lea.to_csv(out / "nces_ccd_2013_14_districts_midland.csv", index=False, lineterminator="\n")
    return {"campuses": len(tea), "midland_isd": int((tea["District_ISD"] == "MIDLAND ISD")
                                                     .sum()),
            "campuses_dropped": dropped, "leas": len(lea)}


def partners(src: Path, out: Path) -> dict[str, int]:
    """Real anchor sites (IMLS, HRSA, HUD, hospitals) of Midland County as a partner file."""
    import assetmap as am

    sites = am.anchor_sites_as_partners(
        src / "sites" / "anchor_sites_fqhc_shelter_hospital_library_permian.csv", county=COUNTY)
    named = _mentions_demo(sites["name"])
    am.write_partner_sites(sites[~named].reset_index(drop=True),
                           out / "midland_anchor_sites.csv")
    return {"sites": int((~named).sum()), "sites_dropped": int(named.sum())}


def rurality(src: Path, out: Path) -> pd.DataFrame:
    ruca = pd.read_csv(src / "rural" / "usda_ruca_2020_tracts2020.csv", dtype={"GEOID": str})
    ruca = ruca[ruca["GEOID"].str.startswith(COUNTY)].sort_values("GEOID")
    ruca.to_csv(out / "usda_ruca_2020_tracts2020_midland.csv", index=False, lineterminator="\n")
    return ruca


def illustrative_bdc(src: Path, tr: gpd.GeoDataFrame, acs: pd.DataFrame, ruca: pd.DataFrame,
                     out: Path) -> dict[str, object]:
    """The Ector generator's functions, given Midland's inputs (see PROVENANCE.md)."""
    gen = _script("make_illustrative_bdc")
    hh = acs.set_index("GEOID")
    t = tr[["GEOID", "geometry"]].copy()
    t["B19001_001E"] = t["GEOID"].map(hh["B19001_001E"])
    t["inc_hi"] = t["GEOID"].map(
        hh[[f"B19001_{i:03d}E" for i in range(14, 18)]].sum(axis=1) / hh["B19001_001E"])
    no_acs = t.loc[t["B19001_001E"].isna(), "GEOID"].tolist()
    t = t.dropna(subset=["B19001_001E"]).reset_index(drop=True)
    # One pseudo block group per tract at the Gazetteer internal point (no Midland block
    # groups are available here), weighted by the tract's households.
    g = tr.set_index("GEOID")
    bgs = pd.DataFrame({
        "GEOID": t["GEOID"] + "1", "TRACT_GEOID": t["GEOID"],
        "POP2020": t["B19001_001E"].astype(int),
        "popctr_lat": t["GEOID"].map(g["INTPTLAT"].astype(float)),
        "popctr_lon": t["GEOID"].map(g["INTPTLON"].astype(float)),
        "tlc_shape_area_m2": t["GEOID"].map(g["ALAND"].astype(float) + g["AWATER"]
                                            .astype(float)),
    })
    core = set(ruca.loc[ruca["RUCA1_primary"] == 1, "GEOID"])
    in_core = bgs["TRACT_GEOID"].isin(core)
    w = bgs.loc[in_core, "POP2020"].to_numpy(float)
    lat = float(np.average(bgs.loc[in_core, "popctr_lat"], weights=w))
    lon = float(np.average(bgs.loc[in_core, "popctr_lon"], weights=w))
    target = int(w.sum())
    fcc = pd.read_csv(src / "fcc" / "fcc_bdc_J25_fixed_summary_by_place_ector_area.csv",
                      dtype={"geography_id": str})
    fcc = fcc[(fcc["area_data_type"] == "Total") & (fcc["biz_res"] == "R")
              & (fcc["geography_id"] == PLACE)]
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "population").mkdir()
        pd.DataFrame({"GEOID": [PLACE], "POP2020": [target],
                      "tlc_shape_area_m2": [float(bgs.loc[in_core, "tlc_shape_area_m2"].sum())]}
                     ).to_csv(Path(tmp) / "population" / "target_places_2020_pl_population_tlc"
                              ".csv", index=False)
        gen.DATA = Path(tmp)
        gen.PLACES = {PLACE: ("Midland", lat, lon)}
        gen.ODESSA, gen.WEST_ODESSA = PLACE, "none"  # the urban place; no second one
        gen.DOWNTOWN = (lat, lon)
        gen.RURAL_TRACTS = set(ruca.loc[ruca["RUCA1_primary"] >= 4, "GEOID"])
        gen.STEM, gen.ZIP_NAME, gen.CSV_NAME = BDC_STEM, f"{BDC_STEM}.zip", f"{BDC_STEM}.csv"
        gen.PLACE_NAME = PLACE_CSV
        rng = np.random.default_rng(SEED)
        loc = gen.spread_locations(rng, t, bgs)
        loc = gen.fix_h3(rng, loc, t)
        loc["place_geoid"] = gen.assign_places(loc, bgs, t).to_numpy()
        loc["block_geoid"] = gen.assign_blocks(loc).to_numpy()
        loc["location_id"] = gen.location_ids(rng, len(loc))
        loc["business_residential_code"] = np.where(
            rng.random(len(loc)) < gen.MIXED_USE_SHARE, "X", "R")
        off = gen.offers(rng, loc, t, fcc)
    keep = ["location_id", "business_residential_code", "block_geoid", "h3"]
    avail = off.join(loc[keep], on="i").rename(columns={"h3": "h3_res8_id"})
    avail["state_usps"] = "TX"
    avail = avail.sort_values(["technology", "provider_id", "block_geoid", "location_id"],
                              kind="stable")[gen.COLUMNS].reset_index(drop=True)
    assign = (loc.groupby(["block_geoid", "place_geoid"]).size().rename("locations")
              .reset_index())
    assign["place_name"] = assign["place_geoid"].map({PLACE: "Midland", "": "Rest of "
                                                      + COUNTY_NAME})
    assign.insert(1, "tract_geoid", assign["block_geoid"].str[:11])
    zpath, _ = gen.write(avail, assign, out)
    return {"rows": len(avail), "locations": int(avail["location_id"].nunique()),
            "zip_mb": round(zpath.stat().st_size / 1e6, 2), "tracts_without_acs": no_acs,
            "place_target": target, "place_point": (round(lat, 5), round(lon, 5)),
            "fcc_units": int(fcc["total_units"].iloc[0])}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", type=Path, default=SRC, help="folder of the real source files")
    ap.add_argument("--out", type=Path, default=OUT, help="output folder")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    tr = tracts(args.src)
    tr.to_file(args.out / "midland_tracts_2020.geojson", driver="GeoJSON")
    acs = acs_csv(args.src, tr, args.out / "ACSDT5Y2023.B19001-Data.csv")
    ruca = rurality(args.src, args.out)
    facts = {"tracts": len(tr), "acs_tracts": len(acs),
             "households": int(acs["B19001_001E"].sum()),
             **schools(args.src, args.out), **partners(args.src, args.out),
             "ruca": ruca["RUCA1_primary"].value_counts().sort_index().to_dict(),
             **illustrative_bdc(args.src, tr, acs, ruca, args.out)}
    for key, value in facts.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
