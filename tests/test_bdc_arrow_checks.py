"""The pyarrow checks of clean BDC files give exactly the codes of the DuckDB SQL, row for row.

``load_bdc`` checks files that pyarrow parsed with pyarrow compute
(:func:`assetmap.bdc._arrow.checked_table`) and everything else with DuckDB
(:func:`assetmap.bdc._checks.checked_sql`). Both check every row before any filter, repair
the same block GEOIDs and letter codes, and give each row the same check code (kept,
repaired, rejected with a reason, or left out by a filter) and the same repair bits.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

import assetmap as am
from assetmap.bdc import _checks as checks  # internal: the per-row check codes load_bdc drops
from assetmap.bdc import _engine as eng  # internal: the DuckDB SQL path, to compare row for row
from assetmap.bdc._arrow import (  # internal: the pyarrow path load_bdc picks on its own
    checked_table,
    duplicate_keys,
)
from assetmap.errors import RejectedRowsWarning

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
        "provider_id": pick(["130001", "130002", "130003", "", "  ", "\t"]),
        "brand_name": pick(["Fiber, Inc.", "Cable Co", "Sky"]),
        "location_id": pick(["1001", "1002", "1003", "1004", " ", ""]),
        "technology": pick([0.0, 10.0, 40.0, 50.0, 60.0, 61.0, 70.0, 71.0, 72.0, 99.0, -1.0,
                            50.5]),
        "max_advertised_download_speed": pick([0.0, 24.6, 25.0, 99.99, 100.0, 1000.0, -5.0]),
        "max_advertised_upload_speed": pick([0.0, 2.99, 3.0, 20.0, 100.0, -1.0]),
        "low_latency": pick([0.0, 1.0, 2.0, 0.5]),
        "business_residential_code": pick(["R", "B", "X", "r", " x ", "b "]),
        "state_usps": pick(["TX", "CA", "tx", " Tx "]),
        "block_geoid": pick(GEOIDS, p_null=0.0),
        "h3_res8_id": pick(["8848a2d8c9fffff", "8829a1d8c9fffff"]),
    }
    numbers = {"technology", "max_advertised_download_speed", "max_advertised_upload_speed",
               "low_latency"}
    return pa.table({c: pa.array(v, pa.float64() if c in numbers else pa.string())
                     for c, v in columns.items()})


SELECTIONS = [
    {},
    {"codes": ("R", "X")},
    {"counties": ["48135"], "codes": ("R", "X")},
    {"counties": ["06037", "48141"]},
    {"states": ["TX"]},
    {"states": ["CA", "Texas"], "technologies": [50, 40]},
    {"tracts": ["48135000100"]},
    {"tracts": ["06037207301"], "codes": (" r",)},
]


def _duckdb(table: pa.Table, selection: dict) -> pa.Table:
    cols = ", ".join(eng.BDC_COLUMNS)
    rows = table.append_column("_row", pa.array(np.arange(table.num_rows)))
    with eng.connect(threads=1) as con:
        con.register("t", rows)
        sql = eng.checked_sql(f"SELECT {cols}, FALSE AS _fixed, _row FROM t",
                              selection=eng.row_selection(**selection), letters=True)
        return con.sql(f"SELECT {cols}, _check, _fix FROM ({sql}) ORDER BY _row").to_arrow_table()


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("selection", SELECTIONS, ids=lambda s: "-".join(s) or "all")
def test_arrow_checks_equal_the_sql_checks(seed, selection):
    table = _messy_table(seed)
    expected = _duckdb(table, selection)
    got = checked_table([table], eng.row_selection(**selection), letters=True)
    assert got.column_names == [*eng.BDC_COLUMNS, "_check", "_fix", "_file", "_row"]
    assert got.num_rows == expected.num_rows == table.num_rows  # every row, before filters
    check = np.asarray(got.column("_check"))
    assert check.tolist() == expected.column("_check").to_pylist()
    passed = (check <= 1) | (check >= checks.FIRST_FILTER_CODE)
    repaired = (check == 1) | ((check >= checks.FIRST_FILTER_CODE) & (check % 2 == 1))
    fix = np.asarray(got.column("_fix"))
    assert fix[repaired].tolist() == np.asarray(expected.column("_fix"))[repaired].tolist()
    assert (fix[repaired] > 0).all()
    assert (fix[passed & ~repaired] == 0).all()
    for name in eng.BDC_COLUMNS:  # codes of rejected rows are not used: compare the others
        mine = np.asarray(got.column(name).to_pylist(), dtype=object)[passed]
        theirs = np.asarray(expected.column(name).to_pylist(), dtype=object)[passed]
        assert mine.tolist() == theirs.tolist(), name


def test_every_code_occurs_in_the_messy_rows():
    selection = eng.row_selection(states=["TX"], counties=["48135"], codes=["R"],
                                  technologies=[50, 40])
    codes = set(checked_table([_messy_table(1)], selection, letters=True).column("_check")
                .to_pylist())
    kept, rejected = {0, 1}, set(checks.REJECT_REASONS)
    filtered = {checks.FIRST_FILTER_CODE + i for i in range(2 * len(checks.FILTERS))}
    assert codes == kept | rejected | filtered


def test_files_are_checked_together_in_file_order():
    first, second = _messy_table(1, rows=500), _messy_table(2, rows=700)
    selection = eng.row_selection(codes=("R",))
    together = checked_table([first, second], selection)
    one_by_one = [checked_table([t], selection) for t in (first, second)]
    for name in [*eng.BDC_COLUMNS, "_check", "_row"]:
        assert together.column(name).to_pylist() == (
            one_by_one[0].column(name).to_pylist() + one_by_one[1].column(name).to_pylist())
    assert together.column("_file").to_pylist() == [0] * 500 + [1] * 700


def test_exact_duplicates_share_a_key():
    table = _messy_table(3, rows=400)
    table = pa.concat_tables([table, table.slice(100, 50), table.slice(120, 10)])
    got = checked_table([table], {}).drop_columns(["_check", "_fix", "_file", "_row"])
    keys = duplicate_keys(got)
    frame = got.to_pandas()
    duplicated = frame.duplicated(keep=False).to_numpy()
    assert duplicated.any()
    for _, group in frame[duplicated].groupby(list(frame.columns), dropna=False):
        assert len(set(keys[group.index])) == 1


def test_rows_sharing_a_key_but_not_equal_are_both_kept(tmp_path):
    row = "1,130001,Fiber,{loc},50,1000,1000,1,R,TX,481350001001000,8848a2d8c9fffff\n"
    f = tmp_path / "bdc_48_Fiber.csv"
    f.write_text(",".join(eng.BDC_COLUMNS) + "\n"
                 + row.format(loc="007") + row.format(loc="7") + row.format(loc="7"))
    with pytest.warns(RejectedRowsWarning, match="left out 1 of 3 rows: exact duplicate"):
        rows = am.load_bdc(f)
    assert rows["location_id"].tolist() == ["007", "7"]  # "007" and 7 hash alike
