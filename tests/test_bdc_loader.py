"""load_bdc and bdc_to_parquet on generated releases and small hand-written files."""

from __future__ import annotations

import csv

import pandas as pd
import pytest

import assetmap as am
from tests.bdc_fixtures import HEADER, offer, synthetic, write_csv, write_zip

__all__ = ["synthetic"]

DTYPES = {"technology": "int16", "max_advertised_download_speed": "float64",
          "max_advertised_upload_speed": "float64", "low_latency": "int8"}
SPEEDS = ["max_advertised_download_speed", "max_advertised_upload_speed"]


def _raw(files, codes=("R", "X")) -> pd.DataFrame:
    """The rows as Python's csv module reads them (independent of the loader)."""
    rows = []
    for f in files:
        with open(f, newline="") as fh:
            rows.extend(r for r in csv.DictReader(fh) if r["business_residential_code"] in codes)
    return pd.DataFrame(rows, columns=HEADER)


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(["location_id", "provider_id", "technology"]).reset_index(drop=True)


def test_columns_dtypes_and_quoted_commas(synthetic):
    avail = am.load_bdc(synthetic["zip"])
    assert list(avail.columns) == HEADER
    for col in HEADER:
        want = DTYPES.get(col)
        if want:
            assert str(avail[col].dtype) == want, col
        else:
            assert pd.api.types.is_string_dtype(avail[col]), col
    raw = _raw(synthetic["csv"])
    assert len(avail) == len(raw)
    commas = raw["brand_name"].str.contains(",").sum()
    assert 0.02 < commas / len(raw) < 0.06  # about 4% of brand names carry a comma
    assert avail["brand_name"].str.contains(",").sum() == commas
    assert avail["frn"].str.len().eq(10).all()
    assert avail["block_geoid"].str.len().eq(15).all()
    got = _sorted(avail).astype(str)
    want = _sorted(raw.astype({"technology": "int16", **dict.fromkeys(SPEEDS, "float64")}))
    pd.testing.assert_frame_equal(got, want.astype(str), check_dtype=False)
    report = am.get_report(avail)
    everything = _raw(synthetic["csv"], codes=("R", "X", "B"))
    assert report["rows_read"] == len(everything)  # every row is read and checked
    assert report["checks"] == {"kept": len(everything), "repaired": 0, "rejected": 0}
    assert report["filtered"] == {
        "business_residential_code not in ['R', 'X']": len(everything) - len(raw)}
    assert report["illustrative"]


def test_filters_pushed_down(synthetic):
    raw = _raw(synthetic["csv"], codes=("R", "X", "B"))
    county = raw["block_geoid"].str[:5].iloc[0]
    tract = raw["block_geoid"].str[:11].iloc[1]
    got = am.load_bdc(synthetic["csv"], counties=[county], codes=None, technologies=[50, 40])
    want = raw[raw["block_geoid"].str.startswith(county) & raw["technology"].isin(["50", "40"])]
    assert len(got) == len(want) > 0
    report = am.get_report(got)
    assert report["rows_read"] == len(raw)
    assert report["rows_read"] == report["rows_out"] + sum(report["filtered"].values())
    got = am.load_bdc(synthetic["parquet"][0], tracts=[tract], codes=("B",))
    want = raw[raw["block_geoid"].str.startswith(tract)
               & (raw["business_residential_code"] == "B")]
    assert len(got) == len(want)
    assert am.load_bdc(synthetic["csv"], states=["CA"]).empty


def test_parquet_round_trip(synthetic, tmp_path):
    out = am.bdc_to_parquet(synthetic["zip"], tmp_path / "pq")
    assert (out / "state_usps=TX").is_dir()
    pd.testing.assert_frame_equal(_sorted(am.load_bdc(out)),
                                  _sorted(am.load_bdc(synthetic["csv"])))


def test_glob_list_and_zip_with_other_member_name(tmp_path):
    rows = [offer("1", 50, 1000, 1000, brand='Fiber, "Best" LLC'), offer("2", 40, 300, 10)]
    write_zip(tmp_path / "bdc_48_Fiber.zip", rows[:1], member="some_other_name.csv")
    write_csv(tmp_path / "bdc_48_Cable.csv", rows[1:])
    both = am.load_bdc([tmp_path / "bdc_48_Fiber.zip", tmp_path / "bdc_48_Cable.csv"])
    assert sorted(both["location_id"]) == ["1", "2"]
    assert both.set_index("location_id").loc["1", "brand_name"] == 'Fiber, "Best" LLC'
    assert len(am.load_bdc(str(tmp_path / "bdc_48_*"))) == 2


def test_files_of_other_states_are_not_opened(tmp_path):
    write_csv(tmp_path / "bdc_48_Fiber.csv", [offer("1", 50, 1000, 1000)])
    (tmp_path / "bdc_06_Fiber.csv").write_text("not,a,bdc,file\n")  # would fail if read
    got = am.load_bdc(tmp_path / "bdc_*.csv", states=["TX"])
    assert list(got["location_id"]) == ["1"]


def test_no_match_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no BDC availability file"):
        am.load_bdc(tmp_path / "nothing_*.zip")
