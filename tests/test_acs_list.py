"""``[census] acs`` as a list of data.census.gov table files, joined by tract.

The B28002 (internet) and B28001 (computers) files here are SYNTHETIC: written by the test in
data.census.gov's layout for the 33 Ector County tracts, with household totals equal to the
real B19001 totals of the example study's file (examples/ector_county/).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

import assetmap as am
from assetmap.datasets import data_path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "ector_county"
B19001 = EXAMPLE / "ACSDT5Y2023.B19001-Data.csv"


def _households() -> pd.Series:
    table = pd.read_csv(B19001, skiprows=[1], dtype={"GEO_ID": str})
    return table.set_index("GEO_ID")["B19001_001E"].astype(int)


def _write(path: Path, table: dict[str, dict[str, int]]) -> Path:
    """Write a data.census.gov download: codes row, labels row, then one row per tract."""
    codes = list(next(iter(table.values())))
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle, quoting=csv.QUOTE_ALL)
        out.writerow(["GEO_ID", "NAME", *codes])
        out.writerow(["Geography", "Geographic Area Name", *(f"label {c}" for c in codes)])
        for geo, values in table.items():
            out.writerow([geo, f"Census Tract {geo[-6:]}", *values.values()])
    return path


def _internet(folder: Path, *, drop: int = 0, shift: int = 0) -> Path:
    rows = {}
    for i, (geo, total) in enumerate(_households().items()):
        none = (total * (5 + i % 20)) // 100
        rows[geo] = {"B28002_001E": total + shift, "B28002_001M": 90, "B28002_002E": total - none,
                     "B28002_002M": 80, "B28002_004E": total - none - total // 10,
                     "B28002_004M": 80, "B28002_012E": 0, "B28002_012M": 10,
                     "B28002_013E": none, "B28002_013M": 40}
    keep = dict(list(rows.items())[drop:])
    return _write(folder / "ACSDT5Y2023.B28002-Data.csv", keep)


def _computers(folder: Path) -> Path:
    rows = {geo: {"B28001_001E": total, "B28001_001M": 90,
                  "B28001_011E": total // (8 + i % 5), "B28001_011M": 30}
            for i, (geo, total) in enumerate(_households().items())}
    return _write(folder / "ACSDT5Y2023.B28001-Data.csv", rows)


def _study(folder: Path, acs: object) -> am.Study:
    return am.Study.from_dict({
        "area": {"state": "TX", "counties": ["Ector"]},
        "census": {"year": 2020, "acs_year": 2023, "acs": acs,
                   "tracts": str(data_path("boundaries", "ector_tracts_2020.geojson"))},
        "outputs": {"dir": str(folder / "out")},
    }, path=folder / "study.toml")


def test_the_adoption_inputs_of_every_file_reach_the_scores(tmp_path):
    files = [str(B19001), _internet(tmp_path).name, _computers(tmp_path).name]
    study = _study(tmp_path, files)
    assert study.config.census["acs"][1] == str(tmp_path / "ACSDT5Y2023.B28002-Data.csv")
    sources = study.load()
    acs = sources.acs
    assert len(acs) == 33
    for column in ("no_internet_share", "no_broadband_share", "no_computer_share",
                   "income_lt25k_share", "households"):
        assert acs[column].notna().all(), column
    assert acs.set_index("GEOID")["households"].to_dict() == pytest.approx(
        {k[-11:]: float(v) for k, v in _households().items()})
    scored = study.analyse(sources).scored
    adoption = scored.attrs["assetmap"]["score_spec"]["indices"]["adoption_gap"]
    used = {i["column"] for i in adoption["inputs"]}
    assert {"no_internet_share", "no_computer_share", "no_broadband_share"} <= used
    assert scored["adoption_gap"].notna().all()
    vintages = scored.attrs["assetmap"]["vintages"]
    assert vintages["no_computer_share"] == "ACS 5-year 2019-2023"


def test_a_column_with_two_different_values_names_both_files(tmp_path):
    internet = _internet(tmp_path, shift=7)  # its households differ from B19001's
    other = tmp_path / "second"
    other.mkdir()
    again = _internet(other)
    study = _study(tmp_path, [str(internet), str(again)])
    with pytest.raises(am.errors.SchemaError, match=r"'B28002_001E' is in .*B28002-Data\.csv "
                                                    r"and .*second.*B28002-Data\.csv"):
        study.load()


def test_tracts_missing_from_one_file_are_counted_and_warned(tmp_path):
    study = _study(tmp_path, [str(B19001), str(_internet(tmp_path, drop=3))])
    with pytest.warns(am.errors.AssetmapWarning, match=r"no row for 3 of 33 tracts"):
        acs = study.load().acs
    assert int(acs["no_internet_share"].isna().sum()) == 3
    assert any("no row for 3 of 33" in n for n in acs.attrs["assetmap"]["notes"])


def test_an_empty_list_is_refused():
    with pytest.raises(am.errors.ConfigError, match=r"\[census\] acs must be"):
        am.Study.from_dict({"area": {"state": "TX"}, "census": {"acs": []}})
