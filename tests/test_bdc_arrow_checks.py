"""The pyarrow checks of clean BDC files give exactly the rows and codes of the DuckDB SQL.

``load_bdc`` checks files that pyarrow parsed with pyarrow compute
(:func:`assetmap.bdc._arrow.checked_table`) and everything else with DuckDB
(:func:`assetmap.bdc._engine.checked_sql`). Both must select the same rows, in the
same order, repair the same block GEOIDs and give each row the same check code.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from assetmap.errors import RejectedRowsWarning
from assetmap.bdc import _engine as eng
from assetmap.bdc._arrow import checked_table

GEOIDS = ["481350001001000", "48135000100100", "60372073011000", "060372073011000",
          "481350019001", "4813500010010001", "48135A001001000", "٤٨١٣٥٠٠٠١٠٠١٠٠٠",
          "481410001001000", "481350002002000", None]


def _messy_table(seed: int, rows: int = 3000) -> pa.Table:
    """Rows with every kind of value the checks and the selection treat differently."""
    rng = np.random.default_rng(seed)

    def pick(values, p_null=0.03):
        out = [values[i] for i in rng.integers(0, len(values), rows)]
        return [None if rng.random() < p_null else v for v in out]

    columns = {
        "frn": pick(["0001", "0002"]),
        "provider_id": pick(["130001", "130002", "130003"]),
        "brand_name": pick(["Fiber, Inc.", "Cable Co", "Sky"]),
        "location_id": pick(["1001", "1002", "1003", "1004"]),
        "technology": pick([0, 10, 40, 50, 60, 61, 70, 71, 72, 99, -1]),
        "max_advertised_download_speed": pick([0, 25, 100, 1000, -5]),
        "max_advertised_upload_speed": pick([0, 3, 20, 100, -1]),
        "low_latency": pick([0, 1, 2]),
        "business_residential_code": pick(["R", "B", "X", "r"]),
        "state_usps": pick(["TX", "CA", "tx"]),
        "block_geoid": pick(GEOIDS, p_null=0.0),
        "h3_res8_id": pick(["8848a2d8c9fffff", "8829a1d8c9fffff"]),
    }
    types = {"technology": pa.int16(), "max_advertised_download_speed": pa.int32(),
             "max_advertised_upload_speed": pa.int32(), "low_latency": pa.int8()}
    return pa.table({c: pa.array(v, types.get(c, pa.string())) for c, v in columns.items()})


SELECTIONS = [
    {},
    {"codes": ("R", "X")},
    {"counties": ["48135"], "codes": ("R", "X")},
    {"counties": ["06037", "48141"]},
    {"states": ["TX"]},
    {"states": ["CA", "Texas"], "technologies": [50, 40]},
    {"tracts": ["48135000100"]},
    {"tracts": ["06037207301"], "codes": ("R",)},
]


def _duckdb(table: pa.Table, selection: dict) -> pa.Table:
    cols = ", ".join(eng.BDC_COLUMNS)
    rows = table.append_column("_row", pa.array(np.arange(table.num_rows)))
    with eng.connect(threads=1) as con:
        con.register("t", rows)
        sql = eng.checked_sql(f"SELECT {cols}, _row FROM t", eng.row_filter(**selection))
        return con.sql(f"SELECT {cols}, _check FROM ({sql}) ORDER BY _row").to_arrow_table()


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("selection", SELECTIONS, ids=lambda s: "-".join(s) or "all")
def test_arrow_checks_equal_the_sql_checks(seed, selection):
    table = _messy_table(seed)
    expected = _duckdb(table, selection)
    got = checked_table([table], eng.row_selection(**selection))
    assert got.column_names == [*eng.BDC_COLUMNS, "_check", "_hash"]
    assert expected.num_rows > 0
    for name in [*eng.BDC_COLUMNS, "_check"]:
        assert got.column(name).to_pylist() == expected.column(name).to_pylist(), name


def test_every_check_code_occurs_in_the_messy_rows():
    codes = set(checked_table([_messy_table(1)], {}).column("_check").to_pylist())
    assert codes == {0, 1, *eng.REJECT_REASONS}


def test_files_are_checked_together_in_file_order():
    first, second = _messy_table(1, rows=500), _messy_table(2, rows=700)
    together = checked_table([first, second], eng.row_selection(codes=("R",)))
    one_by_one = [checked_table([t], eng.row_selection(codes=("R",))) for t in (first, second)]
    for name in eng.BDC_COLUMNS:
        assert together.column(name).to_pylist() == (
            one_by_one[0].column(name).to_pylist() + one_by_one[1].column(name).to_pylist())


def test_exact_duplicates_share_a_key():
    table = _messy_table(3, rows=400)
    table = pa.concat_tables([table, table.slice(100, 50), table.slice(120, 10)])
    got = checked_table([table], {}).drop_columns(["_check"]).to_pandas()
    keys = got.pop("_hash")
    duplicated = got.duplicated(keep=False).to_numpy()
    assert duplicated.any()
    for _, group in got[duplicated].groupby(list(got.columns), dropna=False):
        assert keys[group.index].nunique() == 1


def test_rows_sharing_a_key_but_not_equal_are_both_kept(tmp_path):
    from assetmap.bdc.read import load_bdc

    row = "1,130001,Fiber,{loc},50,1000,1000,1,R,TX,481350001001000,8848a2d8c9fffff\n"
    f = tmp_path / "bdc_48_Fiber.csv"
    f.write_text(",".join(eng.BDC_COLUMNS) + "\n"
                 + row.format(loc="007") + row.format(loc="7") + row.format(loc="7"))
    with pytest.warns(RejectedRowsWarning, match="left out 1 of 3 rows: exact duplicate"):
        rows = load_bdc(f)
    assert rows["location_id"].tolist() == ["007", "7"]  # "007" and 7 hash alike
