"""The one way to build an outbound HTTP client: TLS on, timeouts, guard, retries, breaker.

:class:`HttpClient` wraps an :class:`httpx.Client` (the transport is injectable: the seam for
tests and proxies). Every request passes the plain-HTTP guard, redirect hops included; redirects
are followed by :func:`~imagetrust.http.redirects.follow` so secrets stay home; transport errors
and 429/5xx answers are retried under a :class:`~imagetrust.http.retry.RetryPolicy` (one try by
default); an endpoint that refused or timed out opens the run's
:class:`~imagetrust.http.breaker.Breaker`, so nothing waits on it twice.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import httpx

from imagetrust import __version__
from imagetrust.http.breaker import Breaker, current_breaker
from imagetrust.http.deadline import guard_transport, start_request
from imagetrust.http.guard import plain_http_guard
from imagetrust.http.redirects import MAX_REDIRECTS, follow
from imagetrust.http.retry import NO_RETRY, RETRY_STATUSES, RetryPolicy

USER_AGENT = f"imagetrust/{__version__}"
DEFAULT_TIMEOUT = 30.0
"""Seconds to wait for a connection, a response or the next body chunk."""
MAX_CONNECT_TIMEOUT = 10.0
"""Connecting takes at most this long (a dropped SYN is a dead endpoint, not a slow one)."""

EventHooks = Mapping[str, Sequence[Callable[..., Any]]]


def opens_breaker(error: httpx.TransportError) -> bool:
    """Whether ``error`` says nobody answers at that endpoint (refused, unreachable, timed out)."""
    if isinstance(error, httpx.PoolTimeout):
        return False  # our own connection pool is busy: nothing about the endpoint
    return isinstance(error, httpx.ConnectError | httpx.TimeoutException)


class HttpClient:
    """An httpx client with the layer's rules; use it as a context or :meth:`close` it."""

    def __init__(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        insecure: frozenset[str] = frozenset(),
        verify: bool | ssl.SSLContext = True,
        transport: httpx.BaseTransport | None = None,
        user_agent: str = USER_AGENT,
        retry: RetryPolicy = NO_RETRY,
        breaker: Breaker | None = None,
        sleep: Callable[[float], None] = time.sleep,
        event_hooks: EventHooks | None = None,
        max_redirects: int = MAX_REDIRECTS,
    ) -> None:
        hooks = {k: list(v) for k, v in (event_hooks or {}).items()}
        hooks["request"] = [plain_http_guard(insecure), *hooks.get("request", [])]
        self.retry = retry
        self.breaker = breaker or current_breaker()
        self._sleep = sleep
        self._max_redirects = max_redirects
        # every connection is held to a total deadline per request (http/deadline.py)
        own = transport is None
        self.http = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, MAX_CONNECT_TIMEOUT)),
            verify=verify,
            transport=guard_transport(httpx.HTTPTransport(verify=verify)) if own else transport,
            follow_redirects=False,
            headers={"User-Agent": user_agent},
            event_hooks=hooks,
        )
        for mounted in self.http._mounts.values():  # proxies from the environment
            if mounted is not None:
                guard_transport(mounted)

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        secrets: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        auth: httpx.Auth | None = None,
    ) -> httpx.Response:
        """One request, redirects followed, retried per the policy; the response is streamed.

        ``secrets`` are headers (``Authorization``, API keys) sent only to ``url``'s origin.
        Returns the last answer, a 429/5xx too once the attempts are spent; raises the httpx
        error of the last try, or at once the one that opened the endpoint's breaker.
        """
        request = self.http.build_request(method, url, headers=headers, params=params, data=data)
        attempt = 1
        while True:
            start_request()  # this attempt's total deadline; its body, read later, counts too
            try:
                response = follow(
                    self.http,
                    request,
                    secrets=secrets,
                    auth=auth,
                    max_redirects=self._max_redirects,
                    before_hop=self.breaker.check,
                )
            except httpx.TransportError as error:
                failed = _failed_url(error, request)
                if self.breaker.is_open(failed):
                    raise  # open before this try (or meanwhile, by another thread): no waiting
                last = attempt >= self.retry.attempts
                if opens_breaker(error) and (last or isinstance(error, httpx.TimeoutException)):
                    self.breaker.trip(failed, error)
                    raise
                if last:
                    raise
                self._sleep(self.retry.delay(attempt, None))
                attempt += 1
                continue
            if response.status_code not in RETRY_STATUSES or attempt >= self.retry.attempts:
                return response
            response.close()
            self._sleep(self.retry.delay(attempt, response.headers.get("Retry-After")))
            attempt += 1

    @contextmanager
    def stream(self, method: str, url: str, **kwargs: Any) -> Iterator[httpx.Response]:
        """:meth:`send` as a context that closes the response."""
        response = self.send(method, url, **kwargs)
        try:
            yield response
        finally:
            response.close()


def _failed_url(error: httpx.TransportError, fallback: httpx.Request) -> httpx.URL:
    try:
        return error.request.url  # the hop that failed, maybe a redirect target
    except RuntimeError:
        return fallback.url


def split_credentials(url: str) -> tuple[str, httpx.BasicAuth | None]:
    """``https://u:p@host/x`` → (``https://host/x``, basic auth for u/p): the secret travels as
    a header for its own origin only, never in a URL that httpx or a message could show."""
    parsed = httpx.URL(url)
    if not parsed.userinfo:
        return url, None
    clean = str(parsed.copy_with(username=None, password=None))
    return clean, httpx.BasicAuth(parsed.username, parsed.password)
