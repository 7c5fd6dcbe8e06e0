"""Privacy audit: build the whole demo with the illustrative survey and scan every output.

The demo (``assetmap.pipeline.run_demo``) reads ``data/ector/survey/*illustrative*.csv``
(about 1,500 made-up households with 6-decimal coordinates) and writes the interactive map,
the print map (PNG and PDF), the report, CSV and GeoPackage exports, their report sidecars and
the manifest. This test reads every file back and checks:

* no household coordinate appears at 4 or more decimals (about 11 m): not as a number pair in
  any text (HTML, PDF text read with pypdf, CSV, JSON), and not as a point or attribute pair
  in any GeoPackage layer. Coordinates of public geography (shipped tract and county outlines,
  vertices of the H3 grid, school and partner-site points) that happen to coincide with a
  household at that precision (a few metres) are told apart and not counted;
* every published survey cell has at least ``min_cell`` responses (10) or is suppressed, and a
  suppressed row carries no count or rate;
* no output holds the survey's own columns (household answers) or its row count per household.

PNG images hold no text and are listed as not scanned.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pypdf
import pytest
import shapely
from matplotlib.figure import Figure

from assetmap.datasets import data_path

pytestmark = pytest.mark.slow

SURVEY = next(data_path("survey").glob("*illustrative*.csv"))
MIN_CELL = 10
PRECISION = 4
_NUMBER = r"-?\d{1,3}\.\d{4,}"
_PAIR = re.compile(rf"({_NUMBER})[\s,;:\]\[\"'()]{{1,6}}({_NUMBER})")
SURVEY_COUNTS = ["home_none", "home_mobile_only", "home_slow", "home_broadband", "no_device",
                 "reason_not_available", "reason_cost", "reason_other", "device_responses"]
SURVEY_RATES = ["survey_no_internet_rate", "survey_limited_rate", "survey_no_device_rate"]


def _key(lon: float, lat: float) -> tuple[float, float]:
    return (round(float(lon), PRECISION), round(float(lat), PRECISION))


@pytest.fixture(scope="module")
def households() -> set[tuple[float, float]]:
    raw = pd.read_csv(SURVEY, dtype={"GEOID": str})
    located = raw.dropna(subset=["lat", "lon"])
    assert len(located) > 1000
    # the file's own precision: 6 decimals
    assert raw["lat"].dropna().astype(str).str.split(".").str[1].str.len().max() == 6
    keys = {_key(lon, lat) for lon, lat in zip(located["lon"], located["lat"], strict=True)}
    keys |= {_key(lat, lon) for lon, lat in zip(located["lon"], located["lat"], strict=True)}
    return keys


def _h3_vertices() -> set[tuple[float, float]]:
    """Vertices of the public H3 grid (resolution 8) over Ector County."""
    import h3

    county = gpd.read_file(data_path("boundaries", "ector_county_2020.geojson"))
    shape = h3.geo_to_h3shape(county.geometry.iloc[0].buffer(0.02).__geo_interface__)
    cells = h3.h3shape_to_cells(shape, 8)
    return {_key(lon, lat) for cell in cells for lat, lon in h3.cell_to_boundary(cell)}


def _public_keys(demo_out: Path) -> set[tuple[float, float]]:
    """Coordinates of public geography: outlines, the H3 grid, school and site points."""
    keys: set[tuple[float, float]] = _h3_vertices()
    for parts in (("boundaries", "ector_tracts_2020.geojson"),
                  ("boundaries", "ector_county_2020.geojson"),
                  ("schools", "nces_ccd_2013_14_schools_ector.geojson"),
                  ("schools", "tea_schools_2023_24_ector.geojson")):
        coords = shapely.get_coordinates(gpd.read_file(data_path(*parts)).geometry.to_numpy())
        keys |= {_key(x, y) for x, y in coords}
    for name in ("ector_county_sites.gpkg", "ector_county_plan.gpkg"):
        if (demo_out / name).exists():
            frame = gpd.read_file(demo_out / name)
            keys |= {_key(x, y) for x, y in shapely.get_coordinates(frame.geometry.to_numpy())}
    return keys


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from assetmap.pipeline import run_demo  # internal: the shipped demo build; not an am name

    out = tmp_path_factory.mktemp("demo")
    run_demo(out)
    return out


def _text_of(path: Path) -> str | None:
    suffix = path.suffix.lower()
    if suffix in {".html", ".md", ".csv", ".json", ".txt", ".svg"}:
        return path.read_text("utf-8", errors="replace")
    if suffix == ".pdf":
        # pypdf >= 7.1 yields the same words as poppler's pdftotext for matplotlib's PDFs
        # (earlier releases split kerned words: "T exas")
        return "\n".join(page.extract_text() for page in pypdf.PdfReader(path).pages)
    return None


def scan(folder: Path, private: set[tuple[float, float]]) -> tuple[list, list, list]:
    """Return (leaks, files scanned, files skipped) for every file under ``folder``."""
    scanned, leaks, skipped = [], [], []
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        if path.suffix.lower() == ".gpkg":
            for layer, _ in pyogrio.list_layers(path):
                frame = gpd.read_file(path, layer=layer)
                coords = shapely.get_coordinates(frame.geometry.to_numpy())
                points = frame.geometry.geom_type.isin(["Point", "MultiPoint"]).all()
                found = {_key(x, y) for x, y in coords} & (private if points else set())
                numeric = frame.select_dtypes("number")
                for a in numeric.columns:
                    for b in numeric.columns:
                        if a != b:
                            pairs = zip(numeric[a].to_numpy(), numeric[b].to_numpy(),
                                        strict=True)
                            found |= {_key(x, y) for x, y in pairs
                                      if np.isfinite(x) and np.isfinite(y)} & private
                leaks += [(path.name, layer, k) for k in found]
            scanned.append(path.name)
            continue
        text = _text_of(path)
        if text is None:
            skipped.append(path.name)
            continue
        pairs = {_key(float(a), float(b)) for a, b in _PAIR.findall(text)}
        leaks += [(path.name, k) for k in pairs & private]
        scanned.append(path.name)
    return leaks, scanned, skipped


def test_scanner_finds_a_planted_household(tmp_path, households):
    raw = pd.read_csv(SURVEY).dropna(subset=["lat", "lon"])
    lat, lon = raw["lat"].iloc[0], raw["lon"].iloc[0]
    (tmp_path / "a.csv").write_text(f"id,lon,lat\n1,{lon:.4f},{lat:.4f}\n")
    (tmp_path / "b.html").write_text(f'<script>var p = [{lon:.5f}, {lat:.5f}];</script>')
    gpd.GeoDataFrame({"id": [1]}, geometry=gpd.points_from_xy([lon], [lat]),
                     crs=4326).to_file(tmp_path / "c.gpkg")
    figure = Figure(figsize=(4, 3))
    figure.text(0.1, 0.5, f"Household at {lon:.5f}, {lat:.5f}")
    figure.savefig(tmp_path / "d.pdf")
    leaks, scanned, _ = scan(tmp_path, households)
    assert {leak[0] for leak in leaks} == {"a.csv", "b.html", "c.gpkg", "d.pdf"}
    assert len(scanned) == 4


def test_print_map_pdf_text_is_read(demo_out):
    text = _text_of(next(demo_out.glob("*priority_map.pdf")))
    assert "Ector County, Texas: where families are cut off" in text
    assert "Sources: US Census Bureau" in text
    assert "Illustrative (synthetic) data" in text


def test_no_household_coordinate_in_any_output(demo_out, households):
    private = households - _public_keys(demo_out)
    leaks, scanned, skipped = scan(demo_out, private)
    assert not leaks, f"household coordinates in the outputs: {leaks[:10]}"
    kinds = {Path(name).suffix for name in scanned}
    assert {".html", ".pdf", ".csv", ".gpkg", ".json"} <= kinds
    assert all(name.endswith(".png") for name in skipped)
    assert len(scanned) >= 12


def _survey_tables(demo_out: Path) -> list[tuple[str, pd.DataFrame]]:
    tables = []
    for path in sorted(demo_out.glob("*.csv")):
        frame = pd.read_csv(path)
        if "responses" in frame:
            tables.append((path.name, frame))
    for path in sorted(demo_out.glob("*.gpkg")):
        for layer, _ in pyogrio.list_layers(path):
            frame = pyogrio.read_dataframe(path, layer=layer, read_geometry=False)
            if "responses" in frame:
                tables.append((f"{path.name}:{layer}", frame))
    return tables


def test_no_unsuppressed_small_cell(demo_out):
    tables = _survey_tables(demo_out)
    assert tables, "the demo publishes the survey rates in its tract layer"
    for name, frame in tables:
        suppressed = frame["suppressed"].astype(str).str.lower().isin(["true", "1"])
        published = frame.loc[~suppressed]
        responses = pd.to_numeric(published["responses"], errors="coerce")
        assert (responses.dropna() >= MIN_CELL).all(), name
        hidden = frame.loc[suppressed, [c for c in [*SURVEY_COUNTS, *SURVEY_RATES, "responses"]
                                        if c in frame]]
        assert hidden.isna().all().all(), f"{name}: a suppressed row carries numbers"
    # the map's survey layer: every published responses figure is >= min_cell too
    html = next(demo_out.glob("*equity_map.html")).read_text("utf-8")
    for match in re.finditer(r'"responses"\s*:\s*(\d+(?:\.\d+)?)', html):
        assert float(match.group(1)) >= MIN_CELL


def test_no_household_rows_or_answers_in_outputs(demo_out):
    raw = pd.read_csv(SURVEY)
    answer_columns = {"home_internet", "device", "reason"}
    for path in sorted(demo_out.glob("*.csv")):
        columns = set(pd.read_csv(path, nrows=0).columns)
        assert not columns & answer_columns, path.name
    manifest = json.loads((demo_out / "manifest.json").read_text("utf-8"))
    survey_report = manifest["loaded"].get("survey")
    assert survey_report is not None
    assert survey_report["rows_read"] == len(raw)  # a count, never the rows
    assert survey_report["rows_out"] <= 40  # one row per tract
