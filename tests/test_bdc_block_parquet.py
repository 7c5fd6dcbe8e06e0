"""Without numba, ``aggregate_bdc(engine="auto")`` reads bdc_to_parquet output with NumPy.

The NumPy path for Parquet ordered by block and location loads no compiled code, so it runs
with or without the ``fast`` extra. These tests hide numba from the import system, then
require the DuckDB engine's result without DuckDB being connected to, and DuckDB for any
input the NumPy path does not take.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

import assetmap as am
from assetmap.bdc import _engine as eng
from tests.bdc_fixtures import synthetic

__all__ = ["synthetic"]  # a fixture


@pytest.fixture
def no_numba(monkeypatch):
    """numba cannot be imported (as without the ``fast`` extra)."""
    monkeypatch.setitem(sys.modules, "numba", None)
    from assetmap.bdc.fast import engine as fast

    assert not fast.available()


@pytest.fixture
def duckdb_calls(monkeypatch):
    """Count the DuckDB connections aggregate_bdc opens."""
    calls: list[int] = []
    connect = eng.connect

    def counted(**kw):
        calls.append(1)
        return connect(**kw)

    monkeypatch.setattr(eng, "connect", counted)
    return calls


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    a = a.sort_values(a.columns[0]).reset_index(drop=True)
    b = b.sort_values(b.columns[0]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_dtype=False)


@pytest.mark.parametrize("level", ["tract", "block_group", "county"])
@pytest.mark.parametrize("rules", ["bead", "bead_2025"])
def test_block_ordered_parquet_needs_no_numba_nor_duckdb(synthetic, no_numba, duckdb_calls,
                                                         level, rules):
    folder = synthetic["parquet"][0]
    auto = am.aggregate_bdc(folder, level=level, rules=rules)
    assert not duckdb_calls  # the NumPy path read every state
    duck = am.aggregate_bdc(folder, level=level, rules=rules, engine="duckdb")
    assert duckdb_calls
    _same(auto, duck)
    assert am.get_report(auto)["checks"] == am.get_report(duck)["checks"]
    assert am.get_report(auto)["rows_read"] == am.get_report(duck)["rows_read"] > 0


@pytest.mark.parametrize("kw", [{"level": "h3"}, {"counties": ["48135"]},
                                {"states": ["TX"]}])
def test_what_the_numpy_path_does_not_take_goes_to_duckdb(synthetic, no_numba, duckdb_calls,
                                                         kw):
    folder = synthetic["parquet"][0]
    auto = am.aggregate_bdc(folder, **kw)
    assert duckdb_calls
    _same(auto, am.aggregate_bdc(folder, engine="duckdb", **kw))


def test_csv_without_numba_goes_to_duckdb(synthetic, no_numba, duckdb_calls):
    files = synthetic["csv"]
    auto = am.aggregate_bdc(files)
    assert duckdb_calls
    _same(auto, am.aggregate_bdc(files, engine="duckdb"))


def test_engine_numba_without_numba_says_how_to_install(synthetic, no_numba):
    with pytest.raises(ImportError, match="assetmap\\[fast\\]"):
        am.aggregate_bdc(synthetic["parquet"][0], engine="numba")


def test_a_fresh_process_without_numba_imports_none_of_it(synthetic, tmp_path):
    """In a process where numba was never imported, the NumPy path imports none of it."""
    script = f"""
import json, sys
sys.modules["numba"] = None  # as without the fast extra: `import numba` fails
import assetmap as am
auto = am.aggregate_bdc({str(synthetic["parquet"][0])!r})
fast = [m for m in sys.modules if m.startswith("assetmap.bdc.fast.")]
print(json.dumps({{"served": int(auto["served"].sum()), "modules": fast}}))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True, cwd=tmp_path)
    out = json.loads(done.stdout.strip().splitlines()[-1])
    duck = am.aggregate_bdc(synthetic["parquet"][0], engine="duckdb")
    assert out["served"] == int(duck["served"].sum()) > 0
    assert "assetmap.bdc.fast.sorted_numpy" in out["modules"]
    assert not {"assetmap.bdc.fast.columns", "assetmap.bdc.fast.kernels",
                "assetmap.bdc.fast.sorted_kernel"} & set(out["modules"])
