"""The Dask path on a small distributed.LocalCluster gives the DuckDB path's frame."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import assetmap as am
from assetmap.errors import RejectedRowsWarning, RepairWarning
from tests.bdc_fixtures import synthetic

__all__ = ["synthetic"]

distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")

# dask's Parquet reader calls reset_index(inplace=True), deprecated in pandas 3.1 (with
# pandas.errors.Pandas4Warning, a DeprecationWarning; named by message, as pandas 2 lacks it)
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword:DeprecationWarning",
                                        "ignore:The inplace keyword:FutureWarning")


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as c:
        yield c


@pytest.mark.slow
@pytest.mark.parametrize(("fmt", "level"), [("parquet", "tract"), ("csv", "block_group"),
                                            ("zip", "h3")])
def test_dask_matches_duckdb(client, synthetic, fmt, level):
    from assetmap.bdc.service_dask import aggregate_bdc_dask  # internal: not an am name

    src = synthetic["parquet"][0] if fmt == "parquet" else synthetic[fmt]
    got = aggregate_bdc_dask(src, level=level, blocksize="256KB")
    want = am.aggregate_bdc(synthetic["parquet"][0], level=level)
    pd.testing.assert_frame_equal(got, want)
    assert got.attrs["assetmap"]["engine"] == "dask"
    assert client.status == "running"


_HEADER = ("frn,provider_id,brand_name,location_id,technology,max_advertised_download_speed,"
           "max_advertised_upload_speed,low_latency,business_residential_code,state_usps,"
           "block_geoid,h3_res8_id\n")
_MESSY = [  # each line a case of docs/bad-input.md that the Dask path reads like the others
    "1,130001,A,1001,50,1000,1000,1,R,AL,010010201001000,8844c0a31dfffff",
    "1,130001,A,1002,50,1000,1000,1, r ,AL,010010201001000,8844c0a31dfffff",  # code: trimmed
    "1,130001,A, 1003 ,50,1000,1000,1,x,AL,10010201001000,8844c0a31dfffff",  # id, GEOID
    "1,130001,A,1003,40,100,20,1,X,AL,010010201001000,8844c0a31dfffff",
    "1,130001,A,1004,50,1000,1000,1,B,AL,010010201001000,8844c0a31dfffff",  # filtered
    "1,130001,A,\t,50,1000,1000,1,R,AL,010010201001000,8844c0a31dfffff",  # blank location
    "1, ,A,1005,50,1000,1000,1,R,AL,010010201001000,8844c0a31dfffff",  # blank provider
    "1,130002,A,1006,99,1000,1000,1,R,AL,010010201001000,8844c0a31dfffff",  # technology
    "1,130002,A,1008,50,1000,1000,2,R,AL,010010202001000,8844c0a31dfffff",  # latency
    "1,130002,A,1009,50,1000,,1,r,AL,010010202001000,8844c0a31dfffff",  # missing speed
    "1,130002,A,1010,50,1000,1000,1,R,AL,0100102020010,8844c0a31dfffff",  # short GEOID
    "1,130002,A,1011,70,25,3,0,R,AL,010010202001000,8844C0A31DFFFFF",  # H3 in capitals
]


@pytest.mark.slow
@pytest.mark.parametrize("level", ["tract", "h3"])
def test_dask_reads_messy_rows_like_duckdb(client, tmp_path, level):
    """Rows are counted before the selection, codes compared upper-cased and trimmed, ids
    trimmed and blank ids rejected, as in every engine: the same frame, the same report."""
    from assetmap.bdc.service_dask import aggregate_bdc_dask

    path = tmp_path / "bdc_01_messy.csv"
    path.write_text(_HEADER + "\n".join(_MESSY) + "\n")
    with warnings.catch_warnings(record=True) as said_duckdb:
        warnings.simplefilter("always")
        want = am.aggregate_bdc(path, level=level, engine="duckdb")
    with warnings.catch_warnings(record=True) as said_dask:
        warnings.simplefilter("always")
        got = aggregate_bdc_dask(path, level=level, blocksize=None)
    pd.testing.assert_frame_equal(got, want)
    kinds = {w.category for w in said_dask}
    assert {RejectedRowsWarning, RepairWarning} <= kinds
    assert kinds == {w.category for w in said_duckdb}
    a, b = am.get_report(got), am.get_report(want)
    assert a["rows_read"] == len(_MESSY)
    assert a["checks"] == {"kept": 5, "repaired": 1, "rejected": 6}
    for field in ("rows_read", "checks", "rejected", "repaired", "filtered", "merged",
                  "rows_out", "split_locations", "rejected_at"):
        assert a[field] == b[field], field
    # the warnings name the file, row and column of the first rejected rows, as DuckDB's do
    assert a["rejected_at"]["unknown technology code"] == [
        f"{path}, row 8, column 'technology'"]
    named = sorted(str(w.message) for w in said_dask if w.category is RejectedRowsWarning)
    assert named == sorted(str(w.message) for w in said_duckdb
                           if w.category is RejectedRowsWarning)


@pytest.mark.slow
@pytest.mark.parametrize("line", [
    "1,130002,A,1012,50,-5,1000,1,R,AL,010010202001000,8844c0a31dfffff",
    "1,130002,A,1012,50,1000,3000000000,1,R,AL,010010202001000,8844c0a31dfffff",
    "1,130002,A,1012,50,1000,1000,300,R,AL,010010202001000,8844c0a31dfffff",
])
def test_dask_stops_at_a_number_out_of_range_like_duckdb(client, tmp_path, line):
    """A number outside its column's range stops every engine with the same error (B21)."""
    from assetmap.bdc.service_dask import aggregate_bdc_dask
    from assetmap.errors import SchemaError

    path = tmp_path / "bdc_01_range.csv"
    path.write_text(_HEADER + "\n".join([*_MESSY[:3], line]) + "\n")
    with pytest.raises(SchemaError) as duckdb_error:
        am.aggregate_bdc(path, engine="duckdb")
    with pytest.raises(SchemaError) as dask_error:
        aggregate_bdc_dask(path, blocksize=None)
    assert str(dask_error.value) == str(duckdb_error.value)
    assert "row 4" in str(dask_error.value)


def _to_object_store(lines: list[str], name: str) -> str:
    """Write rows as Parquet to fsspec's in-memory file system (object storage's stand-in)."""
    import io

    import fsspec

    rows = pd.read_csv(io.StringIO(_HEADER + "\n".join(lines) + "\n"), dtype=str)
    for column in ("technology", "max_advertised_download_speed",
                   "max_advertised_upload_speed", "low_latency"):
        rows[column] = rows[column].astype("float64")
    with fsspec.filesystem("memory").open(f"/{name}/part.parquet", "wb") as handle:
        rows.to_parquet(handle, index=False)
    return f"memory://{name}/part.parquet"


@pytest.mark.slow
def test_dask_on_object_storage_counts_what_it_cannot_locate(client):
    """Files in object storage are not scanned again: counts only, and an error that says
    how many numbers are out of range and how to find them (B38)."""
    from assetmap.bdc.service_dask import aggregate_bdc_dask
    from assetmap.errors import SchemaError

    url = _to_object_store([*_MESSY[:4], _MESSY[7]], "bdc_rejected")
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        got = aggregate_bdc_dask(url, level="tract")
    report = am.get_report(got)
    assert report["rejected"] == {"unknown technology code": 1}
    assert report["rejected_at"] == {"unknown technology code": []}
    assert any(w.category is RejectedRowsWarning and "left out 1 of 5 rows" in str(w.message)
               for w in said)
    url = _to_object_store(
        [*_MESSY[:4], "1,130002,A,1012,50,-5,1000,1,R,AL,010010202001000,8844c0a31dfffff"],
        "bdc_out_of_range")
    with pytest.raises(SchemaError, match=r"1 rows hold a number outside its column's range "
                                           r"\(technology -32,768 to 32,767; .*load_bdc"):
        aggregate_bdc_dask(url, level="tract")


@pytest.mark.slow
def test_dask_rejects_a_block_geoid_with_a_letter_past_the_area_key(client, tmp_path):
    """A block GEOID that is not all ASCII digits rejects its row, as in every engine, also
    when the letter lies past the tract's eleven digits."""
    from assetmap.bdc.service_dask import aggregate_bdc_dask

    path = tmp_path / "bdc_01_geoid.csv"
    path.write_text(_HEADER + "\n".join(
        [_MESSY[0], _MESSY[3], ("1,130002,A,1012,50,1000,1000,1,R,AL,01001020200100x,"
                                "8844c0a31dfffff")])
        + "\n")
    with pytest.warns(RejectedRowsWarning, match="block_geoid is not a 15-digit block GEOID"):
        got = aggregate_bdc_dask(path, blocksize=None)
    with pytest.warns(RejectedRowsWarning):
        want = am.aggregate_bdc(path, engine="duckdb")
    pd.testing.assert_frame_equal(got, want)
    assert am.get_report(got)["rejected"] == am.get_report(want)["rejected"]
    assert am.get_report(got)["rejected"]["block_geoid is not a 15-digit block GEOID"] == 1


@pytest.mark.slow
def test_dask_reads_a_row_without_an_h3_cell_like_duckdb(client, tmp_path):
    """A row with an empty H3 cell at level="h3" (was a raw TypeError in the H3 repair)."""
    from assetmap.bdc.service_dask import aggregate_bdc_dask

    path = tmp_path / "bdc_01_h3.csv"
    path.write_text(_HEADER + "\n".join(
        [_MESSY[0], _MESSY[3], "1,130002,A,1001,40,100,20,1,R,AL,010010201001000,"]) + "\n")
    got = aggregate_bdc_dask(path, level="h3", blocksize=None)
    want = am.aggregate_bdc(path, level="h3", engine="duckdb")
    pd.testing.assert_frame_equal(got, want)
    assert got["locations"].tolist() == [2]
