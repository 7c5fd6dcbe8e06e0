"""`assetmap demo --language es`: every output a reader sees is Spanish, end to end.

The map and the report have their own, finer checks (tests/test_map_spanish.py and
tests/test_report_spanish.py); this one runs the command a user types and reads what it wrote:
the console summary, the HTML map and report (their page text; the map's data and scripts are
read by tests/test_map_spanish.py), and the print map's PDF.
"""

from __future__ import annotations

import html as htmllib
import re
from pathlib import Path

import pandas as pd
import pytest
from pypdf import PdfReader

import assetmap as am
from assetmap.cli import main  # internal: the `assetmap` command, tested as main([...])
from tests.spanish_text import fragments_left, without_values, words_left

ENGLISH_WORDS = ("the", "and", "of", "with", "households", "tract", "tracts", "served",
                 "unserved", "underserved", "locations", "Sources", "priority", "fiber",
                 "wrote", "files", "as of", "not available", "tests", "devices", "since")
#: Columns whose values are the user's data (names), shown as written in any language.
NAME_COLUMNS = ("name", "NAMELSAD", "NAME", "brand_name", "providers_entering_names", "source",
                "district_name", "title")


@pytest.fixture(scope="module")
def demo_es(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo_es")
    import contextlib
    import io

    console = io.StringIO()
    with contextlib.redirect_stdout(console):
        code = main(["demo", "--language", "es", "--out", str(out)])
    assert code == 0
    return out, console.getvalue()


def _page_text(path: Path) -> str:
    page = path.read_text(encoding="utf-8")
    page = re.sub(r"data:image/[a-z]+;base64,[A-Za-z0-9+/=]+", "", page)
    page = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.DOTALL)
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", page))


def _data_values(out: Path) -> list[str]:
    demo = am.load_demo()
    frames = [pd.read_csv(p, dtype=str) for p in sorted(out.glob("*.csv"))]
    frames += [demo.sites, demo.schools, demo.tracts]
    values: set[str] = set()
    for frame in frames:
        for column in NAME_COLUMNS:
            if column in frame:
                values.update(" ".join(str(v).split()) for v in frame[column].dropna())
    return sorted((v for v in values if re.search("[A-Za-z]{3}", v)), key=len, reverse=True)


@pytest.fixture(scope="module")
def texts(demo_es):
    out, console = demo_es
    pdf = PdfReader(str(next(out.glob("*_priority_map.pdf"))))
    # the console's file list: output keys and paths (tracts.csv /tmp/...), not words
    listing = re.compile(r"^ {2}\S+\s+/\S+$", re.MULTILINE)
    found = {
        "console": listing.sub(" ", console),
        "map": _page_text(next(out.glob("*_equity_map.html"))),
        "report": _page_text(next(out.glob("*_report.html"))),
        "pdf": "\n".join(page.extract_text() for page in pdf.pages),
    }
    values = _data_values(out)
    return {name: without_values(text, values) for name, text in found.items()}


@pytest.mark.parametrize("output", ["console", "map", "report", "pdf"])
def test_no_english_message_is_left(texts, output):
    left = fragments_left(texts[output])
    assert not left, f"English left in the Spanish {output}: {left[:20]}"


@pytest.mark.parametrize("output", ["console", "map", "report", "pdf"])
def test_no_common_english_word_is_left(texts, output):
    left = words_left(texts[output], ENGLISH_WORDS, context=50)
    assert not left, f"English words in the Spanish {output}: {left}"


def test_every_output_declares_spanish(demo_es):
    out, console = demo_es
    assert re.search(r"<html lang=['\"]es['\"]", next(out.glob("*_equity_map.html")).read_text())
    assert re.search(r"<html lang=['\"]es['\"]", next(out.glob("*_report.html")).read_text())
    pdf = PdfReader(str(next(out.glob("*_priority_map.pdf"))))
    assert str(pdf.trailer["/Root"]["/Lang"]) == "es-US"
    assert "se escribieron" in console
    assert "hogares" in console
    assert re.search(r"\b\d{1,2} de [a-z]+ de \d{4}\b", console), "dates in Spanish"
