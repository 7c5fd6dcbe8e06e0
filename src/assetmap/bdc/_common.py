"""What the BDC service engines share: area keys, row checks, the area table, the rule set.

Used by :mod:`assetmap.bdc.levels` (frames), :mod:`assetmap.bdc.aggregate` (files),
:mod:`assetmap.bdc.compare` (releases) and :mod:`assetmap.bdc.service_dask` (Dask), so that
each computes the same columns, counts the same checks and names its rule set in its report
the same way: ``report["rules"]`` is :meth:`RuleSet.as_dict` and ``report["definition"]``
is :meth:`RuleSet.describe`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from assetmap._report import count_reject, count_repair, get_report
from assetmap.bdc import _engine as eng
from assetmap.bdc import _sql as bead
from assetmap.bdc._checks import BLANKS
from assetmap.bdc._frame_numbers import typed_frame
from assetmap.bdc._schema import NUMERIC, RESIDENTIAL_CODES
from assetmap.bdc.rules import REQUIRED_KEYS, RuleSet, RulesLike, available_rule_sets, rule_set
from assetmap.errors import RepairWarning, SchemaError

if TYPE_CHECKING:  # connections come from _engine.connect, which imports DuckDB
    import duckdb

Level = Literal["tract", "block_group", "county", "h3"]
AREA_COLUMNS = [
    "locations", "unserved", "underserved", "served", "unserved_share", "underserved_share",
    "served_share", "fiber_locations", "fiber_share", "providers", "providers_100_20",
    "satellite_only", "unlicensed_fw_only", "tech_copper_share", "tech_cable_share",
    "tech_fiber_share", "tech_licensed_fw_share", "tech_unlicensed_fw_share",
    "tech_satellite_share",
]
#: the service_levels column of each technology group counted per area
TECH_COLUMNS = {group: f"has_{group}" for group in bead.TECH_BITS}
SUM_COLUMNS = ["locations", "unserved", "underserved", "served", "providers_100_20_sum",
               "satellite_only", "unlicensed_fw_only", *(f"n_{t}" for t in bead.TECH_BITS)]
SPEEDS = ("max_advertised_download_speed", "max_advertised_upload_speed")


def check_level(level: str) -> str:
    """Return the SQL area expression of ``level`` (ValueError naming the allowed values)."""
    if level not in bead.AREA_EXPR:
        raise ValueError(f"level must be one of {list(bead.AREA_EXPR)}, got {level!r}")
    return bead.AREA_EXPR[level]


def area_key(level: str) -> str:
    """Return the key column of the area table of ``level``."""
    return "h3_res8_id" if level == "h3" else "GEOID"


def need_columns(avail: pd.DataFrame) -> None:
    """Raise SchemaError when a BDC column is missing from an availability frame."""
    missing = [c for c in eng.BDC_COLUMNS if c not in avail.columns]
    if missing:
        raise SchemaError(f"availability frame: missing BDC column(s) {missing}")


def integral_speeds(avail: pd.DataFrame) -> bool:
    """Whether the frame stores both speeds as integers (best speeds are then int32)."""
    return all(pd.api.types.is_integer_dtype(avail[c]) for c in SPEEDS)


def frame_rows(con: duckdb.DuckDBPyConnection, avail: pd.DataFrame, codes,
               name: str = "avail_frame") -> str:
    """Register a frame and return SQL for its checked rows (numbers as DOUBLE, exact).

    Number columns held as text are read as :func:`~assetmap.bdc._frame_numbers.typed_frame`
    reads them (an error names the row and column of a value that is not a number, or is
    out of range; quotes in a number's field are a counted repair). Every row gets
    its check code (:func:`assetmap.bdc._checks.checked_sql`): a row outside
    ``codes`` (compared upper-cased and trimmed) that passed the checks gets the filter's
    code, so that the counts cover every row of the frame; ``_check <= 1`` are the rows to use.
    """
    need_columns(avail)
    con.register(name, typed_frame(avail, eng.BDC_COLUMNS))  # text that is no number: named
    types = eng.BDC_TYPES | dict.fromkeys(NUMERIC, "DOUBLE")  # codes too: never rounded
    typed = ", ".join(f"CAST({c} AS {types[c]}) AS {c}" for c in eng.BDC_COLUMNS)
    return eng.checked_sql(f"SELECT {typed}, _fixed FROM {name}",
                           selection=eng.row_selection(codes=codes))


def empty_sums() -> pd.DataFrame:
    """Return an area-sums frame with no area."""
    return pd.DataFrame(columns=["area", *SUM_COLUMNS])


def provider_pairs(areas: pd.DataFrame) -> pd.DataFrame:
    """Return the (area, provider) pairs of area rows with a ``provider_ids`` list each.

    A missing list (an area whose pairs query found none) gives no pair; ``_check`` is 0.

    Examples
    --------
    >>> provider_pairs(pd.DataFrame({"area": ["a", "b"], "provider_ids": [["1", "2"], None]}))
      area provider_id  _check
    0    a           1       0
    1    a           2       0
    """
    lists = [x if isinstance(x, list | np.ndarray) else [] for x in areas["provider_ids"]]
    lengths = np.fromiter((len(x) for x in lists), dtype="int64", count=len(lists))
    ids = (np.concatenate([np.asarray(x, dtype=object) for x in lists]) if lengths.sum()
           else np.zeros(0, dtype=object))
    return pd.DataFrame({"area": np.repeat(areas["area"].to_numpy(), lengths),
                         "provider_id": ids}).assign(_check=0)


#: an H3 cell written otherwise than the FCC writes it, repaired (counted in locations)
H3_REPAIR = ("h3_res8_id in capitals or with spaces around it; lower-cased and trimmed "
             "(locations)")


def finish_area(sums: pd.DataFrame, pairs: pd.DataFrame, *, key: str,
                report: dict[str, Any] | None = None) -> pd.DataFrame:
    """Shares and distinct providers from summed counts and (area, provider) pairs.

    With ``key="h3_res8_id"`` and a ``report``, H3 cells written in capitals or with spaces
    around them are first written as the FCC writes them (:func:`canonical_h3`), so that
    ``8848A2D8C9FFFFF`` and ``8848a2d8c9fffff`` are one area; the locations so repaired are
    counted (``report["repaired"]``, a ``RepairWarning``).
    """
    if key == "h3_res8_id" and report is not None:
        sums, changed = canonical_h3(sums)
        pairs, _ = canonical_h3(pairs)
        count_repair(report, H3_REPAIR, int(sums.loc[changed, "locations"].sum()))
    sums = sums.groupby("area", sort=True)[SUM_COLUMNS].sum()
    ok = pairs[pairs["_check"] <= 1]
    providers = ok.drop_duplicates(["area", "provider_id"]).groupby("area").size()
    out = pd.DataFrame(index=sums.index)
    n = sums["locations"].astype("int64")
    for c in ("locations", "unserved", "underserved", "served"):
        out[c] = sums[c].astype("int64")
    for c in ("unserved", "underserved", "served"):
        out[f"{c}_share"] = sums[c] / n
    out["fiber_locations"] = sums["n_fiber"].astype("int64")
    out["fiber_share"] = sums["n_fiber"] / n
    out["providers"] = providers.reindex(out.index).fillna(0).astype("int64")
    out["providers_100_20"] = sums["providers_100_20_sum"] / n
    out["satellite_only"] = sums["satellite_only"].astype("int64")
    out["unlicensed_fw_only"] = sums["unlicensed_fw_only"].astype("int64")
    for t in bead.TECH_BITS:
        out[f"tech_{t}_share"] = sums[f"n_{t}"] / n
    out.index = out.index.astype(object).astype("str")
    out.index.name = key
    return out.reset_index()[[key, *AREA_COLUMNS]]


def canonical_cells(levels: pd.DataFrame, report: dict[str, Any]) -> pd.DataFrame:
    """Return a :func:`assetmap.service_levels` frame with its H3 cells as the FCC writes them.

    A location's ``h3_res8_id`` written in capitals or with spaces around it is lower-cased
    and trimmed, as the areas of every engine key it; the locations so repaired are counted
    in ``report`` (:data:`H3_REPAIR`, a ``RepairWarning``). ``levels`` is not changed.

    Examples
    --------
    >>> from assetmap._report import start_report
    >>> report = start_report(None, kind="demo", rows_read=2)
    >>> levels = pd.DataFrame({"h3_res8_id": [" 8848A2D8C9FFFFF", "8848a2d8c9fffff"]})
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     canonical_cells(levels, report)["h3_res8_id"].tolist()
    ['8848a2d8c9fffff', '8848a2d8c9fffff']
    >>> report["repaired"]
    {'h3_res8_id in capitals or with spaces around it; lower-cased and trimmed (locations)': 1}
    """
    fixed, changed = _fcc_cells(levels["h3_res8_id"])
    if not changed.any():
        return levels
    count_repair(report, H3_REPAIR, int(changed.sum()))
    return levels.assign(h3_res8_id=fixed)


def canonical_h3(frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Return ``frame`` with its ``area`` H3 cells lower-cased and trimmed, and which changed.

    Examples
    --------
    >>> cells = pd.DataFrame({"area": pd.Series([" 8848A2D8C9FFFFF", "8848a2d8c9fffff",
    ...                                          pd.NA], dtype=object)})  # as from Dask
    >>> fixed, changed = canonical_h3(cells)
    >>> fixed["area"].tolist(), changed.tolist()
    (['8848a2d8c9fffff', '8848a2d8c9fffff', <NA>], [True, False, False])
    """
    fixed, changed = _fcc_cells(frame["area"])
    return (frame.assign(area=fixed) if changed.any() else frame), changed


def _fcc_cells(cells: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Return H3 cells lower-cased and trimmed as the FCC writes them, and which changed.

    A missing value (NULL, NaN, NA) is no cell and stays as it is.
    """
    text = cells.astype("string")
    fixed = text.str.strip(BLANKS).str.lower()
    changed = (fixed != text).to_numpy(dtype=bool, na_value=False)
    return (cells.where(~changed, fixed) if changed.any() else cells), changed


def with_codes(rows: pd.DataFrame, codes: Sequence[str] = RESIDENTIAL_CODES) -> pd.DataFrame:
    """Return the rows whose ``business_residential_code`` is one of ``codes``.

    Codes are compared upper-cased and trimmed; by default the residential codes, R and X.

    Examples
    --------
    >>> rows = pd.DataFrame({"business_residential_code": ["R", " x", "B", None]})
    >>> with_codes(rows).index.tolist()
    [0, 1]
    """
    written = rows["business_residential_code"].astype("string")
    chosen = written.str.strip(BLANKS).str.upper().isin(list(codes)).fillna(False)
    return rows.loc[chosen.to_numpy(dtype=bool)]


def check_keys(out: pd.DataFrame, key: str, level: str, report: dict[str, Any]) -> pd.DataFrame:
    """Reject areas whose key is not well formed (non-digit GEOID, unknown state)."""
    keys = out[key].astype(str)
    if level == "h3":
        bad = ~keys.str.fullmatch(r"[0-9a-f]{15}")
        reason = "h3_res8_id is not 15 hexadecimal characters"
    else:
        from assetmap.geoid import _states

        bad = ~keys.str.fullmatch(r"[0-9]+") | ~keys.str[:2].isin(set(_states()[1]))
        reason = "block_geoid is not digits starting with a state FIPS code"
    if bad.any():
        count_reject(report, f"{reason} (locations)", int(out.loc[bad, "locations"].sum()))
        out = out.loc[~bad].reset_index(drop=True)
    return out


def close_report(report: dict[str, Any], out: pd.DataFrame, *, level: str, split: int,
                 rules: RuleSet) -> pd.DataFrame:
    """End the report of an aggregation of files; return the areas whose key is well formed.

    After :func:`assetmap.bdc._counts.tally` has counted the rows read: areas with a bad
    key rejected (:func:`check_keys`), locations with rows in two areas noted
    (:func:`note_split`), the rule set named (:func:`note_rules`), and ``rows_out`` and
    ``merged`` (rows folded into another row of their location) set, so that ``rows_read ==
    rows_out + sum(rejected) + sum(filtered) + merged``. Every engine of
    :func:`assetmap.aggregate_bdc`, and the Dask path, ends its report here.
    """
    out = check_keys(out, area_key(level), level, report)
    note_split(report, split, level)
    note_rules(report, rules)
    report.update(level=level, rows_out=len(out))
    note_merged(report, len(out))
    report["notes"].append("exact duplicate rows do not change the aggregation (it takes "
                           "maxima and distinct values) and are not counted here")
    return out


def note_merged(report: dict[str, Any], rows_out: int) -> None:
    """Set ``report["merged"]``: the rows read that are neither out, rejected nor filtered.

    Rows folded into another row of their location or area, so that ``rows_read ==
    rows_out + sum(rejected) + sum(filtered) + merged``.
    """
    report["merged"] = max(0, report["rows_read"] - sum(report["rejected"].values())
                           - sum(report.get("filtered", {}).values()) - rows_out)


def add_release_rows(report: dict[str, Any],
                     releases: dict[str, tuple[dict[str, Any] | None, int]]) -> None:
    """Add up two releases' row counts into ``report``; keep each one's under ``releases``.

    ``releases`` maps ``"old"`` and ``"new"`` to (the release's own report of its rows, from
    :func:`assetmap.bdc._counts.tally`, or None for a :func:`service_levels` frame; that
    frame's locations, counted as its rows). ``rows_read``, ``rejected``, ``repaired`` and
    ``filtered`` become the sums.
    """
    report["rows_read"] = 0
    report["filtered"] = {}
    report["releases"] = {}
    for side, (own, locations) in releases.items():
        if own is None:
            report["rows_read"] += locations
            continue
        report["releases"][side] = {k: own[k] for k in ("source", "rows_read", "checks",
                                                        "rejected", "repaired", "filtered")}
        report["rows_read"] += own["rows_read"]
        for part in ("rejected", "repaired", "filtered"):
            for reason, n in own[part].items():
                report[part][reason] = report[part].get(reason, 0) + n


def note_split(report: dict[str, Any], split: int, level: str) -> None:
    """Count and warn about locations with rows in more than one area (``split``).

    Such a location (not found in an FCC release, where each lies in one block) is counted
    once, with its providers, in the smallest of its areas: the area of its smallest block
    GEOID (at ``level="h3"``, its smallest H3 cell). ``report["split_locations"]`` holds the
    count; a :class:`~assetmap.errors.RepairWarning` says it.

    Examples
    --------
    >>> import warnings
    >>> report = {"source": "a.csv", "notes": []}
    >>> with warnings.catch_warnings(record=True) as seen:
    ...     warnings.simplefilter("always")
    ...     note_split(report, 2, "tract")
    >>> report["split_locations"], str(seen[0].message)[:55]
    (2, 'a.csv: 2 locations have rows in more than one tract; ea')
    """
    report["split_locations"] = report.get("split_locations", 0) + int(split)
    if split <= 0:
        return
    some = "1 location has" if split == 1 else f"{split} locations have"
    text = (f"{some} rows in more than one {level.replace('_', ' ')}; each is counted once, "
            f"with its providers, in the smallest of its areas (its smallest "
            f"{'H3 cell' if level == 'h3' else 'block GEOID'})")
    report["notes"].append(text)
    warnings.warn(f"{report.get('source') or report.get('kind')}: {text}", RepairWarning,
                  stacklevel=3)


def note_rules(report: dict[str, Any], rules: RuleSet) -> None:
    """Name the rule set in a report: its definition as data and as one sentence."""
    report["rules"] = rules.as_dict()
    report["definition"] = rules.describe()


def _definition(rules: RuleSet) -> tuple[Any, ...]:
    return (rules.reliable_technologies, rules.low_latency_required, rules.served,
            rules.underserved)


def recorded_rules(frame: pd.DataFrame) -> RuleSet | None:
    """Return the rule set named in a frame's report (``report["rules"]``), or None."""
    data = get_report(frame).get("rules")
    if not isinstance(data, dict):
        return None
    found = rule_set({k: data[k] for k in (*REQUIRED_KEYS, "name") if k in data})
    named = available_rule_sets().get(found.name)
    return named if named is not None and _definition(named) == _definition(found) else found


def rules_of_levels(frames: list[pd.DataFrame], rules: RulesLike,
                    report: dict[str, Any]) -> RuleSet:
    """Return the rule set of ``service_levels`` frames, checked against ``rules``.

    A frame of :func:`assetmap.service_levels` was classified under one rule set, named in its
    report; it cannot be classified again. None takes that set (``"bead"`` when a frame does
    not record one, with a note); a different set raises ValueError.
    """
    recorded = [r for r in (recorded_rules(f) for f in frames) if r is not None]
    wanted = None if rules is None else rule_set(rules)
    for r in recorded:
        if _definition(r) != _definition(recorded[0]):
            raise ValueError(f"the service_levels frames were made under different rule sets "
                             f"({recorded[0].name!r} and {r.name!r}); make both with one set")
        if wanted is not None and _definition(r) != _definition(wanted):
            raise ValueError(
                f"this service_levels frame was made under rule set {r.name!r}, not "
                f"{wanted.name!r}; pass rules={r.name!r} (or None), or classify the "
                "availability rows again with service_levels(rows, rules=...)")
    if recorded:
        return recorded[0] if wanted is None else wanted
    chosen = rule_set(rules)
    report["notes"].append(f"the service_levels frame does not name its rule set; taken as "
                           f"{chosen.name!r}")
    return chosen
