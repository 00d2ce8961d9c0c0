"""A scriptable HTTP server on 127.0.0.1 for hostile-server tests: each path maps to a function.

Handlers can answer normally (:func:`reply`), redirect, or misbehave on purpose with
:func:`endless_body` (claims a huge body and keeps sending, or stalls, until the client gives up).
Every request is recorded; the server and any stalled handler stop when the block ends.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

Handler = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class HostileServer:
    port: int
    routes: dict[str, Handler]
    stop: threading.Event
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    """(method, path with query, lower-cased headers) of every request, in order."""
    sent: dict[str, int] = field(default_factory=dict)
    """Body bytes :func:`endless_body` managed to send, per path."""

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    @property
    def paths(self) -> list[str]:
        return [path for _, path, _ in self.requests]


def reply(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
) -> None:
    handler.send_response(status)
    for key, value in (headers or {}).items():
        handler.send_header(key, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(body)


def redirect(location: str, status: int = 307) -> Handler:
    return lambda handler: reply(handler, status, headers={"Location": location})


@contextmanager
def serve(routes: Mapping[str, Handler]) -> Iterator[HostileServer]:
    """Serve ``routes`` (path without query → handler); anything else is 404."""
    state: HostileServer

    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            state.requests.append((self.command, self.path, headers))
            route = state.routes.get(urlsplit(self.path).path)
            if route is None:
                reply(self, 404, b'{"errors":[{"code":"NOT_FOUND"}]}')
            else:
                route(self)

        do_GET = do_HEAD = do_POST = _any  # noqa: N815

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    state = HostileServer(server.server_address[1], dict(routes), threading.Event())
    server.hostile = state  # type: ignore[attr-defined]  # read back by endless_body
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.stop.set()
        server.shutdown()
        server.server_close()
        thread.join()


def endless_body(
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    send: int = 256 * 1024 * 1024,
    stall_after: int | None = None,
) -> Handler:
    """Claim a 100 GB body; send up to ``send`` bytes (or ``stall_after`` bytes, then hang).

    The handler stops as soon as the client closes the connection, recording what it sent.
    """

    def handle(handler: BaseHTTPRequestHandler) -> None:
        state: HostileServer = handler.server.hostile  # type: ignore[attr-defined]
        path = urlsplit(handler.path).path
        handler.send_response(status)
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(100 * 1024**3))
        handler.end_headers()
        chunk = b"[" * 65536
        sent = 0
        limit = stall_after if stall_after is not None else send
        try:
            while sent < limit and not state.stop.is_set():
                handler.wfile.write(chunk)
                sent += len(chunk)
                state.sent[path] = sent
            handler.wfile.flush()
            if stall_after is not None:
                state.stop.wait(30)
        except OSError:
            pass  # the client hung up: exactly what a bounded reader does
        handler.close_connection = True

    return handle
