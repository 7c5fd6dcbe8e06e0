"""rollup_to_schools (conservation, dasymetric split, weighted rates) and site_connectivity."""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

import assetmap as am
from assetmap.errors import ConfigError, RejectedRowsWarning

IDS = ["48135000100", "48135000200"]
LEFT = box(-102.50, 31.80, -102.40, 31.90)
RIGHT = box(-102.40, 31.80, -102.30, 31.90)


def scored(**cols) -> gpd.GeoDataFrame:
    base = {"households": [100, 300], "locations": [120, 280], "unserved": [60, 28],
            "underserved": [30, 0], "served": [30, 252], "unserved_share": [0.5, 0.1],
            "no_internet_share": [0.3, 0.1]}
    base.update(cols)
    t = gpd.GeoDataFrame({"GEOID": IDS, **base}, geometry=[LEFT, RIGHT], crs=4326)
    return am.score_tracts(t, sensitivity_draws=0)


def schools(*points) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"school_id": [f"s{i}" for i in range(len(points))],
                             "name": [f"School {i}" for i in range(len(points))]},
                            geometry=[Point(p) for p in points], crs=4326)


def test_one_school_per_tract_carries_the_tract():
    s = scored()
    before = s.copy()
    z = am.rollup_to_schools(s, schools((-102.45, 31.85), (-102.35, 31.85)))
    np.testing.assert_allclose(z["households"], [100, 300], rtol=1e-3)
    np.testing.assert_allclose(z["unserved_share"], [0.5, 0.1], rtol=1e-3)
    np.testing.assert_allclose(z["priority"], s["priority"], rtol=1e-3)
    assert z["priority_rank"].tolist() == [1, 2]
    assert z.crs.to_epsg() == 4326
    assert z.geometry.geom_type.tolist() == ["Point", "Point"]
    assert "unserved locations 50%" in z["drivers"].iloc[0]
    pd.testing.assert_frame_equal(pd.DataFrame(s), pd.DataFrame(before))


def test_single_school_gets_everything_and_weighted_rates():
    z = am.rollup_to_schools(scored(), schools((-102.40, 31.85)))
    assert z["households"].iloc[0] == pytest.approx(400)
    assert z["locations"].iloc[0] == pytest.approx(400)
    assert z["unserved_share"].iloc[0] == pytest.approx(88 / 400)  # recomputed from counts
    # household rate: (100 * 0.3 + 300 * 0.1) / 400
    assert z["no_internet_share"].iloc[0] == pytest.approx(0.15)


def test_voronoi_split_conserves_totals():
    # three schools along the middle: the cell borders cut both tracts
    sch = schools((-102.47, 31.85), (-102.40, 31.83), (-102.31, 31.87))
    z = am.rollup_to_schools(scored(), sch)
    for col, total in (("households", 400), ("locations", 400), ("unserved", 88)):
        assert z[col].sum() == pytest.approx(total, rel=1e-9)
        cons = z.attrs["assetmap"]["rollup"]["conservation"][col]
        assert cons["tracts"] == pytest.approx(cons["zones"], rel=1e-9)
    assert (z["households"] > 0).all()


def test_point_weights_split_a_tract():
    # one tract, two schools; 3 of 4 households' weight sits west of the Voronoi border
    t = gpd.GeoDataFrame({"GEOID": [IDS[0]], "households": [1000], "unserved_share": [0.2]},
                         geometry=[LEFT], crs=4326)
    s = am.score_tracts(t, sensitivity_draws=0)
    sch = schools((-102.48, 31.85), (-102.42, 31.85))
    pts = gpd.GeoDataFrame({"GEOID": ["481350001001", "481350001002"], "households": [3, 1]},
                           geometry=[Point(-102.49, 31.85), Point(-102.41, 31.85)], crs=4326)
    z = am.rollup_to_schools(s, sch, points=pts, weight="households")
    np.testing.assert_allclose(z["households"], [750, 250])
    area = am.rollup_to_schools(s, sch)
    np.testing.assert_allclose(area["households"], [500, 500], rtol=1e-3)  # by area: halves
    assert "point weight" in z.attrs["assetmap"]["rollup"]["split"]


def test_colocated_schools_share_their_cell():
    z = am.rollup_to_schools(scored(), schools((-102.45, 31.85), (-102.45, 31.85),
                                               (-102.35, 31.85)))
    np.testing.assert_allclose(z["households"], [50, 50, 300], rtol=1e-3)
    assert z["households"].sum() == pytest.approx(400)


def test_zones_that_miss_part_of_a_tract_warn_and_report():
    zones = gpd.GeoDataFrame({"school_id": ["s0"]}, geometry=[LEFT], crs=4326)
    sch = schools((-102.45, 31.85))
    with pytest.warns(RejectedRowsWarning, match="households"):
        z = am.rollup_to_schools(scored(), sch, zones=zones)
    assert z["households"].tolist() == pytest.approx([100])
    assert z["name"].tolist() == ["School 0"]
    cons = z.attrs["assetmap"]["rollup"]["conservation"]["households"]
    assert cons["uncovered"] == pytest.approx(300)
    assert z.geometry.geom_type.tolist() == ["Polygon"]


def test_bad_weight_option():
    with pytest.raises(ConfigError, match="households"):
        am.rollup_to_schools(scored(), schools((-102.45, 31.85)), weight="people")


def test_real_ector_rollup_conserves_households(ector_dir):
    t = gpd.read_file(ector_dir / "boundaries" / "ector_tracts_2020.geojson")
    inc = pd.read_csv(ector_dir / "acs" / "acs_b19001_tracts_ector_midland_andrews.csv",
                      dtype={"GEOID": str})
    acs = pd.DataFrame({"GEOID": inc["GEOID"], "households": inc["B19001_001E"]})
    raw = pd.read_csv(ector_dir / "schools" / "tea_schools_2023_24_ector_midland_andrews.csv")
    raw = raw[raw["County"] == "ECTOR"]
    sch = gpd.GeoDataFrame({"school_id": [f"s{i}" for i in range(len(raw))],
                            "name": raw["School_name"].to_numpy()},
                           geometry=gpd.points_from_xy(raw["lon"], raw["lat"]), crs=4326)
    bg = gpd.read_file(ector_dir / "population" / "ector_blockgroups_2020_popcentroids.geojson")
    s = am.score_tracts(t, acs=acs, sensitivity_draws=0)
    z = am.rollup_to_schools(s, sch, points=bg, weight="households")
    assert len(z) == len(sch)
    assert z["households"].sum() == pytest.approx(62_422, rel=1e-9)  # ACS county total


def test_site_connectivity_h3_then_tract():
    sites = gpd.GeoDataFrame({"site_id": ["a", "b", "c"],
                              "GEOID": ["48135000100", "48135000200", "48135000300"]},
                             geometry=[Point(-102.40, 31.85), Point(-102.30, 31.85),
                                       Point(-102.20, 31.85)], crs=4326)
    cell_a = h3.latlng_to_cell(31.85, -102.40, 8)
    levels = pd.DataFrame({"location_id": ["1", "2", "3"], "h3_res8_id": [cell_a] * 3,
                           "service_level": ["served", "unserved", "unserved"],
                           "has_fiber": [True, False, False]})
    service = pd.DataFrame({"GEOID": ["48135000100", "48135000200"],
                            "unserved_share": [0.0, 0.2], "underserved_share": [0.1, 0.3],
                            "served_share": [0.9, 0.5], "fiber_share": [0.8, 0.0]})
    before = sites.copy()
    out = am.site_connectivity(sites, levels=levels, service=service)
    assert out["site_level_source"].tolist() == ["h3_res8", "tract", "none"]
    assert out["site_service_level"].tolist()[:2] == ["unserved", "served"]
    assert pd.isna(out["site_service_level"].iloc[2])
    assert out["site_fiber_share"].iloc[0] == pytest.approx(1 / 3)
    assert out["site_fiber"].tolist()[:2] == [True, False]
    assert out["needs_connectivity_fix"].tolist()[:2] == [True, False]
    assert pd.isna(out["needs_connectivity_fix"].iloc[2])
    pd.testing.assert_frame_equal(pd.DataFrame(sites), pd.DataFrame(before))


def test_site_connectivity_locates_sites_in_scored_tracts():
    s = scored(underserved_share=[0.1, 0.0], served_share=[0.4, 0.9])
    sites = gpd.GeoDataFrame({"site_id": ["x"]}, geometry=[Point(-102.45, 31.85)], crs=4326)
    out = am.site_connectivity(sites, service=s)
    assert out["site_service_level"].tolist() == ["unserved"]  # 0.5 unserved > 0.4 served
