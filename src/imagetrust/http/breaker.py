"""A per-run circuit breaker: an endpoint that refused or timed out is not asked again.

Without one, a run with no network waits on the same dead endpoint once per request, each time
through every retry and timeout. Here the first failure that says "nobody answers there" opens the
breaker for that endpoint (scheme, host, port); later requests to it in the same run fail at once
with the original reason. What opens it: a refused or failed connection (after the caller's
retries) and any connect, read or write timeout (at once: waiting out a timeout again is exactly
the cost to avoid). A broken body stream or an HTTP error status does not: the endpoint answered.

A run is a :func:`run_scope` block; outside one, a process-wide breaker applies, whose open
entries expire after :data:`PROCESS_OPEN_FOR` seconds so a long-lived process recovers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import httpx

PROCESS_OPEN_FOR = 300.0
"""Seconds an endpoint stays open in the process-wide breaker (a run scope keeps it open)."""

Endpoint = tuple[str, str, int]
"""(scheme, lower-case host, port): what the breaker keys on."""

_DEFAULT_PORTS = {"http": 80, "https": 443}


def endpoint_of(url: str | httpx.URL) -> Endpoint:
    """``https://Example.com/x`` → ``("https", "example.com", 443)``."""
    parts = urlsplit(str(url))
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port or _DEFAULT_PORTS.get(scheme, 0)


@dataclass(frozen=True, slots=True)
class _Open:
    error: BaseException
    until: float


class Breaker:
    """Open endpoints with the error that opened them; thread-safe, shared by a run's clients."""

    def __init__(
        self, open_for: float = float("inf"), clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._open_for = open_for
        self._clock = clock
        self._open: dict[Endpoint, _Open] = {}
        self._lock = threading.Lock()

    def trip(self, url: str | httpx.URL, error: BaseException) -> None:
        """Open ``url``'s endpoint: later :meth:`check` calls raise a copy of ``error``."""
        with self._lock:
            self._open[endpoint_of(url)] = _Open(error, self._clock() + self._open_for)

    def check(self, request: httpx.Request) -> None:
        """Raise the recorded error again when ``request`` goes to an open endpoint."""
        key = endpoint_of(request.url)
        with self._lock:
            entry = self._open.get(key)
            if entry is not None and entry.until <= self._clock():
                del self._open[key]
                entry = None
        if entry is not None:
            raise _again(entry.error, request)

    def is_open(self, url: str | httpx.URL) -> bool:
        key = endpoint_of(url)
        with self._lock:
            entry = self._open.get(key)
            return entry is not None and entry.until > self._clock()


def _again(error: BaseException, request: httpx.Request) -> BaseException:
    """A fresh exception of the original kind and message, chained to the original.

    Callers tell "timed out" from "connection failed" (and TLS failures) by type and cause, so
    the copy keeps both; a fresh object keeps tracebacks from piling up on one instance.
    """
    try:
        copy = type(error)(str(error), request=request)  # type: ignore[call-arg]
    except TypeError:
        return error
    copy.__cause__ = error
    return copy


_PROCESS = Breaker(open_for=PROCESS_OPEN_FOR)
_CURRENT: ContextVar[Breaker] = ContextVar("imagetrust_http_breaker", default=_PROCESS)


def current_breaker() -> Breaker:
    """The breaker of the current run (a client captures it when it is built)."""
    return _CURRENT.get()


@contextmanager
def run_scope(breaker: Breaker | None = None) -> Iterator[Breaker]:
    """Run the block with its own breaker: what opened inside stays inside, until it ends."""
    token = _CURRENT.set(breaker or Breaker())
    try:
        yield _CURRENT.get()
    finally:
        _CURRENT.reset(token)
