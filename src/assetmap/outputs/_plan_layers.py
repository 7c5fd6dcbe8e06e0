"""Equity-map layers for the plan and the evidence: interventions, evidence, change, challenges.

The three tract layers (recommended intervention, claims vs evidence, change since the previous
BDC release) are categorical themes drawn from the tract GeoJSON the map already embeds: each
adds a few properties per tract and no geometry. The challenge candidates are H3 res-8 cells,
embedded once and delta-encoded like the other polygon layers
(:mod:`assetmap.outputs._challenge_layer`). Colours come from the Okabe-Ito qualitative palette,
which stays distinguishable with the common colour-vision deficiencies; every category is named
in words in the legend, and when neighbouring colours cannot reach 3:1 contrast each category
is also hatched and numbered (:func:`assetmap.outputs._legend.class_marks`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from assetmap._i18n import N_, Messages, messages
from assetmap._report import get_report
from assetmap.analysis._evidence_parts import evidence_texts
from assetmap.outputs._classes import format_value
from assetmap.outputs._layers import GeoJsonData, ThemeLayer
from assetmap.outputs._legend import (
    INTERVENTION_LABELS,
    LegendSection,
    class_marks,
    numbered_values,
)
from assetmap.outputs._rules_text import mbps, rules_of, rules_title
from assetmap.outputs._sections import funding_lines

__all__ = [
    "INTERVENTION_COLORS",
    "INTERVENTION_LABELS",
    "OKABE_ITO",
    "TractLayer",
    "change_layer",
    "evidence_layer",
    "intervention_layer",
]

#: Okabe & Ito (2008) colour-blind-safe qualitative palette (black left out).
OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"]
_QUIET = "#ececec"  # "nothing to act on" categories: light, so the others stand out
_SUPPRESSED = "#f7f7f7"

INTERVENTION_COLORS = {
    "fiber_extension": "#0072B2",
    "wireless_or_satellite": "#E69F00",
    "affordability_adoption": "#CC79A7",
    "new_site": "#009E73",
    "infrastructure": "#D55E00",
    "adoption": "#56B4E9",
    "monitor": _QUIET,
}


@dataclass
class TractLayer:
    """A categorical theme on the shared tract data, with its legend entries."""

    name: str
    key: str
    value_key: str
    label: str
    colors: list[str]
    fields: list[list[str]]
    css_class: str
    legend_title: str
    swatches: list[tuple[str, str]]
    notes: list[str] = field(default_factory=list)
    illustrative: str | None = None
    marks: tuple[list[str | None], str] | None = None  # hatch pattern ids and their SVG

    def add_to(self, m: Any, data: GeoJsonData, sections: list[LegendSection]) -> None:
        """Add the theme (hidden at first) and its legend section to the map."""
        ids, defs = self.marks if self.marks else (None, "")
        layer = ThemeLayer(data, name=self.name, key=self.key, value_key=self.value_key,
                           label=self.label, colors=self.colors, fields=self.fields,
                           css_class=self.css_class, suppressed_color=_SUPPRESSED,
                           patterns=ids, defs=defs)
        m.add_child(layer)
        sections.append(LegendSection(layer.get_name(), self.legend_title, show=False,
                                      notes=self.notes, extra_swatches=self.swatches,
                                      patterns=ids))


def _aligned(gdf: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame``'s rows in the order of ``gdf``'s tracts (by GEOID; missing -> NaN)."""
    table = pd.DataFrame(frame).drop(columns="geometry", errors="ignore")
    table = table.assign(GEOID=table["GEOID"].astype(str)).drop_duplicates("GEOID")
    return table.set_index("GEOID").reindex(gdf["GEOID"].astype(str).to_numpy())


def _categories(codes: pd.Series, order: list[str], labels: dict[str, str],
                colors: dict[str, str], _: Messages,
                ) -> tuple[np.ndarray, list[str], list[tuple[str, str]]]:
    """Return (class index per row, colours, legend swatches with counts) of present codes.

    The swatches are in class order, so a swatch's position is its class number.
    """
    present = [c for c in order if (codes == c).any()]
    present += sorted({str(c) for c in codes.dropna()} - set(present))
    spare = iter([c for c in OKABE_ITO if c not in colors.values()] * 3)
    palette = [colors.get(c) or next(spare) for c in present]
    idx = np.full(len(codes), -1, dtype=int)
    for i, code in enumerate(present):
        idx[(codes == code).fillna(False).to_numpy(dtype=bool)] = i
    names = [_(labels[c]) if c in labels else c.replace("_", " ").capitalize() for c in present]
    swatches = [(palette[i], name + " " + _.plural("({count} tract)", "({count} tracts)",
                                                   int((idx == i).sum())))
                for i, name in enumerate(names)]
    return idx, palette, swatches


def intervention_layer(gdf: pd.DataFrame, props: pd.DataFrame, *, column: str = "intervention",
                       language: str = "en") -> TractLayer | None:
    """Add the recommended intervention to ``props``; return its layer (None without it).

    Examples
    --------
    >>> g = pd.DataFrame({"GEOID": ["1", "2"], "intervention": ["new_site", "monitor"],
    ...                   "intervention_reason": ["no site within 3.2 km", "no gap"]})
    >>> props = pd.DataFrame(index=g.index)
    >>> layer = intervention_layer(g, props)
    >>> props["iv"].tolist(), [s[1] for s in layer.swatches]
    (['New learning center or Wi-Fi site (class 1)', 'Monitor (no action flagged) (class 2)'], \
['New learning center or Wi-Fi site (1 tract)', 'Monitor (no action flagged) (1 tract)'])
    """
    if column not in gdf:
        return None
    _ = messages(language)
    codes = gdf[column].astype("string")
    idx, colors, swatches = _categories(codes, list(INTERVENTION_LABELS), INTERVENTION_LABELS,
                                        INTERVENTION_COLORS, _)
    props["ic"] = idx
    props["iv"] = codes.map(lambda c: (_(INTERVENTION_LABELS[c]) if c in INTERVENTION_LABELS
                                       else c.replace("_", " "))
                            if isinstance(c, str) else None).to_numpy(dtype=object)
    marks = class_marks(colors)
    if marks:
        props["iv"] = numbered_values(props["iv"], idx, language=language)
    reason = gdf.get("intervention_reason")
    props["ir"] = (reason.astype("string").to_numpy(dtype=object) if reason is not None
                   else None)
    return TractLayer(
        name=_("Recommended intervention"), key="ic", value_key="iv", label=_("Intervention"),
        colors=colors, fields=[["g", "GEOID", ""], ["iv", _("Intervention"), ""],
                               ["ir", _("Why"), ""]],
        css_class="am-tract am-intervention", legend_title=_("Recommended intervention"),
        swatches=swatches, notes=[_("Rules and thresholds: {page}", page="docs/planning.md"),
                                  *funding_lines(gdf, [str(c) for c in codes.dropna().unique()],
                                                language=language)],
        marks=marks,
    )


EVIDENCE_LABELS = {
    "served_contradicted": N_("Claimed served; tests slow or families report no service"),
    "unserved_contradicted": N_("Claimed unserved; tests show fast service"),
    "agrees": N_("Evidence does not contradict the claims"),
    "insufficient": N_("Not enough evidence (too few tests, no published survey cell)"),
}
EVIDENCE_COLORS = {"served_contradicted": "#D55E00", "unserved_contradicted": "#0072B2",
                   "agrees": _QUIET, "insufficient": _SUPPRESSED}


def _count_text(values: pd.Series, language: str = "en") -> pd.Series:
    return pd.Series([format_value(v, "count", language=language) for v in values],
                     index=values.index)


def evidence_layer(gdf: pd.DataFrame, props: pd.DataFrame, evidence: pd.DataFrame,
                   *, suppressed_text: str, language: str = "en") -> TractLayer:
    """Add claims-vs-evidence properties to ``props``; return the layer.

    A tract whose survey cell is suppressed says so in the popup (its counts are not shown).

    Examples
    --------
    >>> g = pd.DataFrame({"GEOID": ["1"], "suppressed": [True]})
    >>> ev = pd.DataFrame({"GEOID": ["1"], "flag_claimed_served_contradicted": [True],
    ...     "flag_claimed_unserved_contradicted": [False], "evidence_strength": [55.4],
    ...     "tests": [349.0], "devices": [120.0], "too_few_tests": [False],
    ...     "tests_below_25_3": [318.0], "served_share": [0.97], "survey_usable": [False]})
    >>> props = pd.DataFrame(index=g.index)
    >>> layer = evidence_layer(g, props, ev, suppressed_text="suppressed")
    >>> props[["ev", "es", "e5"]].iloc[0].tolist()
    ['Claimed served; tests slow or families report no service', '55', 'suppressed']
    """
    _ = messages(language)
    ev = _aligned(gdf, evidence)
    served = ev["flag_claimed_served_contradicted"].astype("boolean").fillna(False)
    unserved = ev["flag_claimed_unserved_contradicted"].astype("boolean").fillna(False)
    few = ev.get("too_few_tests", pd.Series(True, index=ev.index)).astype("boolean").fillna(True)
    usable = ev.get("survey_usable", pd.Series(False, index=ev.index)).astype(
        "boolean").fillna(False)
    code = np.where(served, "served_contradicted", np.where(
        unserved, "unserved_contradicted", np.where(few & ~usable, "insufficient", "agrees")))
    codes = pd.Series(code, index=ev.index, dtype="string").where(
        ev["flag_claimed_served_contradicted"].notna().to_numpy())
    idx, colors, swatches = _categories(codes, list(EVIDENCE_LABELS), EVIDENCE_LABELS,
                                        EVIDENCE_COLORS, _)
    props["ec"] = idx
    props["ev"] = codes.map(lambda c: _(EVIDENCE_LABELS[c]), na_action="ignore").to_numpy(
        dtype=object)
    marks = class_marks(colors)
    if marks:
        props["ev"] = numbered_values(props["ev"], idx, language=language)
    nothing = pd.Series(np.nan, index=ev.index)

    def value(v: Any, unit: str) -> str:
        return format_value(v, unit, language=language)

    props["es"] = [value(v, "index") for v in ev.get("evidence_strength", nothing)]
    props["e1"] = [value(v, "share") for v in ev.get("served_share", nothing)]
    tests = ev.get("tests", pd.Series(np.nan, index=ev.index))
    devices = ev.get("devices", pd.Series(np.nan, index=ev.index))
    props["e2"] = [_("{tests} tests, {devices} devices", tests=value(t, "count"),
                     devices=value(d, "count")) + (" " + _("(too few to judge)") if f else "")
                   for t, d, f in zip(tests, devices, few, strict=True)]
    slow = ev.get("tests_below_25_3", pd.Series(np.nan, index=ev.index))
    props["e3"] = [None if pd.isna(s) else _("{count} of {total}", count=value(s, "count"),
                                             total=value(t, "count"))
                   for s, t in zip(slow, tests, strict=True)]
    down, up = ev.get("down_mbps"), ev.get("up_mbps")
    props["e4"] = (None if down is None or up is None else [
        None if pd.isna(d) else f"{d:.0f} / {u:.0f} Mbps" for d, u in zip(down, up, strict=True)])
    responses = ev.get("survey_responses", pd.Series(np.nan, index=ev.index))
    reports = ev.get("survey_not_available", pd.Series(np.nan, index=ev.index))
    survey = pd.Series([None if pd.isna(n) else _("{count} of {total} responses",
                                                  count=_.number(n), total=_.number(r))
                        for n, r in zip(reports, responses, strict=True)],
                       index=ev.index, dtype=object)
    if "suppressed" in gdf:
        hidden = gdf["suppressed"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        survey[hidden] = suppressed_text
    props["e5"] = survey.to_numpy(dtype=object)
    rules = rules_of(evidence)
    props["e6"] = evidence_lines(evidence, rules, language=language).reindex(
        ev.index).replace("", None).to_numpy(dtype=object)
    flagged = int(served.sum() + unserved.sum())
    return TractLayer(
        name=_("Claims vs evidence"), key="ec", value_key="ev", label=_("Evidence"),
        colors=colors,
        fields=[["g", "GEOID", ""], ["ev", _("Finding"), ""],
                ["es", _("Evidence strength (0-100)"), ""],
                ["e1", _("BDC: locations served"), ""], ["e2", _("Speed tests"), ""],
                ["e3", _("Tests below {speed}", speed=mbps(rules.underserved)), ""],
                ["e4", _("Mean download / upload"), ""],
                ["e5", _("Survey: service not available"), ""], ["e6", _("Evidence"), ""]],
        css_class="am-tract am-evidence", legend_title=_("Claims vs evidence"),
        swatches=swatches,
        notes=[_.plural("{count} tract flagged; strength ranks them (not a probability)",
                        "{count} tracts flagged; strength ranks them (not a probability)",
                        flagged),
               _("Served: {served} Mbps; tests count as slow below {underserved} ({rules})",
                 served=mbps(rules.served), underserved=mbps(rules.underserved),
                 rules=rules_title(rules, language=language)),
               _("How to file a challenge: {page}", page="docs/challenges.md")],
        illustrative=(_evidence_label(ev, _) if get_report(evidence).get("illustrative")
                      else None),
        marks=marks,
    )


def evidence_lines(evidence: pd.DataFrame, rules: Any, *, language: str = "en") -> pd.Series:
    """Return each tract's evidence line in ``language`` (rewritten from its counts), by GEOID.

    Examples
    --------
    >>> ev = pd.DataFrame({"GEOID": ["1"], "evidence_summary": ["12 of 30 tests"]})
    >>> evidence_lines(ev, rules_of(ev), language="es").tolist()
    ['12 of 30 tests']
    """
    frame = pd.DataFrame(evidence).drop(columns="geometry", errors="ignore")
    frame = frame.assign(GEOID=frame["GEOID"].astype(str)).drop_duplicates("GEOID")
    texts = evidence_texts(frame.reset_index(drop=True), rules, language=language)
    return pd.Series(texts, index=frame["GEOID"].to_numpy(), dtype=object)


def _evidence_label(ev: pd.DataFrame, _: Messages) -> str:
    """Name the illustrative evidence layer and only the kinds of evidence it holds."""
    def held(column: str) -> bool:
        return column in ev and bool((pd.to_numeric(ev[column], errors="coerce") > 0).any())

    kinds = [name for name, column in ((_("speed tests"), "tests"),
                                       (_("family survey"), "survey_responses")) if held(column)]
    return (_("claims vs evidence ({kinds})", kinds=", ".join(kinds)) if kinds
            else _("claims vs evidence"))


CHANGE_LABELS = {
    "served_and_fiber": N_("Newly served locations and fiber gained"),
    "served": N_("Newly served locations"),
    "fiber": N_("Fiber gained"),
    "lost": N_("Lost service"),
    "providers": N_("Providers entering or leaving only"),
    "none": N_("No change"),
}
CHANGE_COLORS = {"served_and_fiber": "#0072B2", "served": "#009E73", "fiber": "#56B4E9",
                 "lost": "#D55E00", "providers": "#f5eebc", "none": _QUIET}


def change_layer(gdf: pd.DataFrame, props: pd.DataFrame, change: pd.DataFrame,
                 *, since: str, language: str = "en") -> TractLayer:
    """Add the change-between-releases properties to ``props``; return the layer.

    Examples
    --------
    >>> g = pd.DataFrame({"GEOID": ["1", "2"]})
    >>> ch = pd.DataFrame({"GEOID": ["1", "2"], "newly_served": [5, 0], "fiber_gained": [0, 0],
    ...     "lost_service": [0, 0], "providers_entering": [1, 0], "providers_leaving": [0, 0]})
    >>> props = pd.DataFrame(index=g.index)
    >>> layer = change_layer(g, props, ch, since="December 2024")
    >>> layer.name, props["hv"].tolist()
    ('Change since December 2024', ['Newly served locations (class 1)', 'No change (class 2)'])
    """
    _ = messages(language)
    ch = _aligned(gdf, change)

    def col(name: str) -> pd.Series:
        return pd.to_numeric(ch.get(name, pd.Series(0, index=ch.index)),
                             errors="coerce").fillna(0)

    newly, fiber, lost = col("newly_served") > 0, col("fiber_gained") > 0, col("lost_service") > 0
    providers = (col("providers_entering") + col("providers_leaving")) > 0
    code = np.select([newly & fiber, newly, fiber, lost, providers],
                     ["served_and_fiber", "served", "fiber", "lost", "providers"], "none")
    codes = pd.Series(code, index=ch.index, dtype="string")
    idx, colors, swatches = _categories(codes, list(CHANGE_LABELS), CHANGE_LABELS,
                                        CHANGE_COLORS, _)
    props["hc"] = idx
    props["hv"] = codes.map(lambda c: _(CHANGE_LABELS[c])).to_numpy(dtype=object)
    marks = class_marks(colors)
    if marks:
        props["hv"] = numbered_values(props["hv"], idx, language=language)
    for key, name in (("h1", "newly_served"), ("h2", "lost_service"), ("h3", "fiber_gained"),
                      ("h4", "fiber_lost")):
        props[key] = _count_text(col(name), language).to_numpy(dtype=object)
    for key, name in (("h5", "providers_entering_names"), ("h6", "providers_leaving_names")):
        values = ch.get(name)
        props[key] = None if values is None else values.astype("string").replace(
            "", pd.NA).to_numpy(dtype=object)
    if {"served_share_old", "served_share_new"} <= set(ch.columns):
        props["h7"] = [None if pd.isna(a) or pd.isna(b) else
                       f"{format_value(a, 'share', language=language)} \u2192 "
                       f"{format_value(b, 'share', language=language)}"
                       for a, b in zip(ch["served_share_old"], ch["served_share_new"],
                                       strict=True)]
    report = get_report(change)
    rules = rules_of(change)
    served = mbps(rules.served)
    return TractLayer(
        name=_("Change since {release}", release=since), key="hc", value_key="hv",
        label=_("Change"), colors=colors,
        fields=[["g", "GEOID", ""], ["hv", _("Change"), ""],
                ["h1", _("Newly served locations"), ""],
                ["h2", _("Locations that lost service"), ""],
                ["h3", _("Locations that gained fiber"), ""],
                ["h4", _("Locations that lost fiber"), ""], ["h5", _("Providers entering"), ""],
                ["h6", _("Providers leaving"), ""],
                ["h7", _("Served at {speed}", speed=served), ""]],
        css_class="am-tract am-change", legend_title=_("Change since {release}", release=since),
        swatches=swatches,
        notes=[_("Served: {served} Mbps, reliable technology ({rules})", served=served,
                 rules=rules_title(rules, language=language))],
        illustrative=(_("change since the previous BDC release ({release})", release=since)
                      if report.get("illustrative") else None),
        marks=marks,
    )
