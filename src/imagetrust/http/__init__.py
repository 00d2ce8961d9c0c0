"""One HTTP layer below the stages: every outbound client is built and governed here.

``client`` builds clients (TLS verification on, timeouts, user agent, injectable transport) and
sends through them; ``guard`` keeps plain HTTP to loopback or hosts marked insecure and redacts
URLs; ``body`` reads capped bodies; ``conditional`` does ETag/Last-Modified requests;
``redirects`` keeps secrets with their origin; ``retry`` bounds retries and ``Retry-After``;
``breaker`` stops a run from waiting on the same dead endpoint twice.

Names load on first use (PEP 562): the guard is wanted by code that must not pay for httpx.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from imagetrust.lazy import lazy_exports

if TYPE_CHECKING:
    from imagetrust.http.body import BodyTooLargeError, iter_capped, read_capped
    from imagetrust.http.breaker import Breaker, current_breaker, run_scope
    from imagetrust.http.client import HttpClient, split_credentials
    from imagetrust.http.conditional import Validators, not_modified
    from imagetrust.http.guard import (
        check_plain_http,
        is_loopback,
        redact_url,
        refuse_userinfo,
        url_host,
    )
    from imagetrust.http.retry import RetryPolicy, parse_retry_after

_HOMES = {
    "BodyTooLargeError": "body",
    "iter_capped": "body",
    "read_capped": "body",
    "Breaker": "breaker",
    "current_breaker": "breaker",
    "run_scope": "breaker",
    "HttpClient": "client",
    "split_credentials": "client",
    "Validators": "conditional",
    "not_modified": "conditional",
    "check_plain_http": "guard",
    "is_loopback": "guard",
    "redact_url": "guard",
    "refuse_userinfo": "guard",
    "url_host": "guard",
    "RetryPolicy": "retry",
    "parse_retry_after": "retry",
}


__getattr__ = lazy_exports(__name__, _HOMES)


__all__ = [
    "BodyTooLargeError",
    "Breaker",
    "HttpClient",
    "RetryPolicy",
    "Validators",
    "check_plain_http",
    "current_breaker",
    "is_loopback",
    "iter_capped",
    "not_modified",
    "parse_retry_after",
    "read_capped",
    "redact_url",
    "refuse_userinfo",
    "run_scope",
    "split_credentials",
    "url_host",
]
