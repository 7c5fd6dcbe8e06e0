"""Hostile writers: every CSV writer neutralises formulas whatever the column's dtype, and
no writer follows a path or symbolic link out of its output folder.

Through the public API: ``export_layers``, ``write_challenge_csv``, ``write_ntia_files`` and
``Study.run_on``.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

import assetmap as am
from assetmap.errors import AssetmapError

FORMULAS = ['=HYPERLINK("http://evil.example","click")', "-2+3", "@SUM(A1)", "\t=1", "\r=1"]
PLAIN_NUMBER = "+1"  # a plain number: Excel shows 1, no formula runs; written as it is
DTYPES = ["category", "object-mixed", "string", "string[pyarrow]"]


def _cells(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [cell for row in csv.reader(handle) for cell in row]


def _column(kind: str) -> pd.Series:
    values = [*FORMULAS, PLAIN_NUMBER]
    if kind == "object-mixed":  # text, numbers and a missing value in one object column
        return pd.Series([*values, 7, -0.5, None], dtype=object)
    return pd.Series(values, dtype=kind)


def _assert_neutral(cells: list[str]) -> None:
    for formula in FORMULAS:
        assert formula not in cells
    for cell in cells:
        if cell.startswith(("=", "@", "\t", "\r", "-", "+")):
            float(cell)  # only real numbers may start like a formula


@pytest.mark.parametrize("kind", DTYPES)
def test_every_csv_writer_neutralises_any_text_dtype(tmp_path, kind):
    column = _column(kind)
    table = pd.DataFrame({"name": column, "n": range(len(column))})
    written = am.export_layers({"t": table}, tmp_path / "export", formats=["csv"])
    exported = _cells(written["t"][0])
    _assert_neutral(exported)
    assert "'" + FORMULAS[0] in exported
    assert "'-2+3" in exported

    challenge = am.write_challenge_csv(table, tmp_path / "challenges.csv")
    _assert_neutral(_cells(challenge))

    names = column.iloc[:len(FORMULAS)].reset_index(drop=True)
    sites = gpd.GeoDataFrame({"name": names, "site_type": ["library"] * len(names)},
                             geometry=[Point(-102.37, 31.85 + i / 100) for i in range(len(names))],
                             crs=4326)
    files = am.write_ntia_files(tmp_path / "ntia", sites=sites, state="TX")
    _assert_neutral(_cells(files["cai"]))


def _victim(tmp_path: Path) -> Path:
    victim = tmp_path / "elsewhere" / "victim.txt"
    victim.parent.mkdir()
    victim.write_text("keep me\n")
    return victim


def test_export_refuses_a_link_out_of_the_folder(tmp_path):
    victim = _victim(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "t.csv").symlink_to(victim)
    with pytest.raises(AssetmapError, match=r"refusing to write .*victim\.txt.*t\.csv.*outside"):
        am.export_layers({"t": pd.DataFrame({"a": [1]})}, out, formats=["csv"])
    assert victim.read_text() == "keep me\n"


def test_ntia_files_refuse_a_link_out_and_write_nothing(tmp_path):
    victim = _victim(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "cai.csv").symlink_to(victim)
    sites = gpd.GeoDataFrame({"name": ["Library"], "site_type": ["library"]},
                             geometry=[Point(-102.37, 31.85)], crs=4326)
    with pytest.raises(AssetmapError, match=r"victim\.txt"):
        am.write_ntia_files(out, sites=sites, state="TX")
    assert victim.read_text() == "keep me\n"
    assert sorted(p.name for p in out.iterdir()) == ["cai.csv"]


def test_a_dangling_link_out_is_refused(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "t.csv").symlink_to(tmp_path / "not_yet" / "created.csv")  # dangling, outside
    with pytest.raises(AssetmapError, match=r"created\.csv"):
        am.export_layers({"t": pd.DataFrame({"a": [1]})}, out, formats=["csv"])
    assert not (tmp_path / "not_yet").exists()


def _study_with_link_out(tmp_path: Path, name: str) -> tuple[Path, Path, am.Study]:
    """A study whose output folder holds a link ``name`` to a file outside it."""
    victim = _victim(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / name).symlink_to(victim)
    study = am.Study.from_dict({"study": {"name": "Ector"}, "area": {"state": "TX",
                                "counties": ["Ector"]}, "outputs": {"dir": str(out)}})
    return victim, out, study


@pytest.fixture(scope="module")
def demo():
    return am.load_demo()


@pytest.mark.parametrize("name", ["ector_tracts.csv", "ector_tracts.report.json",
                                  "ector_equity_map.html"])
def test_a_study_refuses_a_link_named_like_its_output(tmp_path, demo, name):
    victim, _out, study = _study_with_link_out(tmp_path, name)
    with pytest.raises(AssetmapError, match=rf"victim\.txt \(through the link .*{name}\)"):
        study.run_on(demo, steps=("html", "csv"))
    assert victim.read_text() == "keep me\n"


def test_a_study_refuses_a_manifest_link_out(tmp_path, demo):
    victim, out, study = _study_with_link_out(tmp_path, "manifest.json")
    try:
        with pytest.raises(AssetmapError, match=r"victim\.txt"):
            study.run_on(demo, steps=("csv",))
    finally:
        assert os.path.islink(out / "manifest.json")
    assert victim.read_text() == "keep me\n"


def test_a_study_refuses_a_link_out_for_the_markdown_reports_map(tmp_path, demo):
    victim, _out, study = _study_with_link_out(tmp_path, "ector_report_map.png")
    with pytest.raises(AssetmapError, match=r"victim\.txt"):
        study.run_on(demo, steps=("markdown",))
    assert victim.read_text() == "keep me\n"


def test_a_header_with_several_levels_is_flattened_and_neutralised(tmp_path):
    table = pd.DataFrame([["=cmd", 1]], columns=pd.MultiIndex.from_tuples([("=a", "b"),
                                                                            ("c", "d")]))
    written = am.export_layers({"t": table}, tmp_path, formats=["csv"])
    assert _cells(written["t"][0]) == ["'=a b", "c d", "'=cmd", "1"]


def test_a_file_or_folder_in_the_way_is_a_clear_error(tmp_path):
    a_file = tmp_path / "afile"
    a_file.write_text("x")
    table = pd.DataFrame({"a": [1]})
    with pytest.raises(AssetmapError, match=r"afile is a file"):
        am.export_layers({"t": table}, a_file, formats=["csv"])
    sites = gpd.GeoDataFrame({"name": ["Library"], "site_type": ["library"]},
                             geometry=[Point(-102.37, 31.85)], crs=4326)
    with pytest.raises(AssetmapError, match=r"afile.ntia is a file \(or lies under one\)"):
        am.write_ntia_files(a_file / "ntia", sites=sites, state="TX")
    (tmp_path / "out" / "t.csv").mkdir(parents=True)
    with pytest.raises(AssetmapError, match=r"t\.csv: a folder of that name is in the way"):
        am.export_layers({"t": table}, tmp_path / "out", formats=["csv"])
    with pytest.raises(AssetmapError, match=r"cannot write .*missing.c\.csv"):
        am.write_challenge_csv(table, tmp_path / "missing" / "c.csv")
