"""Community anchor sites (libraries, health centers, hospitals, shelters) as partner sites.

Reads an anchor-site table in the layout of the repository's
``data/ector/sites/anchor_sites_fqhc_shelter_hospital_library_permian.csv`` (IMLS public
libraries, HRSA health centers, HUD shelters, hospitals): ``site_type, name, address, city,
lon, lat, source, extra, county_fips``, where ``extra`` holds ``key=value`` pairs separated by
``;`` (an IMLS library's ``wifi_sessions`` and ``computer_sessions``). The caller passes the
file; nothing is read by default.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from assetmap._report import attach_report, count_reject, start_report
from assetmap.errors import SchemaError
from assetmap.geoid import state_usps
from assetmap.loaders import partner_vocab as vocab
from assetmap.loaders._partner_fields import (
    NUMERIC_COLUMNS,
    PARTNER_COLUMNS,
    joined_services,
    site_ids,
)
from assetmap.loaders._points import IMPOSSIBLE, impossible, parse_coordinates
from assetmap.loaders._textfile import parse_errors

__all__ = ["anchor_sites_as_partners"]

_ANCHOR_TYPES = {"public_library": "library", "hospital": "health_center",
                 "health_center_FQHC": "health_center", "homeless_shelter_HIC": "other"}
_REQUIRED = ("site_type", "name", "address", "city", "lon", "lat", "source", "extra",
             "county_fips")


def anchor_sites_as_partners(
    path: str | Path, *, county: str | None = None
) -> gpd.GeoDataFrame:
    """Read real anchor sites (library, health centers, hospitals, shelters) as partner sites.

    Services are only those the source supports: a library whose IMLS record counts
    public-computer sessions gets ``computer_lab`` and one that counts Wi-Fi sessions gets
    ``public_wifi`` (-1, not reported, claims nothing). Health centers, hospitals and
    shelters get no services: the sources say nothing about connectivity there. ``status``
    is NA (no partnership is recorded) and ``illustrative`` is False.

    Parameters
    ----------
    path : str or Path
        The anchor-site CSV, e.g. the shipped
        ``data_path("sites", "anchor_sites_fqhc_shelter_hospital_library_permian.csv")``.
    county : str, optional
        Keep one county (five-digit FIPS); None (default) keeps all.

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`~assetmap.loaders.partners.PARTNER_COLUMNS` (points, EPSG:4326).

    Raises
    ------
    SchemaError
        If a column of the layout is missing, naming it.

    Examples
    --------
    >>> from assetmap.datasets import data_path
    >>> a = anchor_sites_as_partners(
    ...     data_path("sites", "anchor_sites_fqhc_shelter_hospital_library_permian.csv"),
    ...     county="48135")
    >>> a.loc[a["site_type"] == "library", ["name", "services"]].values.tolist()
    [['ECTOR COUNTY LIBRARY', 'public_wifi;computer_lab']]
    """
    path = Path(path)
    with parse_errors(path):
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    missing = [c for c in _REQUIRED if c not in raw.columns]
    if missing:
        raise SchemaError(f"{path}: not an anchor-site table; missing columns {missing} "
                          f"(expected {list(_REQUIRED)})")
    report = start_report(str(path), kind="partner_sites", rows_read=len(raw))
    fips = raw["county_fips"].str.strip().str.zfill(5)
    if county is not None:
        keep = fips == str(county)
        count_reject(report, f"filtered: not in county {county}", int((~keep).sum()), warn=False)
        raw, fips = raw.loc[keep], fips.loc[keep]
    extra = raw["extra"].str.extractall(r"(?P<key>\w+)=(?P<value>[^;]*)").reset_index()
    extra = extra.pivot_table(index="level_0", columns="key", values="value", aggfunc="first")
    extra = extra.reindex(raw.index)

    def sessions(column: str) -> pd.Series:
        if column not in extra.columns:
            return pd.Series(False, index=raw.index)
        return pd.to_numeric(extra[column], errors="coerce").fillna(-1) > 0

    flags = pd.DataFrame(False, index=raw.index, columns=list(vocab.SERVICES))
    is_library = raw["site_type"] == "public_library"
    flags["public_wifi"] = is_library & sessions("wifi_sessions")
    flags["computer_lab"] = is_library & sessions("computer_sessions")
    out = pd.DataFrame(index=raw.index)
    out["name"] = raw["name"].str.strip()
    out["site_type"] = raw["site_type"].map(_ANCHOR_TYPES).fillna("other")
    out["services"] = joined_services(flags)
    for service in vocab.SERVICES:
        out[f"svc_{service}"] = flags[service].astype(bool)
    for column in NUMERIC_COLUMNS:
        out[column] = np.nan
    out["hours"] = out["status"] = out["contact"] = out["route"] = out["schedule"] = None
    states = {s: state_usps(s) for s in fips.str[:2].unique()}
    out["address"] = (raw["address"].str.strip() + ", " + raw["city"].str.title() + ", "
                      + fips.str[:2].map(states))
    out["source"] = raw["source"]
    out["illustrative"] = False
    lat, lon = parse_coordinates(raw, lat="lat", lon="lon", source=str(path))
    unplaced = ~(np.isfinite(lat) & np.isfinite(lon)) | impossible(lat, lon)
    count_reject(report, f"no coordinates, or {IMPOSSIBLE}", int(unplaced.sum()),
                 rows=(raw.index[unplaced] + 1).tolist())
    out, lat, lon = out.loc[~unplaced], lat[~unplaced], lon[~unplaced]
    sites = gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    sites["site_id"] = site_ids(sites["name"], lat, lon)
    report["sources"] = [{"name": s, "license": "public domain"} for s in raw["source"].unique()]
    return attach_report(sites.reset_index(drop=True)[PARTNER_COLUMNS], report)
