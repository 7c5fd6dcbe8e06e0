"""The grant-ready report: one self-contained HTML file (or Markdown) a grant writer can lift from.

Every figure is computed from the scored frame's columns (:mod:`assetmap.outputs._facts`); the
methods section is written from the weights and definitions in ``attrs["assetmap"]["score_spec"]``
and the BEAD rule set in ``attrs["assetmap"]["rules"]`` (named on a "Rule set" line; every
threshold in the text is that set's); sources, vintages and the illustrative flag come from the
frames' run reports. All text from data or users is escaped (HTML entities in HTML; HTML
entities and Markdown escapes in Markdown). This module assembles the content;
:mod:`assetmap.outputs._report_methods` writes the methods and citations,
:mod:`assetmap.outputs._rules_text` the rule-set text, :mod:`assetmap.outputs._report_render`
renders HTML and Markdown. Every word comes from the message catalogue in the ``language``
asked for; numbers and dates are written in its locale's format.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from assetmap._i18n import N_, Messages, check_language, messages
from assetmap._report import get_report, merge_sources
from assetmap._safepath import inside
from assetmap.errors import ConfigError
from assetmap.outputs._classes import column_info, format_value
from assetmap.outputs._district_area import district_sentences
from assetmap.outputs._facts import (
    driver_text,
    headline_facts,
    place_name,
    top_tracts,
    tract_paragraph,
)
from assetmap.outputs._legend import column_title
from assetmap.outputs._report_methods import ACS_DEFINITIONS, citations, methods_lines
from assetmap.outputs._report_render import render_html, render_md
from assetmap.outputs._rules_text import definitions, rules_known, rules_of
from assetmap.outputs._sections import (
    Section,
    change_section,
    evidence_section,
    intervention_section,
    tract_names,
    whatif_section,
)

__all__ = ["write_report"]

_TABLE_COLUMNS = ["priority", "fiber_share", "no_internet_share", "poverty_share", "households"]
#: What a plan's demand and solver are called in its report, translated where shown.
_PLAN_WORDS = (N_("demand"), N_("households"), N_("unserved households"), N_("children"),
               N_("population"), N_("unserved underserved locations"), N_("greedy"),
               N_("exact"))


def _school_rows(schools: pd.DataFrame | None, n: int, _: Messages) -> list[list[str]]:
    if schools is None or "priority" not in schools:
        return []
    frame = (
        schools.nsmallest(n, "priority_rank")
        if "priority_rank" in schools
        else (schools.nlargest(n, "priority"))
    )
    return [
        [
            format_value(r.get("priority_rank"), "rank", language=_.language),
            str(r.get("name", "")),
            format_value(r.get("priority"), "index", language=_.language),
            driver_text(r.get("drivers", ""), _),
        ]
        for _i, r in frame.iterrows()
    ]


def _sections(scored: gpd.GeoDataFrame, *, whatif, evidence, challenges, change,
              top_n, language) -> tuple[list[Section], list[Section]]:
    """Return the plan sections (after the proposed sites) and the evidence sections."""
    names = tract_names(scored, language=language)
    plan = [intervention_section(scored, top_n=top_n, language=language),
            whatif_section(whatif, scored, language=language)]
    ground = [evidence_section(evidence, challenges=challenges, names=names, language=language),
              change_section(change, names=names, top_n=top_n, language=language)]
    return [s for s in plan if s], [s for s in ground if s]


def _top_rows(top: pd.DataFrame, cols: list[str], _: Messages) -> list[list[str]]:
    return [
        [
            format_value(r.get("priority_rank"), "rank", language=_.language),
            place_name(r.get("NAMELSAD") or r.get("GEOID") or "", _),
            *[format_value(r[c], column_info(c).unit, language=_.language) for c in cols],
            str(r["drivers"]),
        ]
        for _i, r in top.iterrows()
    ]


def _reliability(scored: pd.DataFrame, top: pd.DataFrame, _: Messages) -> list[str]:
    reliability = []
    cv_columns = [c for c in scored.columns if c.endswith("_cv")]
    for _i, r in top.iterrows():
        flagged = [c.removesuffix("_cv") for c in cv_columns if pd.notna(r[c]) and r[c] > 0.30]
        if flagged:
            reliability.append(_("{name}: CV > 0.30 for {inputs}",
                                 name=place_name(r.get("NAMELSAD") or r.get("GEOID"), _),
                                 inputs=", ".join(flagged)))
    return reliability


def _plan_rows(plan: pd.DataFrame | None, _: Messages) -> list[list[str]]:
    if plan is None or not len(plan):
        return []
    ordered = plan.sort_values("order") if "order" in plan else plan
    return [[str(r.get("order", "")), str(r.get("name", "")),
             format_value(r.get("covered_demand_gain"), "count", language=_.language),
             format_value(r.get("coverage_share_cumulative"), "share", language=_.language)]
            for _i, r in ordered.iterrows()]


def _content(scored: gpd.GeoDataFrame, *, plan, schools, sites, title, top_n,
             whatif=None, evidence=None, challenges=None, change=None,
             language: str = "en") -> dict[str, Any]:
    _ = messages(language)
    sources, vintages, illustrative = merge_sources(
        scored, plan, schools, sites, evidence, challenges,
        None if change is None else change.tracts)
    facts = headline_facts(scored, language=language)
    facts.sentences.extend(district_sentences(scored, language=language))
    top = top_tracts(scored, n=top_n, language=language)
    cols = [c for c in _TABLE_COLUMNS if c in top]
    header = [_("Rank"), _("Tract"),
              *[column_title(column_info(c), language=language) for c in cols], _("Drivers")]
    plan_sections, ground_sections = _sections(
        scored, whatif=whatif, evidence=evidence, challenges=challenges, change=change,
        top_n=top_n, language=language)
    return {
        "language": language,
        "plan_sections": plan_sections,
        "ground_sections": ground_sections,
        "plan_note": _plan_note(plan, _),
        "title": title or _("Digital equity priorities"),
        "illustrative": illustrative,
        "facts": facts.sentences,
        "top_header": header,
        "top_rows": _top_rows(top, cols, _),
        "paragraphs": [
            tract_paragraph(r, total=len(scored), vintages=vintages, language=language)
            for _i, r in top.iterrows()
        ],
        "school_rows": _school_rows(schools, top_n, _),
        "plan_rows": _plan_rows(plan, _),
        "methods": methods_lines(get_report(scored).get("score_spec") or {}, language=language),
        "definitions": [*definitions(rules_of(scored), assumed=not rules_known(scored),
                                     language=language),
                        *[_(text) for text in ACS_DEFINITIONS]],
        "reliability": _reliability(scored, top, _),
        "citations": citations(sources, language=language),
    }


def _share(part: float, whole: float, _: Messages) -> str:
    return f"{part / whole:.0%}" if _.language == "en" else _.percent(part / whole)


def _plan_note(plan: pd.DataFrame | None, _: Messages) -> str:
    """One sentence saying what the plan's demand is and what it covers, from its report."""
    if plan is None or not len(plan):
        return ""
    info = get_report(plan).get("plan") or {}
    unit = str(info.get("weight") or "demand").replace("_", " ")
    unit = _(unit)
    total, existing = info.get("total_demand"), info.get("covered_by_existing")
    covered, reach = info.get("covered"), info.get("reach_m")
    parts = [_("Demand: {unit} within {reach} m of a site", unit=unit, reach=_.number(reach))
             if isinstance(reach, int | float) else _("Demand: {unit}", unit=unit)]
    if total:
        if existing is not None:
            parts.append(_("sites already active reach {count} of {total} ({share})",
                           count=_.number(existing), total=_.number(total),
                           share=_share(existing, total, _)))
        if covered is not None:
            parts.append(_("with the {count} proposed site(s), {covered} ({share})",
                           count=len(plan), covered=_.number(covered),
                           share=_share(covered, total, _)))
    method = info.get("method")
    if method:
        parts.append(_("solver: {method}", method=_(str(method))))
    return "; ".join(parts) + "."


def write_report(
    scored: gpd.GeoDataFrame,
    path: str | Path,
    *,
    plan: gpd.GeoDataFrame | None = None,
    schools: pd.DataFrame | None = None,
    sites: gpd.GeoDataFrame | None = None,
    title: str | None = None,
    map_image: str | Path | None = None,
    top_n: int = 5,
    whatif: gpd.GeoDataFrame | None = None,
    evidence: pd.DataFrame | None = None,
    challenges: pd.DataFrame | None = None,
    change: Any = None,
    language: str = "en",
) -> Path:
    """Write the grant-ready report as HTML (self-contained) or Markdown, by the file extension.

    Parameters
    ----------
    scored : GeoDataFrame
        Scored tracts; every figure in the report is computed from its columns.
    path : str or Path
        ``.html`` (print map embedded as a base64 PNG) or ``.md`` (links the map image).
    plan, schools, sites : frames, optional
        The plan's chosen sites; school zones from ``rollup_to_schools`` (ranked when they carry
        ``priority``); partner sites (for their sources).
    title : str, optional
        Report title.
    map_image : str or Path, optional
        A PNG to embed (HTML) or link (Markdown); by default the print map is drawn.
    top_n : int
        Number of top tracts and schools listed.
    whatif : GeoDataFrame, optional
        ``apply_plan`` result: the "What the plan changes" section (from its summary).
    evidence : DataFrame, optional
        ``claims_vs_evidence`` result: the "Evidence on the ground" section.
    challenges : DataFrame, optional
        ``challenge_candidates`` result, counted in that section.
    change : ReleaseChange, optional
        ``release_change_report`` result: the "Change since the last release" section.

    language : {"en", "es"}
        The language of every heading, sentence, table header and note (``"es"``: Spanish);
        names from the data (places, schools, partners, sources) are printed as they are, and
        the intervention reasons and funding sentences in the language ``scored`` was
        analysed in.

    A "Recommended interventions" section is written when ``scored`` has ``intervention``.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import tempfile, geopandas as gpd
    >>> from assetmap.datasets import data_path
    >>> t = gpd.read_file(data_path("boundaries", "ector_tracts_2020.geojson"))
    >>> t["priority"], t["households"], t["fiber_share"] = range(len(t)), 100, 0.5
    >>> out = write_report(t, tempfile.mkdtemp() + "/report.md", map_image="map.png")
    >>> "3,300 households" in out.read_text() or "Headline" in out.read_text()
    True
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".html", ".htm", ".md"):
        raise ConfigError(f"write_report writes .html or .md; got {path.name!r}")
    language = check_language(language)
    content = _content(scored, plan=plan, schools=schools, sites=sites, title=title, top_n=top_n,
                       whatif=whatif, evidence=evidence, challenges=challenges, change=change,
                       language=language)
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".md":
        if map_image is None:
            from assetmap.outputs.static import print_map

            map_image = print_map(scored, inside(path.parent, f"{path.stem}_map.png"), dpi=150,
                                  language=language)
        image = Path(map_image)
        ref = image.name if image.parent.resolve() == path.parent.resolve() else image.as_posix()
        path.write_text(render_md(content, ref), encoding="utf-8")
        return path
    if map_image is None:
        from assetmap.outputs.static import print_map

        with tempfile.TemporaryDirectory() as tmp:
            image_bytes = print_map(scored, Path(tmp) / "map.png", dpi=150,
                                    language=language).read_bytes()
    else:
        image_bytes = Path(map_image).read_bytes()
    path.write_text(render_html(content, image_bytes), encoding="utf-8")
    return path
