"""Response bodies read with a cap: a hostile or broken server cannot make us buffer without end.

The cap counts *decoded* bytes: httpx undoes ``Content-Encoding: gzip``, so a small compressed body
could otherwise inflate without bound. Reading stops at the first chunk past the cap; the rest is
never read. Each caller words the error for its own context (``too_large``), or gets
:class:`BodyTooLargeError`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from imagetrust.errors import ImagetrustError

if TYPE_CHECKING:
    import httpx

CHUNK = 1 << 20
"""Bytes per read: large enough for throughput, small enough to stop soon after the cap."""

ByteProgress = Callable[[int, int | None], None]
"""``progress(wire bytes so far, Content-Length or None)``."""


class BodyTooLargeError(ImagetrustError):
    """A response body grew past the cap its reader allows."""


def declared_length(response: httpx.Response) -> int | None:
    """``Content-Length`` as an int, or None when absent or not a number."""
    text = response.headers.get("Content-Length", "")
    return int(text) if text.isdigit() else None


def iter_capped(
    response: httpx.Response,
    limit: int,
    *,
    too_large: Callable[[], Exception] | None = None,
    progress: ByteProgress | None = None,
) -> Iterator[bytes]:
    """The decoded body in chunks; raises (``too_large()`` or :class:`BodyTooLargeError`) as
    soon as more than ``limit`` bytes arrived, or before reading when an unencoded body declares
    more in ``Content-Length``."""

    def refuse() -> Exception:
        if too_large is not None:
            return too_large()
        return BodyTooLargeError(f"{response.url.host} sent more than {limit} bytes")

    total = declared_length(response)
    if total is not None and "Content-Encoding" not in response.headers and total > limit:
        raise refuse()
    size = 0
    for chunk in response.iter_bytes(CHUNK):
        size += len(chunk)
        if size > limit:
            raise refuse()
        if progress is not None:  # wire bytes, comparable with Content-Length
            progress(response.num_bytes_downloaded, total)
        yield chunk


def read_capped(
    response: httpx.Response,
    limit: int,
    *,
    too_large: Callable[[], Exception] | None = None,
    progress: ByteProgress | None = None,
) -> bytes:
    """The whole decoded body, at most ``limit`` bytes (see :func:`iter_capped`)."""
    return b"".join(iter_capped(response, limit, too_large=too_large, progress=progress))
