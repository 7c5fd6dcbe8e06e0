"""Inline Leaflet and the plugins' JS/CSS into a folium map, so its HTML works with no network.

The files come from the copies shipped in ``assetmap/outputs/_vendor`` (see
``scripts/vendor_leaflet.sh`` and ``_vendor/VERSIONS.txt``) or from a directory the user points
to (``assets_dir``), never from a download. Each ``<script src>``/``<link href>`` that folium
would write becomes a ``data:`` URI, and images that a stylesheet refers to (Leaflet's layer
icon, the measure tool's buttons) are inlined into that stylesheet.
"""

from __future__ import annotations

import base64
import mimetypes
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from assetmap.errors import OfflineError

__all__ = ["VENDOR_DIR", "inline_assets", "resolve_asset"]

VENDOR_DIR = Path(__file__).resolve().parent / "_vendor"

# folium's default resources that the equity map does not use (Bootstrap, jQuery and the
# Font Awesome marker icons): an offline map leaves them out instead of inlining ~1 MB
_UNUSED_DEFAULTS = {
    "jquery",
    "bootstrap",
    "awesome_markers",
    "bootstrap_css",
    "glyphicons_css",
    "awesome_markers_font_css",
    "awesome_markers_css",
    "awesome_rotate_css",
}
# the image types stylesheets refer to (mimetypes would read the system's tables for these)
_IMAGE_TYPES = {".png": "image/png", ".svg": "image/svg+xml", ".gif": "image/gif",
                ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
_CSS_URL = re.compile(r"url\((['\"]?)([^)'\"]+)\1\)")


def _index(directory: Path) -> dict[str, Path]:
    return {p.name: p for p in sorted(directory.rglob("*")) if p.is_file()}


@cache
def _vendor_index() -> dict[str, Path]:
    return _index(VENDOR_DIR)


def _candidates(name: str) -> list[str]:
    """Return file names that may hold ``name`` (with and without ``.min``)."""
    stem, dot, ext = name.rpartition(".")
    if not dot:
        return [name]
    names = [name]
    if stem.endswith(".min"):
        names.append(f"{stem.removesuffix('.min')}.{ext}")
    else:
        names.append(f"{stem}.min.{ext}")
    return names


def resolve_asset(url: str, *, assets_dir: str | Path | None = None) -> Path:
    """Return the local copy of a CDN URL, by file name, from ``assets_dir`` or the vendored files.

    Raises
    ------
    OfflineError
        If no local copy exists, naming the URL and the directories searched.

    Examples
    --------
    >>> resolve_asset("https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js").name
    'leaflet.js'
    """
    name = Path(urlparse(url).path).name
    indexes: list[dict[str, Path]] = []
    if assets_dir is not None:
        indexes.append(_index(Path(assets_dir)))
    indexes.append(_vendor_index())
    for index in indexes:
        for candidate in _candidates(name):
            if candidate in index:
                return index[candidate]
    searched = ", ".join(str(p) for p in ([Path(assets_dir)] if assets_dir else []) + [VENDOR_DIR])
    raise OfflineError(
        f"offline map: no local copy of {url} (looked for {name!r} in {searched}); put the file "
        "in a directory and pass assets_dir=..., or leave offline=False"
    )


def _data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _inline_css(path: Path) -> str:
    text = path.read_text(encoding="utf-8")

    def replace(match: re.Match[str]) -> str:
        ref = match.group(2)
        if ref.startswith(("data:", "#")):
            return match.group(0)
        target = (path.parent / ref).resolve()
        if not target.is_file():
            return "none"  # a missing decorative image: drop it rather than reach the network
        mime = _IMAGE_TYPES.get(target.suffix.lower()) or mimetypes.guess_type(target.name)[0]
        mime = mime or "application/octet-stream"
        return f"url({_data_uri(target.read_bytes(), mime)})"

    return _CSS_URL.sub(replace, text)


def _inline(url: str, *, kind: str, assets_dir: str | Path | None) -> str:
    if url.startswith("data:"):
        return url
    path = resolve_asset(url, assets_dir=assets_dir)
    if kind == "css":
        return _data_uri(_inline_css(path).encode("utf-8"), "text/css")
    return _data_uri(path.read_bytes(), "text/javascript")


def _walk(element: Any) -> Iterable[Any]:
    yield element
    for child in list(getattr(element, "_children", {}).values()):
        yield from _walk(child)


def inline_assets(element: Any, *, assets_dir: str | Path | None = None) -> None:
    """Replace every CDN link of ``element`` and its children with an inlined ``data:`` URI.

    Works on a folium Map (or its Figure) in place; call it after the last layer or plugin is
    added. Links to resources the equity map does not use (Bootstrap, jQuery, Font Awesome) are
    dropped.

    Examples
    --------
    >>> import folium
    >>> m = folium.Map(tiles=None)
    >>> inline_assets(m)
    >>> [name for name, _ in m.default_js], m.default_js[0][1][:22]
    (['leaflet'], 'data:text/javascript;b')
    """
    for item in _walk(element):
        for attribute, kind in (("default_js", "js"), ("default_css", "css")):
            links = getattr(item, attribute, None)
            if not links:
                continue
            inlined = [
                (name, _inline(url, kind=kind, assets_dir=assets_dir))
                for name, url in links
                if name not in _UNUSED_DEFAULTS
            ]
            setattr(item, attribute, inlined)  # instance attribute: the class default is kept
