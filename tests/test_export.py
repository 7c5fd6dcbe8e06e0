"""CSV and GeoPackage exports: formula injection neutralised, layers round-trip, report sidecar."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/ helper modules
import outputs_fixtures as fx

import assetmap as am
from assetmap.errors import ConfigError

CELLS = [
    '=HYPERLINK("http://x")',
    "+1+cmd|' /C calc'!A0",
    "-2.5",
    "@SUM(A1)",
    "plain",
    "-abc",
    "+3",
    "\t=1",
    "1e-3",
]
EXPECTED = [
    '\'=HYPERLINK("http://x")',
    "'+1+cmd|' /C calc'!A0",
    "-2.5",
    "'@SUM(A1)",
    "plain",
    "'-abc",
    "+3",
    "'\t=1",
    "1e-3",
]


def test_csv_neutralises_formulas_but_keeps_numbers(tmp_path):
    frame = pd.DataFrame({"name": CELLS, "value": range(len(CELLS))})
    files = am.export_layers({"t": frame}, tmp_path, formats=["csv"])
    back = pd.read_csv(files["t"][0], dtype=str, keep_default_na=False)
    assert back["name"].tolist() == EXPECTED
    assert back["value"].tolist() == [str(i) for i in range(len(CELLS))]


def test_every_layer_round_trips_through_geopackage_with_its_report(tmp_path):
    scored = fx.scored_ector()
    sites = fx.sites_ector(names=["=cmd()", "Library"])
    files = am.export_layers({"tracts": scored, "sites": sites}, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [
            "tracts.csv",
            "tracts.gpkg",
            "tracts.report.json",
            "sites.csv",
            "sites.gpkg",
            "sites.report.json",
        ]
    )
    back = gpd.read_file(tmp_path / "tracts.gpkg")
    assert len(back) == len(scored)
    assert back.crs.to_epsg() == 4326
    assert back["GEOID"].tolist() == scored["GEOID"].tolist()
    pd.testing.assert_series_equal(back["priority"], scored["priority"], check_names=False)
    report = json.loads((tmp_path / "tracts.report.json").read_text())
    assert report["illustrative"] is True
    assert report["sources"] == scored.attrs["assetmap"]["sources"]
    csv = pd.read_csv(tmp_path / "sites.csv", dtype={"name": str})
    assert csv["name"].tolist() == ["'=cmd()", "Library"]
    assert csv["lon"].round(6).tolist() == sites.geometry.x.round(6).tolist()
    assert "wkt" in pd.read_csv(tmp_path / "tracts.csv", nrows=1).columns
    assert files["sites"][0].suffix == ".csv"


def test_bad_formats_and_names_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="formats"):
        am.export_layers({"t": pd.DataFrame()}, tmp_path, formats=["xlsx"])
    with pytest.raises(ConfigError, match="layer name"):
        am.export_layers({"../escape": pd.DataFrame()}, tmp_path)
