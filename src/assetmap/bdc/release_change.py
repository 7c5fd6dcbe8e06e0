"""What changed between two BDC releases, by tract and by school: the board's metric.

:func:`release_change_report` compares two releases location by location (``location_id``
of the Broadband Serviceable Location Fabric; residential locations, R or X) and counts per
tract and per school:

* ``newly_served``: served at 100/20 in the new release and not in the old (a location new to
  the Fabric and served counts);
* ``lost_service``: served in the old release and not in the new (a served location removed
  from the Fabric counts);
* ``fiber_gained`` / ``fiber_lost``: a technology-50 offer appeared / disappeared (the same
  rule for added and removed locations);
* ``locations_added`` / ``locations_removed``: in one release's Fabric only;
* ``providers_entering`` / ``providers_leaving``: the number of providers (``provider_id``)
  with any offer in the area in the new release and not the old, and the reverse, with their
  brand names in ``providers_entering_names`` / ``providers_leaving_names`` (``;``-separated);
* ``served_share_old``, ``served_share_new``, ``served_share_change`` and the same for fiber.

These are the definitions of :func:`assetmap.bdc.service.compare_releases`, which makes
the tract table when availability rows are given; this module adds the brand names, the
fiber shares, the school areas and the report text.

Service levels follow a BEAD rule set (:func:`assetmap.bdc.rules.rule_set`; ``"bead"`` by
default, or the set the ``service_levels`` frames were made with): "served" above means
served under that set, whose name and definition are in the report (``report["rules"]``) and
in the Markdown text. Locations are placed in school areas by the centre of their H3 res-8
cell: inside a zone polygon when ``zones`` are given, else at the nearest school (straight
line, UTM). Nothing below the area level is returned.
"""

from __future__ import annotations

import html
from typing import Any, NamedTuple

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely

from assetmap._crs import estimate_utm
from assetmap._report import attach_report, merge_sources, start_report
from assetmap.bdc import _common as common
from assetmap.bdc._checks import row_selection
from assetmap.bdc._counts import tally
from assetmap.bdc._frame_checks import checked_frame
from assetmap.bdc._schema import BDC_COLUMNS, RESIDENTIAL_CODES
from assetmap.bdc.rules import FIBER, RuleSet, RulesLike, rule_set
from assetmap.errors import SchemaError

__all__ = ["ReleaseChange", "release_change_report"]

_LEVELS = {"unserved": 0, "underserved": 1, "served": 2}
_COUNTS = ["locations_old", "locations_new", "newly_served", "lost_service", "fiber_gained",
           "fiber_lost", "locations_added", "locations_removed", "served_old", "served_new",
           "fiber_old", "fiber_new"]


class ReleaseChange(NamedTuple):
    """The change report: per-tract and per-school tables, county totals, Markdown text."""

    tracts: pd.DataFrame
    schools: pd.DataFrame | None
    summary: dict[str, Any]
    markdown: str


class _Offers(NamedTuple):
    """The offers of one release as codes, one per checked row: location row, provider code."""

    row: np.ndarray
    provider: np.ndarray
    providers: pd.Index
    provider_id: pd.Series
    brand_name: pd.Series


def _per_location(frame: pd.DataFrame, name: str, rules: RuleSet
                  ) -> tuple[pd.DataFrame, _Offers | None, dict[str, Any] | None]:
    """Return (one row per residential location, provider offers or None, rows' report).

    Availability rows are checked as every engine checks them (rejected, repaired and
    non-residential rows counted in the release's own report, warnings naming ``name``),
    then classified under ``rules``; offers are the rows of the locations as codes
    (:class:`_Offers`). A ``service_levels`` frame has no rows to check (report None).
    """
    if "service_level" in frame.columns:  # service_levels() output
        need = ["location_id", "block_geoid", "h3_res8_id", "service_level", "has_fiber"]
        missing = [c for c in need if c not in frame.columns]
        if missing:
            raise SchemaError(f"{name}: service_levels frame lacks {missing}")
        loc = pd.DataFrame(frame[need]).drop_duplicates("location_id")
        return loc.assign(level=loc["service_level"].map(_LEVELS)), None, None
    missing = [c for c in BDC_COLUMNS if c not in frame.columns]
    if missing:
        raise SchemaError(f"{name}: neither BDC availability rows nor service_levels output "
                          f"(lacks {missing})")
    selection = row_selection(codes=RESIDENTIAL_CODES)
    rows, counts, places = checked_frame(frame, selection, name=name)
    own = start_report(name, kind="bdc_availability")
    tally(own, counts, selection=selection, places=places)
    tech = rows["technology"].to_numpy(dtype=np.int64)
    down = rows["max_advertised_download_speed"].to_numpy()
    up = rows["max_advertised_upload_speed"].to_numpy()
    reliable = np.isin(tech, rules.reliable_technologies)
    if rules.low_latency_required:
        reliable &= rows["low_latency"].to_numpy() == 1
    (served_down, served_up), (under_down, under_up) = rules.served, rules.underserved
    level = np.where(reliable & (down >= served_down) & (up >= served_up), 2,
                     np.where(reliable & (down >= under_down) & (up >= under_up), 1, 0))
    # one row per location (sorted, as a group-by): integer codes instead of text keys
    row, ids = pd.factorize(rows["location_id"], sort=True)
    n = len(ids)
    best = np.full(n, -1, dtype=level.dtype)
    np.maximum.at(best, row, level)
    fiber = np.bincount(row, weights=tech == FIBER, minlength=n) > 0
    loc = pd.DataFrame({"location_id": ids,
                        "block_geoid": _smallest(rows["block_geoid"], row, n),
                        "h3_res8_id": _smallest(rows["h3_res8_id"], row, n), "level": best,
                        "has_fiber": fiber})
    provider, providers = pd.factorize(rows["provider_id"].astype(str), use_na_sentinel=False)
    offers = _Offers(row, provider, providers,
                     rows["provider_id"].astype(str), rows["brand_name"].astype(str))
    return loc, offers, own


def _smallest(values: pd.Series, row: np.ndarray, n: int) -> pd.Series:
    """Return the smallest non-missing value per row code (``min`` in a group-by).

    A location's block and H3 cell are the smallest of its rows', as in every engine
    (:func:`assetmap.bdc._common.note_split`).
    """
    rank, uniques = pd.factorize(values, sort=True)  # -1: a missing value
    ok = np.flatnonzero((row >= 0) & (rank >= 0))
    best = np.full(n, len(uniques), dtype=np.int64)
    np.minimum.at(best, row[ok], rank[ok])
    found = best < len(uniques)
    out = pd.Series(np.asarray(uniques)[best[found]], dtype=values.dtype)
    if found.all():
        return out
    return out.set_axis(np.flatnonzero(found)).reindex(range(n))


def _assign_schools(cells: pd.Series, schools: gpd.GeoDataFrame | None,
                    zones: gpd.GeoDataFrame | None) -> pd.Series:
    """Return the school_id of each H3 cell centre (zone polygon, else nearest school)."""
    unique = pd.Index(cells.dropna().unique())
    latlng = np.array([h3.cell_to_latlng(c) for c in unique]).reshape(-1, 2)
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(latlng[:, 1], latlng[:, 0]),
                              index=unique, crs=4326)
    if zones is not None:
        joined = gpd.sjoin(points, zones[["school_id", "geometry"]].to_crs(4326),
                           how="left", predicate="within")
        school = joined[~joined.index.duplicated()]["school_id"]
    else:  # nearest school in metres (shapely's tree: no scipy import in the second process)
        assert schools is not None  # the caller passes schools, zones or both
        crs = estimate_utm(schools)
        tree = shapely.STRtree(schools.to_crs(crs).geometry.to_numpy())
        pairs = tree.query_nearest(points.to_crs(crs).geometry.to_numpy(), all_matches=False)
        school = pd.Series(pd.NA, index=unique, dtype=object)  # no school: no area
        school.iloc[pairs[0]] = schools["school_id"].to_numpy()[pairs[1]]
    return cells.map(school)


def _roll(both: pd.DataFrame, offers: tuple[_Offers | None, _Offers | None],
          key: str) -> pd.DataFrame:
    """Sum the per-location changes by ``key`` and list entering/leaving providers."""
    table = both.groupby(key)[_COUNTS].sum()
    for kind in ("served", "fiber"):
        table[f"{kind}_share_old"] = table[f"{kind}_old"] / table["locations_old"].where(
            table["locations_old"] > 0)
        table[f"{kind}_share_new"] = table[f"{kind}_new"] / table["locations_new"].where(
            table["locations_new"] > 0)
        table[f"{kind}_share_change"] = table[f"{kind}_share_new"] - table[f"{kind}_share_old"]
    old_offers, new_offers = offers
    if old_offers is not None and new_offers is not None:
        # the area (row of ``table``) of each location of each release, by integer codes
        area = table.index.get_indexer(both[key])
        sets: list[pd.Series] = []
        names: dict[Any, str] = {}
        for offers_frame, side in ((old_offers, "old"), (new_offers, "new")):
            placed = _first_offers(offers_frame, area, both[f"_row_{side}"])
            placed = placed.assign(area=table.index[placed["area"]])
            names.update(zip(placed["provider_id"], placed["brand_name"], strict=True))
            sets.append(placed.groupby("area")["provider_id"].agg(set))
        old_sets, new_sets = (
            x.reindex(table.index).apply(lambda v: v if isinstance(v, set) else set())
            for x in sets)
        entering = [n - o for o, n in zip(old_sets, new_sets, strict=True)]
        leaving = [o - n for o, n in zip(old_sets, new_sets, strict=True)]
        table["providers_entering"] = [len(e) for e in entering]
        table["providers_leaving"] = [len(v) for v in leaving]
        table["providers_entering_names"] = [";".join(sorted({names[p] for p in e}))
                                             for e in entering]
        table["providers_leaving_names"] = [";".join(sorted({names[p] for p in v}))
                                            for v in leaving]
    return table.reset_index()


def _first_offers(offers: _Offers, area: np.ndarray, rows: pd.Series) -> pd.DataFrame:
    """Return the first offer (in row order) of each area x provider, with its area code."""
    known = rows.notna().to_numpy()
    loc_row = rows.to_numpy()[known].astype(np.int64)
    size = max(int(offers.row.max()) if len(offers.row) else -1,
               int(loc_row.max()) if len(loc_row) else -1) + 1
    where = np.full(size, -1, dtype=np.int64)
    where[loc_row] = area[known]
    code = where[offers.row]
    ok = np.flatnonzero(code >= 0)
    pair = code[ok] * max(len(offers.providers), 1) + offers.provider[ok]
    _, first = np.unique(pair, return_index=True)
    first = np.sort(ok[first])
    return pd.DataFrame({"area": code[first],
                         "provider_id": offers.provider_id.iloc[first].to_numpy(),
                         "brand_name": offers.brand_name.iloc[first].to_numpy()})


def release_change_report(
    old_service: pd.DataFrame,
    new_service: pd.DataFrame,
    *,
    tracts: gpd.GeoDataFrame | None = None,
    schools: gpd.GeoDataFrame | None = None,
    zones: gpd.GeoDataFrame | None = None,
    old_label: str = "previous release",
    new_label: str = "current release",
    rules: RulesLike = None,
) -> ReleaseChange:
    """Count what changed between two BDC releases per tract and per school area.

    Parameters
    ----------
    old_service, new_service : DataFrame
        BDC availability rows (``load_bdc``; provider changes included) or
        ``service_levels`` output (one row per location; no provider changes) of each release.
    tracts : GeoDataFrame, optional
        Tract polygons with ``GEOID``: the tract table becomes a map layer with every tract.
    schools : GeoDataFrame, optional
        School points with ``school_id`` and ``name`` (nearest-school areas).
    zones : GeoDataFrame, optional
        Attendance-zone polygons with ``school_id`` (used instead of nearest school).
    old_label, new_label : str
        Release names for the Markdown section (e.g. ``"June 2024"``).
    rules : str, mapping, RuleSet or None
        The rule set availability rows are classified under
        (:func:`assetmap.bdc.rules.rule_set`). None: ``"bead"``, or the set the
        ``service_levels`` frames were made with (another set raises ValueError).

    Returns
    -------
    ReleaseChange
        ``tracts`` (one row per tract, ``GEOID`` + the counts in the module docstring;
        a GeoDataFrame when ``tracts`` is given), ``schools`` (per school, or None),
        ``summary`` (county totals and the rule set's name) and ``markdown`` (a report
        section naming the rule set). The tables' reports hold the rule set
        (``report["rules"]``) and, per release of availability rows, its rows counted as
        every engine counts a file (``report["releases"]["old"]`` and ``["new"]``:
        ``rows_read``, ``checks``, ``rejected``, ``repaired``, ``filtered``; warnings name
        the release by its label).

    Examples
    --------
    >>> import pandas as pd
    >>> def release(level):
    ...     return pd.DataFrame({"location_id": ["1", "2"], "service_level": level,
    ...         "has_fiber": [False, False], "h3_res8_id": "8848d6d969fffff",
    ...         "block_geoid": "481350001001000"})
    >>> change = release_change_report(release(["underserved", "served"]),
    ...                                release(["served", "served"]))
    >>> change.summary["newly_served"], change.tracts["served_share_change"].tolist()
    (1, [0.5])
    """
    report = start_report(None, kind="release_change")
    levels = [f for f in (old_service, new_service) if "service_level" in f.columns]
    chosen = common.rules_of_levels(levels, rules, report) if levels else rule_set(rules)
    old_loc, old_offers, old_rows = _per_location(old_service, old_label, chosen)
    new_loc, new_offers, new_rows = _per_location(new_service, new_label, chosen)
    both = old_loc.assign(_row=np.arange(len(old_loc))).merge(
        new_loc.assign(_row=np.arange(len(new_loc))), on="location_id", how="outer",
        suffixes=("_old", "_new"))
    for col in ("block_geoid", "h3_res8_id"):
        both[col] = both[f"{col}_new"].fillna(both[f"{col}_old"])
    in_old, in_new = both["level_old"].notna(), both["level_new"].notna()
    both["GEOID"] = both["block_geoid"].astype(str).str[:11]
    both["locations_old"] = in_old.astype(int)
    both["locations_new"] = in_new.astype(int)
    both["served_old"] = (both["level_old"] == 2).astype(int)
    both["served_new"] = (both["level_new"] == 2).astype(int)
    fiber_old = both["has_fiber_old"].astype("boolean").fillna(False).astype(bool)
    fiber_new = both["has_fiber_new"].astype("boolean").fillna(False).astype(bool)
    both["fiber_old"] = fiber_old.astype(int)
    both["fiber_new"] = fiber_new.astype(int)
    served_old, served_new = both["level_old"] == 2, both["level_new"] == 2
    both["newly_served"] = (served_new & ~served_old).astype(int)
    both["lost_service"] = (served_old & ~served_new).astype(int)
    both["fiber_gained"] = (fiber_new & ~fiber_old).astype(int)
    both["fiber_lost"] = (fiber_old & ~fiber_new).astype(int)
    both["locations_added"] = (in_new & ~in_old).astype(int)
    both["locations_removed"] = (in_old & ~in_new).astype(int)
    tract_table = _roll(both, (old_offers, new_offers), "GEOID")
    if tracts is not None:
        layer = tracts[["GEOID", "geometry"]].to_crs(4326).merge(tract_table, on="GEOID",
                                                                 how="left")
        layer[_COUNTS] = layer[_COUNTS].fillna(0).astype(int)
        tract_table = layer
    school_table = None
    if schools is not None or zones is not None:
        both["school_id"] = _assign_schools(both["h3_res8_id"], schools, zones)
        school_table = _roll(both.dropna(subset=["school_id"]), (old_offers, new_offers),
                             "school_id")
        if schools is not None:
            info = schools[["school_id", "name", "geometry"]].to_crs(4326)
            school_table = info.merge(school_table, on="school_id", how="right")
    summary: dict[str, Any] = {c: int(both[c].sum()) for c in _COUNTS}
    summary.update(old_label=old_label, new_label=new_label, rules=chosen.name)
    sources, vintages, illustrative = merge_sources(old_service, new_service)
    report.update(sources=sources, vintages=vintages, illustrative=illustrative)
    common.add_release_rows(report, {"old": (old_rows, len(old_loc)),
                                     "new": (new_rows, len(new_loc))})
    common.note_rules(report, chosen)
    tract_table = attach_report(tract_table, report)
    if school_table is not None:
        school_table = attach_report(school_table, report)
    return ReleaseChange(tract_table, school_table, summary,
                         _markdown(summary, tract_table, school_table, illustrative, chosen))


def _markdown(summary: dict[str, Any], tracts: pd.DataFrame, schools: pd.DataFrame | None,
              illustrative: bool, rules: RuleSet) -> str:
    """Return a short report section: county totals and the tracts and schools that changed most."""
    def esc(text: object) -> str:
        return html.escape(str(text)).replace("|", "&#124;")

    old, new = esc(summary["old_label"]), esc(summary["new_label"])
    lines = [f"## What changed between the {old} and the {new}", ""]
    if illustrative:
        lines += ["*Illustrative data: not a statement about real service.*", ""]
    served = "/".join(f"{v:g}" for v in rules.served)
    lines += [f"*{esc(rules.describe())}*", ""]
    lines += [
        f"- Locations newly served at {served}: **{summary['newly_served']:,}**",
        f"- Locations that lost service: **{summary['lost_service']:,}**",
        (f"- Locations that gained fiber: **{summary['fiber_gained']:,}** "
         f"(lost fiber: {summary['fiber_lost']:,})"),
        (f"- Locations added to / removed from the Fabric: {summary['locations_added']:,} / "
         f"{summary['locations_removed']:,}"),
        "",
        "| tract | newly served | lost service | fiber gained | providers entering |",
        "|---|---:|---:|---:|---|",
    ]
    top = pd.DataFrame(tracts).sort_values("newly_served", ascending=False).head(5)
    for row in top.itertuples():
        names = esc(getattr(row, "providers_entering_names", "") or "")
        lines.append(f"| {esc(row.GEOID)} | {row.newly_served} | {row.lost_service} | "
                     f"{row.fiber_gained} | {names} |")
    if schools is not None and "name" in schools.columns:
        lines += ["", "| school | newly served | fiber gained |", "|---|---:|---:|"]
        for row in pd.DataFrame(schools).sort_values("newly_served",
                                                     ascending=False).head(5).itertuples():
            lines.append(f"| {esc(row.name)} | {row.newly_served} | {row.fiber_gained} |")
    return "\n".join(lines) + "\n"
