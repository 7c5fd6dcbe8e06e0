"""The fast engine takes the BEAD rule set as data: any rule set, the same counts as DuckDB.

Each case runs under ``"bead"`` and a custom set (fiber and unlicensed fixed wireless
reliable, no latency requirement, served at 50/10, underserved at 24.6/1) through
``aggregate_bdc(engine="numba")`` on CSV, on :func:`assetmap.bdc_to_parquet` output (the
sorted path) and on shuffled Parquet (the hash path), and compares with ``engine="duckdb"``
and with a recomputation in plain Python from the rows, written from the definition
(docs/methods.md): per offer, a reliable technology (and low latency when required) whose
download and upload both reach a threshold, fractions compared as they are.
"""

from __future__ import annotations

import csv
import logging
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import assetmap as am
from tests.bdc_fixtures import offer, synthetic, write_csv
from tests.test_bdc_fast import FALLBACK, same

__all__ = ["synthetic"]  # a fixture

pytest.importorskip("numba", reason="the fast engine needs the optional numba (extra 'fast')")

from assetmap.bdc.fast import (
    engine as _bdc_fast,  # internal: the numba engine's availability, chunking and parser
)

BEAD = {"reliable_technologies": [10, 40, 50, 71, 72], "low_latency_required": True,
        "served": [100, 20], "underserved": [25, 3]}
CUSTOM = {"name": "custom", "reliable_technologies": [50, 70], "low_latency_required": False,
          "served": [50, 10], "underserved": [24.6, 1]}
RULES = {"bead": BEAD, "custom": CUSTOM}
# technology groups, written out from docs/methods.md (not read from the library)
GROUP = {0: "other", 10: "copper", 40: "cable", 50: "fiber", 71: "licensed_fw",
         72: "licensed_fw", 70: "unlicensed_fw", 60: "satellite", 61: "satellite"}
COUNTED = ["copper", "cable", "fiber", "licensed_fw", "unlicensed_fw", "satellite"]
COLUMNS = ["locations", "unserved", "underserved", "served", "providers_100_20",
           "satellite_only", "unlicensed_fw_only", "fiber_locations", "providers",
           *(f"tech_{g}_share" for g in COUNTED)]


def reaches(row: dict, rules: dict, key: str) -> bool:
    """Whether one offer is reliable under ``rules`` and reaches its ``key`` thresholds."""
    reliable = int(row["technology"]) in rules["reliable_technologies"] and (
        row["low_latency"] == "1" or not rules["low_latency_required"])
    down, up = rules[key]
    return reliable and float(row["max_advertised_download_speed"]) >= down and \
        float(row["max_advertised_upload_speed"]) >= up


def recompute(rows: list[dict], rules: dict) -> pd.DataFrame:
    """Per-tract counts of ``aggregate_bdc`` from rows (codes R and X), in plain Python."""
    locs: dict[str, dict] = {}
    providers: dict[str, set] = defaultdict(set)
    for r in rows:
        if r["business_residential_code"] not in ("R", "X"):
            continue
        area = r["block_geoid"][:11]
        loc = locs.setdefault(r["location_id"], {"area": area, "groups": set(), "under": False,
                                                 "served": False, "p_served": set()})
        loc["groups"].add(GROUP[int(r["technology"])])
        loc["under"] |= reaches(r, rules, "underserved")
        if reaches(r, rules, "served"):
            loc["served"] = True
            loc["p_served"].add(r["provider_id"])
        providers[area].add(r["provider_id"])
    out: dict[str, dict] = defaultdict(lambda: dict.fromkeys(COLUMNS, 0))
    for loc in locs.values():
        a, g = out[loc["area"]], loc["groups"]
        a["locations"] += 1
        a["served"] += loc["served"]
        a["underserved"] += loc["under"] and not loc["served"]
        a["unserved"] += not loc["under"]
        a["providers_100_20"] += len(loc["p_served"])
        a["satellite_only"] += g == {"satellite"}
        a["unlicensed_fw_only"] += g <= {"unlicensed_fw", "satellite"} and "unlicensed_fw" in g
        a["fiber_locations"] += "fiber" in g
        for name in COUNTED:
            a[f"tech_{name}_share"] += name in g
    frame = pd.DataFrame.from_dict(out, orient="index").sort_index()
    frame["providers"] = [len(providers[a]) for a in frame.index]
    frame["providers_100_20"] = frame["providers_100_20"] / frame["locations"]
    for name in COUNTED:
        frame[f"tech_{name}_share"] = frame[f"tech_{name}_share"] / frame["locations"]
    frame.index.name = "GEOID"
    return frame.astype(float)


def rows_of(paths) -> list[dict]:
    rows = []
    for p in paths:
        with open(p, newline="") as fh:
            rows += list(csv.DictReader(fh))
    return rows


def boundary_rows() -> list[dict]:
    """Offers at the edges of both rule sets: 24 / 25 against 24.6, per-code reliability."""
    blocks = ["481350001001000", "481350002002000", "481350003003000"]
    rows = []
    for i, (tech, down, up, ll) in enumerate([
            (50, 25, 1, 1), (50, 24, 1, 1), (50, 25, 0, 1),  # 24.6/1: 25/1 in, 24/1 out
            (70, 50, 10, 0), (70, 49, 10, 1), (70, 100, 20, 1),  # UFW: reliable in custom
            (71, 100, 20, 1), (72, 100, 20, 1), (72, 1000, 100, 0),  # LFW: bead only (ll=1)
            (40, 100, 20, 1), (40, 25, 3, 1), (10, 24, 3, 1), (60, 100, 20, 0),
            (61, 1000, 100, 1), (0, 1000, 1000, 1), (50, 1000, 1000, 0)]):
        rows.append(offer(1000000000 + i, tech, down, up, ll=ll, block=blocks[i % 3],
                          provider=f"13{i % 4:04d}"))
    # locations with several offers: fiber 24 + UFW 50/10 without low latency; two providers
    rows += [offer(1000000100, 50, 24, 24, block=blocks[0], provider="130001"),
             offer(1000000100, 70, 50, 10, ll=0, block=blocks[0], provider="130002"),
             offer(1000000101, 50, 60, 10, block=blocks[1], provider="130001"),
             offer(1000000101, 50, 60, 10, block=blocks[1], provider="130003"),
             offer(1000000101, 40, 300, 30, block=blocks[1], provider="130004"),
             offer(1000000102, 50, 1000, 1000, block=blocks[2], code="B")]
    return rows


def shuffled_parquet(src: Path, out: Path) -> Path:
    """The converted rows in a random order, several row groups (the hash path)."""
    table = pq.read_table(next(src.glob("**/*.parquet"))).replace_schema_metadata(None)
    order = np.random.default_rng(5).permutation(table.num_rows)
    target = out / "state_usps=TX"
    target.mkdir(parents=True)
    pq.write_table(table.take(order), target / "data_0.parquet",
                   row_group_size=max(1, table.num_rows // 3))
    return out


def inputs(csv_files: list[Path], tmp: Path) -> dict[str, object]:
    sorted_pq = am.bdc_to_parquet([str(f) for f in csv_files], tmp / "sorted")
    return {"csv": csv_files, "sorted_parquet": sorted_pq,
            "hash_parquet": shuffled_parquet(sorted_pq, tmp / "shuffled")}


def check(paths, rows, name, caplog):
    with caplog.at_level(logging.INFO, logger="assetmap.bdc.fast.engine"):
        caplog.clear()
        fast = am.aggregate_bdc(paths, engine="numba", rules=name if name == "bead" else CUSTOM)
        assert not any(FALLBACK in r.getMessage() for r in caplog.records)
    slow = am.aggregate_bdc(paths, engine="duckdb", rules=name if name == "bead" else CUSTOM)
    same(fast, slow)
    got = fast.set_index("GEOID")[COLUMNS].astype(float)
    pd.testing.assert_frame_equal(got, recompute(rows, RULES[name]), check_exact=False,
                                  rtol=1e-12)
    return fast


@pytest.mark.parametrize("name", ["bead", "custom"])
def test_boundary_offers_under_each_rule_set(tmp_path, caplog, name):
    rows = boundary_rows()
    files = [write_csv(tmp_path / "bdc_48_a.csv", rows)]
    for paths in inputs(files, tmp_path).values():
        t1 = check(paths, rows, name, caplog).set_index("GEOID").loc["48135000100"]
        # by hand: fiber 25/1 (ll 1), UFW 50/10 (ll 0), LFW 71 100/20, cable 100/20,
        # satellite 100/20, fiber 1000/1000 (ll 0), fiber 24/24 + UFW 50/10 (ll 0)
        counts = (t1["unserved"], t1["underserved"], t1["served"])
        assert counts == {"bead": (5, 0, 2), "custom": (3, 1, 3)}[name]


@pytest.mark.parametrize("name", ["bead", "custom"])
def test_synthetic_release_under_each_rule_set(synthetic, tmp_path, caplog, name):
    rows = rows_of(synthetic["csv"])
    for paths in inputs(list(synthetic["csv"]), tmp_path).values():
        check(paths, rows, name, caplog)


def test_rule_sets_change_without_editing_a_global(tmp_path):
    # one process, one compiled kernel: the rule set is an argument of every call
    path = write_csv(tmp_path / "bdc_48_a.csv", boundary_rows())
    sel = _bdc_fast.selection("tract", codes=("R", "X"))
    runs = {}
    for name in ("bead", "custom", "bead", "custom"):
        sums = _bdc_fast.aggregate_group([path], sel, threads=2, rules=RULES[name])[0]
        got = sums.groupby("area")[["unserved", "underserved", "served"]].sum().to_numpy()
        runs.setdefault(name, []).append(got.tolist())
    expected = {n: recompute(boundary_rows(), RULES[n])[["unserved", "underserved", "served"]]
                .to_numpy().astype(int).tolist() for n in RULES}
    assert runs == {n: [expected[n]] * 2 for n in RULES}
    assert runs["bead"][0] != runs["custom"][0]
    # the rule set given to selection() is used when aggregate_group gets none
    custom_sel = _bdc_fast.selection("tract", codes=("R", "X"), rules=CUSTOM)
    sums = _bdc_fast.aggregate_group([path], custom_sel, threads=1)[0]
    assert sums.groupby("area")[["unserved", "underserved", "served"]].sum().to_numpy() \
        .tolist() == expected["custom"]


@pytest.mark.parametrize(("threshold", "passes"), [(24.6, [25]), (25.0, [25]), (24.0, [24, 25]),
                                                   (25.000001, [])])
def test_whole_speeds_against_fractional_thresholds(threshold, passes):
    rules = dict(CUSTOM, underserved=[threshold, 1], served=[1000, 100])
    text = "".join(
        f"0001234567,130001,A,{1000000000 + s},50,{s},1,1,R,TX,481350001001000,"
        f"8848a2d8c9fffff\n" for s in (24, 25))
    parts = 1
    buf = {"loc": np.empty((parts, 1), np.int64), "prov": np.empty((parts, 1), np.int64),
           "area": np.empty((parts, 1), np.int64), "bits": np.empty((parts, 1), np.int16),
           "counts": np.zeros(parts, np.int64), "bytes": np.empty(0, np.uint8)}
    tally = _bdc_fast._parse(("csv", np.frombuffer(text.encode(), dtype=np.uint8)), buf,
                             sel=_bdc_fast.selection("tract", rules=rules), parts=parts)
    assert tally.tolist() == [2, 0, 0, 0]  # both rows kept, none left out
    speed = {int(loc) >> 5: int(bits) for loc, bits in zip(buf["loc"][0, :2],
                                                           buf["bits"][0, :2], strict=True)}
    assert sorted(s for s in (24, 25) if speed[1000000000 + s] & 128) == passes
    assert all(b & 4 and not b & 256 for b in speed.values())  # fiber, not served
