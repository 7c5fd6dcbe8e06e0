"""Content checks, cache housekeeping and small helpers for :mod:`assetmap._http`.

A download is only cached after its body passed the check for what the caller expected:
a zip that opens and whose members read back, JSON that parses, CSV or Parquet that is not
an HTML error page. Each failed check returns a short reason that the caller turns into a
:class:`~assetmap.errors.DownloadError` naming the URL.
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import json
import logging
import re
import time
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from assetmap.settings import settings

__all__ = [
    "EXPECT_KINDS",
    "cache_entries",
    "check_body",
    "clear_cache",
    "file_sha256",
    "redact",
    "retry_after_seconds",
    "suffix_for",
]

logger = logging.getLogger("assetmap._http")

EXPECT_KINDS = ("zip", "json", "csv", "text", "parquet", None)

_KEY_IN_TEXT = re.compile(r"(?i)([?&;]key=)[^&\s'\"]+")
_HTML_START = re.compile(rb"^\s*(<!doctype\s+html|<html|<head|<body|<\?xml[^>]*>\s*<html)", re.I)
_SUFFIXES = {"zip": ".zip", "json": ".json", "csv": ".csv", "text": ".txt", "parquet": ".parquet"}


def redact(text: str) -> str:
    """Replace the value of any ``key=`` query parameter (the Census API key) in ``text``.

    Examples
    --------
    >>> redact("https://api.census.gov/data?get=NAME&key=abc123&for=tract:*")
    'https://api.census.gov/data?get=NAME&key=REDACTED&for=tract:*'
    """
    return _KEY_IN_TEXT.sub(r"\1REDACTED", text)


def redact_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Return a copy of query parameters with ``key`` replaced by ``REDACTED``."""
    return {k: ("REDACTED" if str(k).lower() == "key" else v) for k, v in (params or {}).items()}


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """Parse a ``Retry-After`` header: delay seconds or an HTTP date; None if absent or bad.

    Examples
    --------
    >>> retry_after_seconds("3")
    3.0
    >>> retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0)
    10.0
    >>> retry_after_seconds("soon") is None
    True
    """
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def suffix_for(url: str, expect: str | None) -> str:
    """Return the file suffix for a cached body: the URL's own, else the expected kind's.

    Examples
    --------
    >>> suffix_for("https://x.gov/a/tl_2020_48_tract.zip", None)
    '.zip'
    >>> suffix_for("https://api.census.gov/data/2023/acs/acs5", "json")
    '.json'
    """
    name = urlsplit(url).path.rsplit("/", 1)[-1]
    match = re.search(r"(\.[A-Za-z0-9]{1,8}(\.gz)?)$", name)
    if match:
        return match.group(1).lower()
    return _SUFFIXES.get(expect or "", ".bin")


def file_sha256(path: Path) -> str:
    """Return the hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _looks_like_html(head: bytes, content_type: str) -> bool:
    return "text/html" in content_type.lower() or bool(_HTML_START.match(head))


def _first_line(head: bytes) -> str:
    text = head.decode("utf-8", "replace").strip()
    title = re.search(r"<title>(.*?)</title>", text, re.I | re.S)
    if title:
        return f"page title {title.group(1).strip()[:80]!r}"
    return f"it begins {text[:80]!r}"


def check_body(path: Path, expect: str | None, *, content_type: str = "") -> str | None:
    """Return why the downloaded file at ``path`` is not a valid ``expect``, or None if it is.

    Parameters
    ----------
    path : pathlib.Path
        The downloaded body.
    expect : {"zip", "json", "csv", "text", "parquet", None}
        What the caller expects; None and ``"text"`` check nothing beyond the transfer.
    content_type : str
        The response's Content-Type header.

    Returns
    -------
    str or None
        A short reason, e.g. ``"the server sent an HTML page instead of a zip file"``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.json"
    >>> _ = p.write_text('{"a": 1}')
    >>> check_body(p, "json") is None
    True
    >>> _ = p.write_text("<html><title>Proxy error</title></html>")
    >>> check_body(p, "json")
    "the server sent an HTML page instead of a json file (page title 'Proxy error')"
    """
    if expect not in EXPECT_KINDS:
        raise ValueError(f"expect must be one of {EXPECT_KINDS}, got {expect!r}")
    if expect in (None, "text"):
        return None
    with path.open("rb") as handle:
        head = handle.read(4096)
    if not head:
        return f"the body is empty (expected a {expect} file)"
    if _looks_like_html(head, content_type):
        return f"the server sent an HTML page instead of a {expect} file ({_first_line(head)})"
    if expect == "zip":
        return _check_zip(path, head)
    if expect == "json":
        try:
            with path.open("rb") as handle:
                json.load(handle)
        except (ValueError, UnicodeDecodeError) as exc:
            return f"the body is not valid JSON ({exc}; {_first_line(head)})"
        return None
    if expect == "parquet":
        with path.open("rb") as handle:
            handle.seek(-4, 2)
            tail = handle.read(4)
        if head[:4] != b"PAR1" or tail != b"PAR1":
            return "the body is not a Parquet file (no PAR1 magic at its start and end)"
        return None
    if b"\x00" in head:
        return "the body is binary, not CSV text"
    return None


def _check_zip(path: Path, head: bytes) -> str | None:
    if not head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return f"the body is not a zip file ({_first_line(head)})"
    from assetmap._safezip import check_zip
    from assetmap.errors import SchemaError

    try:
        with zipfile.ZipFile(path) as archive:
            check_zip(archive, "the zip")
            bad = archive.testzip()
    except SchemaError as exc:
        return str(exc)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
        return f"the zip file does not open ({exc})"
    if bad is not None:
        return f"the zip file is corrupt (member {bad!r} fails its CRC check)"
    return None


def _valid_entry(target: Path, meta: Path) -> bool:
    """Return True if the cache entry exists and its size and SHA-256 match the sidecar."""
    if not target.exists():
        meta.unlink(missing_ok=True)  # an orphaned sidecar (its body was deleted)
        return False
    try:
        record = json.loads(meta.read_text("utf-8"))
        size_ok = target.stat().st_size == int(record["size"])
        ok = size_ok and file_sha256(target) == record["sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        ok = False
    if not ok:
        logger.warning("cache entry %s is incomplete or corrupted; downloading it again", target)
        for path in (target, meta):
            path.unlink(missing_ok=True)
    return ok


def cache_entries() -> list[dict[str, Any]]:
    """List the cached downloads: one dict per entry (path plus its sidecar record).

    Examples
    --------
    >>> isinstance(cache_entries(), list)
    True
    """
    root = Path(settings.cache_dir) / "http"
    entries = []
    for meta in sorted(root.glob("*.meta.json")):
        with contextlib.suppress(OSError, ValueError):
            record = json.loads(meta.read_text("utf-8"))
            record["path"] = str(root / record["file"])
            entries.append(record)
    return entries


def clear_cache(*, older_than_days: float | None = None) -> int:
    """Delete cached downloads (all, or those older than ``older_than_days``); return a count.

    Stray temporary files from interrupted downloads are removed too.

    Examples
    --------
    >>> clear_cache(older_than_days=36500)
    0
    """
    root = Path(settings.cache_dir) / "http"
    if not root.exists():
        return 0
    cutoff = None if older_than_days is None else time.time() - older_than_days * 86400
    removed = 0
    for meta in root.glob("*.meta.json"):
        if cutoff is not None and meta.stat().st_mtime >= cutoff:
            continue
        key = meta.name.removesuffix(".meta.json")
        for path in root.glob(f"{key}.*"):
            path.unlink(missing_ok=True)
        removed += 1
    for part in root.glob(".*.part"):
        part.unlink(missing_ok=True)
    return removed
