"""Access measures: hand-computed distances, reach, 2SFCA, decay, coverage, CRS choice."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Geod
from shapely.geometry import Point, box

import assetmap as am
from assetmap.analysis.access import (  # internal: decay factories (not in am), points, CRS choice
    area_points,
    gaussian,
    linear,
    step_fn,
    study_crs,
)
from assetmap.errors import ConfigError, SchemaError

GEOD = Geod(ellps="WGS84")
LAT = 31.85


def east(lon0: float, metres: float, lat: float = LAT) -> float:
    """Longitude ``metres`` east of lon0 along the parallel (independent of the code)."""
    lon, _, _ = GEOD.fwd(lon0, lat, 90, metres)
    return lon


def geodesic(a: Point, b: Point) -> float:
    return GEOD.inv(a.x, a.y, b.x, b.y)[2]


def areas_at(lons, lat=LAT, **cols) -> gpd.GeoDataFrame:
    ids = [f"4813500{i + 1:02d}00" for i in range(len(lons))]
    return gpd.GeoDataFrame({"GEOID": ids, **cols},
                            geometry=[Point(x, lat) for x in lons], crs=4326)


def test_nearest_distance_matches_geodesic_and_filters():
    areas = areas_at([-102.40, -102.30]).set_index(pd.Index(["a", "b"]))
    sites = gpd.GeoDataFrame(
        {"site_type": ["library", "school", "library"],
         "svc_public_wifi": [True, False, False]},
        geometry=[Point(-102.40, 31.86), Point(-102.31, 31.85), Point(-102.25, 31.85)],
        crs=4326,
    )
    before = sites.copy()
    lib = am.nearest_site_distance(areas, sites, site_type="library")
    assert lib.index.tolist() == ["a", "b"]
    expect = [geodesic(Point(-102.40, LAT), Point(-102.40, 31.86)),
              geodesic(Point(-102.30, LAT), Point(-102.25, LAT))]
    np.testing.assert_allclose(lib.to_numpy(), expect, rtol=2e-3)
    wifi = am.nearest_site_distance(areas, sites, service="public_wifi")
    assert wifi.name == "dist_public_wifi_m"
    np.testing.assert_allclose(wifi.iloc[1],
                               geodesic(Point(-102.30, LAT), Point(-102.40, 31.86)), rtol=2e-3)
    assert am.nearest_site_distance(areas, sites, site_type="hotspot").isna().all()
    pd.testing.assert_frame_equal(pd.DataFrame(sites), pd.DataFrame(before))
    with pytest.raises(SchemaError, match="svc_tutoring"):
        am.nearest_site_distance(areas, sites, service="tutoring")


def test_area_points_weighted_internal_and_representative():
    polys = gpd.GeoDataFrame(
        {"GEOID": ["48135000100", "48135000200", "48135000300"],
         "INTPTLAT": [None, "+31.8500000", None], "INTPTLON": [None, "-102.3000000", None]},
        geometry=[box(-102.5, 31.8, -102.4, 31.9), box(-102.4, 31.8, -102.3, 31.9),
                  box(-102.3, 31.8, -102.2, 31.9)], crs=4326)
    pts = gpd.GeoDataFrame({"GEOID": ["481350001001", "481350001002"], "POP2020": [300, 100]},
                           geometry=[Point(-102.48, 31.85), Point(-102.44, 31.85)], crs=4326)
    out = area_points(polys, points=pts)
    assert out["point_source"].tolist() == ["weighted", "internal", "representative"]
    # weighted mean of the projected coordinates: 3/4 of the way to the heavier point
    assert out.geometry.x.iloc[0] == pytest.approx(-102.47, abs=1e-4)
    assert out.geometry.y.iloc[0] == pytest.approx(31.85, abs=1e-4)
    assert (out.geometry.x.iloc[1], out.geometry.y.iloc[1]) == (-102.3, 31.85)
    assert polys.geometry.iloc[2].contains(out.geometry.iloc[2])


def test_sites_within_reach_by_rurality_and_explicit():
    areas = areas_at([-102.40, -102.40], rural=[False, True])
    sites = gpd.GeoDataFrame(geometry=[Point(east(-102.40, d), LAT)
                                       for d in (1000, 3000, 5000, 15000, 17000)], crs=4326)
    out = am.sites_within_reach(areas, sites)
    assert out["sites_within_reach"].tolist() == [2, 4]  # 2 miles urban, 10 miles rural
    assert out["reach_m"].tolist() == [3218.7, 16093.4]
    out = am.sites_within_reach(areas, sites, reach_m=5500)
    assert out["sites_within_reach"].tolist() == [3, 3]
    out = am.sites_within_reach(areas, sites, rural=pd.Series([True, True]), rural_reach_m=20000)
    assert out["sites_within_reach"].tolist() == [5, 5]
    with pytest.raises(ConfigError):
        am.sites_within_reach(areas, sites, reach_m=-1)


def test_two_step_fca_hand_computed():
    x0 = -102.40
    demand = areas_at([x0, east(x0, 2000)], children=[100, 300])
    supply = gpd.GeoDataFrame({"capacity_seats": [40.0, 10.0]},
                              geometry=[Point(east(x0, 1000), LAT), Point(east(x0, 4000), LAT)],
                              crs=4326)
    # within 2.5 km: A-S1, B-S1, B-S2.  R1 = 40 / 400, R2 = 10 / 300.
    out = am.two_step_fca(demand, supply, demand_col="children", capacity_col="capacity_seats",
                          d0=2500)
    np.testing.assert_allclose(out.to_numpy(), [0.1, 0.1 + 10 / 300], rtol=1e-9)
    assert out.name == "access_2sfca"
    # linear decay, distances 1 km (A-S1, B-S1) and 2 km (B-S2), d0 = 2.5 km
    w1, w2 = 1 - 1000 / 2500, 1 - 2000 / 2500
    r1 = 40 / (100 * w1 + 300 * w1)
    r2 = 10 / (300 * w2)
    out = am.two_step_fca(demand, supply, demand_col="children", capacity_col="capacity_seats",
                          d0=2500, decay=linear(2500))
    np.testing.assert_allclose(out.to_numpy(), [r1 * w1, r1 * w1 + r2 * w2], rtol=2e-3)


def test_two_step_fca_site_without_demand_and_bad_capacity():
    demand = areas_at([-102.40], households=[50])
    supply = gpd.GeoDataFrame({"cap": [5.0, 7.0]},
                              geometry=[Point(-102.40, LAT), Point(-101.0, LAT)], crs=4326)
    out = am.two_step_fca(demand, supply, demand_col="households", capacity_col="cap", d0=3000)
    assert out.tolist() == [0.1]  # the far site has nobody in reach and adds nothing
    supply.loc[1, "cap"] = np.nan
    with pytest.raises(SchemaError, match="row 2"):
        am.two_step_fca(demand, supply, demand_col="households", capacity_col="cap", d0=3000)


def test_decay_factories():
    np.testing.assert_allclose(step_fn({1600: 1, 3200: 0.68})(np.array([0, 1600, 1601, 3200,
                                                                          3201])),
                               [1, 1, 0.68, 0.68, 0])
    np.testing.assert_allclose(linear(2000)(np.array([0, 500, 2000, 3000])), [1, 0.75, 0, 0])
    g = gaussian(1000)(np.array([0, 500, 1000, 1500]))
    e = np.exp(-0.5)
    np.testing.assert_allclose(g, [1, (np.exp(-0.125) - e) / (1 - e), 0, 0])
    with pytest.raises(ConfigError):
        linear(0)


def test_coverage_share_weighted():
    areas = areas_at([-102.40, -102.30])
    x0 = -102.40
    pts = gpd.GeoDataFrame(
        {"GEOID": ["48135000100"] * 4 + ["48135000200"], "weight": [1, 1, 2, 4, 1]},
        geometry=[Point(east(x0, d), LAT) for d in (0, 100, 250, 400)] + [Point(-102.3, LAT)],
        crs=4326)
    sites = gpd.GeoDataFrame({"wifi_radius_m": [150.0, 300.0, np.nan]},
                             geometry=[Point(x0, LAT), Point(east(x0, 1000), LAT),
                                       Point(-102.3, LAT)], crs=4326)
    # covered: the points at 0 and 100 m (weights 1 + 1) of 8; the NaN-radius site covers nothing
    out = am.coverage_share(areas, sites, points=pts)
    np.testing.assert_allclose(out.to_numpy(), [2 / 8, 0.0])


def test_crs_across_utm_zone_boundary():
    # -102 degrees is the boundary between UTM zones 13 and 14
    areas = areas_at([-102.05, -101.98])
    sites = gpd.GeoDataFrame({"site_type": ["library"] * 2},
                             geometry=[Point(-101.95, 31.9), Point(-102.10, 31.8)], crs=4326)
    crs = study_crs(areas, sites)
    assert crs.to_epsg() in (32613, 32614)
    dist = am.nearest_site_distance(areas, sites)
    expect = [min(geodesic(a, s) for s in sites.geometry) for a in areas.geometry]
    np.testing.assert_allclose(dist.to_numpy(), expect, rtol=1e-3)
    # the same study measured in the other zone gives the same answer within 0.1%
    other = 32614 if crs.to_epsg() == 32613 else 32613
    np.testing.assert_allclose(am.nearest_site_distance(areas, sites, crs=other).to_numpy(),
                               expect, rtol=1e-3)


def test_wide_studies_use_earth_centred_distances():
    areas = areas_at([-120.0, -75.0], lat=40.0)
    sites = gpd.GeoDataFrame(geometry=[Point(-119.9, 40.05), Point(-75.3, 40.1)], crs=4326)
    assert study_crs(areas, sites).to_epsg() == 4978
    dist = am.nearest_site_distance(areas, sites)
    expect = [geodesic(areas.geometry[0], sites.geometry[0]),
              geodesic(areas.geometry[1], sites.geometry[1])]
    np.testing.assert_allclose(dist.to_numpy(), expect, rtol=5e-3)
    # Alaska (wider than 18 degrees of longitude): also Earth-centred, still within 0.5%
    ak = areas_at([-165.0, -135.0], lat=61.0)
    ak_sites = gpd.GeoDataFrame(geometry=[Point(-164.0, 61.2), Point(-135.5, 60.5)], crs=4326)
    got = am.nearest_site_distance(ak, ak_sites).to_numpy()
    np.testing.assert_allclose(got, [geodesic(ak.geometry[0], ak_sites.geometry[0]),
                                     geodesic(ak.geometry[1], ak_sites.geometry[1])], rtol=5e-3)


@pytest.mark.parametrize(("lon", "lat"), [(-119.4, 36.8), (-102.4, 31.9), (-99.9, 31.5),
                                          (-74.0, 40.7), (-81.7, 27.8), (-149.9, 61.2),
                                          (-157.9, 21.3), (-66.3, 18.4)])
def test_utm_zone_is_the_one_geopandas_estimates(lon, lat):
    pts = gpd.GeoDataFrame(geometry=[Point(lon, lat), Point(lon + 0.2, lat + 0.1)], crs=4326)
    assert study_crs(pts) == pts.estimate_utm_crs()
