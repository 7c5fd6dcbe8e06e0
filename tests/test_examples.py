"""The examples/ folder and the command line as scripts use it: outputs, manifest, exit codes."""

from __future__ import annotations

import hashlib
import json
import os
import runpy
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import assetmap as am
from assetmap.cli import main  # internal: the `assetmap` command, tested as main([...])

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
STUDY = EXAMPLES / "ector_county" / "study.toml"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _study_inputs() -> list[Path]:
    """Every local file the example study names, read from the TOML independently."""
    data = tomllib.loads(STUDY.read_text(encoding="utf-8"))
    base = STUDY.parent
    names = [data["census"]["tracts"], data["census"]["acs"], *data["bdc"]["files"],
             *data["bdc"]["previous_files"], *(v for v in data["sources"].values() if v)]
    return [(base / n).resolve() for n in names]


def test_example_study_names_only_existing_local_files():
    study = am.Study.from_toml(STUDY)
    assert study.config.area == {"state": "TX", "counties": ["Ector"], "district": "4818000"}
    inputs = _study_inputs()
    # tracts, ACS, BDC (June 2025 and December 2024), schools, partners, survey, RUCA,
    # points, district speed tests, Ookla tiles
    assert len(inputs) == 12
    missing = [p for p in inputs if not p.is_file()]
    assert missing == []


@pytest.mark.slow
# partner sites that are no CAI (hotspots, a business, ...) are left out of cai.csv with a
# RejectedRowsWarning, which the command line prints to stderr
@pytest.mark.filterwarnings("default::assetmap.errors.RejectedRowsWarning")
def test_build_example_study_writes_outputs_and_a_complete_manifest(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["build", str(STUDY), "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "manifest" in captured.out
    assert "warning: write_ntia_files: left out" in captured.err

    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    # every output the study file asks for exists and is not empty
    formats = tomllib.loads(STUDY.read_text(encoding="utf-8"))["outputs"]["formats"]
    suffixes = {p.suffix for p in out.iterdir() if p.stat().st_size > 0}
    expected = {"html": ".html", "png": ".png", "csv": ".csv", "gpkg": ".gpkg"}
    assert {expected[f] for f in formats if f in expected} <= suffixes
    for name in manifest["outputs"].values():
        assert (out / name).is_file(), name
    # "ntia": NTIA's three files under out/ntia/, listed with their rows, under the study's rules
    assert "ntia" in formats
    assert sorted(p.name for p in (out / "ntia").iterdir()) == [
        "cai.csv", "underserved.csv", "unserved.csv"]
    rows = manifest["ntia"]["files"]
    assert rows["cai.csv"] == len((out / "ntia" / "cai.csv").read_text().splitlines()) - 1
    for name in ("unserved.csv", "underserved.csv"):
        assert rows[name] == len((out / "ntia" / name).read_text().splitlines()) > 0
    # NTIA's own validator (BEAD Inspector, as state broadband offices run it) finds no error
    # in them; the formats not made here are only reported missing
    from bead_inspector.validator import BEADChallengeDataValidator

    issues = BEADChallengeDataValidator(data_directory=out / "ntia").issues
    errors = [i for i in issues if i["issue_level"] == "error"]
    assert {i["issue_type"] for i in errors} == {"missing_data_file"}
    assert {i["data_format"] for i in errors}.isdisjoint({"cai", "unserved", "underserved"})
    assert manifest["rules"]["name"] == "bead"
    assert manifest["definition"].startswith("Rule set 'bead'")
    # every input (and the study file) is recorded with its size and SHA-256
    recorded = {Path(e["path"]).resolve(): e for e in manifest["inputs"]}
    for path in [STUDY.resolve(), *_study_inputs()]:
        assert path in recorded, f"{path} not in the manifest"
        assert recorded[path]["sha256"] == _sha256(path)
        assert recorded[path]["bytes"] == path.stat().st_size
    assert manifest["illustrative_data"] is True
    assert manifest["area"]["counties"] == ["Ector"]


def test_init_writes_a_study_file_that_validates(tmp_path, capsys):
    path = tmp_path / "study.toml"
    assert main(["init", "--state", "TX", "--county", "Ector", "--out", str(path)]) == 0
    assert "assetmap build" in capsys.readouterr().out  # says what to do next
    study = am.Study.from_toml(path)
    assert study.config.area["state"] == "TX"
    assert study.config.area["counties"] == ["Ector"]
    # a second init does not overwrite the file, and says how to
    before = path.read_text(encoding="utf-8")
    assert main(["init", "--state", "TX", "--county", "Ector", "--out", str(path)]) == 2
    assert "--force" in capsys.readouterr().err
    assert path.read_text(encoding="utf-8") == before


def test_init_refuses_an_unknown_county(tmp_path, capsys):
    path = tmp_path / "study.toml"
    assert main(["init", "--state", "TX", "--county", "Atlantis", "--out", str(path)]) == 2
    assert "Atlantis" in capsys.readouterr().err
    assert not path.exists()


def test_bad_study_key_exits_2_and_names_the_key(tmp_path, capsys):
    path = tmp_path / "study.toml"
    path.write_text('[area]\nstate = "TX"\ncounty = "Ector"\n', encoding="utf-8")
    assert main(["build", str(path)]) == 2
    err = capsys.readouterr().err
    assert "[area] unknown key 'county'" in err
    assert "counties" in err  # the allowed keys are listed


def test_missing_study_file_exits_2(tmp_path, capsys):
    assert main(["build", str(tmp_path / "nope.toml")]) == 2
    assert "study file not found" in capsys.readouterr().err


def test_offline_cache_miss_exits_3(tmp_path, capsys):
    # TIGER tracts must be downloaded; offline with an empty cache that is a network failure.
    path = tmp_path / "study.toml"
    path.write_text('[area]\nstate = "TX"\ncounties = ["Ector"]\n', encoding="utf-8")
    assert main(["--offline", "build", str(path), "--out", str(tmp_path / "out")]) == 3
    err = capsys.readouterr().err
    assert "offline" in err.lower()
    assert "assetmap fetch" in err  # says what to do next
    assert not (tmp_path / "out" / "manifest.json").exists()


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "assetmap init" in capsys.readouterr().out


def test_python_m_assetmap_version():
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    done = subprocess.run(
        [sys.executable, "-m", "assetmap", "--version"], capture_output=True, text=True,
        timeout=60, check=False, env={**os.environ, "ASSETMAP_OFFLINE": "1"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"assetmap {version}"


@pytest.mark.slow
@pytest.mark.parametrize("script", ["analyst.py", "grant_writer.py"])
def test_python_examples_run(script, tmp_path, capsys):
    module = runpy.run_path(str(EXAMPLES / script), run_name="example")
    written = module["main"](str(tmp_path))
    files = [f for v in written.values() for f in (v if isinstance(v, list) else [v])]
    assert files
    for f in files:
        assert Path(f).is_file()
        assert Path(f).stat().st_size > 0
        assert Path(f).resolve().is_relative_to(tmp_path.resolve())
    assert "Census Tract" in capsys.readouterr().out
