"""``load_bdc`` reads a clean CSV in byte ranges side by side: the result is the one-piece read.

A file is cut at line ends into ranges (``RANGE_BYTES``), each parsed and checked piece by
piece (``PIECE_ROWS``). Here both are made tiny so that small files are cut into dozens of
ranges and pieces; the frame, the report (counts, rejected rows with their file and row) and
the errors must be exactly those of reading each file as one range.
"""

from __future__ import annotations

import csv
import itertools
import warnings

import numpy as np
import pandas as pd
import pytest

import assetmap as am
from assetmap.bdc import _csv_ranges  # internal: the range and piece sizes, made tiny here
from assetmap.errors import SchemaError
from tests.bdc_fixtures import HEADER


def _messy_rows(seed: int, rows: int) -> list[list[str]]:
    """Rows with values the checks keep, repair, reject and filter, and exact duplicates."""
    rng = np.random.default_rng(seed)
    values = {
        "frn": ["0001", "0002"],
        "provider_id": ["130001", "130002", "130003", "", "  "],
        "brand_name": ["Fiber, Inc.", 'Cable "Co"', "Sky"],
        "location_id": ["1001", "1002", "1003", "0104", "", " "],
        "technology": ["10", "40", "50", "60", "61", "70", "71", "72", "99", "50.5"],
        "max_advertised_download_speed": ["0", "24.6", "25", "99.99", "100", "1000"],
        "max_advertised_upload_speed": ["0", "2.99", "3", "20", "100"],
        "low_latency": ["0", "1", "2"],
        "business_residential_code": ["R", "B", "X", "r", " x ", "b "],
        "state_usps": ["TX", "tx", " Tx "],
        "block_geoid": ["481350001001000", "48135000100100", "481350002002000",
                        "481350019001", "48135A001001000", ""],
        "h3_res8_id": ["8848a2d8c9fffff", "8829a1d8c9fffff"],
    }
    out = [[values[c][i] for c, i in zip(HEADER, rng.integers(0, 99, len(HEADER)) % [
        len(values[c]) for c in HEADER], strict=True)] for _ in range(rows)]
    return out + out[5:40]  # exact duplicates, far from their first copies


def _write(path, rows, *, newline="\n"):
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator=newline)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def _load(paths, monkeypatch, *, cut: bool, **kwargs):
    """load_bdc with tiny ranges and pieces (cut) or with each file read in one range."""
    with monkeypatch.context() as m:
        m.setattr(_csv_ranges, "RANGE_BYTES", 700 if cut else 1 << 40)
        m.setattr(_csv_ranges, "PIECE_ROWS", 7 if cut else 1 << 40)
        m.setattr(_csv_ranges, "BLOCK_BYTES", 1 << 10 if cut else 1 << 22)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            frame = am.load_bdc(paths, **kwargs)
    report = am.get_report(frame)
    return frame, report, sorted(str(w.message) for w in caught)


def _same_report(a: dict, b: dict) -> None:
    for key in ("rows_read", "rows_out", "checks", "rejected", "repaired", "filtered"):
        assert a.get(key) == b.get(key), key


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("selection", [{}, {"counties": ["48135"]},
                                       {"tracts": ["48135000200"], "codes": None}])
def test_many_ranges_give_the_one_range_result(tmp_path, monkeypatch, newline, selection):
    files = [_write(tmp_path / "bdc_48_Cable.csv", _messy_rows(1, 400), newline=newline),
             _write(tmp_path / "bdc_48_Fiber.csv", _messy_rows(2, 300), newline=newline)]
    whole, whole_report, whole_warnings = _load(files, monkeypatch, cut=False, **selection)
    cut, cut_report, cut_warnings = _load(files, monkeypatch, cut=True, **selection)
    assert len(_csv_ranges._cut(files[0], tuple(HEADER), file=0, pieces=2)) == 1  # default size
    pd.testing.assert_frame_equal(cut, whole)
    _same_report(cut_report, whole_report)
    assert cut_warnings == whole_warnings  # the rejected rows named by file and row alike
    assert cut_report["rows_read"] == 435 + 335  # every row of both files
    assert any("bdc_48_Fiber.csv" in w and "row" in w for w in cut_warnings)


def test_the_cuts_fall_at_line_ends(tmp_path, monkeypatch):
    path = _write(tmp_path / "bdc_48_Cable.csv", _messy_rows(3, 200))
    monkeypatch.setattr(_csv_ranges, "RANGE_BYTES", 500)
    ranges = _csv_ranges._cut(path, tuple(HEADER), file=0, pieces=2)
    data = path.read_bytes()
    assert len(ranges) > 10
    assert ranges[0].start == 0
    assert ranges[-1].end == len(data)
    for before, after in itertools.pairwise(ranges):
        assert before.end == after.start
        assert data[after.start - 1:after.start] == b"\n"
    assert _csv_ranges._cut(path, tuple(HEADER), file=0, pieces=1)[0].end == len(data)  # one thread


def test_a_number_out_of_range_is_named_at_its_row_in_its_file(tmp_path, monkeypatch):
    rows = _messy_rows(4, 300)
    bad = [*rows[:250], [*rows[250][:5], "3000000000", *rows[250][6:]], *rows[251:]]
    files = [_write(tmp_path / "bdc_48_Cable.csv", rows),
             _write(tmp_path / "bdc_48_Fiber.csv", bad)]
    for cut in (False, True):
        with pytest.raises(SchemaError, match=r"bdc_48_Fiber\.csv, row 251, column "
                                              r"'max_advertised_download_speed'"):
            _load(files, monkeypatch, cut=cut)


def test_a_quoted_line_break_cut_by_a_range_is_read_whole(tmp_path, monkeypatch):
    rows = _messy_rows(5, 200)
    for row in rows[::3]:
        row[2] = "Fiber\nand Cable"  # quoted by the writer; a cut may fall inside it
    path = _write(tmp_path / "bdc_48_Cable.csv", rows)
    whole, whole_report, _ = _load(path, monkeypatch, cut=False)
    cut, cut_report, _ = _load(path, monkeypatch, cut=True)
    pd.testing.assert_frame_equal(cut, whole)
    _same_report(cut_report, whole_report)
    assert (whole["brand_name"] == "Fiber\nand Cable").any()


def test_a_file_given_twice_names_its_own_rows(tmp_path, monkeypatch):
    rows = [r for r in _messy_rows(7, 120) if r[4] not in ("99", "50.5")]
    rows[60][4] = "99"  # the one unknown technology code: data row 61
    path = _write(tmp_path / "bdc_48_Cable.csv", rows)
    for cut in (False, True):
        _, report, caught = _load([path, path], monkeypatch, cut=cut, codes=None)
        assert report["rejected"]["unknown technology code"] == 2
        message = next(w for w in caught if "unknown technology" in w)
        assert message.count("bdc_48_Cable.csv, row 61, column 'technology'") == 2
