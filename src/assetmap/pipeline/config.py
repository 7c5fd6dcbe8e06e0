"""The study file (TOML): its schema, defaults and validation.

A study file describes one study once: the area, the sources, the weights and reach, and the
outputs. :func:`parse_study` turns the parsed TOML into a :class:`StudyConfig`, refusing unknown
keys and wrong types with a message that names the key and what is allowed. Relative paths are
resolved against the study file's folder; outputs may only be written inside the output folder.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assetmap._i18n import check_language
from assetmap.bdc.rules import RuleSet, rule_set
from assetmap.errors import ConfigError
from assetmap.pipeline._source_keys import NCES_SCHOOLS, PATH_KEYS, check_source_keys

__all__ = ["StudyConfig", "parse_study"]

_SCHEMA: dict[str, dict[str, tuple[type | tuple[type, ...], Any]]] = {
    "study": {
        "name": (str, "study"),
        "title": (str, ""),
    },
    "area": {
        "state": ((str, int), None),
        "counties": (list, []),
        "district": (str, ""),
        "district_boundary": (str, ""),
    },
    "census": {
        "year": (int, 2020),
        "acs_year": (int, 2023),
        "tracts": (str, "tiger"),
        "acs": ((str, list), "api"),
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
        "school_year": ((str, int), None),
        "districts": (str, ""),
        "partners": (str, ""),
        "survey": (str, ""),
        "zones": (str, ""),
        "rurality": (str, ""),
        "points": (str, ""),
        "speedtests": (str, ""),
        "ookla_tiles": (str, ""),
        "ookla_year": (int, None),
        "ookla_quarter": (int, None),
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
        "language": (str, "en"),
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
    def acs_files(self) -> list[str]:
        """The local or remote ACS table files (``[census] acs``); empty for ``"api"``."""
        acs = self.census["acs"]
        files = [acs] if isinstance(acs, str) else list(acs)
        return [f for f in files if f and f != "api"]

    @property
    def district_boundary(self) -> str:
        """The district boundary file (``[area] district_boundary``), or ``""``."""
        return str(self.area.get("district_boundary") or "")

    @property
    def nces_schools(self) -> bool:
        """Whether the schools come from the NCES EDGE geocodes (``schools = "nces"``)."""
        return self.sources["schools"] == NCES_SCHOOLS

    @property
    def ookla_quarter(self) -> tuple[int, int] | None:
        """``(year, quarter)`` of the Ookla tiles to download, or None."""
        year, quarter = self.sources.get("ookla_year"), self.sources.get("ookla_quarter")
        return None if year is None or quarter is None else (int(year), int(quarter))

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
    try:
        sections["outputs"]["language"] = check_language(sections["outputs"]["language"])
    except ConfigError as exc:
        raise ConfigError(f"[outputs] {exc}") from None
    if sections["plan"]["k"] < 0:
        raise ConfigError(f"[plan] k must be >= 0, got {sections['plan']['k']}")
    sections["census"]["tracts"] = _resolve(base, sections["census"]["tracts"])
    sections["census"]["acs"] = _acs_files(base, sections["census"]["acs"])
    boundary = sections["area"].pop("district_boundary")
    if boundary:  # kept out of [area] when not given
        sections["area"]["district_boundary"] = _resolve(base, boundary)
    rules = _bdc_checks(sections["bdc"])
    if sections["bdc"]["files"] != FCC_FILES:
        sections["bdc"]["files"] = [_resolve(base, str(f)) for f in sections["bdc"]["files"]]
    sections["bdc"]["previous_files"] = [
        _resolve(base, str(f)) for f in sections["bdc"]["previous_files"]
    ]
    sections["sources"].update(check_source_keys(sections["sources"]))
    for key in PATH_KEYS:
        if not (key == "schools" and sections["sources"][key] == NCES_SCHOOLS):
            sections["sources"][key] = _resolve(base, sections["sources"][key])
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


def _acs_files(base: Path, acs: str | list[Any]) -> str | list[str]:
    """``[census] acs``: ``"api"``, one file, or a list of files (resolved)."""
    if isinstance(acs, str):
        return _resolve(base, acs)
    bad = [f for f in acs if not isinstance(f, str) or not f or f == "api"]
    if bad or not acs:
        raise ConfigError('[census] acs must be "api", a file, or a list of files (ACS tables '
                          f"downloaded from data.census.gov), got {acs!r}")
    return [_resolve(base, f) for f in acs]


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
