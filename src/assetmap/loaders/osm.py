"""Candidate partner sites from OpenStreetMap through the Overpass API.

One Overpass QL query asks for libraries, places of worship and community centres (nodes,
ways and relations) in a bounding box, with ``out center tags;`` so that ways and relations
come with a ``center``. The answer is Overpass JSON::

    {"version": 0.6, "generator": "Overpass API ...",
     "osm3s": {"timestamp_osm_base": "2024-05-01T12:00:00Z", "copyright": "..."},
     "elements": [
       {"type": "node", "id": 1, "lat": 31.84, "lon": -102.37, "tags": {...}},
       {"type": "way", "id": 2, "center": {"lat": 31.85, "lon": -102.36}, "tags": {...}}]}

Services are set only where OSM says so (``internet_access`` = wlan/yes/wifi/terminal);
``status`` is NA: being on the map says nothing about a partnership.
"""

from __future__ import annotations

import json
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from assetmap._report import attach_report, count_reject, start_report
from assetmap.errors import DownloadError
from assetmap.loaders import partner_vocab as vocab
from assetmap.loaders._partner_fields import PARTNER_COLUMNS
from assetmap.loaders._points import area_geometry, inside

__all__ = ["OVERPASS_URL", "overpass_query", "partner_sites_from_osm"]

OVERPASS_URL = "https://overpass-api.de/api/interpreter"
_AMENITIES = {"library": "library", "place_of_worship": "place_of_worship",
              "community_centre": "community_center"}
_WIFI = {"wlan", "yes", "wifi", "wi-fi", "public"}
_TERMINAL = {"terminal"}


def overpass_query(bbox: tuple[float, float, float, float], *, timeout: int = 60) -> str:
    """Return the Overpass QL query for partner candidates in ``(minx, miny, maxx, maxy)``.

    Examples
    --------
    >>> print(overpass_query((-102.8, 31.6, -102.2, 32.1)).splitlines()[1])
    nwr["amenity"~"^(library|place_of_worship|community_centre)$"](31.6,-102.8,32.1,-102.2);
    """
    minx, miny, maxx, maxy = bbox
    pattern = "|".join(_AMENITIES)
    return (f"[out:json][timeout:{int(timeout)}];\n"
            f'nwr["amenity"~"^({pattern})$"]({miny},{minx},{maxy},{maxx});\n'
            "out center tags;")


def _address(tags: dict[str, str]) -> str | None:
    street = " ".join(t for t in (tags.get("addr:housenumber"), tags.get("addr:street")) if t)
    parts = [p for p in (street, tags.get("addr:city"), tags.get("addr:state"),
                         tags.get("addr:postcode")) if p]
    return ", ".join(parts) or None


def partner_sites_from_osm(
    *,
    area: Any = None,
    bbox: tuple[float, float, float, float] | None = None,
    url: str = OVERPASS_URL,
    timeout: int = 60,
) -> gpd.GeoDataFrame:
    """Fetch libraries, places of worship and community centres from OSM as partner sites.

    Parameters
    ----------
    area : GeoDataFrame, GeoSeries or shapely geometry, optional
        The study area: its bounds are queried and sites outside it are left out (counted).
    bbox : tuple, optional
        ``(minx, miny, maxx, maxy)`` in degrees, instead of ``area``.
    url : str
        The Overpass API interpreter endpoint.
    timeout : int
        Server-side query timeout in seconds.

    Returns
    -------
    geopandas.GeoDataFrame
        The partner-site schema (:data:`assetmap.loaders.partners.PARTNER_COLUMNS`),
        ``site_id`` as ``osm:<type>/<id>``, ``source`` naming OpenStreetMap (ODbL).

    Examples
    --------
    >>> import assetmap as am
    >>> with am.settings.override(offline=True):
    ...     try:
    ...         partner_sites_from_osm(bbox=(-102.8, 31.6, -102.2, 32.1))
    ...     except am.errors.OfflineError:
    ...         print("not cached")
    not cached
    """
    geom = area_geometry(area)
    if bbox is None:
        if geom is None:
            raise ValueError("give area= or bbox=")
        bbox = tuple(geom.bounds)  # type: ignore[assignment]
    query = overpass_query(bbox, timeout=timeout)  # type: ignore[arg-type]
    from assetmap import _http  # requests only when a download is needed

    path = _http.fetch(url, method="POST", data={"data": query}, expect="json",
                       description="OpenStreetMap partner candidates (Overpass API)")
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        elements = payload["elements"]
    except (ValueError, KeyError, TypeError) as exc:
        raise DownloadError(f"{url}: the answer is not Overpass JSON ({exc})") from exc
    stamp = (payload.get("osm3s") or {}).get("timestamp_osm_base")
    report = start_report(url, kind="partner_sites", rows_read=len(elements), sources=[{
        "name": "OpenStreetMap contributors, via the Overpass API", "vintage": stamp,
        "url": "https://www.openstreetmap.org/copyright", "license": "ODbL 1.0"}])
    if stamp:
        report["vintages"]["osm_sites"] = f"OpenStreetMap {stamp}"
    rows = []
    for element in elements:
        tags = element.get("tags") or {}
        center = element.get("center") or {}
        rows.append({
            "site_id": f"osm:{element.get('type')}/{element.get('id')}",
            "name": (tags.get("name") or "").strip() or None,
            "amenity": tags.get("amenity"),
            "internet": str(tags.get("internet_access", "")).strip().lower(),
            "hours": tags.get("opening_hours"),
            "address": _address(tags),
            "lat": element.get("lat", center.get("lat")),
            "lon": element.get("lon", center.get("lon")),
        })
    table = pd.DataFrame(rows, columns=["site_id", "name", "amenity", "internet", "hours",
                                        "address", "lat", "lon"])
    table.index = pd.RangeIndex(1, len(table) + 1)
    table["site_type"] = table["amenity"].map(_AMENITIES)
    drop = {
        "not a library, place of worship or community centre": table["site_type"].isna(),
        "no name in OpenStreetMap": table["name"].isna(),
        "no coordinates (no lat/lon or center)": table["lat"].isna() | table["lon"].isna(),
    }
    left = pd.Series(True, index=table.index)
    for reason, mask in drop.items():
        count_reject(report, reason, int((left & mask).sum()), rows=table.index[left & mask],
                     warn=False)
        left &= ~mask
    table = table.loc[left]
    lat = table["lat"].to_numpy(dtype=float)
    lon = table["lon"].to_numpy(dtype=float)
    outside = ~inside(lat, lon, geom)
    count_reject(report, "outside the study area", int(outside.sum()),
                 rows=table.index[outside], warn=False)
    table, lat, lon = table.loc[~outside], lat[~outside], lon[~outside]
    out = pd.DataFrame(index=table.index)
    out["site_id"] = table["site_id"]
    out["name"] = table["name"]
    out["site_type"] = table["site_type"]
    wifi = table["internet"].isin(_WIFI).to_numpy()
    terminal = table["internet"].isin(_TERMINAL).to_numpy()
    out["services"] = np.where(wifi, "public_wifi", np.where(terminal, "computer_lab", ""))
    for service in vocab.SERVICES:
        out[f"svc_{service}"] = False
    out["svc_public_wifi"] = wifi
    out["svc_computer_lab"] = terminal
    for column in ("capacity_seats", "capacity_devices", "capacity_hotspots", "wifi_radius_m"):
        out[column] = np.nan
    out["hours"] = table["hours"]
    out["status"] = out["contact"] = out["route"] = out["schedule"] = None
    out["address"] = table["address"]
    out["source"] = "OpenStreetMap contributors (ODbL)"
    out["illustrative"] = False
    sites = gpd.GeoDataFrame(out.reset_index(drop=True), geometry=gpd.points_from_xy(lon, lat),
                             crs="EPSG:4326")[PARTNER_COLUMNS]
    return attach_report(sites, report)
