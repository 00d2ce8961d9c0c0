"""Plain HTTP only to loopback or hosts marked insecure; URLs redacted before anyone sees them."""

from __future__ import annotations

import pytest

from imagetrust.errors import UsageError
from imagetrust.http.client import HttpClient
from imagetrust.http.guard import check_plain_http, is_loopback, redact_url
from tests.source.hostile_http import reply, serve


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.3.4.5:80", "[::1]:5000", "localhost", "registry.localhost:5000"]
)
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "10.0.0.1", "example.com", "localhost.example.com"])
def test_not_loopback(host: str) -> None:
    assert not is_loopback(host)


def test_plain_http_refused_unless_loopback_or_insecure() -> None:
    check_plain_http("https://example.com/x", frozenset())
    check_plain_http("http://127.0.0.1:9/x", frozenset())
    check_plain_http("http://mirror.lan:5000/x", frozenset({"mirror.lan"}))
    with pytest.raises(UsageError, match="refusing plain HTTP to example.com"):
        check_plain_http("http://example.com/x", frozenset())
    with pytest.raises(UsageError, match="only https"):
        check_plain_http("ftp://example.com/x", frozenset())


def test_the_client_refuses_before_sending_anything() -> None:
    with (
        serve({"/x": lambda h: reply(h, 200)}) as server,
        HttpClient() as client,
        pytest.raises(UsageError),
    ):
        client.send("GET", f"http://0.0.0.0:{server.port}/x")
    assert server.requests == []


def test_redaction_masks_userinfo_and_secret_query_values() -> None:
    assert redact_url("https://u:p@mirror.example/kev") == "https://***@mirror.example/kev"
    shown = redact_url("https://cdn.example/a.tgz?X-Amz-Signature=abc&part=2&token=t")
    assert "abc" not in shown and "=t" not in shown and "part=2" in shown
    plain = "https://example.com/a?b=c&d=e"
    assert redact_url(plain) == plain
