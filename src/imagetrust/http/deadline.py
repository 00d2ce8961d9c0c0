"""A total deadline for every request, not only a per-read timeout.

httpx's timeouts bound each read: a peer that sends one byte every few seconds never trips
them, so a hostile or broken registry, feed server or daemon could hold a scan forever. Every
connection the layer makes goes through :class:`DeadlineBackend`, whose streams check, before
each read and write, that the request has not outlived its allowance: ``base`` seconds plus
the time its bytes so far would take at ``min_rate`` bytes per second. A large blob arriving at
a normal speed is never cut; a trickle or a silent peer ends within ``base`` seconds (a little
more at most: one read's own timeout) with one clear error. Both bounds come from the
environment (``IMAGETRUST_HTTP_DEADLINE``, ``IMAGETRUST_HTTP_MIN_RATE``).

The allowance is per request and lives in a ContextVar set by :func:`request_deadline`, read in
the thread doing the I/O (the clients are synchronous), so pooled connections need no state.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import httpcore

DEFAULT_BASE = 120.0
"""Seconds any request may take on top of what its bytes earn (headers, small bodies)."""
DEFAULT_MIN_RATE = 32 * 1024
"""Bytes per second a transfer must keep up on average to earn more time."""
BASE_ENV = "IMAGETRUST_HTTP_DEADLINE"
MIN_RATE_ENV = "IMAGETRUST_HTTP_MIN_RATE"


def _setting(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, "") or default)
    except ValueError:
        return default
    return value if value > 0 else default


@dataclass
class Allowance:
    """How long one request may take: ``base`` plus ``received / min_rate``."""

    base: float
    min_rate: float
    started: float = field(default_factory=time.monotonic)
    received: int = 0

    def remaining(self) -> float:
        return self.started + self.base + self.received / self.min_rate - time.monotonic()

    def describe(self) -> str:
        return (f"no answer within {self.base:g} s at {self.min_rate / 1024:g} KiB/s or more "
                f"({self.received} bytes in {time.monotonic() - self.started:.0f} s)")


_CURRENT: ContextVar[Allowance | None] = ContextVar("imagetrust_http_deadline", default=None)


@contextmanager
def request_deadline(base: float | None = None, min_rate: float | None = None
                     ) -> Iterator[Allowance]:
    """Give the requests made inside the block one shared allowance (a request's headers and
    its body read later both count: the allowance stays until a new request replaces it)."""
    allowance = Allowance(
        base if base is not None else _setting(BASE_ENV, DEFAULT_BASE),
        min_rate if min_rate is not None else _setting(MIN_RATE_ENV, DEFAULT_MIN_RATE),
    )
    token = _CURRENT.set(allowance)
    try:
        yield allowance
    finally:
        _CURRENT.reset(token)


def start_request() -> Allowance:
    """A fresh allowance for the request about to be sent in this context."""
    allowance = Allowance(_setting(BASE_ENV, DEFAULT_BASE),
                          _setting(MIN_RATE_ENV, DEFAULT_MIN_RATE))
    _CURRENT.set(allowance)
    return allowance


def _budget(timeout: float | None, error: type[Exception]) -> float | None:
    allowance = _CURRENT.get()
    if allowance is None:
        return timeout
    left = allowance.remaining()
    if left <= 0:
        raise error(f"total deadline passed: {allowance.describe()}")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        allowance = _CURRENT.get()
        try:
            data = self._inner.read(max_bytes, _budget(timeout, httpcore.ReadTimeout))
        except httpcore.ReadTimeout as error:
            if allowance is not None and allowance.remaining() <= 0.05:  # cut by the deadline
                raise httpcore.ReadTimeout(
                    f"total deadline passed: {allowance.describe()}"
                ) from error
            raise
        if allowance is not None:
            allowance.received += len(data)
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _budget(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        budget = _budget(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, budget))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's sync backend, with every stream held to the request's allowance."""

    def __init__(self, inner: httpcore.NetworkBackend | None = None) -> None:
        self._inner = inner or httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        budget = _budget(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.connect_tcp(host, port, budget, local_address,
                                               socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None
                            ) -> httpcore.NetworkStream:
        budget = _budget(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.connect_unix_socket(path, budget, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def guard_transport(transport: Any) -> Any:
    """Hold an httpx ``HTTPTransport``'s connections to the deadline (other transports, such
    as the tests' mock or WSGI ones, pass through: they make no connections)."""
    pool = getattr(transport, "_pool", None)
    # httpx keeps its httpcore pool private; pyproject caps httpx below 1.0 for this reason
    if isinstance(pool, httpcore.ConnectionPool) and not isinstance(
        pool._network_backend, DeadlineBackend
    ):
        pool._network_backend = DeadlineBackend(pool._network_backend)
    return transport


__all__ = ["BASE_ENV", "DEFAULT_BASE", "DEFAULT_MIN_RATE", "MIN_RATE_ENV", "Allowance",
           "DeadlineBackend", "guard_transport", "request_deadline", "start_request"]
