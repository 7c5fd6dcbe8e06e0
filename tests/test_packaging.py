"""The built wheel carries the code, the demo data, the vendored map assets and the entry point.

The wheel is built from the checkout with the build backend installed in the environment
(``--no-build-isolation --no-index``: no network), then its file list is compared with the
source tree. Nothing is installed.
"""

from __future__ import annotations

import email
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _tree(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "--quiet", "-w", str(out), str(ROOT)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr
    wheels = list(out.glob("assetmap-*.whl"))
    assert len(wheels) == 1
    with zipfile.ZipFile(wheels[0]) as zf:
        yield zf


@pytest.mark.slow
def test_wheel_holds_every_module(wheel):
    names = set(wheel.namelist())
    modules = {f"assetmap/{n}" for n in _tree(ROOT / "src" / "assetmap") if n.endswith(".py")}
    assert {"assetmap/__init__.py", "assetmap/__main__.py", "assetmap/cli.py"} <= modules
    assert modules - names == set()
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert not [n for n in names if n.startswith(("tests/", "notebooks/", "docs/"))]


@pytest.mark.slow
def test_wheel_holds_the_demo_data_vendored_assets_and_fips_tables(wheel):
    names = set(wheel.namelist())
    data = {f"assetmap/_data/ector/{n}" for n in _tree(ROOT / "data" / "ector")}
    assert "assetmap/_data/ector/PROVENANCE.md" in data
    assert "assetmap/_data/ector/fcc/bdc_48_illustrative_ector_fixed_availability_J25.zip" in data
    assert data - names == set()
    vendor = ROOT / "src" / "assetmap" / "outputs" / "_vendor"
    assets = {f"assetmap/outputs/_vendor/{n}" for n in _tree(vendor)}
    assert "assetmap/outputs/_vendor/leaflet/leaflet.js" in assets
    assert "assetmap/outputs/_vendor/leaflet/leaflet.css" in assets
    assert assets - names == set()
    fips = {n for n in names if n.startswith("assetmap/_fips/") and n.endswith(".csv")}
    assert fips == {"assetmap/_fips/states.csv", "assetmap/_fips/counties_2020.csv"}
    # the shipped bytes are the checkout's bytes
    shipped = wheel.read("assetmap/_data/ector/PROVENANCE.md")
    assert shipped == (ROOT / "data" / "ector" / "PROVENANCE.md").read_bytes()


@pytest.mark.slow
def test_wheel_metadata_entry_point_and_dependencies(wheel):
    version = PYPROJECT["project"]["version"]
    info = f"assetmap-{version}.dist-info"
    entry_points = wheel.read(f"{info}/entry_points.txt").decode()
    assert "assetmap = assetmap.cli:main" in entry_points
    meta = email.message_from_bytes(wheel.read(f"{info}/METADATA"))
    assert meta["Name"] == "assetmap"
    assert meta["Version"] == version
    assert meta["Requires-Python"] == PYPROJECT["project"]["requires-python"]
    core = {r.replace(" ", "") for r in meta.get_all("Requires-Dist") if "extra ==" not in r}
    assert core == {d.replace(" ", "") for d in PYPROJECT["project"]["dependencies"]}
    extras = set(meta.get_all("Provides-Extra"))
    assert extras == set(PYPROJECT["project"]["optional-dependencies"])
