"""A scripted HTTP server on 127.0.0.1 for download tests, and real-format Census fixtures.

``FaultServer`` is a real threaded ``http.server``: each path gets a list of replies, served
in order (the last one repeats), and every request is logged, so a test can assert that a
cache hit made no request. A reply can delay its headers (read timeout), promise more bytes
than it sends (truncated body) or carry any status and headers (429 + Retry-After).
"""

from __future__ import annotations

import io
import json
import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import geopandas as gpd

from assetmap.datasets import data_path


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    send: int | None = None  # send only this many body bytes, then close
    no_length: bool = False  # omit Content-Length (the body ends when the connection closes)


class FaultServer:
    def __init__(self) -> None:
        self.routes: dict[str, list[Reply]] = {}
        self.handlers: dict[str, Callable[[dict[str, list[str]]], Reply]] = {}
        self.log: list[tuple[str, str, str]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server._serve(self)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                server._serve(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def route(self, path: str, *replies: Reply) -> str:
        self.routes[path] = list(replies)
        return self.url(path)

    def respond(self, path: str, handler: Callable[[dict[str, list[str]]], Reply]) -> str:
        """Answer ``path`` with ``handler(parsed query)`` (an API that reads its parameters)."""
        self.handlers[path] = handler
        return self.url(path)

    def hits(self, path: str) -> int:
        return sum(1 for _, p, _ in self.log if p == path)

    def queries(self, path: str) -> list[str]:
        return [q for _, p, q in self.log if p == path]

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        with self._lock:
            self.log.append((handler.command, parts.path, parts.query))
            replies = self.routes.get(parts.path)
            if parts.path in self.handlers:
                reply = self.handlers[parts.path](parse_qs(parts.query, keep_blank_values=True))
            elif not replies:
                reply = Reply(404, b"not found", {"Content-Type": "text/plain"})
            else:
                reply = replies.pop(0) if len(replies) > 1 else replies[0]
        try:
            if reply.delay:
                threading.Event().wait(reply.delay)
            handler.send_response(reply.status)
            headers = {} if reply.no_length else {"Content-Length": str(len(reply.body))}
            headers.update(reply.headers)
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            body = reply.body if reply.send is None else reply.body[: reply.send]
            handler.wfile.write(body)
            handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            pass  # the client gave up (a timeout test); nothing to do
        handler.close_connection = True

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def shapefile_zip(frame: gpd.GeoDataFrame, stem: str, *, with_prj: bool = True) -> bytes:
    """Write ``frame`` as an ESRI shapefile and return a zip of it named like TIGER's."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        shp = Path(tmp) / f"{stem}.shp"
        frame.to_file(shp, driver="ESRI Shapefile", engine="pyogrio")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for part in sorted(Path(tmp).iterdir()):
                if part.suffix == ".prj" and not with_prj:
                    continue
                archive.write(part, part.name)
        return buffer.getvalue()


def ector_tracts_nad83() -> gpd.GeoDataFrame:
    """The shipped 33 Ector tracts in NAD83 (EPSG:4269), TIGER/Line's own CRS."""
    frame = gpd.read_file(data_path("boundaries", "ector_tracts_2020.geojson"))
    return frame.to_crs(4269)


def tiger_tract_zip(*, with_prj: bool = True) -> bytes:
    """A zip in TIGER/Line's format (tl_2020_48_tract.shp) made from the shipped tracts."""
    return shapefile_zip(ector_tracts_nad83(), "tl_2020_48_tract", with_prj=with_prj)


def acs_api_body(header: list[str], rows: list[list[str]]) -> bytes:
    """The Census API's JSON shape: an array of arrays of strings, header first."""
    return json.dumps([header, *rows]).encode("utf-8")


def ookla_parquet(rows: list[dict], *, row_group_size: int | None = None) -> bytes:
    """Return an Ookla open-data fixed tiles Parquet file (its published columns) of ``rows``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([
        ("quadkey", pa.string()), ("tile", pa.string()), ("tile_x", pa.float64()),
        ("tile_y", pa.float64()), ("avg_d_kbps", pa.int64()), ("avg_u_kbps", pa.int64()),
        ("avg_lat_ms", pa.int64()), ("avg_lat_down_ms", pa.float64()),
        ("avg_lat_up_ms", pa.float64()), ("tests", pa.int64()), ("devices", pa.int64()),
    ])
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), buffer,
                   row_group_size=row_group_size)
    return buffer.getvalue()
