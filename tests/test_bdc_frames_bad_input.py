"""Availability frames read without load_bdc (pandas.read_csv) give what the files give.

Each case runs the file readers and the frame functions (``service_by_area``,
``service_levels``, ``compare_releases``, ``release_change_report``) on the same rows, read
with ``pandas.read_csv(path, dtype=str, keep_default_na=False)``: the same error naming the
row and column, or the same counts. docs/bad-input.md names each test.
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import assetmap as am
from assetmap.errors import RejectedRowsWarning, RepairWarning, SchemaError
from tests.bdc_fixtures import offer, write_csv

GOOD = [offer("1", 50, 1000, 1000, provider="F1"), offer("2", 40, 300, 10, provider="K1"),
        offer("3", 10, 25, 3, provider="C1")]
COLUMNS = ["max_advertised_download_speed", "technology", "low_latency"]


def _text_frame(path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _frame_readers(old: pd.DataFrame):
    return {
        "service_by_area": am.service_by_area,
        "service_levels": am.service_levels,
        "compare_releases": lambda frame: am.compare_releases(old, frame),
        "release_change_report": lambda frame: am.release_change_report(old, frame),
    }


def _every_reader_names(tmp_path, column: str, value: str, said: str) -> None:
    """The file and every frame function raise naming row 3 and ``column``, then ``said``."""
    path = write_csv(tmp_path / "bdc_48_x.csv", [*GOOD[:2], {**GOOD[2], column: value}])
    with pytest.raises(SchemaError, match=rf"bdc_48_x\.csv, row 3, column '{column}'{said}"):
        am.aggregate_bdc(path)
    old = _text_frame(write_csv(tmp_path / "bdc_48_old.csv", GOOD))
    for read in _frame_readers(old).values():
        with pytest.raises(SchemaError, match=rf"row 3, column '{column}'{said}"):
            read(_text_frame(path))


@pytest.mark.parametrize("column", COLUMNS)
@pytest.mark.parametrize("value", ["fifty", " ", "\uff10", "NaN"])
def test_text_that_is_not_a_number_names_row_and_column(tmp_path, column, value):
    _every_reader_names(tmp_path, column, value, said="")


@pytest.mark.parametrize("column", COLUMNS)
def test_a_number_out_of_range_in_a_frame_names_row_and_column(tmp_path, column):
    _every_reader_names(tmp_path, column, "1e20", said=r": 1e\+20 is not a")


def test_a_number_with_quotes_in_the_field_is_a_counted_repair_in_frames_too(tmp_path):
    # '" 500 "' is repaired and counted; " 10 " (spaces alone) is read as the file scan reads
    path = write_csv(tmp_path / "bdc_48_x.csv", [*GOOD[:2], {
        **GOOD[2], "technology": " 10 ", "max_advertised_upload_speed": '" 500 "'}])
    said = "1 of 3 rows: numbers written with quotes or spaces inside the field"
    with pytest.warns(RepairWarning, match=said):
        want = am.aggregate_bdc(path)
    with pytest.warns(RepairWarning, match=said):
        got = am.service_by_area(_text_frame(path))
    pd.testing.assert_frame_equal(got, want)
    assert am.get_report(got)["repaired"] == am.get_report(want)["repaired"]
    assert am.get_report(got)["checks"] == {"kept": 2, "repaired": 1, "rejected": 0}


def test_an_id_column_mixing_text_and_huge_integers_is_read_as_text(tmp_path):
    # pandas.read_csv without dtype= leaves such a column as Python objects
    path = write_csv(tmp_path / "bdc_48_x.csv",
                     [*GOOD, offer("99999999999999999999", 50, 1000, 1000), offer("L7", 40, 1, 1)])
    frame = pd.read_csv(path, dtype=str).astype({"location_id": object})
    frame.loc[:3, "location_id"] = [1, 2, 3, 99999999999999999999]  # Python ints, and "L7"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RejectedRowsWarning)
        got = am.service_by_area(frame)
        want = am.aggregate_bdc(path)
    assert got[["GEOID", "locations"]].values.tolist() == \
        want[["GEOID", "locations"]].values.tolist() == [["48135000100", 5]]


def test_an_empty_h3_cell_is_a_missing_one_in_frames_as_in_files(tmp_path):
    rows = [*GOOD, offer("1", 40, 100, 20, provider="F1", h3="")]  # location 1 has its cell
    path = write_csv(tmp_path / "bdc_48_x.csv", rows)
    want = am.aggregate_bdc(path, level="h3")
    assert want["locations"].tolist() == [3]
    text = _text_frame(path)
    loaded = am.load_bdc(path)
    typed = loaded.assign(h3_res8_id=loaded["h3_res8_id"].fillna(""))  # "" written by hand
    for frame in (text, typed):
        for got in (am.service_by_area(frame, level="h3"),
                    am.service_by_area(am.service_levels(frame), level="h3")):
            pd.testing.assert_frame_equal(got, want)


def test_text_in_one_file_and_a_number_out_of_range_in_another_names_the_text(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = write_csv(tmp_path / "a" / "bdc_48_x.csv", [*GOOD[:2], {**GOOD[2],
                                                                    "technology": "fifty"}])
    second = write_csv(tmp_path / "b" / "bdc_48_x.csv", [*GOOD[:2], {**GOOD[2],
                                                                     "low_latency": "300"}])
    for read in (am.load_bdc, am.aggregate_bdc):  # was a raw DuckDB ConversionException
        with pytest.raises(SchemaError, match=r"a/bdc_48_x\.csv, row 3, column 'technology': "
                                              r"cannot read 'fifty' as a number"):
            read([first, second])


def test_the_text_frame_is_read_as_the_file(tmp_path):
    """The frame of a clean file, read as text, gives the file's areas."""
    path = write_csv(tmp_path / "bdc_48_x.csv", GOOD)
    pd.testing.assert_frame_equal(am.service_by_area(_text_frame(path)), am.aggregate_bdc(path))
