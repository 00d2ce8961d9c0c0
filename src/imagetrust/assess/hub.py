"""Docker Hub badges (Verified Publisher, Sponsored OSS) from Hub's public search API.

A Docker Hub namespace is anyone's to register, so the only publisher signal Hub itself offers for
non-library repositories is the badge Docker grants after vetting a publisher. It is read from the
catalog search endpoint (``GET /api/search/v3/catalog/search?query=NS/NAME``), whose results carry
``badge`` = ``official`` | ``verified_publisher`` | ``open_source`` | ``none``. Answers are cached
on disk for a TTL; offline or on any error the badge is ``unknown`` — never a guess.

The base URL (``IMAGETRUST_HUB_URL``) may be plain HTTP only to loopback or insecure-registries
hosts, and every request, redirect hops included, is held to that rule (:mod:`imagetrust.http`);
once Hub refused or timed out, later lookups in the same run answer ``unknown`` at once.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import httpx

from imagetrust import jsonutil
from imagetrust.atomic import write_atomic
from imagetrust.config import Settings
from imagetrust.errors import FeedError, ImagetrustError
from imagetrust.http.body import read_capped
from imagetrust.http.breaker import current_breaker
from imagetrust.http.client import HttpClient
from imagetrust.http.guard import check_plain_http, refuse_userinfo

HUB_BASE_URL = "https://hub.docker.com"
SEARCH_PATH = "/api/search/v3/catalog/search"
DEFAULT_TTL = timedelta(hours=24)
MAX_RESPONSE = 4 * 1024 * 1024
CACHE_SUBDIR = "hub-badges"

Badge = Literal["official", "verified_publisher", "open_source", "none", "unknown"]
_KNOWN: dict[str, Badge] = {
    "official": "official",
    "verified_publisher": "verified_publisher",
    "open_source": "open_source",
    "none": "none",
    "": "none",
}


@dataclass(frozen=True, slots=True)
class HubBadge:
    """Hub's badge for one repository and where the answer came from."""

    repository: str
    """``namespace/name`` on Docker Hub."""
    badge: Badge
    source: Literal["hub-api", "cache", "offline", "error"]
    detail: str
    """One sentence: what Hub said, or why the badge is unknown."""
    publisher: str | None = None
    """Hub's publisher display name, when given."""
    fetched_at: datetime | None = None


class HubClient:
    """Looks badges up on Docker Hub, caching answers under ``<cache>/hub-badges/``."""

    def __init__(
        self,
        cache_dir: Path,
        *,
        base_url: str = HUB_BASE_URL,
        ttl: timedelta = DEFAULT_TTL,
        offline: bool = False,
        timeout: float = 10.0,
        verify: bool = True,
        transport: httpx.BaseTransport | None = None,
        insecure: frozenset[str] = frozenset(),
    ) -> None:
        check_plain_http(base_url, insecure)
        refuse_userinfo(base_url, "Docker Hub URL")
        self._insecure = insecure
        self.cache_dir = cache_dir / CACHE_SUBDIR
        self.base_url = base_url.rstrip("/")
        self.ttl = ttl
        self.offline = offline
        self._timeout = timeout
        self._verify = verify
        self._transport = transport
        self._breaker = current_breaker()  # the run's, also for lookups from worker threads

    @classmethod
    def from_settings(
        cls, settings: Settings, environ: Mapping[str, str] | None = None
    ) -> HubClient:
        """A client honouring ``offline``, the timeout and ``IMAGETRUST_HUB_URL``."""
        env = os.environ if environ is None else environ
        return cls(
            settings.cache_dir,
            base_url=env.get("IMAGETRUST_HUB_URL") or HUB_BASE_URL,
            offline=settings.offline,
            timeout=settings.timeout,
            insecure=settings.insecure_registries,
        )

    def badge(self, repository: str, *, now: datetime | None = None) -> HubBadge:
        """The badge of ``namespace/name`` (``docker.io/`` prefix accepted)."""
        repository = repository.removeprefix("docker.io/")
        now = now or datetime.now(UTC)
        cached = self._read_cache(repository)
        if cached is not None and cached.fetched_at and now - cached.fetched_at <= self.ttl:
            return cached
        if self.offline:
            return self._stale_or_unknown(cached, repository, "offline", "offline mode")
        try:
            result = self._query(repository, now)
        except (httpx.HTTPError, ValueError, ImagetrustError, _HubAnswerError) as error:
            return self._stale_or_unknown(cached, repository, "error", _describe(error))
        self._write_cache(result)
        return result

    def _stale_or_unknown(
        self,
        cached: HubBadge | None,
        repository: str,
        source: Literal["offline", "error"],
        why: str,
    ) -> HubBadge:
        if cached is not None:
            # An expired answer is still Hub's last word; say how old it is rather than drop it.
            age = cached.fetched_at.date().isoformat() if cached.fetched_at else "an unknown date"
            return HubBadge(
                repository,
                cached.badge,
                "cache",
                f"{cached.detail} (cached from {age}; not refreshed: {why})",
                cached.publisher,
                cached.fetched_at,
            )
        return HubBadge(
            repository,
            "unknown",
            source,
            f"Docker Hub badge of {repository} could not be checked ({why})",
        )

    def _query(self, repository: str, now: datetime) -> HubBadge:
        params = {"query": repository, "from": "0", "size": "25"}
        with (
            HttpClient(
                timeout=self._timeout,
                insecure=self._insecure,
                verify=self._verify,
                transport=self._transport,
                user_agent="imagetrust",
                breaker=self._breaker,
            ) as client,
            client.stream(
                "GET",
                self.base_url + SEARCH_PATH,
                params=params,
                headers={"Accept": "application/json"},
            ) as response,
        ):
            if response.status_code != 200:
                raise _HubAnswerError(f"Docker Hub answered HTTP {response.status_code}")
            body = read_capped(
                response,
                MAX_RESPONSE,
                too_large=lambda: _HubAnswerError("Docker Hub response too large"),
            )
        data = jsonutil.loads(body, what="Docker Hub's search answer", error=FeedError)
        results = data.get("results") if isinstance(data, dict) else None
        if not isinstance(results, list):
            raise _HubAnswerError("Docker Hub search answer has no results list")
        for item in results:
            if isinstance(item, dict) and _item_name(item) == repository:
                raw = str(item.get("badge") or "")
                badge = _KNOWN.get(raw)
                if badge is None:
                    raise _HubAnswerError(f"unrecognised Docker Hub badge {raw!r}")
                publisher = item.get("publisher")
                publisher_name = None
                if isinstance(publisher, dict) and publisher.get("name"):
                    publisher_name = str(publisher["name"])
                return HubBadge(
                    repository,
                    badge,
                    "hub-api",
                    _badge_sentence(repository, badge, publisher_name),
                    publisher_name,
                    now,
                )
        raise _HubAnswerError(f"{repository} not found in Docker Hub search results")

    def _cache_path(self, repository: str) -> Path:
        key = hashlib.sha256(f"{self.base_url}|{repository}".encode()).hexdigest()
        return self.cache_dir / f"{key}.json"

    def _read_cache(self, repository: str) -> HubBadge | None:
        try:
            data = jsonutil.loads(
                self._cache_path(repository).read_bytes(), what="cached badge", error=FeedError
            )
            badge = _KNOWN[str(data["badge"])]
            return HubBadge(
                repository=str(data["repository"]),
                badge=badge,
                source="cache",
                detail=str(data["detail"]),
                publisher=data.get("publisher"),
                fetched_at=datetime.fromisoformat(str(data["fetched_at"])),
            )
        except (OSError, ValueError, KeyError, TypeError, FeedError):
            return None  # absent or damaged: ask Hub again

    def _write_cache(self, result: HubBadge) -> None:
        payload: dict[str, Any] = {
            "repository": result.repository,
            "badge": result.badge,
            "detail": result.detail,
            "publisher": result.publisher,
            "fetched_at": (result.fetched_at or datetime.now(UTC)).isoformat(),
        }
        try:
            path = self._cache_path(result.repository)
            write_atomic(path, json.dumps(payload).encode())
        except OSError:
            pass  # the cache is an optimisation; the answer itself is still good


class _HubAnswerError(Exception):
    """Hub answered, but not with something we can read as a badge."""


def _item_name(item: Mapping[str, Any]) -> str:
    for key in ("slug", "id", "name"):
        value = item.get(key)
        if isinstance(value, str) and "/" in value:
            return value
    return ""


def _badge_sentence(repository: str, badge: Badge, publisher: str | None) -> str:
    who = f" ({publisher})" if publisher else ""
    if badge == "verified_publisher":
        return f"Docker Hub marks {repository}{who} as a Docker Verified Publisher"
    if badge == "open_source":
        return f"Docker Hub marks {repository}{who} as a Docker-Sponsored Open Source project"
    if badge == "official":
        return f"Docker Hub marks {repository} as a Docker Official Image"
    return f"Docker Hub shows no publisher badge for {repository}{who}"


def _describe(error: BaseException) -> str:
    if isinstance(error, httpx.TimeoutException):
        return "Docker Hub timed out"
    if isinstance(error, httpx.HTTPError):
        return f"cannot reach Docker Hub: {type(error).__name__}"
    return str(error)
