"""A real HTTP server on 127.0.0.1 serving feed files from a directory, like a feed mirror would.

It implements what conditional downloads rely on — ``ETag`` (sha256 of the content),
``Last-Modified`` (file mtime), ``If-None-Match``/``If-Modified-Since`` → 304 — plus optional
``Content-Encoding: gzip``, and can break a path on purpose: ``truncate`` (advertise the full
``Content-Length``, send half, close), ``bad-json``, ``http-500``.  Every request is recorded so a
test can count hits and full downloads.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

BREAKS = ("truncate", "bad-json", "http-500", "truncate-gzip")


@dataclass
class Hit:
    path: str
    status: int
    headers: dict[str, str]


@dataclass
class FeedServer:
    root: Path
    gzip: bool = False
    hits: list[Hit] = field(default_factory=list)
    breaks: dict[str, str] = field(default_factory=dict)
    url: str = ""

    def break_path(self, path: str, how: str) -> None:
        assert how in BREAKS, how
        self.breaks[path.lstrip("/")] = how

    def heal(self) -> None:
        self.breaks.clear()

    def count(self, path: str, status: int | None = None) -> int:
        path = "/" + path.lstrip("/")
        return sum(
            1 for h in self.hits if h.path == path and (status is None or h.status == status)
        )


def _handler(server: FeedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

        def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
                  length: int | None = None) -> None:
            # Logged before answering: a client may assert on the hits as soon as it has its
            # response, before this thread would get to run again.
            server.hits.append(Hit(self._path, status, dict(self.headers.items())))
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body) if length is None else length))
            self.end_headers()
            if body:
                self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802
            parts = urlsplit(self.path)
            self._path = parts.path
            rel = self._path.lstrip("/")
            if parts.query:  # API style: /api?cveId=X is served from api/X.json
                value = parts.query.rpartition("=")[2]
                rel = f"{rel}/{value}.json"
                self._path = "/" + rel
            target = (server.root / rel).resolve()
            if not target.is_file() or server.root.resolve() not in target.parents:
                self._send(404, b"not found")
                return
            how = server.breaks.get(rel)
            if how == "http-500":
                self._send(500, b"internal error")
                return
            data = target.read_bytes()
            if how == "bad-json":
                data = b'{"broken": [1, 2'
            etag = '"' + hashlib.sha256(data).hexdigest() + '"'
            mtime = target.stat().st_mtime
            last_modified = formatdate(mtime, usegmt=True)
            inm = self.headers.get("If-None-Match")
            ims = self.headers.get("If-Modified-Since")
            if inm is not None:
                not_modified = etag in [t.strip() for t in inm.split(",")]
            elif ims is not None:
                not_modified = int(mtime) <= parsedate_to_datetime(ims).timestamp()
            else:
                not_modified = False
            headers = {"ETag": etag, "Last-Modified": last_modified}
            if not_modified and how is None:
                self._send(304, b"", headers, length=0)
                return
            if how == "truncate-gzip":
                data = gzip.compress(data)[: len(gzip.compress(data)) // 2]
            elif server.gzip and "gzip" in self.headers.get("Accept-Encoding", ""):
                data = gzip.compress(data)
                headers["Content-Encoding"] = "gzip"
            if how == "truncate":
                server.hits.append(Hit(self._path, 200, dict(self.headers.items())))
                self.send_response(200)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self._send(200, data, headers)

    return Handler


@contextmanager
def serve(root: Path, *, gzip: bool = False) -> Iterator[FeedServer]:
    """Serve ``root`` on an ephemeral loopback port for the duration of the ``with``."""
    state = FeedServer(root=root, gzip=gzip)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
