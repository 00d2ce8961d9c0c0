"""Conditional GET: a resource that has not changed costs one request and no bytes.

The validators of the last good answer (``ETag``, ``Last-Modified``) go back as ``If-None-Match``
/ ``If-Modified-Since``; a 304 means "keep what you have".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

NOT_MODIFIED = 304


@dataclass(frozen=True, slots=True)
class Validators:
    """What identifies one version of a resource, as the server gave it."""

    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        """The conditional request headers (empty when nothing is known)."""
        found: dict[str, str] = {}
        if self.etag:
            found["If-None-Match"] = self.etag
        if self.last_modified:
            found["If-Modified-Since"] = self.last_modified
        return found

    @classmethod
    def of(cls, response: httpx.Response) -> Validators:
        """The validators a (200) response carries, for the next conditional request."""
        return cls(response.headers.get("ETag"), response.headers.get("Last-Modified"))


def not_modified(response: httpx.Response) -> bool:
    """Whether the server said the stored copy is still current."""
    return response.status_code == NOT_MODIFIED
