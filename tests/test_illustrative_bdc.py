"""The shipped illustrative BDC availability layer: schema, geography, calibration, reproducibility.

Every expected value is recomputed here from the real inputs (FCC place summary, ACS household
counts, tract polygons), with pandas only; nothing is taken from the generator.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
import shapely

ZIP = "bdc_48_illustrative_ector_fixed_availability_J25.zip"
PLACES_CSV = "bdc_48_ector_fixed_J25_illustrative_place_assignment.csv"
SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "make_illustrative_bdc.py"
HEADER = (
    "frn,provider_id,brand_name,location_id,technology,max_advertised_download_speed,"
    "max_advertised_upload_speed,low_latency,business_residential_code,state_usps,block_geoid,"
    "h3_res8_id"
)
PLACE_IDS = ["4853388", "4877728", "4828200", "4830044"]
# FCC summary technology names -> BDC technology codes
CATEGORY = {
    "Copper": [10], "Cable": [40], "Fiber": [50], "Licensed Fixed Wireless": [71, 72],
    "Unlicensed Fixed Wireless": [70], "GSO Satellite": [60], "NGSO Satellite": [61],
    "All Satellite": [60, 61], "Other": [0], "All Wired": [10, 40, 50], "Cable/Fiber": [40, 50],
    "All Fixed Wireless": [70, 71, 72], "Any Terrestrial": [10, 40, 50, 70, 71, 72],
    "All Wired and Licensed Fixed Wireless": [10, 40, 50, 71, 72],
    "Any Technology": [0, 10, 40, 50, 60, 61, 70, 71, 72],
}
TIERS = {"speed_02_02": (0.2, 0.2), "speed_10_1": (10, 1), "speed_25_3": (25, 3),
         "speed_100_20": (100, 20), "speed_250_25": (250, 25), "speed_1000_100": (1000, 100)}


@pytest.fixture(scope="module")
def fcc_dir(ector_dir) -> Path:
    return ector_dir / "fcc"


@pytest.fixture(scope="module")
def avail(fcc_dir) -> pd.DataFrame:
    return pd.read_csv(fcc_dir / ZIP, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def places(fcc_dir) -> pd.DataFrame:
    return pd.read_csv(fcc_dir / PLACES_CSV, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def tracts(ector_dir) -> gpd.GeoDataFrame:
    return gpd.read_file(ector_dir / "boundaries" / "ector_tracts_2020.geojson")


def test_zip_holds_one_illustrative_csv_with_the_exact_header(fcc_dir):
    with zipfile.ZipFile(fcc_dir / ZIP) as zf:
        names = zf.namelist()
        assert len(names) == 1
        assert names[0].endswith(".csv")
        assert "illustrative" in names[0]
        first = zf.read(names[0]).split(b"\n", 1)[0].decode()
    assert first == HEADER
    assert (fcc_dir / ZIP).stat().st_size < 6_000_000


def test_columns_are_well_formed_text(avail):
    assert list(avail.columns) == HEADER.split(",")
    def matches(col, pattern):
        return pd.Series(avail[col].unique()).str.fullmatch(pattern).all()

    assert matches("frn", r"\d{10}")
    assert matches("provider_id", r"\d+")
    assert matches("location_id", r"\d{10}")
    assert matches("block_geoid", r"48135\d{10}")
    assert matches("h3_res8_id", r"[0-9a-f]{15}")
    assert set(avail["state_usps"]) == {"TX"}
    assert set(avail["business_residential_code"]) == {"R", "X"}
    assert set(avail["technology"]) <= {"10", "40", "50", "60", "61", "70", "71", "72"}
    for col in ("max_advertised_download_speed", "max_advertised_upload_speed"):
        assert matches(col, r"[1-9]\d*")
    # low latency: GSO satellite 0, everything else 1 (see ILLUSTRATIVE_BDC.md)
    expected = np.where(avail["technology"] == "60", "0", "1")
    assert (avail["low_latency"].to_numpy() == expected).all()
    # brand names with commas survive the CSV round trip
    assert avail["brand_name"].str.contains(",").any()
    # one row per location x provider x technology; one block and one cell per location
    key = avail["location_id"] + avail["provider_id"] + avail["technology"]
    assert key.is_unique
    assert avail.drop_duplicates(["location_id", "block_geoid", "h3_res8_id"])[
        "location_id"].is_unique
    x_share = (avail.drop_duplicates("location_id")["business_residential_code"] == "X").mean()
    assert 0.005 < x_share < 0.03


def test_blocks_nest_in_real_tracts_and_block_groups(avail, ector_dir, tracts):
    bgs = pd.read_csv(ector_dir / "population" / "ector_blockgroups_2020_pl_population.csv",
                      dtype={"GEOID": str})
    blocks = pd.Series(avail["block_geoid"].unique())
    assert blocks.str[:11].isin(set(tracts["GEOID"])).all()
    # the block number's first digit is the block group it came from
    assert blocks.str[:12].isin(set(bgs["GEOID"])).all()


def test_h3_cells_are_valid_res8_with_centre_inside_the_tract(avail, tracts):
    pairs = avail[["h3_res8_id", "block_geoid"]].drop_duplicates()
    pairs = pairs.assign(tract=pairs["block_geoid"].str[:11]).drop_duplicates(
        ["h3_res8_id", "tract"])
    assert all(h3.is_valid_cell(c) for c in pairs["h3_res8_id"])
    assert {h3.get_resolution(c) for c in pairs["h3_res8_id"]} == {8}
    centres = np.array([h3.cell_to_latlng(c) for c in pairs["h3_res8_id"]])
    polys = tracts.set_index("GEOID").geometry.loc[pairs["tract"]].to_numpy()
    inside = shapely.contains_xy(polys, centres[:, 1], centres[:, 0])
    assert inside.all(), pairs.loc[~inside].head()


def test_locations_per_tract_equal_acs_households(avail, ector_dir, tracts):
    acs = pd.read_csv(ector_dir / "acs" / "acs_b19001_tracts_ector_midland_andrews.csv",
                      dtype={"GEOID": str})
    hh = acs[acs["GEOID"].str.startswith("48135")].set_index("GEOID")["B19001_001E"]
    got = avail.drop_duplicates("location_id").groupby(avail["block_geoid"].str[:11]).size()
    assert len(hh) == 33
    assert set(got.index) == set(tracts["GEOID"])
    pd.testing.assert_series_equal(got.sort_index(), hh.sort_index(), check_names=False)
    assert got.sum() == 62_422


def test_place_assignment_covers_every_block_once(avail, places):
    assert not places["block_geoid"].duplicated().any()
    assert set(places["block_geoid"]) == set(avail["block_geoid"])
    assert set(places["place_geoid"]) == {*PLACE_IDS, ""}
    assert (places["block_geoid"].str[:11] == places["tract_geoid"]).all()


def _layer_shares(avail, places) -> pd.DataFrame:
    """Independent aggregation: share of residential locations per place, category and tier."""
    a = avail[avail["business_residential_code"].isin(["R", "X"])].merge(
        places[["block_geoid", "place_geoid"]], on="block_geoid", validate="m:1")
    loc, loc_ids = pd.factorize(a["location_id"])
    loc_place = pd.Series(a["place_geoid"].to_numpy(), index=loc).groupby(level=0).first()
    total = loc_place.value_counts()
    tech = a["technology"].astype(int).to_numpy()
    down = a["max_advertised_download_speed"].astype(float).to_numpy()
    up = a["max_advertised_upload_speed"].astype(float).to_numpy()
    rows = []
    for cat, codes in CATEGORY.items():
        in_cat = np.isin(tech, codes)
        for col, (d, u) in TIERS.items():
            covered = np.zeros(len(loc_ids), bool)
            covered[loc[in_cat & (down >= d) & (up >= u)]] = True
            hit = loc_place[covered].value_counts().reindex(total.index, fill_value=0)
            rows += [(g, cat, col, hit[g] / total[g]) for g in total.index]
    return pd.DataFrame(rows, columns=["place", "technology", "tier", "layer"])


def test_place_shares_reproduce_the_real_fcc_summary(avail, places, fcc_dir):
    real = pd.read_csv(fcc_dir / "fcc_bdc_J25_fixed_summary_by_place_ector_area.csv",
                       dtype={"geography_id": str})
    real = real[(real["area_data_type"] == "Total") & (real["biz_res"] == "R")
                & real["geography_id"].isin(PLACE_IDS)]
    real = real.melt(id_vars=["geography_id", "technology"], value_vars=list(TIERS),
                     var_name="tier", value_name="real").rename(columns={"geography_id": "place"})
    got = _layer_shares(avail, places).merge(real, on=["place", "technology", "tier"],
                                             validate="1:1")
    assert len(got) == 4 * len(CATEGORY) * len(TIERS)
    gap = (got["layer"] - got["real"]).abs()
    assert gap.max() < 0.01, got.loc[gap.idxmax()]


def test_spatial_structure(avail, ector_dir):
    locs = avail.assign(tract=avail["block_geoid"].str[:11])
    n = locs.groupby("tract")["location_id"].nunique()

    def share(codes):
        hit = locs[locs["technology"].isin(codes)].groupby("tract")["location_id"].nunique()
        return hit.reindex(n.index, fill_value=0) / n

    ruca = pd.read_csv(ector_dir / "rural" / "usda_ruca_2020_tracts2020.csv",
                       dtype={"GEOID": str}).set_index("GEOID")["RUCA1_primary"]
    rural = ruca[ruca.index.str.startswith("48135") & (ruca == 10)].index
    assert sorted(rural) == ["48135003001", "48135003003"]
    wired = share(["10", "40", "50"])
    assert (wired[rural] < 0.1).all()  # the RUCA-10 tracts: fixed wireless and satellite
    fiber = share(["50"])
    assert (fiber > 0.9).sum() >= 3  # fiber is concentrated: some tracts nearly all ...
    assert (fiber < 0.05).sum() >= 8  # ... and many with almost none
    # every location has both a GSO and an NGSO satellite offer
    for code in ("60", "61"):
        assert locs.loc[locs["technology"] == code, "location_id"].nunique() == n.sum()


@pytest.mark.slow
def test_generator_is_byte_for_byte_reproducible(tmp_path, fcc_dir):
    subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path)], check=True,
                   capture_output=True, timeout=300)
    for name in (ZIP, PLACES_CSV):
        assert (tmp_path / name).read_bytes() == (fcc_dir / name).read_bytes(), name
