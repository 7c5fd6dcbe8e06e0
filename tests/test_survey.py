"""The family survey: aggregation, suppression, privacy and bad input."""

from __future__ import annotations

import json
import warnings
from collections import Counter

import geopandas as gpd
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import box

import assetmap as am
from assetmap.errors import PrivacyError, RejectedRowsWarning, RepairWarning, SchemaError

# read_survey's published columns (besides GEOID and suppressed), as its docstring lists them
COUNT_COLUMNS = ["responses", "home_none", "home_mobile_only", "home_slow", "home_broadband",
                 "device_responses", "no_device", "reason_not_available", "reason_cost",
                 "reason_other"]
RATE_COLUMNS = ["survey_no_internet_rate", "survey_limited_rate", "survey_no_device_rate"]
GEOIDS = [f"481350{i:03d}00" for i in range(1, 7)]
AREAS = gpd.GeoDataFrame(
    {"GEOID": GEOIDS},
    geometry=[box(-103 + 0.1 * i, 31.0, -103 + 0.1 * (i + 1), 31.1) for i in range(6)],
    crs=4326,
)


def _point(area: int, fx: float, fy: float) -> tuple[float, float]:
    return round(31.0 + 0.1 * fy, 6), round(-103 + 0.1 * (area + fx), 6)


def _write(tmp_path, rows, name="survey.csv"):
    path = tmp_path / name
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def _row(area, fx, fy, internet, device="", reason=""):
    lat, lon = _point(area, fx, fy)
    return {"lat": lat, "lon": lon, "internet": internet, "device": device, "reason": reason}


def test_counts_and_rates_hand_computed(tmp_path):
    rows = (
        [_row(0, 0.5, 0.5, "No internet", "no", "Too expensive")] * 3
        + [_row(0, 0.4, 0.4, "phone only", "yes")] * 2
        + [_row(0, 0.3, 0.6, "Slow", "Laptop")]
        + [_row(0, 0.6, 0.3, "Yes")] * 6
        + [_row(1, 0.5, 0.5, "broadband", "yes")] * 15
    )
    out = am.read_survey(_write(tmp_path, rows), areas=AREAS).set_index("GEOID")
    first = out.loc[GEOIDS[0]]
    assert first[["responses", "home_none", "home_mobile_only", "home_slow", "home_broadband",
                  "device_responses", "no_device", "reason_cost"]].tolist() == [
        12, 3, 2, 1, 6, 6, 3, 3]
    assert first["survey_no_internet_rate"] == pytest.approx(3 / 12)
    assert first["survey_limited_rate"] == pytest.approx(6 / 12)
    assert first["survey_no_device_rate"] == pytest.approx(3 / 6)
    assert out.loc[GEOIDS[1], "survey_limited_rate"] == 0
    assert out.loc[GEOIDS[2], "responses"] == 0
    assert not out.loc[GEOIDS[2], "suppressed"]
    assert list(out.reset_index().columns) == ["GEOID", *COUNT_COLUMNS, *RATE_COLUMNS,
                                               "suppressed"]


def test_min_cell_floor():
    with pytest.raises(PrivacyError, match="below the floor of 5"):
        am.read_survey("unused.csv", areas=AREAS, min_cell=4)


def _suppressed(tmp_path, counts: list[int]) -> list[bool]:
    """read_survey's suppression flags for areas holding ``counts`` households (others: 0)."""
    rows = [_row(area, 0.5, 0.5, "none") for area, n in enumerate(counts) for _ in range(n)]
    name = "survey_" + "_".join(map(str, counts)) + ".csv"
    flags = am.read_survey(_write(tmp_path, rows, name), areas=AREAS, min_cell=10)
    flags = flags.set_index("GEOID")["suppressed"]
    assert not flags.loc[GEOIDS[len(counts):]].any()  # the empty areas are never suppressed
    return flags.loc[GEOIDS[: len(counts)]].tolist()


def test_complementary_suppression_hand_cases(tmp_path):
    # one small cell: the next-smallest is suppressed too
    assert _suppressed(tmp_path, [3, 40, 25, 12]) == [True, False, False, True]
    # two small cells that together are still small: a third is needed
    assert _suppressed(tmp_path, [2, 3, 40, 25]) == [True, True, False, True]
    # nothing small: nothing suppressed; zero-response rows never count as cover
    assert _suppressed(tmp_path, [0, 30, 12]) == [False, False, False]
    assert _suppressed(tmp_path, [0, 4, 30]) == [False, True, True]


def test_cross_table_difference_is_suppressed(tmp_path):
    # zone Z holds 12 of area A's 15 households; A - Z = 3 would be revealed
    # A = GEOIDS[0] (x -103 to -102.9), B = GEOIDS[1]; Z is A's west half, Y the rest and B
    zones = gpd.GeoDataFrame({"zone_id": ["Z", "Y"]},
                             geometry=[box(-103, 31, -102.95, 31.1),
                                       box(-102.95, 31, -102.8, 31.1)], crs=4326)
    rows = ([_row(0, 0.2, 0.5, "none")] * 12 + [_row(0, 0.8, 0.5, "none")] * 3
            + [_row(1, 0.5, 0.5, "none")] * 30)
    by_area, by_zone = am.read_survey(_write(tmp_path, rows), areas=AREAS, zones=zones,
                                      min_cell=10)
    assert am.get_report(by_area)["responses_total"] == 45
    assert am.get_report(by_zone)["responses_total"] == 45
    sup_a = by_area.set_index("GEOID")["suppressed"].rename({GEOIDS[0]: "A", GEOIDS[1]: "B"})
    sup_b = by_zone.set_index("zone_id")["suppressed"]
    published_pairs = [(a, b) for a, b in [("A", "Z")] if not sup_a[a] and not sup_b[b]]
    assert published_pairs == []


def test_unknown_answer_names_row_and_column(tmp_path):
    rows = [{"lat": 31.05, "lon": -102.95, "home internet": "yes"},
            {"lat": 31.05, "lon": -102.95, "home internet": "carrier pigeon"}]
    with pytest.raises(SchemaError, match=r"survey.csv, row 2, column 'home_internet'.*"
                                          r"allowed: none, mobile_only, slow, broadband"):
        am.read_survey(_write(tmp_path, rows), areas=AREAS)


def test_bad_locations_repaired_or_rejected(tmp_path):
    lat, lon = _point(0, 0.5, 0.5)
    rows = ([{"lat": lat, "lon": lon, "internet": "none"}] * 10
            + [{"lat": lon, "lon": lat, "internet": "none"}]          # swapped
            + [{"lat": 35.0, "lon": -90.0, "internet": "none"}]       # outside
            + [{"lat": "", "lon": "", "internet": "none"}]            # nowhere
            + [{"lat": lat, "lon": lon, "internet": ""}])             # no answer
    with pytest.warns(RepairWarning, match="swapped"), pytest.warns(RejectedRowsWarning):
        out = am.read_survey(_write(tmp_path, rows), areas=AREAS)
    assert out.set_index("GEOID").loc[GEOIDS[0], "responses"] == 11
    report = am.get_report(out)
    assert report["rejected_rows"] == {"no answer on home internet": [14],
                                       "outside the study area": [12],
                                       "no location (no lat/lon, GEOID or address)": [13]}
    assert report["rows_read"] == report["merged"] + sum(report["rejected"].values())
    for text in (str(lat), str(lon), "35.0", "-90.0"):
        assert text not in json.dumps(report)


def test_geoid_with_lost_leading_zero(tmp_path):
    areas = gpd.GeoDataFrame({"GEOID": ["01001020100", "01001020200"]},
                             geometry=[box(-86.5, 32.4, -86.4, 32.5),
                                       box(-86.4, 32.4, -86.3, 32.5)], crs=4326)
    rows = [{"tract": 1001020100, "internet": "none"}] * 6 + [
        {"tract": "01001020200", "internet": "yes"}] * 6 + [
        {"tract": "01001999999", "internet": "yes"}]
    with pytest.warns(RepairWarning, match="leading zero"), pytest.warns(RejectedRowsWarning,
                                                                        match="not among"):
        out = am.read_survey(_write(tmp_path, rows), areas=areas, min_cell=5)
    assert out.set_index("GEOID")["home_none"].to_dict() == {"01001020100": 6, "01001020200": 0}


def test_zones_give_two_tables(tmp_path):
    zones = gpd.GeoDataFrame({"zone_id": ["west", "east"]},
                             geometry=[box(-103, 31, -102.75, 31.1),
                                       box(-102.75, 31, -102.4, 31.1)], crs=4326)
    rows = []
    for area, n in enumerate([20, 20, 20, 20, 20, 20]):
        lat, lon = _point(area, 0.3, 0.5)
        rows += [{"lat": lat, "lon": lon, "internet": "slow"}] * n
    by_area, by_zone = am.read_survey(_write(tmp_path, rows), areas=AREAS, zones=zones)
    assert by_zone.set_index("zone_id")["responses"].to_dict() == {"west": 60, "east": 60}
    assert by_area["responses"].sum() == 120
    assert am.get_report(by_zone)["kind"] == "survey_zones"


def test_illustrative_survey_near_39_percent(ector_dir):
    tracts = gpd.read_file(ector_dir / "boundaries" / "ector_tracts_2020.geojson")
    path = ector_dir / "survey" / "ector_family_survey_illustrative.csv"
    out = am.read_survey(path, areas=tracts)
    raw = pd.read_csv(path)
    limited = raw["home_internet"].isin(["none", "mobile only", "slow"]).mean()
    published = out[~out["suppressed"]]
    rate = (published[["home_none", "home_mobile_only", "home_slow"]].sum().sum()
            / published["responses"].sum())
    assert rate == pytest.approx(limited, abs=0.02)
    assert 0.36 < limited < 0.42
    assert am.get_report(out)["illustrative"] is True
    assert not isinstance(out, gpd.GeoDataFrame)


household = st.tuples(
    st.integers(0, 5), st.floats(0.05, 0.95), st.floats(0.05, 0.95),
    st.sampled_from(["none", "mobile only", "slow", "broadband"]), st.sampled_from(["yes", "no"]),
)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(households=st.lists(household, max_size=90), min_cell=st.integers(5, 15),
       skew=st.integers(0, 5))
def test_property_no_points_no_small_cells_no_recovery(tmp_path, households, min_cell, skew):
    # skew: make one area deliberately small to exercise complementary suppression
    households = [h for h in households if h[0] != skew or h[1] < 0.2]
    rows = []
    for area, fx, fy, home, device in households:
        lat, lon = _point(area, fx, fy)
        rows.append({"lat": lat, "lon": lon, "internet": home, "device": device})
    path = _write(tmp_path, rows or [{"lat": "", "lon": "", "internet": "", "device": ""}])
    if not rows:  # a survey with no household: a clear error, not an empty table (issue 20)
        with pytest.raises(SchemaError, match="no data rows"):
            am.read_survey(path, areas=AREAS, min_cell=min_cell)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RejectedRowsWarning)  # the all-empty example
        out = am.read_survey(path, areas=AREAS, min_cell=min_cell)
    # 1. no household coordinate anywhere in the output or its report
    assert "geometry" not in out.columns
    coords = {r["lat"] for r in rows if r["lat"] != ""} | {r["lon"] for r in rows if r["lon"] != ""}
    values = set(out.select_dtypes("number").to_numpy().ravel().tolist())
    assert not (coords & values)
    dumped = json.dumps(out.attrs, default=str)
    assert not any(repr(c) in dumped for c in coords)
    # 2. no published cell below the threshold
    published = out[~out["suppressed"]]
    assert ((published["responses"] == 0) | (published["responses"] >= min_cell)).all()
    assert out.loc[out["suppressed"], COUNT_COLUMNS + RATE_COLUMNS].isna().all().all()
    # 3. subtraction from the published total cannot isolate a suppressed cell
    truth = Counter(GEOIDS[h[0]] for h in households)
    total = am.get_report(out)["responses_total"]
    hidden_true = [truth[g] for g in out.loc[out["suppressed"], "GEOID"] if truth[g] > 0]
    if total is not None:
        assert total == sum(truth.values())
        hidden = total - published["responses"].sum()
        assert hidden == sum(hidden_true)
        assert hidden == 0 or (len(hidden_true) >= 2 and hidden >= min_cell)
    else:
        assert 0 < sum(truth.values()) < min_cell


SECRET = "Maria Lopez 4417 Elm St, my son is sick"


@pytest.mark.parametrize("column", ["internet", "device", "reason", "tract"])
def test_private_text_appears_in_no_message(tmp_path, column):
    rows = [_row(0, 0.5, 0.5, "none", "yes", "cost") for _ in range(6)]
    rows[3] = {**rows[3], "tract": ""}
    for row in rows:
        row.setdefault("tract", "")
    if column == "tract":  # a household typed something else into the GEOID column
        rows[4] = {"tract": SECRET, "internet": "none"}
    else:
        rows[4] = {**rows[4], column: SECRET}
    path = _write(tmp_path, rows)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(am.errors.AssetmapError) as error:
            am.read_survey(path, areas=AREAS)
    text = str(error.value) + repr(error.value.__cause__) + repr(error.value.__context__)
    assert "row 5" in str(error.value)
    assert "not shown" in str(error.value)
    for fragment in (SECRET, "Maria", "Elm St"):
        assert fragment not in text
        assert all(fragment not in str(w.message) for w in caught)


@pytest.mark.parametrize("min_cell", ["abc", None, [10], float("inf"), True, 5.5])
def test_min_cell_that_is_no_whole_number_is_a_privacy_error(min_cell):
    with pytest.raises(PrivacyError, match="min_cell must be a whole number"):
        am.read_survey("unused.csv", areas=AREAS, min_cell=min_cell)
