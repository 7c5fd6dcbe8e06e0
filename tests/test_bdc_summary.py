"""load_bdc_summary on the real FCC June-2025 Texas place file (zip) and its Ector-area cut."""

from __future__ import annotations

import csv
import io
import warnings
import zipfile

import pandas as pd
import pytest

import assetmap as am
from assetmap.datasets import data_path
from assetmap.errors import RejectedRowsWarning, SchemaError

ZIP = ("fcc", "bdc_48_fixed_broadband_summary_by_geography_place_J25_17feb2026.zip")
CUT = ("fcc", "fcc_bdc_J25_fixed_summary_by_place_ector_area.csv")
ODESSA, GARDENDALE = "4853388", "4828200"
BAD = "share not a number in [0, 1] or total_units not a whole number"


@pytest.fixture(scope="module")
def texas() -> pd.DataFrame:
    return am.load_bdc_summary(data_path(*ZIP))


def _share(frame, place, technology, tier):
    sel = frame[(frame.geography_id == place) & (frame.technology == technology)
                & (frame.speed_tier == tier)]
    assert len(sel) == 1
    return float(sel["share"].iloc[0])


def test_real_zip_odessa_and_gardendale(texas):
    # published figures: Odessa fiber reaches 55.9% of residential units; Gardendale has no
    # wired service at 25/3 (one copper location below it)
    assert _share(texas, ODESSA, "Fiber", "1000/100") == pytest.approx(0.558948596)
    assert round(_share(texas, ODESSA, "Fiber", "1000/100"), 4) == 0.5589
    assert _share(texas, GARDENDALE, "All Wired", "25/3") == 0.0
    assert _share(texas, GARDENDALE, "Fiber", "0.2/0.2") == 0.0
    assert _share(texas, GARDENDALE, "All Wired", "0.2/0.2") == pytest.approx(0.0015625)


def test_real_zip_shape_and_types(texas):
    assert list(texas.columns) == [
        "geography_id", "geography_type", "geography_desc", "area_data_type", "biz_res",
        "technology", "speed_tier", "share", "total_units"]
    assert pd.api.types.is_string_dtype(texas["geography_id"])
    assert texas["geography_id"].str.len().eq(7).all()  # place GEOIDs keep 7 characters
    assert set(texas["area_data_type"]) == {"Total"}
    assert set(texas["biz_res"]) == {"R"}
    assert set(texas["speed_tier"]) == {"0.2/0.2", "10/1", "25/3", "100/20", "250/25",
                                        "1000/100"}
    assert texas["share"].between(0, 1).all()
    # 54,690 'Total' rows in the file, half of them residential, six tiers each
    assert len(texas) == 54_690 // 2 * 6
    report = am.get_report(texas)
    with zipfile.ZipFile(data_path(*ZIP)) as zf, zf.open(zf.namelist()[0]) as member:
        rows = sum(1 for _ in csv.DictReader(io.TextIOWrapper(member, encoding="utf-8-sig")))
    assert report["rows_read"] == rows  # every row of the file is read and checked
    assert report["checks"] == {"kept": rows, "repaired": 0, "rejected": 0}
    assert report["filtered"] == {"area_data_type is not 'Total'": rows - 54_690,
                                  "biz_res is not 'R'": 54_690 // 2}
    assert report["rejected"] == {}


def test_cut_csv_agrees_with_zip(texas):
    cut = am.load_bdc_summary(data_path(*CUT))
    merged = cut.merge(texas, on=["geography_id", "technology", "speed_tier"],
                       suffixes=("_cut", "_zip"))
    assert len(merged) == len(cut) > 0
    assert (merged["share_cut"] - merged["share_zip"]).abs().max() < 1e-9
    assert (merged["total_units_cut"] == merged["total_units_zip"]).all()


def test_wide_and_filters():
    wide = am.load_bdc_summary(data_path(*CUT), wide=True, biz_res=None, area_data_type=None)
    odessa = wide[(wide.geography_id == ODESSA) & (wide.technology == "Fiber")
                  & (wide.biz_res == "R") & (wide.area_data_type == "Urban")]
    assert float(odessa["1000/100"].iloc[0]) == pytest.approx(0.559708029)
    assert set(wide["biz_res"]) == {"R", "B"}
    rural = am.load_bdc_summary(data_path(*CUT), area_data_type="Rural",
                                geography_type="Census Place")
    assert set(rural["area_data_type"]) == {"Rural"}


def test_missing_column_is_named(tmp_path):
    text = data_path(*CUT).read_text().replace("speed_25_3", "speed_25_three", 1)
    (tmp_path / "s.csv").write_text(text)
    with pytest.raises(SchemaError, match=r"s\.csv, row 0, column 'speed_25_3'"):
        am.load_bdc_summary(tmp_path / "s.csv")


def test_share_out_of_range_is_rejected_with_row(tmp_path):
    lines = data_path(*CUT).read_text().splitlines()
    lines[1] = lines[1].replace(",1.0,1.0,1.0,", ",1.0,7.5,1.0,", 1)
    (tmp_path / "s.csv").write_text("\n".join(lines) + "\n")
    with pytest.warns(RejectedRowsWarning, match=r"share not a number in \[0, 1\].*rows 1\)"):
        out = am.load_bdc_summary(tmp_path / "s.csv")
    assert am.get_report(out)["rejected_rows"][BAD] == [1]
    assert am.get_report(out)["rejected_at"][BAD] == [f"{tmp_path / 's.csv'}, row 1"]


def test_empty_and_truncated(tmp_path):
    (tmp_path / "e.csv").write_bytes(b"")
    with pytest.raises(SchemaError, match="empty file"):
        am.load_bdc_summary(tmp_path / "e.csv")
    data = data_path(*ZIP).read_bytes()
    (tmp_path / "t.zip").write_bytes(data[: len(data) // 3])
    with pytest.raises(SchemaError, match="truncated or corrupt zip"):
        am.load_bdc_summary(tmp_path / "t.zip")


def _cut_lines() -> list[str]:
    return data_path(*CUT).read_text().splitlines()


def test_rows_are_checked_before_the_filters(tmp_path):
    raw = pd.read_csv(data_path(*CUT), dtype=str, keep_default_na=False)
    business = int(raw.index[raw["biz_res"] == "B"][0])
    raw.loc[business, "speed_25_3"] = "7.5"  # a bad share in a row the filter leaves out
    raw.to_csv(tmp_path / "s.csv", index=False)
    with pytest.warns(RejectedRowsWarning, match=rf"rows {business + 1}\)"):
        out = am.load_bdc_summary(tmp_path / "s.csv")  # residential rows only
    report = am.get_report(out)
    assert report["rows_read"] == len(raw)
    assert report["checks"] == {"kept": len(raw) - 1, "repaired": 0, "rejected": 1}
    filtered = sum(report["filtered"].values())
    assert len(out) == 6 * (report["rows_read"] - 1 - filtered)


def test_filters_ignore_case_and_spaces(tmp_path):
    plain = am.load_bdc_summary(data_path(*CUT))
    loose = am.load_bdc_summary(data_path(*CUT), area_data_type=" total", biz_res="r ")
    pd.testing.assert_frame_equal(plain, loose)
    lines = _cut_lines()
    lines[1:] = [line.replace(",R,", ", r ,", 1) for line in lines[1:]]
    (tmp_path / "s.csv").write_text("\n".join(lines) + "\n")
    assert len(am.load_bdc_summary(tmp_path / "s.csv")) == len(plain)


def test_utf16_is_an_error_and_a_byte_order_mark_just_works(tmp_path):
    text = data_path(*CUT).read_text()
    (tmp_path / "wide.csv").write_bytes(text.encode("utf-16"))
    with pytest.raises(SchemaError, match=r"wide\.csv: the text is UTF-16 .*'CSV UTF-8'"):
        am.load_bdc_summary(tmp_path / "wide.csv")
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbf" + text.encode())
    pd.testing.assert_frame_equal(am.load_bdc_summary(tmp_path / "bom.csv"),
                                  am.load_bdc_summary(data_path(*CUT)))
    (tmp_path / "latin.csv").write_bytes(text.replace("Odessa", "Odessá", 1).encode("latin-1"))
    with pytest.raises(SchemaError, match=r"latin\.csv, row \d+: the text is not UTF-8"):
        am.load_bdc_summary(tmp_path / "latin.csv")


@pytest.mark.parametrize("names", [("a.csv", "b.csv"), ("x/s.csv", "y/s.csv"),
                                   ("s.csv", "s.csv")])
def test_every_csv_of_a_zip_is_read(tmp_path, names):
    text = data_path(*CUT).read_text()
    with zipfile.ZipFile(tmp_path / "two.zip", "w") as zf, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile: "Duplicate name"
        for name in names:
            zf.writestr(name, text)
    one = am.load_bdc_summary(data_path(*CUT))
    two = am.load_bdc_summary(tmp_path / "two.zip")
    assert len(two) == 2 * len(one)  # both read: the counts double
    assert am.get_report(two)["rows_read"] == 2 * am.get_report(one)["rows_read"]


def test_password_protected_zip(tmp_path):
    with zipfile.ZipFile(tmp_path / "locked.zip", "w") as zf:
        zf.writestr("s.csv", data_path(*CUT).read_text())
    data = bytearray((tmp_path / "locked.zip").read_bytes())
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # mark encrypted
        data[data.index(signature) + offset] |= 0x1
    (tmp_path / "locked.zip").write_bytes(bytes(data))
    with pytest.raises(SchemaError, match=r"locked\.zip: member 's\.csv' is password-protected"):
        am.load_bdc_summary(tmp_path / "locked.zip")
