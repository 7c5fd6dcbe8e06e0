"""Bad BDC availability input: a clear error naming file, row and column, or a counted repair."""

from __future__ import annotations

import pandas as pd
import pytest

import assetmap as am
from assetmap._report import get_report
from assetmap.errors import RejectedRowsWarning, RepairWarning, SchemaError
from tests.bdc_fixtures import HEADER, csv_text, offer, write_csv, write_zip

GOOD = [offer("1", 50, 1000, 1000, provider="F1"), offer("2", 40, 300, 10, provider="K1"),
        offer("3", 10, 25, 3, provider="C1")]


@pytest.fixture(params=["load", "aggregate"])
def reader(request):
    """Both entry points check input the same way."""
    return am.load_bdc if request.param == "load" else am.aggregate_bdc


def test_missing_column_names_file_and_column(tmp_path, reader):
    header = [h for h in HEADER if h != "low_latency"]
    path = write_csv(tmp_path / "bdc_48_Fiber.csv", GOOD, header=header)
    with pytest.raises(SchemaError, match=r"bdc_48_Fiber\.csv, row 0, column 'low_latency'"):
        reader(path)


def test_renamed_column_is_named_with_the_unexpected_one(tmp_path, reader):
    header = ["location" if h == "location_id" else h for h in HEADER]
    path = write_csv(tmp_path / "bdc_48_Fiber.csv", [list(r.values()) for r in GOOD],
                     header=header)
    with pytest.raises(SchemaError, match=r"location_id.*unexpected column\(s\) \['location'\]"):
        reader(path)


def test_header_case_and_spaces_are_repaired(tmp_path):
    header = [h.upper() if h == "frn" else h.replace("_", " ") if h == "state_usps" else h
              for h in HEADER]
    path = write_csv(tmp_path / "bdc_48_Fiber.csv", [list(r.values()) for r in GOOD],
                     header=header)
    with pytest.warns(RepairWarning, match="'FRN' read as 'frn'"):
        avail = am.load_bdc(path)
    assert len(avail) == 3
    assert "frn" in avail.columns


def test_unknown_technology_is_rejected_and_counted(tmp_path, reader):
    path = write_csv(tmp_path / "bdc_48_x.csv", [*GOOD, offer("4", 99, 100, 20)])
    with pytest.warns(RejectedRowsWarning, match="1 of 4 rows: unknown technology code"):
        out = reader(path)
    report = get_report(out)
    assert report["rows_read"] == 4
    assert report["rejected"] == {"unknown technology code": 1}
    if reader is am.load_bdc:
        assert "4" not in set(out["location_id"])


def test_speeds_as_integral_text_are_repaired(tmp_path, reader):
    # "1000.0" is read as 1000 directly; '" 500 "' (quotes inside the field) is repaired
    rows = [*GOOD, offer("4", 50, "1000.0", '" 500 "')]
    path = write_csv(tmp_path / "bdc_48_x.csv", rows)
    with pytest.warns(RepairWarning, match="integral numbers written as text"):
        out = reader(path)
    assert get_report(out)["rows_read"] == 4
    if reader is am.load_bdc:
        assert out.set_index("location_id").loc["4", "max_advertised_upload_speed"] == 500


def test_speed_as_words_names_file_row_and_column(tmp_path, reader):
    rows = [GOOD[0], offer("2", 40, "fast", 10), GOOD[2]]
    path = write_csv(tmp_path / "bdc_48_Cable.csv", rows)
    with pytest.raises(SchemaError, match=r"bdc_48_Cable\.csv, row 2, column "
                                          r"'max_advertised_download_speed': cannot read 'fast'"):
        reader(path)


def test_carriage_return_inside_a_line_names_file_and_row(tmp_path, reader):
    # the bytes are written as they are: Python 3.13's csv.writer quotes a field holding "\r"
    # (which makes it a valid field, see below), 3.11 and 3.12 write it bare
    text = csv_text([GOOD[0], offer("2", 40, 300, 10, provider="K1"), GOOD[2]])
    path = tmp_path / "bdc_48_Cable.csv"
    path.write_bytes(text.replace(",K1,", ",K\r1,").encode())
    with pytest.raises(SchemaError, match=r"bdc_48_Cable\.csv, row 2: cannot split this line "
                                          r"into fields: a carriage return"):
        reader(path)


def test_carriage_return_inside_a_quoted_field_is_read(tmp_path):
    text = csv_text([GOOD[0], offer("2", 40, 300, 10, provider="K1"), GOOD[2]])
    path = tmp_path / "bdc_48_Cable.csv"
    path.write_bytes(text.replace(",K1,", ',"K\r1",').encode())
    avail = am.load_bdc(path)
    assert avail.set_index("location_id").loc["2", "provider_id"] == "K\r1"


def test_block_geoid_lost_leading_zero_is_repaired(tmp_path, reader):
    rows = [offer("1", 50, 1000, 1000, block="10010201001000", state="AL"),  # Alabama, 01
            offer("2", 40, 300, 10, block="010010201001001", state="AL")]
    path = write_csv(tmp_path / "bdc_01_x.csv", rows)
    with pytest.warns(RepairWarning, match="1 of 2 rows: block_geoid had lost its leading zero"):
        out = reader(path)
    if reader is am.load_bdc:
        assert set(out["block_geoid"]) == {"010010201001000", "010010201001001"}
    else:
        assert list(out["GEOID"]) == ["01001020100"]
        assert out["locations"].iloc[0] == 2


def test_block_geoid_of_wrong_length_is_rejected(tmp_path, reader):
    path = write_csv(tmp_path / "bdc_48_x.csv", [*GOOD, offer("4", 50, 1000, 1000,
                                                             block="4813500010010")])
    with pytest.warns(RejectedRowsWarning, match="block_geoid is not a 15-digit block GEOID"):
        out = reader(path)
    assert get_report(out)["rejected"] == {"block_geoid is not a 15-digit block GEOID": 1}


def test_non_digit_geoid_area_is_rejected_after_aggregation(tmp_path):
    path = write_csv(tmp_path / "bdc_48_x.csv", [*GOOD, offer("4", 50, 1000, 1000,
                                                             block="48A350001001000")])
    with pytest.warns(RejectedRowsWarning, match="not digits starting with a state FIPS"):
        out = am.aggregate_bdc(path)
    assert list(out["GEOID"]) == ["48135000100"]
    assert out["locations"].iloc[0] == 3


def test_duplicate_rows(tmp_path):
    path = write_csv(tmp_path / "bdc_48_x.csv", [*GOOD, GOOD[0], GOOD[0]])
    with pytest.warns(RejectedRowsWarning, match="2 of 5 rows: exact duplicate"):
        avail = am.load_bdc(path)
    assert len(avail) == 3
    # the aggregation takes maxima and distinct values: duplicates change nothing
    clean = write_csv(tmp_path / "bdc_48_clean.csv", GOOD)
    pd.testing.assert_frame_equal(am.aggregate_bdc(path), am.aggregate_bdc(clean))


def test_empty_file(tmp_path, reader):
    (tmp_path / "bdc_48_Empty.csv").write_bytes(b"")
    with pytest.raises(SchemaError, match=r"bdc_48_Empty\.csv: empty file"):
        reader(tmp_path / "bdc_48_Empty.csv")


def test_header_only_file_gives_no_rows(tmp_path):
    path = write_csv(tmp_path / "bdc_48_x.csv", [])
    assert am.load_bdc(path).empty
    assert am.aggregate_bdc(path).empty


def test_truncated_zip(tmp_path, reader):
    whole = write_zip(tmp_path / "whole.zip", GOOD * 200)
    cut = tmp_path / "bdc_48_Cut.zip"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(SchemaError, match=r"bdc_48_Cut\.zip: truncated or corrupt zip"):
        reader(cut)


def test_zip_without_csv(tmp_path):
    import zipfile

    with zipfile.ZipFile(tmp_path / "bdc_48_x.zip", "w") as zf:
        zf.writestr("readme.pdf", "x")
    with pytest.raises(SchemaError, match="holds no CSV"):
        am.load_bdc(tmp_path / "bdc_48_x.zip")


def test_csv_inside_zip_with_another_name(tmp_path, reader):
    path = write_zip(tmp_path / "bdc_48_Fiber_J25.zip", GOOD, member="export (1).csv")
    out = reader(path)
    assert get_report(out)["rows_read"] == 3


def test_bad_row_inside_zip_names_zip_and_member(tmp_path):
    rows = [GOOD[0], offer("2", 40, 300, "ten")]
    path = write_zip(tmp_path / "bdc_48_Cable.zip", rows, member="inner.csv")
    with pytest.raises(SchemaError, match=r"bdc_48_Cable\.zip \(inner\.csv\), row 2, column "
                                          r"'max_advertised_upload_speed'"):
        am.load_bdc(path)
