"""Files NTIA's BEAD challenge process takes: ``cai.csv``, ``unserved.csv``, ``underserved.csv``.

Schools, libraries and a district's partners are Community Anchor Institutions (CAIs) in
BEAD. State broadband offices collect CAI lists and location lists in the file formats of
NTIA's BEAD Challenge Process Policy Notice and check them with BEAD Inspector
(``bead-inspector`` on PyPI), the validator they run before submitting to NTIA.
:func:`write_ntia_files` writes the files exactly as that validator reads them (see
``docs/ntia-files.md``):

``cai.csv``
    A header, then one row per CAI in the 15 columns :data:`CAI_COLUMNS`, in that order:
    NTIA's CAI type code, the name, coordinates with 6 decimals (WGS 84), the state, the
    BEAD need (:data:`NEED_MBPS`) and, where the CAI's own BDC location is known, its
    availability. Partner site types map to CAI types through one table,
    ``ntia_cai_types.csv`` beside this module (:func:`cai_type_table`); a type with no CAI
    meaning is left out and counted.
``unserved.csv``, ``underserved.csv``
    No header: one BDC ``location_id`` (ten digits, from 1000000000 up) per line, sorted.

Nothing private leaves: of a partner site only its name, CAI type and coordinates (the
registry marks no field as shareable, so only what NTIA needs and a public registry holds);
of a school its name, state and coordinates; of the locations only their ids. No survey
value, household location, contact, address or capacity is written. Text cells that a
spreadsheet would run as a formula get a leading ``'`` (:mod:`assetmap._csvsafe`), and line
breaks and control characters inside text become spaces (the validator splits a file on
every line break, quoted or not).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from assetmap._csvsafe import neutralize_formulas, write_csv
from assetmap._report import merge_sources, start_report
from assetmap._safepath import inside, output_folder
from assetmap.bdc._common import rules_of_levels
from assetmap.bdc.rules import RulesLike, rule_set
from assetmap.errors import ConfigError, RejectedRowsWarning, SchemaError
from assetmap.geoid import state_usps
from assetmap.outputs._ntia_cai import (
    CAI_COLUMNS,
    ID_PATTERN,
    NEED_MBPS,
    cai_type_table,
    id_texts,
    school_rows,
    site_rows,
)

__all__ = ["CAI_COLUMNS", "NEED_MBPS", "NtiaFiles", "cai_type_table", "write_ntia_files"]


class NtiaFiles(dict[str, Path]):
    """The files written (NTIA format name -> path), with the run report as ``report``."""

    def __init__(self, paths: dict[str, Path], report: dict[str, Any]) -> None:
        super().__init__(paths)
        self.report: dict[str, Any] = report


def _location_lists(levels: pd.DataFrame, rules: RulesLike,
                    report: dict[str, Any]) -> tuple[list[str], list[str], pd.Series]:
    """Return the unserved and underserved ids, and the best download speed by id."""
    missing = [c for c in ("location_id", "service_level") if c not in levels.columns]
    if missing:
        raise SchemaError(f"levels: missing column(s) {missing}; make it with "
                          "am.service_levels(avail, codes=None, rules=...)")
    chosen = rules_of_levels([levels], rules, report)
    report["rules"], report["definition"] = chosen.as_dict(), chosen.describe()
    ids = id_texts(levels["location_id"])
    level = levels["service_level"].astype(str).to_numpy()
    valid = ids.str.fullmatch(ID_PATTERN).to_numpy(dtype=bool)
    bad = int((~valid).sum())
    locations: dict[str, Any] = {"rows_read": len(levels), "rejected": {}}
    if bad:
        reason = "location_id is not a ten-digit BDC location id"
        locations["rejected"][reason] = bad
        warnings.warn(f"write_ntia_files: left out {bad} of {len(levels)} locations of "
                      f"`levels`: {reason}", RejectedRowsWarning, stacklevel=3)
    table = pd.DataFrame({"id": ids.to_numpy()[valid], "level": level[valid]})
    conflicting = table.drop_duplicates().duplicated("id")
    if conflicting.any():
        first = table.drop_duplicates().loc[conflicting, "id"].iloc[0]
        raise SchemaError(f"levels: location_id {first} has more than one service level; "
                          "make levels with am.service_levels() (one row per location)")
    table = table.drop_duplicates("id")
    lists = {name: sorted(table.loc[table["level"] == name, "id"])  # ten digits: text order
             for name in ("unserved", "underserved")}
    locations.update({name: int((table["level"] == name).sum())
                      for name in ("unserved", "underserved", "served")})
    report["locations"] = locations
    best = pd.Series(dtype=float)
    if "best_down" in levels.columns:
        speeds = pd.to_numeric(levels["best_down"], errors="coerce").to_numpy()[valid]
        best = pd.Series(speeds, index=ids.to_numpy()[valid])
        best = best[~best.index.duplicated()]
    return lists["unserved"], lists["underserved"], best


def _default_state(state: str | int | None, schools: pd.DataFrame | None,
                   levels: pd.DataFrame | None) -> str | None:
    """Return the USPS code of ``state``, else the one state of ``schools`` or of ``levels``."""
    if state is not None:
        return state_usps(state)
    found: set[str] = set()
    if schools is not None and "state_fips" in schools.columns:
        found = set(schools["state_fips"].dropna().astype(str))
    elif levels is not None and "block_geoid" in levels.columns:
        found = set(levels["block_geoid"].dropna().astype(str).str[:2].unique())
    return state_usps(found.pop()) if len(found) == 1 else None


def _cai_frame(schools: gpd.GeoDataFrame | None, sites: gpd.GeoDataFrame | None, *,
               state: str | None, best: pd.Series | None,
               report: dict[str, Any]) -> pd.DataFrame:
    """Return the ``cai.csv`` table: schools, then partner sites, text neutralised."""
    parts = []
    if schools is not None:
        parts.append(school_rows(schools, state=state, best=best, report=report))
    if sites is not None:
        parts.append(site_rows(sites, schools=schools, state=state, best=best, report=report))
    parts = [p for p in parts if len(p)]
    cai = (pd.concat(parts, ignore_index=True) if parts
           else pd.DataFrame({c: pd.Series(dtype=object) for c in CAI_COLUMNS}))
    for column in ("entity_name", "explanation"):
        cai[column] = neutralize_formulas(cai[column].astype(object))
    report["cai_types"] = {str(k): int(v) for k, v in cai["type"].value_counts().items()}
    report["availability_known"] = int((cai["availability"] != "").sum())
    report["notes"].append(
        "entity_number (E-Rate entity number), cms_number and frn are left blank: no source "
        "here holds them; add them before submitting where the CAI has one")
    return cai[list(CAI_COLUMNS)]


def _warn_left_out(report: dict[str, Any]) -> None:
    left = report["rejected"]
    if left:
        parts = "; ".join(f"{reason} ({n})" for reason, n in left.items())
        warnings.warn(f"write_ntia_files: left out {sum(left.values())} of "
                      f"{report['rows_read']} schools and partner sites from cai.csv: {parts}",
                      RejectedRowsWarning, stacklevel=3)


def write_ntia_files(
    dest: str | Path,
    *,
    levels: pd.DataFrame | None = None,
    sites: gpd.GeoDataFrame | None = None,
    schools: gpd.GeoDataFrame | None = None,
    rules: RulesLike = "bead",
    state: str | int | None = None,
) -> NtiaFiles:
    """Write NTIA's BEAD challenge-process files: the CAI list and the location lists.

    Parameters
    ----------
    dest : str or Path
        The directory (created if missing); files of the same names are replaced.
    levels : pandas.DataFrame, optional
        :func:`assetmap.service_levels` of the BDC rows, made under ``rules``. NTIA counts
        every broadband-serviceable location, residential and business: make it with
        ``codes=None`` (service_levels keeps R and X only by default). Gives
        ``unserved.csv`` and ``underserved.csv``, and the availability of a CAI whose frame
        names its BDC ``location_id``.
    sites : geopandas.GeoDataFrame, optional
        The partner registry (:func:`assetmap.read_partner_sites`); types map to CAI types
        through :func:`cai_type_table`.
    schools : geopandas.GeoDataFrame, optional
        Schools (:func:`assetmap.read_schools`), written as CAI type S.
    rules : str, mapping or RuleSet
        The BEAD rule set ``levels`` was made under (checked against its report).
    state : str or int, optional
        The state of the partner sites (USPS code, name or FIPS); default: the one state of
        ``schools`` (``state_fips``), else of ``levels`` (block GEOIDs).

    Returns
    -------
    NtiaFiles
        ``{"cai": path, "unserved": path, "underserved": path}`` for the files written, with
        the run report as ``.report``: rows per file, CAI types, rows left out and why, the
        rule set, sources.

    Raises
    ------
    ConfigError
        Nothing to write, an unknown rule set, or partner sites of unknown state.
    SchemaError
        A frame without the columns it needs.
    ValueError
        ``levels`` made under another rule set than ``rules``.

    Examples
    --------
    >>> import tempfile
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> sites = gpd.GeoDataFrame({"name": ["=HYPERLINK(1)", "Hotspot 1"],
    ...                           "site_type": ["library", "hotspot"]},
    ...                          geometry=[Point(-102.37, 31.85)] * 2, crs=4326)
    >>> import warnings
    >>> with warnings.catch_warnings():  # one site left out: a RejectedRowsWarning
    ...     warnings.simplefilter("ignore")
    ...     out = write_ntia_files(tempfile.mkdtemp(), sites=sites, state="TX")
    >>> out["cai"].read_text().splitlines()[1]
    "L,'=HYPERLINK(1),,,,,,,TX,,-102.370000,31.850000,,1000,"
    >>> out.report["rejected"]
    {"sites: site type 'hotspot': an outdoor Wi-Fi hotspot is equipment, not an institution": 1}
    """
    if levels is None and sites is None and schools is None:
        raise ConfigError("write_ntia_files: nothing to write; pass levels= "
                          "(am.service_levels(...)), schools= and/or sites=")
    for name, frame in (("schools", schools), ("sites", sites)):
        if frame is not None and not isinstance(frame, gpd.GeoDataFrame):
            raise SchemaError(f"{name}: a GeoDataFrame of points is needed, got "
                              f"{type(frame).__name__}")
    anchors = sum(len(f) for f in (schools, sites) if f is not None)
    out = Path(dest)
    report = start_report(str(out), kind="ntia_files", rows_read=anchors)
    report["sources"], report["vintages"], report["illustrative"] = merge_sources(
        schools, sites, levels)
    lists: dict[str, list[str]] = {}
    best = None
    if levels is not None:
        lists["unserved"], lists["underserved"], best = _location_lists(levels, rules, report)
        report["notes"].append(
            "unserved.csv and underserved.csv list the locations of `levels`; NTIA counts "
            "every broadband-serviceable location (BDC codes R, B and X): make levels with "
            "am.service_levels(avail, codes=None)")
    else:
        chosen = rule_set(rules)
        report["rules"], report["definition"] = chosen.as_dict(), chosen.describe()
    cai = None
    if schools is not None or sites is not None:
        cai = _cai_frame(schools, sites, state=_default_state(state, schools, levels),
                         best=best, report=report)
    output_folder(out)
    written = {name: inside(out, f"{name}.csv")  # every path checked before any is written
               for name in [*lists, *(["cai"] if cai is not None else [])]}
    for name, ids in lists.items():
        written[name].write_text("".join(f"{i}\r\n" for i in ids), encoding="utf-8")
    if cai is not None:
        write_csv(cai, written["cai"])
    report["files"] = {f"{k}.csv": len(v) for k, v in lists.items()}
    report["files"]["cai.csv"] = report["rows_out"] = 0 if cai is None else len(cai)
    _warn_left_out(report)
    return NtiaFiles(written, report)
