"""The inputs of the evidence ranking: the rule set, the survey cells, the summary text.

Helpers of :mod:`assetmap.analysis.evidence`: which BEAD rule set a frame was made with
(:func:`rules_of`), which survey cells may count (:func:`survey_cells`), and the one-line
summary of the counts behind each flag (:func:`summaries`).
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from assetmap._i18n import messages
from assetmap._report import get_report
from assetmap.bdc._common import recorded_rules
from assetmap.bdc.rules import RuleSet, RulesLike, rule_set
from assetmap.errors import PrivacyError, SchemaError

_HOUSEHOLD_COLUMNS = {"latitude", "longitude", "lat", "lon", "address", "street",
                      "household_id", "student_id", "respondent_id", "email", "phone"}


def mbps(pair: tuple[float, float]) -> str:
    """Return a (download, upload) threshold as text, e.g. ``"25/3"``."""
    return "/".join(f"{v:g}" for v in pair)


def rules_of(frame: pd.DataFrame | None, rules: RulesLike, what: str) -> RuleSet:
    """Return ``rules`` if given, else the set named in ``frame``'s report, else "bead".

    A set given that differs from the one the frame was made with raises ValueError.
    """
    recorded = None if frame is None else recorded_rules(frame)
    if rules is None:
        return recorded if recorded is not None else rule_set(None)
    chosen = rule_set(rules)
    if recorded is not None and (recorded.reliable_technologies, recorded.low_latency_required,
                                 recorded.served, recorded.underserved) != (
            chosen.reliable_technologies, chosen.low_latency_required, chosen.served,
            chosen.underserved):
        raise ValueError(f"the {what} frame was made under rule set {recorded.name!r}, not "
                         f"{chosen.name!r}; pass rules={recorded.name!r} (or None), or make it "
                         "again with the rule set wanted")
    return chosen


def survey_cells(survey: pd.DataFrame, *, min_responses: int) -> pd.DataFrame:
    """Return the survey's usable cells (GEOID, responses, not-available count).

    A cell counts only when the survey publishes it: not suppressed, counts present, and at
    least ``min_responses`` responses. Household-level input is refused.
    """
    lowered = {str(c).lower() for c in survey.columns}
    if lowered & _HOUSEHOLD_COLUMNS or (
        isinstance(survey, gpd.GeoDataFrame)
        and (survey.geometry.geom_type == "Point").any()
    ):
        raise PrivacyError(
            "the survey frame has household-level columns or points; pass the aggregated, "
            "suppressed frame from read_survey() (one row per area)"
        )
    missing = [c for c in ("GEOID", "responses", "reason_not_available", "suppressed")
               if c not in survey.columns]
    if missing:
        raise SchemaError(f"survey frame lacks {missing}; expected read_survey() output")
    if survey["GEOID"].duplicated().any():
        raise PrivacyError("the survey frame has several rows per GEOID; pass one aggregated "
                           "row per area (read_survey output)")
    report = get_report(survey)
    for name in ("min_cell", "min_cell_size", "suppression_threshold", "min_responses"):
        if isinstance(report.get(name), int | float):
            min_responses = max(min_responses, int(report[name]))
    responses = pd.to_numeric(survey["responses"], errors="coerce")
    reports = pd.to_numeric(survey["reason_not_available"], errors="coerce")
    usable = (~survey["suppressed"].astype(bool)) & responses.notna() & reports.notna() & (
        responses >= min_responses)
    return pd.DataFrame({
        "GEOID": survey["GEOID"].astype(str), "survey_usable": usable.to_numpy(),
        "survey_responses": responses.where(usable).to_numpy(),
        "survey_not_available": reports.where(usable).to_numpy(),
    })


def summaries(out: pd.DataFrame, rules: RuleSet, *, language: object = "en") -> list[str]:
    """Return one line per area saying which counts stand behind its flag.

    The outputs call it again in the reader's language (the counts are columns of ``out``).
    """
    _ = messages(language)
    below, at = mbps(rules.underserved), mbps(rules.served)
    parts = []
    tests = out["tests"].round().astype(int)
    devices = out["devices"].round().astype(int)
    slow = out["tests_below_25_3"].round().fillna(-1).astype(int)
    fast = out["tests_at_100_20"].round().fillna(-1).astype(int)
    na = out["survey_not_available"].fillna(-1).astype(int)
    resp = out["survey_responses"].fillna(-1).astype(int)
    for i in range(len(out)):
        text = []
        if out["tests"].iat[i] > 0:
            if out["too_few_tests"].iat[i]:
                text.append(_("{tests} tests from {devices} devices: too few",
                              tests=_.number(tests.iat[i]), devices=_.number(devices.iat[i])))
            else:
                text.append(_("{slow} of {tests} tests ({devices} devices) below {below}, "
                              "{fast} at {at}", slow=_.number(slow.iat[i]),
                              tests=_.number(tests.iat[i]), devices=_.number(devices.iat[i]),
                              below=below, fast=_.number(fast.iat[i]), at=at))
        if out["survey_usable"].iat[i]:
            text.append(_("{count} of {responses} survey responses: not available",
                          count=_.number(na.iat[i]), responses=_.number(resp.iat[i])))
        parts.append("; ".join(text))
    return parts


#: The count columns :func:`summaries` writes its line from.
SUMMARY_COLUMNS = ("tests", "devices", "tests_below_25_3", "tests_at_100_20",
                   "survey_not_available", "survey_responses", "too_few_tests", "survey_usable")


def evidence_texts(frame: pd.DataFrame, rules: RuleSet, *, language: object = "en") -> list[str]:
    """Return each row's evidence line in ``language``, from its counts when it has them.

    A frame without the count columns keeps its ``evidence_summary`` text as written.
    """
    if len(frame) and all(c in frame.columns for c in SUMMARY_COLUMNS):
        return summaries(frame, rules, language=language)
    column = frame.get("evidence_summary", pd.Series("", index=frame.index))
    return [str(v) if isinstance(v, str) else "" for v in column]
