import tomllib
from pathlib import Path

import pytest

from assetmap.errors import ConfigError
from assetmap.pipeline import Study
from assetmap.pipeline.config import parse_study, study_template


def test_template_round_trips_through_the_validator(tmp_path):
    text = study_template(state="TX", county="Ector", district="4818000")
    path = tmp_path / "study.toml"
    path.write_text(text)
    study = Study.from_toml(path)
    cfg = study.config
    assert cfg.area == {"state": "TX", "counties": ["Ector"], "district": "4818000"}
    assert cfg.weights == {
        "infrastructure_gap": 0.30, "adoption_gap": 0.30, "need": 0.25, "resource_gap": 0.15,
    }
    # relative paths resolve against the study file's folder
    assert cfg.outputs["dir"] == str(tmp_path / "out")
    assert cfg.bdc["files"] == [str(tmp_path / "bdc" / "*.zip")]
    assert tomllib.loads(text)["plan"]["k"] == 3


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"area": {"state": "TX"}, "areas": {}}, r"unknown section \[areas\]"),
        ({"area": {"state": "TX", "county": "Ector"}}, r"\[area\] unknown key 'county'"),
        ({"area": {}}, r"\[area\] state is required"),
        ({"area": {"state": "TX"}, "plan": {"k": "3"}}, r"\[plan\] k must be int"),
        ({"area": {"state": "TX"}, "plan": {"k": True}}, r"\[plan\] k must be int"),
        ({"area": {"state": "TX"}, "weights": {"need": -1}}, r"weights must be >= 0"),
        ({"area": {"state": "TX"}, "outputs": {"formats": ["html", "docx"]}}, r"'docx'"),
        ({"area": {"state": "TX"}, "sources": "x"}, r"\[sources\] must be a table"),
    ],
)
def test_bad_study_files_name_the_key(data, message):
    with pytest.raises(ConfigError, match=message):
        parse_study(data)


def test_from_toml_names_the_file_on_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[area\nstate = 'TX'")
    with pytest.raises(ConfigError, match=r"bad\.toml: not valid TOML"):
        Study.from_toml(bad)
    with pytest.raises(ConfigError, match="study file not found"):
        Study.from_toml(tmp_path / "missing.toml")
    wrong = tmp_path / "wrong.toml"
    wrong.write_text('[area]\nstate = "TX"\n[plan]\nk = -1\n')
    with pytest.raises(ConfigError, match=r"wrong\.toml: \[plan\] k must be >= 0"):
        Study.from_toml(wrong)


def test_with_output_dir_returns_a_new_study(tmp_path):
    study = Study.from_dict({"area": {"state": "TX"}})
    moved = study.with_output_dir(tmp_path / "elsewhere")
    assert moved.config.outputs["dir"] == str((tmp_path / "elsewhere").resolve())
    assert study.config.outputs["dir"] != moved.config.outputs["dir"]


def test_a_tea_school_file_is_matched_to_a_leaid_through_the_district_table(tmp_path):
    from assetmap.datasets import data_path

    root = Path(__file__).resolve().parents[1]
    study = Study.from_dict({
        "area": {"state": "TX", "counties": ["Ector"], "district": "4818000"},
        "census": {"tracts": str(data_path("boundaries", "ector_tracts_2020.geojson")),
                   "acs": str(root / "examples" / "ector_county" /
                              "ACSDT5Y2023.B19001-Data.csv")},
        "sources": {
            "schools": str(data_path("schools", "tea_schools_2023_24_ector_midland_andrews.csv")),
            "districts": str(data_path("schools",
                                       "nces_ccd_2013_14_districts_ector_neighbors.csv")),
        },
        "outputs": {"dir": str(tmp_path / "out")},
    })
    schools = study.load().schools
    assert len(schools) == 43
    assert set(schools["district_id"]) == {"4818000"}
    assert set(schools["district_name"]) == {"ECTOR COUNTY ISD"}
