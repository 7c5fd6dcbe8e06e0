"""Open a user's text file safely: its encoding, and parser failures as SchemaError.

District offices export CSVs from Excel in whatever encoding Windows uses (Windows-1252,
UTF-16 "Unicode Text"), and a half-copied or mis-named file reaches the readers too. These
helpers make every such case end in a counted repair (another encoding) or a
:class:`~assetmap.errors.SchemaError` naming the file, never a raw pandas, csv or
``UnicodeDecodeError``.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import errno
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from assetmap.errors import AssetmapError, SchemaError

__all__ = ["READ_ERRORS", "check_file", "parse_errors", "semicolon_hint", "sniff_encoding"]

READ_ERRORS: tuple[type[BaseException], ...] = (
    pd.errors.ParserError,
    pd.errors.EmptyDataError,
    UnicodeError,
    csv.Error,
    OverflowError,
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
)

_BLOCK = 1 << 20


def sniff_encoding(path: str | Path) -> tuple[str, str | None]:
    r"""Return ``(encoding, note)`` for a text file; ``note`` is None for UTF-8.

    UTF-8 (with or without a byte-order mark) is tried on the whole file; a UTF-16 byte-order
    mark means UTF-16 (Excel's "Unicode Text"); anything else is read as Windows-1252 (or
    Latin-1 when even that fails), and the note says so for the report.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.csv"
    >>> _ = p.write_bytes("name\nCaf\u00e9".encode("cp1252"))
    >>> sniff_encoding(p)
    ('cp1252', 'not UTF-8 text; read as Windows-1252 (Latin-1)')
    """
    path = check_file(path)
    with path.open("rb") as handle:
        head = handle.read(4096)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", "UTF-16 text (Excel 'Unicode Text'); read as UTF-16"
    body = head[3:] if head.startswith(codecs.BOM_UTF8) else head
    if len(body) >= 8 and body.count(0) * 3 >= len(body):  # a NUL in every other byte
        if body is not head:
            raise SchemaError(f"{path}: a UTF-8 byte-order mark followed by UTF-16 text (two "
                              "encodings in one file); save it again as CSV UTF-8")
        order = "le" if body[1::2].count(0) > body[0::2].count(0) else "be"
        return f"utf-16-{order}", f"UTF-16 text without a byte-order mark; read as UTF-16-{order}"
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(_BLOCK), b""):
                decoder.decode(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8-sig", None
    try:
        with path.open("r", encoding="cp1252") as handle:
            for _ in iter(lambda: handle.read(_BLOCK), ""):
                pass
    except UnicodeDecodeError:
        return "latin-1", "not UTF-8 text; read as Latin-1"
    return "cp1252", "not UTF-8 text; read as Windows-1252 (Latin-1)"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, pd.errors.EmptyDataError):
        return "the file is empty (0 bytes, or no columns)"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "field larger than field limit" in text or isinstance(exc, OverflowError):
        return ("a cell is longer than the CSV reader allows (an enormous single line: is it "
                "a binary file, or a file with another delimiter?)")
    if isinstance(exc, UnicodeError):
        return f"the text cannot be decoded ({text[:120]}); save it as CSV (UTF-8)"
    if isinstance(exc, pd.errors.ParserError) and "fields in line" in text:
        return (f"{text[:160]}: rows have different numbers of fields (is the delimiter ';', "
                "as in a European-locale export, or is a quote left open?)")
    return text[:200]


def check_file(path: str | Path) -> Path:
    """Return ``path`` if it names a readable file; a folder or an impossible name is an error.

    A missing file stays a :class:`FileNotFoundError` (the standard error for it); a folder,
    a name too long for the file system or a file without read permission is a
    :class:`SchemaError` naming it.

    Examples
    --------
    >>> import tempfile
    >>> check_file(tempfile.mkdtemp())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    assetmap.errors.SchemaError: ...: is a folder, not a file; give the path of the file in it
    """
    path = Path(path)
    try:
        folder = path.is_dir()
    except OSError as exc:
        raise SchemaError(f"{str(path)[:200]}: not a usable file name ({exc.strerror})") from None
    if folder:
        raise SchemaError(f"{path}: is a folder, not a file; give the path of the file in it")
    return path


def semicolon_hint(columns: list[str]) -> str:
    """Return a hint for a header read as one ``;``-joined column (a European-locale CSV).

    Examples
    --------
    >>> semicolon_hint(["GEOID;B01003_001E"])
    "; its fields are separated by ';' (a European-locale export): save it as CSV with commas"
    """
    if len(columns) <= 2 and any(str(c).count(";") >= 1 for c in columns):
        return ("; its fields are separated by ';' (a European-locale export): save it as CSV "
                "with commas")
    return ""


def _os_reason(exc: OSError) -> str:
    if exc.errno == errno.ENAMETOOLONG:
        return "the file name is too long for the file system"
    if isinstance(exc, PermissionError):
        return "no permission to read it"
    if isinstance(exc, NotADirectoryError):
        return "a part of the path is a file, not a folder"
    return exc.strerror or type(exc).__name__


@contextlib.contextmanager
def parse_errors(source: str | Path, *, what: str = "CSV file") -> Iterator[None]:
    """Turn a parser failure inside the block into a :class:`SchemaError` naming ``source``.

    Examples
    --------
    >>> import pandas as pd, io
    >>> try:
    ...     with parse_errors("empty.csv"):
    ...         pd.read_csv(io.StringIO(""))
    ... except SchemaError as exc:
    ...     print(exc)
    empty.csv: not a readable CSV file: the file is empty (0 bytes, or no columns)
    """
    if isinstance(source, Path) or "://" not in str(source):
        check_file(source)
    try:
        yield
    except AssetmapError:
        raise
    except (*READ_ERRORS, *_vector_errors()) as exc:
        raise SchemaError(f"{source}: not a readable {what}: {_reason(exc)}") from exc
    except (IsADirectoryError, NotADirectoryError, PermissionError) as exc:
        raise SchemaError(f"{str(source)[:200]}: cannot read it: {_os_reason(exc)}") from exc
    except OSError as exc:
        if exc.errno != errno.ENAMETOOLONG:
            raise
        raise SchemaError(f"{str(source)[:200]}: cannot read it: {_os_reason(exc)}") from exc


def _vector_errors() -> tuple[type[BaseException], ...]:
    """Return the exceptions a vector read (pyogrio, shapely) raises on a damaged file."""
    import pyogrio.errors
    import shapely.errors

    return (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError,
            shapely.errors.ShapelyError)
