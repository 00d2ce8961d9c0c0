"""Conditional HTTP downloads: a feed that has not changed costs one request and no bytes.

``If-None-Match``/``If-Modified-Since`` come from the ``feeds`` table; a 304 keeps the stored rows.
Bodies are read into memory (parsing needs all of it anyway) but never past a per-feed maximum,
counted in *decoded* bytes: httpx undoes ``Content-Encoding: gzip``, so a small compressed body
could otherwise inflate without bound.  A truncated body or stream becomes a FeedError naming the
feed.

The HTTP mechanics live in :mod:`imagetrust.http`: plain HTTP goes only to loopback hosts or hosts
the user marked insecure (the ``insecure-registries`` setting), on every redirect hop; credentials
in a feed URL (``https://user:token@mirror/...``) are sent as HTTP basic auth to that origin only,
never kept in the URL httpx logs, and never appear in messages or the database; a feed server
that refused or timed out is not asked again in the same run.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from imagetrust.errors import UsageError
from imagetrust.http.body import ByteProgress, read_capped
from imagetrust.http.client import HttpClient, split_credentials
from imagetrust.http.conditional import Validators, not_modified
from imagetrust.http.guard import check_plain_http, redact_url
from imagetrust.match.feeds.common import feed_error, size_text
from imagetrust.match.feeds.model import FeedUnit

USER_AGENT = "imagetrust (vulnerability feed updater)"

DEFAULT_MAX_BYTES = 512 << 20
"""Cap on one decoded feed body when its feed has no entry in :data:`MAX_BYTES` (512 MiB)."""
MAX_BYTES: Mapping[str, int] = {
    "osv": 2 << 30,  # ecosystem archives: Ubuntu/all.zip is the largest, some hundred MB
    "nvd": 2 << 30,
    "debian-tracker": 1 << 30,  # one JSON document, ~70 MB today
    "epss": 512 << 20,
    "alpine-secdb": 128 << 20,
    "kev": 128 << 20,
}
MAX_BYTES_ENV = "IMAGETRUST_FEED_MAX_BYTES"
"""Overrides every feed's cap: a byte count, optionally with a K, M or G suffix (binary units)."""


def configured_insecure(environ: Mapping[str, str] | None = None) -> frozenset[str]:
    """The ``insecure-registries`` setting (``IMAGETRUST_INSECURE_REGISTRIES``, the config file):
    the hosts feed mirrors may reach over plain HTTP when the caller passes no explicit list."""
    from imagetrust.config import load_settings

    return load_settings(environ=environ).insecure_registries


def max_bytes_for(feed: str, environ: Mapping[str, str] | None = None) -> int:
    """The cap on one decoded body of ``feed``: ``$IMAGETRUST_FEED_MAX_BYTES`` or the default."""
    env = os.environ if environ is None else environ
    text = env.get(MAX_BYTES_ENV, "").strip()
    if not text:
        return MAX_BYTES.get(feed, DEFAULT_MAX_BYTES)
    shift = {"K": 10, "M": 20, "G": 30}.get(text[-1].upper(), 0)
    digits = text[:-1] if shift else text
    if not digits.isdigit() or int(digits) == 0:
        raise UsageError(
            f"invalid {MAX_BYTES_ENV} {text[:40]!r}",
            hint="give a positive byte count, optionally with K, M or G (e.g. 4G)",
        )
    return int(digits) << shift


@dataclass(frozen=True, slots=True)
class Fetched:
    """The outcome of one conditional GET; ``body`` is None when the server said 304."""

    unit: FeedUnit
    body: bytes | None
    etag: str | None
    last_modified: str | None
    sha256: str | None

    @property
    def changed(self) -> bool:
        return self.body is not None


def make_client(
    timeout: float = 60.0,
    insecure: frozenset[str] = frozenset(),
    *,
    transport: httpx.BaseTransport | None = None,
) -> HttpClient:
    """A feed client of the HTTP layer: TLS verification on, redirects followed (feeds move
    between CDNs) with each hop through the plain-HTTP guard, one try per request."""
    return HttpClient(
        timeout=timeout, insecure=insecure, user_agent=USER_AGENT, transport=transport
    )


def fetch(
    client: HttpClient,
    unit: FeedUnit,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    progress: ByteProgress | None = None,
    insecure: frozenset[str] = frozenset(),
    max_bytes: int | None = None,
) -> Fetched:
    """GET ``unit.url`` conditionally (``etag``/``last_modified`` of the stored copy).  The
    first URL is checked against ``insecure`` here; redirect hops by ``client``'s own rule."""
    check_plain_http(unit.url, insecure)
    cap = max_bytes_for(unit.feed) if max_bytes is None else max_bytes
    shown = redact_url(unit.url)
    url, auth = split_credentials(unit.url)
    headers = Validators(etag, last_modified).headers()
    try:
        with client.stream("GET", url, headers=headers, auth=auth) as response:
            if not_modified(response):
                return Fetched(unit, None, etag, last_modified, None)
            if response.status_code != 200:
                raise feed_error(unit.source, f"{shown} answered HTTP {response.status_code}")
            body = read_body(response, cap, unit.source, unit.url, progress)
            got = Validators.of(response)
            return Fetched(
                unit, body, got.etag, got.last_modified, hashlib.sha256(body).hexdigest()
            )
    except UsageError as error:  # the guard refused a redirect hop
        raise feed_error(unit.source, f"{shown} redirected: {error.message}") from None
    except httpx.DecodingError as error:
        raise feed_error(unit.source, f"corrupt compressed response ({error})") from error
    except httpx.HTTPError as error:
        raise feed_error(unit.source, f"download from {shown} failed ({error})") from error


def read_body(
    response: httpx.Response,
    cap: int,
    source: str,
    url: str,
    progress: ByteProgress | None = None,
) -> bytes:
    """A streamed response's decoded body, refused as a FeedError naming ``source`` as soon as it
    grows past ``cap`` (the rest is never read)."""
    shown = redact_url(url)
    hint = f"(raise {MAX_BYTES_ENV} if that is expected)"

    def too_large() -> Exception:
        total = response.headers.get("Content-Length", "")
        if total.isdigit() and "Content-Encoding" not in response.headers and int(total) > cap:
            return feed_error(
                source, f"{shown} is {size_text(int(total))}, over the {size_text(cap)} cap {hint}"
            )
        return feed_error(source, f"{shown} sent more than {size_text(cap)} {hint}")

    return read_capped(response, cap, too_large=too_large, progress=progress)
