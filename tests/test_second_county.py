"""A second real county, end to end and offline: Midland County, TX (Midland ISD, 4830570).

``assetmap --offline build`` runs the study in ``tests/data/midland/`` (real public files cut
by ``scripts/make_second_county_fixture.py``, plus an illustrative BDC layer; see its
PROVENANCE.md). Every output a user sees is then read as text: no word of the Ector County
demo may appear in it, the names are Midland's, the tract counts are the input's and every
source states its vintage.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pypdf
import pytest
from PIL import Image

import assetmap as am
from assetmap.cli import main  # internal: the `assetmap` command, tested as main([...])

DATA = Path(__file__).resolve().parent / "data" / "midland"
STUDY = DATA / "study.toml"
STEM = "midland_county"
#: Words of the Ector demo found in src/assetmap (docstrings, the demo study, shipped data
#: names) and in the issue: places, district, programs, GEOIDs. Word-bounded ("vector" and
#: "sector" are no match).
ECTOR_WORDS = ("Ector", "Odessa", "ECISD", "Starlink", "Goldsmith", "Gardendale", "Permian",
               "48135", "4818000")
#: ... of which these must never be in the study's own inputs, so they are always checked.
NEVER_IN_INPUTS = ("Ector", "Odessa", "ECISD", "Starlink", "48135", "4818000")
NOT_STATED = re.compile(r"not stated|unknown|\bnone\b|\bnan\b", re.I)


def _word(word: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(word)}(?![A-Za-z0-9])", re.I)


def _gpkg_text(path: Path) -> str:
    """Layer names and every attribute value of a GeoPackage, as text."""
    parts = []
    for name, _ in pyogrio.list_layers(path):
        frame = pyogrio.read_dataframe(path, layer=name, read_geometry=False)
        parts += [str(name), frame.to_csv(index=False)]
    return "\n".join(parts)


def _text(path: Path) -> str:
    if path.suffix == ".gpkg":
        return _gpkg_text(path)
    if path.suffix == ".pdf":
        return "\n".join(page.extract_text() for page in pypdf.PdfReader(path).pages)
    if path.suffix == ".png":
        with Image.open(path) as image:
            return json.dumps({str(k): str(v) for k, v in image.info.items()})
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    out = tmp_path_factory.mktemp("midland") / "out"
    with am.settings.override(offline=True), warnings.catch_warnings():
        # partner sites typed 'other' are left out of NTIA's cai.csv with a
        # RejectedRowsWarning, which the command line prints to stderr
        warnings.simplefilter("default", am.errors.RejectedRowsWarning)
        code = main(["--offline", "build", str(STUDY), "--out", str(out)])
    files = sorted(p for p in out.rglob("*") if p.is_file())
    return {"code": code, "out": out, "files": files,
            "text": {p.relative_to(out).as_posix(): _text(p) for p in files},
            "manifest": json.loads((out / "manifest.json").read_text(encoding="utf-8"))}


def test_the_study_builds_offline_with_every_format_it_asks_for(built):
    assert built["code"] == 0
    names = set(built["text"])
    for name in ("equity_map.html", "priority_map.png", "priority_map.pdf", "report.html",
                 "report.md", "tracts.csv", "tracts.gpkg", "school_zones.gpkg", "plan.gpkg",
                 "sites.gpkg"):
        assert f"{STEM}_{name}" in names, name
    assert {"manifest.json", "ntia/cai.csv", "ntia/unserved.csv"} <= names
    assert all(p.stat().st_size > 0 for p in built["files"])


def test_no_word_of_the_ector_demo_in_any_output(built):
    inputs = "\n".join(_text(p) for p in DATA.iterdir() if p.suffix != ".zip"
                       and p.name != "PROVENANCE.md")
    assert [w for w in NEVER_IN_INPUTS if _word(w).search(inputs)] == []
    # a word the study's own data carry (a real "Permian Basin" hospital) is the study's
    checked = [w for w in ECTOR_WORDS if not _word(w).search(inputs)]
    assert set(NEVER_IN_INPUTS) <= set(checked)
    leaks = {f"{name}: {m.group(0)!r}"
             for name, text in built["text"].items() for w in checked
             for m in _word(w).finditer(text)}
    assert sorted(leaks) == []


def test_the_names_in_the_outputs_are_midlands(built):
    text, manifest = built["text"], built["manifest"]
    title = "Midland County, Texas: connectivity gaps and nearby resources"
    for name in (f"{STEM}_report.md", f"{STEM}_report.html", f"{STEM}_equity_map.html",
                 f"{STEM}_priority_map.pdf"):
        assert title in text[name], name
    assert manifest["area"] == {"state": "TX", "counties": ["Midland"], "district": "4830570"}
    # the school zones are Midland ISD's campuses of the TEA file, and only those
    tea = pd.read_csv(DATA / "tea_schools_2023_24_midland.csv", dtype=str)
    campuses = tea.loc[tea["District_ISD"] == "MIDLAND ISD", "School_name"]
    zones = pd.read_csv(built["out"] / f"{STEM}_school_zones.csv", dtype=str)
    assert len(campuses) == 38
    assert sorted(zones["name"]) == sorted(campuses)
    assert manifest["loaded"]["schools"]["rejected"] == {"filtered: not in district 4830570": 9}


def test_tract_counts_match_the_input_tracts(built):
    tracts = gpd.read_file(DATA / "midland_tracts_2020.geojson")
    assert len(tracts) == 37
    scored = pd.read_csv(built["out"] / f"{STEM}_tracts.csv", dtype={"GEOID": str})
    assert sorted(scored["GEOID"]) == sorted(tracts["GEOID"])
    layer = gpd.read_file(built["out"] / f"{STEM}_tracts.gpkg", layer=0)
    assert sorted(layer["GEOID"]) == sorted(tracts["GEOID"])
    report = built["text"][f"{STEM}_report.md"]
    assert "(3 of 37 tracts)" in report or " of 37 tracts" in report
    assert "ranks #1 of 37" in report
    loaded = built["manifest"]["loaded"]
    assert loaded["tracts"]["rows_out"] == 37
    assert loaded["acs"]["rows_out"] == 36  # one tract has no ACS figures in the source


def test_census_acs_and_bdc_vintages_are_stated_everywhere(built):
    text = built["text"]
    report = text[f"{STEM}_report.md"]
    stated = {
        "ACS period": "American Community Survey 5-year estimates (2019-2023)",
        "BDC as-of date": "Broadband Data Collection, fixed availability (as of June 30, 2025)",
        "tract file and year": ".geojson) (2020)",  # a local file, named as one
    }
    for name in (f"{STEM}_report.md", f"{STEM}_report.html", f"{STEM}_priority_map.pdf",
                 f"{STEM}_equity_map.html"):
        flat = " ".join(text[name].split())
        missing = [what for what, words in stated.items() if words not in flat]
        assert missing == [], name
    assert "period not stated" not in report
    vintages = {s["name"]: s.get("vintage") for s in built["manifest"]["sources"]}
    assert vintages["US Census Bureau, American Community Survey 5-year estimates"] == (
        "2019-2023")
    assert vintages["FCC Broadband Data Collection, fixed availability"] == (
        "as of June 30, 2025")
    assert vintages["Tracts (local file midland_tracts_2020.geojson)"] == "2020"


def test_every_source_states_its_vintage(built):
    sources = built["manifest"]["sources"]
    unstated = [s["name"] for s in sources
                if not s.get("vintage") or NOT_STATED.search(str(s["vintage"]))
                or "_" in str(s["vintage"])]  # a file name is no vintage
    assert unstated == []
    names = " ".join(s["name"] for s in sources)
    assert "Public Libraries Survey" in names or "IMLS" in names  # the partner sites' sources


def test_the_illustrative_bdc_layer_is_labelled_where_a_user_sees_it(built):
    text, manifest = built["text"], built["manifest"]
    assert all("illustrative" in p.name for p in DATA.glob("bdc_*"))
    assert manifest["illustrative_data"] is True
    assert manifest["loaded"]["availability"]["illustrative"] is True
    assert manifest["loaded"]["tracts"]["illustrative"] is False
    for name in (f"{STEM}_report.md", f"{STEM}_report.html", f"{STEM}_equity_map.html",
                 f"{STEM}_priority_map.pdf"):
        assert "Illustrative" in text[name], name
    # the study supplied no speed tests, survey or partner list of its own: none is named
    attribution = re.search(r"Illustrative \(synthetic\) data: ([^<\"]*)",
                            text[f"{STEM}_equity_map.html"])
    assert attribution is not None
    assert not re.search(r"speed test|survey|partner", attribution.group(1), re.I)
