"""assemble_tracts: one row per tract, every mismatch listed, nothing dropped, inputs intact."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

import assetmap as am
from assetmap.errors import SchemaError
from assetmap.geoid import GeoidRepairWarning  # internal: am.errors has only its parent class

IDS = ["48135000100", "48135000200", "48135000300"]


@pytest.fixture
def tracts() -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame(
        {"GEOID": IDS, "NAME": ["1", "2", "3"]},
        geometry=[box(-102.5 + i * 0.1, 31.8, -102.4 + i * 0.1, 31.9) for i in range(3)],
        crs=4326,
    )
    return frame.to_crs(3857)  # not 4326 on purpose


def test_left_join_lists_missing_and_unmatched(tracts):
    acs = pd.DataFrame({"GEOID": [IDS[2], IDS[0], "48135999999"],
                        "no_internet_share": [0.3, 0.1, 0.9], "NAME": ["x", "y", "z"]})
    service = pd.DataFrame({"unserved_share": [0.5, 0.0, 0.2]},
                           index=pd.Index(IDS, name="GEOID"))
    before_acs, before_tracts = acs.copy(), tracts.copy()

    out = am.assemble_tracts(tracts, acs=acs, service=service)

    assert out.crs.to_epsg() == 4326
    assert out["GEOID"].tolist() == IDS
    assert out["no_internet_share"].tolist()[0] == 0.1
    assert pd.isna(out["no_internet_share"].iloc[1])
    assert out["no_internet_share"].iloc[2] == 0.3
    assert out["unserved_share"].tolist() == [0.5, 0.0, 0.2]
    assert out["NAME"].tolist() == ["1", "2", "3"]  # the tracts' NAME wins
    join = out.attrs["assetmap"]["join"]
    assert join["acs"]["tracts_missing"] == [IDS[1]]
    assert join["acs"]["unmatched_rows"] == ["48135999999"]
    assert join["acs"]["columns_skipped"] == ["NAME"]
    assert join["service"]["tracts_missing"] == []
    assert join["service"]["matched"] == 3
    assert any("1 of 3 tracts have no row" in n for n in out.attrs["assetmap"]["notes"])
    pd.testing.assert_frame_equal(acs, before_acs)
    pd.testing.assert_frame_equal(pd.DataFrame(tracts), pd.DataFrame(before_tracts))
    assert tracts.crs.to_epsg() == 3857


def test_index_is_kept(tracts):
    tracts = tracts.set_index(pd.Index([10, 20, 30]))
    out = am.assemble_tracts(tracts, acs=pd.DataFrame({"GEOID": IDS, "x": [1, 2, 3]}))
    assert out.index.tolist() == [10, 20, 30]
    assert out["x"].tolist() == [1, 2, 3]


def test_rurality_raw_ruca_columns(tracts):
    ruca = pd.DataFrame({"GEOID": IDS, "RUCA1_primary": [1, 4, 10],
                         "RUCA2_secondary": [1.0, 4.0, 10.0]})
    out = am.assemble_tracts(tracts, rurality=ruca)
    assert out["ruca_primary"].tolist() == [1, 4, 10]
    assert out["rural"].tolist() == [False, True, True]


def test_duplicate_geoid_is_an_error(tracts):
    acs = pd.DataFrame({"GEOID": [IDS[0], IDS[0]], "x": [1, 2]})
    with pytest.raises(SchemaError, match="share a GEOID"):
        am.assemble_tracts(tracts, acs=acs)


def test_survey_by_zone_is_refused(tracts):
    with pytest.raises(SchemaError, match="zone_id"):
        am.assemble_tracts(tracts, survey=pd.DataFrame({"zone_id": ["a"], "responses": [3]}))


def test_numeric_geoids_repaired_with_warning():
    t = gpd.GeoDataFrame({"GEOID": ["01001020100"]}, geometry=[box(0, 0, 1, 1)], crs=4326)
    acs = pd.DataFrame({"GEOID": [1001020100], "x": [5]})
    with pytest.warns(GeoidRepairWarning):
        out = am.assemble_tracts(t, acs=acs)
    assert out["x"].tolist() == [5]


def test_real_ector_tracts_with_ruca(ector_dir):
    tracts = gpd.read_file(ector_dir / "boundaries" / "ector_tracts_2020.geojson")
    ruca = pd.read_csv(ector_dir / "rural" / "usda_ruca_2020_tracts2020.csv", dtype={"GEOID": str})
    out = am.assemble_tracts(tracts, rurality=ruca)
    assert len(out) == 33
    join = out.attrs["assetmap"]["join"]["rurality"]
    assert join["tracts_missing"] == []
    assert join["unmatched_rows_count"] == len(ruca) - 33  # Midland and Andrews rows, listed
    assert sorted(out.loc[out["rural"].astype(bool), "GEOID"]) == ["48135003001", "48135003003"]
