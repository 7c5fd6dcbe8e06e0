"""Assemble one tract table from boundaries and the per-tract sources, keyed by GEOID.

:func:`assemble_tracts` left-joins the BDC service aggregation, ACS derived columns, survey
rates and rurality onto the tract boundaries. Nothing is dropped: a tract missing from a
source keeps its row (with NaN in that source's columns) and is listed in the report; a
source row that matches no tract is listed too.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd

from assetmap._report import attach_report, get_report, merge_sources, start_report
from assetmap.errors import SchemaError
from assetmap.geoid import normalize_geoids

__all__ = ["assemble_tracts"]

_MAX_LISTED = 200


def _keyed(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Return a copy of ``frame`` with a string ``GEOID`` column (from a column or the index)."""
    out = frame.copy()
    if "GEOID" not in out.columns:
        if out.index.name == "GEOID":
            out = out.reset_index()
        elif name == "survey" and "zone_id" in out.columns:
            raise SchemaError(
                "survey: rates are by 'zone_id', not by tract GEOID; aggregate the survey to "
                "tracts (read_survey(..., areas=tracts)) before assembling the tract table"
            )
        else:
            raise SchemaError(
                f"{name}: no 'GEOID' column or index; columns are {list(out.columns)[:12]}"
            )
    out["GEOID"] = normalize_geoids(out["GEOID"], level="tract", source=name, column="GEOID")
    dup = out["GEOID"].duplicated(keep=False)
    if dup.any():
        first = out.loc[dup, "GEOID"].iloc[0]
        raise SchemaError(
            f"{name}: {int(dup.sum())} rows share a GEOID (first: {first}); a per-tract "
            "source must have one row per tract"
        )
    if isinstance(out, gpd.GeoDataFrame):
        out = pd.DataFrame(out.drop(columns=out.geometry.name))
    return out


def _rurality(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Accept the data-model rurality frame or raw USDA RUCA columns; derive ``rural``."""
    notes: list[str] = []
    out = frame.rename(columns={"RUCA1_primary": "ruca_primary", "RUCA2_secondary":
                                "ruca_secondary"})
    if "rural" not in out.columns:
        if "ruca_primary" not in out.columns:
            raise SchemaError("rurality: needs a 'rural' or a 'ruca_primary' column")
        out["rural"] = out["ruca_primary"].ge(4).where(out["ruca_primary"].notna())
        notes.append("rurality: 'rural' derived as RUCA primary code >= 4")
    return out, notes


def assemble_tracts(
    tracts: gpd.GeoDataFrame,
    *,
    service: pd.DataFrame | None = None,
    acs: pd.DataFrame | None = None,
    survey: pd.DataFrame | None = None,
    rurality: pd.DataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Join the per-tract sources onto the tract boundaries, keyed by GEOID.

    Parameters
    ----------
    tracts : geopandas.GeoDataFrame
        Tract polygons with an 11-character ``GEOID`` (``load_tracts``). Every tract is kept.
    service : pandas.DataFrame, optional
        ``service_by_area(avail, level="tract")``: locations, unserved/underserved/served
        counts and shares, fiber share, providers.
    acs : pandas.DataFrame, optional
        ACS derived columns (``no_internet_share``, ``poverty_share``, ``children`` ...).
    survey : pandas.DataFrame, optional
        Survey rates by tract (``read_survey(..., areas=tracts)``).
    rurality : pandas.DataFrame, optional
        ``ruca_primary``, ``ruca_secondary``, ``rural``; raw USDA columns ``RUCA1_primary``
        and ``RUCA2_secondary`` are accepted and ``rural`` (RUCA >= 4) derived.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per tract in EPSG:4326, in the tracts' order, with each source's columns.
        ``attrs["assetmap"]["join"]`` lists, per source, the rows read, tracts matched, the
        GEOIDs of tracts missing from it (``tracts_missing``) and of its rows that matched
        no tract (``unmatched_rows``), and any column left out because the tracts already
        carry it (``columns_skipped``).

    Raises
    ------
    SchemaError
        If a frame has no GEOID, repeats a GEOID, or the tracts have no CRS.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely.geometry import box
    >>> t = gpd.GeoDataFrame({"GEOID": ["48135000100", "48135000200"]},
    ...                      geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs=4326)
    >>> acs = pd.DataFrame({"GEOID": ["48135000100", "48135999900"],
    ...                     "no_internet_share": [0.2, 0.3]})
    >>> out = assemble_tracts(t, acs=acs)
    >>> out["no_internet_share"].tolist()
    [0.2, nan]
    >>> out.attrs["assetmap"]["join"]["acs"]["tracts_missing"]
    ['48135000200']
    >>> out.attrs["assetmap"]["join"]["acs"]["unmatched_rows"]
    ['48135999900']
    """
    if not isinstance(tracts, gpd.GeoDataFrame):
        raise SchemaError("tracts: expected a GeoDataFrame of tract polygons")
    if tracts.crs is None:
        raise SchemaError("tracts: the GeoDataFrame has no CRS; set it (EPSG:4326) first")
    base = tracts.copy()
    base["GEOID"] = normalize_geoids(base["GEOID"], level="tract", source="tracts",
                                     column="GEOID")
    if base["GEOID"].duplicated().any():
        first = base.loc[base["GEOID"].duplicated(), "GEOID"].iloc[0]
        raise SchemaError(f"tracts: GEOID {first} appears more than once")
    base = base.to_crs(4326)

    inputs = {"service": service, "acs": acs, "survey": survey, "rurality": rurality}
    join: dict[str, Any] = {}
    notes: list[str] = []
    tract_ids = pd.Index(base["GEOID"])
    out = pd.DataFrame(base)
    for name, frame in inputs.items():
        if frame is None:
            continue
        keyed = _keyed(frame, name)
        if name == "rurality":
            keyed, extra = _rurality(keyed)
            notes.extend(extra)
        clash = [c for c in keyed.columns if c != "GEOID" and c in out.columns]
        keyed = keyed.drop(columns=clash)
        src_ids = pd.Index(keyed["GEOID"])
        missing = tract_ids.difference(src_ids, sort=False).tolist()
        unmatched = src_ids.difference(tract_ids, sort=False).tolist()
        join[name] = {
            "rows": len(keyed),
            "matched": len(tract_ids) - len(missing),
            "tracts_missing": missing[:_MAX_LISTED],
            "tracts_missing_count": len(missing),
            "unmatched_rows": unmatched[:_MAX_LISTED],
            "unmatched_rows_count": len(unmatched),
            "columns_skipped": clash,
        }
        if len(keyed) and len(tract_ids) and len(missing) == len(tract_ids):
            raise SchemaError(
                f"{name}: none of its {len(keyed)} rows matches a tract of the study area (its "
                f"GEOIDs start {', '.join(sorted({str(g)[:5] for g in src_ids})[:3])}; the "
                f"tracts' start {', '.join(sorted({str(g)[:5] for g in tract_ids})[:3])}); "
                "check that it is for the same state, county and census year (no tract would "
                "be ranked on it)")
        if missing:
            notes.append(f"{name}: {len(missing)} of {len(tract_ids)} tracts have no row "
                         f"(kept, with NaN in its columns)")
        if unmatched:
            notes.append(f"{name}: {len(unmatched)} rows match no tract (listed, not joined)")
        out = out.merge(keyed, on="GEOID", how="left", validate="one_to_one")

    result = gpd.GeoDataFrame(out, geometry=base.geometry.name, crs=4326)
    result.index = base.index
    sources, vintages, illustrative = merge_sources(tracts, *inputs.values())
    report = start_report(None, kind="tracts_assembled", rows_read=len(base),
                          vintages=vintages, sources=sources, illustrative=illustrative)
    base_report = get_report(tracts)
    report["notes"] = [*base_report.get("notes", []), *notes]
    report["join"] = join
    return attach_report(result, report)
