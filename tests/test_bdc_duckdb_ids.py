"""The DuckDB engine keys ids exactly as written, and zips inflate the same with or without isal.

``aggregate_bdc(engine="duckdb")`` groups location and provider ids as they are read (text
from CSVs), so ``"0101"`` and ``"101"`` stay two locations; the providers at the served
threshold are counted from the distinct (area, location, provider) of the served offers.
These tests hand-count each case and compare ids written as numbers with the same rows whose
ids are letters. BDC zips are inflated with ISA-L when ``isal`` is installed, else with
zlib; both must give the same rows and refuse the same damaged or lying zips.
"""

from __future__ import annotations

import struct
import sys
import zipfile

import pandas as pd
import pytest

import assetmap as am
from assetmap.errors import SchemaError
from tests.bdc_fixtures import offer, write_csv, write_zip

# location -> served offers (100/20, reliable) by provider, as hand-counted below
ROWS = [
    # 101: three served offers from two providers (fiber and cable from 11, fiber from 12) -> 2
    offer("101", 50, 1000, 1000, provider="11"), offer("101", 40, 300, 20, provider="11"),
    offer("101", 50, 500, 500, provider="12"),
    # 102: two served offers from one provider -> 1
    offer("102", 50, 1000, 1000, provider="13"), offer("102", 40, 1000, 50, provider="13"),
    # 103: two served offers from two providers -> 2
    offer("103", 50, 1000, 1000, provider="11"), offer("103", 40, 200, 20, provider="14"),
    # 104: four served offers from three providers -> 3
    offer("104", 50, 1000, 1000, provider="11"), offer("104", 40, 300, 30, provider="11"),
    offer("104", 50, 2000, 2000, provider="12"), offer("104", 72, 100, 20, provider="15"),
    # 105: no served offer (25/3 only, and satellite with high latency) -> 0
    offer("105", 10, 25, 3, provider="16"), offer("105", 60, 100, 20, ll=0, provider="17"),
]
PROVIDERS_100_20 = {"101": 2, "102": 1, "103": 2, "104": 3, "105": 0}


def _duckdb(path) -> pd.DataFrame:
    return am.aggregate_bdc(path, engine="duckdb")


def test_served_providers_are_counted_exactly_per_location(tmp_path):
    out = _duckdb(write_csv(tmp_path / "bdc_48_x.csv", ROWS)).iloc[0]
    assert out["locations"] == 5
    assert out["providers_100_20"] == pytest.approx(sum(PROVIDERS_100_20.values()) / 5)
    assert (out["served"], out["underserved"], out["unserved"]) == (4, 1, 0)
    assert out["providers"] == 7  # 11 to 17


@pytest.mark.parametrize("rename", ["location", "provider", "both"])
def test_number_and_letter_ids_give_the_same_areas(tmp_path, rename):
    as_int = _duckdb(write_csv(tmp_path / "bdc_48_int.csv", ROWS))
    text = [dict(r, location_id=f"L{r['location_id']}" if rename != "provider"
                 else r["location_id"],
                 provider_id=f"P{r['provider_id']}" if rename != "location"
                 else r["provider_id"]) for r in ROWS]
    as_text = _duckdb(write_csv(tmp_path / "bdc_48_text.csv", text))
    pd.testing.assert_frame_equal(as_int.drop(columns="providers"),
                                  as_text.drop(columns="providers"))
    assert as_int["providers"].tolist() == as_text["providers"].tolist()


# " 101" is location 101 once trimmed (docs/bad-input.md B32)
@pytest.mark.parametrize("odd", ["0101", "+101", "1010000000000000000000"])
def test_ids_not_written_as_their_number_stay_apart(tmp_path, odd):
    rows = [*ROWS, offer(odd, 50, 1000, 1000, provider="18")]
    out = _duckdb(write_csv(tmp_path / "bdc_48_x.csv", rows)).iloc[0]
    assert out["locations"] == 6  # not merged into location 101
    assert out["served"] == 5
    same = am.service_by_area(am.load_bdc(tmp_path / "bdc_48_x.csv"))
    assert same["locations"].iloc[0] == 6


def test_provider_id_with_leading_zero_is_its_own_provider(tmp_path):
    rows = [*ROWS, offer("101", 50, 1000, 1000, provider="012")]  # not provider 12
    out = _duckdb(write_csv(tmp_path / "bdc_48_x.csv", rows)).iloc[0]
    assert out["providers"] == 8
    assert out["providers_100_20"] == pytest.approx((sum(PROVIDERS_100_20.values()) + 1) / 5)


def test_engines_agree_on_number_ids(tmp_path):
    path = write_csv(tmp_path / "bdc_48_x.csv", ROWS)
    duck = _duckdb(path)
    frame = am.service_by_area(am.load_bdc(path))
    columns = ["GEOID", "locations", "served", "underserved", "unserved", "providers",
               "providers_100_20", "fiber_share"]
    pd.testing.assert_frame_equal(duck[columns].reset_index(drop=True),
                                  frame[columns].reset_index(drop=True), check_dtype=False)


# --------------------------------------------------------------------------- zips


def _without_isal(monkeypatch):
    monkeypatch.setitem(sys.modules, "isal", None)  # `import isal` raises ImportError
    monkeypatch.setitem(sys.modules, "isal.isal_zlib", None)


@pytest.mark.parametrize("inflater", ["isal if installed", "zlib"])
def test_zip_rows_are_the_same_with_either_inflater(tmp_path, monkeypatch, inflater):
    if inflater == "zlib":
        _without_isal(monkeypatch)
    rows = ROWS * 50
    zipped = _duckdb(write_zip(tmp_path / "bdc_48_x.zip", rows))
    plain = _duckdb(write_csv(tmp_path / "bdc_48_x.csv", rows))
    pd.testing.assert_frame_equal(zipped, plain)
    assert am.get_report(zipped)["rows_read"] == len(rows)


def _damage(path, *, offset: int) -> None:
    """Flip bytes inside the first member's compressed data."""
    data = bytearray(path.read_bytes())
    name_len, extra_len = struct.unpack("<HH", data[26:30])
    start = 30 + name_len + extra_len + offset
    data[start:start + 8] = b"\xff" * 8
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("inflater", ["isal if installed", "zlib"])
def test_damaged_zip_is_refused_naming_it(tmp_path, monkeypatch, inflater):
    if inflater == "zlib":
        _without_isal(monkeypatch)
    path = write_zip(tmp_path / "bdc_48_bad.zip", ROWS * 200)
    _damage(path, offset=40)
    with pytest.raises(SchemaError, match=r"bdc_48_bad\.zip"):
        _duckdb(path)


@pytest.mark.parametrize("inflater", ["isal if installed", "zlib"])
def test_zip_that_understates_its_size_is_refused(tmp_path, monkeypatch, inflater):
    if inflater == "zlib":
        _without_isal(monkeypatch)
    path = write_zip(tmp_path / "bdc_48_lies.zip", ROWS * 200)
    with zipfile.ZipFile(path) as archive:
        info = archive.infolist()[0]
    data = bytearray(path.read_bytes())
    small = struct.pack("<I", 100)
    data[22:26] = small  # local header: uncompressed size
    central = data.rfind(b"PK\x01\x02")
    data[central + 24:central + 28] = small  # central directory: uncompressed size
    path.write_bytes(bytes(data))
    assert info.file_size > 100
    with pytest.raises(SchemaError, match=r"bdc_48_lies\.zip: member .*"):
        _duckdb(path)
