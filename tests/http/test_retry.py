"""Retry-After is honoured, but never past the cap, whatever a server asks for."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from imagetrust.http.client import HttpClient
from imagetrust.http.retry import MAX_WAIT, RetryPolicy, parse_retry_after
from tests.source.hostile_http import reply, serve

HUGE = ["100000000", "1e8", "Thu, 01 Jan 2099 00:00:00 GMT", "9" * 400]


@pytest.mark.parametrize("value", HUGE)
def test_huge_retry_after_is_capped(value: str) -> None:
    assert MAX_WAIT == 30.0
    assert 0 <= RetryPolicy().delay(1, value) <= MAX_WAIT
    assert RetryPolicy(max_wait=0.5).delay(1, value) <= 0.5
    assert RetryPolicy(max_wait=3600).delay(1, value) <= MAX_WAIT  # a policy cannot raise it


def test_retry_after_forms() -> None:
    now = datetime(2015, 10, 21, 7, 28, tzinfo=UTC)
    assert parse_retry_after("Wed, 21 Oct 2015 07:29:00 GMT", now) == 60.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now) == 0.0  # in the past
    assert parse_retry_after("1e8") is None  # not delta-seconds: backoff applies
    assert parse_retry_after("") is None


@pytest.mark.parametrize("value", ["100000000", "Thu, 01 Jan 2099 00:00:00 GMT"])
def test_a_server_asking_for_years_gets_the_cap(value: str) -> None:
    answers = iter([(429, {"Retry-After": value}), (200, {})])

    def limited(handler: object) -> None:
        status, headers = next(answers)
        reply(handler, status, b"ok", headers)  # type: ignore[arg-type]

    waits: list[float] = []
    with (
        serve({"/x": limited}) as server,
        HttpClient(retry=RetryPolicy(attempts=2, max_wait=0.05), sleep=waits.append) as client,
    ):
        assert client.send("GET", f"{server.url}/x").status_code == 200
    assert waits == [0.05]
    assert server.paths == ["/x", "/x"]


def test_the_last_retryable_answer_is_returned_once_attempts_are_spent() -> None:
    waits: list[float] = []
    with (
        serve({"/x": lambda h: reply(h, 503, headers={"Retry-After": "0"})}) as server,
        HttpClient(retry=RetryPolicy(attempts=3), sleep=waits.append) as client,
    ):
        assert client.send("GET", f"{server.url}/x").status_code == 503
    assert waits == [0.0, 0.0] and len(server.paths) == 3
