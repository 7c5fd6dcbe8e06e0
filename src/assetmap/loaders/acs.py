"""ACS 5-year estimates with margins of error: the Census API, data.census.gov CSVs, 2010 tracts.

* :func:`load_acs` asks ``https://api.census.gov/data/{year}/acs/acs5`` for named tables
  (internet B28002, computers B28001, poverty B17001, children B09001, population B01003,
  median income B19013, income brackets B19001), estimates (E) and margins of error (M), for
  the tracts, block groups or counties of a state or county. The API answers a JSON array of
  arrays of strings, header first; at most 50 variables per request, so larger sets are split.
* :func:`read_acs_csv` reads a data.census.gov table download (two header rows).
* :func:`acs_to_2020_tracts` moves data published on 2010 tracts onto 2020 tracts.

Annotation values (the API's -666666666 etc., the CSV's ``-``, ``N``, ``(X)``, ``*****``)
become NaN with one :class:`~assetmap.errors.RepairWarning` that counts them. Derived columns
and their MOE and CV are those of docs/data-model.md (see :mod:`assetmap.loaders._acs_math`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from assetmap._report import (
    attach_report,
    count_reject,
    get_report,
    start_report,
)
from assetmap.errors import ConfigError, SchemaError
from assetmap.geoid import GEOID_LENGTHS, Level, county_fips, normalize_geoids, state_fips
from assetmap.loaders._acs_math import (
    ACS_TABLES,
    DERIVED_COLUMNS,
    acs_cv_flags,
    derive_acs,
    mask_sentinels,
    warn_missing_codes,
)
from assetmap.loaders._acs_values import (
    ParseCounts,
    check_plausible,
    count_repairs,
    parse_values,
)
from assetmap.loaders._textfile import parse_errors, semicolon_hint
from assetmap.settings import settings

__all__ = ["ACS_TABLES", "acs_cv_flags", "acs_to_2020_tracts", "load_acs", "read_acs_csv"]

API_BASE_URL = "https://api.census.gov/data"
_MAX_VARIABLES = 48  # the API allows 50 per request, NAME included
_LICENSE = "Public domain (US government work)"
_VARIABLE = re.compile(r"^[A-Z]\d{5}[A-Z]{0,2}_\d{3}[EM]$")
_GEOGRAPHIES: dict[str, Level] = {"tract": "tract", "block group": "block_group",
                                  "county": "county"}
_GEO_PREFIX: dict[str, Level] = {"140": "tract", "150": "block_group", "050": "county"}


def _vintage(year: int) -> str:
    return f"ACS 5-year {year - 4}-{year}"


def _source(year: int, url: str) -> dict[str, str]:
    return {"name": "US Census Bureau, American Community Survey 5-year estimates",
            "vintage": f"{year - 4}-{year}", "url": url, "license": _LICENSE}


def _geo_params(geography: str, st: str, counties: list[str]) -> dict[str, str]:
    codes = ",".join(c[2:] for c in counties)
    if geography == "county":
        return {"for": f"county:{codes or '*'}", "in": f"state:{st}"}
    if geography == "tract":
        return {"for": "tract:*", "in": f"state:{st}" + (f" county:{codes}" if codes else "")}
    return {"for": "block group:*", "in": f"state:{st} county:{codes or '*'} tract:*"}


def load_acs(
    *,
    state: str | int,
    county: Any = None,
    year: int = 2023,
    geography: str = "tract",
    tables: list[str] | tuple[str, ...] = tuple(ACS_TABLES),
    base_url: str | None = None,
    key: str | None = None,
) -> pd.DataFrame:
    """Load ACS 5-year estimates and margins of error from the Census API.

    Parameters
    ----------
    state : str or int
        State name, USPS code or FIPS code.
    county : str, int or list, optional
        County name, 3-digit or 5-digit code, or a list of them; None for the whole state.
    year : int
        Last year of the 5-year period (2023 = ACS 2019-2023).
    geography : {"tract", "block group", "county"}
        The areas; GEOIDs of 11, 12 or 5 characters.
    tables : list of str
        Names from ``ACS_TABLES``: internet, computers, poverty, children, population,
        median_income, income.
    base_url : str, optional
        Replaces ``settings.census_api_url`` (a mirror, or a test server).
    key : str, optional
        Census API key; default ``settings.census_api_key`` (env ``CENSUS_API_KEY``).
        Never written to the cache's file names or to messages.

    Returns
    -------
    pandas.DataFrame
        ``GEOID``, ``NAME``, the raw ``..._nnnE`` / ``..._nnnM`` variables and the derived
        columns of docs/data-model.md, with vintages like ``"ACS 5-year 2019-2023"``.

    Examples
    --------
    >>> import assetmap as am
    >>> with am.settings.override(offline=True):
    ...     try:
    ...         load_acs(state="TX", county="Ector", tables=["poverty"])
    ...     except am.errors.OfflineError:
    ...         print("not cached")
    not cached
    """
    if geography not in _GEOGRAPHIES:
        raise ConfigError(f"geography must be one of {list(_GEOGRAPHIES)}, got {geography!r}")
    unknown = [t for t in tables if t not in ACS_TABLES]
    if unknown or not tables:
        raise ConfigError(f"unknown ACS tables {unknown}; choose from {list(ACS_TABLES)}")
    if not isinstance(year, int) or not 2009 <= year <= 2100:
        raise ConfigError(f"year must be the last year of an ACS 5-year period, got {year!r}")
    st = state_fips(state)
    counties = [county_fips(st, c) for c in ([county] if isinstance(county, str | int)
                                             else list(county or []))]
    level = _GEOGRAPHIES[geography]
    variables = [f"{v}{s}" for t in dict.fromkeys(tables) for v in ACS_TABLES[t] for s in "EM"]
    url = f"{(base_url or settings.census_api_url).rstrip('/')}/{year}/acs/acs5"
    geo = _geo_params(geography, st, counties)
    api_key = key or settings.census_api_key
    pieces, counts = [], ParseCounts()
    from assetmap._http import fetch  # requests only when a download is needed

    for start in range(0, len(variables), _MAX_VARIABLES):
        chunk = variables[start:start + _MAX_VARIABLES]
        params = {"get": ",".join(["NAME", *chunk] if start == 0 else chunk), **geo}
        if api_key:
            params["key"] = api_key
        path = fetch(url, params=params, expect="json",
                     description=f"ACS {year} {geography} {','.join(tables)}")
        pieces.append(_parse_api(path, url, chunk, level, counts))
    frame = pieces[0]
    for piece in pieces[1:]:
        frame = frame.merge(piece, on="GEOID", how="outer", validate="one_to_one")
    report = start_report(url, kind="acs", rows_read=len(frame), sources=[_source(year, url)])
    report["notes"].append(f"geography {geography}, state {st}, counties {counties or 'all'}")
    count_repairs(report, counts)
    return _finish(frame, report, variables, _vintage(year), counts.annotations)


def _parse_api(path: Path, url: str, requested: list[str], level: Level,
               counts: ParseCounts) -> pd.DataFrame:
    try:
        raw = json.loads(path.read_text("utf-8"))
    except ValueError as exc:
        raise SchemaError(f"{url}: the answer is not JSON ({exc})") from exc
    if (not isinstance(raw, list) or not raw or not all(isinstance(r, list) for r in raw)
            or any(len(r) != len(raw[0]) for r in raw)):
        raise SchemaError(f"{url}: expected a JSON array of equal-length arrays, header first")
    table = pd.DataFrame(raw[1:], columns=raw[0], dtype=object)
    geo_columns = {"county": ["state", "county"], "tract": ["state", "county", "tract"],
                   "block_group": ["state", "county", "tract", "block group"]}[level]
    missing = [c for c in [*requested, *geo_columns] if c not in table]
    if missing:
        raise SchemaError(f"{url}: the answer lacks columns {missing}; it has {list(table)}")
    geoid = table[geo_columns].astype(str).agg("".join, axis=1)
    out = pd.DataFrame({"GEOID": normalize_geoids(geoid, level=level, source=url)})
    if "NAME" in table:
        out["NAME"] = table["NAME"]
    check_plausible(out, [], source=url)  # a GEOID twice: an error, before the merge
    for column in requested:
        out[column] = parse_values(table[column], source=url, column=column, first_row=1,
                                   counts=counts)
    return out


def _finish(
    frame: pd.DataFrame, report: dict[str, Any], variables: list[str], vintage: str,
    annotations: dict[str, int] | None = None,
) -> pd.DataFrame:
    counts = dict(annotations or {})
    for code, n in mask_sentinels(frame, variables).items():
        counts[code] = counts.get(code, 0) + n
    check_plausible(frame, variables, source=str(report.get("source")))
    rows = int(frame[variables].isna().any(axis=1).sum()) if counts else 0
    warn_missing_codes(report, counts, rows, what="ACS annotation values")
    frame, vintages = derive_acs(frame, vintage=vintage)
    report["vintages"].update(vintages)
    absent = [c for c in DERIVED_COLUMNS if c not in frame]
    if absent:
        report["notes"].append(f"derived columns not available from these tables: {absent}")
    ordered = ["GEOID", *(["NAME"] if "NAME" in frame else []), *variables]
    extra = [c for c in frame.columns if c not in ordered]
    return attach_report(frame[ordered + extra].reset_index(drop=True), report)


def read_acs_csv(path: str | Path, *, year: int | None = None) -> pd.DataFrame:
    r"""Read an ACS table downloaded from data.census.gov (codes row, then labels row).

    ``GEO_ID`` (``1400000US48135000100``) becomes ``GEOID``; E/M columns become numbers;
    annotations (``-``, ``N``, ``(X)``, ``*****``, ...) become NaN with one warning; top- and
    bottom-coded medians (``250,000+``, ``2,500-``) are read as their bound and counted as
    repairs. A one-header CSV with a ``GEOID`` column is read the same way.

    Parameters
    ----------
    path : str or path-like
        The ``...-Data.csv`` file.
    year : int, optional
        Last year of the 5-year period, if the file name (``ACSDT5Y2023...``) does not say.

    Returns
    -------
    pandas.DataFrame
        As :func:`load_acs`.

    Examples
    --------
    >>> import io, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "ACSDT5Y2023.B01003-Data.csv"
    >>> _ = p.write_text('"GEO_ID","NAME","B01003_001E","B01003_001M",\n'
    ...     '"Geography","Geographic Area Name","Estimate!!Total","Margin of Error!!Total",\n'
    ...     '"1400000US48135000100","Census Tract 1; Ector County; Texas","3966","548",\n')
    >>> read_acs_csv(p)[["GEOID", "population", "population_moe"]].values.tolist()
    [['48135000100', 3966.0, 548.0]]
    """
    path = Path(path)
    with parse_errors(path):
        raw = pd.read_csv(path, header=None, dtype=str, keep_default_na=False,
                          encoding="utf-8-sig")
    header = [str(c).strip() for c in raw.iloc[0]]
    repeated = sorted({c for c in header if c and header.count(c) > 1})
    if repeated:
        raise SchemaError(f"{path}: columns {repeated} appear more than once in the header")
    body = raw.iloc[1:].set_axis(header, axis=1)
    body = body.loc[:, [c for c in header if c]]
    if body.empty:
        raise SchemaError(f"{path}: the file has a header but no data rows")
    id_column = next((c for c in ("GEO_ID", "GEOID", "id") if c in body), None)
    if id_column is None:
        raise SchemaError(f"{path}: no GEO_ID or GEOID column in the first row {header[:5]}"
                          + semicolon_hint(header))
    first_line = 2
    if len(body) and not re.search(r"\d", str(body[id_column].iloc[0])):
        body, first_line = body.iloc[1:], 3  # the labels row
    ids = body[id_column].str.strip()
    prefixes = ids.str.extract(r"^(\d{3})\d{4}US", expand=False)
    ids = ids.str.replace(r"^\d{7}US", "", regex=True)
    level = _GEO_PREFIX.get(str(prefixes.dropna().iloc[0])) if prefixes.notna().any() else None
    if level is None:
        lengths = {n: lv for lv, n in GEOID_LENGTHS.items()}
        level = lengths.get(int(ids.str.len().mode().iloc[0]) if len(ids) else 11, "tract")
    out = pd.DataFrame({"GEOID": normalize_geoids(ids.reset_index(drop=True), level=level,
                                                 source=str(path), column=id_column)})
    if "NAME" in body:
        out["NAME"] = body["NAME"].reset_index(drop=True)
    variables = [c for c in body if _VARIABLE.match(c)]
    if not variables:
        raise SchemaError(f"{path}: no ACS variable columns (like B28002_001E) in {header[:8]}")
    report = start_report(str(path), kind="acs", rows_read=len(out))
    counts = ParseCounts()
    for column in variables:
        out[column] = parse_values(body[column], source=str(path), column=column,
                                   first_row=first_line, counts=counts)
    count_repairs(report, counts)
    found = re.search(r"5Y(\d{4})", path.name)
    year = year or (int(found.group(1)) if found else None)
    vintage = _vintage(year) if year else "ACS 5-year (period not stated)"
    report["sources"].append(_source(year, str(path)) if year else
                             {"name": "US Census Bureau, American Community Survey 5-year",
                              "url": str(path), "license": _LICENSE})
    return _finish(out, report, variables, vintage, counts.annotations)


def _read_relationship(relationship: str | Path | pd.DataFrame) -> pd.DataFrame:
    if isinstance(relationship, pd.DataFrame):
        rel, shown = relationship.copy(), "relationship frame"
    else:
        rel = pd.read_csv(relationship, sep="|", dtype=str, keep_default_na=False)
        shown = str(relationship)
    needed = ["GEOID_TRACT_20", "GEOID_TRACT_10", "AREALAND_TRACT_10", "AREALAND_PART"]
    missing = [c for c in needed if c not in rel]
    if missing:
        raise SchemaError(f"{shown}: not a Census 2020-2010 tract relationship file; "
                          f"missing columns {missing}")
    for column in ("GEOID_TRACT_20", "GEOID_TRACT_10"):
        rel[column] = normalize_geoids(rel[column], level="tract", source=shown, column=column)
    for column in ("AREALAND_TRACT_10", "AREALAND_PART"):
        rel[column] = pd.to_numeric(rel[column], errors="raise").astype(float)
    land = rel["AREALAND_TRACT_10"]
    rel["weight"] = (rel["AREALAND_PART"] / land).where(land > 0, 0.0)
    return rel


def acs_to_2020_tracts(
    frame: pd.DataFrame, *, relationship: str | Path | pd.DataFrame
) -> pd.DataFrame:
    """Move ACS data on 2010 tracts onto 2020 tracts through the Census relationship file.

    Counts (raw ``E`` variables and ``households``, ``children``, ``population``) are
    apportioned by land area: each 2010 tract gives ``AREALAND_PART / AREALAND_TRACT_10`` of
    its count to each 2020 tract it overlaps; MOEs are scaled by the same weight and summed in
    quadrature. Shares are recomputed from the apportioned counts when the raw variables are
    present, otherwise averaged weighted by apportioned households (or land area), as is
    ``median_income`` (an approximation). A 2020 tract whose 2010 parents are not all in
    ``frame`` gets NaN counts (a partial sum would understate them) and is named in the notes.

    Parameters
    ----------
    frame : pandas.DataFrame
        ACS data keyed by 11-character 2010-tract ``GEOID``.
    relationship : path or DataFrame
        The Census ``tab20_tract20_tract10_*.txt`` file (pipe-delimited) or its rows.

    Returns
    -------
    pandas.DataFrame
        One row per 2020 tract in the relationship file, keyed by ``GEOID``; vintages read
        ``"<vintage> on 2010 tracts, area-weighted to 2020 tracts"``.

    Examples
    --------
    >>> import pandas as pd
    >>> from assetmap.datasets import data_path
    >>> old = pd.DataFrame({"GEOID": ["48135002700"], "population": [6000.0]})
    >>> rel = data_path("acs", "census_rel2020_tract20_tract10_ector.txt")
    >>> new = acs_to_2020_tracts(old, relationship=rel)
    >>> new.dropna(subset=["population"])["population"].round().tolist()
    [2501.0, 3499.0]
    """
    rel = _read_relationship(relationship)
    if "GEOID" not in frame:
        raise SchemaError("frame has no GEOID column (11-character 2010 tract GEOIDs)")
    data = frame.copy()
    data["GEOID"] = normalize_geoids(data["GEOID"], level="tract", column="GEOID")
    old = get_report(frame)
    report = start_report(old.get("source"), kind="acs_2020_tracts", rows_read=len(data),
                          sources=old.get("sources", []))
    outside = ~data["GEOID"].isin(rel["GEOID_TRACT_10"])
    count_reject(report, "2010 tract not in the relationship file", int(outside.sum()),
                 rows=(np.flatnonzero(outside.to_numpy()) + 1).tolist())
    raw_e = [c for c in data if _VARIABLE.match(c) and c.endswith("E")]
    counts = [*raw_e, *[c for c in ("households", "children", "population") if c in data]]
    moes = {c: (c[:-1] + "M" if c in raw_e else f"{c}_moe") for c in counts}
    moes = {c: m for c, m in moes.items() if m in data}
    pairs = rel.merge(data, left_on="GEOID_TRACT_10", right_on="GEOID", how="left",
                      indicator=True)
    pairs["present"] = pairs["_merge"] == "both"
    grouped = pairs.groupby("GEOID_TRACT_20", sort=True)
    complete = grouped["present"].all()
    out = pd.DataFrame({"GEOID": complete.index.astype(object)}).set_index("GEOID", drop=False)
    w = pairs["weight"]
    for column in counts:
        out[column] = (pairs[column] * w).groupby(pairs["GEOID_TRACT_20"]).sum(min_count=1)
        if column in moes:
            sq = (pairs[moes[column]] * w) ** 2
            out[moes[column]] = np.sqrt(sq.groupby(pairs["GEOID_TRACT_20"]).sum(min_count=1))
    out.loc[~complete, [*counts, *moes.values()]] = np.nan
    mean_weight = (pairs["households"] * w) if "households" in pairs else pairs["AREALAND_PART"]
    averaged = [c for c in data if (c.endswith("_share") or c == "median_income")]
    for column in averaged:
        ok = pairs[column].notna() & mean_weight.notna()
        a = mean_weight.where(ok)
        total = a.groupby(pairs["GEOID_TRACT_20"]).transform("sum")
        share = (a / total).where(total > 0)
        out[column] = (pairs[column] * share).groupby(pairs["GEOID_TRACT_20"]).sum(min_count=1)
        if f"{column}_moe" in pairs:
            sq = (pairs[f"{column}_moe"] * share) ** 2
            out[f"{column}_moe"] = np.sqrt(sq.groupby(pairs["GEOID_TRACT_20"]).sum(min_count=1))
            with np.errstate(divide="ignore", invalid="ignore"):
                out[f"{column}_cv"] = ((out[f"{column}_moe"] / 1.645) / out[column]).where(
                    out[column] != 0)
    out = out.reset_index(drop=True)
    old_vintages = old.get("vintages", {})
    base = next(iter(old_vintages.values()), "ACS 5-year (period not stated)")
    vintages: dict[str, str] = {}
    if raw_e:
        out, vintages = derive_acs(out, vintage=base)
    method = " on 2010 tracts, area-weighted to 2020 tracts"
    for column in [*vintages, *averaged, *[c for c in counts if c in DERIVED_COLUMNS]]:
        report["vintages"][column] = old_vintages.get(column, base) + method
    if (~complete).any():
        report["notes"].append(
            f"{int((~complete).sum())} 2020 tracts have 2010 parents missing from the input; "
            f"their counts are NaN: {list(complete.index[~complete])[:10]}")
    report["notes"].append(f"{len(data)} 2010-tract rows apportioned to {len(out)} 2020 tracts "
                           "by AREALAND_PART / AREALAND_TRACT_10")
    return attach_report(out, report)
