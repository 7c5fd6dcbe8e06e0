"""The fast (numba) engine of aggregate_bdc gives exactly the DuckDB engine's result and report."""

from __future__ import annotations

import logging
import shutil
import warnings

import numpy as np
import pandas as pd
import pytest

import assetmap as am
from assetmap.bdc.fast import (
    engine as _bdc_fast,  # internal: the numba engine's availability, chunking and parser
)
from assetmap.errors import SchemaError
from tests.bdc_fixtures import csv_text, offer, pandas_recompute, synthetic, write_csv, write_zip

__all__ = ["synthetic"]  # a fixture

pytest.importorskip("numba", reason="the fast engine needs the optional numba (extra 'fast')")

FALLBACK = "goes to the DuckDB engine"


def both(paths, caplog, *, expect_fast=True, **kw):
    """Aggregate with both engines; check the fast one did not fall back (or did)."""
    with caplog.at_level(logging.INFO, logger="assetmap.bdc.fast.engine"):
        caplog.clear()
        fast = am.aggregate_bdc(paths, engine="numba", **kw)
        fell_back = any(FALLBACK in r.getMessage() for r in caplog.records)
    assert fell_back is not expect_fast, [r.getMessage() for r in caplog.records]
    slow = am.aggregate_bdc(paths, engine="duckdb", **kw)
    return fast, slow


def same(fast: pd.DataFrame, slow: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(fast, slow, check_exact=True)
    assert list(fast.dtypes) == list(slow.dtypes)
    assert fast.attrs == slow.attrs


@pytest.mark.parametrize(("kind", "level"), [
    ("csv", "tract"), ("csv", "block_group"), ("csv", "county"), ("csv", "h3"),
    ("zip", "tract"), ("parquet", "tract"), ("parquet", "h3"),
])
def test_engines_agree_on_the_synthetic_release(synthetic, caplog, level, kind):
    fast, slow = both(synthetic[kind], caplog, level=level)
    same(fast, slow)
    assert fast.attrs["assetmap"]["rows_read"] > 15_000


@pytest.mark.parametrize("selection", [
    {"states": ["OK"]}, {"codes": ["B"]},
    {"counties": ["48135", "48001"], "states": ["TX"]}, {"tracts": [], "codes": None},
])
def test_engines_agree_on_every_selection(synthetic, caplog, selection):
    area = am.aggregate_bdc(synthetic["csv"], engine="duckdb")
    if "counties" in selection:  # take real counties and tracts of the generated data
        selection["counties"] = [area["GEOID"].str[:5].iloc[0], "48001"]
    if "tracts" in selection:
        selection["tracts"] = [*area["GEOID"].iloc[:3], "48001950100"]
    fast, slow = both(synthetic["csv"], caplog, **selection)
    same(fast, slow)


def test_matches_an_independent_pandas_recomputation(synthetic, caplog):
    fast, _ = both(synthetic["csv"], caplog, level="tract")
    expected = pandas_recompute(synthetic["csv"], level="tract")
    got = fast.set_index("GEOID")[expected.columns[1:]].astype(float)
    pd.testing.assert_frame_equal(got, expected.set_index("GEOID").astype(float),
                                  check_names=False, rtol=1e-12)


def hand_rows():
    """Hand-made offers: duplicates, quoted commas, business-only, satellite/UFW-only."""
    b1, b2 = "481350001001000", "481350002002000"
    return [
        offer(1, 50, 1000, 1000, provider="130001", brand='Fiber, "Best" LLC', block=b1),
        offer(1, 50, 1000, 1000, provider="130001", brand='Fiber, "Best" LLC', block=b1),
        offer(1, 40, 300, 20, provider="130002", block=b1),
        offer(1, 40, 300, 20, provider="130002", block=b1, code="X"),
        offer(1, 71, 100, 20, provider="130003", block=b1),
        offer(2, 60, 100, 20, ll=0, provider="130004", block=b1),  # satellite only
        offer(3, 70, 100, 20, provider="130005", block=b2),  # unlicensed FW only
        offer(3, 61, 50, 5, ll=0, provider="130004", block=b2),
        offer(4, 10, 25, 3, provider="0130006", block=b2, brand="Copper, Inc."),
        offer(5, 50, 1000, 1000, provider="130001", block=b2, code="B"),  # business only
        offer(6, 40, 100, 19, provider="130002", block=b2),  # 100/19: underserved
    ]


def test_hand_made_case_against_hand_counts(tmp_path, caplog):
    text = csv_text(hand_rows())
    (tmp_path / "bdc_48_a.csv").write_bytes(text.replace("\n", "\r\n").encode())  # CRLF
    fast, slow = both(tmp_path / "*.csv", caplog)
    same(fast, slow)
    t1, t2 = fast.set_index("GEOID").loc[["48135000100", "48135000200"]].itertuples()
    # tract 1: locations 1 (served; providers at 100/20: 130001, 130002, 130003) and 2 (sat)
    assert (t1.locations, t1.served, t1.unserved, t1.satellite_only) == (2, 1, 1, 1)
    assert (t1.providers, t1.providers_100_20, t1.fiber_locations) == (4, 1.5, 1)
    # tract 2: 3 (UFW only, unserved), 4 (25/3: underserved), 6 (100/19: underserved)
    assert (t2.locations, t2.unserved, t2.underserved, t2.unlicensed_fw_only) == (3, 1, 2, 1)
    assert (t2.providers, t2.providers_100_20, t2.tech_copper_share) == (4, 0.0, 1 / 3)
    report = fast.attrs["assetmap"]
    assert report["rows_read"] == 11  # every row, counted before the selection
    assert report["filtered"] == {"business_residential_code not in ['R', 'X']": 1}


def test_zip_of_hand_made_rows(tmp_path, caplog):
    write_zip(tmp_path / "bdc_48_a.zip", hand_rows())
    same(*both(tmp_path / "bdc_48_a.zip", caplog, level="h3"))


@pytest.mark.parametrize(("row", "kind"), [
    ({"max_advertised_download_speed": "100 Mbps"}, "error"),
    ({"max_advertised_download_speed": "100.0"}, "repair"),
    ({"block_geoid": "48135000100100"}, "repair"),
    ({"technology": "99"}, "reject"),
    ({"low_latency": "2"}, "reject"),
    ({"provider_id": "p-7"}, "text provider id"),
])
def test_a_bad_row_sends_the_file_to_duckdb(tmp_path, caplog, row, kind):
    rows = [dict(r) for r in hand_rows()]
    rows[4].update(row)
    write_csv(tmp_path / "bdc_48_a.csv", rows)

    def run(engine):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            try:
                out = am.aggregate_bdc(tmp_path / "*.csv", engine=engine)
            except SchemaError as exc:
                return str(exc), [str(w.message) for w in seen]
        return out, [str(w.message) for w in seen]

    with caplog.at_level(logging.INFO, logger="assetmap.bdc.fast.engine"):
        fast, fast_warnings = run("numba")
    assert any(FALLBACK in r.getMessage() for r in caplog.records)
    slow, slow_warnings = run("duckdb")
    assert fast_warnings == slow_warnings
    if kind == "error":
        assert isinstance(fast, str)
        assert fast == slow
    else:
        same(fast, slow)


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_truncated_or_corrupt_zip_gives_the_duckdb_error(tmp_path, cut):
    rows = [offer(i, 50, 1000, 1000, brand=f"Brand {i % 97}") for i in range(4000)]
    data = write_zip(tmp_path / "bdc_48_a.zip", rows).read_bytes()
    if cut == 0.5:
        (tmp_path / "bdc_48_a.zip").write_bytes(data[: len(data) // 2])
    else:  # damage the deflate stream, keep the directory
        pos = int(len(data) * 0.3)
        (tmp_path / "bdc_48_a.zip").write_bytes(data[:pos] + bytes(64) + data[pos + 64:])
    errors = []
    for engine in ("numba", "duckdb"):
        with pytest.raises(SchemaError) as info:
            am.aggregate_bdc(tmp_path / "bdc_48_a.zip", engine=engine)
        errors.append(str(info.value))
    assert errors[0] == errors[1]


def test_unusual_header_order_goes_to_duckdb(tmp_path, caplog):
    frame = pd.DataFrame(hand_rows())
    cols = list(frame.columns)
    frame[cols[::-1]].to_csv(tmp_path / "bdc_48_a.csv", index=False)
    fast, slow = both(tmp_path / "bdc_48_a.csv", caplog, expect_fast=False)
    same(fast, slow)


def test_many_states_and_grown_tables(tmp_path, caplog):
    # two states (grouped by file name), more locations than the first table size
    rng = np.random.default_rng(3)
    for state, fips in (("TX", "48"), ("OK", "40")):
        ids = rng.integers(10**9, 10**9 + 10_000, 3000)
        rows = [offer(int(i), int(t), 200, 30, provider=f"1{int(i) % 7:05d}", state=state,
                      block=f"{fips}{int(i) % 997:03d}{int(i) % 89:06d}1000")
                for i, t in zip(ids, rng.choice([10, 40, 50, 60, 70], len(ids)), strict=True)]
        write_csv(tmp_path / f"bdc_{fips}_x.csv", rows)
    same(*both(sorted(tmp_path.glob("*.csv")), caplog))


def test_engine_choice(tmp_path, monkeypatch):
    write_csv(tmp_path / "bdc_48_a.csv", hand_rows())
    with pytest.raises(ValueError, match="engine must be"):
        am.aggregate_bdc(tmp_path / "bdc_48_a.csv", engine="spark")
    monkeypatch.setattr(_bdc_fast, "available", lambda: False)
    with pytest.raises(ImportError, match=r"assetmap\[fast\]"):
        am.aggregate_bdc(tmp_path / "bdc_48_a.csv", engine="numba")
    # "auto" without numba, or on small input, is the DuckDB engine
    auto = am.aggregate_bdc(tmp_path / "bdc_48_a.csv")
    same(auto, am.aggregate_bdc(tmp_path / "bdc_48_a.csv", engine="duckdb"))


def test_parquet_directory_with_text_ids(tmp_path, caplog, synthetic):
    # a Parquet file whose location_id is text (as bdc_to_parquet writes non-integer ids)
    import pyarrow as pa
    import pyarrow.parquet as pq

    src = next(synthetic["parquet"][0].glob("**/*.parquet"))
    table = pq.read_table(src)
    table = table.set_column(table.schema.get_field_index("location_id"), "location_id",
                             pa.compute.cast(table["location_id"], pa.string()))
    target = tmp_path / "pq" / "state_usps=TX"
    target.mkdir(parents=True)
    pq.write_table(table, target / "data_0.parquet", row_group_size=5000)
    same(*both(tmp_path / "pq", caplog, states=["TX"]))
    shutil.rmtree(tmp_path / "pq")
