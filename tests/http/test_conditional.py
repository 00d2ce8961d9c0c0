"""Conditional GET: the validators go back, a 304 costs no body."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler

from imagetrust.http.body import read_capped
from imagetrust.http.client import HttpClient
from imagetrust.http.conditional import Validators, not_modified
from tests.source.hostile_http import reply, serve

ETAG = '"v1"'
MODIFIED = "Wed, 21 Oct 2015 07:28:00 GMT"


def resource(handler: BaseHTTPRequestHandler) -> None:
    if handler.headers.get("If-None-Match") == ETAG:
        reply(handler, 304)
    else:
        reply(handler, 200, b"content", {"ETag": ETAG, "Last-Modified": MODIFIED})


def test_unchanged_resource_answers_304() -> None:
    with serve({"/r": resource}) as server, HttpClient() as client:
        with client.stream("GET", f"{server.url}/r", headers=Validators().headers()) as first:
            assert not not_modified(first) and read_capped(first, 100) == b"content"
            known = Validators.of(first)
        assert known == Validators(ETAG, MODIFIED)
        with client.stream("GET", f"{server.url}/r", headers=known.headers()) as second:
            assert not_modified(second)
    sent = server.requests[1][2]
    assert sent["if-none-match"] == ETAG and sent["if-modified-since"] == MODIFIED
    assert "if-none-match" not in server.requests[0][2]
