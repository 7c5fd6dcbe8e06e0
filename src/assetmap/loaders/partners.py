"""The partner-site registry: read, validate and write a district's community partner sites.

A registry is a CSV, XLSX or GeoJSON file with one row per site (one row per stop for a
Wi-Fi bus, stops sharing a ``route``). Headers and values go through the documented
vocabulary in :mod:`assetmap.loaders.partner_vocab`. Sites without coordinates are
geocoded from their address when asked (``geocode=True``, Census Bureau batch geocoder);
otherwise, and when the geocoder finds no match, they are rejected and counted, never
skipped silently. Besides the columns of ``docs/data-model.md`` the frame carries
``route`` and ``schedule`` (Wi-Fi bus stops; None for fixed sites).

The schema and the field parsers live in :mod:`assetmap.loaders._partner_fields`; the other
partner sources, :func:`~assetmap.loaders.anchors.anchor_sites_as_partners` and
:func:`~assetmap.loaders.osm.partner_sites_from_osm`, are importable from here too.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from assetmap._crs import estimate_utm
from assetmap._csvsafe import neutralize_formulas, write_csv
from assetmap._report import attach_report, count_reject, count_repair, start_report
from assetmap.errors import SchemaError, where
from assetmap.loaders import partner_vocab as vocab
from assetmap.loaders._partner_fields import (
    NUMERIC_COLUMNS,
    PARTNER_COLUMNS,
    TEXT_COLUMNS,
    clean,
    hours,
    joined_services,
    map_values,
    service_flags,
    site_ids,
)
from assetmap.loaders._points import (
    IMPOSSIBLE,
    area_geometry,
    impossible,
    inside,
    parse_coordinates,
    point_xy,
    repair_swapped,
)
from assetmap.loaders._tables import (
    TABULAR_SUFFIXES,
    parse_numbers,
    read_table,
    read_vector,
    rename_columns,
)
from assetmap.loaders.anchors import anchor_sites_as_partners
from assetmap.loaders.geocode import CENSUS_BATCH_URL, geocode_addresses
from assetmap.loaders.osm import partner_sites_from_osm

__all__ = [
    "PARTNER_COLUMNS",
    "anchor_sites_as_partners",
    "partner_sites_from_osm",
    "read_partner_sites",
    "write_partner_sites",
]

DUPLICATE_DISTANCE_M = 50.0
_KNOWN_HEADERS = {h for k, syns in vocab.HEADER_SYNONYMS.items() for h in (k, *syns)}


def _read_cells(path: Path) -> tuple[pd.DataFrame, Any]:
    if path.suffix.lower() in TABULAR_SUFFIXES:
        cells, _ = read_table(path, known_headers=_KNOWN_HEADERS)
        return cells, None
    frame, _ = read_vector(path)
    cells = pd.DataFrame(frame.drop(columns=frame.geometry.name)).astype(object)
    cells = cells.where(cells.notna(), None)
    cells.index = pd.RangeIndex(1, len(frame) + 1, name="row")
    return cells, frame.geometry.set_axis(cells.index)


def _unneutralise(cells: pd.DataFrame) -> pd.DataFrame:
    """Undo the ``'`` that :func:`write_partner_sites` puts before =, +, - and @."""
    def fix(v: Any) -> Any:
        return v[1:] if isinstance(v, str) and len(v) > 1 and v[0] == "'" and v[1] in "=+-@" else v

    return cells.map(fix)


def _duplicates(frame: gpd.GeoDataFrame) -> pd.Series:
    """Row label -> first row it duplicates (same name key within 50 m), for later rows only."""
    if len(frame) < 2:
        return pd.Series(dtype=object)
    projected = frame.to_crs(estimate_utm(frame))
    table = pd.DataFrame({"key": frame["name"].map(vocab.value_key), "row": frame.index,
                          "x": projected.geometry.x, "y": projected.geometry.y})
    pairs = table.merge(table, on="key", suffixes=("", "_first"))
    pairs = pairs.loc[pairs["row_first"] < pairs["row"]]
    close = np.hypot(pairs["x"] - pairs["x_first"], pairs["y"] - pairs["y_first"])
    pairs = pairs.loc[close.to_numpy() <= DUPLICATE_DISTANCE_M]
    return pairs.groupby("row")["row_first"].min()


def cited_sources(names: pd.Series) -> list[dict[str, str]]:
    """Return one source citation per distinct ``source`` the rows name, with its year.

    The year (or fiscal year, or range) is read from the text; a text that states none says so.

    Examples
    --------
    >>> cited_sources(pd.Series(["IMLS PLS FY2022 AE file", "IMLS PLS FY2022 AE file",
    ...                          "district list"]))
    [{'name': 'IMLS PLS FY2022 AE file', 'vintage': 'FY2022'}, \
{'name': 'district list', 'vintage': 'not stated in the file'}]
    """
    cited = []
    for name in dict.fromkeys(str(n) for n in names.dropna()):
        found = re.search(r"(?:FY\s?)?(?<!\d)(?:19|20)\d\d(?:[-/](?:19|20)?\d\d)?(?!\d)", name)
        cited.append({"name": name,
                      "vintage": found.group(0) if found else "not stated in the file"})
    return cited


def read_partner_sites(
    path: str | Path,
    *,
    area: Any = None,
    geocode: bool = False,
    geocode_url: str = CENSUS_BATCH_URL,
    illustrative: bool | None = None,
    source_name: str | None = None,
) -> gpd.GeoDataFrame:
    r"""Read a partner-site registry (CSV, XLSX or GeoJSON) into the documented schema.

    Parameters
    ----------
    path : str or Path
        The registry. Headers and values may use the synonyms of
        :mod:`assetmap.loaders.partner_vocab`, in any case; an XLSX header may sit below a
        title (it is found in the first 20 rows).
    area : GeoDataFrame, GeoSeries or shapely geometry, optional
        The study area: swapped latitude/longitude is detected against it and sites outside
        it are rejected (counted, with a warning).
    geocode : bool
        Geocode sites that have an address but no coordinates through the Census Bureau
        batch geocoder. When False such sites are rejected and counted.
    geocode_url : str
        The geocoder's batch endpoint.
    illustrative : bool, optional
        Mark every site as illustrative (synthetic); default: the file's ``illustrative``
        column, else False.
    source_name : str, optional
        The ``source`` of sites whose row names none (default: the file name).

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`PARTNER_COLUMNS` (points, EPSG:4326); see ``docs/data-model.md``.

    Raises
    ------
    SchemaError
        A missing name column, an unknown site type, service or status, a capacity that is
        not a non-negative number, a Wi-Fi bus stop without a route, or a repeated site id,
        naming file, row and column.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "sites.csv"
    >>> _ = p.write_text("Site Name,Type,Services,Status,Latitude,Longitude\n"
    ...                  "Grace Church,church,Wi-Fi; tutoring,MOU signed,31.85,-102.37\n")
    >>> s = read_partner_sites(p)
    >>> s[["site_type", "services", "status"]].values.tolist()
    [['place_of_worship', 'public_wifi;tutoring', 'agreement_signed']]
    """
    path = Path(path)
    source = str(path)
    raw, geometry = _read_cells(path)
    report = start_report(source, kind="partner_sites", rows_read=len(raw))
    cells, unknown = rename_columns(_unneutralise(raw), vocab.HEADER_SYNONYMS, source=source)
    if unknown:
        report["notes"].append(f"columns not in the partner schema, not kept: {unknown}")
    if "name" not in cells.columns:
        raise SchemaError(
            f"{source}: no site name column; name it 'name' or one of "
            f"{list(vocab.HEADER_SYNONYMS['name'])}"
        )
    if "site_type" not in cells.columns:
        raise SchemaError(f"{source}: no site type column ('site_type' or 'Type'); allowed "
                          f"values: {', '.join(vocab.SITE_TYPES)}")

    def text(column: str) -> pd.Series:
        if column not in cells.columns:
            return pd.Series([None] * len(cells), index=cells.index, dtype=object)
        return pd.Series([clean(v) for v in cells[column]], index=cells.index, dtype=object)

    out = pd.DataFrame(index=cells.index)
    out["name"] = text("name")
    empty = out["name"].isna()
    count_reject(report, "empty site name", int(empty.sum()), rows=out.index[empty])
    out, cells = out.loc[~empty], cells.loc[~empty]
    out["site_type"] = map_values(text("site_type"), vocab.SITE_TYPE_SYNONYMS,
                                   column="site_type", source=source)
    missing_type = out["site_type"].isna()
    if missing_type.any():
        row = int(out.index[missing_type][0])
        raise SchemaError(f"{where(source, row=row, column='site_type')}: empty site type; "
                          f"allowed: {', '.join(vocab.SITE_TYPES)}")
    flags = service_flags(text("services"), source=source)
    out["services"] = joined_services(flags)
    for service in vocab.SERVICES:
        out[f"svc_{service}"] = flags[service].astype(bool)
    for column in NUMERIC_COLUMNS:
        out[column] = parse_numbers(text(column), source=source, column=column, report=report,
                                    decimal=raw.attrs.get("decimal", "."))
    out["hours"] = hours(cells["hours"] if "hours" in cells else text("hours"), report)
    out["status"] = map_values(text("status"), vocab.STATUS_SYNONYMS, column="status",
                                source=source)
    for column in TEXT_COLUMNS:
        out[column] = text(column)
    parts = [text(c) for c in ("address", "city", "state", "zip")]
    out["address"] = pd.Series(
        [", ".join(p for p in row if p) or None for row in zip(*parts, strict=True)],
        index=out.index, dtype=object,
    )
    bus_without_route = (out["site_type"] == "wifi_bus_stop") & out["route"].isna()
    if bus_without_route.any():
        row = int(out.index[bus_without_route][0])
        raise SchemaError(f"{where(source, row=row, column='route')}: a wifi_bus_stop needs the "
                          "route (the bus) it belongs to; stops of one bus share a route")
    radius_unknown = int(((out["site_type"] == "hotspot") & out["wifi_radius_m"].isna()).sum())
    if radius_unknown:
        report["notes"].append(f"{radius_unknown} hotspot(s) without wifi_radius_m (left NaN)")
    out["source"] = text("source").fillna(source_name or path.name)
    report["sources"].extend(cited_sources(out["source"]))
    if illustrative is None:
        flag = text("illustrative").map(lambda v: v is not None and vocab.value_key(v) in
                                        {"true", "yes", "1", "y"})
        out["illustrative"] = flag.astype(bool)
    else:
        out["illustrative"] = bool(illustrative)
    report["illustrative"] = bool(out["illustrative"].any())

    study_area = area_geometry(area)
    if geometry is not None and "lat" not in cells.columns:
        lat, lon = point_xy(geometry.loc[out.index], source=source)
    elif {"lat", "lon"} <= set(cells.columns):
        lat, lon = parse_coordinates(cells, lat="lat", lon="lon", source=source)
    else:
        lat = lon = np.full(len(out), np.nan)
    lat, lon, _ = repair_swapped(lat, lon, area=study_area, report=report)
    bad_place = impossible(lat, lon)
    count_reject(report, IMPOSSIBLE, int(bad_place.sum()), rows=out.index[bad_place])
    lat, lon = np.where(bad_place, np.nan, lat), np.where(bad_place, np.nan, lon)
    missing = ~(np.isfinite(lat) & np.isfinite(lon)) & ~bad_place
    has_address = out["address"].notna().to_numpy()
    if geocode and (missing & has_address).any():
        todo = pd.DataFrame({"address": text("address"), "city": text("city"),
                             "state": text("state"), "zip": text("zip")}).loc[missing & has_address]
        found = geocode_addresses(todo, url=geocode_url)
        positions = np.flatnonzero(missing & has_address)
        lat[positions] = found["geocode_lat"].to_numpy(dtype=float)
        lon[positions] = found["geocode_lon"].to_numpy(dtype=float)
        matched = int(np.isfinite(found["geocode_lat"].to_numpy(dtype=float)).sum())
        count_repair(report, "geocoded from the address (Census Bureau geocoder)", matched)
        report["sources"].append({"name": "US Census Bureau Geocoder", "url": geocode_url,
                                  "license": "public domain"})
        unmatched = missing & has_address & ~np.isfinite(lat)
        count_reject(report, "address not matched by the geocoder", int(unmatched.sum()),
                     rows=out.index[unmatched])
        missing = ~(np.isfinite(lat) & np.isfinite(lon))
        settled = unmatched
    else:
        settled = np.zeros(len(out), dtype=bool)
    no_geo = missing & has_address & ~settled
    count_reject(report, "no coordinates (address not geocoded: pass geocode=True)",
                 int(no_geo.sum()), rows=out.index[no_geo])
    neither = missing & ~has_address
    count_reject(report, "no coordinates and no address", int(neither.sum()),
                 rows=out.index[neither])
    outside = ~missing & ~bad_place & ~inside(lat, lon, study_area)
    count_reject(report, "outside the study area", int(outside.sum()), rows=out.index[outside])
    keep = ~missing & ~outside & ~bad_place
    sites = gpd.GeoDataFrame(out.loc[keep], geometry=gpd.points_from_xy(lon[keep], lat[keep]),
                             crs="EPSG:4326")
    duplicate_of = _duplicates(sites)
    if len(duplicate_of):
        count_reject(
            report,
            f"duplicate site (same name within {DUPLICATE_DISTANCE_M:.0f} m of an earlier row)",
            len(duplicate_of), rows=duplicate_of.index,
        )
        report["notes"].append("duplicates (row -> earlier row kept): " + ", ".join(
            f"{int(r)} -> {int(f)}" for r, f in list(duplicate_of.items())[:20]))
        sites = sites.drop(index=duplicate_of.index)
    if "site_id" in cells.columns:
        ids = text("site_id").loc[sites.index]
        repeated = ids.notna() & ids.duplicated(keep=False)
        if repeated.any():
            row = int(ids.index[repeated][0])
            raise SchemaError(f"{where(source, row=row, column='site_id')}: site id "
                              f"{ids.loc[row]!r} is used more than once")
        generated = site_ids(sites["name"], sites.geometry.y.to_numpy(),
                              sites.geometry.x.to_numpy())
        sites["site_id"] = ids.where(ids.notna(), pd.Series(generated, index=sites.index))
    else:
        sites["site_id"] = site_ids(sites["name"], sites.geometry.y.to_numpy(),
                                     sites.geometry.x.to_numpy())
    sites = sites.reset_index(drop=True)[PARTNER_COLUMNS]
    return attach_report(sites, report)


def write_partner_sites(sites: gpd.GeoDataFrame, path: str | Path) -> Path:
    """Write a registry to CSV (with ``lat``/``lon`` columns) or a vector file (GeoJSON, GPKG).

    Text cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``,
    ``@``, tab or carriage return) are written with a leading ``'``;
    :func:`read_partner_sites` removes it again. The ``svc_*`` columns are left out of the
    CSV (they are derived from ``services``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> s = gpd.GeoDataFrame({"name": ["=HYPERLINK(1)"], "site_type": ["library"]},
    ...                      geometry=[Point(-102.37, 31.85)], crs=4326)
    >>> p = write_partner_sites(s, pathlib.Path(tempfile.mkdtemp()) / "out.csv")
    >>> p.read_text().splitlines()[1].split(",")[:2]
    ["'=HYPERLINK(1)", 'library']
    """
    path = Path(path)
    frame = sites.to_crs("EPSG:4326").copy()
    if path.suffix.lower() == ".csv":
        table = pd.DataFrame(frame.drop(columns=[frame.geometry.name]))
        table = table.drop(columns=[c for c in table.columns if str(c).startswith("svc_")])
        table["lat"] = frame.geometry.y.round(7)
        table["lon"] = frame.geometry.x.round(7)
        write_csv(table, path)  # the one CSV writer: every text column neutralised
    else:
        for column in frame.columns:
            values = frame[column]
            if isinstance(values.dtype, pd.CategoricalDtype):
                values = values.astype(object)
            if column != frame.geometry.name and (pd.api.types.is_object_dtype(values)
                                                  or pd.api.types.is_string_dtype(values)):
                frame[column] = neutralize_formulas(values)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            frame.to_file(path)
    return path
