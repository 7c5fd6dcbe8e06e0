"""service_by_area on raw rows in memory: the sort-based numpy path against DuckDB's SQL.

``load_bdc`` frames (text ids, float speeds, integer codes) take the numpy path of
:mod:`assetmap.bdc._frame_areas`, with any number of providers; the same rows with the codes
stored as floats go through DuckDB. Both must give the same areas and the same reports.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import assetmap as am
from assetmap.bdc import _frame_areas, _frame_checks  # internal: which path a frame takes

LEVELS = ("tract", "block_group", "county", "h3")


def _rows(seed: int, *, plain_ids: bool, n: int = 3000, providers: int = 100,
          locations: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    blocks = ["481350001001000", "481350001002003", "481350002001001", "48135000300100",
              "481350003001002", "060370001001000", "4813500010010", "48135000100x000"]
    h3 = ["8848d6d969fffff", "8848d6d96bfffff", "8848d6d961fffff"]
    loc = rng.integers(0, locations, n)
    if plain_ids:
        ids = [str(1_000_000_000 + v) for v in loc]
    else:  # "7" and "007" are two locations; blanks are rejected
        ids = [f"{v:03d}" if v % 5 == 0 else str(v) for v in loc]
        ids = [" " if v % 97 == 0 else "" if v % 89 == 0 else i for v, i in zip(loc, ids,
                                                                                strict=True)]
    provider = [str(130000 + p) for p in rng.integers(0, providers, n)]
    if not plain_ids:
        provider = ["" if i % 211 == 0 else p for i, p in enumerate(provider)]
    frame = pd.DataFrame({
        "frn": "0001", "provider_id": provider, "brand_name": "A", "location_id": ids,
        "technology": rng.choice([0, 10, 30, 40, 50, 60, 61, 70, 71, 72], n).astype("int16"),
        "max_advertised_download_speed": rng.choice([0, 10, 24.6, 25, 99.99, 100, 1000], n),
        "max_advertised_upload_speed": rng.choice([-1, 0, 2.99, 3, 20, 100], n),
        "low_latency": rng.choice([0, 1, 1, 2], n).astype("int8"),
        "business_residential_code": rng.choice(["R", "X", "B"], n),
        "state_usps": "TX",
        "block_geoid": [blocks[v % len(blocks)] for v in loc],
        "h3_res8_id": [h3[v % len(h3)] for v in loc],
    })
    return frame.astype({"frn": "str", "provider_id": "str", "location_id": "str"})


def _quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(*args, **kwargs)


@pytest.mark.parametrize("plain_ids", [True, False], ids=["integer-ids", "text-ids"])
@pytest.mark.parametrize("rules", ["bead", {"reliable_technologies": [50, 70],
                                            "low_latency_required": False,
                                            "served": [99.99, 20], "underserved": [24.6, 3]}],
                         ids=["bead", "custom"])
def test_numpy_areas_equal_the_sql_areas(plain_ids, rules):
    rows = _rows(1, plain_ids=plain_ids)
    slow_rows = rows.astype({"technology": "float64"})  # DuckDB's path
    for level in LEVELS:
        assert _frame_areas.area_sums(rows, ("R", "X"), level, am.bdc.rules.rule_set(rules)
                                      ) is not None
        assert _frame_areas.area_sums(slow_rows, ("R", "X"), level,
                                      am.bdc.rules.rule_set(rules)) is None
        fast = _quiet(am.service_by_area, rows, level=level, rules=rules)
        slow = _quiet(am.service_by_area, slow_rows, level=level, rules=rules)
        assert len(fast) > 1
        assert_frame_equal(fast, slow, check_exact=True)
        assert dict(fast.attrs["assetmap"]) == dict(slow.attrs["assetmap"])


def test_more_than_64_providers_and_all_codes():
    rows = _rows(2, plain_ids=True, providers=300)
    assert rows["provider_id"].nunique() > 64
    out = _quiet(am.service_by_area, rows, codes=None)
    slow = _quiet(am.service_by_area, rows.astype({"technology": "float64"}), codes=None)
    assert_frame_equal(out, slow, check_exact=True)
    assert out["providers"].max() > 64


def test_no_row_kept():
    rows = _rows(3, plain_ids=True).assign(business_residential_code="B")
    out = _quiet(am.service_by_area, rows)
    assert len(out) == 0
    report = am.get_report(out)
    assert report["rows_read"] == len(rows)  # every row counted, before the selection
    assert sum(report["filtered"].values()) + sum(report["rejected"].values()) == len(rows)


def test_many_text_ids_and_rows():
    """Codes of text ids shifted past the row numbers stay 64-bit (no wrap-around)."""
    rows = _rows(4, plain_ids=False, n=70_000, locations=60_000)
    fast = _quiet(am.service_by_area, rows)
    slow = _quiet(am.service_by_area, rows.astype({"technology": "float64"}))
    assert_frame_equal(fast, slow, check_exact=True)


@pytest.mark.parametrize("plain_ids", [True, False], ids=["integer-ids", "text-ids"])
def test_small_slices_and_per_flag_counts_equal_the_sql_areas(monkeypatch, plain_ids):
    """Rows checked in many small slices; areas counted one flag at a time (many areas)."""
    rows = _rows(5, plain_ids=plain_ids, n=5000, locations=701)
    slow = {level: _quiet(am.service_by_area, rows.astype({"technology": "float64"}),
                          level=level) for level in LEVELS}
    monkeypatch.setattr(_frame_areas, "SLICE", 257)
    monkeypatch.setattr(_frame_checks, "SLICE", 257)
    for slots in (0, 1 << 22):
        monkeypatch.setattr(_frame_areas, "_COUNT_SLOTS", slots)
        for level in LEVELS:
            fast = _quiet(am.service_by_area, rows, level=level)
            assert len(fast) > 1
            assert_frame_equal(fast, slow[level], check_exact=True)
            assert dict(fast.attrs["assetmap"]) == dict(slow[level].attrs["assetmap"])


def test_ids_too_long_for_64_bits_are_encoded_as_text():
    short = _rows(6, plain_ids=True)
    rows = short.assign(location_id="9" * 19 + short["location_id"])  # 29 digits
    fast = _quiet(am.service_by_area, rows)
    slow = _quiet(am.service_by_area, rows.astype({"technology": "float64"}))
    assert len(fast) > 1
    assert_frame_equal(fast, slow, check_exact=True)
    assert_frame_equal(fast, _quiet(am.service_by_area, short), check_exact=True)


@pytest.mark.parametrize("plain_ids", [True, False], ids=["integer-ids", "text-ids"])
def test_every_row_is_counted_and_codes_ignore_case_and_spaces(plain_ids):
    """A frame's rows outside the codes are counted as filtered (rows_read is every row),
    and " r" or "x " is R or X, on the numpy paths and the SQL path alike."""
    rows = _rows(7, plain_ids=plain_ids)
    written = {"R": [" r", "R", "r "], "X": ["x", "X"], "B": ["b", "B "]}
    rng = np.random.default_rng(7)
    messy = rows.assign(business_residential_code=[
        rng.choice(written[c]) for c in rows["business_residential_code"]])
    for level in ("tract", "h3"):
        want = _quiet(am.service_by_area, rows, level=level)
        for frame in (messy, messy.astype({"technology": "float64"})):
            got = _quiet(am.service_by_area, frame, level=level)
            assert_frame_equal(got, want, check_exact=True)
            report = am.get_report(got)
            assert report["rows_read"] == len(rows)
            assert report == am.get_report(want)
            outside = (rows["business_residential_code"] == "B").sum()
            assert 0 < sum(report["filtered"].values()) <= outside
    want = _quiet(am.service_levels, rows)
    for frame in (messy, messy.astype({"technology": "float64"})):
        got = _quiet(am.service_levels, frame)
        assert_frame_equal(got, want, check_exact=True)
        assert am.get_report(got)["rows_read"] == len(rows)
        assert am.get_report(got)["filtered"] == am.get_report(want)["filtered"]
