"""The sorted Parquet path of the fast engine: rows ordered by location (or by block, then
location), folded without a hash table keyed by location, give exactly the DuckDB engine's
result (and fall back when not)."""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import assetmap as am
from assetmap.errors import RepairWarning, SchemaError
from tests.bdc_fixtures import offer, synthetic, write_csv
from tests.test_bdc_fast import FALLBACK, same

__all__ = ["synthetic"]  # a fixture

pytest.importorskip("numba", reason="the fast engine needs the optional numba (extra 'fast')")

SORTED = "row groups ordered by"
BY_ID = "ordered by location_id"
BY_BLOCK = "ordered by block_geoid, location_id"
UNSORTED = "out of order"
ORDER = b"assetmap.bdc_order"


def run(paths, caplog, *, expect_fast=True, **kw):
    """Both engines (as ``test_bdc_fast.both``); also the sorted path's log lines."""
    with caplog.at_level(logging.DEBUG, logger="assetmap.bdc.fast"):
        caplog.clear()
        fast = am.aggregate_bdc(paths, engine="numba", **kw)
        lines = [r.getMessage() for r in caplog.records]
    assert any(FALLBACK in m for m in lines) is not expect_fast, lines
    slow = am.aggregate_bdc(paths, engine="duckdb", **kw)
    return fast, slow, " | ".join(lines)


def table_of(synthetic) -> pa.Table:
    """The converted rows ordered by location_id, without the file's metadata."""
    table = pq.read_table(next(synthetic["parquet"][0].glob("**/*.parquet")))
    return table.replace_schema_metadata(None).sort_by("location_id")


def blocks_of(synthetic) -> pa.Table:
    """The converted rows as written (by block, then location), metadata kept."""
    return pq.read_table(next(synthetic["parquet"][0].glob("**/*.parquet")))


def write(table: pa.Table, folder, **kw):
    target = folder / "pq" / "state_usps=TX"
    target.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, target / "data_0.parquet", **kw)
    return folder / "pq"


def test_bdc_to_parquet_orders_rows_by_block_then_location(synthetic, tmp_path):
    table = blocks_of(synthetic)
    ids = table["location_id"].to_numpy()
    blocks = table["block_geoid"].to_numpy(zero_copy_only=False).astype(np.int64)
    assert ids.dtype == np.int64
    assert len(ids) > 15_000
    step = (np.diff(blocks) > 0) | ((np.diff(blocks) == 0) & (np.diff(ids) >= 0))
    assert step.all()
    meta = table.schema.metadata
    assert meta[ORDER] == b"block_geoid,location_id"
    assert int(meta[b"assetmap.bdc_locations"]) == len(np.unique(ids))
    # the same rows as the CSVs, and as a conversion that keeps the input order
    kept = am.bdc_to_parquet(synthetic["csv"], tmp_path / "asis", by_location=False)
    key = ["location_id", "provider_id", "technology"]
    a = am.load_bdc(synthetic["parquet"][0]).sort_values(key).reset_index(drop=True)
    b = am.load_bdc(kept).sort_values(key).reset_index(drop=True)
    c = am.load_bdc(synthetic["csv"]).sort_values(key).reset_index(drop=True)
    for other in (b, c):
        assert list(a.dtypes) == list(other.dtypes)
        assert a.astype(str).equals(other.astype(str))


@pytest.mark.parametrize("level", ["tract", "block_group", "county", "h3"])
def test_sorted_parquet_agrees_at_every_level(synthetic, caplog, level):
    fast, slow, log = run(synthetic["parquet"], caplog, level=level)
    assert BY_BLOCK in log
    same(fast, slow)
    assert fast.attrs["assetmap"]["rows_read"] > 15_000


@pytest.mark.parametrize("level", ["tract", "block_group", "county"])
def test_large_block_ordered_states_take_the_compiled_fold(synthetic, caplog, monkeypatch,
                                                           level):
    """Past NUMPY_MAX_ROWS rows a state goes to the compiled fold: the same result."""
    from assetmap.bdc.fast import sorted_files, sorted_numpy

    numpy_path = sorted_numpy.aggregate_blocks
    used: list[int] = []
    monkeypatch.setattr(sorted_files, "aggregate_blocks",
                        lambda *a, **k: used.append(1) or numpy_path(*a, **k))
    monkeypatch.setattr(sorted_files, "NUMPY_MAX_ROWS", 0)
    fast, slow, log = run(synthetic["parquet"], caplog, level=level)
    assert BY_BLOCK in log
    assert not used
    same(fast, slow)
    monkeypatch.setattr(sorted_files, "NUMPY_MAX_ROWS", 10**12)
    again, _, _ = run(synthetic["parquet"], caplog, level=level)
    assert used
    same(again, slow)


@pytest.mark.parametrize("selection", [
    {"states": ["TX"]}, {"states": ["OK"]}, {"codes": ["B"]}, {"codes": None},
    {"counties": "pick", "states": ["TX"]}, {"tracts": "pick", "codes": None},
])
def test_sorted_parquet_agrees_on_every_selection(synthetic, caplog, selection):
    area = am.aggregate_bdc(synthetic["csv"], engine="duckdb")
    if "counties" in selection:  # real counties and tracts of the generated data
        selection["counties"] = [area["GEOID"].str[:5].iloc[0], "48001"]
    if "tracts" in selection:
        selection["tracts"] = [*area["GEOID"].iloc[:3], "48001950100"]
    fast, slow, log = run(synthetic["parquet"], caplog, **selection)
    if selection.get("states") != ["OK"]:  # no file of Oklahoma: nothing to fold
        assert BY_BLOCK in log
    same(fast, slow)


@pytest.mark.parametrize("order", ["by_location", "shuffled"])
def test_letter_codes_of_parquet_ignore_case_and_spaces(synthetic, tmp_path, caplog, order):
    table = table_of(synthetic)
    if order == "shuffled":  # not ordered: the hash path
        table = table.take(np.random.default_rng(5).permutation(table.num_rows))
    codes = table["business_residential_code"].to_numpy(zero_copy_only=False)
    written = np.select([codes == "R", codes == "X"], [" r", "x\t"], "b")
    table = table.set_column(table.schema.get_field_index("business_residential_code"),
                             "business_residential_code", pa.array(written))
    path = write(table, tmp_path, row_group_size=5000)
    fast, slow, log = run(path, caplog, codes=["R", "x"])
    assert (BY_ID in log) is (order == "by_location")
    same(fast, slow)
    left_out = int((~np.isin(codes, ["R", "X"])).sum())
    assert left_out > 0
    assert fast.attrs["assetmap"]["filtered"] == {
        "business_residential_code not in ['R', 'X']": left_out}
    assert fast.attrs["assetmap"]["rows_read"] == table.num_rows


SPLIT_RUNS = [("tract", {}), ("h3", {}), ("county", {"codes": None}),
              ("block_group", {"states": ["TX"]})]


@pytest.mark.parametrize(("rows_of", "order", "runs"), [
    (table_of, BY_ID, SPLIT_RUNS[:2]),
    (blocks_of, BY_BLOCK, SPLIT_RUNS),
], ids=["by_location", "by_block"])
def test_locations_split_across_row_groups(synthetic, tmp_path, caplog, rows_of, order, runs):
    table = rows_of(synthetic)
    ids = table["location_id"].to_numpy()
    path = write(table, tmp_path, row_group_size=97)
    meta = pq.ParquetFile(next(path.glob("**/*.parquet"))).metadata
    if order == BY_BLOCK:
        assert meta.metadata[ORDER] == b"block_geoid,location_id"
    cuts = np.cumsum([meta.row_group(g).num_rows for g in range(meta.num_row_groups)])[:-1]
    assert (ids[cuts] == ids[cuts - 1]).sum() > 50  # many locations cross a boundary
    for level, kw in runs:
        fast, slow, log = run(path, caplog, level=level, **kw)
        assert order in log
        assert UNSORTED not in log
        same(fast, slow)


def test_a_location_with_two_blocks_is_ordered_by_location(synthetic, tmp_path, caplog):
    b1, b2, b3 = "481350001001000", "481350002002000", "481350003001000"
    rows = [offer(7, 50, 1000, 1000, block=b3), offer(8, 40, 100, 20, block=b2),
            offer(7, 10, 10, 1, provider="130002", block=b1), offer(9, 70, 100, 20, block=b1),
            offer(8, 60, 25, 3, provider="130003", block=b2)]
    out = am.bdc_to_parquet(write_csv(tmp_path / "bdc_48_x.csv", rows), tmp_path / "pq")
    table = pq.read_table(next(out.glob("**/*.parquet")))
    assert table.schema.metadata[ORDER] == b"location_id"
    assert table["location_id"].to_pylist() == [7, 7, 8, 8, 9]
    for level in ("tract", "h3"):  # location 7 lies in two tracts: the DuckDB engine's rule
        if level == "h3":  # one H3 cell: the fast engine keeps it
            fast, slow, log = run(out, caplog, level=level)
        else:
            with pytest.warns(RepairWarning, match="1 location has rows in more than one"):
                fast, slow, log = run(out, caplog, level=level, expect_fast=False)
        assert BY_ID in log
        same(fast, slow)
    # by hand: location 7 counts in the smallest of its tracts (0001), served by its fiber
    with pytest.warns(RepairWarning, match="in the smallest of its areas"):
        got = am.aggregate_bdc(out, engine="numba").set_index("GEOID")
    assert "48135000300" not in got.index
    assert got.loc["48135000100", "served"] == 1
    assert got.loc["48135000100", "locations"] == 2  # locations 7 and 9
    # its providers count there too: 130001 (its fiber, and location 9's) and 130002
    assert got.loc["48135000100", "providers"] == 2


def _claimed(table: pa.Table, order: np.ndarray) -> pa.Table:
    """The rows in ``order``, the metadata still claiming (block, location) order."""
    return table.take(order).replace_schema_metadata(table.schema.metadata)


def test_block_order_claimed_but_broken_falls_back(synthetic, tmp_path, caplog):
    table = blocks_of(synthetic)
    blocks = table["block_geoid"].to_numpy(zero_copy_only=False)
    n = table.num_rows
    i = 4000 + int(np.flatnonzero(blocks[4000:] != blocks[4000])[0])
    swapped = np.arange(n)
    swapped[[4000, i]] = swapped[[i, 4000]]  # inside one group of 5000
    groups = np.concatenate([np.arange(5000, 10_000), np.arange(5000), np.arange(10_000, n)])
    # a location moved to a later block and the rows re-sorted: in order, but in two runs
    ids = table["location_id"].to_numpy()
    moved = table.set_column(table.schema.get_field_index("block_geoid"), "block_geoid",
                             pa.array(np.where(np.arange(n) == int(np.flatnonzero(
                                 ids == ids[3000])[0]), "489999999999999", blocks)))
    moved = moved.sort_by([("block_geoid", "ascending"), ("location_id", "ascending")])
    assert (moved["location_id"].to_numpy() == ids[3000]).sum() > 1
    miscounted = dict(table.schema.metadata)  # in order, one location more than counted
    miscounted[b"assetmap.bdc_locations"] = str(len(np.unique(ids)) - 1).encode()
    cases = [_claimed(table, swapped), _claimed(table, groups),
             table.replace_schema_metadata(miscounted),
             moved.replace_schema_metadata(table.schema.metadata)]
    for k, case in enumerate(cases):
        path = write(case, tmp_path / str(k), row_group_size=5000)
        assert pq.ParquetFile(next(path.glob("**/*.parquet"))).metadata.metadata[ORDER] == \
            b"block_geoid,location_id"
        if k < 3:
            fast, slow, log = run(path, caplog, level="tract")
        else:  # the moved location lies in two tracts: the DuckDB engine's rule, and a warning
            with pytest.warns(RepairWarning, match="1 location has rows in more than one"):
                fast, slow, log = run(path, caplog, level="tract", expect_fast=False)
        assert BY_BLOCK in log
        assert UNSORTED in log
        same(fast, slow)  # the moved location (two blocks): both follow the DuckDB rule


def test_one_location_over_many_row_groups_by_hand(tmp_path, caplog):
    b1, b2 = "481350001001000", "481350002002000"
    rows = [offer(7, 50, 1000, 1000, provider=f"13{k:04d}", block=b1) for k in range(9)]
    rows += [offer(7, 60, 100, 20, ll=0, provider="130099", block=b1)]
    rows += [offer(8, 40, 100, 19, provider="130001", block=b2),
             offer(9, 70, 100, 20, provider="130002", block=b2)]
    table = pa.table({k: [r[k] for r in rows] for k in rows[0] if k != "state_usps"})
    table = table.set_column(3, "location_id", pa.array([int(r["location_id"]) for r in rows]))
    for col, typ in (("technology", pa.int16()), ("max_advertised_download_speed", pa.int32()),
                     ("max_advertised_upload_speed", pa.int32()), ("low_latency", pa.int8())):
        i = table.schema.get_field_index(col)
        table = table.set_column(i, col, table[col].cast(typ))
    path = write(table, tmp_path, row_group_size=2)  # location 7 spans five row groups
    fast, slow, log = run(path, caplog, expect_fast=True)
    assert SORTED in log
    same(fast, slow)
    t1, t2 = fast.set_index("GEOID").loc[["48135000100", "48135000200"]].itertuples()
    # location 7: fiber 1000/1000 from nine providers (all at 100/20) and satellite
    assert (t1.locations, t1.served, t1.providers, t1.providers_100_20) == (1, 1, 10, 9.0)
    # location 8: cable 100/19 (underserved); 9: unlicensed fixed wireless only (unserved)
    assert (t2.locations, t2.underserved, t2.unserved, t2.unlicensed_fw_only) == (2, 1, 1, 1)


def test_unsorted_parquet_takes_the_hash_path(synthetic, tmp_path, caplog):
    table = table_of(synthetic)
    order = np.random.default_rng(5).permutation(table.num_rows)
    path = write(table.take(order), tmp_path, row_group_size=4000)
    fast, slow, log = run(path, caplog, level="block_group")
    assert SORTED not in log
    same(fast, slow)


def test_a_row_group_out_of_order_inside_falls_back_to_the_hash_path(synthetic, tmp_path, caplog):
    table = table_of(synthetic)
    ids = table["location_id"].to_numpy()
    i = 4000 + int(np.flatnonzero(ids[4000:] != ids[4000])[0])  # two different ids
    order = np.arange(table.num_rows)
    order[[4000, i]] = order[[i, 4000]]  # same group of 5000: its min and max unchanged
    path = write(table.take(order), tmp_path, row_group_size=5000)
    fast, slow, log = run(path, caplog)
    assert BY_ID in log
    assert UNSORTED in log
    same(fast, slow)


def test_text_location_ids_take_the_hash_path(synthetic, tmp_path, caplog):
    table = table_of(synthetic)
    i = table.schema.get_field_index("location_id")
    table = table.set_column(i, "location_id", table["location_id"].cast(pa.string()))
    path = write(table, tmp_path, row_group_size=5000)
    fast, slow, log = run(path, caplog, level="county")
    assert SORTED not in log
    same(fast, slow)


@pytest.mark.parametrize(("column", "value"), [
    ("block_geoid", "48A350001001000"), ("provider_id", "p-7"), ("h3_res8_id", "8848A2D8C9FFFFF"),
])
def test_a_bad_text_value_sends_the_state_to_duckdb(synthetic, tmp_path, caplog, column, value):
    table = table_of(synthetic)
    values = table[column].to_pylist()
    values[777] = value
    table = table.set_column(table.schema.get_field_index(column), column, pa.array(values))
    path = write(table, tmp_path, row_group_size=3000)
    level = "h3" if column == "h3_res8_id" else "tract"

    def agg(engine):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            try:
                out = am.aggregate_bdc(path, engine=engine, level=level)
            except SchemaError as exc:
                return str(exc), [str(w.message) for w in seen]
        return out, [str(w.message) for w in seen]

    with caplog.at_level(logging.INFO, logger="assetmap.bdc.fast.engine"):
        caplog.clear()
        fast, fast_warnings = agg("numba")
    assert any(FALLBACK in r.getMessage() for r in caplog.records)
    slow, slow_warnings = agg("duckdb")
    assert fast_warnings == slow_warnings
    if isinstance(fast, str):
        assert fast == slow
    else:
        same(fast, slow)


@pytest.mark.parametrize("ordered", [False, True])
@pytest.mark.parametrize("dictionary", [True, False])
@pytest.mark.parametrize("version", ["1.0", "2.0"])
@pytest.mark.parametrize("compression", ["zstd", "snappy", "none"])
def test_page_decoder_reads_what_pyarrow_reads(tmp_path, dictionary, version, compression,
                                               ordered):
    from assetmap.bdc.fast.pages import text_column  # internal: the Parquet page decoder

    rng = np.random.default_rng(11)
    blocks = [f"48{c:03d}{t:06d}{b:04d}" for c, t, b in
              zip(rng.integers(1, 507, 3000), rng.integers(100, 990_000, 3000),
                  rng.integers(1000, 5000, 3000), strict=True)]
    blocks = [blocks[i] for i in rng.integers(0, 3000, 20_000)]
    if ordered:  # long runs of one block (the decoder parses a value once per run)
        blocks.sort()
        blocks[7:9] = ["4800100010010x0"] * 2  # a bad value twice, inside a run
        blocks[9] = blocks[9][:14]  # 14 characters, then the run goes on
    blocks[5] = "4800100010010x0"  # not digits: -1
    cells = [f"88{x:013x}" for x in rng.integers(0, 16**13, 20_000)]
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"block_geoid": blocks, "h3_res8_id": cells}), path,
                   use_dictionary=dictionary, data_page_version=version,
                   compression=compression, data_page_size=16_000, row_group_size=12_000)
    meta = pq.ParquetFile(path).metadata
    got_g, got_a, got_h = [], [], []
    for g in range(meta.num_row_groups):
        rg = meta.row_group(g)
        v, a = text_column(path, rg.column(0), 1, rg.num_rows, "geoid", 11)
        got_g.append(v)
        got_a.append(a)
        got_h.append(text_column(path, rg.column(1), 1, rg.num_rows, "h3")[0])
    want = np.array([int(b) if b.isdigit() and len(b) == 15 else -1 for b in blocks])
    assert (np.concatenate(got_g) == want).all()
    assert (np.concatenate(got_a) == np.where(want >= 0, want // 10**4, -1)).all()
    assert (np.concatenate(got_h) == np.array([int(c, 16) for c in cells])).all()


def test_page_decoder_refuses_nulls(tmp_path):
    from assetmap.bdc.fast.pages import Unsupported, text_column  # internal: page decoder

    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"block_geoid": ["481350001001000", None] * 50}), path)
    rg = pq.ParquetFile(path).metadata.row_group(0)
    with pytest.raises(Unsupported):
        text_column(path, rg.column(0), 1, rg.num_rows, "geoid", 11)


@pytest.mark.parametrize("seed", range(6))
def test_damaged_block_geoid_pages_never_crash_the_fast_engine(synthetic, tmp_path, seed):
    """Bytes overwritten inside the block_geoid column chunk (page headers and data): the
    fast engine's page decoder gives way to pyarrow, and the outcome is the DuckDB
    engine's (the same table, or the same kind of error)."""
    source = next(synthetic["parquet"][0].glob("**/*.parquet"))
    meta = pq.ParquetFile(source).metadata
    names = [meta.schema.column(i).name for i in range(meta.num_columns)]
    chunk = meta.row_group(0).column(names.index("block_geoid"))
    start = chunk.dictionary_page_offset or chunk.data_page_offset
    raw = bytearray(source.read_bytes())
    rng = np.random.default_rng(seed)
    at = start + rng.integers(0, min(64, chunk.total_compressed_size), size=3)
    for i in at:
        raw[int(i)] = int(rng.integers(0, 256))
    target = tmp_path / "pq" / "state_usps=TX"
    target.mkdir(parents=True)
    (target / "data_0.parquet").write_bytes(bytes(raw))
    outcomes = []
    for engine in ("numba", "duckdb"):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                outcomes.append(am.aggregate_bdc(tmp_path / "pq", engine=engine))
        except (SchemaError, OSError, ValueError) as exc:  # the reader's own error
            outcomes.append(type(exc))
    fast, slow = outcomes
    if isinstance(slow, type):
        assert fast is slow
        with pytest.raises(slow, match=r"data_0\.parquet"):  # the loader names the file too
            am.load_bdc(tmp_path / "pq")
    else:
        same(fast, slow)
