"""Make the print map's PDF a tagged PDF: title, language, structure and a text alternative.

matplotlib writes an untagged PDF. :func:`tag_pdf` edits it in place with pikepdf (qpdf):

- the document title in the Info dictionary and in the XMP metadata (``dc:title``), and
  ``/ViewerPreferences << /DisplayDocTitle true >>`` so readers show it instead of the file name;
- the document language (``/Lang``, e.g. ``en-US`` or ``es-US``, from the message catalogue);
- ``/MarkInfo << /Marked true >>`` and a structure tree: a ``Document`` element holding one
  ``Figure`` element per page, with ``/Alt`` text;
- each page's whole content wrapped in one marked-content sequence (``/Figure <</MCID 0>> BDC
  ... EMC``) that the Figure element points to, through the page's ``/StructParents`` and the
  tree's ``/ParentTree``.

The legend, notes and credits are drawn inside the figure, so the figure's text alternative
(:func:`describe_print_map`) says all of it: the title, what the classes are and how many areas
fall in each, the labels on the map and every note under it, read from the drawn figure itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name, String

from assetmap._i18n import messages
from assetmap.outputs._class_marks import marked
from assetmap.outputs._classes import Classes
from assetmap.outputs._contrast import relative_luminance

__all__ = ["describe_print_map", "tag_pdf", "tag_print_pdfs"]


def _shown(text: str) -> str:
    """Return matplotlib text as a reader sees it (a backslash-dollar is drawn as ``$``)."""
    return " ".join(text.replace("\\$", "$").split())


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?", ":")) else text + "."


def describe_print_map(fig, classes: Classes, *, language: str = "en") -> tuple[str, str]:
    """Return the title and the text alternative of a drawn print map.

    Everything is read from the figure as drawn (title, legend, labels, notes) and from the
    classes that coloured it (how many areas each class holds), so the description says what
    the map shows in the map's own words.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The print map, with its title as its largest figure text and its legend.
    classes : Classes
        The classification that coloured the map.
    language : str
        Language of the connecting words (``"en"`` or ``"es"``).

    Returns
    -------
    (str, str)
        The title, and the text alternative.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> from assetmap.outputs._classes import classify
    >>> fig = Figure()
    >>> _ = fig.text(0, 1, "Fiber", fontsize=16)
    >>> title, alt = describe_print_map(fig, classify([0.1, 0.9], column="fiber_share", k=2))
    >>> title, alt.splitlines()[0]
    ('Fiber', 'Map: Fiber.')
    """
    _ = messages(language)
    texts = [t for t in fig.texts if _shown(t.get_text())]
    heading = max(texts, key=lambda t: t.get_fontsize(), default=None)
    title = _shown(heading.get_text()) if heading is not None else classes.info.label
    lines = [_("Map: {title}.", title=title)]
    legend = fig.legends[-1] if fig.legends else None
    labels = [_shown(t.get_text()) for t in legend.texts] if legend is not None else []
    labels = labels or list(classes.labels)
    legend_title = _shown(legend.get_title().get_text()) if legend is not None else ""
    if classes.k:
        lines.append(_sentence(_("Legend: {heading}", heading=legend_title or classes.info.title)))
        light_first = relative_luminance(classes.colors[0]) >= relative_luminance(
            classes.colors[-1])
        lines.append(_("{count} classes, coloured from light to dark.", count=classes.k)
                     if light_first
                     else _("{count} classes, coloured from dark to light.", count=classes.k))
        if marked(classes):
            lines.append(_("Each class also has its own hatch pattern and number."))
        # the legend lists the classes, then "no data" when some area has none, then the rest
        missing = int((classes.idx < 0).sum())
        counts = [*classes.counts, *([missing] if missing else [])]
        for label, count in zip(labels, counts, strict=False):
            areas = _.plural("{count} area", "{count} areas", int(count))
            lines.append(_("{label}: {areas}.", label=label, areas=areas))
        if labels[len(counts):]:
            lines.append(_("Also in the legend: {entries}.",
                           entries="; ".join(labels[len(counts):])))
    on_map = [_shown(t.get_text()) for ax in fig.axes for t in ax.texts]
    on_map += [_shown(ax.get_title()) for ax in fig.axes if ax.get_title()]
    on_map = [t for t in on_map if t]
    if on_map:
        lines.append(_("Text on the map: {texts}.", texts="; ".join(on_map)))
    lines += [_sentence(_shown(t.get_text())) for t in texts if t is not heading]
    return title, "\n".join(lines)


def tag_pdf(path: str | Path, *, title: str, alt: str, language: str = "en") -> Path:
    """Make a one-figure PDF a tagged PDF, in place: title, language, structure, alt text.

    Each page's content becomes one ``Figure`` (marked-content id 0 on its page) whose ``/Alt``
    is ``alt``, inside one ``Document`` element.

    Parameters
    ----------
    path : str or Path
        The PDF to tag (rewritten in place).
    title : str
        The document title (Info ``/Title``, XMP ``dc:title``, shown by readers).
    alt : str
        The text alternative of the figure.
    language : str
        Language code (``"en"``, ``"es"``); written as ``/Lang`` (``en-US``, ``es-US``).

    Returns
    -------
    pathlib.Path
        The tagged file.

    Examples
    --------
    >>> import tempfile
    >>> from matplotlib.figure import Figure
    >>> out = Path(tempfile.mkdtemp()) / "f.pdf"
    >>> Figure().savefig(out)
    >>> with pikepdf.open(tag_pdf(out, title="A map", alt="An empty map.", language="es")) as p:
    ...     str(p.Root.Lang), bool(p.Root.MarkInfo.Marked), str(p.docinfo.Title)
    ('es-US', True, 'A map')
    """
    path = Path(path)
    lang = messages(language).pdf_lang
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        root = pdf.make_indirect(Dictionary(Type=Name.StructTreeRoot))
        document = pdf.make_indirect(
            Dictionary(Type=Name.StructElem, S=Name.Document, P=root, Lang=String(lang))
        )
        figures, nums = Array(), []  # nums: the ParentTree's key, value pairs
        for number, page in enumerate(pdf.pages):
            page.contents_coalesce()
            content = page.obj.Contents.read_bytes()
            page.obj.Contents.write(b"/Figure <</MCID 0>> BDC\n" + content + b"\nEMC\n")
            box = Array([float(v) for v in page.mediabox])
            figure = pdf.make_indirect(Dictionary(
                Type=Name.StructElem, S=Name.Figure, P=document, Pg=page.obj, K=0,
                Alt=String(alt), A=Dictionary(O=Name.Layout, Placement=Name.Block, BBox=box),
            ))
            page.obj.StructParents = number
            page.obj.Tabs = Name.S
            figures.append(figure)
            nums += [number, Array([figure])]
        document.K = figures
        root.K = Array([document])
        root.ParentTree = pdf.make_indirect(Dictionary(Nums=Array(nums)))
        root.ParentTreeNextKey = len(pdf.pages)
        pdf.Root.StructTreeRoot = root
        pdf.Root.MarkInfo = Dictionary(Marked=True)
        pdf.Root.Lang = String(lang)
        pdf.Root.ViewerPreferences = Dictionary(DisplayDocTitle=True)
        with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
            meta.load_from_docinfo(pdf.docinfo)  # keep matplotlib's creator, producer, date
            meta["dc:title"] = title
            meta["dc:language"] = [lang]
        pdf.docinfo[Name.Title] = String(title)
        pdf.save(path, deterministic_id=True)
    return path


def tag_print_pdfs(paths: Iterable[str | Path], fig, classes: Classes, *,
                   language: str = "en") -> None:
    """Tag every PDF among the files a print map was saved to (the hook ``print_map`` calls).

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> from assetmap.outputs._classes import classify
    >>> tag_print_pdfs(["map.png"], Figure(), classify([1.0, 2.0], k=2))  # no PDF: nothing
    """
    pdfs = [Path(p) for p in paths if Path(p).suffix.lower() == ".pdf"]
    if not pdfs:
        return
    title, alt = describe_print_map(fig, classes, language=language)
    for pdf in pdfs:
        tag_pdf(pdf, title=title, alt=alt, language=language)
