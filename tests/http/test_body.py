"""Capped reads against a hostile loopback server: the cap holds, whatever the server claims."""

from __future__ import annotations

import gzip

import pytest

from imagetrust.errors import FeedError
from imagetrust.http.body import BodyTooLargeError, read_capped
from imagetrust.http.client import HttpClient
from tests.source.hostile_http import endless_body, reply, serve


def test_an_endless_body_stops_soon_after_the_cap() -> None:
    with (
        serve({"/big": endless_body(send=64 << 20)}) as server,
        HttpClient() as client,
        client.stream("GET", f"{server.url}/big") as response,
        pytest.raises(BodyTooLargeError),
    ):
        read_capped(response, 1 << 20)  # Content-Length claims 100 GB: refused before reading
    assert server.sent.get("/big", 0) < 64 << 20


def test_a_body_growing_past_the_cap_is_refused_with_the_callers_error() -> None:
    with serve({"/x": lambda h: reply(h, 200, b"a" * 5000)}) as server, HttpClient() as client:
        with client.stream("GET", f"{server.url}/x") as response, pytest.raises(FeedError):
            read_capped(response, 4999, too_large=lambda: FeedError("too big"))
        with client.stream("GET", f"{server.url}/x") as response:
            assert read_capped(response, 5000) == b"a" * 5000


def test_the_cap_counts_decoded_bytes() -> None:
    bomb = gzip.compress(b"\0" * (4 << 20))  # a few KB on the wire
    headers = {"Content-Encoding": "gzip"}
    with serve({"/z": lambda h: reply(h, 200, bomb, headers)}) as server, HttpClient() as client:
        assert len(bomb) < 1 << 20
        with client.stream("GET", f"{server.url}/z") as response, pytest.raises(BodyTooLargeError):
            read_capped(response, 1 << 20)
