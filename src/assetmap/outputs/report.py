"""The grant-ready report: one self-contained HTML file (or Markdown) a grant writer can lift from.

Every figure is computed from the scored frame's columns (:mod:`assetmap.outputs._facts`); the
methods section is written from the weights and definitions in ``attrs["assetmap"]["score_spec"]``;
sources, vintages and the illustrative flag come from the frames' run reports. All text from data
or users is escaped (HTML entities in HTML; HTML entities and Markdown escapes in Markdown).
"""

from __future__ import annotations

import base64
import re
import tempfile
from html import escape
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from assetmap._report import get_report, merge_sources
from assetmap.errors import ConfigError
from assetmap.outputs._classes import column_info, format_value
from assetmap.outputs._facts import headline_facts, top_tracts, tract_paragraph
from assetmap.outputs._sections import (
    Section,
    change_section,
    evidence_section,
    intervention_section,
    tract_names,
    whatif_section,
)

__all__ = ["write_report"]

_DEFINITIONS = [
    (
        "Unserved: no reliable offer reaches 25/3 Mbps; underserved: the best reliable offer "
        "reaches 25/3 but not 100/20 Mbps; served: 100/20 Mbps or more (NTIA BEAD). Reliable "
        "technologies: copper, cable, fiber, licensed and licensed-by-rule fixed wireless with "
        "low latency; satellite and unlicensed fixed wireless do not make a location served."
    ),
    "Fiber presence: share of residential locations with any fiber (technology 50) offer.",
    (
        "ACS no-internet share = B28002_013 / B28002_001; no-computer share = B28001_011 / "
        "B28001_001; poverty share = B17001_002 / B17001_001. Margins of error follow the Census "
        "Bureau's formula for derived proportions; a CV above 0.30 flags an unreliable estimate."
    ),
]
_TABLE_COLUMNS = ["priority", "fiber_share", "no_internet_share", "poverty_share", "households"]


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_describe(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_describe(v) for v in value)
    return str(value)


def _methods_from_indices(spec: dict[str, Any]) -> list[str]:
    """Methods lines from ``score_tracts``' spec: priority weights, each index's inputs."""
    lines = []
    priority = spec.get("priority") or {}
    weights = priority.get("weights") or {}
    if weights:
        listed = ", ".join(
            f"{column_info(k).label.lower()} {float(v):g}" for k, v in weights.items()
        )
        lines.append(
            f"Priority (0-100): {priority.get('combination', 'weighted mean of the indices')}; "
            f"weights: {listed}."
        )
    for index, entry in (spec.get("indices") or {}).items():
        inputs = [
            f"{i.get('label') or i.get('name')} ({i.get('column', i.get('name'))}, weight "
            f"{float(i.get('weight', 0)):g}, {i.get('direction', '')})"
            for i in entry.get("inputs", [])
        ]
        line = f"{column_info(index).label} ({index}): {entry.get('combination', '')}; inputs: "
        line += "; ".join(inputs) if inputs else "none available"
        if entry.get("absent"):
            line += f"; not available here: {', '.join(map(str, entry['absent']))}"
        lines.append(line + ".")
    if spec.get("normalisation"):
        lines.append(f"Normalisation: {spec['normalisation']}.")
    if spec.get("unreliable_cv") is not None:
        lines.append(
            f"A tract is flagged unreliable when a priority input has a CV above "
            f"{float(spec['unreliable_cv']):g}."
        )
    return lines


def _methods(spec: dict[str, Any]) -> list[str]:
    """One paragraph per index, from the score spec actually used."""
    if isinstance(spec.get("indices"), dict):
        return _methods_from_indices(spec)
    lines: list[str] = []
    for index, entry in spec.items():
        if not isinstance(entry, dict):
            lines.append(f"{index}: {_describe(entry)}")
            continue
        label = column_info(index).label
        weights = entry.get("weights") or {}
        inputs = entry.get("inputs") or list(weights)
        direction = entry.get("direction")
        described = []
        for name in inputs:
            text = str(name)
            if isinstance(weights, dict) and name in weights:
                text += f" (weight {float(weights[name]):g})"
            if isinstance(direction, dict) and name in direction:
                text += f" [{direction[name]}]"
            described.append(text)
        line = f"{label} ({index}): inputs {', '.join(described) or 'not stated'}"
        if isinstance(direction, str):
            line += f"; direction: {direction}"
        if entry.get("normalisation"):
            line += f"; normalisation: {entry['normalisation']}"
        lines.append(line + ".")
    return lines or ["The scored frame carries no score_spec: weights and inputs are not known."]


def _citations(sources: list[dict[str, Any]]) -> list[str]:
    out = []
    for s in sources:
        text = str(s.get("name", "unnamed source"))
        if s.get("vintage"):
            text += f" ({s['vintage']})"
        if s.get("url"):
            text += f". {s['url']}"
        if s.get("license"):
            text += f". License: {s['license']}"
        out.append(text + ".")
    return out


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
        "methods": _methods(get_report(scored).get("score_spec") or {}),
        "definitions": _DEFINITIONS,
        "reliability": reliability,
        "citations": _citations(sources),
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


_PLAN_HEADER = ["Order", "Site", "Newly within reach", "Coverage (cumulative)"]


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _section_html(section: Section) -> str:
    e = escape
    out = [f"<h2>{e(section.title)}</h2>"]
    out += [f"<p>{e(p)}</p>" for p in section.paragraphs]
    if section.bullets:
        out.append("<ul>" + "".join(f"<li>{e(b)}</li>" for b in section.bullets) + "</ul>")
    if section.rows:
        out.append(_html_table(section.header, section.rows))
    if section.note:
        out.append(f"<p>{e(section.note)}</p>")
    return "\n".join(out)


def _section_md(section: Section) -> list[str]:
    out = [f"## {_md(section.title)}", ""]
    for p in section.paragraphs:
        out += [_md(p), ""]
    if section.bullets:
        out += [*[f"- {_md(b)}" for b in section.bullets], ""]
    if section.rows:
        out += _md_table(section.header, section.rows)
    if section.note:
        out += [_md(section.note), ""]
    return out


def _render_html(c: dict[str, Any], image: bytes | None) -> str:
    e = escape
    out = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        (
            f"<title>{e(c['title'])}</title><style>body{{font:15px/1.5 system-ui,sans-serif;"
            "max-width:60em;margin:2em auto;padding:0 1em;color:#222}"
            "table{border-collapse:collapse;margin:.5em 0}"
            "td,th{border:1px solid #bbb;padding:3px 8px;text-align:left}"
            ".flag{background:#fff3cd;border:1px solid #e0b400;padding:.5em 1em}"
            "img{max-width:100%}</style></head><body>"
        ),
        f"<h1>{e(c['title'])}</h1>",
    ]
    if c["illustrative"]:
        out.append(
            "<p class='flag'><b>Illustrative data:</b> some inputs are synthetic; the "
            "figures show how the analysis works, not the real situation.</p>"
        )
    out.append("<h2>Headline figures</h2><ul>")
    out += [f"<li>{e(s)}</li>" for s in c["facts"]] + ["</ul>"]
    if image:
        data = base64.b64encode(image).decode("ascii")
        out.append(f"<img alt='Priority map' src='data:image/png;base64,{data}'>")
    out.append("<h2>Top priority tracts</h2>" + _html_table(c["top_header"], c["top_rows"]))
    out += [f"<p>{e(p)}</p>" for p in c["paragraphs"]]
    if c["school_rows"]:
        out.append("<h2>Top priority schools</h2>")
        out.append(_html_table(["Rank", "School", "Priority (0-100)", "Drivers"], c["school_rows"]))
    if c["plan_rows"]:
        out.append("<h2>Proposed sites</h2>")
        if c["plan_note"]:
            out.append(f"<p>{e(c['plan_note'])}</p>")
        out.append(_html_table(_PLAN_HEADER, c["plan_rows"]))
    out += [_section_html(s) for s in [*c["plan_sections"], *c["ground_sections"]]]
    out.append("<h2>Methods</h2><ul>" + "".join(f"<li>{e(m)}</li>" for m in c["methods"]))
    out.append("</ul><h3>Definitions</h3><ul>")
    out += [f"<li>{e(d)}</li>" for d in c["definitions"]] + ["</ul>"]
    out.append("<h2>Reliability</h2><ul>")
    out += [
        f"<li>{e(r)}</li>"
        for r in c["reliability"] or ["No top tract has an input with CV > 0.30."]
    ]
    out.append("</ul><h2>Data sources</h2><ol>")
    out += [f"<li>{e(s)}</li>" for s in c["citations"]] + ["</ol></body></html>"]
    return "\n".join(out)


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|])")


def _md(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", escape(text, quote=False))


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(_md(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_md(x) for x in r) + " |" for r in rows]
    return [*lines, ""]


def _render_md(c: dict[str, Any], image_ref: str | None) -> str:
    out = [f"# {_md(c['title'])}", ""]
    if c["illustrative"]:
        out += [
            (
                "> **Illustrative data:** some inputs are synthetic; the figures show how the "
                "analysis works, not the real situation."
            ),
            "",
        ]
    out += ["## Headline figures", "", *[f"- {_md(s)}" for s in c["facts"]], ""]
    if image_ref:
        out += [f"![Priority map]({image_ref})", ""]
    out += ["## Top priority tracts", "", *_md_table(c["top_header"], c["top_rows"])]
    out += [line for p in c["paragraphs"] for line in (_md(p), "")]
    if c["school_rows"]:
        out += ["## Top priority schools", ""]
        out += _md_table(["Rank", "School", "Priority (0-100)", "Drivers"], c["school_rows"])
    if c["plan_rows"]:
        out += ["## Proposed sites", ""]
        if c["plan_note"]:
            out += [_md(c["plan_note"]), ""]
        out += _md_table(_PLAN_HEADER, c["plan_rows"])
    for section in [*c["plan_sections"], *c["ground_sections"]]:
        out += _section_md(section)
    out += ["## Methods", "", *[f"- {_md(m)}" for m in c["methods"]], ""]
    out += ["### Definitions", "", *[f"- {_md(d)}" for d in c["definitions"]], ""]
    reliability = c["reliability"] or ["No top tract has an input with CV > 0.30."]
    out += ["## Reliability", "", *[f"- {_md(r)}" for r in reliability], ""]
    out += ["## Data sources", "", *[f"{i}. {_md(s)}" for i, s in enumerate(c["citations"], 1)]]
    return "\n".join(out) + "\n"


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

            map_image = print_map(scored, path.with_name(f"{path.stem}_map.png"), dpi=150)
        image = Path(map_image)
        ref = image.name if image.parent.resolve() == path.parent.resolve() else image.as_posix()
        path.write_text(_render_md(content, ref), encoding="utf-8")
        return path
    if map_image is None:
        from assetmap.outputs.static import print_map

        with tempfile.TemporaryDirectory() as tmp:
            image_bytes = print_map(scored, Path(tmp) / "map.png", dpi=150).read_bytes()
    else:
        image_bytes = Path(map_image).read_bytes()
    path.write_text(_render_html(content, image_bytes), encoding="utf-8")
    return path
