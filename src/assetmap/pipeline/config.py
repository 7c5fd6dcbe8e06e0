"""The study file (TOML): its schema, defaults and validation.

A study file describes one study once: the area, the sources, the weights and reach, and the
outputs. :func:`parse_study` turns the parsed TOML into a :class:`StudyConfig`, refusing unknown
keys and wrong types with a message that names the key and what is allowed. Relative paths are
resolved against the study file's folder; outputs may only be written inside the output folder.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assetmap.bdc.rules import RuleSet, rule_set
from assetmap.errors import ConfigError, GeoidError
from assetmap.geoid import county_fips, state_fips

__all__ = ["StudyConfig", "parse_study", "study_template"]

_SCHEMA: dict[str, dict[str, tuple[type | tuple[type, ...], Any]]] = {
    "study": {
        "name": (str, "study"),
        "title": (str, ""),
    },
    "area": {
        "state": ((str, int), None),
        "counties": (list, []),
        "district": (str, ""),
    },
    "census": {
        "year": (int, 2020),
        "acs_year": (int, 2023),
        "tracts": (str, "tiger"),
        "acs": (str, "api"),
        "base_url": (str, ""),
        "acs_base_url": (str, ""),
    },
    "bdc": {
        "files": ((list, str), []),
        "as_of": (str, "latest"),
        "release": (str, ""),
        "previous_files": (list, []),
        "previous_release": (str, ""),
        "rules": ((str, dict), "bead"),
    },
    "sources": {
        "schools": (str, ""),
        "districts": (str, ""),
        "partners": (str, ""),
        "survey": (str, ""),
        "zones": (str, ""),
        "rurality": (str, ""),
        "points": (str, ""),
        "speedtests": (str, ""),
        "ookla_tiles": (str, ""),
    },
    "weights": {
        "infrastructure_gap": ((int, float), None),
        "adoption_gap": ((int, float), None),
        "need": ((int, float), None),
        "resource_gap": ((int, float), None),
    },
    "access": {
        "urban_reach_m": ((int, float), 3218.7),
        "rural_reach_m": ((int, float), 16093.4),
    },
    "survey": {
        "min_cell": (int, 10),
    },
    "plan": {
        "k": (int, 3),
        "reach_m": ((int, float), 3200.0),
        "weight": (str, "unserved_households"),
        "funding_programs": (str, ""),
    },
    "outputs": {
        "dir": (str, "out"),
        "formats": (list, ["html", "png", "pdf", "report", "csv", "gpkg"]),
        "offline_html": (bool, True),
    },
}
ALLOWED_FORMATS = ("html", "png", "pdf", "svg", "report", "markdown", "csv", "gpkg", "ntia")
#: ``[bdc] files = "fcc"``: the state's files from the FCC Public Data API (``assetmap fetch``)
FCC_FILES = "fcc"


@dataclass(frozen=True)
class StudyConfig:
    """A validated study: every section of the study file as plain dicts, paths resolved."""

    path: Path | None
    study: dict[str, Any]
    area: dict[str, Any]
    census: dict[str, Any]
    bdc: dict[str, Any]
    sources: dict[str, Any]
    weights: dict[str, float]
    access: dict[str, Any]
    survey: dict[str, Any]
    plan: dict[str, Any]
    outputs: dict[str, Any]
    raw: dict[str, Any] = field(repr=False, default_factory=dict)
    rules: RuleSet = field(default_factory=rule_set)

    @property
    def out_dir(self) -> Path:
        """The folder all outputs are written into."""
        return Path(self.outputs["dir"])

    @property
    def from_fcc(self) -> bool:
        """Whether the BDC files come from the FCC Public Data API (``files = "fcc"``)."""
        return self.bdc["files"] == FCC_FILES


def _check_type(section: str, key: str, value: Any, kind: type | tuple[type, ...]) -> None:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
    if not ok:
        names = " or ".join(k.__name__ for k in kinds)
        raise ConfigError(f"[{section}] {key} must be {names}, got {value!r}")


def _resolve(base: Path, value: str) -> str:
    if not value or value in {"tiger", "cb", "api"} or "://" in value:
        return value
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else (base / path).resolve())


def parse_study(data: dict[str, Any], *, path: Path | None = None) -> StudyConfig:
    """Validate a parsed study file and resolve its paths.

    Parameters
    ----------
    data : dict
        The parsed TOML.
    path : pathlib.Path, optional
        The study file; relative paths in it are resolved against its folder.

    Returns
    -------
    StudyConfig

    Raises
    ------
    ConfigError
        Naming the section and key, and the allowed keys or values.

    Examples
    --------
    >>> cfg = parse_study({"area": {"state": "TX", "counties": ["Ector"]}})
    >>> cfg.plan["k"], cfg.area["counties"]
    (3, ['Ector'])
    >>> parse_study({"area": {"state": "TX"}, "weights": {"needs": 1}})
    Traceback (most recent call last):
    ...
    assetmap.errors.ConfigError: [weights] unknown key 'needs'; allowed: adoption_gap, ...
    """
    unknown_sections = sorted(set(data) - set(_SCHEMA))
    if unknown_sections:
        raise ConfigError(
            f"unknown section [{unknown_sections[0]}]; allowed sections: {', '.join(_SCHEMA)}"
        )
    base = path.parent.resolve() if path is not None else Path.cwd()
    sections: dict[str, dict[str, Any]] = {}
    for section, keys in _SCHEMA.items():
        given = data.get(section, {})
        if not isinstance(given, dict):
            raise ConfigError(f"[{section}] must be a table of keys, got {given!r}")
        unknown = sorted(set(given) - set(keys))
        if unknown:
            raise ConfigError(
                f"[{section}] unknown key {unknown[0]!r}; allowed: {', '.join(sorted(keys))}"
            )
        values: dict[str, Any] = {}
        for key, (kind, default) in keys.items():
            if key in given:
                _check_type(section, key, given[key], kind)
                values[key] = given[key]
            elif default is not None or section != "weights":
                values[key] = list(default) if isinstance(default, list) else default
        sections[section] = values
    if sections["area"].get("state") in (None, ""):
        raise ConfigError("[area] state is required (a name, USPS code or FIPS code)")
    formats = sections["outputs"]["formats"]
    bad = [f for f in formats if f not in ALLOWED_FORMATS]
    if bad:
        raise ConfigError(
            f"[outputs] formats: unknown format {bad[0]!r}; allowed: {', '.join(ALLOWED_FORMATS)}"
        )
    if sections["plan"]["k"] < 0:
        raise ConfigError(f"[plan] k must be >= 0, got {sections['plan']['k']}")
    for key in ("tracts", "acs"):
        sections["census"][key] = _resolve(base, sections["census"][key])
    rules = _bdc_checks(sections["bdc"])
    if sections["bdc"]["files"] != FCC_FILES:
        sections["bdc"]["files"] = [_resolve(base, str(f)) for f in sections["bdc"]["files"]]
    sections["bdc"]["previous_files"] = [
        _resolve(base, str(f)) for f in sections["bdc"]["previous_files"]
    ]
    for key, value in sections["sources"].items():
        sections["sources"][key] = _resolve(base, value)
    sections["outputs"]["dir"] = _resolve(base, sections["outputs"]["dir"])
    sections["plan"]["funding_programs"] = _resolve(base, sections["plan"]["funding_programs"])
    weights = {k: float(v) for k, v in sections["weights"].items() if v is not None}
    if any(w < 0 for w in weights.values()):
        raise ConfigError("[weights] weights must be >= 0")
    return StudyConfig(
        path=path,
        study=sections["study"],
        area=sections["area"],
        census=sections["census"],
        bdc=sections["bdc"],
        sources=sections["sources"],
        weights=weights,
        access=sections["access"],
        survey=sections["survey"],
        plan=sections["plan"],
        outputs=sections["outputs"],
        raw=data,
        rules=rules,
    )


def _bdc_checks(bdc: dict[str, Any]) -> RuleSet:
    """Check ``[bdc] files``, ``as_of`` and ``rules``; return the rule set."""
    files = bdc["files"]
    if isinstance(files, str) and files != FCC_FILES:
        raise ConfigError(f'[bdc] files must be a list of paths (globs allowed) or "{FCC_FILES}" '
                          f"(the FCC Public Data API), got {files!r}")
    as_of = bdc["as_of"].strip().lower()
    if as_of != "latest":
        try:
            as_of = dt.date.fromisoformat(as_of).isoformat()
        except ValueError:
            raise ConfigError(f'[bdc] as_of must be "latest" or an as-of date like '
                              f'"2025-06-30", got {bdc["as_of"]!r}') from None
    bdc["as_of"] = as_of
    try:
        return rule_set(bdc["rules"])
    except ConfigError as exc:
        raise ConfigError(f"[bdc] rules: {str(exc).removeprefix('rules: ')}") from exc


_CONTROL_ESCAPES = {code: f"\\u{code:04X}" for code in [*range(0x20), 0x7F]}
_STATE_TEXT = re.compile(r"[A-Za-z][A-Za-z .]*|[0-9]{1,2}")
_COUNTY_TEXT = re.compile(r"[^\W\d_][^\W_]*(?:[ .'-]+[^\W_]+)*\.?|[0-9]{3}|[0-9]{5}")
_LEAID_TEXT = re.compile(r"[0-9]{7}")


def _toml_string(value: str) -> str:
    r"""Return ``value`` as a TOML basic string that reads back as exactly ``value``.

    Backslash and quote are escaped, control characters written as ``\uXXXX``; nothing
    in ``value`` can end the string, add a line, or start a key or table.

    Examples
    --------
    >>> print(_toml_string('Ector"\n[outputs]'))
    "Ector\"\u000A[outputs]"
    """
    if any("\ud800" <= char <= "\udfff" for char in value):
        raise ConfigError(f"{value!r} is not valid Unicode text (a lone surrogate)")
    text = value.replace("\\", "\\\\").replace('"', '\\"').translate(_CONTROL_ESCAPES)
    return f'"{text}"'


def _template_area(state: object, county: object, district: object) -> None:
    """Refuse a state, county or district that is not a code or name of its kind."""
    checks = (
        ("state", state, _STATE_TEXT,
         "a state name, USPS code (e.g. 'TX') or FIPS code (e.g. '48')"),
        ("county", county, _COUNTY_TEXT,
         "a county name (letters, spaces, . ' -) or its 3- or 5-digit FIPS code, e.g. 'Ector'"),
        ("district", district, _LEAID_TEXT,
         "a 7-digit NCES LEAID, digits only with leading zeros, e.g. '4818000'"),
    )
    for option, value, pattern, allowed in checks:
        if option != "state" and value in (None, ""):
            continue
        if not isinstance(value, str) or not pattern.fullmatch(value):
            raise ConfigError(f"[area] {option} {value!r} is not allowed; give {allowed}")
        try:
            if option == "state":
                state_fips(value)
            elif option == "county":
                county_fips(str(state), value)
        except GeoidError as exc:
            raise ConfigError(f"[area] {option}: {exc}") from None


def study_template(*, state: str, county: str | None = None, district: str | None = None) -> str:
    """Return a commented study file for a state, county and/or district.

    Parameters
    ----------
    state : str
        State name, USPS code or FIPS code.
    county : str, optional
        County name or FIPS code, in that state.
    district : str, optional
        The school district's 7-digit NCES LEAID.

    Returns
    -------
    str
        The TOML text; every value is written as an escaped TOML string.

    Raises
    ------
    ConfigError
        Naming the option when a value is not a code or name of its kind.

    Examples
    --------
    >>> text = study_template(state="TX", county="Ector", district="4818000")
    >>> import tomllib
    >>> tomllib.loads(text)["area"]["counties"]
    ['Ector']
    >>> study_template(state="TX", district="48180")
    Traceback (most recent call last):
    ...
    assetmap.errors.ConfigError: [area] district '48180' is not allowed; give a 7-digit NCES ...
    """
    _template_area(state, county, district)
    counties = f"[{_toml_string(county)}]" if county else "[]"
    name = county or state
    return f'''# assetmap study file. Paths are relative to this file's folder.
# Build it with:  assetmap build study.toml   (assetmap fetch study.toml downloads first)

[study]
name = {_toml_string(name)}
title = {_toml_string(f"Connectivity gaps and nearby resources: {name}")}

[area]
state = {_toml_string(state)}            # name, USPS code or FIPS
counties = {counties}         # names or FIPS codes; empty = whole state
district = {_toml_string(district or "")}        # NCES LEAID (7 digits), optional

[census]
year = 2020                  # tract vintage (TIGER/Line 2020-2024)
acs_year = 2023              # ACS 5-year end year
tracts = "tiger"             # "tiger", "cb" (cartographic boundary) or a local file
acs = "api"                  # "api" (Census API; key from CENSUS_API_KEY) or a data.census.gov CSV

[bdc]
# FCC Broadband Data Collection fixed availability files for the state (CSV or zip),
# one per technology, downloaded from broadbandmap.fcc.gov; globs allowed. Or files = "fcc":
# `assetmap fetch study.toml` downloads the state's files through the FCC Public Data API
# (set ASSETMAP_FCC_USERNAME and ASSETMAP_FCC_API_TOKEN) and later builds use them.
files = ["bdc/*.zip"]
as_of = "latest"             # with files = "fcc": "latest" or an as-of date, e.g. "2025-06-30"
release = ""                 # e.g. "June 2025"
previous_files = []          # an earlier release, to report what changed
previous_release = ""        # e.g. "December 2024"
# BEAD rule set deciding served / underserved / unserved: "bead" (the default) or
# "bead_2025"; or replace this line by a [bdc.rules] table with reliable_technologies,
# low_latency_required, served and underserved (and optionally name): see docs/methods.md.
rules = "bead"

[sources]
schools = ""                 # NCES EDGE geocode file, CCD directory or TEA campus file
districts = ""               # LEAID, NAME table (NCES CCD directory): for a TEA file
partners = ""                # your partner-site registry (CSV, XLSX or GeoJSON)
survey = ""                  # household survey (only aggregated, suppressed rates leave the reader)
zones = ""                   # attendance-zone polygons, optional
rurality = ""                # USDA RUCA tract codes (CSV), optional
points = ""                  # weighted points for population-weighted tract centres, optional
speedtests = ""              # the district's own speed tests (CSV), optional
ookla_tiles = ""             # Ookla open-data fixed tiles (Parquet or shapefile), optional

[weights]                    # relative weights of the priority score (defaults in docs/methods.md)
infrastructure_gap = 0.30
adoption_gap = 0.30
need = 0.25
resource_gap = 0.15

[access]
urban_reach_m = 3218.7       # 2 miles
rural_reach_m = 16093.4      # 10 miles

[survey]
min_cell = 10                # cells with fewer responses are suppressed (never below 5)

[plan]
k = 3                        # new sites to choose
reach_m = 3200.0
weight = "unserved_households"
# funding_programs = "programs.json"   # update or add funding programs (status, date, source)

[outputs]
dir = "out"
formats = ["html", "png", "pdf", "report", "csv", "gpkg"]   # also: svg, markdown, ntia
offline_html = true          # inline Leaflet so the map works with no network
'''
