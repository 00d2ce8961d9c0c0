"""Conditional HTTP downloads: a feed that has not changed costs one request and no bytes.

``If-None-Match``/``If-Modified-Since`` come from the ``feeds`` table; a 304 keeps the stored rows.
Bodies are read into memory (parsing needs all of it anyway) but never past a per-feed maximum,
counted in *decoded* bytes: httpx undoes ``Content-Encoding: gzip``, so a small compressed body
could otherwise inflate without bound.  A truncated body or stream becomes a FeedError naming the
feed.

Plain HTTP goes only to loopback hosts or hosts the user marked insecure (the
``insecure-registries`` setting), checked on the first URL and, through a request hook, on every
redirect hop.  Credentials in a feed URL (``https://user:token@mirror/...``) are sent as HTTP
basic auth, never kept in the URL httpx logs, and never appear in messages or the database.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx

from imagetrust.errors import UsageError
from imagetrust.match.feeds.common import feed_error, size_text
from imagetrust.match.feeds.model import FeedUnit
from imagetrust.source.registry.endpoints import check_plain_http, plain_http_guard, redact_url

ByteProgress = Callable[[int, int | None], None]
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


def make_client(timeout: float = 60.0, insecure: frozenset[str] = frozenset()) -> httpx.Client:
    """TLS verification stays on; redirects are followed (feeds move between CDNs), each hop
    through the plain-HTTP guard."""
    return httpx.Client(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 15.0)),
        follow_redirects=True,
        headers={"User-Agent": USER_AGENT},
        event_hooks={"request": [plain_http_guard(insecure)]},
    )


def split_credentials(url: str) -> tuple[str, httpx.BasicAuth | None]:
    """``https://u:p@host/x`` → (``https://host/x``, basic auth for u/p)."""
    parsed = httpx.URL(url)
    if not parsed.userinfo:
        return url, None
    clean = str(parsed.copy_with(username=None, password=None))
    return clean, httpx.BasicAuth(parsed.username, parsed.password)


def fetch(
    client: httpx.Client,
    unit: FeedUnit,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    progress: ByteProgress | None = None,
    insecure: frozenset[str] = frozenset(),
    max_bytes: int | None = None,
) -> Fetched:
    """GET ``unit.url`` conditionally.  ``client`` should come from :func:`make_client` so that
    redirect hops are guarded too; the first URL is checked here whatever the client."""
    check_plain_http(unit.url, insecure)
    cap = max_bytes_for(unit.feed) if max_bytes is None else max_bytes
    shown = redact_url(unit.url)
    url, auth = split_credentials(unit.url)
    headers: dict[str, str] = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        with client.stream("GET", url, headers=headers, auth=auth) as response:
            if response.status_code == 304:
                return Fetched(unit, None, etag, last_modified, None)
            if response.status_code != 200:
                raise feed_error(unit.source, f"{shown} answered HTTP {response.status_code}")
            total_text = response.headers.get("Content-Length")
            total = int(total_text) if total_text and total_text.isdigit() else None
            body = _read_capped(response, cap, unit.source, shown, progress, total)
            return Fetched(
                unit,
                body,
                response.headers.get("ETag"),
                response.headers.get("Last-Modified"),
                hashlib.sha256(body).hexdigest(),
            )
    except UsageError as error:  # the guard refused a redirect hop
        raise feed_error(unit.source, f"{shown} redirected: {error.message}") from None
    except httpx.DecodingError as error:
        raise feed_error(unit.source, f"corrupt compressed response ({error})") from error
    except httpx.HTTPError as error:
        raise feed_error(unit.source, f"download from {shown} failed ({error})") from error


def _read_capped(
    response: httpx.Response,
    cap: int,
    source: str,
    shown: str,
    progress: ByteProgress | None,
    total: int | None,
) -> bytes:
    """The decoded body, refused as soon as it grows past ``cap`` (the rest is never read)."""
    if total is not None and "Content-Encoding" not in response.headers and total > cap:
        raise feed_error(source, f"{shown} is {size_text(total)}, over the {size_text(cap)} cap "
                         f"(raise {MAX_BYTES_ENV} if that is expected)")
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > cap:
            raise feed_error(source, f"{shown} sent more than {size_text(cap)} "
                             f"(raise {MAX_BYTES_ENV} if that is expected)")
        chunks.append(chunk)
        if progress is not None:  # wire bytes, comparable with Content-Length
            progress(response.num_bytes_downloaded, total)
    return b"".join(chunks)


def read_body(response: httpx.Response, cap: int, source: str, url: str) -> bytes:
    """A streamed response's decoded body up to ``cap`` bytes, for callers besides :func:`fetch`."""
    return _read_capped(response, cap, source, redact_url(url), None, None)
