"""The district as the study area: tracts that meet it, each with its share of households.

The district boundary used here is SYNTHETIC: the part of Ector County east of 102.38 deg W
(built from the real county outline, data/ector/boundaries/ector_county_2020.geojson), so that
it cuts tracts, unlike the shipped Ector County ISD proxy (the county outline itself). The
block-group points are the real 2020 population centres (data/ector/population/).
"""

from __future__ import annotations

import tomllib
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

import assetmap as am
from assetmap.datasets import data_path
from tests.http_fixtures import FaultServer, Reply, acs_api_body, shapefile_zip, tiger_tract_zip

CUT_LON = -102.38  # the synthetic district is Ector County east of this longitude
STUDY = Path(__file__).resolve().parents[1] / "examples" / "ector_county" / "study.toml"


def _county() -> gpd.GeoDataFrame:
    return gpd.read_file(data_path("boundaries", "ector_county_2020.geojson")).to_crs(4326)


def _synthetic_district() -> gpd.GeoDataFrame:
    county = _county()
    bounds = county.total_bounds
    part = county.clip(box(CUT_LON, bounds[1] - 1, bounds[2] + 1, bounds[3] + 1))
    return gpd.GeoDataFrame({"NAME": ["SYNTHETIC district: Ector County east of 102.38 W"]},
                            geometry=part.geometry.to_numpy(), crs=4326)


def _tracts() -> gpd.GeoDataFrame:
    return am.load_tracts(path=data_path("boundaries", "ector_tracts_2020.geojson"),
                          state="TX", county="Ector", year=2020, source="cb")


def _points() -> gpd.GeoDataFrame:
    return gpd.read_file(data_path("population", "ector_blockgroups_2020_popcentroids.geojson"))


def _expected_shares() -> pd.Series:
    """Each tract's share of population east of the cut, from the CSV's coordinates alone."""
    table = pd.read_csv(data_path("population", "ector_blockgroups_2020_pl_population.csv"),
                        dtype={"TRACT_GEOID": str})
    east = table["POP2020"].where(table["popctr_lon"] > CUT_LON, 0)
    by_tract = east.groupby(table["TRACT_GEOID"]).sum() / table.groupby("TRACT_GEOID")[
        "POP2020"].sum()
    return by_tract[by_tract > 0]


def test_shares_are_the_households_of_block_groups_inside_the_district():
    tracts, district, points = _tracts(), _synthetic_district(), _points()
    before = (tracts.copy(), district.copy(), points.copy())
    out = am.district_tracts(tracts, district, points=points, weight="POP2020")
    expected = _expected_shares()
    assert sorted(out["GEOID"]) == sorted(expected.index)
    assert 0 < len(out) < len(tracts)
    got = out.set_index("GEOID")["household_share"]
    np.testing.assert_allclose(got[expected.index].to_numpy(), expected.to_numpy(), atol=1e-12)
    assert (got < 1).sum() >= 3  # the synthetic district cuts tracts
    assert set(out["household_share_method"]) == {"points"}
    report = out.attrs["assetmap"]
    assert report["rows_read"] == report["rows_out"] + sum(report["rejected"].values())
    for frame, copy in zip((tracts, district, points), before, strict=True):
        pd.testing.assert_frame_equal(frame, copy)


def test_the_shipped_demo_district_holds_every_household_of_every_tract():
    demo_outline = gpd.read_file(
        data_path("boundaries", "ecisd_boundary_proxy_county_outline.geojson"))
    out = am.district_tracts(_tracts(), demo_outline, points=_points(), weight="POP2020")
    assert len(out) == 33
    assert (out["household_share"] == 1.0).all()


def test_without_points_the_share_is_the_area_inside():
    tracts = gpd.GeoDataFrame({"GEOID": ["48135000100", "48135000200"]},
                              geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs=4326)
    out = am.district_tracts(tracts, gpd.GeoSeries([box(0.5, 0, 1.0, 1)], crs=4326))
    assert out["GEOID"].tolist() == ["48135000100"]  # the other only touches the line
    assert out["household_share"].iloc[0] == pytest.approx(0.5, abs=1e-3)
    assert out["household_share_method"].iloc[0] == "area"


def test_a_district_over_two_counties_takes_tracts_of_both():
    tracts = gpd.GeoDataFrame(
        {"GEOID": ["48135000100", "48329000100", "48329000200"]},
        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 3, 1)], crs=4326)
    points = gpd.GeoDataFrame(
        {"TRACT_GEOID": ["48135000100", "48329000100", "48329000100", "48329000200"],
         "households": [50.0, 30.0, 10.0, 40.0]},
        geometry=[Point(0.5, 0.5), Point(1.2, 0.5), Point(1.8, 0.5), Point(2.5, 0.5)],
        crs=4326)
    out = am.district_tracts(tracts, gpd.GeoSeries([box(0.2, 0, 1.5, 1)], crs=4326),
                             points=points)
    assert out.set_index("GEOID")["household_share"].to_dict() == {
        "48135000100": 1.0, "48329000100": 0.75}


def test_points_without_the_weight_column_are_refused_with_the_columns_named():
    with pytest.raises(am.errors.SchemaError, match=r"no 'households' column.*POP2020"):
        am.district_tracts(_tracts(), _synthetic_district(), points=_points())


def _zipped_shapefile(folder: Path) -> Path:
    shp = folder / "district.shp"
    _synthetic_district().to_file(shp)
    archive = folder / "district.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in folder.glob("district.*"):
            if part.suffix != ".zip":
                zf.write(part, part.name)
    return archive


@pytest.fixture(scope="module")
def district_run(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("district")
    data = tomllib.loads(STUDY.read_text(encoding="utf-8"))
    data["area"]["district_boundary"] = str(_zipped_shapefile(folder))
    data["outputs"] = {"dir": str(folder / "out"), "formats": ["html", "png", "markdown", "csv"],
                       "offline_html": False}
    study = am.Study.from_dict(data, path=STUDY)
    with pytest.warns(am.errors.RejectedRowsWarning):  # partners, survey outside the district
        result = study.run()
    return study, result


def test_a_study_with_a_district_file_scores_only_its_tracts(district_run):
    _, result = district_run
    scored = result.scored
    assert sorted(scored["GEOID"]) == sorted(_expected_shares().index)
    share = scored.set_index("GEOID")["household_share"]
    acs = result.sources.acs.set_index("GEOID")["households"]
    assert scored.set_index("GEOID")["households"].to_dict() == pytest.approx(
        (acs[share.index] * share).to_dict())
    service = result.sources.service.set_index("GEOID")
    for column in ("locations", "unserved", "underserved"):
        district_total = float((service.loc[share.index, column] * share).sum())
        assert float(scored[column].sum()) == pytest.approx(district_total)
    assert set(result.results.evidence["GEOID"]) == set(scored["GEOID"])
    cells = result.results.h3_cells  # kept: centres inside the district only
    assert 0 < len(cells) < result.sources.locations["h3_res8_id"].nunique()
    import h3

    centres = [Point(lng, lat) for lat, lng in map(h3.cell_to_latlng, cells["h3_res8_id"])]
    assert all(p.x > CUT_LON for p in centres)


def test_the_outputs_say_the_share_and_hash_the_boundary_file(district_run):
    study, result = district_run
    text = result.paths["markdown"].read_text(encoding="utf-8")
    partial = result.scored[result.scored["household_share"] < 1]
    for _, row in partial.iterrows():
        pct = f"{row['household_share'] * 100:.0f}%"
        assert f"{row['NAMELSAD']}: {pct} of its households are in the district" in text
    table = pd.read_csv(result.paths["tracts.csv"], dtype={"GEOID": str})
    assert "household_share" in table.columns
    hashed = [Path(f["path"]).name for f in result.manifest["inputs"]]
    assert Path(study.config.district_boundary).name in hashed
    assert result.paths["png"].stat().st_size > 0
    assert "District boundary" in result.paths["html"].read_text(encoding="utf-8")


def _tiger_bg_zip() -> bytes:
    """TIGER-format block groups: small squares around the real 2020 population centres,
    each with its centre as the internal point (INTPTLAT/INTPTLON)."""
    table = pd.read_csv(data_path("population", "ector_blockgroups_2020_pl_population.csv"),
                        dtype={"GEOID": str})
    frame = gpd.GeoDataFrame(
        {"STATEFP": "48", "COUNTYFP": "135", "TRACTCE": table["GEOID"].str[5:11],
         "BLKGRPCE": table["GEOID"].str[11], "GEOID": table["GEOID"],
         "INTPTLAT": table["popctr_lat"].map("{:+.7f}".format),
         "INTPTLON": table["popctr_lon"].map("{:+.7f}".format)},
        geometry=[box(x - 0.001, y - 0.001, x + 0.001, y + 0.001)
                  for x, y in zip(table["popctr_lon"], table["popctr_lat"], strict=True)],
        crs=4326).to_crs(4269)
    return shapefile_zip(frame, "tl_2020_48_bg")


def _tiger_county_zip() -> bytes:
    """Ector County and a SYNTHETIC second county (Ector moved 2 degrees west, GEOID 48003)."""
    ector = _county()
    other = ector.copy()
    other["GEOID"], other["COUNTYFP"], other["NAME"] = "48003", "003", "Synthetic"
    other = other.set_geometry(other.translate(xoff=-2.0))
    return shapefile_zip(pd.concat([ector, other], ignore_index=True).to_crs(4269),
                         "tl_2020_us_county")


def _households_by_bg() -> pd.Series:
    table = pd.read_csv(data_path("population", "ector_blockgroups_2020_pl_population.csv"),
                        dtype={"GEOID": str})
    return (table.set_index("GEOID")["POP2020"] // 3).astype(int)


def _acs_api(query: dict[str, list[str]]) -> Reply:
    names = query["get"][0].split(",")
    block_groups = query["for"][0].startswith("block group")
    ids = (list(_households_by_bg().index) if block_groups
           else sorted(_tracts()["GEOID"]))
    households = _households_by_bg()
    rows = []
    for i, geoid in enumerate(ids):
        cells = []
        for name in names:
            if name == "NAME":
                cells.append(f"Area {geoid}")
            elif name == "B19001_001E" and block_groups:
                cells.append(str(households[geoid]))
            elif name.endswith("_001E"):
                cells.append(str(1000 + 10 * i))
            else:
                cells.append(str(20 + i % 7) if name.endswith("E") else "15")
        parts = [geoid[:2], geoid[2:5], geoid[5:11]] + ([geoid[11]] if block_groups else [])
        rows.append([*cells, *parts])
    geo = ["state", "county", "tract"] + (["block group"] if block_groups else [])
    return Reply(body=acs_api_body([*names, *geo], rows),
                 headers={"Content-Type": "application/json"})


def test_an_online_study_takes_the_tiger_district_its_counties_and_block_groups():
    district = _synthetic_district().assign(
        STATEFP="48", UNSDLEA="99999", GEOID="4899999", NAME="SYNTHETIC ISD").to_crs(4269)
    server = FaultServer()
    try:
        server.route("/TIGER2020/UNSD/tl_2020_48_unsd.zip",
                     Reply(body=shapefile_zip(district, "tl_2020_48_unsd")))
        server.route("/TIGER2020/COUNTY/tl_2020_us_county.zip", Reply(body=_tiger_county_zip()))
        server.route("/TIGER2020/TRACT/tl_2020_48_tract.zip", Reply(body=tiger_tract_zip()))
        server.route("/TIGER2020/BG/tl_2020_48_bg.zip", Reply(body=_tiger_bg_zip()))
        server.respond("/data/2023/acs/acs5", _acs_api)
        study = am.Study.from_dict({
            "area": {"state": "TX", "district": "4899999"},  # no counties: found from it
            "census": {"year": 2020, "base_url": server.base,
                       "acs_base_url": server.url("/data")},
        })
        sources = study.load()
        scored = study.analyse(sources).scored
    finally:
        server.close()
    assert sources.district["GEOID"].tolist() == ["4899999"]
    assert sources.county["GEOID"].tolist() == ["48135"]  # not the synthetic 48003
    queries = " ".join(server.queries("/data/2023/acs/acs5"))
    assert "block+group" in queries or "block%20group" in queries
    weights = _households_by_bg()
    table = pd.read_csv(data_path("population", "ector_blockgroups_2020_pl_population.csv"),
                        dtype={"GEOID": str, "TRACT_GEOID": str}).set_index("GEOID")
    east = weights.where(table["popctr_lon"] > CUT_LON, 0)
    expected = (east.groupby(table["TRACT_GEOID"]).sum()
                / weights.groupby(table["TRACT_GEOID"]).sum())
    expected = expected[expected > 0]
    got = sources.tracts.set_index("GEOID")["household_share"]
    assert sorted(got.index) == sorted(expected.index)
    np.testing.assert_allclose(got[expected.index].to_numpy(), expected.to_numpy(), atol=1e-12)
    acs = sources.acs.set_index("GEOID")["households"]
    assert scored.set_index("GEOID")["households"].to_dict() == pytest.approx(
        (acs[got.index] * got).to_dict())
