"""The streamed aggregation's fast paths give the same answers as the plain definitions.

Parquet stores location ids as integers only when every id round-trips exactly (as in BDC
releases), else as text; row checks are counted exactly even when one (location, provider) mixes two
problems; a provider offering 100/20 on two technologies counts once.
"""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq
import pytest

import assetmap as am
from assetmap.errors import RejectedRowsWarning
from tests.bdc_fixtures import offer, write_csv

ROWS = [offer("1", 50, 1000, 1000, provider="A"), offer("1", 40, 300, 20, provider="A"),
        offer("1", 72, 100, 20, provider="B"), offer("2", 40, 300, 10, provider="K"),
        offer("3", 10, 25, 3, provider="C"), offer("3", 60, 100, 3, ll=0, provider="S")]


def test_provider_with_two_technologies_at_100_20_counts_once(tmp_path):
    out = am.aggregate_bdc(write_csv(tmp_path / "bdc_48_x.csv", ROWS))
    row = out.iloc[0]
    # hand-computed: location 1 has providers A (fiber and cable) and B at 100/20 -> 2;
    # locations 2 (300/10) and 3 (25/3) have none -> mean 2/3 over 3 locations
    assert row["providers_100_20"] == pytest.approx(2 / 3)
    assert row["providers"] == 5  # A, B, K, C, S
    assert (row["served"], row["underserved"], row["unserved"]) == (1, 2, 0)


def test_text_location_ids_give_the_same_areas(tmp_path):
    as_int = am.aggregate_bdc(write_csv(tmp_path / "bdc_48_int.csv", ROWS))
    text = [dict(r, location_id=f"L-{r['location_id']}") for r in ROWS]
    as_text = am.aggregate_bdc(write_csv(tmp_path / "bdc_48_text.csv", text))
    pd.testing.assert_frame_equal(as_int, as_text)


def test_id_with_leading_zeros_is_another_location_in_csv_and_parquet(tmp_path):
    rows = [*ROWS, offer("0001", 50, 1000, 1000, provider="Z")]  # not location "1"
    path = write_csv(tmp_path / "bdc_48_x.csv", rows)
    assert am.aggregate_bdc(path)["locations"].iloc[0] == 4
    out = am.bdc_to_parquet(path, tmp_path / "pq")
    schema = pq.read_schema(next(out.glob("**/*.parquet")))
    assert str(schema.field("location_id").type) == "string"  # would not round-trip
    assert am.aggregate_bdc(out)["locations"].iloc[0] == 4
    assert sorted(am.load_bdc(out)["location_id"].unique()) == ["0001", "1", "2", "3"]


def test_two_problems_in_one_location_provider_are_counted_exactly(tmp_path):
    bad = [offer("9", 99, 100, 20, provider="A"),                   # unknown technology
           dict(offer("9", 40, 100, 20, provider="A"), max_advertised_download_speed=""),
           offer("8", 99, 100, 20, provider="B")]                   # unknown technology
    with pytest.warns(RejectedRowsWarning):
        out = am.aggregate_bdc(write_csv(tmp_path / "bdc_48_x.csv", [*ROWS, *bad]))
    report = am.get_report(out)
    assert report["rows_read"] == len(ROWS) + 3
    assert report["rejected"] == {"unknown technology code": 2, "missing or negative speed": 1}
    assert out["locations"].iloc[0] == 3


def test_parquet_keeps_integer_ids_as_integers_and_text_ids_as_text(tmp_path):
    csv_int = write_csv(tmp_path / "bdc_48_int.csv", ROWS)
    text = [dict(r, location_id=f"L{r['location_id']}") for r in ROWS]
    csv_text = write_csv(tmp_path / "bdc_48_text.csv", text)
    for src, kind in ((csv_int, "int64"), (csv_text, "string")):
        out = am.bdc_to_parquet(src, tmp_path / f"pq_{src.stem}")
        schema = pq.read_schema(next(out.glob("**/*.parquet")))
        assert str(schema.field("location_id").type) == kind
        pd.testing.assert_frame_equal(am.aggregate_bdc(out), am.aggregate_bdc(src))
