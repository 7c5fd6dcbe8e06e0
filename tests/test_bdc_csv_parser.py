"""The fast engine's CSV parser (``_bdc_csv.parse_csv``) against an independent reading.

Every line it keeps must give the values Python's ``csv`` module gives; every line it may not
take as is must stop it (the state then goes to the DuckDB engine).
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest

from tests.bdc_fixtures import csv_text, offer

pytest.importorskip("numba", reason="the fast engine needs the optional numba (extra 'fast')")

from assetmap.bdc.fast import (
    engine as _bdc_fast,  # internal: the numba engine's availability, chunking and parser
)

# offer bits, written out from docs (design.md): technology bit, 25/3 = 128, 100/20 = 256
TECH = {0: 64, 10: 1, 40: 2, 50: 4, 71: 8, 72: 8, 70: 16, 60: 32, 61: 32}
BEAD = {"reliable_technologies": [10, 40, 50, 71, 72], "low_latency_required": True,
        "served": [100, 20], "underserved": [25, 3]}
CUSTOM = {"reliable_technologies": [50, 70, 71], "low_latency_required": False,
          "served": [99.5, 20], "underserved": [24.6, 2.5]}
DIV = {"tract": 10**4, "block_group": 10**3, "county": 10**10}


def expected(text: str, level: str, rules=BEAD) -> list[tuple[int, int, int, int]]:
    """(location key, provider key, area, bits) of every row, read with the csv module."""
    out = []
    for r in csv.reader(io.StringIO(text)):
        _, prov, _, loc, tech, down, up, ll, _, _, geoid, h3 = r
        bits = TECH[int(tech)]
        if int(tech) in rules["reliable_technologies"] and (
                ll == "1" or not rules["low_latency_required"]):
            (ud, uu), (sd, su) = rules["underserved"], rules["served"]
            bits |= 128 if int(down) >= ud and int(up) >= uu else 0
            bits |= 256 if int(down) >= sd and int(up) >= su else 0
        area = int(h3, 16) if level == "h3" else int(geoid) // DIV[level]
        out.append((int(loc) * 32 + len(loc), int(prov) * 32 + len(prov), area, bits))
    return sorted(out)


def parse(data: bytes, level: str = "tract", parts: int = 2, rules=None):
    """Rows the parser keeps (sorted), or None when it stops at a line."""
    buf = {"loc": np.empty((parts, 1), np.int64), "prov": np.empty((parts, 1), np.int64),
           "area": np.empty((parts, 1), np.int64), "bits": np.empty((parts, 1), np.int16),
           "counts": np.zeros(parts, np.int64), "bytes": np.empty(0, np.uint8)}
    try:
        tally = _bdc_fast._parse(("csv", np.frombuffer(data, dtype=np.uint8)), buf,
                                 sel=_bdc_fast.selection(level, rules=rules), parts=parts)
    except _bdc_fast._Fallback:
        return None
    rows, seen = [], {}
    for p in range(parts):
        for k in range(int(buf["counts"][p])):
            loc = int(buf["loc"][p, k])
            assert seen.setdefault(loc, p) == p  # a location has one partition
            rows.append((loc, int(buf["prov"][p, k]), int(buf["area"][p, k]),
                         int(buf["bits"][p, k])))
    assert tally.tolist() == [len(rows), 0, 0, 0]  # no selection: every row kept
    return sorted(rows)


def body(rows) -> str:
    return csv_text(rows).split("\n", 1)[1]  # without the header, as the engine parses


def mixed_rows():
    """Plain rows, quoted and long brand names, other widths, speeds of many digits."""
    b = "481350001001000"
    return [
        offer(1000000001, 50, 1000, 1000, provider="130001", block=b),
        offer(1000000002, 40, 300, 20, brand='Cable, "Best" LLC', block=b),  # quoted
        offer(1000000003, 10, 25, 3, brand="A" * 75, block=b),  # past 32 and 64 bytes
        offer(1000000004, 71, 99, 20, brand="", block=b),  # empty brand_name
        offer(1000000005, 60, 100, 20, ll=0, brand="Sat - Net, -Inc"),  # ",-" inside quotes
        offer(1000000006, 70, 123456789, 987654321),  # 9-digit speeds: the careful path
        offer(123, 50, 1000, 1000, provider="17"),  # short ids: a line under 74 bytes
        offer(12345678901234567, 50, 1000, 1000, provider="00000000000000001"),  # 17 digits
        offer(1000000009, 0, 0, 0, frn="12345"),  # technology 0, short frn
        offer(1000000010, 61, 100, 20, code="X", state="T"),  # a one-letter state
        offer(1000000011, 72, 100, 20),
    ]


@pytest.mark.parametrize("level", ["tract", "block_group", "county", "h3"])
def test_kept_rows_match_the_csv_module(level):
    text = body(mixed_rows() * 3)
    assert parse(text.encode(), level) == expected(text, level)


@pytest.mark.parametrize("level", ["tract", "h3"])
def test_offer_bits_follow_the_rule_set_given(level):
    # UFW and LFW 71 reliable (not 72), no latency requirement, fractional thresholds
    text = body([*mixed_rows(), offer(1000000012, 71, 24, 3), offer(1000000013, 70, 25, 2),
                 offer(1000000014, 71, 100, 20, ll=0), offer(1000000015, 72, 1000, 100)] * 2)
    assert parse(text.encode(), level, rules=CUSTOM) == expected(text, level, CUSTOM)
    assert parse(text.encode(), level, rules=CUSTOM) != parse(text.encode(), level)


@pytest.mark.parametrize("cut", range(9))
def test_every_length_and_a_last_line_without_newline(cut):
    # the last line ends at every offset modulo 8 (the parser reads 8 bytes at a time)
    rows = [offer(1000000001 + i, 50, 1000, 1000, brand="B" * (i % 9)) for i in range(30)]
    text = body(rows[:20 + cut])
    assert parse(text.encode()) == expected(text, "tract")
    assert parse(text.rstrip("\n").encode()) == expected(text, "tract")


def test_crlf_lines_are_read_as_the_same_rows():
    text = body(mixed_rows())
    assert parse(text.replace("\n", "\r\n").encode()) == expected(text, "tract")


def test_short_line_before_a_long_one():
    # the newline search starts 74 bytes into a line: a short line must still end at its own
    rows = [offer(1, 50, 1, 1, provider="1", frn="", brand="", h3="8826ea6ed7fffff"),
            offer(1000000002, 50, 1000, 1000, brand="Long Brand Name")]
    text = body(rows)
    assert len(text.split("\n")[0]) < 74
    assert parse(text.encode()) == expected(text, "tract")


GOOD = ("0038318172,130050,Lone Star Cable 7,1000000001,40,1000,35,1,R,TX,482996791754064,"
        "88489614b1fffff")


@pytest.mark.parametrize("line", [
    GOOD.replace("0038318172", '"038318172"'),  # a quoted frn
    GOOD.replace("0038318172", "003831,172"),  # a comma in frn: thirteen fields
    GOOD.replace("Lone Star", 'Lone "Star'),  # a quote inside an unquoted brand_name
    GOOD.replace("Lone Star Cable 7", '"Lone "Star" Cable"'),  # quotes not doubled
    GOOD.replace("Lone Star Cable 7", '"Lone Star Cable 7'),  # no closing quote
    GOOD.replace("Lone Star Cable 7", '"Lone, Star"x'),  # text after the closing quote
    GOOD.replace("Lone Star Cable 7", '"'),  # a lone quote
    GOOD.replace("Lone Star", "Lone\rStar"),  # a CR inside a field
    GOOD.replace(",R,TX,", ",,,TX,"),  # a comma for the code: thirteen fields
    GOOD.replace(",R,TX,", ',R,"T,"'),  # a quoted state
    GOOD.replace("88489614b1fffff", "88489614b1f,fff"),  # a comma in h3_res8_id
    GOOD.replace("88489614b1fffff", '88489614b1"ffff'),  # a quote in h3_res8_id
    GOOD.replace(",1000,35,", ",1000,3x,"),  # a letter in a speed
    GOOD.replace(",1000,35,", ",1000,,"),  # an empty speed
    GOOD.replace(",40,", ",41,"),  # an unknown technology
    GOOD.replace(",1,R,", ",2,R,"),  # low latency 2
    GOOD.replace("482996791754064", "48299679175406"),  # a 14-digit GEOID
    GOOD.replace(",130050,", ",13005a,"),  # a letter in provider_id
    GOOD.replace(",1000000001,", ",100000000a,"),  # a letter in location_id
    GOOD + ",extra",  # thirteen fields
    "",  # an empty line
])
def test_a_line_the_parser_may_not_take_stops_it(line):
    ok = "\n".join([GOOD.replace("1000000001", str(1000000002 + i)) for i in range(5)])
    assert parse((ok + "\n").encode()) is not None
    for where in (0, 2, 5):  # first, middle, last line
        lines = ok.split("\n")
        lines.insert(where, line)
        assert parse(("\n".join(lines) + "\n").encode()) is None, (where, line)


@pytest.mark.parametrize("brand", [
    '""', '"A, ""B"", C"', '"' + "x, " * 30 + '"', '"Tab\tinside, LLC"', "Tab\there",
])
def test_quoted_brand_names_the_parser_takes(brand):
    text = "\n".join(GOOD.replace("Lone Star Cable 7", brand).replace("01,", f"{i:02d},", 1)
                     for i in range(3)) + "\n"
    assert parse(text.encode()) == expected(text, "tract")


def test_h3_must_be_lowercase_hex_at_the_h3_level():
    upper = GOOD.replace("88489614b1fffff", "88489614B1FFFFF")
    assert parse((upper + "\n").encode(), "tract") is not None  # not read at other levels
    assert parse((upper + "\n").encode(), "h3") is None


def test_lines_across_piece_boundaries_give_the_duckdb_result(tmp_path, monkeypatch):
    import assetmap as am

    rows = [offer(1000000000 + i, (50, 40, 10)[i % 3], 100 * (i % 7), 20,
                  brand=f'Brand {i % 13}, "X"' if i % 5 == 0 else f"Brand {i % 13}",
                  block=f"48135{i % 4:06d}1{i % 10:03d}") for i in range(3000)]
    path = tmp_path / "bdc_48_a.csv"
    path.write_text(csv_text(rows))
    monkeypatch.setattr(_bdc_fast, "CHUNK", 4093)  # many pieces, cut mid-line then aligned
    assert len(_bdc_fast._csv_units(path)) > 20
    fast = am.aggregate_bdc(path, engine="numba")
    slow = am.aggregate_bdc(path, engine="duckdb")
    pd.testing.assert_frame_equal(fast, slow, check_exact=True)
