"""Conditional HTTP downloads: a feed that has not changed costs one request and no bytes.

``If-None-Match``/``If-Modified-Since`` come from the ``feeds`` table; a 304 keeps the stored rows.
Bodies are read fully into memory: the largest feed (the Debian tracker) is tens of MB, and parsing
needs all of it anyway.  ``Content-Encoding: gzip`` is undone by httpx; a truncated body or stream
raises, and becomes a FeedError naming the feed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from imagetrust.match.feeds.common import feed_error
from imagetrust.match.feeds.model import FeedUnit

ByteProgress = Callable[[int, int | None], None]
USER_AGENT = "imagetrust (vulnerability feed updater)"


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


def make_client(timeout: float = 60.0) -> httpx.Client:
    """TLS verification stays on; redirects are followed (feeds move between CDNs)."""
    return httpx.Client(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 15.0)),
        follow_redirects=True,
        headers={"User-Agent": USER_AGENT},
    )


def fetch(
    client: httpx.Client,
    unit: FeedUnit,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    progress: ByteProgress | None = None,
) -> Fetched:
    headers: dict[str, str] = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        with client.stream("GET", unit.url, headers=headers) as response:
            if response.status_code == 304:
                return Fetched(unit, None, etag, last_modified, None)
            if response.status_code != 200:
                raise feed_error(
                    unit.source, f"{unit.url} answered HTTP {response.status_code}"
                )
            total_text = response.headers.get("Content-Length")
            total = int(total_text) if total_text and total_text.isdigit() else None
            chunks: list[bytes] = []
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                if progress is not None:  # wire bytes, comparable with Content-Length
                    progress(response.num_bytes_downloaded, total)
            body = b"".join(chunks)
            return Fetched(
                unit,
                body,
                response.headers.get("ETag"),
                response.headers.get("Last-Modified"),
                hashlib.sha256(body).hexdigest(),
            )
    except httpx.DecodingError as error:
        raise feed_error(unit.source, f"corrupt compressed response ({error})") from error
    except httpx.HTTPError as error:
        raise feed_error(unit.source, f"download from {unit.url} failed ({error})") from error
