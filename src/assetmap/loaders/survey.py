"""The family connectivity survey: household answers in, aggregated and suppressed rates out.

Each input row is one household: where it is (``lat``/``lon``, a tract ``GEOID``, or an
address to geocode) and its answers. Answers are normalised through the mapping below
(compared after :func:`~assetmap.loaders.partner_vocab.value_key`); anything else is an
error naming file, row and column and listing the allowed answers.

======================  ==================================================================
answer                  accepted text
======================  ==================================================================
home ``none``           none, no, no internet, no home internet, nothing, do not have
home ``mobile_only``    mobile only, cell phone only, phone only, smartphone only, mobile
                        data, cellular, hotspot only
home ``slow``           slow, too slow, unreliable, slow or unreliable, yes but slow
home ``broadband``      broadband, yes, high speed, fast, reliable, cable, fiber, wifi
device ``yes``          yes, y, true, 1, laptop, computer, tablet, desktop, chromebook
device ``no``           no, n, false, 0, none, no device, phone only, smartphone only
reason ``not_available``  not available, no service, unavailable, no provider, not offered
reason ``cost``         cost, too expensive, expensive, cannot afford, price
reason ``other``        other, do not want, not needed, don't need
======================  ==================================================================

Household points, addresses and row-level answers never leave :func:`read_survey`: the
result holds only counts and rates per area (and per school zone), with small cells
suppressed (see :mod:`assetmap.loaders.suppression`). Addresses sent to the Census
geocoder are not kept in the download cache.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from assetmap._report import attach_report, count_reject, count_repair, start_report
from assetmap.errors import GeoidError, SchemaError, where
from assetmap.geoid import GEOID_LENGTHS, Level, geoid_level, normalize_geoids
from assetmap.loaders import partner_vocab as vocab
from assetmap.loaders._points import (
    IMPOSSIBLE,
    area_geometry,
    impossible,
    parse_coordinates,
    point_xy,
    repair_swapped,
)
from assetmap.loaders._survey_tables import (
    COUNT_COLUMNS,
    RATE_COLUMNS,
    aggregate,
    publish,
    suppress_survey,
)
from assetmap.loaders._tables import TABULAR_SUFFIXES, read_table, read_vector, rename_columns
from assetmap.loaders.geocode import CENSUS_BATCH_URL, geocode_addresses
from assetmap.loaders.suppression import check_min_cell, publishable_total

__all__ = ["COUNT_COLUMNS", "RATE_COLUMNS", "read_survey"]

HEADERS: dict[str, tuple[str, ...]] = {
    "lat": ("latitude", "y"),
    "lon": ("longitude", "long", "lng", "x"),
    "geoid": ("tract", "tract geoid", "census tract", "tract_geoid_2020", "block group"),
    "address": ("street", "street address", "home address"),
    "city": ("town",),
    "state": ("st",),
    "zip": ("zip code", "zipcode", "postal code"),
    "home_internet": ("internet", "home internet", "internet at home", "internet access",
                      "home internet access", "internet type"),
    "device": ("device access", "has device", "computer", "has computer", "device at home"),
    "reason": ("reason none", "why no internet", "reason no internet", "no internet reason"),
}
HOME: dict[str, tuple[str, ...]] = {
    "none": ("no", "no internet", "no home internet", "nothing", "do not have"),
    "mobile_only": ("mobile only", "cell phone only", "phone only", "smartphone only",
                    "mobile data", "cellular", "hotspot only", "mobile"),
    "slow": ("too slow", "unreliable", "slow or unreliable", "yes but slow"),
    "broadband": ("yes", "high speed", "fast", "reliable", "cable", "fiber", "wifi", "wi fi"),
}
DEVICE: dict[str, tuple[str, ...]] = {
    "yes": ("y", "true", "1", "laptop", "computer", "tablet", "desktop", "chromebook"),
    "no": ("n", "false", "0", "none", "no device", "phone only", "smartphone only"),
}
REASON: dict[str, tuple[str, ...]] = {
    "not_available": ("not available", "no service", "unavailable", "no provider",
                      "not offered"),
    "cost": ("too expensive", "expensive", "cannot afford", "can't afford", "price"),
    "other": ("do not want", "not needed", "don't need", "dont need"),
}

def _answers(cells: pd.DataFrame, column: str, table: dict[str, tuple[str, ...]],
             source: str) -> pd.Series:
    if column not in cells.columns:
        return pd.Series([None] * len(cells), index=cells.index, dtype=object)
    lookup = vocab.lookup(table)
    values = cells[column]
    if pd.api.types.is_string_dtype(values.dtype) and values.dtype != object:
        # text column (missing = NaN): one key per distinct answer, not per response
        codes, uniques = pd.factorize(values)
        ukeys = np.array([None, *(vocab.value_key(v) for v in uniques)], dtype=object)
        keys = ukeys[codes + 1].tolist()
    else:
        keys = [None if v is None or (isinstance(v, float) and np.isnan(v))
                else vocab.value_key(v) for v in values]
    mapped = pd.Series([lookup.get(k) if k else None for k in keys], index=cells.index,
                       dtype=object)
    bad = pd.Series([bool(k) and lookup.get(k) is None for k in keys], index=cells.index)
    if bad.any():
        row = int(bad[bad].index[0])
        raise SchemaError(
            f"{where(source, row=row, column=column)}: an answer that is not in the list (not "
            "shown here: what a household wrote stays private; open the file at that row); "
            f"allowed: {', '.join(table)} (or a synonym listed in assetmap.loaders.survey); "
            f"{int(bad.sum())} row(s) have unknown answers"
        )
    return mapped


def _private_geoids(given: pd.Series, *, level: Level, source: str) -> pd.Series:
    """:func:`normalize_geoids` whose error names the row but never shows the value."""
    try:
        return normalize_geoids(given, level=level, source=source, column="geoid")
    except GeoidError:
        row = next((int(i) for i, v in given.items() if not _is_geoid(v, level)), None)
    raise GeoidError(f"{where(source, row=row, column='geoid')}: not a {level} GEOID of "
                     f"{GEOID_LENGTHS[level]} digits (the value is not shown: survey answers "
                     "stay private; open the file at that row)") from None


def _is_geoid(value: object, level: Level) -> bool:
    try:
        normalize_geoids(pd.Series([value], dtype=object), level=level)
    except GeoidError:
        return False
    return True


def _assign(points_lat: np.ndarray, points_lon: np.ndarray, polygons: gpd.GeoDataFrame,
            ids: pd.Series) -> np.ndarray:
    """Return the id of the polygon each point falls in (None outside all)."""
    out = np.full(len(points_lat), None, dtype=object)
    ok = np.isfinite(points_lat) & np.isfinite(points_lon)
    if not ok.any():
        return out
    points = gpd.points_from_xy(points_lon[ok], points_lat[ok], crs="EPSG:4326")
    point_idx, poly_idx = polygons.sindex.query(points, predicate="intersects")
    first_point, first = np.unique(point_idx, return_index=True)
    chosen = np.full(ok.sum(), None, dtype=object)
    chosen[first_point] = ids.to_numpy()[poly_idx[first]]
    out[ok] = chosen
    return out


def read_survey(
    path: str | Path,
    *,
    areas: gpd.GeoDataFrame | pd.DataFrame,
    area_id: str = "GEOID",
    min_cell: int = 10,
    zones: gpd.GeoDataFrame | None = None,
    zone_id: str = "zone_id",
    geocode: bool = False,
    geocode_url: str = CENSUS_BATCH_URL,
    illustrative: bool | None = None,
) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    r"""Read household survey answers and return only aggregated, suppressed rates per area.

    Parameters
    ----------
    path : str or Path
        CSV, XLSX or GeoJSON, one household per row.
    areas : GeoDataFrame
        The areas to aggregate to (tracts by default), with an ``area_id`` column. A plain
        DataFrame works when every household gives a GEOID instead of coordinates.
    area_id : str
        The id column of ``areas`` (and of the result).
    min_cell : int
        Rows with fewer responses are suppressed (default 10; below 5 raises PrivacyError).
    zones : GeoDataFrame, optional
        School zones (``zone_id`` column): the result is then ``(by_area, by_zone)``, both
        suppressed together so that one cannot be subtracted from the other.
    zone_id : str
        The id column of ``zones``.
    geocode : bool
        Geocode households that give only an address (Census Bureau geocoder; the answer is
        deleted from the download cache at once). When False they are rejected and counted.
    geocode_url : str
        The geocoder's batch endpoint.
    illustrative : bool, optional
        Label the result illustrative (synthetic); default: when the file name contains
        ``illustrative``.

    Returns
    -------
    DataFrame or tuple of DataFrames
        One row per area (every area of ``areas``): ``<area_id>, responses, home_none,
        home_mobile_only, home_slow, home_broadband, device_responses, no_device,
        reason_not_available, reason_cost, reason_other, survey_no_internet_rate,
        survey_limited_rate, survey_no_device_rate, suppressed``. ``device_responses`` (the
        households that answered the device question) is the denominator of
        ``survey_no_device_rate``. The report holds ``responses_total`` (None when it would
        be a small cell), ``min_cell`` and the rules applied; no household data.

    Raises
    ------
    PrivacyError
        ``min_cell`` below 5.
    SchemaError
        An unknown answer, or no way to place households (no lat/lon, GEOID or address).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> areas = gpd.GeoDataFrame({"GEOID": ["48135000100"]}, geometry=[box(-103, 31, -102, 32)],
    ...                          crs=4326)
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "s.csv"
    >>> _ = p.write_text("lat,lon,internet\n" + "31.5,-102.5,none\n" * 4
    ...                  + "31.5,-102.5,broadband\n" * 8)
    >>> out = read_survey(p, areas=areas)
    >>> out[["GEOID", "responses", "survey_no_internet_rate"]].values.tolist()
    [['48135000100', 12.0, 0.3333333333333333]]
    """
    min_cell = check_min_cell(min_cell)
    path = Path(path)
    source = str(path)
    if area_id not in areas.columns or not len(areas):
        raise SchemaError(f"areas has no rows or no column {area_id!r}; pass the study's areas "
                          "and area_id=")
    if path.suffix.lower() in TABULAR_SUFFIXES:
        known = {h for k, syns in HEADERS.items() for h in (k, *syns)}
        raw, _ = read_table(path, known_headers=known)
        geometry = None
    else:
        vector, _ = read_vector(path)
        raw = pd.DataFrame(vector.drop(columns=vector.geometry.name)).astype(object)
        raw.index = pd.RangeIndex(1, len(raw) + 1, name="row")
        geometry = vector.geometry.set_axis(raw.index)
    if illustrative is None:
        illustrative = "illustrative" in path.name.lower()
    report = start_report(source, kind="survey", rows_read=len(raw), illustrative=illustrative)
    cells, unknown = rename_columns(raw, HEADERS, source=source)
    del raw
    if "home_internet" not in cells.columns:
        raise SchemaError(f"{source}: no home-internet answer column; name it 'home_internet' "
                          f"or one of {list(HEADERS['home_internet'])}")
    home = _answers(cells, "home_internet", HOME, source)
    device = _answers(cells, "device", DEVICE, source)
    reason = _answers(cells, "reason", REASON, source)
    unanswered = home.isna().to_numpy()
    count_reject(report, "no answer on home internet", int(unanswered.sum()),
                 rows=cells.index[unanswered])

    ids = areas[area_id].astype(str)
    if area_id == "GEOID":
        ids = normalize_geoids(areas[area_id], level=geoid_level(str(areas[area_id].iloc[0])),
                               column=area_id)
    polygons = (areas.to_crs("EPSG:4326").reset_index(drop=True)
                if isinstance(areas, gpd.GeoDataFrame) else None)
    study_area = area_geometry(polygons) if polygons is not None else None
    n = len(cells)
    lat = lon = np.full(n, np.nan)
    if geometry is not None:
        lat, lon = point_xy(geometry, source=source)
    elif {"lat", "lon"} <= set(cells.columns):
        lat, lon = parse_coordinates(cells, lat="lat", lon="lon", source=source, private=True)
    if np.isfinite(lat).any() and polygons is None:
        raise SchemaError(f"{source}: households have coordinates, so areas must be a "
                          "GeoDataFrame with polygons")
    lat, lon, _ = repair_swapped(lat, lon, area=study_area, report=report)
    bad = impossible(lat, lon) & ~unanswered
    count_reject(report, IMPOSSIBLE, int(bad.sum()), rows=cells.index[bad])
    lat, lon = np.where(bad, np.nan, lat), np.where(bad, np.nan, lon)
    has_point = np.isfinite(lat) & np.isfinite(lon) & ~unanswered
    key = pd.Series(_assign(lat, lon, polygons, ids) if polygons is not None
                    else np.full(n, None, dtype=object), index=cells.index, dtype=object)
    key[unanswered] = None
    outside = has_point & key.isna().to_numpy()
    count_reject(report, "outside the study area", int(outside.sum()), rows=cells.index[outside])

    todo = ~has_point & ~unanswered & ~bad
    if "geoid" in cells.columns and todo.any():
        given = cells["geoid"].where(todo)
        present = given.notna() & (given.astype(str).str.strip() != "")
        if present.any():
            width = len(str(ids.iloc[0]))
            level = next(k for k, v in GEOID_LENGTHS.items() if v == width)
            text = given[present].astype(str).str.strip()
            short = int((text.str.fullmatch(r"\d+") & (text.str.len() == width - 1)).sum())
            fixed = _private_geoids(given[present], level=level, source=source)
            if short:
                count_repair(report, "GEOID lost its leading zero (restored)", short, warn=False)
            known_ids = set(ids)
            matched = fixed.where(fixed.isin(known_ids))
            key.loc[matched.index] = matched.to_numpy()
            unknown_geoid = fixed.index[~fixed.isin(known_ids)]
            count_reject(report, "GEOID not among the areas", len(unknown_geoid),
                         rows=unknown_geoid)
            todo = todo & ~present.reindex(cells.index, fill_value=False).to_numpy()
    if "address" in cells.columns and todo.any():
        has_address = todo & cells["address"].notna().to_numpy()
        if geocode and has_address.any() and polygons is not None:
            found = geocode_addresses(cells.loc[has_address], url=geocode_url, private=True)
            glat = found["geocode_lat"].to_numpy(dtype=float)
            glon = found["geocode_lon"].to_numpy(dtype=float)
            assigned = _assign(glat, glon, polygons, ids)
            key.loc[cells.index[has_address]] = assigned
            count_repair(report, "geocoded from the address (Census Bureau geocoder)",
                         int(np.isfinite(glat).sum()), warn=False)
            miss = cells.index[has_address][~np.isfinite(glat)]
            count_reject(report, "address not matched by the geocoder", len(miss), rows=miss)
            out_geo = cells.index[has_address][np.isfinite(glat) & pd.isna(assigned)]
            count_reject(report, "outside the study area", len(out_geo), rows=out_geo)
            del found, glat, glon
        else:
            count_reject(report, "address only (not geocoded: pass geocode=True)",
                         int(has_address.sum()), rows=cells.index[has_address])
        todo = todo & ~has_address
    count_reject(report, "no location (no lat/lon, GEOID or address)", int(todo.sum()),
                 rows=cells.index[todo])
    if unknown:
        report["notes"].append(f"columns not used: {unknown}")

    by_area = aggregate(key, home, device, reason, pd.Index(ids.unique()))
    report["rows_aggregated"] = int(by_area["responses"].sum())
    if not report["rows_aggregated"]:
        raise SchemaError(f"{source}: none of its {len(cells)} household(s) could be placed in "
                          f"an area (left out: {report['rejected']}); check that it is for "
                          "the study's areas")
    report["merged"] = int(by_area["responses"].sum())
    by_zone = zkey = None
    if zones is not None:
        if zone_id not in zones.columns:
            raise SchemaError(f"zones has no column {zone_id!r}; pass zone_id=")
        zpolys = zones.to_crs("EPSG:4326").reset_index(drop=True)
        zkey = pd.Series(_assign(lat, lon, zpolys, zpolys[zone_id].astype(str)),
                         index=cells.index, dtype=object).where(key.notna())
        by_zone = aggregate(zkey, home, device, reason,
                            pd.Index(zpolys[zone_id].astype(str).unique()))
    flags = suppress_survey(key, zkey, by_area, by_zone, min_cell=min_cell)
    if zkey is not None:
        no_zone = int(key.notna().sum() - zkey.notna().sum())
        report["notes"].append(
            f"{no_zone if no_zone == 0 or no_zone >= min_cell else f'fewer than {min_cell}'} "
            "placed household(s) fall in no zone (GEOID-only households cannot be placed "
            "in a zone)")
    del lat, lon, cells, geometry
    report["min_cell"] = min_cell
    report["responses_total"] = publishable_total(by_area["responses"], min_cell=min_cell)
    report["notes"].append(
        f"rows with fewer than {min_cell} responses are suppressed, with complementary "
        "suppression across every table published together (areas, zones, totals) so that "
        "no difference of published figures reveals a group of 1 to "
        f"{min_cell - 1} households")
    report["sources"].append({"name": f"family connectivity survey ({path.name})"})
    result = attach_report(publish(by_area, flags["areas"], area_id), report)
    if by_zone is None:
        return result
    zoned = None if flags["zoned"].iloc[0] else publishable_total(by_zone["responses"],
                                                                   min_cell=min_cell)
    zone_report = dict(report, kind="survey_zones", responses_total=zoned)
    return result, attach_report(publish(by_zone, flags["zones"], zone_id), zone_report)
