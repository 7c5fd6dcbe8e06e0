"""The integer-code path of service_levels / service_by_area against the DuckDB SQL path.

A frame whose numbers are floats goes through DuckDB (``_bead_codes.code_rows`` does not take
it); the same rows with integer columns take the numpy path. Both must give the same frames
and the same reports, on rows with every kind of check, repair and tie.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import assetmap as am
from assetmap.bdc import _frame_levels as _bead_codes  # internal: which engine path a frame takes
from assetmap.errors import RejectedRowsWarning, RepairWarning


def _rows(seed: int, n: int = 600) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    blocks = ["481350001001000", "481350001002003", "481350002001001", "48135000300100",
              "481350003001002", "06037000100100"]
    h3 = ["8848d6d969fffff", "8848d6d96bfffff", "8848d6d961fffff"]
    loc = rng.integers(0, 90, n)
    frame = pd.DataFrame({
        "frn": rng.choice(["0001", "0002", "0003"], n),
        "provider_id": rng.choice(["130001", "130002", "99", "p4", "p5"], n),
        "brand_name": rng.choice(["A", "B, Inc."], n),
        "location_id": [f"L{v:03d}" if v % 7 else str(v) for v in loc],
        "technology": rng.choice([0, 10, 40, 50, 60, 61, 70, 71, 72], n),
        "max_advertised_download_speed": rng.choice([0, 10, 25, 50, 100, 1000], n),
        "max_advertised_upload_speed": rng.choice([0, 1, 3, 20, 100], n),
        "low_latency": rng.choice([0, 1], n),
        "business_residential_code": rng.choice(["R", "X", "B"], n),
        "state_usps": "TX",
        "block_geoid": [blocks[v % len(blocks)] for v in loc],
        "h3_res8_id": [h3[v % len(h3)] for v in loc],
    })
    bad = rng.choice(n, 40, replace=False)
    frame.loc[bad[:8], "technology"] = 30  # unknown code
    frame.loc[bad[8:16], "block_geoid"] = "4813500010010"  # 13 digits
    frame.loc[bad[16:20], "block_geoid"] = "48135000100x000"  # not digits
    frame.loc[bad[20:26], "location_id"] = None
    frame.loc[bad[26:32], "max_advertised_upload_speed"] = -1
    frame.loc[bad[32:40], "low_latency"] = 2
    for col, dtype in (("technology", "int16"), ("max_advertised_download_speed", "int32"),
                       ("max_advertised_upload_speed", "int32"), ("low_latency", "int8")):
        frame[col] = frame[col].astype(dtype)
    return frame


def _as_floats(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype({"technology": "float64", "low_latency": "float64"})


def _quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RejectedRowsWarning)
        warnings.simplefilter("ignore", RepairWarning)
        return func(*args, **kwargs)


def _same(fast: pd.DataFrame, slow: pd.DataFrame) -> None:
    assert_frame_equal(fast, slow, check_exact=True)
    assert dict(fast.attrs["assetmap"]) == dict(slow.attrs["assetmap"])


@pytest.mark.parametrize("seed", [0, 1])
def test_levels_and_areas_equal_the_sql_path(seed):
    rows = _rows(seed)
    assert _bead_codes.code_rows(rows, ("R", "X")) is not None
    assert _bead_codes.code_rows(_as_floats(rows), ("R", "X")) is None
    fast = _quiet(am.service_levels, rows)
    slow = _quiet(am.service_levels, _as_floats(rows))
    _same(fast, slow)
    for level in ("tract", "block_group", "county", "h3"):
        _same(_quiet(am.service_by_area, rows, level=level),
              _quiet(am.service_by_area, _as_floats(rows), level=level))
    _same(_quiet(am.service_levels, rows, codes=None),
          _quiet(am.service_levels, _as_floats(rows), codes=None))


def test_report_counts_every_check():
    rows = _rows(3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        levels = am.service_levels(rows)
    assert {w.category for w in caught} == {RejectedRowsWarning, RepairWarning}
    report = levels.attrs["assetmap"]
    inside = rows["business_residential_code"].isin(["R", "X"])
    length = rows["block_geoid"].str.len()
    good = (rows["technology"] != 30) & length.isin([14, 15]) & rows["block_geoid"].str.fullmatch(
        r"[0-9]+") & rows["location_id"].notna() & (rows["max_advertised_upload_speed"] >= 0) & (
        rows["low_latency"] <= 1)
    assert report["rows_read"] == len(rows)  # every row, checked before the selection
    assert sum(report["rejected"].values()) == int((~good).sum())
    assert sum(report["filtered"].values()) == int((good & ~inside).sum())
    assert report["rows_read"] == (len(levels) + report["merged"]
                                   + sum(report["rejected"].values())
                                   + sum(report["filtered"].values()))
    assert report["repaired"]["block_geoid had lost its leading zero (14 digits); restored"] \
        == int((good & (length == 14)).sum())
    assert len(levels) == rows.loc[good & inside, "location_id"].nunique()


def test_best_offer_takes_upload_of_the_fastest_download():
    base = pd.DataFrame({
        "frn": "0001", "provider_id": ["p1", "p2", "p3"], "brand_name": "A",
        "location_id": "L1", "technology": np.array([50, 40, 71], dtype="int16"),
        "max_advertised_download_speed": np.array([300, 300, 100], dtype="int32"),
        "max_advertised_upload_speed": np.array([10, 30, 50], dtype="int32"),
        "low_latency": np.array([1, 1, 1], dtype="int8"), "business_residential_code": "R",
        "state_usps": "TX", "block_geoid": "481350001001000", "h3_res8_id": "8848d6d969fffff"})
    out = am.service_levels(base)
    # hand-computed: best download 300 (upload 30 of that offer); p2 and p3 reach 100/20
    assert out[["best_down", "best_up", "providers", "providers_100_20"]].iloc[0].tolist() \
        == [300, 30, 3, 2]
    assert out["provider_ids"].iloc[0] == "p1;p2;p3"
    assert out["service_level"].iloc[0] == "served"


def test_levels_frame_to_area_matches_rows_to_area():
    rows = _rows(5)
    levels = _quiet(am.service_levels, rows)
    for level in ("tract", "h3"):
        from_levels = _quiet(am.service_by_area, levels, level=level)
        from_rows = _quiet(am.service_by_area, rows, level=level)
        assert_frame_equal(from_levels, from_rows, check_exact=True)


def test_popcount_without_numpy_bitwise_count(monkeypatch):
    """The arithmetic fallback (numpy < 2) counts the same bits as Python."""
    import random

    import numpy as np

    from assetmap.bdc._frame_levels import popcount  # internal: the numpy < 2 fallback kernel

    rng = random.Random(5)
    values = np.array([rng.getrandbits(64) for _ in range(500)] + [0, 2**64 - 1],
                      dtype=np.uint64)
    expected = [bin(int(v)).count("1") for v in values]
    monkeypatch.delattr(np, "bitwise_count", raising=False)
    assert popcount(values).tolist() == expected
