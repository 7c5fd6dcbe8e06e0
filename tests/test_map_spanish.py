"""The equity map in Spanish (issue 21): every word the map writes comes from the catalogue.

The demo is analysed once (``demo_study(...).run_on(am.load_demo(), steps=())``, no files
written); its map is drawn with ``language="es"`` and the interventions recommended in Spanish
(as a Spanish study does). What a reader sees is collected from the page: text nodes,
``title``/``aria-label``/``alt`` attributes, and the strings the page's scripts carry (legend,
layer names, popups, tooltips, the table, Leaflet's button names). Only the user's own data
values (place, school, partner and provider names, GEOIDs, grades) and product names that stay
as published are taken out first; source names, vintages, licences, score drivers and evidence
lines are checked like every other word: no English message id of the map's catalogue and no
common English word may be left.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po

import assetmap as am
from assetmap.errors import ConfigError

MAP_PO = Path(am.__file__).parent / "locale" / "es" / "LC_MESSAGES" / "map.po"
TITLE = "Ector County, Texas"
#: Common English words and the map's own English phrases; none may be left in the Spanish map.
ENGLISH_WORDS = [
    "the", "and", "of", "with", "for", "from", "households", "household", "tract", "tracts",
    "served", "unserved", "underserved", "Show as table", "Source", "Sources", "Data",
    "no data", "sites", "layers", "legend", "priority", "fiber", "survey", "evidence", "since",
    "locations", "Zoom in", "Zoom out", "Full Screen", "Close popup", "Illustrative",
    "synthetic", "suppressed", "responses", "change", "School", "Library", "Hide", "Show",
]
#: English words US Spanish uses as they are (the funding notes say "hotspots" too).
LOANWORDS = {"hotspot", "hotspots"}
#: Product names that stay as published (locale/README.md: names are not translated).
PUBLISHED_NAMES = ("Speedtest® by Ookla® Global Fixed and Mobile Network Performance Maps",)
#: The user's own data values: names of places, schools, partners and providers, ids, grades.
DATA_COLUMNS = ("name", "brand_name", "area_id", "GEOID", "grades")


def demo_layers(result: Any) -> dict[str, Any]:
    """The demo's layers, as the study's write stage passes them to ``equity_map``."""
    res, src = result.results, result.sources
    return {"sites": src.sites, "schools": src.schools, "zones": res.zones,
            "district": src.outline, "h3_cells": res.h3_cells, "survey": src.survey,
            "plan": res.plan, "plan_reach_m": 3200.0, "evidence": res.evidence,
            "challenges": res.challenges, "change": res.change,
            "change_since": src.previous_release_label}


def spanish_demo(out_dir: Path) -> tuple[Any, Any]:
    """Return (the analysed demo, its scored tracts with the interventions in Spanish)."""
    from assetmap.pipeline import demo_study

    result = demo_study(out_dir).run_on(am.load_demo(), steps=())
    scored = result.scored
    spanish = am.recommend_interventions(scored, language="es")
    columns = ["intervention", "intervention_reason", "intervention_funding"]
    return result, scored.assign(**{c: spanish[c] for c in columns})


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return spanish_demo(tmp_path_factory.mktemp("demo_es"))


@pytest.fixture(scope="module")
def html(demo):
    result, scored = demo
    m = am.equity_map(scored, title=TITLE, language="es", **demo_layers(result))
    return m.get_root().render()


class _Visible(HTMLParser):
    """Text nodes and named attributes, and the text of each inline script."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.scripts: list[tuple[str, str]] = []
        self._script: tuple[str, list[str]] | None = None
        self._style = False

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        self.texts += [values[k] for k in ("title", "aria-label", "alt") if values.get(k)]
        if tag == "script":
            self._script = (values.get("type") or "", [])
        self._style = tag == "style"

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            self.scripts.append((self._script[0], "".join(self._script[1])))
            self._script = None
        self._style = False

    def handle_data(self, data):
        if self._script is not None:
            self._script[1].append(data)
        elif not self._style and data.strip():
            self.texts.append(data.strip())


_JS_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"(\s*:)?')  # a key when ":" follows (a code)
_CODE_KEYS = {"t", "g"}  # icon type codes and GEOIDs: not shown as words


def _html_texts(fragment: str) -> list[str]:
    parser = _Visible()
    parser.feed(fragment)
    return parser.texts


def _json_strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for k, v in value.items() if k not in _CODE_KEYS for s in _json_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _json_strings(v)]
    return [value] if isinstance(value, str) else []


def visible_texts(page: str) -> list[str]:
    """Every piece of text a reader of ``page`` can see or hear."""
    parser = _Visible()
    parser.feed(page)
    texts = list(parser.texts)
    for kind, script in parser.scripts:
        if kind == "application/json":  # embedded features: their properties
            features = json.loads(script)["features"]
            texts += [s for f in features for s in _json_strings(f.get("p", f.get("properties")))]
            continue
        for match in _JS_STRING.finditer(script):
            if match.group(1) or script[max(match.start() - 4, 0):match.start()] in (
                    '"t":', '"g":'):  # a key, an icon type code or a GEOID: not words
                continue
            try:
                value = json.loads(match.group(0))
            except ValueError:
                continue
            texts += _html_texts(value) if "<" in value else [value]
    return texts


def _data_strings(result: Any, scored: Any) -> list[str]:
    """The user's own data values (names, providers, ids) and published product names."""
    res, src = result.results, result.sources
    frames = [scored, src.sites, src.schools, res.zones, res.plan, res.evidence,
              res.challenges, res.change, res.h3_cells, src.survey]
    found: set[str] = {TITLE, *PUBLISHED_NAMES}
    for frame in (f for f in frames if f is not None):
        for column in DATA_COLUMNS:
            if column in frame:
                found.update(str(v) for v in frame[column].dropna())
    return sorted((s for s in found if s.strip()), key=len, reverse=True)


def _leftovers(texts: list[str], data: list[str]) -> list[str]:
    out = []
    for text in texts:
        for value in data:
            text = text.replace(value, " ")
        out.append(re.sub(r"https?://\S+", " ", text))  # addresses are not words
    return out


def _english_ids() -> list[str]:
    """Literal parts (4+ characters) of the map catalogue's ids whose Spanish differs."""
    with MAP_PO.open("rb") as handle:
        catalogue = read_po(handle)
    parts: set[str] = set()
    for message in catalogue:
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        for key, text in zip(ids, strings, strict=False):
            if key and text:  # the parts the Spanish does not keep (units such as "Mbps" stay)
                parts.update(p.strip(" :;,()#") for p in re.split(r"\{[^}]*\}", key)
                             if p.strip(" :;,()#") not in text)
    parts -= LOANWORDS
    return sorted(p for p in parts if len(p) >= 4 and re.search("[A-Za-z]{3}", p))


def _found(phrase: str, texts: list[str], *, ignore_case: bool) -> list[str]:
    pattern = re.compile(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])",
                         re.IGNORECASE if ignore_case else 0)
    return [t for t in texts if pattern.search(t)]


def test_the_spanish_map_has_no_english_message_left(demo, html):
    texts = _leftovers(visible_texts(html), _data_strings(*demo))
    assert len(texts) > 500  # the legend, the layers, every popup value, the table
    ids = _english_ids()
    assert len(ids) > 150
    left = {phrase: _found(phrase, texts, ignore_case=False)[:3] for phrase in ids}
    assert {k: v for k, v in left.items() if v} == {}


def test_the_spanish_map_has_no_common_english_word_left(demo, html):
    texts = _leftovers(visible_texts(html), _data_strings(*demo))
    left = {word: _found(word, texts, ignore_case=True)[:3] for word in ENGLISH_WORDS}
    assert {k: v for k, v in left.items() if v} == {}


def test_the_spanish_page_names_its_language_and_uses_the_glossary(html):
    assert '<html lang="es">' in html
    assert f"<title>{TITLE}</title>" in html
    texts = visible_texts(html)
    for phrase in ("Ver como tabla", "Leyenda del mapa", "Datos ilustrativos", "Sitios aliados",
                   "Prioridad (índice 0-100; más alto = más necesidad)",
                   "Cambios desde diciembre de 2024", "Límite del distrito escolar",
                   "Acercar", "Alejar", "Pantalla completa", "Capas del mapa"):
        assert any(phrase in t for t in texts), phrase
    assert '"localization": "es"' in html  # leaflet-measure's own Spanish words
    assert any(t.startswith("Sector censal ") for t in texts)  # TIGER's "Census Tract N"


def test_english_stays_the_default_and_other_languages_are_refused():
    tracts = am.load_demo().tracts.assign(priority=1.0)
    english = am.equity_map(tracts, tiles=None).get_root().render()
    assert '<html lang="en">' in english
    assert "Show as table" in english
    assert "Ver como tabla" not in english
    with pytest.raises(ConfigError, match="'es'"):
        am.equity_map(tracts, tiles=None, language="fr")


def _js_strings(page: str) -> list[str]:
    """Every string literal of the page's scripts (keys included)."""
    found = []
    for match in _JS_STRING.finditer(page):
        try:
            found.append(json.loads(match.group(0).rstrip(": \t\n")))
        except ValueError:
            continue
    return found


def _legend_keys(page: str) -> list[tuple[str, str]]:
    """(icon letter, name) of each site key in the legend, as a reader sees them side by side."""
    found = []
    for value in _js_strings(page):
        if 'class="am-legend-section"' in value:
            found += re.findall(r'<circle[^>]*/><text[^>]*>([^<]+)</text></svg></span>([^<]+)<',
                                value)
    return found


def test_site_letters_are_spanish_initials_paired_with_their_names(html):
    keys = {name: letter for letter, name in _legend_keys(html)}
    assert keys["Biblioteca"] == "B"
    assert len(keys) >= 4, keys
    for name, letter in keys.items():
        if letter.isalpha():  # each letter is an initial of the Spanish name beside it
            assert letter.lower() in [w[0].lower() for w in re.findall(r"\w+", name)], name


def test_the_spanish_attribution_keeps_the_openstreetmap_link(html):
    credit = [t for t in _js_strings(html) if "openstreetmap.org/copyright" in t]
    assert credit
    assert all(t.endswith(">OpenStreetMap</a>") and "colaboradores de <a href=" in t
               for t in credit), credit
    assert "contributors" not in " ".join(credit)
