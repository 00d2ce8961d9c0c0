"""Every request has a total deadline: a peer that trickles one byte at a time, in its headers
or its body, ends in one clear error within the bound, while a large body arriving at a normal
speed is never cut. Real servers on loopback; each stops by itself."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler

import httpx
import pytest

from imagetrust.cli.main import main
from imagetrust.http.client import HttpClient
from tests.source.hostile_http import serve

BASE = 1.5  # seconds: IMAGETRUST_HTTP_DEADLINE in these tests
pytestmark = pytest.mark.slow  # each waits out a deadline on purpose


@pytest.fixture(autouse=True)
def _short_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMAGETRUST_HTTP_DEADLINE", str(BASE))
    monkeypatch.setenv("IMAGETRUST_HTTP_MIN_RATE", str(64 * 1024))


@contextmanager
def trickling_headers(seconds: float = 20.0) -> Iterator[int]:
    """A raw TCP server that answers one header byte every 0.2 s, up to ``seconds``."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def run() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                conn.recv(65536)
                deadline = time.monotonic() + seconds
                for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 1000:
                    if stop.is_set() or time.monotonic() > deadline:
                        break
                    try:
                        conn.sendall(bytes([byte]))
                    except OSError:
                        break
                    time.sleep(0.2)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def paced_body(
    total: int, chunk: int, pause: float, stop_after: float = 30.0
) -> Callable[[BaseHTTPRequestHandler], None]:
    def handle(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(total))
        handler.end_headers()
        sent, started = 0, time.monotonic()
        while sent < total and time.monotonic() - started < stop_after:
            piece = b"x" * min(chunk, total - sent)
            try:
                handler.wfile.write(piece)
                handler.wfile.flush()
            except OSError:
                return
            sent += len(piece)
            time.sleep(pause)
    return handle


def test_trickling_headers_end_within_the_deadline() -> None:
    with trickling_headers() as port, HttpClient(timeout=30) as client:
        started = time.monotonic()
        with pytest.raises(httpx.TimeoutException, match="total deadline"):
            client.send("GET", f"http://127.0.0.1:{port}/")
        assert time.monotonic() - started < BASE + 1.0


def test_trickling_body_ends_within_the_deadline() -> None:
    routes = {"/slow": paced_body(10_000_000, 1, 0.05)}  # 20 bytes/s, a 10 MB promise
    with serve(routes) as server, HttpClient(timeout=30) as client:
        started = time.monotonic()
        with pytest.raises(httpx.TimeoutException, match="total deadline"), client.stream(
            "GET", f"{server.url}/slow"
        ) as response:
            for _ in response.iter_bytes():
                pass
        assert time.monotonic() - started < BASE + 1.0


def test_a_steady_transfer_earns_its_time() -> None:
    # 4 s at 160 KiB/s: longer than the base, faster than the minimum rate
    routes = {"/steady": paced_body(640 * 1024, 32 * 1024, 0.2)}
    with serve(routes) as server, HttpClient(timeout=30) as client:
        started = time.monotonic()
        with client.stream("GET", f"{server.url}/steady") as response:
            body = b"".join(response.iter_bytes())
        assert len(body) == 640 * 1024
        assert time.monotonic() - started > BASE  # it did outlive the base allowance


def test_inspect_against_a_trickling_registry_is_one_clear_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with trickling_headers() as port:
        started = time.monotonic()
        code = main(["inspect", f"127.0.0.1:{port}/library/app:1"])
        elapsed = time.monotonic() - started
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err and err.count("\n") <= 2
    assert "deadline" in err or "timed out" in err
    # one attempt per endpoint: the breaker stops retries after the first timeout
    assert elapsed < 2 * BASE + 2.0
