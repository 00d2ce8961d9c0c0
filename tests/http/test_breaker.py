"""The per-run circuit breaker, against real loopback endpoints that refuse or never answer."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from imagetrust.config import load_settings
from imagetrust.errors import NetworkError
from imagetrust.http.breaker import Breaker, endpoint_of, run_scope
from imagetrust.http.client import HttpClient
from imagetrust.http.retry import RetryPolicy
from imagetrust.reference.parse import parse_reference
from imagetrust.source.registry import RegistryClient
from tests.source.hostile_http import reply, serve


def closed_port() -> int:
    """A loopback port nothing listens on (bound once, then released): connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def silent_endpoint() -> Iterator[str]:
    """Accepts connections and never answers a byte: every request times out."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        server.close()


def test_second_call_to_a_refusing_endpoint_fails_without_waiting() -> None:
    url = f"http://127.0.0.1:{closed_port()}/x"
    waits: list[float] = []
    with HttpClient(retry=RetryPolicy(attempts=3, backoff=0.2), sleep=waits.append) as client:
        with pytest.raises(httpx.ConnectError) as first:
            client.send("GET", url)
        assert waits == [0.2, 0.4]  # the first call retries as its policy says
        assert client.breaker.is_open(url)
        started = time.monotonic()
        with pytest.raises(httpx.ConnectError) as second:
            client.send("GET", url + "/other-path")
        assert time.monotonic() - started < 0.1
    assert waits == [0.2, 0.4]  # ...the second waits for nothing
    assert str(second.value) == str(first.value)  # with the original reason


def test_a_timeout_opens_the_endpoint_at_once_for_every_client_of_the_run() -> None:
    with silent_endpoint() as base, run_scope():
        waits: list[float] = []
        with HttpClient(timeout=0.5, retry=RetryPolicy(attempts=4), sleep=waits.append) as one:
            started = time.monotonic()
            with pytest.raises(httpx.ReadTimeout):
                one.send("GET", base + "/a")
            assert 0.4 < time.monotonic() - started < 3.0  # one timeout, not four
        assert waits == []
        with HttpClient(timeout=0.5) as other:  # another client of the same run
            started = time.monotonic()
            with pytest.raises(httpx.ReadTimeout):
                other.send("GET", base + "/b")
            assert time.monotonic() - started < 0.1
    with silent_endpoint() as base, run_scope(), HttpClient(timeout=0.3) as fresh:
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):  # a new run asks again (and waits again)
            fresh.send("GET", base)
        assert time.monotonic() - started >= 0.25


def test_an_answering_endpoint_is_never_opened() -> None:
    routes = {"/fail": lambda h: reply(h, 503), "/ok": lambda h: reply(h, 200, b"ok")}
    with serve(routes) as server, HttpClient(retry=RetryPolicy(attempts=2, backoff=0)) as client:
        assert client.send("GET", f"{server.url}/fail").status_code == 503
        assert not client.breaker.is_open(server.url)
        assert client.send("GET", f"{server.url}/ok").status_code == 200
    assert server.paths == ["/fail", "/fail", "/ok"]


def test_registry_asks_a_dead_registry_once_per_run() -> None:
    """What made ``check`` slow without network: every HEAD through every retry again."""
    settings = load_settings()
    dead = f"127.0.0.1:{closed_port()}"
    waits: list[float] = []
    with RegistryClient(settings, retry=RetryPolicy(attempts=4), sleep=waits.append) as client:
        errors = []
        for tag in ("a", "b", "c"):
            with pytest.raises(NetworkError) as caught:
                client.head_manifest(parse_reference(f"{dead}/lib/app:{tag}"))
            errors.append(str(caught.value))
    assert waits == [0.5, 1.0, 2.0]  # the first HEAD's retries only
    assert len(set(errors)) == 1 and "connection failed" in errors[0]


def test_endpoint_key_is_scheme_host_and_port() -> None:
    assert endpoint_of("https://Example.com/x") == ("https", "example.com", 443)
    assert endpoint_of("http://127.0.0.1:9/y?z") == ("http", "127.0.0.1", 9)
    breaker = Breaker()
    breaker.trip("http://127.0.0.1:9/a", httpx.ConnectError("refused"))
    assert breaker.is_open("http://127.0.0.1:9/b")
    assert not breaker.is_open("http://127.0.0.1:10/a")
    assert not breaker.is_open("https://127.0.0.1:9/a")


def test_open_entries_expire_when_the_breaker_says_so() -> None:
    now = [0.0]
    breaker = Breaker(open_for=60.0, clock=lambda: now[0])
    breaker.trip("https://hub.example", httpx.ConnectTimeout("timed out"))
    assert breaker.is_open("https://hub.example/api")
    now[0] = 61.0
    assert not breaker.is_open("https://hub.example/api")
