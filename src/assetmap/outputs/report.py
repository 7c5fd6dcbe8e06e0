"""The grant-ready report: one self-contained HTML file (or Markdown) a grant writer can lift from.

Every figure is computed from the scored frame's columns (:mod:`assetmap.outputs._facts`); the
methods section is written from the weights and definitions in ``attrs["assetmap"]["score_spec"]``
and the BEAD rule set in ``attrs["assetmap"]["rules"]`` (named on a "Rule set" line; every
threshold in the text is that set's); sources, vintages and the illustrative flag come from the
frames' run reports. All text from data or users is escaped (HTML entities in HTML; HTML
entities and Markdown escapes in Markdown). This module assembles the content;
:mod:`assetmap.outputs._report_methods` writes the methods and citations,
:mod:`assetmap.outputs._rules_text` the rule-set text, :mod:`assetmap.outputs._report_render`
renders HTML and Markdown.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from assetmap._report import get_report, merge_sources
from assetmap._safepath import inside
from assetmap.errors import ConfigError
from assetmap.outputs._classes import column_info, format_value
from assetmap.outputs._facts import headline_facts, top_tracts, tract_paragraph
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


def _school_rows(schools: pd.DataFrame | None, n: int) -> list[list[str]]:
    if schools is None or "priority" not in schools:
        return []
    frame = (
        schools.nsmallest(n, "priority_rank")
        if "priority_rank" in schools
        else (schools.nlargest(n, "priority"))
    )
    return [
        [
            format_value(r.get("priority_rank"), "rank"),
            str(r.get("name", "")),
            format_value(r.get("priority"), "index"),
            str(r.get("drivers", "") or ""),
        ]
        for _, r in frame.iterrows()
    ]


def _sections(scored: gpd.GeoDataFrame, *, whatif, evidence, challenges, change,
              top_n) -> tuple[list[Section], list[Section]]:
    """Return the plan sections (after the proposed sites) and the evidence sections."""
    names = tract_names(scored)
    plan = [intervention_section(scored, top_n=top_n), whatif_section(whatif, scored)]
    ground = [evidence_section(evidence, challenges=challenges, names=names),
              change_section(change, names=names, top_n=top_n)]
    return [s for s in plan if s], [s for s in ground if s]


def _content(scored: gpd.GeoDataFrame, *, plan, schools, sites, title, top_n,
             whatif=None, evidence=None, challenges=None, change=None) -> dict[str, Any]:
    sources, vintages, illustrative = merge_sources(
        scored, plan, schools, sites, evidence, challenges,
        None if change is None else change.tracts)
    facts = headline_facts(scored)
    top = top_tracts(scored, n=top_n)
    cols = [c for c in _TABLE_COLUMNS if c in top]
    header = ["Rank", "Tract", *[column_info(c).title for c in cols], "Drivers"]
    rows = [
        [
            format_value(r.get("priority_rank"), "rank"),
            str(r.get("NAMELSAD") or r.get("GEOID") or ""),
            *[format_value(r[c], column_info(c).unit) for c in cols],
            str(r["drivers"]),
        ]
        for _, r in top.iterrows()
    ]
    reliability = []
    cv_columns = [c for c in scored.columns if c.endswith("_cv")]
    for _, r in top.iterrows():
        flagged = [c.removesuffix("_cv") for c in cv_columns if pd.notna(r[c]) and r[c] > 0.30]
        if flagged:
            reliability.append(
                f"{r.get('NAMELSAD') or r.get('GEOID')}: CV > 0.30 for {', '.join(flagged)}"
            )
    plan_rows = []
    if plan is not None and len(plan):
        for _, r in plan.sort_values("order").iterrows() if "order" in plan else plan.iterrows():
            plan_rows.append(
                [
                    str(r.get("order", "")),
                    str(r.get("name", "")),
                    format_value(r.get("covered_demand_gain"), "count"),
                    format_value(r.get("coverage_share_cumulative"), "share"),
                ]
            )
    plan_sections, ground_sections = _sections(
        scored, whatif=whatif, evidence=evidence, challenges=challenges, change=change,
        top_n=top_n)
    return {
        "plan_sections": plan_sections,
        "ground_sections": ground_sections,
        "plan_note": _plan_note(plan),
        "title": title or "Digital equity priorities",
        "illustrative": illustrative,
        "facts": facts.sentences,
        "top_header": header,
        "top_rows": rows,
        "paragraphs": [
            tract_paragraph(r, total=len(scored), vintages=vintages) for _, r in top.iterrows()
        ],
        "school_rows": _school_rows(schools, top_n),
        "plan_rows": plan_rows,
        "methods": methods_lines(get_report(scored).get("score_spec") or {}),
        "definitions": [*definitions(rules_of(scored), assumed=not rules_known(scored)),
                        *ACS_DEFINITIONS],
        "reliability": reliability,
        "citations": citations(sources),
    }


def _plan_note(plan: pd.DataFrame | None) -> str:
    """One sentence saying what the plan's demand is and what it covers, from its report."""
    if plan is None or not len(plan):
        return ""
    info = get_report(plan).get("plan") or {}
    unit = str(info.get("weight", "demand")).replace("_", " ")
    total, existing = info.get("total_demand"), info.get("covered_by_existing")
    covered, reach = info.get("covered"), info.get("reach_m")
    parts = [f"Demand: {unit}"]
    if isinstance(reach, int | float):
        parts[0] += f" within {reach:,.0f} m of a site"
    if total:
        if existing is not None:
            parts.append(f"sites already active reach {existing:,.0f} of {total:,.0f} "
                         f"({existing / total:.0%})")
        if covered is not None:
            parts.append(f"with the {len(plan)} proposed site(s), {covered:,.0f} "
                         f"({covered / total:.0%})")
    method = info.get("method")
    if method:
        parts.append(f"solver: {method}")
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
    content = _content(scored, plan=plan, schools=schools, sites=sites, title=title, top_n=top_n,
                       whatif=whatif, evidence=evidence, challenges=challenges, change=change)
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".md":
        if map_image is None:
            from assetmap.outputs.static import print_map

            map_image = print_map(scored, inside(path.parent, f"{path.stem}_map.png"), dpi=150)
        image = Path(map_image)
        ref = image.name if image.parent.resolve() == path.parent.resolve() else image.as_posix()
        path.write_text(render_md(content, ref), encoding="utf-8")
        return path
    if map_image is None:
        from assetmap.outputs.static import print_map

        with tempfile.TemporaryDirectory() as tmp:
            image_bytes = print_map(scored, Path(tmp) / "map.png", dpi=150).read_bytes()
    else:
        image_bytes = Path(map_image).read_bytes()
    path.write_text(render_html(content, image_bytes), encoding="utf-8")
    return path
