"""Census boundaries: tracts, block groups, counties, states and school districts.

From the Census Bureau's TIGER/Line shapefiles (``source="tiger"``, the legal boundaries,
``https://www2.census.gov/geo/tiger/TIGER{year}/TRACT/tl_{year}_{ss}_tract.zip``) or its
cartographic boundary files (``source="cb"``, generalised to 1:500,000 and clipped to the
shoreline, ``.../GENZ{year}/shp/cb_{year}_{ss}_tract_500k.zip``), years 2020-2024, or from a
local copy (zip, shp, gpkg, geojson). Counties and states come from the national files and
are filtered by state.

Every loader returns a GeoDataFrame in EPSG:4326 with the TIGER columns (design.md) that the
source has, GEOIDs as strings, and a report whose ``vintages["geometry"]`` names the product
and year. Cartographic boundary files lack ``MTFCC``, ``FUNCSTAT``, ``INTPTLAT`` and
``INTPTLON``; those columns are then absent and named in the report's notes.

A local file without a CRS (a shapefile whose ``.prj`` was lost) is read as NAD83
longitude/latitude (EPSG:4269, TIGER/Line's own CRS) when its coordinates lie within
longitude/latitude bounds, with a :class:`~assetmap.errors.RepairWarning` saying so; pass
``assume_crs=`` to state the CRS yourself. Projected coordinates without a CRS are an error.
Reading one file and its columns lives in :mod:`assetmap.loaders._boundary_files`; this module
downloads, filters by state and county, and reports.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from assetmap._crs import estimate_utm
from assetmap._report import attach_report, count_reject, count_repair, start_report
from assetmap.errors import ConfigError
from assetmap.geoid import county_fips, state_fips
from assetmap.loaders._boundary_files import (
    LAYERS,
    SD_KINDS,
    TIGER_BASE_URL,
    boundary_url,
    read_boundary_file,
    standardise_columns,
    vintage_of,
)

__all__ = [
    "TIGER_BASE_URL",
    "boundary_url",
    "load_block_groups",
    "load_counties",
    "load_school_districts",
    "load_states",
    "load_tracts",
]

YEARS = range(2020, 2025)
DEFAULT_YEAR = 2023
_LICENSE = "Public domain (US government work)"


def _check_options(source: str, year: int | None, path: Any) -> int | None:
    if source not in ("tiger", "cb"):
        raise ConfigError(f"source must be 'tiger' or 'cb', got {source!r}")
    if year is not None and (not isinstance(year, int) or year not in YEARS):
        raise ConfigError(f"year must be one of {list(YEARS)}, got {year!r}")
    return year if year is not None or path is not None else DEFAULT_YEAR


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str | int):
        return [value]
    return list(value)


def _load(
    layer: str,
    *,
    state: Any,
    county: Any,
    year: int | None,
    source: str | None,
    path: str | Path | None,
    base_url: str | None,
    assume_crs: Any,
) -> gpd.GeoDataFrame:
    spec = LAYERS[layer]
    product_stated, source = source is not None, source or "tiger"
    year = _check_options(source, year, path)
    states = [state_fips(s) for s in _as_list(state)]
    if not states and not spec.national and path is None:
        raise ConfigError(f"state= is required to download {spec.label} (one file per state)")
    if county is not None and len(states) != 1:
        raise ConfigError("county= needs exactly one state=")
    counties = [county_fips(states[0], c) for c in _as_list(county)]

    if path is not None:
        files = [(Path(path), str(path))]
        if not files[0][0].exists():
            raise FileNotFoundError(f"{path}: no such boundary file")
    else:
        assert year is not None
        from assetmap._http import fetch  # requests only when a download is needed

        scopes = [None] if spec.national else states
        files = []
        for scope in scopes:
            url = boundary_url(layer, state=scope, year=year, source=source, base_url=base_url)
            what = f"{'TIGER/Line' if source == 'tiger' else 'Cartographic boundary'} {year} "
            files.append((fetch(url, expect="zip", description=what + spec.label), url))

    shown = "; ".join(name for _, name in files)
    vintage, year_text, name = _product(spec.label, source, year, Path(files[0][1]).name,
                                        local=path is not None and not product_stated)
    report = start_report(
        shown, kind=spec.label.replace(" ", "_"),
        vintages={"geometry": vintage},
        sources=[{"name": name, "vintage": year_text, "url": where_,
                  **({"license": _LICENSE} if name.startswith("US Census") else {})}
                 for _, where_ in files],
    )
    parts = [read_boundary_file(file, where_, report, assume_crs) for file, where_ in files]
    frame = parts[0] if len(parts) == 1 else pd.concat(
        [p.to_crs(parts[0].crs) for p in parts], ignore_index=True)
    report["rows_read"] = len(frame)
    frame = standardise_columns(frame, spec, shown, report)
    geoms = frame.geometry
    no_area = (geoms.isna() | geoms.is_empty | ~geoms.geom_type.isin(["Polygon", "MultiPolygon"]))
    if no_area.any():
        count_reject(report, "empty or non-polygon geometry", int(no_area.sum()),
                     rows=(no_area.to_numpy().nonzero()[0] + 1).tolist())
        frame = frame[~no_area.to_numpy()]
    invalid = ~frame.geometry.is_valid
    if invalid.any():
        count_repair(report, "invalid polygon (e.g. self-intersecting) repaired with make_valid",
                     int(invalid.sum()))
        frame = frame.copy()
        frame.loc[invalid, frame.geometry.name] = frame.geometry[invalid].make_valid()

    keep = pd.Series(True, index=frame.index)
    if states:
        keep &= frame["GEOID"].str[:2].isin(states)
    if counties and spec.level is not None and layer != "state":
        keep &= frame["GEOID"].str[:5].isin(counties)
    if not keep.all():
        count_reject(report, "outside the requested state/county", int((~keep).sum()),
                     warn=False)
        frame = frame[keep.to_numpy()]
    frame = frame.to_crs(4326).reset_index(drop=True)
    if counties and spec.level is None:
        frame = _districts_in_counties(frame, report, states[0], counties, year, source,
                                       base_url)
    if frame.empty:
        report["notes"].append("no features in the requested area")
    return attach_report(frame, report)


def _product(label: str, source: str, year: int | None, name: str,
             *, local: bool) -> tuple[str, str | None, str]:
    """Return (vintage text, year text, source name) of a download or a local file.

    A local file is named from its own name: TIGER/Line for ``tl_YYYY_*``, Cartographic
    Boundary Files for ``cb_YYYY_*`` (the year from the name), else ``local file <name>``
    with ``year`` when one was given.

    Examples
    --------
    >>> _product("tracts", "tiger", 2020, "tracts_2020.geojson", local=True)
    ('local file tracts_2020.geojson (2020)', '2020', 'Tracts (local file tracts_2020.geojson)')
    >>> _product("tracts", "tiger", None, "cb_2022_48_tract_500k.zip", local=True)[2]
    'US Census Bureau, Cartographic Boundary Files'
    """
    if local and not re.search(r"\b(tl|cb)_\d{4}_", name):
        vintage = f"local file {name}" + (f" ({year})" if year is not None else "")
        what = f"{label[0].upper()}{label[1:]} (local file {name})"
        return vintage, None if year is None else str(year), what
    vintage, year_text = vintage_of(source, year, name)
    product = ("US Census Bureau, TIGER/Line Shapefiles" if vintage.startswith("TIGER")
               else "US Census Bureau, Cartographic Boundary Files")
    return vintage, year_text, product


def _districts_in_counties(
    frame: gpd.GeoDataFrame,
    report: dict[str, Any],
    state: str,
    counties: list[str],
    year: int | None,
    source: str,
    base_url: str | None,
) -> gpd.GeoDataFrame:
    """Keep districts with at least 1% of their area inside the counties (projected CRS)."""
    area = load_counties(state=state, county=counties, year=year or DEFAULT_YEAR,
                         source=source, base_url=base_url)
    crs = estimate_utm(frame) if len(frame) else estimate_utm(area)
    projected = frame.to_crs(crs)
    outline = area.to_crs(crs).union_all()
    share = projected.intersection(outline).area / projected.area
    keep = (share >= 0.01).to_numpy()
    count_reject(report, "less than 1% of the district's area in the requested counties",
                 int((~keep).sum()), warn=False)
    report["sources"].extend(area.attrs["assetmap"]["sources"])
    report["notes"].append(f"districts kept if >= 1% of their area lies in {counties}")
    return frame[keep].reset_index(drop=True)


_DOC_PARAMS = """
    Parameters
    ----------
    state : str, int or list
        State name, USPS code or FIPS code (``"TX"``, ``"Texas"``, ``48``).
    county : str, int or list, optional
        County name (``"Ector"``), 3-digit code (``"135"``) or 5-digit FIPS (``"48135"``).
    year : int, optional
        2020-2024 (default 2023 for downloads; read from a local file's name if it has one).
    source : {"tiger", "cb"}, optional
        TIGER/Line (legal boundaries, with internal points; the default for downloads) or
        cartographic boundary (generalised 1:500k, clipped to the shoreline; for maps). With
        ``path``, the product the file is from, cited as such; without it a local file is
        cited by its name (or by a ``tl_YYYY_``/``cb_YYYY_`` name).
    path : str or path-like, optional
        A local zip, shp, gpkg or geojson instead of downloading.
    base_url : str, optional
        Replaces ``settings.tiger_url`` (default ``https://www2.census.gov/geo/tiger``).
    assume_crs : str or int, optional
        CRS of a local file that has none (e.g. a shapefile without its ``.prj``).
"""


def _with_params(function: Any) -> Any:
    """Add the shared Parameters section before a loader's Examples section."""
    text = _DOC_PARAMS
    if function.__name__ == "load_states":
        text = re.sub(r"    county :.*?\n(?=    year)", "", text, flags=re.S)
    function.__doc__ = function.__doc__.replace("\n    Examples", text + "\n    Examples")
    return function


@_with_params
def load_tracts(*, state: Any = None, county: Any = None, year: int | None = None,
                source: str | None = None, path: str | Path | None = None,
                base_url: str | None = None, assume_crs: Any = None) -> gpd.GeoDataFrame:
    """Load census tracts (GEOID of 11 characters) as a GeoDataFrame in EPSG:4326.

    Examples
    --------
    >>> from assetmap.datasets import data_path
    >>> t = load_tracts(path=data_path("boundaries", "ector_tracts_2020.geojson"),
    ...                 state="TX", county="Ector", year=2020)
    >>> len(t), t.crs.to_epsg(), t["GEOID"].iloc[0]
    (33, 4326, '48135000100')
    """
    return _load("tract", state=state, county=county, year=year, source=source, path=path,
                 base_url=base_url, assume_crs=assume_crs)


@_with_params
def load_block_groups(*, state: Any = None, county: Any = None, year: int | None = None,
                      source: str | None = None, path: str | Path | None = None,
                      base_url: str | None = None, assume_crs: Any = None) -> gpd.GeoDataFrame:
    """Load census block groups (GEOID of 12 characters, ``BLKGRPCE``) in EPSG:4326.

    Examples
    --------
    >>> from assetmap.loaders.census import boundary_url
    >>> boundary_url("block_group", state="48", year=2022, source="cb")
    'https://www2.census.gov/geo/tiger/GENZ2022/shp/cb_2022_48_bg_500k.zip'
    """
    return _load("block_group", state=state, county=county, year=year, source=source,
                 path=path, base_url=base_url, assume_crs=assume_crs)


@_with_params
def load_counties(*, state: Any = None, county: Any = None, year: int | None = None,
                  source: str | None = None, path: str | Path | None = None,
                  base_url: str | None = None, assume_crs: Any = None) -> gpd.GeoDataFrame:
    """Load counties (GEOID of 5 characters) from the national file, filtered by state.

    Examples
    --------
    >>> from assetmap.datasets import data_path
    >>> c = load_counties(path=data_path("boundaries", "ector_county_2020.geojson"))
    >>> c[["GEOID", "NAME"]].values.tolist()
    [['48135', 'Ector']]
    """
    return _load("county", state=state, county=county, year=year, source=source, path=path,
                 base_url=base_url, assume_crs=assume_crs)


@_with_params
def load_states(*, state: Any = None, year: int | None = None, source: str | None = None,
                path: str | Path | None = None, base_url: str | None = None,
                assume_crs: Any = None) -> gpd.GeoDataFrame:
    """Load states and equivalents (GEOID of 2 characters); all of them unless ``state=``.

    Examples
    --------
    >>> from assetmap.loaders.census import boundary_url
    >>> boundary_url("state", state=None, year=2024, source="tiger")
    'https://www2.census.gov/geo/tiger/TIGER2024/STATE/tl_2024_us_state.zip'
    """
    return _load("state", state=state, county=None, year=year, source=source, path=path,
                 base_url=base_url, assume_crs=assume_crs)


@_with_params
def load_school_districts(*, state: Any = None, county: Any = None, kind: str = "unified",
                          year: int | None = None, source: str | None = None,
                          path: str | Path | None = None, base_url: str | None = None,
                          assume_crs: Any = None) -> gpd.GeoDataFrame:
    """Load unified, elementary or secondary school districts (GEOID = state + LEA code).

    ``county=`` keeps districts with at least 1% of their area in the counties (measured in
    a projected CRS against the county polygons of the same year and source, downloaded).

    Examples
    --------
    >>> from assetmap.loaders.census import boundary_url
    >>> boundary_url("unsd", state="48", year=2023, source="tiger")
    'https://www2.census.gov/geo/tiger/TIGER2023/UNSD/tl_2023_48_unsd.zip'
    """
    if kind not in SD_KINDS:
        raise ConfigError(f"kind must be one of {list(SD_KINDS)}, got {kind!r}")
    return _load(SD_KINDS[kind], state=state, county=county, year=year, source=source,
                 path=path, base_url=base_url, assume_crs=assume_crs)
