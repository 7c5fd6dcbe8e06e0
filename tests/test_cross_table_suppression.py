"""Small cells across every table read_survey publishes together: a property test.

Random households on a strip of 8 columns, cut into tracts (every column) and school zones
(some columns, leaving gaps: households in no zone). ``am.read_survey(..., zones=)``
publishes the tract table, the zone table and their totals; the test knows which household
is in which cell and tries every pairwise difference and every total-minus-parts difference.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import box

import assetmap as am
from assetmap.errors import RejectedRowsWarning

X0, Y0, W = -102.40, 31.80, 0.01
COLS = 8


def _strip(cuts: list[int], ids: list[str]) -> gpd.GeoDataFrame:
    bounds = [0, *cuts, COLS]
    shapes = [box(X0 + a * W, Y0, X0 + b * W, Y0 + W) for a, b in pairwise(bounds)]
    return gpd.GeoDataFrame({"id": ids[: len(shapes)]}, geometry=shapes, crs=4326)


@st.composite
def surveys(draw: st.DrawFn) -> dict:
    counts = draw(st.lists(st.integers(0, 24), min_size=COLS, max_size=COLS).filter(any))
    tract_cuts = sorted(draw(st.sets(st.integers(1, COLS - 1), max_size=4)))
    zone_cols = draw(st.lists(st.one_of(st.none(), st.integers(0, 3)), min_size=COLS,
                              max_size=COLS))
    min_cell = draw(st.sampled_from([5, 10]))
    answers = draw(st.lists(st.sampled_from(["none", "mobile only", "broadband"]),
                            min_size=sum(counts), max_size=sum(counts)))
    return {"counts": counts, "tract_cuts": tract_cuts, "zone_cols": zone_cols,
            "min_cell": min_cell, "answers": answers}


def _figures(case: dict, by_area: pd.DataFrame, by_zone: pd.DataFrame) -> list[tuple]:
    """Every published figure: (name, table, household set as a frozenset, value)."""
    counts, cuts, zone_cols = case["counts"], case["tract_cuts"], case["zone_cols"]
    col_of = np.repeat(np.arange(COLS), counts)
    tract_of_col = np.searchsorted(np.array(cuts), np.arange(COLS), side="right")
    households = np.arange(len(col_of))
    figures = []
    for row in by_area.itertuples():
        members = frozenset(households[tract_of_col[col_of] == int(row.GEOID[-1])])
        figures.append((f"tract {row.GEOID}", "areas", members,
                        None if row.suppressed else row.responses))
    for row in by_zone.itertuples():
        cols = {c for c in range(COLS) if zone_cols[c] == int(row.zone_id[1:])}
        figures.append((f"zone {row.zone_id}", "zones",
                        frozenset(households[np.isin(col_of, list(cols))]),
                        None if row.suppressed else row.responses))
    everyone = frozenset(households)
    zoned = frozenset(h for h in households if zone_cols[col_of[h]] is not None)
    figures.append(("district", "district", everyone, am.get_report(by_area)["rows_aggregated"]))
    figures.append(("zoned total", "zoned", zoned, am.get_report(by_zone)["responses_total"]))
    return figures


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(case=surveys())
def test_no_difference_reveals_a_small_group(case: dict, tmp_path: Path) -> None:
    counts, zone_cols, min_cell = case["counts"], case["zone_cols"], case["min_cell"]
    rng = np.random.default_rng(0)
    col_of = np.repeat(np.arange(COLS), counts)
    lon = X0 + (col_of + rng.uniform(0.2, 0.8, len(col_of))) * W
    lat = Y0 + rng.uniform(0.2, 0.8, len(col_of)) * W
    path = tmp_path / "survey.csv"
    pd.DataFrame({"lat": lat.round(6), "lon": lon.round(6),
                  "home_internet": case["answers"]}).to_csv(path, index=False)
    tracts = _strip(case["tract_cuts"], [f"4813500010{i}" for i in range(5)])
    tracts = tracts.rename(columns={"id": "GEOID"})
    zone_ids = sorted({z for z in zone_cols if z is not None})
    zones = gpd.GeoDataFrame(
        {"zone_id": [f"Z{z}" for z in zone_ids]},
        geometry=[gpd.GeoSeries([box(X0 + c * W, Y0, X0 + (c + 1) * W, Y0 + W)
                                 for c in range(COLS) if zone_cols[c] == z]).union_all()
                  for z in zone_ids], crs=4326)
    if zones.empty:
        zones = gpd.GeoDataFrame({"zone_id": ["Z9"]}, geometry=[box(0, 0, 0.001, 0.001)],
                                 crs=4326)
    with np.errstate(all="ignore"):
        by_area, by_zone = am.read_survey(path, areas=tracts, zones=zones, min_cell=min_cell)
    figures = _figures(case, by_area, by_zone)
    published = [f for f in figures if f[3] is not None]
    for name, _, members, value in published:  # the figure is what it says
        assert value == len(members), name
        if name.startswith(("tract", "zone")):
            assert not 0 < value < min_cell, f"{name}: a small cell is published"
    for big_name, _, big, big_v in published:  # every pairwise difference of nested figures
        for small_name, _, small, small_v in published:
            if small < big and small_v:  # minus 0 is the figure itself, not a new group
                assert not 0 < big_v - small_v < min_cell, (big_name, small_name)
    tables = {t for _, t, _, _ in figures}
    for big_name, _, big, big_v in published:  # every total minus its published parts
        for table in tables:
            parts = [f for f in figures if f[1] == table and f[2] and f[2] <= big
                     and f[2] != big]
            if not parts:
                continue
            subtracted = sum(f[3] for f in parts if f[3] is not None)
            rest = big_v - subtracted
            assert not subtracted or not 0 < rest < min_cell, (big_name, table, rest)
            hidden = [f for f in parts if f[3] is None]
            outside = len(big) - sum(len(f[2]) for f in parts)
            if outside == 0 and len(hidden) == 1:
                assert rest == 0, f"{big_name} minus {table} recovers {hidden[0][0]}"


def test_households_in_no_zone_are_not_revealed_by_the_totals(tmp_path: Path) -> None:
    """The class the issue found: district total minus the zones = households in no zone."""
    tracts = _strip([4], ["48135000100", "48135000101"]).rename(columns={"id": "GEOID"})
    zones = gpd.GeoDataFrame({"zone_id": ["A", "B"]},
                             geometry=[box(X0, Y0, X0 + 4 * W, Y0 + W),
                                       box(X0 + 4 * W, Y0, X0 + 7 * W, Y0 + W)], crs=4326)
    rows = ([(Y0 + 0.005, X0 + 0.015)] * 30 + [(Y0 + 0.005, X0 + 0.055)] * 27
            + [(Y0 + 0.005, X0 + 0.075)] * 3)  # 3 households east of zone B: in no zone
    path = tmp_path / "survey.csv"
    pd.DataFrame({"lat": [r[0] for r in rows], "lon": [r[1] for r in rows],
                  "home_internet": ["none", "broadband"] * 30}).to_csv(path, index=False)
    by_area, by_zone = am.read_survey(path, areas=tracts, zones=zones, min_cell=10)
    published_zones = by_zone.loc[~by_zone["suppressed"], "responses"].sum()
    assert by_zone["suppressed"].any()
    assert am.get_report(by_zone)["responses_total"] is None
    assert not 0 < am.get_report(by_area)["rows_aggregated"] - published_zones < 10
    assert not any("3 placed" in n for n in am.get_report(by_zone)["notes"])


def test_a_table_of_totals_with_one_row_needs_no_cross_table() -> None:
    from assetmap.loaders.suppression import suppress_together

    out = suppress_together({"all": pd.Series([45], index=["t"]),
                             "parts": pd.Series([3, 20, 22], index=list("abc"))},
                            hierarchy=[("all", "parts")], min_cell=10, fixed=["all"])
    assert out["parts"].tolist() == [True, True, False]
    with pytest.raises(ValueError, match="cross table"):
        suppress_together({"p": pd.Series([4, 6]), "c": pd.Series([10])},
                          hierarchy=[("p", "c")], min_cell=5)


def test_study_survey_reader_warns_rather_than_dropping(tmp_path: Path) -> None:
    """Households outside every tract are counted, never silently dropped."""
    tracts = _strip([], ["48135000100"]).rename(columns={"id": "GEOID"})
    path = tmp_path / "survey.csv"
    pd.DataFrame({"lat": [Y0 + 0.005] * 12 + [Y0 + 0.5], "lon": [X0 + 0.01] * 13,
                  "home_internet": ["none"] * 13}).to_csv(path, index=False)
    with pytest.warns(RejectedRowsWarning):
        out = am.read_survey(path, areas=tracts, min_cell=5)
    assert am.get_report(out)["rejected"]["outside the study area"] == 1


def test_export_guard_suppresses_a_small_cell_left_in_a_layer(tmp_path: Path) -> None:
    """A table of survey counts built elsewhere still passes the small-cell check on export."""
    from assetmap.errors import RepairWarning

    layer = pd.DataFrame({"GEOID": ["48135000100", "48135000101", "48135000102"],
                          "responses": [3.0, 40.0, 25.0], "home_none": [1.0, 9.0, 4.0],
                          "suppressed": [False, False, False]})
    with pytest.warns(RepairWarning, match="fewer than 10 households"):
        files = am.export_layers({"survey": layer}, tmp_path, formats=["csv"], min_cell=10)
    out = pd.read_csv(files["survey"][0], dtype={"GEOID": str})
    assert out["responses"].isna().tolist() == [True, False, False]  # no total is published
    assert layer["responses"].tolist() == [3.0, 40.0, 25.0]  # the input is not changed


def test_export_of_read_survey_tables_changes_nothing(tmp_path: Path) -> None:
    tracts = _strip([3, 6], ["48135000100", "48135000101", "48135000102"])
    tracts = tracts.rename(columns={"id": "GEOID"})
    path = tmp_path / "survey.csv"
    lons = [X0 + 0.015] * 22 + [X0 + 0.045] * 4 + [X0 + 0.075] * 15
    pd.DataFrame({"lat": [Y0 + 0.005] * len(lons), "lon": lons,
                  "home_internet": ["none"] * len(lons)}).to_csv(path, index=False)
    survey = am.read_survey(path, areas=tracts, min_cell=10)
    files = am.export_layers({"survey": survey}, tmp_path / "out", formats=["csv"])
    out = pd.read_csv(files["survey"][0])
    assert out["suppressed"].tolist() == survey["suppressed"].tolist() == [False, True, True]
