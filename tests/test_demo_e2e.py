"""End to end: ``assetmap demo`` into a temporary folder, with the network switched off."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from assetmap.cli import main  # internal: the `assetmap` command, tested as main([...])
from assetmap.datasets import ILLUSTRATIVE_BDC, data_path

RELIABLE = {10, 40, 50, 71, 72}


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("demo")
    real_connect = socket.socket.connect

    def refuse(self, address):  # any connection attempt fails the run loudly
        raise AssertionError(f"the demo tried to open a network connection to {address!r}")

    socket.socket.connect = refuse  # type: ignore[method-assign]
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("ASSETMAP_OFFLINE", "1")
            code = main(["demo", "--out", str(out), "--offline", "-q"])
    finally:
        socket.socket.connect = real_connect  # type: ignore[method-assign]
    assert code == 0
    return out


def _real_geoids() -> list[str]:
    tracts = gpd.read_file(data_path("boundaries", "ector_tracts_2020.geojson"))
    return sorted(tracts["GEOID"].astype(str))


def test_demo_writes_every_output(demo_out):
    names = {p.name for p in demo_out.iterdir()}
    for expected in (
        "ector_county_equity_map.html", "ector_county_tracts.csv", "ector_county_tracts.gpkg",
        "ector_county_priority_map.png", "ector_county_priority_map.pdf",
        "ector_county_report.html", "manifest.json", "ector_county_school_zones.csv",
        "ector_county_plan.csv", "ector_county_challenge_candidates.csv",
        "ector_county_challenge_candidates.gpkg", "ector_county_evidence.csv",
        "ector_county_evidence.gpkg", "ector_county_change.csv", "ector_county_change.gpkg",
        "ector_county_change_schools.csv",
    ):
        assert expected in names, expected


def test_html_holds_the_33_real_tracts(demo_out):
    html = (demo_out / "ector_county_equity_map.html").read_text(encoding="utf-8")
    tract_ids = re.findall(r'"g":"(48135\d{6})"', html)
    assert sorted(tract_ids) == _real_geoids()
    assert "Illustrative" in html  # the illustrative BDC layer is labelled
    assert len(html.encode()) < 1_000_000  # a county map stays under 1 MB


def _independent_service() -> pd.DataFrame:
    """Recompute BEAD levels from the raw illustrative rows with plain pandas."""
    with zipfile.ZipFile(data_path(*ILLUSTRATIVE_BDC)) as zf:
        (name,) = zf.namelist()
        with zf.open(name) as handle:
            rows = pd.read_csv(handle, dtype={"location_id": str, "block_geoid": str})
    rows = rows[rows["business_residential_code"].isin(["R", "X"])]
    reliable = rows["technology"].isin(RELIABLE) & rows["low_latency"].eq(1)
    down, up = rows["max_advertised_download_speed"], rows["max_advertised_upload_speed"]
    rows = rows.assign(
        r25=reliable & (down >= 25) & (up >= 3),
        r100=reliable & (down >= 100) & (up >= 20),
        fiber=rows["technology"].eq(50),
        tract=rows["block_geoid"].str[:11],
    )
    per_loc = rows.groupby("location_id").agg(
        tract=("tract", "first"), r25=("r25", "any"), r100=("r100", "any"), fiber=("fiber", "any")
    )
    per_loc["served"] = per_loc["r100"]
    per_loc["underserved"] = per_loc["r25"] & ~per_loc["r100"]
    per_loc["unserved"] = ~per_loc["r25"]
    return per_loc.groupby("tract")[["served", "underserved", "unserved", "fiber"]].mean()


def test_csv_shares_equal_an_independent_recomputation(demo_out):
    table = pd.read_csv(demo_out / "ector_county_tracts.csv", dtype={"GEOID": str})
    assert sorted(table["GEOID"]) == _real_geoids()
    expected = _independent_service().reindex(table["GEOID"])
    for ours, theirs in (("served_share", "served"), ("underserved_share", "underserved"),
                         ("unserved_share", "unserved"), ("fiber_share", "fiber")):
        np.testing.assert_allclose(table[ours].to_numpy(), expected[theirs].to_numpy(),
                                   atol=1e-12, err_msg=ours)


def test_csv_has_the_issue_columns(demo_out):
    table = pd.read_csv(demo_out / "ector_county_tracts.csv", dtype={"GEOID": str})
    for column in ("households", "served_share", "underserved_share", "unserved_share",
                   "fiber_share", "no_internet_share", "no_computer_share",
                   "income_lt25k_share", "rural", "dist_school_m", "dist_library_m", "priority",
                   "priority_rank", "drivers", "intervention"):
        assert column in table.columns, column
    assert table["households"].sum() == 62422
    assert table["priority_rank"].min() == 1


def test_manifest_records_sources_vintages_and_illustrative_flag(demo_out):
    manifest = json.loads((demo_out / "manifest.json").read_text())
    names = " ".join(s["name"] for s in manifest["sources"])
    assert "American Community Survey" in names
    assert "FCC Broadband Data Collection" in names
    assert manifest["illustrative_data"] is True
    assert "no_internet_share" in manifest["vintages"]


def test_html_has_the_plan_and_evidence_layers(demo_out):
    html = (demo_out / "ector_county_equity_map.html").read_text(encoding="utf-8")
    for name in ("Recommended intervention", "Claims vs evidence", "Challenge candidates",
                 "Change since December 2024", "Proposed sites (plan)"):
        assert f'"{name}"' in html, name  # a layer-control entry
    assert "L.circle(latlng, {radius: r" in html  # the plan's reach around each site
    assert "CC BY-NC-SA 4.0" in html  # Ookla-format tiles shown: their licence is named
    for label in ("speed tests", "challenge candidates", "previous BDC release"):
        assert label in html


def _independent_change() -> pd.DataFrame:
    """Newly served and fiber gained by tract, from the two raw releases with plain pandas."""
    def per_location(name: str) -> pd.DataFrame:
        rows = pd.read_csv(data_path("fcc", name), dtype={"location_id": str,
                                                          "block_geoid": str})
        rows = rows[rows["business_residential_code"].isin(["R", "X"])]
        ok = (rows["technology"].isin(RELIABLE) & rows["low_latency"].eq(1)
              & (rows["max_advertised_download_speed"] >= 100)
              & (rows["max_advertised_upload_speed"] >= 20))
        rows = rows.assign(served=ok, fiber=rows["technology"].eq(50))
        return rows.groupby("location_id").agg(tract=("block_geoid", "first"),
                                               served=("served", "any"), fiber=("fiber", "any"))
    new = per_location(ILLUSTRATIVE_BDC[1])
    old = per_location("bdc_48_illustrative_ector_fixed_availability_D24.zip")
    old = old[["served", "fiber"]].rename(columns=lambda c: f"{c}_old")
    both = new.join(old, how="left").fillna(False)
    both["tract"] = both["tract"].str[:11]
    both["newly_served"] = both["served"] & ~both["served_old"].astype(bool)
    both["fiber_gained"] = both["fiber"] & ~both["fiber_old"].astype(bool)
    return both.groupby("tract")[["newly_served", "fiber_gained"]].sum()


def test_change_layer_equals_an_independent_recomputation(demo_out):
    table = pd.read_csv(demo_out / "ector_county_change.csv", dtype={"GEOID": str})
    assert sorted(table["GEOID"]) == _real_geoids()
    expected = _independent_change().reindex(table["GEOID"]).fillna(0)
    np.testing.assert_array_equal(table["newly_served"], expected["newly_served"])
    np.testing.assert_array_equal(table["fiber_gained"], expected["fiber_gained"])
    assert table["newly_served"].sum() > 0
    assert table["fiber_gained"].sum() > 0


def test_evidence_and_challenge_exports_are_area_level(demo_out):
    evidence = pd.read_csv(demo_out / "ector_county_evidence.csv", dtype={"GEOID": str})
    assert sorted(evidence["GEOID"]) == _real_geoids()
    assert evidence["flag_claimed_served_contradicted"].sum() >= 1
    candidates = pd.read_csv(demo_out / "ector_county_challenge_candidates.csv",
                             dtype={"area_id": str, "GEOID": str})
    assert len(candidates) > 0
    assert "location_id" not in candidates.columns
    assert not {"lat", "lon", "latitude", "longitude"} & set(candidates.columns)
    assert (candidates["area_type"] == "h3").all()
    assert candidates["area_id"].str.fullmatch(r"88[0-9a-f]{13}").all()
    flagged = set(evidence.loc[evidence["flag_claimed_served_contradicted"], "GEOID"])
    assert set(candidates["evidence_area"].astype(str)) <= flagged
    # the ranking follows the evidence strength
    by_rank = candidates.groupby("rank")["evidence_strength"].max().sort_index()
    assert by_rank.is_monotonic_decreasing


def test_report_has_the_new_sections(demo_out):
    report = (demo_out / "ector_county_report.html").read_text(encoding="utf-8")
    for title in ("Recommended interventions", "What the plan changes",
                  "Evidence on the ground", "Change since the last release"):
        assert f"<h2>{title}" in report, title


@pytest.mark.slow
def test_demo_runs_in_dev_mode_without_a_warning(tmp_path):
    """``python -X dev``: no unclosed file, socket or process (ResourceWarning), no warning."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHONWARN")}
    done = subprocess.run(
        [sys.executable, "-X", "dev", "-W", "error::ResourceWarning", "-m", "assetmap",
         "demo", "--out", str(tmp_path / "out"), "--offline", "-q"],
        capture_output=True, text=True, timeout=600, check=False,
        env=env | {"ASSETMAP_OFFLINE": "1"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert (tmp_path / "out" / "manifest.json").is_file()
