"""The BDC "fixed broadband summary by geography" file, read into tidy shares.

Every row read is checked before any filter: a share outside [0, 1] or a ``total_units``
that is not a whole number is a rejected row (counted, with its file and row), and the
filters (geography type, area data type, business/residential) are counted apart, in
``report["filtered"]``. Filter values are compared without regard to case or surrounding
spaces. Text must be UTF-8 (a byte-order mark is skipped); a zip may hold several CSVs, each
read.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pandas as pd

from assetmap._report import attach_report, count_reject, start_report
from assetmap._safezip import open_zip, read_member
from assetmap.errors import SchemaError, where
from assetmap.loaders._textfile import parse_errors

__all__ = ["load_bdc_summary"]

SUMMARY_COLUMNS = (
    "area_data_type", "geography_type", "geography_id", "geography_desc", "geography_desc_full",
    "total_units", "biz_res", "technology", "speed_02_02", "speed_10_1", "speed_25_3",
    "speed_100_20", "speed_250_25", "speed_1000_100",
)
SPEED_TIERS = {"speed_02_02": "0.2/0.2", "speed_10_1": "10/1", "speed_25_3": "25/3",
               "speed_100_20": "100/20", "speed_250_25": "250/25", "speed_1000_100": "1000/100"}
BAD_ROW = "share not a number in [0, 1] or total_units not a whole number"
SOURCE = {"name": "FCC Broadband Data Collection, fixed broadband summary by geography",
          "url": "https://broadbandmap.fcc.gov/data-download", "license": "public domain"}


def _texts(path: Path) -> list[tuple[bytes, str]]:
    """Return the CSV bytes of the file, or of each CSV member of a zip, with its name."""
    if path.suffix.lower() != ".zip":
        return [(path.read_bytes(), str(path))]
    with open_zip(path) as zf:
        members = [m for m in zf.infolist() if m.filename.lower().endswith(".csv")]
        if not members:
            raise SchemaError(f"{path}: the zip holds no CSV file (found {zf.namelist()[:5]})")
        return [(read_member(zf, m, str(path)), f"{path} ({m.filename})") for m in members]


def _read_one(data: bytes, shown: str) -> pd.DataFrame:
    """One CSV's rows as text, its header checked, with ``_source`` and ``_row``."""
    if not data.strip():
        raise SchemaError(f"{shown}: empty file (no header row)")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data[:4096]:
        raise SchemaError(f"{shown}: the text is UTF-16 (saved as 'Unicode Text'?), not UTF-8; "
                          "open it and save it as 'CSV UTF-8', then read it again")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        row = data[:exc.start].count(b"\n")
        raise SchemaError(f"{where(shown, row=row)}: the text is not UTF-8 (saved in "
                          "Windows-1252 or Latin-1?); save the file as 'CSV UTF-8', then read "
                          "it again") from exc
    header = [h.strip().strip('"') for h in text.split("\n", 1)[0].strip().split(",")]
    missing = [c for c in SUMMARY_COLUMNS if c not in header]
    if missing:
        raise SchemaError(f"{where(shown, row=0, column=missing[0])}: missing summary "
                          f"column(s) {missing}; expected {', '.join(SUMMARY_COLUMNS)}")
    with parse_errors(shown):
        raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False,
                          usecols=list(SUMMARY_COLUMNS))
    return raw.assign(_source=shown, _row=np.arange(1, len(raw) + 1))  # 1-based data rows


def load_bdc_summary(path: str | os.PathLike[str], *, geography_type: str | None = None,
                     area_data_type: str | None = "Total", biz_res: str | None = "R",
                     wide: bool = False) -> pd.DataFrame:
    """Read the BDC "fixed broadband summary by geography" file into tidy shares.

    Parameters
    ----------
    path : path
        The CSV, or the zip the FCC publishes (every CSV inside is read).
    geography_type : str, optional
        Keep one geography type (e.g. ``"Census Place"``); default all.
    area_data_type : str or None
        ``"Total"`` (default), ``"Urban"``, ``"Rural"``, ``"Tribal"``, ``"Nontribal"``; None: all.
    biz_res : str or None
        ``"R"`` residential (default), ``"B"`` business; None: both. The filters compare
        without regard to case or surrounding spaces (``" r "`` is R).
    wide : bool
        Return one row per geography and technology with a column per speed tier instead.

    Returns
    -------
    pandas.DataFrame
        Long: ``geography_id`` (str), ``geography_type``, ``geography_desc``,
        ``area_data_type``, ``biz_res``, ``technology`` (the FCC's label, e.g. ``"Fiber"``,
        ``"All Wired"``), ``speed_tier`` (``"25/3"``, ``"100/20"`` ...), ``share`` (0-1) and
        ``total_units``. The report counts every row read (``checks``: kept and rejected,
        before any filter) and the rows each filter left out (``filtered``).

    Raises
    ------
    SchemaError
        For an empty file, a missing column, text that is not UTF-8, a zip without a CSV, a
        truncated or password-protected zip.

    Examples
    --------
    >>> from assetmap.datasets import data_path
    >>> s = load_bdc_summary(data_path("fcc", "fcc_bdc_J25_fixed_summary_by_place_ector_area.csv"))
    >>> odessa = s[(s.geography_desc == "Odessa") & (s.technology == "Fiber")]
    >>> round(float(odessa.loc[odessa.speed_tier == "1000/100", "share"].iloc[0]), 4)
    0.5589
    """
    path = Path(path)
    texts = _texts(path)
    parts = [_read_one(data, shown) for data, shown in texts]
    raw = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    shown = texts[0][1] if len(texts) == 1 else str(path)
    report = start_report(shown, kind="bdc_summary", rows_read=len(raw), sources=[SOURCE])
    numbers = raw[list(SPEED_TIERS)].apply(pd.to_numeric, errors="coerce")
    units = pd.to_numeric(raw["total_units"], errors="coerce")
    bad = (numbers.isna().any(axis=1) | ((numbers < 0) | (numbers > 1)).any(axis=1)
           | ~(units >= 0) | (units != np.floor(units)))
    report["checks"] = {"kept": int((~bad).sum()), "repaired": 0, "rejected": int(bad.sum())}
    if bad.any():
        at = [where(s, row=int(r)) for s, r in raw.loc[bad, ["_source", "_row"]].to_numpy()[:5]]
        report["rejected_at"] = {BAD_ROW: at}
        count_reject(report, BAD_ROW, int(bad.sum()), rows=raw.loc[bad, "_row"].tolist())
    keep = ~bad
    report["filtered"] = {}
    for col, value in (("geography_type", geography_type), ("area_data_type", area_data_type),
                       ("biz_res", biz_res)):
        if value is None:
            continue
        match = raw[col].str.strip().str.casefold() == str(value).strip().casefold()
        left_out = int((keep & ~match).sum())
        if left_out:
            report["filtered"][f"{col} is not {value!r}"] = left_out
        keep &= match
    report["notes"].append(f"selected {int(keep.sum())} of {len(raw)} rows "
                           f"(area_data_type={area_data_type}, biz_res={biz_res}, "
                           f"geography_type={geography_type}) after the checks")
    raw, numbers, units = raw.loc[keep], numbers.loc[keep], units.loc[keep]
    ids = ["geography_id", "geography_type", "geography_desc", "area_data_type", "biz_res",
           "technology"]
    base = raw[ids].assign(total_units=units.astype("int64"))
    if wide:
        out = pd.concat([base, numbers.rename(columns=SPEED_TIERS)], axis=1)
        return attach_report(out.reset_index(drop=True), report)
    long = pd.concat([base.assign(speed_tier=tier, share=numbers[col].to_numpy())
                      for col, tier in SPEED_TIERS.items()], ignore_index=True)
    long = long.sort_values(["geography_id", "area_data_type", "biz_res", "technology"],
                            kind="stable").reset_index(drop=True)
    long = long[[*ids, "speed_tier", "share", "total_units"]]
    report["merged"] = 0
    out = attach_report(long, report)
    out.attrs["assetmap"]["notes"].append("long format: one row per input row and speed tier")
    return out
