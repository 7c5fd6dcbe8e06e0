"""The cache key of a request: SHA-256 of method, URL, sorted parameters and body.

Used by :mod:`assetmap._http` to name cache files. Any ``key=`` parameter (the Census API key)
is left out of the hash and redacted from what is recorded, so the key never reaches a file
name and a new key does not invalidate the cache. Uploads are read into bytes once, so a retry
resends the same body and the key covers it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from assetmap._http_checks import redact, redact_params

__all__ = ["Params", "cache_key", "normalize_files", "param_items", "param_pairs"]

#: Query parameters: a mapping, or a sequence of (name, value) pairs.
Params = Mapping[str, Any] | Sequence[tuple[str, Any]] | None


def param_pairs(params: Params) -> list[list[Any]]:
    """Return the parameters as sorted ``[name, value]`` pairs (lists for repeated values)."""
    items = params.items() if isinstance(params, Mapping) else (params or [])
    pairs = [
        [str(k), v if v is None or isinstance(v, str | int | float) else list(v)]
        for k, v in items
    ]
    return sorted(pairs, key=lambda pair: (pair[0], json.dumps(pair[1], default=str)))


def normalize_files(files: Mapping[str, Any] | None) -> dict[str, tuple[str, bytes, str]] | None:
    """Read every upload into bytes once, so retries resend it and the cache key covers it."""
    if not files:
        return None
    out: dict[str, tuple[str, bytes, str]] = {}
    for field, value in files.items():
        name, content, ctype = field, value, "application/octet-stream"
        if isinstance(value, tuple):
            name, content = value[0], value[1]
            ctype = value[2] if len(value) > 2 else ctype
        if isinstance(content, os.PathLike):
            name = name if isinstance(value, tuple) else Path(content).name
            content = Path(content).read_bytes()
        elif hasattr(content, "read"):
            content = content.read()
        if isinstance(content, str):
            content = content.encode("utf-8")
        out[field] = (str(name), bytes(content), str(ctype))
    return out


def cache_key(
    url: str,
    *,
    params: Params = None,
    method: str = "GET",
    data: Any = None,
    files: Mapping[str, Any] | None = None,
) -> str:
    """Return the cache key of a request: SHA-256 of method, URL, sorted params and body.

    Any ``key`` parameter (the Census API key) is left out of the hash.

    Examples
    --------
    >>> a = cache_key("https://x.gov/d", params={"b": "2", "a": "1", "key": "secret"})
    >>> b = cache_key("https://x.gov/d", params={"a": "1", "b": "2"})
    >>> a == b, len(a)
    (False, 64)
    >>> a == cache_key("https://x.gov/d", params={"a": "1", "b": "2", "key": "other"})
    True
    """
    body = hashlib.sha256()
    if isinstance(data, Mapping):
        body.update(json.dumps(sorted((str(k), str(v)) for k, v in data.items())).encode())
    elif isinstance(data, str):
        body.update(data.encode("utf-8"))
    elif isinstance(data, bytes | bytearray):
        body.update(bytes(data))
    elif data is not None:
        raise TypeError(f"data must be a mapping, str or bytes, got {type(data).__name__}")
    for field, (name, content, ctype) in sorted((normalize_files(files) or {}).items()):
        body.update(f"\n{field}\n{name}\n{ctype}\n".encode())
        body.update(content)
    canonical = json.dumps(
        [
            method.upper(),
            redact(url),
            param_pairs(redact_params(dict(param_items(params)))),
            body.hexdigest(),
        ],
        default=str,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def param_items(params: Any) -> list[tuple[str, Any]]:
    """Return the parameters as a list of (name, value) tuples."""
    if params is None:
        return []
    return list(params.items()) if isinstance(params, Mapping) else [tuple(p) for p in params]
