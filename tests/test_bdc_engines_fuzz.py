"""Property-based fuzzing of the BDC engines: a damaged line gives the same answer in each.

Hypothesis writes a small valid availability file (LF or CRLF line ends), then damages it:
a field replaced by hostile text (a letter in a GEOID, a space, a non-ASCII digit, a
number as words, an empty value), a character inserted, or the file cut short. Every engine
must then agree: :func:`assetmap.load_bdc` followed by :func:`assetmap.service_by_area`,
:func:`assetmap.aggregate_bdc` on DuckDB and on the fast engine (when installed) all raise an
:class:`~assetmap.errors.AssetmapError` naming the file, or all count the same locations per
area and reject the same number of rows. Any other exception fails. The examples are
derandomised, so CI runs the same cases every time.
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import assetmap as am
from assetmap.errors import AssetmapError
from tests.bdc_fixtures import HEADER, csv_text, offer

pytestmark = pytest.mark.slow

FUZZ = settings(max_examples=40, deadline=20_000, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
ENGINES = ["duckdb", *(["numba"] if importlib.util.find_spec("numba") else [])]
BLOCKS = ["481350001001000", "481350001002000", "481350002001000", "481350003001001"]
HOSTILE = ["", " ", "x", "\t", "-5", "1e20", "3.5", "NaN", "inf", "+7", "0x10", " 12 ",
           "99999999999999999999", "\u00e9", "\uff10", '""', "NULL", "fifty"]


def _rows() -> list[dict[str, str]]:
    techs = [10, 40, 50, 60, 61, 70, 71, 72]
    return [offer(str(1_000_000_000 + i), techs[i % len(techs)], [0, 10, 24.6, 100, 1000][i % 5],
                  [0, 1, 3, 20, 100][(i * 3) % 5], ll=i % 2, provider=f"13000{i % 3}",
                  code="RBX"[i % 3], block=BLOCKS[i % 4], brand=["Cable, Inc.", "Plain"][i % 2])
            for i in range(24)]


@st.composite
def damaged(draw) -> bytes:
    """A valid file with one damage: a field replaced, a character inserted, or a cut."""
    lines = csv_text(_rows()).splitlines()
    kind = draw(st.sampled_from(["field", "field", "insert", "cut"]))
    if kind == "field":
        row = draw(st.integers(1, len(lines) - 1))
        fields = lines[row].split(",")
        at = draw(st.integers(0, len(fields) - 1))
        fields[at] = draw(st.sampled_from(HOSTILE)) if draw(st.booleans()) else (
            fields[at][:-1] + draw(st.sampled_from(["x", " ", "\u00e9", "\uff10"])))
        lines[row] = ",".join(fields)
    text = "\n".join(lines) + "\n"
    if kind == "insert":
        at = draw(st.integers(len(lines[0]) + 1, len(text) - 1))
        text = text[:at] + draw(st.sampled_from([",", '"', " ", "x", "\u00e9"])) + text[at:]
    elif kind == "cut":
        text = text[:draw(st.integers(len(lines[0]) + 1, len(text) - 1))]
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    return text.encode()


def _outcome(read, path: Path):
    """(areas, rejected rows), or the error: whether it names the file (else its text)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out, report = read(path)
    except AssetmapError as exc:
        return "error naming the file" if path.name in str(exc) else f"error: {exc}"
    areas = out[["GEOID", "locations", "unserved", "underserved", "served", "providers"]]
    return areas.reset_index(drop=True), sum(report["rejected"].values())


def _frame_path(path: Path):
    rows = am.load_bdc(path)
    return am.service_by_area(rows), am.get_report(rows)


def _files_path(engine: str):
    def read(path: Path):
        out = am.aggregate_bdc(path, engine=engine)
        report = am.get_report(out)
        key_rejects = sum(n for reason, n in report["rejected"].items() if "(locations)" in reason)
        return out, {"rejected": {"rows": sum(report["rejected"].values()) - key_rejects}}
    return read


@FUZZ
@given(data=damaged())
def test_every_engine_gives_the_same_answer_on_a_damaged_line(tmp_path: Path, data: bytes):
    path = tmp_path / "bdc_48_Fiber.csv"
    path.write_bytes(data)
    want = _outcome(_frame_path, path)
    for engine in ENGINES:
        got = _outcome(_files_path(engine), path)
        if isinstance(want, str) or isinstance(got, str):
            assert got == want == "error naming the file", (engine, data)
            continue
        pd.testing.assert_frame_equal(got[0], want[0], check_dtype=False, obj=engine)
        assert got[1] == want[1], (engine, data)


def test_the_damage_keeps_the_header():
    """The strategy damages rows only: the header stays the BDC header."""
    assert csv_text(_rows()).splitlines()[0] == ",".join(HEADER)
