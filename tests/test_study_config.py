import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import assetmap as am
from assetmap.cli import EXIT_INPUT, main  # internal: the `assetmap` command, tested as main([...])
from assetmap.errors import ConfigError
from assetmap.pipeline.template import (
    _toml_string,  # internal: the template's only escaping
    study_template,  # internal: public only as `assetmap init`
)


def test_template_round_trips_through_the_validator(tmp_path):
    text = study_template(state="TX", county="Ector", district="4818000")
    path = tmp_path / "study.toml"
    path.write_text(text)
    study = am.Study.from_toml(path)
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
        am.Study.from_dict(data)


def test_from_toml_names_the_file_on_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[area\nstate = 'TX'")
    with pytest.raises(ConfigError, match=r"bad\.toml: not valid TOML"):
        am.Study.from_toml(bad)
    with pytest.raises(ConfigError, match="study file not found"):
        am.Study.from_toml(tmp_path / "missing.toml")
    wrong = tmp_path / "wrong.toml"
    wrong.write_text('[area]\nstate = "TX"\n[plan]\nk = -1\n')
    with pytest.raises(ConfigError, match=r"wrong\.toml: \[plan\] k must be >= 0"):
        am.Study.from_toml(wrong)


def test_with_output_dir_returns_a_new_study(tmp_path):
    study = am.Study.from_dict({"area": {"state": "TX"}})
    moved = study.with_output_dir(tmp_path / "elsewhere")
    assert moved.config.outputs["dir"] == str((tmp_path / "elsewhere").resolve())
    assert study.config.outputs["dir"] != moved.config.outputs["dir"]


def test_a_tea_school_file_is_matched_to_a_leaid_through_the_district_table(tmp_path):
    from assetmap.datasets import data_path

    root = Path(__file__).resolve().parents[1]
    study = am.Study.from_dict({
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


# --- [bdc] rules, files = "fcc", as_of, the "ntia" format --------------------------------------

def test_template_names_the_default_rule_set_and_the_fcc_option(tmp_path):
    text = study_template(state="TX", county="Ector")
    assert '\nrules = "bead"' in text  # an active line, with comments saying what else it takes
    assert "bead_2025" in text
    assert "[bdc.rules]" in text
    assert 'files = "fcc"' in text
    path = tmp_path / "study.toml"
    path.write_text(text)
    config = am.Study.from_toml(path).config
    assert config.rules == am.rule_set("bead")
    assert config.bdc["as_of"] == "latest"
    assert not config.from_fcc


def test_a_named_rule_set_in_the_study_file(tmp_path):
    path = tmp_path / "study.toml"
    path.write_text('[area]\nstate = "TX"\n[bdc]\nrules = "bead_2025"\n')
    config = am.Study.from_toml(path).config
    assert config.rules.name == "bead_2025"
    assert config.rules == am.rule_set("bead_2025")
    assert am.Study.from_dict({"area": {"state": "TX"}}).config.rules.name == "bead"  # default


def test_an_inline_rule_set_table_in_the_study_file(tmp_path):
    path = tmp_path / "study.toml"
    path.write_text(
        '[area]\nstate = "TX"\n[bdc]\nfiles = []\n'
        '[bdc.rules]\nname = "fiber-gig"\nreliable_technologies = [50]\n'
        'low_latency_required = true\nserved = [1000, 100]\nunderserved = [100, 20]\n')
    rules = am.Study.from_toml(path).config.rules
    assert rules.name == "fiber-gig"
    assert rules.reliable_technologies == (50,)
    assert (rules.served, rules.underserved) == ((1000.0, 100.0), (100.0, 20.0))


_GOOD_RULES = {"reliable_technologies": "[50]", "low_latency_required": "true",
               "served": "[100, 20]", "underserved": "[25, 3]"}


def _rules_table(**change: str | None) -> str:
    """A [bdc.rules] table: the good one with keys changed (None: left out)."""
    keys = {**_GOOD_RULES, **change}
    return "[bdc.rules]\n" + "".join(f"{k} = {v}\n" for k, v in keys.items() if v is not None)


@pytest.mark.parametrize(("bdc", "message"), [
    ('[bdc]\nrules = "bead2025"',
     r"\[bdc\] rules: unknown BEAD rule set 'bead2025'; the named sets are bead, bead_2025"),
    ("[bdc]\nrules = 2025", r"\[bdc\] rules must be str or dict"),
    (_rules_table(low_latency_required=None),
     r"\[bdc\] rules: a rule set needs exactly the keys .* missing: low_latency_required"),
    (_rules_table(speed="1"), r"\[bdc\] rules: .*unknown: speed"),
    (_rules_table(reliable_technologies="[55]"), r"\[bdc\] rules: 55 in reliable_technologies"),
    (_rules_table(served="[20, 3]"), r"\[bdc\] rules: served \[20.0, 3.0\] must be"),
    ('[bdc]\nfiles = "ftp"', r'\[bdc\] files must be a list of paths \(globs allowed\) or "fcc"'),
    ('[bdc]\nfiles = "fcc"\nas_of = "June 2025"', r'\[bdc\] as_of must be "latest" or an as-of'),
])
def test_bad_bdc_keys_name_the_study_file_and_the_key(tmp_path, bdc, message):
    path = tmp_path / "district.toml"
    path.write_text(f'[area]\nstate = "TX"\n{bdc}\n')
    with pytest.raises(ConfigError, match=r"district\.toml: " + message):
        am.Study.from_toml(path)


def test_a_bad_rule_set_stops_the_command_line_with_exit_2(tmp_path, capsys):
    path = tmp_path / "study.toml"
    path.write_text('[area]\nstate = "TX"\n[bdc]\nrules = "fcc-2020"\n')
    assert main(["build", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert f"{path}: [bdc] rules: unknown BEAD rule set 'fcc-2020'" in err
    assert not (tmp_path / "out").exists()


def test_files_fcc_and_as_of_are_kept_as_given():
    config = am.Study.from_dict({"area": {"state": "TX"},
                                 "bdc": {"files": "fcc", "as_of": " 2025-06-30 "}}).config
    assert config.from_fcc
    assert config.bdc["files"] == "fcc"
    assert config.bdc["as_of"] == "2025-06-30"
    assert am.Study.from_dict({"area": {"state": "TX"}, "bdc": {"files": "fcc", "as_of": "Latest"}}
                              ).config.bdc["as_of"] == "latest"


def test_the_ntia_format_is_accepted():
    config = am.Study.from_dict({"area": {"state": "TX"}, "outputs": {"formats": ["csv", "ntia"]}}
                                ).config
    assert config.outputs["formats"] == ["csv", "ntia"]


def test_study_funding_programs_path_is_resolved_beside_the_study_file(tmp_path):
    example = Path("examples/ector_county/study.toml").resolve()
    data = tomllib.loads(example.read_text())
    data["plan"]["funding_programs"] = "programs.json"
    study = am.Study.from_dict(data, path=example)
    assert study.config.plan["funding_programs"] == str(example.parent / "programs.json")
    data["plan"]["funding_programs"] = 3
    with pytest.raises(am.errors.ConfigError, match="funding_programs"):
        am.Study.from_dict(data, path=example)


HOSTILE = [
    'Ector"\n[outputs]\ndir = "/etc"',
    'x"""\ny = 1\n"""',
    "back\\slash\\u0041",
    "nul\x00 bell\x07 esc\x1b del\x7f tab\t cr\r",
    "Doña Ana 🏫",
    "",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_template_strings_read_back_exactly_and_inject_nothing(value):
    text = f"[area]\nstate = {_toml_string(value)}\n"
    assert "\n" not in text[len("[area]\n"):-1]  # one line, whatever the value holds
    assert tomllib.loads(text) == {"area": {"state": value}}


def test_a_lone_surrogate_is_refused_not_written():
    with pytest.raises(ConfigError, match="not valid Unicode"):
        _toml_string("Ector\udcff")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"state": "TX", "county": HOSTILE[0]}, r"\[area\] county .* county name .* FIPS"),
        ({"state": "TX", "county": 'E"ctor'}, r"\[area\] county .* county name"),
        ({"state": "TX", "county": "Nowhere"}, r"\[area\] county: no county named"),
        ({"state": 'TX"\n[outputs]'}, r"\[area\] state .* USPS code .* FIPS"),
        ({"state": "TX\n"}, r"\[area\] state"),
        ({"state": "ZZ"}, r"\[area\] state: unknown state"),
        ({"state": "TX", "district": "481800"}, r"\[area\] district .* 7-digit NCES LEAID"),
        ({"state": "TX", "district": "4818000\n"}, r"\[area\] district"),
        ({"state": "TX", "district": "４８１８０００"}, r"\[area\] district"),  # full-width digits
    ],
)
def test_template_refuses_values_that_are_not_codes(options, message):
    with pytest.raises(ConfigError, match=message):
        study_template(**options)


@pytest.mark.parametrize(("state", "county"), [("NM", "Doña Ana"), ("MD", "Prince George's"),
                                               ("MO", "St. Louis"), ("TX", "48135")])
def test_template_keeps_real_names_and_adds_no_key(state, county):
    data = tomllib.loads(study_template(state=state, county=county, district="4818000"))
    assert data["area"] == {"state": state, "counties": [county], "district": "4818000"}
    assert data["study"]["name"] == county
    assert data["outputs"]["dir"] == "out"
    assert set(data) == {"study", "area", "census", "bdc", "sources", "weights", "access",
                         "survey", "plan", "outputs"}


def test_init_with_a_hostile_county_exits_2_without_a_traceback(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "assetmap", "init", "--state", "TX", "--county", HOSTILE[0]],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == EXIT_INPUT == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("error: [area] county ")
    assert "county name" in done.stderr
    assert not (tmp_path / "study.toml").exists()
