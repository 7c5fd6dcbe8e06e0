"""BEAD service levels: hand-computed cases, roll-ups, the streamed aggregation, releases."""

from __future__ import annotations

import pandas as pd
import pytest

import assetmap as am
from tests.bdc_fixtures import BLOCK, HEADER, offer, pandas_recompute, synthetic, write_csv

__all__ = ["synthetic"]

B2 = "481350001002000"  # same tract, another block group
T2 = "481350002001000"  # another tract


def _frame(rows) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=HEADER)
    numbers = ("technology", "max_advertised_download_speed", "max_advertised_upload_speed",
               "low_latency")
    return df.astype(dict.fromkeys(numbers, "int64"))


CASES = [
    # L1 satellite only (GSO 25/3 not low latency, NGSO 100/20 low latency): unserved
    offer("L1", 60, 25, 3, ll=0, provider="S1"), offer("L1", 61, 100, 20, provider="S2"),
    # L2 unlicensed fixed wireless at 100/20 (+ satellite): unserved
    offer("L2", 70, 100, 20, provider="U1"), offer("L2", 61, 100, 20, provider="S2"),
    # L3 its only 100/20 offer has low_latency 0; a reliable 50/5 cable: underserved
    offer("L3", 10, 100, 20, ll=0, provider="C1"), offer("L3", 40, 50, 5, provider="K1"),
    # L4 licensed fixed wireless 100/20: served
    offer("L4", 71, 100, 20, provider="W1", block=B2),
    # L5 licensed-by-rule fixed wireless 300/20: served
    offer("L5", 72, 300, 20, provider="W2", block=B2),
    # L6 fiber and cable from the same provider: served, one provider at 100/20
    offer("L6", 50, 1000, 1000, provider="F1", block=T2),
    offer("L6", 40, 1000, 35, provider="F1", block=T2),
    # L7 per-offer test: 200/10 cable and 25/25 copper; no single offer reaches 100/20
    offer("L7", 40, 200, 10, provider="K1", block=T2), offer("L7", 10, 25, 25, provider="C1",
                                                              block=T2),
    # L8 copper 25/2: upload short of 3: unserved
    offer("L8", 10, 25, 2, provider="C1", block=T2),
    # L9 business-only location: left out by default
    offer("L9", 50, 1000, 1000, provider="F1", code="B", block=T2),
    # L10 'other' technology at 1000/1000: not reliable: unserved
    offer("L10", 0, 1000, 1000, provider="O1", block=T2),
]
EXPECTED = {  # location: (level, best_down, best_up, fiber, p100, sat_only, ufw_only, providers)
    "L1": ("unserved", 0, 0, False, 0, True, False, 2),
    "L2": ("unserved", 0, 0, False, 0, False, True, 2),
    "L3": ("underserved", 50, 5, False, 0, False, False, 2),
    "L4": ("served", 100, 20, False, 1, False, False, 1),
    "L5": ("served", 300, 20, False, 1, False, False, 1),
    "L6": ("served", 1000, 1000, True, 1, False, False, 1),
    "L7": ("underserved", 200, 10, False, 0, False, False, 2),
    "L8": ("unserved", 25, 2, False, 0, False, False, 1),
    "L10": ("unserved", 0, 0, False, 0, False, False, 1),
}


def test_service_levels_hand_computed():
    avail = _frame(CASES)
    before = avail.copy()
    levels = service = am.service_levels(avail)
    pd.testing.assert_frame_equal(avail, before)  # input untouched
    assert list(service.columns[:11]) == [
        "location_id", "block_geoid", "h3_res8_id", "service_level", "best_down", "best_up",
        "has_fiber", "providers", "providers_100_20", "satellite_only", "unlicensed_fw_only"]
    got = levels.set_index("location_id")
    assert sorted(got.index) == sorted(EXPECTED)  # L9 (business) left out
    for loc, (level, down, up, fiber, p100, sat, ufw, prov) in EXPECTED.items():
        row = got.loc[loc]
        assert (row.service_level, row.best_down, row.best_up, bool(row.has_fiber),
                row.providers_100_20, bool(row.satellite_only), bool(row.unlicensed_fw_only),
                row.providers) == (level, down, up, fiber, p100, sat, ufw, prov), loc
    report = am.get_report(levels)
    assert report["rows_read"] == len(CASES)  # every row, L9 too, before the selection
    assert report["filtered"] == {"business_residential_code not in ['R', 'X']": 1}


def test_service_levels_all_codes_keeps_business():
    levels = am.service_levels(_frame(CASES), codes=None)
    assert "L9" in set(levels["location_id"])


def test_service_by_area_hand_computed_tract():
    area = am.service_by_area(_frame(CASES), level="tract").set_index("GEOID")
    t1, t2 = area.loc["48135000100"], area.loc["48135000200"]
    # tract 1: L1..L5 -> 2 unserved, 1 underserved, 2 served
    assert (t1.locations, t1.unserved, t1.underserved, t1.served) == (5, 2, 1, 2)
    assert t1.satellite_only == 1
    assert t1.unlicensed_fw_only == 1
    assert t1.providers == 7  # S1 S2 U1 C1 K1 W1 W2
    assert t1.providers_100_20 == pytest.approx(2 / 5)
    assert t1.tech_satellite_share == pytest.approx(2 / 5)
    assert t1.tech_licensed_fw_share == pytest.approx(2 / 5)
    # tract 2: L6 served, L7 underserved, L8 and L10 unserved
    assert (t2.locations, t2.unserved, t2.underserved, t2.served) == (4, 2, 1, 1)
    assert t2.fiber_locations == 1
    assert t2.fiber_share == pytest.approx(0.25)
    assert t2.served_share == pytest.approx(0.25)
    assert t2.tech_cable_share == pytest.approx(0.5)


@pytest.mark.parametrize("level", ["tract", "block_group", "county", "h3"])
def test_service_by_area_from_rows_equals_from_levels(level):
    avail = _frame(CASES)
    a = am.service_by_area(avail, level=level)
    b = am.service_by_area(am.service_levels(avail), level=level)
    pd.testing.assert_frame_equal(a, b)
    key = "h3_res8_id" if level == "h3" else "GEOID"
    width = {"tract": 11, "block_group": 12, "county": 5, "h3": 15}[level]
    assert a[key].str.len().eq(width).all()


def test_bad_level_names_allowed_values():
    with pytest.raises(ValueError, match="tract"):
        am.service_by_area(_frame(CASES), level="zip")


@pytest.mark.parametrize("fmt", ["csv", "zip", "parquet"])
def test_aggregate_matches_independent_pandas(synthetic, fmt):
    got = am.aggregate_bdc(synthetic[fmt] if fmt != "parquet" else synthetic["parquet"][0])
    want = pandas_recompute(synthetic["csv"])
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    report = am.get_report(got)
    codes = pd.concat([pd.read_csv(f, dtype=str)["business_residential_code"]
                       for f in synthetic["csv"]], ignore_index=True)
    assert report["rows_read"] == len(codes) == 20_000  # every row, before the selection
    assert report["checks"] == {"kept": len(codes), "repaired": 0, "rejected": 0}
    assert report["filtered"] == {
        "business_residential_code not in ['R', 'X']": int((~codes.isin(["R", "X"])).sum())}
    assert report["rejected"] == {}
    assert report["illustrative"] == (fmt != "parquet")  # file names say "illustrative"


@pytest.mark.parametrize("level", ["h3", "county"])
def test_aggregate_levels_match_independent_pandas(synthetic, level):
    got = am.aggregate_bdc(synthetic["parquet"][0], level=level)
    want = pandas_recompute(synthetic["csv"], level=level)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_aggregate_filters_by_county_and_tract(synthetic):
    full = am.aggregate_bdc(synthetic["csv"])
    county = full["GEOID"].str[:5].iloc[0]
    sub = am.aggregate_bdc(synthetic["zip"], counties=[county])
    pd.testing.assert_frame_equal(
        sub, full[full["GEOID"].str.startswith(county)].reset_index(drop=True))
    one = am.aggregate_bdc(synthetic["csv"], tracts=[full["GEOID"].iloc[3]])
    pd.testing.assert_frame_equal(one, full.iloc[[3]].reset_index(drop=True))


def test_aggregate_equals_service_by_area_of_loaded_rows(synthetic):
    rows = am.load_bdc(synthetic["zip"])
    pd.testing.assert_frame_equal(am.service_by_area(rows), am.aggregate_bdc(synthetic["csv"]))


def test_compare_releases_hand_computed(tmp_path):
    old = _frame([
        offer("A", 10, 10, 1, provider="C1"),                 # unserved -> served by fiber
        offer("B", 50, 1000, 1000, provider="F1"),            # served -> lost (only satellite)
        offer("C", 40, 300, 10, provider="K1"),               # removed from the fabric
    ])
    new = _frame([
        offer("A", 50, 1000, 1000, provider="F2"),
        offer("B", 61, 100, 20, provider="S1"),
        offer("D", 71, 100, 20, provider="W1"),               # added, served
    ])
    change = am.compare_releases(old, new).set_index("GEOID").loc["48135000100"]
    assert (change.locations_old, change.locations_new) == (3, 3)
    assert (change.newly_served, change.lost_service) == (2, 1)  # A and D; B
    assert (change.fiber_gained, change.fiber_lost) == (1, 1)
    assert (change.locations_added, change.locations_removed) == (1, 1)
    assert (change.providers_entering, change.providers_leaving) == (3, 3)
    # old: only B served (C is 300/10: underserved); new: A and D served
    assert change.served_share_change == pytest.approx(2 / 3 - 1 / 3)
    # the same from files, and from service_levels frames
    f_old = write_csv(tmp_path / "bdc_48_old.csv", old.astype(str).to_dict("records"))
    f_new = write_csv(tmp_path / "bdc_48_new.csv", new.astype(str).to_dict("records"))
    files = am.compare_releases(f_old, f_new)
    pd.testing.assert_frame_equal(files, am.compare_releases(old, new))
    lv = am.compare_releases(am.service_levels(old), am.service_levels(new))
    pd.testing.assert_frame_equal(lv, files)
    assert am.get_report(files)["totals"]["newly_served"] == 2


def test_block_geoid_is_the_location_block():
    levels = am.service_levels(_frame(CASES))
    assert levels.set_index("location_id").loc["L4", "block_geoid"] == "481350001002000"
    assert BLOCK.startswith("48135000100")
