"""The illustrative December-2024 BDC layer differs from June 2025 exactly as its script says.

The expected differences are recomputed here with pandas from the two shipped files and the
script's stated parameters (tracts, shares, provider, 25/3 tier speeds); the script's own
functions are used only for the reproducibility check.
"""

from __future__ import annotations

import importlib.util
import zipfile
from pathlib import Path

import pandas as pd
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "make_illustrative_bdc_previous.py"
J25 = "bdc_48_illustrative_ector_fixed_availability_J25.zip"
D24 = "bdc_48_illustrative_ector_fixed_availability_D24.zip"
KEY = ["location_id", "provider_id", "technology"]
RELIABLE = {"10", "40", "50", "71", "72"}


def _script():
    spec = importlib.util.spec_from_file_location("make_previous", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def script():
    return _script()


@pytest.fixture(scope="module")
def releases(ector_dir):
    read = lambda name: pd.read_csv(ector_dir / "fcc" / name, dtype=str,  # noqa: E731
                                    keep_default_na=False)
    return read(J25), read(D24)


def _served_locations(rows: pd.DataFrame) -> set[str]:
    ok = (rows["technology"].isin(RELIABLE) & rows["low_latency"].eq("1")
          & (rows["max_advertised_download_speed"].astype(int) >= 100)
          & (rows["max_advertised_upload_speed"].astype(int) >= 20))
    return set(rows.loc[ok, "location_id"])


def test_same_schema_same_locations_no_added_rows(releases, ector_dir):
    j25, d24 = releases
    assert list(d24.columns) == list(j25.columns)
    assert set(d24["location_id"]) == set(j25["location_id"])
    assert not d24.duplicated(KEY).any()
    merged = d24[KEY].merge(j25[KEY], on=KEY, how="left", indicator=True)
    assert (merged["_merge"] == "both").all()  # December has no row June lacks
    with zipfile.ZipFile(ector_dir / "fcc" / D24) as zf:
        assert zf.namelist() == [D24.replace(".zip", ".csv")]
    assert (ector_dir / "fcc" / D24).stat().st_size < 4_000_000


def test_removed_rows_are_fiber_in_the_named_tracts_and_the_entering_provider(releases, script):
    j25, d24 = releases
    gone = j25.merge(d24[KEY], on=KEY, how="left", indicator=True)
    gone = gone[gone["_merge"] == "left_only"]
    provider = gone["provider_id"].eq(script.ENTERING_PROVIDER)
    assert provider.sum() == j25["provider_id"].eq(script.ENTERING_PROVIDER).sum() > 0
    fiber = gone[~provider]
    assert set(fiber["technology"]) == {"50"}
    assert set(fiber["block_geoid"].str[:11]) <= set(script.FIBER_TRACTS)
    # every fiber row of a chosen location is gone, and the share of locations is as stated
    chosen = set(fiber["location_id"])
    in_tracts = j25[j25["technology"].eq("50")
                    & j25["block_geoid"].str[:11].isin(script.FIBER_TRACTS)]
    assert len(chosen) == round(script.FIBER_DROP_SHARE * in_tracts["location_id"].nunique())
    assert not (d24["technology"].eq("50") & d24["location_id"].isin(chosen)).any()


def test_changed_rows_are_the_upgraded_locations_at_the_25_3_tier(releases, script):
    j25, d24 = releases
    both = d24.merge(j25, on=KEY, suffixes=("_d", "_j"))
    speed = ["max_advertised_download_speed", "max_advertised_upload_speed"]
    changed = both[(both[f"{speed[0]}_d"] != both[f"{speed[0]}_j"])
                   | (both[f"{speed[1]}_d"] != both[f"{speed[1]}_j"])]
    others = [c for c in j25.columns if c not in KEY and c not in speed]
    for column in others:  # nothing but speeds changes
        assert (both[f"{column}_d"] == both[f"{column}_j"]).all(), column
    tier = {str(t): (str(d), str(u)) for t, (d, u) in script.TIER_25_3.items()}
    expected = changed["technology"].map(tier)
    assert (changed[f"{speed[0]}_d"] == expected.str[0]).all()
    assert (changed[f"{speed[1]}_d"] == expected.str[1]).all()
    assert set(changed["block_geoid_d"].str[:11]) <= set(script.UPGRADE_TRACTS)
    upgraded = set(changed["location_id"])
    served_j25 = _served_locations(j25)
    in_tracts = set(j25.loc[j25["block_geoid"].str[:11].isin(script.UPGRADE_TRACTS),
                            "location_id"]) & served_j25
    assert len(upgraded) == round(script.UPGRADE_SHARE * len(in_tracts))
    # served in June, not in December; every other location keeps its served status
    served_d24 = _served_locations(d24)
    assert upgraded <= served_j25
    assert not upgraded & served_d24
    assert served_j25 - served_d24 == upgraded
    assert served_d24 <= served_j25


@pytest.mark.slow
def test_the_script_reproduces_the_shipped_file(tmp_path, ector_dir, script):
    script.main(["--out", str(tmp_path)])
    assert (tmp_path / D24).read_bytes() == (ector_dir / "fcc" / D24).read_bytes()
