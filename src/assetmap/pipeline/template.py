"""The commented study file that ``assetmap init`` writes, and the check of its district.

Every value is validated against the form of its kind (state, county, LEAID) and written as
an escaped TOML string, so nothing a user types can add a key or a table.
:func:`check_district` checks a LEAID against the NCES EDGE directory of school districts
(downloaded and cached) and gives the state, county and name to write.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

from assetmap._report import get_report
from assetmap.errors import AssetmapWarning, ConfigError, DownloadError, GeoidError
from assetmap.geoid import county_fips, state_fips, state_usps

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
         "a state name, its 2-letter USPS code or its 1- or 2-digit FIPS code"),
        ("county", county, _COUNTY_TEXT,
         "a county name (letters, spaces, . ' -) or its 3- or 5-digit FIPS code"),
        ("district", district, _LEAID_TEXT,
         "a 7-digit NCES LEAID: the state's 2-digit FIPS code, then 5 digits"),
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


def _leaid_state(district: object) -> str:
    """Return the state FIPS of a LEAID of the right form (its first two digits)."""
    if not isinstance(district, str) or not _LEAID_TEXT.fullmatch(district):
        _template_area("TX", None, district)  # raises, naming what is allowed
    assert isinstance(district, str)
    try:
        return state_fips(district[:2])
    except GeoidError:
        raise ConfigError(
            f"[area] district {district!r}: a LEAID starts with its state's 2-digit FIPS "
            f"code, and {district[:2]} is no state's"
        ) from None


def _county_text(state: str, fips: object, name: object) -> str | None:
    """Return the county to write: its NCES name when that reads back as ``fips``, else it."""
    if not isinstance(fips, str) or not re.fullmatch(r"[0-9]{5}", fips):
        return None
    if isinstance(name, str) and _COUNTY_TEXT.fullmatch(name.strip()):
        try:
            if county_fips(state, name.strip()) == fips:
                return name.strip()
        except GeoidError:
            pass
    return fips


def check_district(
    district: str,
    *,
    state: str | None = None,
    county: str | None = None,
    school_year: str | int | None = None,
) -> dict[str, Any]:
    """Check a LEAID against NCES EDGE; return the state, county and name for the study file.

    The LEAID's form and its state (the first two digits) are checked first, with no
    network. Then the NCES EDGE school-district (LEA) file of ``school_year`` is downloaded
    (cached; :func:`assetmap.load_districts`) and the LEAID looked up: the state, the county
    of the district's office and the district's name fill in what was not given. When the
    file cannot be had (offline with nothing cached, no network), a warning says the LEAID
    was not checked and only its form and state are used.

    Parameters
    ----------
    district : str
        The 7-digit NCES LEAID.
    state, county : str, optional
        As the user gave them (None: fill in from NCES).
    school_year : str or int, optional
        The EDGE file's school year (default: the newest, see :func:`assetmap.load_districts`).

    Returns
    -------
    dict
        ``state``, ``county`` (None when neither given nor known), ``name`` (None when not
        checked), ``checked`` (bool), ``school_year`` (e.g. ``"2024-25"``), ``county_name``.

    Raises
    ------
    ConfigError
        A LEAID not of the form, not in NCES EDGE that year, or of another state than ``state``.

    Examples
    --------
    The LEAID's own state is checked before any download:

    >>> check_district("0100005", state="TX")
    Traceback (most recent call last):
    ...
    assetmap.errors.ConfigError: [area] district '0100005': LEAID 0100005 is a district of AL ...
    """
    from assetmap.loaders._edge_files import school_year as year_of
    from assetmap.loaders.nces_edge import load_districts

    lea_state = _leaid_state(district)
    usps = state_usps(lea_state)
    if state not in (None, ""):
        _template_area(state, None, None)
        if state_fips(state) != lea_state:
            raise ConfigError(
                f"[area] district {district!r}: LEAID {district} is a district of {usps} "
                f"(its first two digits, {lea_state}), not of {state!r}; give --state {usps}, "
                f"or the LEAID of a district in {state}"
            )
    label, _ = year_of(school_year)
    result: dict[str, Any] = {"state": state or usps, "county": county or None, "name": None,
                              "checked": False, "school_year": label, "county_name": None}
    try:
        found = load_districts(district=district, school_year=label)
    except DownloadError as exc:
        warnings.warn(
            f"LEAID {district} could not be checked against NCES EDGE {label} ({exc}); its "
            f"form is valid and it is a district of {usps}. Run init again online to check "
            "it and fill in the county and district name",
            AssetmapWarning, stacklevel=2,
        )
        return result
    shown = get_report(found)["source"] or "the NCES EDGE district file"
    if found.empty:
        raise ConfigError(
            f"LEAID {district} is not a district in NCES EDGE {label} public school district "
            f"geocodes ({shown}); check the id at https://nces.ed.gov/ccd/districtsearch/"
        )
    row = found.iloc[0]
    where = row["state_fips"] or lea_state
    if where != lea_state or (state not in (None, "") and state_fips(str(state)) != where):
        raise ConfigError(
            f"[area] district {district!r}: NCES EDGE {label} places LEAID {district} "
            f"({row['name']}) in {state_usps(where)}, not in {state or usps}"
        )
    result.update(checked=True, name=row["name"], county_name=row["county_name"],
                  county=county or _county_text(where, row["county_fips"], row["county_name"]))
    return result


def _boundary_name(district: str | None) -> str:
    """Return the example file name of the commented ``district_boundary`` line."""
    return f"district_{district}_boundary.geojson" if district else "district_boundary.geojson"


def study_template(*, state: str, county: str | None = None, district: str | None = None,
                   district_name: str | None = None) -> str:
    """Return a commented study file for a state, county and/or district.

    Parameters
    ----------
    state : str
        State name, USPS code or FIPS code.
    county : str, optional
        County name or FIPS code, in that state.
    district : str, optional
        The school district's 7-digit NCES LEAID.
    district_name : str, optional
        The district's name (e.g. from :func:`check_district`): names the study.

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
    name = district_name or county or state
    return f'''# assetmap study file. Paths are relative to this file's folder.
# Build it with:  assetmap build study.toml   (assetmap fetch study.toml downloads first)

[study]
name = {_toml_string(name)}
title = {_toml_string(f"Connectivity gaps and nearby resources: {name}")}

[area]
state = {_toml_string(state)}            # name, USPS code or FIPS
counties = {counties}         # names or FIPS codes; empty = whole state
district = {_toml_string(district or "")}        # NCES LEAID (7 digits), optional
# The district's own boundary as the study area: by default the TIGER school district whose
# GEOID is the LEAID above (unified, else elementary or secondary). To use a local file
# instead (GeoJSON, GeoPackage, shapefile or zip), uncomment and point this line at it:
# district_boundary = {_toml_string(_boundary_name(district))}

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
schools = ""                 # "nces" (NCES EDGE geocodes, fetched), or a geocode file, CCD
                             # directory or TEA campus file
# school_year = "2024-25"    # with schools = "nces": the EDGE file's school year
districts = ""               # LEAID, NAME table for a TEA file (default: shipped TX table)
partners = ""                # your partner-site registry (CSV, XLSX or GeoJSON)
survey = ""                  # household survey (only aggregated, suppressed rates leave the reader)
zones = ""                   # attendance-zone polygons, optional
rurality = ""                # USDA RUCA tract codes (CSV), optional
points = ""                  # weighted points for population-weighted tract centres, optional
speedtests = ""              # the district's own speed tests (CSV), optional
ookla_tiles = ""             # Ookla open-data fixed tiles (Parquet or shapefile), optional
# ookla_year = 2025          # or download Ookla's fixed tiles of a quarter for the study
# ookla_quarter = 2          # area (assetmap fetch); instead of ookla_tiles

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
