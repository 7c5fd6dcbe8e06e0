"""The print map's PDF is a tagged PDF: title, language, structure, marked content, alt text.

Read back with pikepdf and pypdf, and checked with ``pdfua`` (the PDF/UA-1 rules that need no
JVM). veraPDF, the reference validator, is a Java program that no package registry this project
installs from ships, so it is not run here.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import pdfua
import pikepdf
import pytest
from pypdf import PdfReader

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/ helper modules
import outputs_fixtures as fx

import assetmap as am
from assetmap.outputs._classes import classify  # internal: the classes the map is drawn with
from assetmap.outputs._pdf_tags import tag_pdf  # internal: the tagging step, for Spanish

TITLE = "Where to act: $25k & more"


@pytest.fixture(scope="module")
def scored():
    return fx.scored_ector()


@pytest.fixture(scope="module")
def pdf_path(scored, tmp_path_factory):
    folder = tmp_path_factory.mktemp("tagged")
    return am.print_map(scored, folder / "map.pdf", title=TITLE, context=fx.ector_county(),
                        credits="Prepared by the district.", also=[folder / "map.png"])


@pytest.fixture(scope="module")
def pdf(pdf_path):
    with pikepdf.open(pdf_path) as document:
        yield document


def _figure(pdf: pikepdf.Pdf) -> pikepdf.Dictionary:
    return pdf.Root.StructTreeRoot.K[0].K[0]


def test_title_in_info_and_xmp_and_shown_by_readers(pdf):
    assert str(pdf.docinfo.Title) == TITLE
    with pdf.open_metadata() as meta:
        assert meta["dc:title"] == TITLE
    assert pdf.Root.ViewerPreferences.DisplayDocTitle is True
    # matplotlib's own entries are kept
    assert str(pdf.docinfo.Creator).startswith("Matplotlib")


def test_language_is_english_by_default(pdf):
    assert str(pdf.Root.Lang) == "en-US"
    assert str(pdf.Root.StructTreeRoot.K[0].Lang) == "en-US"
    with pdf.open_metadata() as meta:
        assert "en-US" in meta["dc:language"]


def test_marked_with_a_document_holding_one_figure(pdf):
    assert pdf.Root.MarkInfo.Marked is True
    root = pdf.Root.StructTreeRoot
    assert root.Type == pikepdf.Name.StructTreeRoot
    assert len(root.K) == 1
    document = root.K[0]
    assert pikepdf.Name.Document == document.S
    assert document.P.objgen == root.objgen
    assert len(document.K) == 1
    figure = document.K[0]
    assert pikepdf.Name.Figure == figure.S
    assert figure.P.objgen == document.objgen
    assert figure.Pg.objgen == pdf.pages[0].obj.objgen
    assert figure.K == 0  # marked-content id 0 on its page
    assert [float(v) for v in figure.A.BBox] == [float(v) for v in pdf.pages[0].mediabox]


def test_page_content_is_one_marked_sequence_the_figure_points_to(pdf):
    page = pdf.pages[0]
    assert len(pdf.pages) == 1
    ops = pikepdf.parse_content_stream(page)
    first, last = ops[0], ops[-1]
    assert str(first.operator) == "BDC"
    assert first.operands[0] == pikepdf.Name.Figure
    assert first.operands[1].MCID == 0
    assert str(last.operator) == "EMC"
    # no other marked content: one sequence covers everything drawn, legend and notes included
    assert [str(op.operator) for op in ops].count("BDC") == 1
    assert [str(op.operator) for op in ops].count("EMC") == 1
    assert not any(str(op.operator) == "BMC" for op in ops)
    # ParentTree: the page's StructParents key maps MCID 0 to the Figure element
    assert page.obj.StructParents == 0
    nums = pdf.Root.StructTreeRoot.ParentTree.Nums
    assert int(nums[0]) == 0
    assert nums[1][0].objgen == _figure(pdf).objgen
    assert pdf.Root.StructTreeRoot.ParentTreeNextKey == 1


def test_alt_text_says_title_classes_and_how_many_areas_each(pdf, scored):
    alt = str(_figure(pdf).Alt)
    classes = classify(scored["priority"], column="priority", scheme="quantiles", k=5)
    assert alt.startswith(f"Map: {TITLE}.")
    assert "Legend: Priority (index 0-100, higher = more need)." in alt
    assert "5 classes, coloured from light to dark." in alt
    for number, (label, count) in enumerate(zip(classes.labels, classes.counts, strict=True)):
        assert f"({number + 1}) {label}: {count} area{'s' if count != 1 else ''}." in alt
    assert sum(classes.counts) + int((classes.idx < 0).sum()) == len(scored)
    assert "Each class also has its own hatch pattern and number." in alt
    for source in scored.attrs["assetmap"]["sources"]:
        assert source["name"] in alt
    assert "Illustrative (synthetic) data" in alt
    assert "Prepared by the district." in alt
    assert "#1 tract" in alt  # the labels of the top tracts


def _words(text: str) -> set[str]:
    return {word.strip(".,;:") for word in text.split()} - {""}


def test_every_word_drawn_on_the_page_is_in_the_alt_text(pdf, pdf_path):
    alt = str(_figure(pdf).Alt)
    drawn = PdfReader(pdf_path).pages[0].extract_text()
    assert len(_words(drawn)) > 50
    assert not _words(drawn) - _words(alt)


def test_pypdf_reads_the_same_structure(pdf_path):
    reader = PdfReader(pdf_path)
    root = reader.trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"])
    assert root["/Lang"] == "en-US"
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])
    figure = root["/StructTreeRoot"]["/K"][0].get_object()["/K"][0].get_object()
    assert figure["/S"] == "/Figure"
    assert figure["/Alt"].startswith("Map: ")
    assert reader.metadata.title == TITLE
    assert reader.pages[0]["/StructParents"] == 0


def test_pdfua_finds_no_error(pdf_path):
    report = pdfua.validate(str(pdf_path))
    errors = [f for f in report.findings if f.severity.name == "ERROR"]
    assert not errors, [(f.rule_id, f.message) for f in errors]
    # the only remark: the file does not claim PDF/UA conformance (pdfuaid:part), which needs
    # the checks only veraPDF runs (fonts, among others)
    assert {f.rule_id for f in report.findings} <= {"UA-28-004"}


def test_spanish_language_is_es_us(tmp_path):
    from matplotlib.figure import Figure

    out = tmp_path / "mapa.pdf"
    Figure().savefig(out)
    tag_pdf(out, title="Dónde actuar", alt="Mapa: Dónde actuar.", language="es")
    with pikepdf.open(out) as document:
        assert str(document.Root.Lang) == "es-US"
        assert str(document.docinfo.Title) == "Dónde actuar"
        assert str(document.Root.StructTreeRoot.K[0].K[0].Alt) == "Mapa: Dónde actuar."
        with document.open_metadata() as meta:
            assert meta["dc:title"] == "Dónde actuar"


@pytest.mark.skipif("language" not in inspect.signature(am.print_map).parameters,
                    reason="print_map has no language= yet (issue 21, added separately)")
def test_print_map_in_spanish_writes_es_us(scored, tmp_path):
    out = am.print_map(scored, tmp_path / "mapa.pdf", language="es")
    with pikepdf.open(out) as document:
        assert str(document.Root.Lang) == "es-US"
        assert str(document.Root.StructTreeRoot.K[0].K[0].Alt).startswith("Mapa: ")


def test_png_and_svg_are_left_as_matplotlib_writes_them(pdf_path, scored, tmp_path):
    png = pdf_path.with_suffix(".png")  # written with the PDF through also=
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = am.print_map(scored, tmp_path / "map.svg")
    assert svg.read_text().lstrip().startswith("<?xml")
