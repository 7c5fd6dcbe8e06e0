"""What providers claim against what families and speed tests report.

:func:`claims_vs_evidence` sets the FCC BDC service levels of each tract or H3 res-8 cell
(``service_by_area``) beside the aggregated speed tests (``aggregate_speedtests``) and the
aggregated, suppressed family survey (``read_survey``), and flags two contradictions:

* **claimed served, evidence says otherwise**: at least ``claim_share`` (default half) of the
  area's residential locations are served by the BDC claims, and either the tests fall below
  the underserved threshold (test-weighted mean download or upload below it, or
  ``share_below_25_3 >= slow_share``, default 0.5; only in an area with enough devices)
  or the survey reports the service is not available (``reason_not_available`` at least
  ``min_survey_reports`` households and at least ``survey_share`` of the responses, in a
  cell the survey publishes, i.e. not suppressed and with at least ``min_survey_responses``);
* **claimed unserved, tests show fast service**: more than ``claim_share`` of the locations
  are unserved, and most tests reach the served threshold (``share_at_100_20 >= slow_share``).

"Served" and the thresholds are those of one BEAD rule set (:mod:`assetmap.bdc.rules`): the
one the ``service`` frame was made with (``"bead"``: served at 100/20, underserved at 25/3;
the test columns keep those names whatever the set). Every result's report names it
(``report["rules"]``).

``evidence_strength`` (0-100, for ranking; not a probability):

=====================  ==========================================================
claimed served          60 x share_below_25_3 x min(1, devices / 100)
                        + 40 x survey_not_available_share x min(1, responses / 30)
claimed unserved        100 x share_at_100_20 x min(1, devices / 100)
not flagged             0
=====================  ==========================================================

(each line of evidence counts only where it is usable: enough devices, a published survey
cell). :func:`challenge_candidates` turns the flagged areas into a ranked list of census
blocks or H3 cells with the BDC claims involved. It lists areas only, never a location_id.
"""

from __future__ import annotations

from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from assetmap._report import attach_report, merge_sources, start_report
from assetmap.analysis._evidence_parts import mbps, rules_of, summaries, survey_cells
from assetmap.analysis.speedtests import h3_cell_polygons
from assetmap.bdc._common import recorded_rules, with_codes
from assetmap.bdc.rules import RulesLike, technology_name
from assetmap.errors import SchemaError

__all__ = ["challenge_candidates", "claims_vs_evidence"]
_SPEED_COLUMNS = ["tests", "devices", "too_few_tests", "down_mbps", "up_mbps",
                  "tests_below_25_3", "share_below_25_3", "tests_at_100_20", "share_at_100_20"]


def claims_vs_evidence(
    service: pd.DataFrame,
    *,
    speedtests: pd.DataFrame | None = None,
    survey: pd.DataFrame | None = None,
    level: Literal["tract", "h3"] = "tract",
    claim_share: float = 0.5,
    slow_share: float = 0.5,
    min_survey_responses: int = 10,
    min_survey_reports: int = 3,
    survey_share: float = 0.1,
    rules: RulesLike = None,
) -> pd.DataFrame:
    """Flag areas where BDC claims and evidence on the ground disagree, with the counts.

    Parameters
    ----------
    service : DataFrame
        ``service_by_area`` output at the same level: ``GEOID`` or ``h3_res8_id``,
        ``locations``, ``served``, ``unserved`` (shares are recomputed from the counts).
    speedtests : DataFrame, optional
        ``aggregate_speedtests`` output at the same level.
    survey : DataFrame, optional
        ``read_survey`` output keyed by tract ``GEOID`` (tract level only; suppressed cells
        and cells under ``min_survey_responses`` never count).
    level : {"tract", "h3"}
        The area.
    claim_share, slow_share, min_survey_responses, min_survey_reports, survey_share
        Thresholds, see the module docstring.
    rules : str, mapping, RuleSet or None
        The BEAD rule set (:func:`assetmap.bdc.rules.rule_set`). None: the one ``service``
        was made with (``"bead"`` if its report names none); a different set raises
        ValueError, and so do speed tests aggregated with other thresholds.

    Returns
    -------
    pandas.DataFrame
        One row per area of ``service``: the BDC counts and shares, ``claimed_served``,
        ``claimed_unserved``, the speed-test counts and means (``tests``, ``devices``,
        ``too_few_tests``, ``share_below_25_3``, ...), ``survey_responses``,
        ``survey_not_available``, ``survey_not_available_share``, ``evidence_tests_slow``,
        ``evidence_tests_fast``, ``evidence_survey_not_available``,
        ``flag_claimed_served_contradicted``, ``flag_claimed_unserved_contradicted``,
        ``evidence_strength`` and ``evidence_summary`` (text); the report names the rule
        set (``report["rules"]``).

    Examples
    --------
    >>> import pandas as pd
    >>> service = pd.DataFrame({"GEOID": ["48135000100"], "locations": [100],
    ...                         "served": [90], "unserved": [0]})
    >>> tests = pd.DataFrame({"GEOID": ["48135000100"], "tests": [40.0], "devices": [30.0],
    ...     "too_few_tests": [False], "down_mbps": [12.0], "up_mbps": [1.5],
    ...     "tests_below_25_3": [36.0], "share_below_25_3": [0.9],
    ...     "tests_at_100_20": [0.0], "share_at_100_20": [0.0]})
    >>> out = claims_vs_evidence(service, speedtests=tests)
    >>> bool(out["flag_claimed_served_contradicted"].iat[0]), float(out["evidence_strength"].iat[0])
    (True, 16.2)
    """
    if level not in {"tract", "h3"}:
        raise ValueError(f"level must be 'tract' or 'h3', got {level!r}")
    key = "GEOID" if level == "tract" else "h3_res8_id"
    chosen = rules_of(service, rules, "service")
    if speedtests is not None:
        tested = recorded_rules(speedtests)
        if tested is not None and (tested.served, tested.underserved) != (chosen.served,
                                                                           chosen.underserved):
            raise ValueError(f"the speed tests were counted at the thresholds of rule set "
                             f"{tested.name!r}, the claims under {chosen.name!r}; aggregate the "
                             f"tests with rules={chosen.name!r}")
    (under_down, under_up) = chosen.underserved
    missing = [c for c in (key, "locations", "served", "unserved") if c not in service.columns]
    if missing:
        raise SchemaError(f"service frame lacks {missing}; expected service_by_area("
                          f"level={level!r}) output")
    keep = [c for c in (key, "locations", "served", "underserved", "unserved", "fiber_share")
            if c in service.columns]
    out = pd.DataFrame(service[keep]).copy()
    out[key] = out[key].astype(str)
    locations = out["locations"].astype("float64")
    out["served_share"] = (out["served"] / locations.where(locations > 0)).astype("float64")
    out["unserved_share"] = (out["unserved"] / locations.where(locations > 0)).astype("float64")
    out["claimed_served"] = out["served_share"].fillna(0) >= claim_share
    out["claimed_unserved"] = out["unserved_share"].fillna(0) > claim_share
    if speedtests is not None:
        if "too_few_tests" not in speedtests.columns or key not in speedtests.columns:
            raise SchemaError(f"speedtests must be aggregate_speedtests(level={level!r}) "
                              f"output (with {key!r} and 'too_few_tests'), not raw tests")
        speed = pd.DataFrame(speedtests[[key, *[c for c in _SPEED_COLUMNS
                                                if c in speedtests.columns]]])
        out = out.merge(speed.assign(**{key: speed[key].astype(str)}), on=key, how="left")
    for col in _SPEED_COLUMNS:
        if col not in out.columns:
            out[col] = np.nan
    out["tests"] = out["tests"].fillna(0.0)
    out["devices"] = out["devices"].fillna(0.0)
    out["too_few_tests"] = out["too_few_tests"].astype("boolean").fillna(True).astype(bool)
    notes = []
    if survey is not None and level == "tract":
        cells = survey_cells(survey, min_responses=min_survey_responses)
        out = out.merge(cells, on="GEOID", how="left")
        notes.append(f"survey cells count only when published (not suppressed, at least "
                     f"{min_survey_responses} responses)")
    else:
        if survey is not None:
            notes.append("survey ignored at the H3 level: it is published by tract only")
        out["survey_usable"] = False
        out["survey_responses"] = np.nan
        out["survey_not_available"] = np.nan
    out["survey_usable"] = out["survey_usable"].astype("boolean").fillna(False).astype(bool)
    out["survey_not_available_share"] = out["survey_not_available"] / out["survey_responses"]
    usable_tests = ~out["too_few_tests"]
    out["evidence_tests_slow"] = usable_tests & (
        (out["share_below_25_3"].fillna(0) >= slow_share)
        | (out["down_mbps"] < under_down) | (out["up_mbps"] < under_up))
    out["evidence_tests_fast"] = usable_tests & (out["share_at_100_20"].fillna(0) >= slow_share)
    out["evidence_survey_not_available"] = out["survey_usable"] & (
        out["survey_not_available"].fillna(0) >= min_survey_reports) & (
        out["survey_not_available_share"].fillna(0) >= survey_share)
    out["flag_claimed_served_contradicted"] = out["claimed_served"] & (
        out["evidence_tests_slow"] | out["evidence_survey_not_available"])
    out["flag_claimed_unserved_contradicted"] = out["claimed_unserved"] & out[
        "evidence_tests_fast"]
    device_factor = np.minimum(1.0, out["devices"] / 100.0).where(usable_tests, 0.0)
    survey_factor = np.minimum(1.0, out["survey_responses"].fillna(0) / 30.0)
    served_strength = 60 * out["share_below_25_3"].fillna(0) * device_factor + 40 * out[
        "survey_not_available_share"].fillna(0) * survey_factor
    unserved_strength = 100 * out["share_at_100_20"].fillna(0) * device_factor
    out["evidence_strength"] = np.where(
        out["flag_claimed_served_contradicted"], served_strength,
        np.where(out["flag_claimed_unserved_contradicted"], unserved_strength, 0.0),
    ).round(1)
    out["evidence_summary"] = summaries(out, chosen)
    sources, vintages, illustrative = merge_sources(service, speedtests, survey)
    report = start_report(None, kind=f"claims_vs_evidence_{level}", rows_read=len(service),
                          sources=sources, vintages=vintages, illustrative=illustrative)
    report["notes"].extend([*notes, (
        f"evidence_strength: 60 x share of tests below {mbps(chosen.underserved)} x min(1, "
        "devices/100) + 40 x survey not-available share x min(1, responses/30); reverse flag: "
        f"100 x share at {mbps(chosen.served)} x device factor")])
    report["rules"] = chosen.as_dict()
    report["definition"] = chosen.describe()
    return attach_report(out.reset_index(drop=True), report)


def challenge_candidates(
    avail: pd.DataFrame,
    evidence: pd.DataFrame,
    *,
    level: Literal["block", "h3"] = "block",
    top: int | None = None,
    rules: RulesLike = None,
) -> gpd.GeoDataFrame:
    """Rank census blocks or H3 cells for an FCC availability challenge.

    Each area inside a flagged ``claims_vs_evidence`` area (claimed served, evidence says
    otherwise) is listed with every BDC claim that makes its residential locations served
    under the rule set: a reliable technology (with low latency if the set requires it) at its
    served threshold or more. One row per area x provider x brand x technology. Areas are
    ranked by ``evidence_strength``, then by the locations claimed. No location_id leaves
    this function: a district looks the locations of a listed area up on the National
    Broadband Map when it files (docs/challenges.md).

    Parameters
    ----------
    avail : DataFrame
        BDC availability rows (``load_bdc``), location level.
    evidence : DataFrame
        ``claims_vs_evidence`` output (tract or H3 level).
    level : {"block", "h3"}
        The area listed: census block (``block_geoid``) or H3 res-8 cell.
    top : int, optional
        Keep the ``top`` highest-ranked areas.
    rules : str, mapping, RuleSet or None
        The BEAD rule set (:func:`assetmap.bdc.rules.rule_set`). None: the one ``evidence``
        was made with (``"bead"`` if its report names none); a different set raises
        ValueError.

    Returns
    -------
    geopandas.GeoDataFrame
        ``rank, area_type, area_id, GEOID, provider_id, frn, brand_name, technology,
        technology_name, claimed_down_mbps, claimed_up_mbps, locations_claimed,
        locations_in_area, evidence_area, evidence_strength, tests, devices,
        tests_below_25_3, share_below_25_3, survey_responses, survey_not_available,
        evidence_summary, geometry`` (the H3 cell, or the union of the H3 cells of a block's
        locations; EPSG:4326); the report names the rule set (``report["rules"]``).

    Examples
    --------
    >>> import pandas as pd
    >>> avail = pd.DataFrame({"frn": ["0001"], "provider_id": ["1"], "brand_name": ["Net"],
    ...     "location_id": ["9"], "technology": [40], "max_advertised_download_speed": [300],
    ...     "max_advertised_upload_speed": [20], "low_latency": [1],
    ...     "business_residential_code": ["R"], "state_usps": ["TX"],
    ...     "block_geoid": ["481350001001000"], "h3_res8_id": ["8848d6d969fffff"]})
    >>> ev = pd.DataFrame({"GEOID": ["48135000100"], "flag_claimed_served_contradicted": [True],
    ...     "evidence_strength": [50.0]})
    >>> challenge_candidates(avail, ev)[["rank", "area_id", "brand_name"]].to_dict("records")
    [{'rank': 1, 'area_id': '481350001001000', 'brand_name': 'Net'}]
    """
    if level not in {"block", "h3"}:
        raise ValueError(f"level must be 'block' or 'h3', got {level!r}")
    chosen = rules_of(evidence, rules, "evidence")
    need = ["provider_id", "frn", "brand_name", "location_id", "technology",
            "max_advertised_download_speed", "max_advertised_upload_speed", "low_latency",
            "business_residential_code", "block_geoid", "h3_res8_id"]
    missing = [c for c in need if c not in avail.columns]
    if missing:
        raise SchemaError(f"availability frame lacks BDC columns {missing}")
    ev_key = "GEOID" if "GEOID" in evidence.columns else "h3_res8_id"
    if ev_key not in evidence.columns or "flag_claimed_served_contradicted" not in evidence:
        raise SchemaError("evidence must be claims_vs_evidence output")
    flagged = pd.DataFrame(evidence.loc[evidence["flag_claimed_served_contradicted"].astype(
        bool)]).copy()
    flagged = flagged.assign(evidence_area=flagged[ev_key].astype(str))
    rows = pd.DataFrame(avail[need])
    rows = with_codes(rows)  # residential: R and X, upper-cased and trimmed
    tech = pd.to_numeric(rows["technology"], errors="coerce")
    reliable = tech.isin(list(chosen.reliable_technologies))
    if chosen.low_latency_required:
        reliable &= pd.to_numeric(rows["low_latency"]) == 1
    served_claim = (reliable & (
        pd.to_numeric(rows["max_advertised_download_speed"]) >= chosen.served[0]) & (
        pd.to_numeric(rows["max_advertised_upload_speed"]) >= chosen.served[1])).to_numpy()
    # only the served claims in flagged evidence areas, and the rows of their areas, are
    # needed below: find them on integer codes (text is derived once per distinct value)
    source, values = pd.factorize(rows["block_geoid" if ev_key == "GEOID" else "h3_res8_id"],
                                  use_na_sentinel=False)
    text = pd.Series(values).astype(str)
    text = text.str[:11] if ev_key == "GEOID" else text
    claimed = served_claim & text.isin(flagged["evidence_area"]).to_numpy()[source]
    area_code, _ = pd.factorize(rows["block_geoid" if level == "block" else "h3_res8_id"],
                                use_na_sentinel=False)
    in_claimed_area = np.isin(area_code, np.unique(area_code[claimed]))

    def with_areas(part: pd.DataFrame) -> pd.DataFrame:
        return part.assign(evidence_area=part["block_geoid"].astype(str).str[:11]
                           if ev_key == "GEOID" else part["h3_res8_id"].astype(str),
                           GEOID=part["block_geoid"].astype(str).str[:11],
                           area_id=part["block_geoid" if level == "block" else "h3_res8_id"]
                           .astype(str))

    area_rows = with_areas(rows[in_claimed_area])
    in_area = area_rows.groupby("area_id")["location_id"].nunique().rename("locations_in_area")
    cells_of = area_rows.groupby("area_id")["h3_res8_id"].unique()
    claims = with_areas(rows[claimed]).merge(
        flagged.drop(columns=[c for c in ("GEOID", "h3_res8_id") if c in flagged]),
        on="evidence_area", how="inner")
    # an area spanning several evidence areas (a block over two H3 cells) takes the strongest
    strength = claims.groupby("area_id")["evidence_strength"].max().rename("_area_strength")
    claims = claims.merge(strength, on="area_id")
    claims = claims[claims["evidence_strength"] == claims["_area_strength"]]
    group = ["area_id", "provider_id", "frn", "brand_name", "technology"]
    firsts = {c: (c, "first") for c in ("GEOID", "evidence_area", "evidence_strength", "tests",
                                        "devices", "tests_below_25_3", "share_below_25_3",
                                        "survey_responses", "survey_not_available",
                                        "evidence_summary") if c in claims.columns}
    table = claims.groupby(group, as_index=False).agg(
        claimed_down_mbps=("max_advertised_download_speed", "max"),
        claimed_up_mbps=("max_advertised_upload_speed", "max"),
        locations_claimed=("location_id", "nunique"), **firsts)
    table = table.merge(in_area, left_on="area_id", right_index=True)
    order = table.groupby("area_id").agg(s=("evidence_strength", "max"),
                                         n=("locations_in_area", "max")).sort_values(
        ["s", "n"], ascending=[False, False], kind="stable")
    order["rank"] = np.arange(1, len(order) + 1)
    if top is not None:
        order = order.iloc[:top]
    table = table.merge(order[["rank"]], left_on="area_id", right_index=True)
    table = table.sort_values(["rank", "brand_name", "technology"], kind="stable")
    table["technology"] = pd.to_numeric(table["technology"]).astype("int16")
    table["technology_name"] = table["technology"].map(technology_name)
    table.insert(1, "area_type", level)
    columns = ["rank", "area_type", "area_id", "GEOID", "provider_id", "frn", "brand_name",
               "technology", "technology_name", "claimed_down_mbps", "claimed_up_mbps",
               "locations_claimed", "locations_in_area", "evidence_area", "evidence_strength",
               "tests", "devices", "tests_below_25_3", "share_below_25_3", "survey_responses",
               "survey_not_available", "evidence_summary"]
    table = table[[c for c in columns if c in table.columns]].reset_index(drop=True)
    geometry = [shapely.union_all(h3_cell_polygons(cells_of[a])) for a in table["area_id"]]
    sources, vintages, illustrative = merge_sources(avail, evidence)
    report = start_report(None, kind=f"challenge_candidates_{level}", rows_read=len(avail),
                          sources=sources, vintages=vintages, illustrative=illustrative)
    report["notes"].append("areas only: no location_id or household point is listed")
    report["rules"] = chosen.as_dict()
    report["definition"] = chosen.describe()
    return attach_report(gpd.GeoDataFrame(table, geometry=geometry, crs=4326), report)
