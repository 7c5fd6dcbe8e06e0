"""A location whose rows name blocks in two areas: one rule in every engine, and a warning.

Not found in an FCC release (each location lies in one block), but in files joined from two
releases or edited by hand. Every engine counts such a location once, with its providers
and its providers at 100/20, in the smallest of its areas (the area of its smallest block
GEOID; at ``level="h3"`` its smallest H3 cell), says so in a ``RepairWarning`` and counts it
in ``report["split_locations"]``. The fast engine hands such a state to the DuckDB engine
(logged), so the numbers are the same whichever engine runs.
"""

from __future__ import annotations

import csv
import importlib.util
import logging
import warnings

import pandas as pd
import pytest

import assetmap as am
from assetmap.errors import RepairWarning
from tests.bdc_fixtures import generate, pandas_recompute

HAS_NUMBA = importlib.util.find_spec("numba") is not None
HAS_DASK = importlib.util.find_spec("distributed") is not None
SPLIT_NOTE = "a location with rows in two areas"


def _add_split_location(csv_path, *, smaller: bool) -> str:
    """Append a row of an existing location in another tract and H3 cell; return its id.

    The new row copies a row of the location (so it parses as any other line) with the
    block, H3 cell and provider of a row in another tract: a smaller one or a larger one.
    """
    with csv_path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    col = {name: i for i, name in enumerate(header)}
    body.sort(key=lambda r: r[col["block_geoid"]])
    low, high = body[0], body[-1]
    assert low[col["block_geoid"]][:11] != high[col["block_geoid"]][:11]
    home, donor = (high, low) if smaller else (low, high)
    added = list(home)
    for name in ("block_geoid", "h3_res8_id", "provider_id"):
        added[col[name]] = donor[col[name]]
    with csv_path.open("a", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerow(added)
    return home[col["location_id"]]


@pytest.fixture(scope="module", params=[True, False], ids=["to_smaller", "to_larger"])
def release(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp("split")
    csvs = generate(folder / "gen", rows=4000, tracts=6, formats=("csv",))["csv"]
    location = _add_split_location(csvs[0], smaller=request.param)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RepairWarning)
        parquet = am.bdc_to_parquet(csvs, folder / "parquet")
    return {"csv": csvs, "parquet": parquet, "location": location}


def _quietly_split(read, *args, **kwargs):
    """Run ``read``; it must warn once about the split location and count it."""
    with pytest.warns(RepairWarning, match="1 location has rows in more than one") as seen:
        out = read(*args, **kwargs)
    assert sum("more than one" in str(w.message) for w in seen) == 1
    assert am.get_report(out)["split_locations"] == 1
    return out


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(frame.columns[0]).reset_index(drop=True)


ENGINES = ["duckdb", pytest.param("numba", marks=pytest.mark.skipif(
    not HAS_NUMBA, reason="numba (the 'fast' extra) is not installed")), "frame"]


@pytest.mark.parametrize("level", ["tract", "block_group", "h3"])
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize("engine", ENGINES)
def test_every_engine_counts_the_location_in_its_smallest_area(release, engine, fmt, level,
                                                               caplog):
    paths = release[fmt]
    reference = _sorted(pandas_recompute(release["csv"], level=level))
    if engine == "frame":
        got = _quietly_split(am.service_by_area, am.load_bdc(paths), level=level)
    else:
        with caplog.at_level(logging.INFO, logger="assetmap.bdc.fast"):
            got = _quietly_split(am.aggregate_bdc, paths, level=level, engine=engine)
        fell_back = [r.getMessage() for r in caplog.records if SPLIT_NOTE in r.getMessage()]
        assert bool(fell_back) == (engine == "numba"), fell_back
    got = _sorted(got)
    key = reference.columns[0]
    assert got[key].tolist() == reference[key].tolist()
    for column in ("locations", "unserved", "underserved", "served", "providers",
                   "providers_100_20"):
        assert got[column].tolist() == pytest.approx(reference[column].tolist()), column
    duck = _sorted(_quietly_split(am.aggregate_bdc, release["csv"], level=level,
                                  engine="duckdb"))
    pd.testing.assert_frame_equal(got, duck, check_dtype=False)


def test_service_levels_place_the_location_in_its_smallest_block(release):
    rows = am.load_bdc(release["csv"])
    levels = _quietly_split(am.service_levels, rows)
    mine = rows[rows["location_id"] == release["location"]]
    placed = levels.loc[levels["location_id"] == release["location"]].iloc[0]
    assert placed["block_geoid"] == mine["block_geoid"].min()
    assert placed["h3_res8_id"] == mine["h3_res8_id"].min()
    assert placed["providers"] == mine["provider_id"].nunique()
    via_levels = _sorted(am.service_by_area(levels, level="tract"))
    direct = _sorted(_quietly_split(am.service_by_area, rows, level="tract"))
    pd.testing.assert_frame_equal(via_levels.drop(columns="providers_100_20"),
                                  direct.drop(columns="providers_100_20"), check_dtype=False)


def test_release_comparison_places_providers_with_their_location(release):
    rows = am.load_bdc(release["csv"])
    change = _sorted(am.compare_releases(rows, rows, level="tract"))
    areas = _sorted(_quietly_split(am.service_by_area, rows, level="tract"))
    assert change["locations_old"].tolist() == areas["locations"].tolist()
    assert change["providers_old"].tolist() == areas["providers"].tolist()


@pytest.mark.slow
@pytest.mark.skipif(not HAS_DASK, reason="the dask extra is not installed")
def test_dask_follows_the_same_rule(release):
    import distributed

    from assetmap.bdc.service_dask import aggregate_bdc_dask

    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster):
        got = _sorted(_quietly_split(aggregate_bdc_dask, release["csv"], level="tract",
                                     blocksize="64KB"))
    duck = _sorted(_quietly_split(am.aggregate_bdc, release["csv"], level="tract",
                                  engine="duckdb"))
    pd.testing.assert_frame_equal(got, duck, check_dtype=False)
