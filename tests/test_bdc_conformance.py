"""Every BDC engine gives the same service levels under every rule set, and the rule set's.

Rows walk every technology code, both latency flags and speeds on, under and over every
threshold of every rule set (fractional ones too: 24.6 vs 25, 99.99 vs 100, 2.9 vs 3,
19.5 vs 20), plus locations with several offers. Under "bead", a custom mapping and every
other named set, each engine (service_levels and service_by_area on frames, by numpy and
by SQL, aggregate_bdc with DuckDB and numba, the Dask function, on CSV and on bdc_to_parquet
output) must give the counts per area and the levels per location of an independent
pure-Python recomputation from the rule set's fields, and name the set in its report.
"""

from __future__ import annotations

import importlib.util
import logging
from collections import defaultdict

import pandas as pd
import pytest

import assetmap as am
from assetmap.bdc.rules import (  # internal: technology codes the reference below needs
    FIBER,
    technology_group,
)
from tests.bdc_fixtures import conformance_offers, write_by_technology

# dask's Parquet reader calls reset_index(inplace=True), deprecated in pandas 3.1
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword:DeprecationWarning",
                                        "ignore:The inplace keyword:FutureWarning")

CUSTOM = {"name": "custom", "reliable_technologies": [50, 70], "low_latency_required": False,
          "served": [50, 10], "underserved": [10, 1]}
RULES = ["bead", CUSTOM, *(n for n in am.available_rule_sets() if n != "bead")]
RULE_IDS = [r if isinstance(r, str) else r["name"] for r in RULES]
LEVELS = ["tract", "block_group", "county", "h3"]
HAS_NUMBA = importlib.util.find_spec("numba") is not None
HAS_DASK = importlib.util.find_spec("distributed") is not None


def _thresholds():
    sets = [am.rule_set(r) for r in RULES]
    return sorted({pair for s in sets for pair in (s.served, s.underserved)})


# --- the independent recomputation ---------------------------------------------------------


def expected_locations(offers, rules) -> dict[str, dict]:
    """Per residential location: level, best offer, fiber, providers, the technology flags."""
    rs = am.rule_set(rules)
    by_loc = defaultdict(list)
    for o in offers:
        if o["business_residential_code"] in ("R", "X"):
            by_loc[o["location_id"]].append(o)
    out = {}
    for loc, rows in by_loc.items():
        reliable = [o for o in rows if o["technology"] in rs.reliable_technologies
                    and (o["low_latency"] == 1 or not rs.low_latency_required)]

        def reaches(o, pair):
            return (o["max_advertised_download_speed"] >= pair[0]
                    and o["max_advertised_upload_speed"] >= pair[1])

        served = [o for o in reliable if reaches(o, rs.served)]
        under = [o for o in reliable if reaches(o, rs.underserved)]
        best = max(((o["max_advertised_download_speed"], o["max_advertised_upload_speed"])
                    for o in reliable), default=(0, 0))
        groups = {technology_group(o["technology"]) for o in rows}
        out[loc] = {
            "service_level": "served" if served else "underserved" if under else "unserved",
            "best_down": best[0], "best_up": best[1],
            "has_fiber": any(o["technology"] == FIBER for o in rows),
            "providers": len({o["provider_id"] for o in rows}),
            "providers_100_20": len({o["provider_id"] for o in served}),
            "satellite_only": groups == {"satellite"},
            "unlicensed_fw_only": groups - {"satellite"} == {"unlicensed_fw"},
            "groups": groups, "block": rows[0]["block_geoid"], "h3": rows[0]["h3_res8_id"],
            "provider_set": {o["provider_id"] for o in rows},
        }
    return out


def expected_areas(offers, rules, level: str) -> pd.DataFrame:
    """The area table of service_by_area, counted location by location."""
    width = {"tract": 11, "block_group": 12, "county": 5}.get(level)
    areas = defaultdict(list)
    for loc in expected_locations(offers, rules).values():
        areas[loc["h3"] if width is None else loc["block"][:width]].append(loc)
    records = []
    for key in sorted(areas):
        locs = areas[key]
        n = len(locs)
        count = {lv: sum(x["service_level"] == lv for x in locs)
                 for lv in ("unserved", "underserved", "served")}
        fiber = sum(x["has_fiber"] for x in locs)
        record = {"key": key, "locations": n, **count,
                  **{f"{lv}_share": count[lv] / n for lv in count},
                  "fiber_locations": fiber, "fiber_share": fiber / n,
                  "providers": len(set().union(*(x["provider_set"] for x in locs))),
                  "providers_100_20": sum(x["providers_100_20"] for x in locs) / n,
                  "satellite_only": sum(x["satellite_only"] for x in locs),
                  "unlicensed_fw_only": sum(x["unlicensed_fw_only"] for x in locs)}
        for group in ("copper", "cable", "fiber", "licensed_fw", "unlicensed_fw", "satellite"):
            record[f"tech_{group}_share"] = sum(group in x["groups"] for x in locs) / n
        records.append(record)
    key = "h3_res8_id" if width is None else "GEOID"
    return pd.DataFrame(records).rename(columns={"key": key})


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """Integer-speed and fractional-speed rows, their CSVs and bdc_to_parquet output."""
    folder = tmp_path_factory.mktemp("conformance")
    out = {}
    for kind, fractional in (("int", False), ("float", True)):
        offers = conformance_offers(_thresholds(), fractional=fractional)
        csvs = write_by_technology(folder / kind / "csv", offers)
        parquet = am.bdc_to_parquet(csvs, folder / kind / "parquet")
        out[kind] = {"offers": offers, "csv": csvs, "parquet": parquet}
    return out


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as c:
        yield c


def _frame(offers, *, path: str) -> pd.DataFrame:
    """The rows as a frame; ``path="sql"`` stores codes as floats (the DuckDB frame path)."""
    frame = pd.DataFrame(offers)
    if path == "sql":
        return frame.astype({"technology": "float64", "low_latency": "float64"})
    return frame


def _check(got: pd.DataFrame, offers, rules, level: str) -> None:
    """Equal to the recomputation; the report names the rule set."""
    want = expected_areas(offers, rules, level)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want, check_dtype=False,
                                  check_exact=True)
    assert am.get_report(got)["rules"] == am.rule_set(rules).as_dict()


def _check_levels(levels: pd.DataFrame, offers, rules) -> None:
    want = expected_locations(offers, rules)
    got = levels.set_index("location_id")
    assert sorted(got.index) == sorted(want)
    columns = ["service_level", "best_down", "best_up", "has_fiber", "providers",
               "providers_100_20", "satellite_only", "unlicensed_fw_only"]
    table = pd.DataFrame.from_dict(want, orient="index")[columns]
    pd.testing.assert_frame_equal(got.loc[table.index, columns], table, check_dtype=False,
                                  check_exact=True, check_names=False)
    assert am.get_report(levels)["rules"] == am.rule_set(rules).as_dict()


# --- frames in memory ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["int", "float"])
@pytest.mark.parametrize("path", ["numpy", "sql"])
@pytest.mark.parametrize("rules", RULES, ids=RULE_IDS)
def test_service_levels_per_location(release, rules, path, kind):
    offers = release[kind]["offers"]
    _check_levels(am.service_levels(_frame(offers, path=path), rules=rules), offers, rules)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("kind", ["int", "float"])
@pytest.mark.parametrize("rules", RULES, ids=RULE_IDS)
def test_service_by_area_on_frames(release, rules, kind, level):
    offers = release[kind]["offers"]
    fast = am.service_by_area(_frame(offers, path="numpy"), level=level, rules=rules)
    _check(fast, offers, rules, level)
    sql = am.service_by_area(_frame(offers, path="sql"), level=level, rules=rules)
    pd.testing.assert_frame_equal(sql, fast, check_exact=True)
    levels = am.service_levels(_frame(offers, path="numpy"), rules=rules)
    from_levels = am.service_by_area(levels, level=level)  # the set the levels were made with
    pd.testing.assert_frame_equal(from_levels, fast, check_exact=True)
    assert am.get_report(from_levels)["rules"] == am.rule_set(rules).as_dict()


# --- files: every engine -------------------------------------------------------------------


def _files(release, kind: str, fmt: str):
    return release[kind]["csv"] if fmt == "csv" else release[kind]["parquet"]


def _run(engine: str, paths, *, level: str, rules, caplog, whole: bool) -> pd.DataFrame:
    """One engine's area table; the fast engine must take whole-Mbps input itself.

    (It reads plainly good lines only: fractional speeds go to DuckDB, by design.)
    """
    if engine == "load_bdc":
        return am.service_by_area(am.load_bdc(paths), level=level, rules=rules)
    if engine == "dask":
        from assetmap.bdc.service_dask import (  # internal: not an am name; docs import it here
            aggregate_bdc_dask,
        )

        return aggregate_bdc_dask(paths, level=level, rules=rules, blocksize="64KB")
    with caplog.at_level(logging.INFO, logger="assetmap.bdc.fast.engine"):
        caplog.clear()
        out = am.aggregate_bdc(paths, level=level, rules=rules, engine=engine)
        fell_back = [r.getMessage() for r in caplog.records
                     if "goes to the DuckDB engine" in r.getMessage()]
    assert not (engine == "numba" and whole and fell_back), fell_back
    return out


ENGINES = ["duckdb", pytest.param("numba", marks=pytest.mark.skipif(
    not HAS_NUMBA, reason="numba (the 'fast' extra) is not installed")),
    pytest.param("dask", marks=[pytest.mark.slow, pytest.mark.skipif(
        not HAS_DASK, reason="the dask extra is not installed")]), "load_bdc"]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("kind", ["int", "float"])
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize("rules", RULES, ids=RULE_IDS)
def test_engines_on_files(request, release, rules, fmt, kind, engine, caplog):
    if engine == "dask":
        request.getfixturevalue("client")
    paths = _files(release, kind, fmt)
    offers = release[kind]["offers"]
    outs = {level: _run(engine, paths, level=level, rules=rules, caplog=caplog,
                        whole=kind == "int") for level in ("tract", "h3")}
    for level, out in outs.items():
        _check(out, offers, rules, level)
        reference = am.service_by_area(pd.DataFrame(offers), level=level, rules=rules)
        pd.testing.assert_frame_equal(out, reference, check_exact=True)


@pytest.mark.parametrize("kind", ["int", "float"])
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize("rules", RULES, ids=RULE_IDS)
def test_levels_of_loaded_files(release, rules, fmt, kind):
    offers = release[kind]["offers"]
    levels = am.service_levels(am.load_bdc(_files(release, kind, fmt)), rules=rules)
    _check_levels(levels, offers, rules)


# --- releases and the rule set of a service_levels frame -----------------------------------


@pytest.mark.parametrize("rules", RULES, ids=RULE_IDS)
def test_compare_releases_counts_under_the_rule_set(release, rules):
    old = release["float"]["offers"]
    # the new release: every offer 10% faster, and every third location gone
    new = [dict(o, max_advertised_download_speed=o["max_advertised_download_speed"] * 1.1,
                max_advertised_upload_speed=o["max_advertised_upload_speed"] * 1.1)
           for o in old if int(o["location_id"]) % 3]
    before, after = expected_locations(old, rules), expected_locations(new, rules)
    newly = defaultdict(int)
    lost = defaultdict(int)
    for loc in set(before) | set(after):
        was = before.get(loc, {}).get("service_level") == "served"
        now = after.get(loc, {}).get("service_level") == "served"
        tract = (after.get(loc) or before[loc])["block"][:11]
        newly[tract] += now and not was
        lost[tract] += was and not now
    change = am.compare_releases(pd.DataFrame(old), pd.DataFrame(new), rules=rules)
    got = change.set_index("GEOID")
    assert got["newly_served"].to_dict() == {k: newly[k] for k in got.index}
    assert got["lost_service"].to_dict() == {k: lost[k] for k in got.index}
    assert am.get_report(change)["rules"] == am.rule_set(rules).as_dict()
    from_levels = am.compare_releases(am.service_levels(pd.DataFrame(old), rules=rules),
                                      am.service_levels(pd.DataFrame(new), rules=rules))
    pd.testing.assert_frame_equal(from_levels, change)
    report = am.release_change_report(pd.DataFrame(old), pd.DataFrame(new), rules=rules)
    assert report.summary["newly_served"] == sum(newly.values())
    assert report.summary["lost_service"] == sum(lost.values())
    assert f"Rule set &#x27;{am.rule_set(rules).name}&#x27;" in report.markdown
    assert am.get_report(report.tracts)["rules"] == am.rule_set(rules).as_dict()


def test_a_levels_frame_keeps_its_rule_set(release):
    offers = release["int"]["offers"]
    levels = am.service_levels(pd.DataFrame(offers), rules=CUSTOM)
    with pytest.raises(ValueError, match="made under rule set 'custom'"):
        am.service_by_area(levels, rules="bead")
    with pytest.raises(ValueError, match="different rule sets"):
        am.compare_releases(levels, am.service_levels(pd.DataFrame(offers)))
    area = am.service_by_area(levels, rules=CUSTOM)
    assert am.get_report(area)["rules"]["name"] == "custom"


def test_rules_change_the_answer(release):
    """The rule sets of this suite really differ on these rows (the suite is not vacuous)."""
    offers = release["float"]["offers"]
    counts = {name: tuple(expected_areas(offers, r, "county")[["unserved", "underserved",
                                                               "served"]].iloc[0])
              for name, r in zip(RULE_IDS, RULES, strict=True)}
    assert counts["bead"] != counts["custom"]
    assert all(sum(c) == sum(counts["bead"]) for c in counts.values())
    assert all(min(c) > 0 for c in counts.values())


def test_an_unknown_or_malformed_rule_set_is_refused(release):
    from assetmap.errors import ConfigError

    frame = pd.DataFrame(release["int"]["offers"][:50])
    with pytest.raises(ConfigError, match="unknown BEAD rule set 'nope'"):
        am.service_levels(frame, rules="nope")
    with pytest.raises(ConfigError, match="missing: underserved"):
        am.aggregate_bdc(release["int"]["csv"], rules={k: v for k, v in CUSTOM.items()
                                                       if k != "underserved"})
    with pytest.raises(ConfigError, match="not a BDC technology code"):
        am.service_by_area(frame, rules=dict(CUSTOM, reliable_technologies=[30]))
