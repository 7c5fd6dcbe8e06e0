"""One path for every download: :func:`fetch` returns a checked, cached local file.

Cache layout (under ``settings.cache_dir``, the platform's user cache directory unless
``ASSETMAP_CACHE_DIR`` or ``am.settings.cache_dir`` says otherwise)::

    <cache_dir>/http/<key><suffix>        the body, e.g. 3f9c...e1.zip
    <cache_dir>/http/<key>.meta.json      url, method, params, time, size, sha256,
                                          content_type, description (API key redacted)

``key`` is the SHA-256 of method, URL, sorted query parameters and request body, with any
``key=`` parameter (the Census API key) left out (:func:`assetmap._http_key.cache_key`), so
the key never reaches a file name and a new key does not invalidate the cache. Extra request
``headers`` (credentials such as the FCC's ``username`` and ``hash_value``) are sent but are
never part of the key or the sidecar, and their values are replaced by ``REDACTED`` in every
message. ``suffix`` is the URL's own (``.zip``) or the expected kind's (``.json``), so
readers that go by extension (pyogrio) can open the file directly.

A cache entry is served only when its sidecar exists and the file's size and SHA-256 match it;
otherwise the entry is removed and downloaded again. Bodies are written to a temporary file in
the same directory and moved into place with :func:`os.replace` only after every check passed,
so a crash, a timeout or Ctrl-C leaves neither a half file nor a stray temporary file.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import requests
from tqdm import tqdm

from assetmap._http_checks import (
    EXPECT_KINDS,
    _valid_entry,
    cache_entries,
    check_body,
    clear_cache,
    file_sha256,
    redact,
    redact_params,
    retry_after_seconds,
    suffix_for,
)
from assetmap._http_key import Params, cache_key, normalize_files, param_items, param_pairs
from assetmap.errors import DownloadError, OfflineError
from assetmap.settings import settings

__all__ = ["HTTPStatusError", "cache_entries", "cache_key", "cached_path", "clear_cache", "fetch"]

logger = logging.getLogger(__name__)

_CHUNK_BYTES = 64 * 1024
_PROGRESS_MIN_BYTES = 5 * 1024 * 1024
_MAX_WAIT_SECONDS = 120.0
_SNIPPET_CHARS = 200

# Called as hook(url, bytes_so_far) after every chunk written; lets a caller (or a test)
# observe progress or interrupt a download (e.g. raise KeyboardInterrupt) without touching
# requests' internals.
_CHUNK_HOOKS: list[Callable[[str, int], None]] = []

_SESSION: requests.Session | None = None


class _TransientError(Exception):
    """A failure worth retrying (broken connection, short body, timeout while reading)."""


class HTTPStatusError(DownloadError):
    """The server answered with an HTTP 4xx status that is not retried; ``status`` is it."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


def _scrub(text: str, secrets: tuple[str, ...]) -> str:
    """Redact ``key=`` values and every secret header value from ``text``."""
    for secret in secrets:
        text = text.replace(secret, "REDACTED")
    return redact(text)


def _session() -> requests.Session:
    global _SESSION
    if _SESSION is None:
        _SESSION = requests.Session()
    _SESSION.headers["User-Agent"] = settings.user_agent
    return _SESSION


def _shown_url(method: str, url: str, params: Any) -> str:
    try:
        prepared = requests.Request(method, url, params=params).prepare().url or url
    except (requests.RequestException, ValueError):
        prepared = url
    return redact(prepared)


def cached_path(
    url: str,
    *,
    params: Params = None,
    method: str = "GET",
    data: Any = None,
    files: Mapping[str, Any] | None = None,
) -> Path | None:
    """Return the valid cached file of a request, or None if it is not cached (no request).

    Examples
    --------
    >>> cached_path("https://www2.census.gov/never-fetched.zip") is None
    True
    """
    key = cache_key(url, params=params, method=method.upper(), data=data, files=files)
    root = Path(settings.cache_dir) / "http"
    meta = root / f"{key}.meta.json"
    try:
        target = root / json.loads(meta.read_text("utf-8"))["file"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return target if _valid_entry(target, meta) else None


def fetch(
    url: str,
    *,
    params: Params = None,
    method: str = "GET",
    data: Any = None,
    files: Mapping[str, Any] | None = None,
    expect: str | None = None,
    cache: bool = True,
    description: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Path:
    """Download ``url`` (or serve it from the cache) and return the local file's path.

    Parameters
    ----------
    url : str
        The address; query parameters may be given in ``params`` instead.
    params : mapping or sequence of pairs, optional
        Query parameters (a value may be a list for repeated parameters).
    method : {"GET", "POST"}
        The HTTP method.
    data : mapping, str or bytes, optional
        Request body (form fields or raw bytes).
    files : mapping, optional
        Multipart uploads: ``{"field": (filename, bytes_or_file_or_path[, content_type])}``.
    expect : {"zip", "json", "csv", "text", "parquet", None}
        What the body must be. A body that is not (an HTML error page, a zip that does not
        open, JSON that does not parse) raises :class:`~assetmap.errors.DownloadError` and
        is not cached.
    cache : bool
        Serve a valid cached copy when True. When False, always download; the fresh body
        still replaces the cache entry (so offline mode can serve it later).
    description : str, optional
        Words for messages and the progress bar, e.g. ``"TIGER/Line 2020 tracts, Texas"``.
    headers : mapping, optional
        Extra request headers, e.g. credentials. They are not part of the cache key, are not
        written to the sidecar, and their values are redacted from every message.

    Returns
    -------
    pathlib.Path
        The cached file (do not modify it).

    Raises
    ------
    OfflineError
        ``settings.offline`` is on and the URL is not in the cache.
    DownloadError
        After ``settings.max_retries`` retries of a connection error, timeout, short body,
        HTTP 429 or 5xx; at once (:class:`HTTPStatusError`, with the status in ``status``)
        for any other HTTP 4xx, a body larger than
        ``settings.max_download_bytes`` or a body that fails the ``expect`` check. The
        message names the URL (with any ``key=`` redacted) and what was wrong.

    Examples
    --------
    >>> import assetmap as am
    >>> with am.settings.override(offline=True):
    ...     try:
    ...         fetch("https://www2.census.gov/not-cached.zip", expect="zip")
    ...     except am.errors.OfflineError as exc:
    ...         print(type(exc).__name__)
    OfflineError
    """
    if expect not in EXPECT_KINDS:
        raise ValueError(f"expect must be one of {EXPECT_KINDS}, got {expect!r}")
    method = method.upper()
    uploads = normalize_files(files)
    key = cache_key(url, params=params, method=method, data=data, files=uploads)
    root = Path(settings.cache_dir) / "http"
    target = root / f"{key}{suffix_for(url, expect)}"
    meta = root / f"{key}.meta.json"
    shown = _shown_url(method, url, params)
    label = f"{description} ({shown})" if description else shown
    if (cache or settings.offline) and _valid_entry(target, meta):
        logger.debug("cache hit for %s: %s", shown, target)
        return target
    if settings.offline:
        raise OfflineError(
            f"{label}: offline mode is on and this download is not in the cache "
            f"({root}); turn offline mode off (am.settings.offline = False or "
            "ASSETMAP_OFFLINE=0) to download it once"
        )
    root.mkdir(parents=True, exist_ok=True)
    extra = {str(k): str(v) for k, v in (headers or {}).items()}
    request = {"method": method, "url": url, "params": params, "data": data, "files": uploads,
               "headers": extra or None}
    record = {
        "url": shown,
        "method": method,
        "params": param_pairs(redact_params(dict(param_items(params)))),
        "description": description,
    }
    secrets = tuple(sorted({v for v in extra.values() if v}, key=len, reverse=True))
    return _download(request, target, meta, record, expect=expect, label=label, secrets=secrets)


def _download(
    request: dict[str, Any],
    target: Path,
    meta: Path,
    record: dict[str, Any],
    *,
    expect: str | None,
    label: str,
    secrets: tuple[str, ...] = (),
) -> Path:
    attempts = settings.max_retries + 1
    timeout = settings.timeout
    last = "no attempt made"
    for attempt in range(attempts):
        wait: float | None = None
        try:
            response = _session().request(**request, timeout=(timeout, timeout), stream=True)
        except requests.Timeout as exc:
            last = f"timed out after {timeout:g} s ({type(exc).__name__})"
        except requests.RequestException as exc:
            last = f"connection failed ({_scrub(str(exc), secrets)[:_SNIPPET_CHARS]})"
        else:
            with response:
                status = response.status_code
                if status == 429 or status >= 500:
                    last = f"HTTP {status} {response.reason or ''}".strip()
                    if status in (429, 503):
                        wait = retry_after_seconds(response.headers.get("Retry-After"))
                elif status >= 400:
                    snippet = _scrub(response.text[:4096], secrets)[:_SNIPPET_CHARS].strip()
                    raise HTTPStatusError(
                        f"{label}: HTTP {status} {response.reason or ''}"
                        f"{': ' + snippet if snippet else ''} (not retried)",
                        status=status,
                    )
                else:
                    try:
                        return _write_body(response, target, meta, record, expect, label)
                    except _TransientError as exc:
                        last = str(exc)
        if attempt + 1 < attempts:
            delay = settings.backoff * 2**attempt if wait is None else wait
            delay = min(delay, _MAX_WAIT_SECONDS)
            logger.info("%s: %s; retry %d of %d in %.1f s", label, last, attempt + 1,
                        attempts - 1, delay)
            time.sleep(delay)
    raise DownloadError(f"{label}: {last}; gave up after {attempts} attempt(s)")


def _content_length(response: requests.Response) -> int | None:
    try:
        value = int(response.headers.get("Content-Length", ""))
    except ValueError:
        return None
    return value if value >= 0 else None


def _write_body(
    response: requests.Response,
    target: Path,
    meta: Path,
    record: dict[str, Any],
    expect: str | None,
    label: str,
) -> Path:
    limit = settings.max_download_bytes
    length = _content_length(response)
    if length is not None and length > limit:
        raise DownloadError(
            f"{label}: the body is {length:,} bytes, more than settings.max_download_bytes "
            f"({limit:,}); raise that limit to download it"
        )
    encoded = bool(response.headers.get("Content-Encoding", "").strip())
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    meta_tmp = tmp.with_suffix(".meta.part")
    got = 0
    show = sys.stderr is not None and sys.stderr.isatty() and (length or 0) > _PROGRESS_MIN_BYTES
    try:
        with (
            os.fdopen(fd, "wb") as out,
            tqdm(total=length, unit="B", unit_scale=True, disable=not show,
                 desc=(record.get("description") or target.name)[:40], leave=False) as bar,
        ):
            try:
                for chunk in response.iter_content(_CHUNK_BYTES):
                    got += len(chunk)
                    if got > limit:
                        raise DownloadError(
                            f"{label}: the body passed settings.max_download_bytes "
                            f"({limit:,}) while downloading; nothing was cached"
                        )
                    out.write(chunk)
                    bar.update(len(chunk))
                    for hook in _CHUNK_HOOKS:
                        hook(record["url"], got)
            except requests.RequestException as exc:
                promised = f" of {length:,} promised by Content-Length" if length else ""
                raise _TransientError(
                    f"the connection broke after {got:,} bytes{promised} "
                    f"({type(exc).__name__}); the body is shorter than it should be"
                ) from exc
        if length is not None and not encoded and got < length:
            raise _TransientError(
                f"the body is shorter than its Content-Length ({got:,} of {length:,} bytes)"
            )
        reason = check_body(tmp, expect, content_type=response.headers.get("Content-Type", ""))
        if reason:
            raise DownloadError(f"{label}: {reason}; nothing was cached")
        entry = {
            **record,
            "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "size": got,
            "sha256": file_sha256(tmp),
            "content_type": response.headers.get("Content-Type", ""),
            "status": response.status_code,
            "file": target.name,
        }
        meta_tmp.write_text(json.dumps(entry, indent=1), "utf-8")
        tmp.replace(target)
        meta_tmp.replace(meta)
    except BaseException:
        tmp.unlink(missing_ok=True)
        meta_tmp.unlink(missing_ok=True)
        raise
    logger.debug("downloaded %s (%d bytes) to %s", label, got, target)
    return target
