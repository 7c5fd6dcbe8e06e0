"""USDA Rural-Urban Commuting Area (RUCA) codes by census tract.

Reads the USDA ERS tract files (2010: ``State-County-Tract FIPS Code``, ``Primary RUCA Code
2010``, ``Secondary RUCA Code, 2010``; 2020: ``TractFIPS20``, ``PrimaryRUCA``,
``SecondaryRUCA``) and cuts of them with ``GEOID``/``RUCA1``/``RUCA2``-style headers, as CSV or
Excel. Columns are found by name: the tract FIPS column (``GEOID`` or a header containing both
"tract" and "fips"), the primary code (a header containing "primary" or ``RUCA1``) and the
secondary code (a header containing "secondary" or ``RUCA2``).

RUCA primary codes: 1-3 metropolitan, 4-6 micropolitan, 7-9 small town, 10 rural. A tract is
``rural`` here when its primary code is 4 or more (outside a metropolitan core), the reading the
reach defaults use (2 miles urban, 10 miles rural).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from assetmap._report import attach_report, count_reject, start_report
from assetmap.errors import SchemaError, where
from assetmap.geoid import normalize_geoids
from assetmap.loaders._textfile import parse_errors, semicolon_hint

__all__ = ["RURAL_FROM_PRIMARY", "read_ruca"]

RURAL_FROM_PRIMARY = 4


def _find(columns: list[str], *tests: tuple[str, ...]) -> str | None:
    lowered = {c: c.lower().replace("_", " ") for c in columns}
    for words in tests:
        for col, low in lowered.items():
            if all(w in low for w in words):
                return col
    return None


#: The years USDA ERS has published RUCA codes for (each on that census's tracts).
RUCA_VERSIONS = ("1990", "2000", "2010", "2020")


def ruca_version(name: str, columns: list[str]) -> str:
    """Return the RUCA version a file states in its name or headers, or say it states none.

    Examples
    --------
    >>> ruca_version("usda_ruca_2020_tracts2020.csv", ["State-County-Tract FIPS Code"])
    '2020'
    >>> ruca_version("ruca.csv", ["FIPS", "RUCA1"])
    'version not stated in the file'
    """
    for text in (name, *columns):
        found = [y for y in re.findall(r"(?<!\d)((?:19|20)\d0)(?!\d)", str(text))
                 if y in RUCA_VERSIONS]
        if found:
            return found[0]
    return "version not stated in the file"


def read_ruca(
    path: str | Path,
    *,
    sheet: str | int = 0,
    counties: list[str] | None = None,
) -> pd.DataFrame:
    """Read USDA RUCA codes by tract.

    Parameters
    ----------
    path : str or path-like
        A CSV or Excel file of RUCA codes by tract (USDA ERS layout or a cut of it).
    sheet : str or int
        The sheet, for Excel files.
    counties : list of str, optional
        Five-digit county FIPS codes to keep; other tracts are counted as filtered out.

    Returns
    -------
    pandas.DataFrame
        ``GEOID`` (11-character string), ``ruca_primary`` (int), ``ruca_secondary`` (float),
        ``rural`` (bool: primary code >= 4). Rows with no code (water tracts have code 99)
        are left out and counted in the report.

    Raises
    ------
    SchemaError
        If the tract or primary-code column cannot be found, or a code is not a number 1-10.

    Examples
    --------
    >>> from assetmap.datasets import data_path
    >>> ruca = read_ruca(data_path("rural", "usda_ruca_2020_tracts2020.csv"))
    >>> int(ruca.loc[ruca["GEOID"] == "48135003001", "ruca_primary"].iloc[0])
    10
    """
    path = Path(path)
    with parse_errors(path):
        if path.suffix.lower() in {".xlsx", ".xls"}:
            raw = pd.read_excel(path, sheet_name=sheet, dtype=str)
        else:
            raw = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    columns = [str(c) for c in raw.columns]
    if semicolon_hint(columns):
        raise SchemaError(f"{path}: the header is one column{semicolon_hint(columns)}")
    geoid_col = _find(columns, ("geoid",), ("tract", "fips"), ("fips",))
    primary_col = _find(columns, ("primary",), ("ruca1",), ("ruca", "1"))
    secondary_col = _find(columns, ("secondary",), ("ruca2",), ("ruca", "2"))
    if geoid_col is None or primary_col is None:
        missing = "tract FIPS/GEOID" if geoid_col is None else "primary RUCA code"
        raise SchemaError(f"{path}: no {missing} column found; columns are {columns[:12]}")
    report = start_report(
        str(path), kind="rurality", rows_read=len(raw),
        sources=[{"name": "USDA ERS Rural-Urban Commuting Area codes",
                  "vintage": ruca_version(path.name, columns),
                  "url": "https://www.ers.usda.gov/data-products/rural-urban-commuting-area-codes"}],
        vintages={"rural": f"USDA RUCA {ruca_version(path.name, columns)} ({path.name})"},
    )
    geoids = normalize_geoids(raw[geoid_col], level="tract", source=str(path), column=geoid_col)
    primary = pd.to_numeric(raw[primary_col], errors="coerce")
    secondary = (
        pd.to_numeric(raw[secondary_col], errors="coerce") if secondary_col else np.nan
    )
    if raw.empty:
        raise SchemaError(f"{path}: the file has a header but no data rows")
    typed = raw[primary_col].astype("string").str.strip().fillna("") != ""
    no_code = (primary.isna() & ~typed) | (primary == 99)
    out_of_range = ~no_code & (~primary.between(1, 10) | (primary % 1 != 0))
    if out_of_range.any():
        row = int(np.flatnonzero(out_of_range.to_numpy())[0])
        raise SchemaError(
            f"{where(path, row=row + 1, column=primary_col)}: RUCA code "
            f"{raw[primary_col].iloc[row]!r} is not a whole number 1-10 (or 99 for no code)"
        )
    count_reject(report, "no RUCA code (blank or 99: water or unpopulated tract)",
                 int(no_code.sum()), rows=(np.flatnonzero(no_code.to_numpy()) + 1).tolist())
    if counties is not None:
        outside = ~no_code & ~geoids.str[:5].isin([str(c) for c in counties])
        count_reject(report, "filtered: tract outside the requested counties",
                     int(outside.sum()), warn=False)
        no_code = no_code | outside
    frame = pd.DataFrame({
        "GEOID": geoids,
        "ruca_primary": primary.astype("Int64"),
        "ruca_secondary": secondary,
    })[~no_code.to_numpy()].reset_index(drop=True)
    frame["ruca_primary"] = frame["ruca_primary"].astype(int)
    frame["rural"] = frame["ruca_primary"] >= RURAL_FROM_PRIMARY
    return attach_report(frame, report)
