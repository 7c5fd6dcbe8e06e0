"""The report's content rendered as one self-contained HTML page or as Markdown.

Both renderers take the content dictionary :mod:`assetmap.outputs.report` assembles and escape
every text from data or users (HTML entities in HTML; HTML entities and Markdown escapes in
Markdown). Their own words (headings, table headers, the illustrative-data flag, the map's
text alternative) come from the message catalogue in the content's ``language``, and the page
declares that language.
"""

from __future__ import annotations

import base64
import re
from html import escape
from typing import Any

from assetmap._i18n import N_, Messages, messages
from assetmap.outputs._sections import Section

__all__ = ["render_html", "render_md"]

_PLAN_HEADER = [N_("Order"), N_("Site"), N_("Newly within reach"), N_("Coverage (cumulative)")]
_SCHOOL_HEADER = [N_("Rank"), N_("School"), N_("Priority (0-100)"), N_("Drivers")]
#: The renderers' own words, by role.
_TEXT = {
    "flag": N_("Illustrative data:"),
    "headline": N_("Headline figures"),
    "map_alt": N_("Priority map"),
    "top_tracts": N_("Top priority tracts"),
    "top_schools": N_("Top priority schools"),
    "sites": N_("Proposed sites"),
    "methods": N_("Methods"),
    "definitions": N_("Definitions"),
    "reliability": N_("Reliability"),
    "sources": N_("Data sources"),
    "illustrative": N_("some inputs are synthetic; the figures show how the analysis works, "
                       "not the real situation."),
    "no_flag": N_("No top tract has an input with CV > 0.30."),
}


def _words(c: dict[str, Any]) -> tuple[Messages, dict[str, str]]:
    _ = messages(c.get("language", "en"))
    return _, {key: _(text) for key, text in _TEXT.items()}


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


def render_html(c: dict[str, Any], image: bytes | None) -> str:
    """Return the report as one HTML page, the PNG ``image`` embedded as base64."""
    e = escape
    _, t = _words(c)
    out = [
        f"<!DOCTYPE html><html lang='{e(_.html_lang)}'><head><meta charset='utf-8'>",
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
        out.append(f"<p class='flag'><b>{e(t['flag'])}</b> "
                   f"{e(t['illustrative'])}</p>")
    out.append(f"<h2>{e(t['headline'])}</h2><ul>")
    out += [f"<li>{e(s)}</li>" for s in c["facts"]] + ["</ul>"]
    if image:
        data = base64.b64encode(image).decode("ascii")
        out.append(f"<img alt='{e(t['map_alt'])}' src='data:image/png;base64,{data}'>")
    out.append(f"<h2>{e(t['top_tracts'])}</h2>"
               + _html_table(c["top_header"], c["top_rows"]))
    out += [f"<p>{e(p)}</p>" for p in c["paragraphs"]]
    if c["school_rows"]:
        out.append(f"<h2>{e(t['top_schools'])}</h2>")
        out.append(_html_table([_(h) for h in _SCHOOL_HEADER], c["school_rows"]))
    if c["plan_rows"]:
        out.append(f"<h2>{e(t['sites'])}</h2>")
        if c["plan_note"]:
            out.append(f"<p>{e(c['plan_note'])}</p>")
        out.append(_html_table([_(h) for h in _PLAN_HEADER], c["plan_rows"]))
    out += [_section_html(s) for s in [*c["plan_sections"], *c["ground_sections"]]]
    out.append(f"<h2>{e(t['methods'])}</h2><ul>"
               + "".join(f"<li>{e(m)}</li>" for m in c["methods"]))
    out.append(f"</ul><h3>{e(t['definitions'])}</h3><ul>")
    out += [f"<li>{e(d)}</li>" for d in c["definitions"]] + ["</ul>"]
    out.append(f"<h2>{e(t['reliability'])}</h2><ul>")
    out += [f"<li>{e(r)}</li>" for r in c["reliability"] or [t["no_flag"]]]
    out.append(f"</ul><h2>{e(t['sources'])}</h2><ol>")
    out += [f"<li>{e(s)}</li>" for s in c["citations"]] + ["</ol></body></html>"]
    return "\n".join(out)


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|])")


def _md(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", escape(text, quote=False))


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(_md(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_md(x) for x in r) + " |" for r in rows]
    return [*lines, ""]


def render_md(c: dict[str, Any], image_ref: str | None) -> str:
    """Return the report as Markdown, linking the map image at ``image_ref``."""
    _, t = _words(c)
    out = [f"# {_md(c['title'])}", ""]
    if c["illustrative"]:
        out += [f"> **{_md(t['flag'])}** {_md(t['illustrative'])}", ""]
    out += [f"## {_md(t['headline'])}", "", *[f"- {_md(s)}" for s in c["facts"]], ""]
    if image_ref:
        out += [f"![{_md(t['map_alt'])}]({image_ref})", ""]
    out += [f"## {_md(t['top_tracts'])}", "",
            *_md_table(c["top_header"], c["top_rows"])]
    out += [line for p in c["paragraphs"] for line in (_md(p), "")]
    if c["school_rows"]:
        out += [f"## {_md(t['top_schools'])}", ""]
        out += _md_table([_(h) for h in _SCHOOL_HEADER], c["school_rows"])
    if c["plan_rows"]:
        out += [f"## {_md(t['sites'])}", ""]
        if c["plan_note"]:
            out += [_md(c["plan_note"]), ""]
        out += _md_table([_(h) for h in _PLAN_HEADER], c["plan_rows"])
    for section in [*c["plan_sections"], *c["ground_sections"]]:
        out += _section_md(section)
    out += [f"## {_md(t['methods'])}", "", *[f"- {_md(m)}" for m in c["methods"]], ""]
    out += [f"### {_md(t['definitions'])}", "", *[f"- {_md(d)}" for d in c["definitions"]], ""]
    reliability = c["reliability"] or [t["no_flag"]]
    out += [f"## {_md(t['reliability'])}", "", *[f"- {_md(r)}" for r in reliability], ""]
    out += [f"## {_md(t['sources'])}", "",
            *[f"{i}. {_md(s)}" for i, s in enumerate(c["citations"], 1)]]
    return "\n".join(out) + "\n"
