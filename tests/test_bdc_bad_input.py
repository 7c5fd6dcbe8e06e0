"""Bad BDC availability input: a clear error naming file, row and column, or a counted repair.

Each case goes through the public functions (``am.load_bdc``, ``am.aggregate_bdc``,
``am.bdc_to_parquet``); docs/bad-input.md names the test of each.
"""

from __future__ import annotations

import re
import warnings
import zipfile

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import assetmap as am
from assetmap.errors import AssetmapError, RejectedRowsWarning, RepairWarning, SchemaError
from tests.bdc_fixtures import H3, HEADER, csv_text, offer, write_csv, write_zip

GOOD = [offer("1", 50, 1000, 1000, provider="F1"), offer("2", 40, 300, 10, provider="K1"),
        offer("3", 10, 25, 3, provider="C1")]


@pytest.fixture(params=["load", "aggregate"])
def reader(request):
    """Both entry points check input the same way."""
    return am.load_bdc if request.param == "load" else am.aggregate_bdc


@pytest.fixture(params=["load", "aggregate"])
def counting_reader(request):
    """Both entry points, where the report must count every row before the filters."""
    return am.load_bdc if request.param == "load" else am.aggregate_bdc


def accounted(report: dict) -> bool:
    """Every row read is kept, repaired or rejected; rows out + rejected + filtered = read."""
    return (sum(report["checks"].values()) == report["rows_read"]
            and report["rows_read"] == report["rows_out"] + sum(report["rejected"].values())
            + sum(report["filtered"].values()) + report.get("merged", 0))


def quiet(read, *args, **kwargs):
    with pytest.warns((RejectedRowsWarning, RepairWarning)):
        return read(*args, **kwargs)


# --- columns, headers, values that cannot be read ----------------------------------------------

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
    assert am.get_report(avail)["checks"] == {"kept": 3, "repaired": 0, "rejected": 0}


def test_unknown_technology_is_rejected_and_counted(tmp_path, reader):
    path = write_csv(tmp_path / "bdc_48_x.csv", [*GOOD, offer("4", 99, 100, 20)])
    with pytest.warns(RejectedRowsWarning, match="1 of 4 rows: unknown technology code"):
        out = reader(path)
    report = am.get_report(out)
    assert report["rows_read"] == 4
    assert report["rejected"] == {"unknown technology code": 1}
    if reader is am.load_bdc:
        assert "4" not in set(out["location_id"])


def test_numbers_with_quotes_inside_the_field_are_repaired(tmp_path, reader):
    # "1000.0" is the number 1000 (read directly); '" 500 "' (quotes inside the field) is
    # repaired and counted
    rows = [*GOOD, offer("4", 50, "1000.0", '" 500 "')]
    path = write_csv(tmp_path / "bdc_48_x.csv", rows)
    with pytest.warns(RepairWarning, match="1 of 4 rows: .*numbers written"):
        out = reader(path)
    assert am.get_report(out)["rows_read"] == 4
    if reader is am.load_bdc:
        assert out.set_index("location_id").loc["4", "max_advertised_upload_speed"] == 500
        assert am.get_report(out)["checks"] == {"kept": 3, "repaired": 1, "rejected": 0}


def test_speed_as_words_names_file_row_and_column(tmp_path, reader):
    rows = [GOOD[0], offer("2", 40, "fast", 10), GOOD[2]]
    path = write_csv(tmp_path / "bdc_48_Cable.csv", rows)
    with pytest.raises(SchemaError, match=r"bdc_48_Cable\.csv, row 2, column "
                                          r"'max_advertised_download_speed': cannot read 'fast'"):
        reader(path)


@pytest.mark.parametrize("engine", ["load", "frame", "duckdb", "numba"])
def test_ids_with_spaces_around_are_one_location_and_one_provider(tmp_path, engine):
    if engine == "numba":
        pytest.importorskip("numba", reason="the 'fast' extra is not installed")
    rows = [*GOOD, offer(" 2", 50, 1000, 1000, provider="K1 "),
            offer("3\t", 40, 100, 20, provider="\tC1")]
    path = write_csv(tmp_path / "bdc_48_Cable.csv", rows)
    reason = "location_id or provider_id with spaces or tabs around it; trimmed"
    if engine in ("load", "frame"):
        with pytest.warns(RepairWarning, match=r"repaired 2 of 5 rows: location_id or "):
            avail = am.load_bdc(path)
        assert sorted(set(avail["location_id"])) == ["1", "2", "3"]
        assert sorted(set(avail["provider_id"])) == ["C1", "F1", "K1"]
        if engine == "frame":  # a frame built by hand with the spaces: trimmed there too
            numbers = ("technology", "max_advertised_download_speed",
                       "max_advertised_upload_speed", "low_latency")
            raw = pd.read_csv(path, dtype=str, keep_default_na=False).astype(
                dict.fromkeys(numbers, "float64"))
            with pytest.warns(RepairWarning, match="repaired 2 of 5 rows: location_id or "):
                out = am.service_by_area(raw)
            with pytest.warns(RepairWarning, match="repaired 2 of 5 rows: location_id or "):
                levels = am.service_levels(raw)
            assert sorted(levels["location_id"]) == ["1", "2", "3"]
        else:
            out = am.service_by_area(avail)
    else:
        with pytest.warns(RepairWarning, match=r"repaired 2 of 5 rows: location_id or "):
            out = am.aggregate_bdc(path, engine=engine)
        assert am.get_report(out)["repaired"] == {reason + " (one location, one provider)": 2}
    assert out["locations"].tolist() == [3]
    assert out["providers"].tolist() == [3]


@pytest.mark.parametrize("engine", ["load", "levels", "duckdb", "numba"])
def test_h3_cells_in_capitals_are_one_cell(tmp_path, engine):
    """At level="h3", a cell written in capitals or with spaces around it is the FCC's
    lower-case cell: one area, its locations counted as repaired, in every engine (on the
    service-levels path, by service_levels, whose frame keeps the lower-case cells)."""
    if engine == "numba":
        pytest.importorskip("numba", reason="the 'fast' extra is not installed")
    other = "8848a2d8cbfffff"
    rows = [*GOOD[:2], offer("3", 10, 25, 3, provider="C1", h3=" " + H3.upper()),
            offer("4", 50, 1000, 1000, provider="F1", h3=other.upper())]
    path = write_csv(tmp_path / "bdc_48_Cable.csv", rows)
    want = am.aggregate_bdc(write_csv(tmp_path / "bdc_48_Fiber.csv",
                                      [*GOOD, offer("4", 50, 1000, 1000, provider="F1",
                                                    h3=other)]), level="h3")
    said = "h3_res8_id in capitals or with spaces around it; lower-cased and trimmed"
    repaired_by = out = None
    if engine == "levels":  # service_levels writes the cells as the FCC does, and says so
        with pytest.warns(RepairWarning, match=said):
            repaired_by = am.service_levels(am.load_bdc(path))
        assert sorted(repaired_by["h3_res8_id"]) == [H3, H3, H3, other]
        out = am.service_by_area(repaired_by, level="h3")
        assert "H3 cells in lower case" in " ".join(am.get_report(out)["notes"])
    else:
        with pytest.warns(RepairWarning, match=said):
            out = (am.service_by_area(am.load_bdc(path), level="h3") if engine == "load"
                   else am.aggregate_bdc(path, level="h3", engine=engine))
        repaired_by = out
    pd.testing.assert_frame_equal(out, want)
    assert out["h3_res8_id"].tolist() == [H3, other]
    assert am.get_report(repaired_by)["repaired"][
        "h3_res8_id in capitals or with spaces around it; lower-cased and trimmed "
        "(locations)"] == 2
    assert "h3_res8_id is not 15 hexadecimal characters (locations)" not in am.get_report(
        out)["rejected"]


def test_compare_releases_keys_h3_cells_in_capitals_as_written_by_the_fcc(tmp_path):
    old = write_csv(tmp_path / "bdc_48_old.csv", GOOD)
    new = write_csv(tmp_path / "bdc_48_new.csv", [*GOOD[:2], offer("3", 50, 1000, 1000,
                                                                   h3=H3.upper() + " ")])
    with pytest.warns(RepairWarning, match="the new release .*: repaired 1 of 3 rows: "
                                           "h3_res8_id in capitals"):
        out = am.compare_releases(old, new, level="h3")
    assert out["h3_res8_id"].tolist() == [H3]
    assert out[["locations_old", "locations_new", "locations_added"]].values.tolist() == [
        [3, 3, 0]]
    assert am.get_report(out)["releases"]["new"]["repaired"] == {
        "h3_res8_id in capitals or with spaces around it; lower-cased and trimmed "
        "(locations)": 1}


def test_a_short_line_says_how_many_fields_it_has(tmp_path, reader):
    text = csv_text(GOOD) + "0001234567,130001,X,4\n" + csv_text(GOOD[:1]).split("\n", 1)[1]
    path = tmp_path / "bdc_48_Cable.csv"
    path.write_text(text)
    with pytest.raises(SchemaError, match=r"bdc_48_Cable\.csv, row 4: 4 fields where the "
                                          r"header has 12 \(a line cut short"):
        reader(path)


def test_a_crlf_file_cut_short_names_the_row(tmp_path, reader):
    # Windows line ends and a last line cut short: the diagnosis splits that line too
    path = tmp_path / "bdc_48_Cable.csv"
    path.write_bytes((csv_text(GOOD) + "0001234").replace("\n", "\r\n").encode())
    with pytest.raises(SchemaError, match=r"bdc_48_Cable\.csv, row 4: 1 fields where the "
                                          r"header has 12"):
        reader(path)


@pytest.mark.parametrize("engine", ["duckdb", "numba"])
def test_text_after_a_closing_quote_is_named(tmp_path, engine):
    # "Cable, Inc."9: the aggregation says what is wrong with the field, not "not a number"
    path = tmp_path / "bdc_48_Cable.csv"
    path.write_text(csv_text(GOOD) + csv_text([offer("4", 50, 1000, 1000)]).split("\n", 1)[1]
                    .replace("Provider", '"Cable, Inc."9'))
    with pytest.raises(SchemaError, match=r"bdc_48_Cable\.csv, row 4, column 'brand_name': "
                                          r"text after the closing quote of a value"):
        am.aggregate_bdc(path, engine=engine)


@pytest.mark.parametrize("geoid", ["48135000100100x", "4813500010x1000", " 48135000100100",
                                   "4813500010010\u00e90", "4813500010010\uff10"])
@pytest.mark.parametrize("engine", ["load", "levels", "duckdb", "numba", "parquet",
                                    "parquet_duckdb"])
def test_a_block_geoid_not_all_ascii_digits_rejects_its_row_in_every_engine(
        tmp_path, engine, geoid):
    """A letter, a space or a non-ASCII character anywhere in the block GEOID (also past the
    area key, and in a 14-character GEOID that would get a leading zero) rejects the row:
    every engine counts the same locations and the same rejected row."""
    if engine in ("numba", "parquet"):
        pytest.importorskip("numba", reason="the 'fast' extra is not installed")
    path = write_csv(tmp_path / "bdc_48_Fiber.csv",
                     [*GOOD, offer("4", 50, 1000, 1000, provider="F1", block=geoid)])
    reason = "block_geoid is not a 15-digit block GEOID"
    if engine in ("load", "levels"):
        with pytest.warns(RejectedRowsWarning, match=reason):
            rows = am.load_bdc(path)
        counted = am.get_report(rows)
        out = am.service_by_area(rows if engine == "load" else am.service_levels(rows))
    else:
        if engine.startswith("parquet"):  # integer ids in Parquet: the row is named too
            path = am.bdc_to_parquet(path, tmp_path / "pq")
        with pytest.warns(RejectedRowsWarning, match=reason):
            out = am.aggregate_bdc(path, engine="numba" if "numba" in engine or
                                   engine == "parquet" else "duckdb")
        counted = am.get_report(out)
    if engine.startswith("parquet"):
        (named,) = counted["rejected_at"][reason]  # its row in the Parquet's own order
        assert re.fullmatch(re.escape(str(tmp_path / "pq" / "state_usps=TX")) +
                            r"/data_0\.parquet, row [1-4], column 'block_geoid'", named)
    assert out[["GEOID", "locations"]].values.tolist() == [["48135000100", 3]]
    assert counted["rejected"][reason] == 1
    assert counted["rows_read"] == 4


def test_a_repeated_header_line_is_named(tmp_path, reader):
    # two files joined with `cat`: the second one's header sits among the rows
    path = tmp_path / "bdc_48_joined.csv"
    written = ",".join(h.replace("_", " ").title() for h in HEADER)  # 'Location Id'
    text = csv_text(GOOD[:1]) + csv_text(GOOD[1:2]) + csv_text(GOOD[2:])
    path.write_text(text.replace(",".join(HEADER), written))
    with pytest.raises(SchemaError, match=r"bdc_48_joined\.csv, row 2: the header line again "
                                          r"\(files joined with their headers\?\) \(2 rows "
                                          r"that cannot be read in all\); remove"), \
            pytest.warns(RepairWarning, match=r"header 'Frn' read as 'frn', 'Provider Id' read"):
        reader(path)


def test_mixed_line_ends_are_named_where_duckdb_reads(tmp_path):
    text = csv_text(GOOD)
    path = tmp_path / "bdc_48_Fiber.csv"
    path.write_bytes((text + "\r\n").encode())  # an empty CR LF line after LF lines
    with pytest.raises(SchemaError, match=r"bdc_48_Fiber\.csv, row 4: lines end both "
                                          r"Windows-style \(CR LF, from row 4\) and "
                                          r"Unix-style \(LF, from the header\); save"):
        am.aggregate_bdc(path, engine="duckdb")


@pytest.mark.parametrize("engine", ["load", "duckdb", "numba"])
def test_empty_lines_are_not_rows_in_any_engine(tmp_path, engine):
    if engine == "numba":
        pytest.importorskip("numba", reason="the 'fast' extra is not installed")
    text = csv_text(GOOD)
    path = tmp_path / "bdc_48_Fiber.csv"
    first, rest = text.split("\n", 1)
    path.write_text(first + "\n" + rest.replace("\n", "\n\n", 1) + "\n\n")
    out = (am.load_bdc(path) if engine == "load"
           else am.aggregate_bdc(path, engine=engine))
    report = am.get_report(out)
    assert report["rows_read"] == 3
    assert report["rejected"] == {}
    assert len(out) == (3 if engine == "load" else 1)


def test_carriage_return_inside_a_line_names_file_and_row(tmp_path, reader):
    # the bytes are written as they are: Python 3.13's csv.writer quotes a field holding "\r"
    # (which makes it a valid field, see below), 3.11 and 3.12 write it bare
    text = csv_text([GOOD[0], offer("2", 40, 300, 10, provider="K1"), GOOD[2]])
    path = tmp_path / "bdc_48_Cable.csv"
    path.write_bytes(text.replace(",K1,", ",K\r1,").encode())
    with pytest.raises(SchemaError, match=r"bdc_48_Cable\.csv, row 2: cannot split this line "
                                          r"into fields: a carriage return"):
        reader(path)


@pytest.mark.parametrize("engine", ["load", "duckdb", "numba"])
def test_a_carriage_return_alone_between_two_lines_names_the_row(tmp_path, engine):
    # pyarrow would take it as a line end and read two rows; every engine names it instead
    if engine == "numba":
        pytest.importorskip("numba", reason="the 'fast' extra is not installed")
    path = tmp_path / "bdc_48_Cable.csv"
    path.write_bytes(csv_text(GOOD).replace("\n", "\r", 2).replace("\r", "\n", 1).encode())
    with pytest.raises(SchemaError, match=r"bdc_48_Cable\.csv, row 1: cannot split this line "
                                          r"into fields: a carriage return"):
        am.load_bdc(path) if engine == "load" else am.aggregate_bdc(path, engine=engine)


def test_carriage_return_inside_a_quoted_field_is_read(tmp_path):
    text = csv_text([GOOD[0], offer("2", 40, 300, 10, provider="K1"), GOOD[2]])
    path = tmp_path / "bdc_48_Cable.csv"
    path.write_bytes(text.replace(",K1,", ',"K\r1",').encode())
    avail = am.load_bdc(path)
    assert avail.set_index("location_id").loc["2", "provider_id"] == "K\r1"


@pytest.mark.parametrize(("column", "value"), [
    ("max_advertised_download_speed", "3000000000"),   # more than int32
    ("max_advertised_upload_speed", "-5"),             # negative
    ("technology", "999999999999"),
    ("low_latency", "300"),
    ("max_advertised_download_speed", '" -7 "'),       # negative, and repaired text
])
def test_number_out_of_range_names_file_row_and_column(tmp_path, reader, column, value):
    rows = [*GOOD, dict(offer("4", 50, 100, 20), **{column: value})]
    path = write_csv(tmp_path / "bdc_48_Range.csv", rows)
    with pytest.raises(SchemaError, match=rf"bdc_48_Range\.csv, row 4, column '{column}': "
                                          r".* is not a .*correct or remove that row"):
        reader(path)
    with pytest.raises(SchemaError, match=r"bdc_48_Range\.csv, row 4"):
        am.bdc_to_parquet(path, tmp_path / "pq")


def test_number_out_of_range_in_parquet_names_file_and_row(tmp_path, reader):
    table = pa.Table.from_pylist([dict(r, max_advertised_download_speed=d) for r, d in
                                  zip(GOOD, ["1000", "300", "-2"], strict=True)])
    pq.write_table(table, tmp_path / "bdc.parquet")
    with pytest.raises(SchemaError, match=r"bdc\.parquet, row 3, column "
                                          r"'max_advertised_download_speed': -2\.0 is not"):
        reader(tmp_path / "bdc.parquet")


# --- rows checked before any filter, and counted ------------------------------------------------

def _mixed_rows():
    """Rows of every kind: kept, repaired, rejected, and outside a county-and-code selection."""
    return [
        offer("1", 50, 1000, 1000),                                        # kept
        offer("2", 40, 300, 10, block="48135000100100"),                   # 14 digits: no
        offer("3", 50, 1000, 1000, code="B"),                              # business
        offer("4", 50, 1000, 1000, block="481410001001000"),               # El Paso County
        offer("5", 99, 1000, 1000, block="481410001001000", code="B"),     # unknown tech
        offer("6", 40, 300, 10, provider=" "),                             # blank provider
        offer("", 40, 300, 10, block="481410001001000"),                   # blank location
        offer("8", 50, 1000, 1000, block="48135000100100", code="B"),      # 14 digits, B
    ]


def test_every_row_is_counted_before_the_filters(tmp_path, counting_reader):
    path = write_csv(tmp_path / "bdc_48_Mixed.csv", _mixed_rows())
    with pytest.warns((RejectedRowsWarning, RepairWarning)) as caught:
        out = counting_reader(path, counties=["48135"], codes=["R", "X"])
    report = am.get_report(out)
    assert report["rows_read"] == 8
    assert report["checks"] == {"kept": 3, "repaired": 2, "rejected": 3}
    assert report["rejected"] == {"unknown technology code": 1,
                                  "missing or blank provider_id": 1,
                                  "missing or blank location_id": 1}
    # "48135000100100" gets its zero back: 048135..., not in county 48135
    assert report["filtered"] == {"outside the counties ['48135']": 3,
                                  "business_residential_code not in ['R', 'X']": 1}
    assert report["repaired"] == {
        "block_geoid had lost its leading zero (14 digits); restored": 2}
    assert accounted(report)
    # the warning names file, row and column of a rejected row outside the selection
    text = " ".join(str(w.message) for w in caught)
    assert "bdc_48_Mixed.csv, row 5, column 'technology'" in text
    assert "bdc_48_Mixed.csv, row 6, column 'provider_id'" in text
    assert "bdc_48_Mixed.csv, row 7, column 'location_id'" in text
    assert report["rejected_at"]["unknown technology code"] == [
        f"{path}, row 5, column 'technology'"]


@pytest.mark.parametrize("engine", ["load_bdc", "duckdb", "numba"])
def test_rejected_rows_are_named_five_at_most_over_all_files(tmp_path, engine):
    """The report names the first five rejected rows of a kind in reading order, however
    many files hold them: four in the first file, then the first of the second."""
    bad = [offer(str(10 + i), 99, 100, 20) for i in range(4)]
    for name in ("bdc_48_A.csv", "bdc_48_B.csv"):
        write_csv(tmp_path / name, [*GOOD, *bad])
    files = str(tmp_path / "bdc_48_*.csv")
    out = (quiet(am.load_bdc, files) if engine == "load_bdc"
           else quiet(am.aggregate_bdc, files, engine=engine))
    report = am.get_report(out)
    reason = "unknown technology code"
    assert report["rejected"][reason] == 8
    where_a = [f"{tmp_path / 'bdc_48_A.csv'}, row {r}, column 'technology'" for r in (4, 5, 6, 7)]
    assert report["rejected_at"][reason] == [
        *where_a, f"{tmp_path / 'bdc_48_B.csv'}, row 4, column 'technology'"]
    assert report["rejected_rows"][reason] == [4, 5, 6, 7, 4]


def test_counts_without_a_selection_add_up(tmp_path, counting_reader):
    path = write_csv(tmp_path / "bdc_48_Mixed.csv", _mixed_rows())
    out = quiet(counting_reader, path, codes=None)
    report = am.get_report(out)
    assert report["checks"] == {"kept": 3, "repaired": 2, "rejected": 3}
    assert report["filtered"] == {}
    assert accounted(report)


def test_rejected_rows_of_parquet_are_named_with_file_and_row(tmp_path):
    path = write_csv(tmp_path / "bdc_48_Mixed.csv", _mixed_rows())
    out = am.bdc_to_parquet(path, tmp_path / "pq", by_location=False)
    with pytest.warns((RejectedRowsWarning, RepairWarning)) as caught:
        avail = am.load_bdc(out, codes=None)
    assert accounted(am.get_report(avail))
    text = " ".join(str(w.message) for w in caught)
    assert re.search(r"unknown technology code \(at .*data_0\.parquet, row 5, column "
                     r"'technology'\)", text), text


def test_parquet_partitions_of_other_states_are_not_read(tmp_path, counting_reader):
    rows = [*GOOD, offer("9", 50, 1000, 1000, state="NM", block="350010001001000")]
    out = am.bdc_to_parquet(write_csv(tmp_path / "bdc_x.csv", rows), tmp_path / "pq")
    report = am.get_report(counting_reader(out, states=["TX"]))
    assert report["rows_read"] == 3
    assert report["filtered"] == {}
    assert am.get_report(counting_reader(out, states=[" nm "]))["rows_read"] == 1


# --- letters without regard to case or spaces ---------------------------------------------------

def test_letter_codes_ignore_case_and_spaces(tmp_path, reader):
    rows = [offer("1", 50, 1000, 1000, code=" r "), offer("2", 40, 300, 10, code="x"),
            offer("3", 10, 25, 3, code=" b", state=" tx "), offer("4", 50, 100, 20)]
    path = write_csv(tmp_path / "bdc_48_Case.csv", rows)
    clean = write_csv(tmp_path / "bdc_48_Clean.csv", [offer("1", 50, 1000, 1000, code="R"),
                                                     offer("2", 40, 300, 10, code="X"),
                                                     offer("3", 10, 25, 3, code="B"),
                                                     offer("4", 50, 100, 20)])
    if reader is am.aggregate_bdc:  # compared only: nothing of the codes is returned
        got = reader(path, states=["tx"], codes=["r", "X "])
        pd.testing.assert_frame_equal(got, reader(clean, states=["TX"], codes=["R", "X"]))
        assert got["locations"].iloc[0] == 3
        return
    with pytest.warns(RepairWarning, match="3 of 4 rows: business_residential_code or "
                                           "state_usps in lower case or with spaces"):
        got = reader(path, states=["tx"], codes=["r", "X "])
    assert got["business_residential_code"].tolist() == ["R", "X", "R"]
    assert set(got["state_usps"]) == {"TX"}
    assert am.get_report(got)["filtered"] == {"business_residential_code not in ['R', 'X']": 1}


# --- numbers are never rounded across a threshold -----------------------------------------------

FRACTIONS = [offer("1", 50, 24.6, 3), offer("2", 50, 25, 2.99), offer("3", 50, 99.99, 20),
             offer("4", 50, 100, 19.5), offer("5", 50, 25, 3), offer("6", 50, 100, 20)]


@pytest.mark.parametrize("kind", ["csv", "zip", "parquet", "lenient"])
def test_fractional_speeds_are_kept_as_they_are(tmp_path, kind):
    rows = FRACTIONS + ([offer("7", 50, '" 1 "', 1)] if kind == "lenient" else [])
    path = write_csv(tmp_path / "bdc_48_Frac.csv", rows)  # "lenient": DuckDB's repairing scan
    if kind == "zip":
        path = write_zip(tmp_path / "bdc_48_Frac.zip", rows)
    elif kind == "parquet":
        path = am.bdc_to_parquet(path, tmp_path / "pq")
    with pytest.warns(RepairWarning) if kind == "lenient" else _nothing():
        avail = am.load_bdc(path)
        levels = am.aggregate_bdc(path, level="county")
    avail = avail.set_index("location_id").loc[[str(i) for i in range(1, 7)]]
    assert str(avail["max_advertised_download_speed"].dtype) == "float64"
    assert avail["max_advertised_download_speed"].tolist() == [24.6, 25, 99.99, 100, 25, 100]
    assert avail["max_advertised_upload_speed"].tolist() == [3, 2.99, 20, 19.5, 3, 20]
    # 24.6/3 and 25/2.99: unserved; 99.99/20, 100/19.5 and 25/3: underserved; 100/20: served
    expected = (1, 3, 2) if kind != "lenient" else (1, 3, 3)
    assert tuple(levels[["served", "underserved", "unserved"]].iloc[0]) == expected


def _nothing():
    import contextlib

    return contextlib.nullcontext()


def test_parquet_stores_whole_numbers_as_integers_and_fractions_exactly(tmp_path):
    whole = am.bdc_to_parquet(write_csv(tmp_path / "bdc_48_a.csv", GOOD), tmp_path / "w")
    frac = am.bdc_to_parquet(write_csv(tmp_path / "bdc_48_b.csv", FRACTIONS), tmp_path / "f")
    types = {p.name: {f.name: str(f.type) for f in pq.read_schema(next(p.glob("**/*.parquet")))}
             for p in (whole, frac)}
    assert types["w"]["max_advertised_download_speed"] == "int32"
    assert types["w"]["technology"] == "int16"
    assert types["f"]["max_advertised_download_speed"] == "double"


@pytest.mark.parametrize(("column", "value", "read"), [
    ("technology", "50.0", 50), ("low_latency", "1.0", 1),        # the same number: read
    ("technology", "50.5", None), ("low_latency", "0.5", None),   # not a code: rejected
])
def test_codes_written_with_a_decimal_point(tmp_path, reader, column, value, read):
    path = write_csv(tmp_path / "bdc_48_Dec.csv", [*GOOD, dict(offer("4", 50, 100, 20),
                                                               **{column: value})])
    if read is None:
        with pytest.warns(RejectedRowsWarning, match="1 of 4 rows"):
            out = reader(path)
        assert sum(am.get_report(out)["rejected"].values()) == 1
        return
    out = reader(path)
    assert am.get_report(out)["rejected"] == {}
    assert am.get_report(out)["repaired"] == {}
    if reader is am.load_bdc:
        assert out.set_index("location_id").loc["4", column] == read


# --- empty or blank ids are rejected, never one location ---------------------------------------

@pytest.mark.parametrize("blank", ["", " ", "\t"])
def test_blank_ids_are_rejected_never_merged(tmp_path, reader, blank):
    rows = [*GOOD, offer(blank, 50, 1000, 1000), offer(blank, 50, 1000, 1000, provider="Z"),
            offer("5", 50, 1000, 1000, provider=blank)]
    path = write_csv(tmp_path / "bdc_48_Blank.csv", rows)
    with pytest.warns(RejectedRowsWarning):
        out = reader(path)
    report = am.get_report(out)
    assert report["rejected"] == {"missing or blank location_id": 2,
                                  "missing or blank provider_id": 1}
    if reader is am.load_bdc:
        assert sorted(out["location_id"]) == ["1", "2", "3"]
    else:
        assert out["locations"].iloc[0] == 3


# --- inputs that share a name are all read ------------------------------------------------------

def _two_files_one_name(tmp_path, how):
    first, second = GOOD, [offer(str(i), 50, 1000, 1000, provider="P") for i in (11, 12, 13)]
    if how == "folders":
        for folder, rows in (("a", first), ("b", second)):
            (tmp_path / folder).mkdir()
            write_csv(tmp_path / folder / "bdc_48_x.csv", rows)
        return [tmp_path / "a" / "bdc_48_x.csv", tmp_path / "b" / "bdc_48_x.csv"]
    if how == "two zips":
        for folder, rows in (("a", first), ("b", second)):
            (tmp_path / folder).mkdir()
            write_zip(tmp_path / folder / "bdc_48_x.zip", rows, member="x.csv")
        return str(tmp_path / "*" / "bdc_48_x.zip")
    path = tmp_path / "bdc_48_x.zip"
    names = ("x.csv", "x.csv") if how == "one zip" else ("a/x.csv", "b/x.csv")
    with zipfile.ZipFile(path, "w") as zf, pytest.warns(UserWarning, match="Duplicate") \
            if names[0] == names[1] else _nothing():
        for name, rows in zip(names, (first, second), strict=True):
            zf.writestr(name, csv_text(rows))
    return path


@pytest.mark.parametrize("how", ["folders", "two zips", "one zip", "zip folders"])
def test_inputs_sharing_a_name_are_all_read(tmp_path, reader, how):
    paths = _two_files_one_name(tmp_path, how)
    out = reader(paths)
    assert am.get_report(out)["rows_read"] == 6  # twice the rows of one file
    if reader is am.load_bdc:
        assert sorted(out["location_id"]) == ["1", "11", "12", "13", "2", "3"]
    else:
        assert out["locations"].iloc[0] == 6
    pq_dir = am.bdc_to_parquet(paths, tmp_path / "pq")
    assert am.get_report(am.load_bdc(pq_dir))["rows_read"] == 6


def test_the_same_rows_in_two_folders_are_counted_twice(tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        write_csv(tmp_path / folder / "bdc_48_x.csv", GOOD)
    with pytest.warns(RejectedRowsWarning, match="3 of 6 rows: exact duplicate"):
        out = am.load_bdc(tmp_path / "*" / "bdc_48_x.csv")
    assert am.get_report(out)["rows_read"] == 6
    assert len(out) == 3


def test_a_folder_is_read_as_the_files_it_holds(tmp_path, reader):
    folder = tmp_path / "download"
    (folder / "sub").mkdir(parents=True)
    write_csv(folder / "bdc_48_Fiber.csv", GOOD)
    write_zip(folder / "sub" / "bdc_48_Cable.zip",
              [offer(str(i), 40, 300, 10, provider="K1") for i in (4, 5)])
    (folder / "README.md").write_text("notes")  # skipped in a folder given as the input
    for given in (folder, str(folder / "**")):  # the glob matches the folders and files
        if given != folder:
            (folder / "README.md").unlink()  # a glob that matches a README is refused
        out = reader(given)
        assert am.get_report(out)["rows_read"] == 5
        if reader is am.aggregate_bdc:
            assert out["locations"].sum() == 5
            duck = am.aggregate_bdc(given, engine="duckdb")
            assert duck["locations"].sum() == 5
        else:
            assert sorted(out["location_id"]) == ["1", "2", "3", "4", "5"]


def test_a_folder_without_bdc_files_or_with_two_kinds_is_an_error(tmp_path, reader):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.md").write_text("x")
    with pytest.raises(FileNotFoundError, match=r"empty: the folder holds no BDC .*notes\.md"):
        reader(empty)
    both = tmp_path / "both"
    both.mkdir()
    write_csv(both / "bdc_48_Fiber.csv", GOOD)
    am.bdc_to_parquet(both / "bdc_48_Fiber.csv", both / "pq")
    with pytest.raises(SchemaError, match=r"both: the folder holds both Parquet files"):
        reader(both)
    assert am.get_report(reader(both / "pq"))["rows_read"] == 3


# --- zips and encodings ------------------------------------------------------------------------

def test_truncated_zip(tmp_path, reader):
    whole = write_zip(tmp_path / "whole.zip", GOOD * 200)
    cut = tmp_path / "bdc_48_Cut.zip"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(SchemaError, match=r"bdc_48_Cut\.zip: truncated or corrupt zip"):
        reader(cut)


def _encrypted_zip(path):
    """A zip whose member is marked password-protected (zipfile cannot write real ones)."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("bdc_48_x.csv", csv_text(GOOD))
    data = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # both flag fields
        at = data.index(signature) + offset
        data[at] |= 0x1
    path.write_bytes(bytes(data))
    return path


def test_password_protected_zip(tmp_path, reader):
    path = _encrypted_zip(tmp_path / "bdc_48_Locked.zip")
    with pytest.raises(SchemaError, match=r"bdc_48_Locked\.zip: member 'bdc_48_x\.csv' is "
                                          r"password-protected .*unzip it with its password"):
        reader(path)


def test_zip_with_a_damaged_member(tmp_path, reader):
    path = write_zip(tmp_path / "bdc_48_Bad.zip", GOOD * 50)
    data = bytearray(path.read_bytes())
    data[60:70] = b"\x00" * 10  # inside the compressed data: a CRC or inflate error
    path.write_bytes(bytes(data))
    with pytest.raises(SchemaError, match=r"bdc_48_Bad\.zip: member .* is truncated or corrupt"):
        reader(path)


def test_zip_without_csv(tmp_path):
    with zipfile.ZipFile(tmp_path / "bdc_48_x.zip", "w") as zf:
        zf.writestr("readme.pdf", "x")
    with pytest.raises(SchemaError, match="holds no CSV"):
        am.load_bdc(tmp_path / "bdc_48_x.zip")


def test_csv_inside_zip_with_another_name(tmp_path, reader):
    path = write_zip(tmp_path / "bdc_48_Fiber_J25.zip", GOOD, member="export (1).csv")
    out = reader(path)
    assert am.get_report(out)["rows_read"] == 3


def test_bad_row_inside_zip_names_zip_and_member(tmp_path):
    rows = [GOOD[0], offer("2", 40, 300, "ten")]
    path = write_zip(tmp_path / "bdc_48_Cable.zip", rows, member="inner.csv")
    with pytest.raises(SchemaError, match=r"bdc_48_Cable\.zip \(inner\.csv\), row 2, column "
                                          r"'max_advertised_upload_speed'"):
        am.load_bdc(path)


def test_utf16_names_the_file_and_what_to_do(tmp_path, reader):
    path = tmp_path / "bdc_48_Wide.csv"
    path.write_bytes(csv_text(GOOD).encode("utf-16"))
    with pytest.raises(SchemaError, match=r"bdc_48_Wide\.csv: the text is UTF-16 .*save it as "
                                          r"'CSV UTF-8'"):
        reader(path)


@pytest.mark.parametrize("inside", ["csv", "zip"])
def test_byte_order_mark_just_works(tmp_path, reader, inside):
    data = b"\xef\xbb\xbf" + csv_text(GOOD).encode()
    path = tmp_path / "bdc_48_Bom.csv"
    path.write_bytes(data)
    if inside == "zip":
        with zipfile.ZipFile(tmp_path / "bdc_48_Bom.zip", "w") as zf:
            zf.writestr("bdc_48_Bom.csv", data)
        path = tmp_path / "bdc_48_Bom.zip"
    out = reader(path)
    assert am.get_report(out)["rows_read"] == 3
    assert am.get_report(out)["rejected"] == {}


def test_latin1_text_names_file_row_and_column(tmp_path):
    path = tmp_path / "bdc_48_Latin.csv"
    path.write_bytes(csv_text([GOOD[0], offer("2", 40, 300, 10, brand="Telefónica")])
                     .encode("latin-1"))
    with pytest.raises(SchemaError, match=r"bdc_48_Latin\.csv, row 2, column 'brand_name': "
                                          r"the text is not UTF-8 .*'CSV UTF-8'"):
        am.load_bdc(path)


# --- other rows ----------------------------------------------------------------------------------

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
    assert am.get_report(out)["rejected"] == {"block_geoid is not a 15-digit block GEOID": 1}


def test_non_digit_geoid_rejects_its_row_and_an_unknown_state_its_area(tmp_path):
    path = write_csv(tmp_path / "bdc_48_x.csv", [*GOOD, offer("4", 50, 1000, 1000,
                                                             block="48A350001001000")])
    with pytest.warns(RejectedRowsWarning, match="row 4, column 'block_geoid'"):
        out = am.aggregate_bdc(path)
    assert list(out["GEOID"]) == ["48135000100"]
    assert out["locations"].iloc[0] == 3
    assert am.get_report(out)["rejected"] == {"block_geoid is not a 15-digit block GEOID": 1}
    path = write_csv(tmp_path / "bdc_48_y.csv", [*GOOD, offer("4", 50, 1000, 1000,
                                                             block="991350001001000")])
    with pytest.warns(RejectedRowsWarning, match="not digits starting with a state FIPS"):
        out = am.aggregate_bdc(path)
    assert list(out["GEOID"]) == ["48135000100"]
    assert am.get_report(out)["rejected"] == {
        "block_geoid is not digits starting with a state FIPS code (locations)": 1}


def test_duplicate_rows(tmp_path):
    path = write_csv(tmp_path / "bdc_48_x.csv", [*GOOD, GOOD[0], GOOD[0]])
    with pytest.warns(RejectedRowsWarning, match="2 of 5 rows: exact duplicate"):
        avail = am.load_bdc(path)
    assert len(avail) == 3
    assert accounted(am.get_report(avail))
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


def test_no_raw_exception_from_the_engines(tmp_path, reader):
    """Damaged inputs of every kind above end in an AssetmapError, never DuckDB's or Arrow's."""
    cases = {"bdc_48_a.csv": csv_text([offer("1", 50, "1e400", 1)]),
             "bdc_48_b.csv": csv_text([offer("1", 50, "nan", 1)]),
             "bdc_48_c.csv": csv_text([offer("1", "inf", 1, 1)]),
             "bdc_48_d.csv": csv_text(GOOD)[:-30]}
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
        try:
            reader(tmp_path / name)
        except AssetmapError:
            pass
        except Exception as exc:  # noqa: BLE001 (the point of the test)
            pytest.fail(f"{name}: {type(exc).__module__}.{type(exc).__name__}: {exc}")


# --- the fast engine of aggregate_bdc (numba), when installed -------------------------------

@pytest.mark.parametrize("ids", ["short", "usual widths"])
def test_fast_engine_letter_codes(tmp_path, caplog, ids):
    pytest.importorskip("numba", reason="the fast engine needs the optional numba")
    import logging

    # short ids: lines the parser reads field by field; usual widths: from fixed offsets
    loc = (lambda i: str(i)) if ids == "short" else (lambda i: str(1000000000 + i))
    rows = [offer(loc(1), 50, 1000, 1000, code=" r "), offer(loc(2), 40, 300, 10, code="x"),
            offer(loc(3), 10, 25, 3, state=" tx "), offer(loc(4), 10, 25, 3, state="tx"),
            offer(loc(5), 50, 1000, 1000, code="b"), offer(loc(6), 50, 1000, 1000, state="ok"),
            offer(loc(7), 50, 100, 20, code="\tX")]
    path = write_csv(tmp_path / "bdc_48_Case.csv", rows)
    with caplog.at_level(logging.INFO, logger="assetmap.bdc.fast.engine"):
        fast = am.aggregate_bdc(path, engine="numba", states=[" tx"], codes=["r", "X "])
    assert not caplog.records, [r.getMessage() for r in caplog.records]  # no fall-back
    slow = am.aggregate_bdc(path, engine="duckdb", states=[" tx"], codes=["r", "X "])
    pd.testing.assert_frame_equal(fast, slow, check_exact=True)
    assert fast.attrs == slow.attrs
    assert fast["locations"].sum() == 5
    assert am.get_report(fast)["filtered"] == {
        "outside the states ['TX']": 1, "business_residential_code not in ['R', 'X']": 1}


def test_fast_engine_hands_a_code_not_in_ascii_to_duckdb(tmp_path, caplog):
    pytest.importorskip("numba", reason="the fast engine needs the optional numba")
    import logging

    rows = [*GOOD, offer("4", 50, 1000, 1000, code="ʀ")]  # a small capital R
    path = write_csv(tmp_path / "bdc_48_Wide.csv", rows)
    with caplog.at_level(logging.INFO, logger="assetmap.bdc.fast.engine"):
        fast = am.aggregate_bdc(path, engine="numba")
    assert any("goes to the DuckDB engine" in r.getMessage() for r in caplog.records)
    assert am.get_report(fast)["filtered"] == {"business_residential_code not in ['R', 'X']": 1}


@pytest.mark.parametrize("engine", ["numba", "duckdb"])
def test_both_engines_count_before_the_filters(tmp_path, engine):
    if engine == "numba":
        pytest.importorskip("numba", reason="the fast engine needs the optional numba")
    rows = [offer(str(i), 50, 1000, 1000, code="B" if i == 4 else "R") for i in range(1, 5)]
    path = write_csv(tmp_path / "bdc_48_x.csv", rows)  # lines the fast engine takes as is
    report = am.get_report(am.aggregate_bdc(path, engine=engine))
    assert report["rows_read"] == 4
    assert report["filtered"] == {"business_residential_code not in ['R', 'X']": 1}


@pytest.mark.parametrize("kind", ["files", "frames"])
def test_compare_releases_counts_every_row_of_each_release(tmp_path, kind):
    """Rows rejected, repaired or left out by the codes are counted per release and named."""
    old = write_csv(tmp_path / "bdc_48_old.csv", [
        *GOOD, offer("4", 99, 1000, 1000), offer("5", 50, 1000, 1000, code="B")])
    new = write_csv(tmp_path / "bdc_48_new.csv", [
        *GOOD, offer(" 4", 50, 1000, 1000), offer("6", 50, 1000, 1000, ll=7)])
    releases = (old, new)
    if kind == "frames":
        releases = tuple(quiet(am.load_bdc, r, codes=None) for r in releases)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        out = am.compare_releases(*releases)
    report = am.get_report(out)
    old_rows, new_rows = report["releases"]["old"], report["releases"]["new"]
    assert old_rows["rows_read"] == (5 if kind == "files" else 4)  # load_bdc rejected one
    assert old_rows["filtered"] == {"business_residential_code not in ['R', 'X']": 1}
    messages = [str(w.message) for w in said]
    assert (RejectedRowsWarning in {w.category for w in said}) == (kind == "files")
    if kind == "files":  # load_bdc already rejected and trimmed the frames' rows
        assert old_rows["rejected"] == {"unknown technology code": 1}
        assert new_rows["rejected"] == {"low_latency is not 0 or 1": 1}
        assert any("the old release" in m and "bdc_48_old.csv, row 4, column 'technology'"
                   in m for m in messages)
        assert sum(new_rows["repaired"].values()) == 1
        assert report["rows_read"] == 10
    assert report["rows_read"] == (old_rows["rows_read"] + new_rows["rows_read"])
    assert report["rows_read"] == (sum(report["rejected"].values())
                                   + sum(report["filtered"].values()) + len(out)
                                   + report["merged"])
    assert out["locations_new"].sum() == 4
    assert out["locations_old"].sum() == 3


def test_compare_releases_names_file_row_and_column_of_a_bad_value(tmp_path):
    old = write_csv(tmp_path / "bdc_48_old.csv", GOOD)
    new = write_csv(tmp_path / "bdc_48_new.csv", [*GOOD, offer("4", 50, "fast", 1000)])
    with pytest.raises(SchemaError, match=r"bdc_48_new\.csv, row 4, column "
                                          r"'max_advertised_download_speed': cannot read 'fast'"):
        am.compare_releases(old, new)


def test_release_change_checks_and_counts_the_rows_of_frames_read_by_hand(tmp_path):
    """Rows read without load_bdc (pandas) are checked as every engine checks them: the
    same tables as from load_bdc frames, every row counted, the rejected ones named."""
    old = write_csv(tmp_path / "bdc_48_old.csv", [
        *GOOD, offer("4", 99, 1000, 1000), offer("5", 50, 1000, 1000, code="B")])
    new = write_csv(tmp_path / "bdc_48_new.csv", [
        *GOOD, offer(" 4", 50, 1000, 1000, code=" r"), offer("", 50, 1000, 1000)])
    numbers = ("technology", "max_advertised_download_speed", "max_advertised_upload_speed",
               "low_latency")

    def by_hand(path):
        return pd.read_csv(path, dtype=str, keep_default_na=False).astype(
            dict.fromkeys(numbers, "float64"))

    want = am.release_change_report(quiet(am.load_bdc, old, codes=None),
                                    quiet(am.load_bdc, new, codes=None))
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        got = am.release_change_report(by_hand(old), by_hand(new), old_label="June 2024",
                                       new_label="June 2025")
    pd.testing.assert_frame_equal(got.tracts, want.tracts)
    releases = am.get_report(got.tracts)["releases"]
    assert releases["old"]["rows_read"] == 5
    assert releases["old"]["rejected"] == {"unknown technology code": 1}
    assert releases["old"]["filtered"] == {"business_residential_code not in ['R', 'X']": 1}
    assert releases["new"]["rejected"] == {"missing or blank location_id": 1}
    assert sum(releases["new"]["repaired"].values()) == 2  # the id and the code
    assert any("June 2024: left out 1 of 5 rows: unknown technology code (at June 2024, "
               "row 4, column 'technology')" in str(w.message) for w in said)


def test_a_missing_upload_speed_is_named_as_load_bdc_names_it(tmp_path):
    """A row with its download speed but no upload speed: every reader names the upload
    column (release_change_report named the download column before)."""
    old = write_csv(tmp_path / "bdc_48_old.csv", GOOD)
    new = write_csv(tmp_path / "bdc_48_new.csv", [*GOOD, offer("4", 50, 1000, "")])
    at = "row 4, column 'max_advertised_upload_speed'"
    reason = "missing or negative speed"
    assert am.get_report(quiet(am.load_bdc, new))["rejected_at"][reason] == [
        f"{new}, {at}"]

    def by_hand(path):
        return pd.read_csv(path, dtype=str).astype(
            dict.fromkeys(["technology", "max_advertised_download_speed",
                           "max_advertised_upload_speed", "low_latency"], "float64"))

    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        want = am.release_change_report(by_hand(old), by_hand(new), new_label="June 2025")
    assert [str(w.message) for w in said if w.category is RejectedRowsWarning] == [
        f"June 2025: left out 1 of 4 rows: {reason} (at June 2025, {at})"]
    # numbers left as text (pd.read_csv(dtype=str)) are read as numbers: the same tables
    with pytest.warns(RejectedRowsWarning):
        got = am.release_change_report(pd.read_csv(old, dtype=str), pd.read_csv(new, dtype=str),
                                       new_label="June 2025")
    pd.testing.assert_frame_equal(got.tracts, want.tracts)
    assert got.summary == want.summary
