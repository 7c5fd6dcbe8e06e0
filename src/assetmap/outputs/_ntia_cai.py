"""The rows of NTIA's ``cai.csv``: schools and partner sites as Community Anchor Institutions.

Partner site types map to NTIA CAI type codes through one table, ``ntia_cai_types.csv``
beside this module (:func:`cai_type_table`). Only a CAI's name, type code, state and
coordinates (6 decimals, WGS 84) are taken from the frames, plus its BDC ``location_id``
when the frame has that column; :func:`assetmap.outputs.ntia.write_ntia_files` writes them.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from importlib.resources import files
from io import StringIO
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from assetmap._crs import estimate_utm
from assetmap._report import count_reject
from assetmap.errors import ConfigError, SchemaError
from assetmap.geoid import state_usps

__all__ = ["CAI_COLUMNS", "DIGITAL_SERVICES", "ID_PATTERN", "NEED_MBPS", "SAME_SCHOOL_M",
           "cai_type_table", "id_texts", "school_rows", "site_rows"]

#: the columns of NTIA's ``cai.csv``, in order (BEAD Inspector checks names and order)
CAI_COLUMNS = ("type", "entity_name", "entity_number", "cms_number", "frn", "location_id",
               "address_primary", "city", "state", "zip_code", "longitude", "latitude",
               "explanation", "need", "availability")
#: BEAD's connectivity need of a CAI, in Mbps: 1 Gbps symmetrical (BEAD NOFO Sec. I.C)
NEED_MBPS = 1000
#: partner services that make a community support organization a CAI (public connectivity)
DIGITAL_SERVICES = ("public_wifi", "computer_lab", "digital_literacy", "device_lending",
                    "hotspot_lending", "device_repair")
#: a partner site of CAI type S this close (metres) to a school in ``schools`` is that school
SAME_SCHOOL_M = 50.0
#: a BDC location id: ten digits, from 1000000000 up (BEAD Inspector's check)
ID_PATTERN = r"[1-9]\d{9}"
_ILLUSTRATIVE = "Illustrative (synthetic) demo site, not a real institution."


@cache
def _table() -> pd.DataFrame:
    text = files("assetmap.outputs").joinpath("ntia_cai_types.csv").read_text("utf-8")
    return pd.read_csv(StringIO(text), dtype=str, keep_default_na=False)


def cai_type_table() -> pd.DataFrame:
    """Return the table of partner site types -> NTIA CAI type codes (a copy).

    Columns: ``site_type``; ``cai_type`` (S, L, H, P or C; empty: no CAI meaning, left
    out); ``digital_service_required`` (``yes``: listed only when the site offers one of
    :data:`DIGITAL_SERVICES`); ``explanation`` (written to ``cai.csv``, required for C);
    ``note`` (the reason, in the docs and in the report of a left-out type).

    Examples
    --------
    >>> t = cai_type_table().set_index("site_type")
    >>> t.loc["library", "cai_type"], t.loc["community_center", "cai_type"]
    ('L', 'C')
    >>> t.loc["hotspot", "cai_type"]
    ''
    """
    return _table().copy()


def _text(value: Any) -> str:
    """Return one line of text ('' for missing): control and separator characters become spaces."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    chars = (" " if unicodedata.category(c)[0] in "CZ" else c for c in str(value))
    return " ".join("".join(chars).split())


def id_texts(values: pd.Series) -> pd.Series:
    """Return location ids as text ('' when missing); integral numbers lose any '.0'.

    Examples
    --------
    >>> id_texts(pd.Series([1000000001.0, None])).tolist()
    ['1000000001', '']
    """
    if pd.api.types.is_numeric_dtype(values):
        numbers = pd.to_numeric(values, errors="coerce").astype(float)
        whole = np.isfinite(numbers) & (numbers == np.floor(numbers))
        text = numbers.where(whole).astype("Int64").astype(str).where(whole, "")
        return text.where(whole | numbers.isna(), values.astype(str)).astype(object)
    out = values.astype(object).where(values.notna(), "")
    return out.astype(str).str.strip().astype(object)


def _coordinates(frame: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Return longitude and latitude (EPSG:4326; NaN for a missing or empty geometry)."""
    geo = frame.geometry
    geo = geo.to_crs(4326) if geo.crs is not None else geo
    ok = (geo.notna() & ~geo.is_empty).to_numpy()
    lon = np.full(len(geo), np.nan)
    lat = np.full(len(geo), np.nan)
    points = geo[ok].representative_point()
    lon[ok], lat[ok] = points.x.to_numpy(), points.y.to_numpy()
    return lon, lat


def _near_schools(sites: gpd.GeoDataFrame, schools: gpd.GeoDataFrame | None) -> np.ndarray:
    """Tell whether each site lies within :data:`SAME_SCHOOL_M` of a school in ``schools``."""
    near = np.zeros(len(sites), dtype=bool)
    placed = (sites.geometry.notna() & ~sites.geometry.is_empty).to_numpy()
    if schools is None or not len(schools) or not placed.any():
        return near

    def projected(frame: gpd.GeoDataFrame, crs: Any) -> gpd.GeoSeries:
        geo = frame.geometry if frame.crs is not None else frame.geometry.set_crs(4326)
        return geo.to_crs(crs)

    candidates = sites.loc[placed]
    crs = estimate_utm(candidates)
    hits = projected(schools, crs).sindex.query(projected(candidates, crs), predicate="dwithin",
                                                distance=SAME_SCHOOL_M)
    near[np.flatnonzero(placed)[np.unique(hits[0])]] = True
    return near


def _digital_service(sites: pd.DataFrame) -> np.ndarray:
    """Tell whether each site offers one of :data:`DIGITAL_SERVICES` (``svc_*`` or ``services``)."""
    flags = [f"svc_{s}" for s in DIGITAL_SERVICES if f"svc_{s}" in sites.columns]
    if flags:
        return sites[flags].eq(True).any(axis=1).to_numpy(dtype=bool)
    if "services" in sites.columns:
        return np.array([any(s.strip() in DIGITAL_SERVICES for s in _text(v).split(";"))
                         for v in sites["services"]], dtype=bool)
    return np.zeros(len(sites), dtype=bool)


def _cai_rows(frame: gpd.GeoDataFrame, *, kind: str, types: pd.Series, explanation: pd.Series,
              states: pd.Series, best: pd.Series | None, report: dict[str, Any]) -> pd.DataFrame:
    """Return the ``cai.csv`` rows of one frame (rows without a name or a place left out)."""
    names = pd.Series([_text(v) for v in frame["name"]], index=frame.index, dtype=object)
    ids = (id_texts(frame["location_id"]) if "location_id" in frame.columns
           else pd.Series("", index=frame.index, dtype=object))
    ids = ids.where(ids.str.fullmatch(ID_PATTERN), "")
    lon, lat = _coordinates(frame)
    placed = np.isfinite(lon) & np.isfinite(lat)
    no_name = (names == "").to_numpy()
    no_place = ~placed & (ids == "").to_numpy()
    count_reject(report, f"{kind}: no name", int(no_name.sum()), warn=False)
    count_reject(report, f"{kind}: no coordinates and no location_id",
                 int((no_place & ~no_name).sum()), warn=False)
    availability = pd.Series("", index=frame.index, dtype=object)
    if best is not None and len(best):
        speeds = ids.map(best)
        availability = speeds.map(lambda v: "" if pd.isna(v) else str(int(np.floor(v))))
    rows = pd.DataFrame(dict.fromkeys(CAI_COLUMNS, ""), index=frame.index, dtype=object)
    rows["type"] = types
    rows["entity_name"] = names
    rows["location_id"] = ids
    rows["state"] = states
    rows["longitude"] = [f"{x:.6f}" if ok else "" for x, ok in zip(lon, placed, strict=True)]
    rows["latitude"] = [f"{y:.6f}" if ok else "" for y, ok in zip(lat, placed, strict=True)]
    rows["explanation"] = explanation.map(_text)
    rows["need"] = str(NEED_MBPS)
    rows["availability"] = availability.astype(object)
    return rows.loc[~no_name & ~no_place]


def school_rows(schools: gpd.GeoDataFrame, *, state: str | None, best: pd.Series | None,
                report: dict[str, Any]) -> pd.DataFrame:
    """Return the ``cai.csv`` rows of schools: type S, their ``state_fips`` (else ``state``)."""
    if "name" not in schools.columns:
        raise SchemaError("schools: no 'name' column; read them with am.read_schools()")
    schools = schools.reset_index(drop=True)
    fallback = state or ""
    if "state_fips" in schools.columns:
        codes = {s: state_usps(s) for s in schools["state_fips"].dropna().astype(str).unique()}
        states = pd.Series([codes.get(str(s), fallback) if pd.notna(s) else fallback
                            for s in schools["state_fips"]], index=schools.index, dtype=object)
    else:
        states = pd.Series(fallback, index=schools.index, dtype=object)
    no_state = (states == "").to_numpy()
    count_reject(report, "schools: no state (state_fips); pass state=", int(no_state.sum()),
                 warn=False)
    kept = schools.loc[~no_state]
    return _cai_rows(kept, kind="schools", types=pd.Series("S", index=kept.index),
                     explanation=pd.Series("", index=kept.index), states=states[~no_state],
                     best=best, report=report)


def site_rows(sites: gpd.GeoDataFrame, *, schools: gpd.GeoDataFrame | None, state: str | None,
              best: pd.Series | None, report: dict[str, Any]) -> pd.DataFrame:
    """Return the ``cai.csv`` rows of partner sites whose type has a CAI meaning.

    Every site left out is counted in ``report["rejected"]`` with its reason: a type with
    no CAI meaning (the table's ``note``), a type not in the table, a community support
    type without a digital-access service, or a school site that is a school of ``schools``.
    """
    missing = [c for c in ("name", "site_type") if c not in sites.columns]
    if missing:
        raise SchemaError(f"sites: missing column(s) {missing}; read the registry with "
                          "am.read_partner_sites()")
    sites = sites.reset_index(drop=True)
    table = _table().set_index("site_type")
    site_type = sites["site_type"].map(_text)
    known = site_type.isin(table.index).to_numpy()
    cai = site_type.map(table["cai_type"]).fillna("").to_numpy(dtype=object)
    needs = site_type.map(table["digital_service_required"]).eq("yes").to_numpy()
    for name in sorted(set(site_type[~known])):
        count_reject(report, f"sites: site type {name!r} is not in the CAI type table",
                     int((site_type == name).sum()), warn=False)
    for name, row in table.loc[table["cai_type"] == ""].iterrows():
        count_reject(report, f"sites: site type {name!r}: {row['note']}",
                     int((site_type == name).sum()), warn=False)
    no_service = known & (cai != "") & needs & ~_digital_service(sites)
    for name in sorted(set(site_type[no_service])):
        count_reject(report, f"sites: site type {name!r} without a digital-access service "
                     f"({', '.join(DIGITAL_SERVICES)}): not a community support organization",
                     int((no_service & (site_type == name).to_numpy()).sum()), warn=False)
    keep = known & (cai != "") & ~no_service
    school_sites = keep & (cai == "S")
    same_school = np.zeros(len(sites), dtype=bool)
    same_school[school_sites] = _near_schools(sites.loc[school_sites], schools)
    count_reject(report, f"sites: the same place as a school in `schools` (within "
                 f"{SAME_SCHOOL_M:.0f} m), listed once", int(same_school.sum()), warn=False)
    keep &= ~same_school
    if keep.any() and not state:
        raise ConfigError("write_ntia_files: the state of the partner sites is unknown; pass "
                          "state= (e.g. 'TX'), or schools= or levels= of a single state")
    kept = sites.loc[keep]
    explanation = site_type[keep].map(table["explanation"]).fillna("")
    if "illustrative" in kept.columns:
        synthetic = kept["illustrative"].eq(True)
        explanation = explanation.where(~synthetic, (_ILLUSTRATIVE + " " + explanation))
        if synthetic.any():
            report["notes"].append(f"{int(synthetic.sum())} CAI row(s) from illustrative "
                                   "(synthetic) partner sites, labelled so in 'explanation'")
    return _cai_rows(kept, kind="sites", types=pd.Series(cai[keep], index=kept.index),
                     explanation=explanation, states=pd.Series(state, index=kept.index),
                     best=best, report=report)
