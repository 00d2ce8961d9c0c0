"""NVD CVSS on demand: fetch only the CVEs a scan found, politely, and remember them.

The full NVD corpus is hundreds of MB; an image needs a few hundred CVEs at most.  Requests go to
the CVE API 2.0 one CVE at a time (``?cveId=``), under NVD's published rolling-window limits
(5 requests per 30 s without a key, 50 with ``NVD_API_KEY``).  Results, including "NVD does not
know this CVE", are written to the database so the next scan asks nothing.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import httpx

from imagetrust.errors import RateLimitError, UsageError
from imagetrust.http.client import HttpClient, split_credentials
from imagetrust.http.guard import check_plain_http, redact_url
from imagetrust.http.redirects import MAX_REDIRECTS
from imagetrust.match.db.store import VulnDB
from imagetrust.match.db.writer import build, utc_now
from imagetrust.match.feeds import nvd
from imagetrust.match.feeds.common import feed_error, load_json
from imagetrust.match.feeds.download import configured_insecure, make_client, read_body
from imagetrust.match.feeds.model import FeedData

WINDOW_SECONDS = 30.0
LIMIT_WITHOUT_KEY = 5
LIMIT_WITH_KEY = 50
MAX_CVE_RESPONSE = 16 << 20
"""One CVE's API answer is a few KB; 16 MiB bounds a hostile or broken server."""


class RateLimiter:
    """At most ``limit`` calls in any ``window`` seconds (a sliding window of call times)."""

    def __init__(
        self,
        limit: int,
        window: float = WINDOW_SECONDS,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limit, self.window = limit, window
        self._clock, self._sleep = clock, sleep
        self._calls: deque[float] = deque()

    def wait(self) -> None:
        now = self._clock()
        while self._calls and now - self._calls[0] >= self.window:
            self._calls.popleft()
        if len(self._calls) >= self.limit:
            self._sleep(self.window - (now - self._calls[0]))
            self._calls.popleft()
        self._calls.append(self._clock())


@dataclass(frozen=True, slots=True)
class EnrichResult:
    requested: int
    fetched: tuple[str, ...]
    missing: tuple[str, ...]
    """CVEs NVD answered with no record."""
    cached: int
    """CVEs skipped because the database already had them."""


def enrich_nvd(
    db_path: Path,
    cve_ids: Iterable[str],
    *,
    api_key: str | None = None,
    base_url: str = nvd.DEFAULT_BASE_URL,
    client: HttpClient | None = None,
    limiter: RateLimiter | None = None,
    timeout: float = 30.0,
    insecure: frozenset[str] | None = None,
) -> EnrichResult:
    """Fetch NVD records for the CVEs in ``cve_ids`` not already cached in the database.

    ``base_url`` must be https, or http to loopback or an ``insecure`` host (None: the configured
    ``insecure-registries``), on every redirect hop too; the API key (a header) and credentials
    in ``base_url`` go to that origin only, never to where a redirect points.
    """
    wanted = sorted({c for c in cve_ids if c.startswith("CVE-")})
    already: set[str] = set()
    if db_path.is_file():
        with VulnDB.open(db_path) as db:
            already = db.nvd_fetched(wanted)
    todo = [c for c in wanted if c not in already]
    if not todo:
        return EnrichResult(len(wanted), (), (), len(already))
    allowed = configured_insecure() if insecure is None else insecure
    check_plain_http(base_url, allowed)
    url, auth = split_credentials(base_url)
    shown = redact_url(base_url)
    gate = limiter or RateLimiter(LIMIT_WITH_KEY if api_key else LIMIT_WITHOUT_KEY)
    headers = {"apiKey": api_key} if api_key else {}
    http = client or make_client(timeout, allowed)
    cves = []
    missing: list[str] = []
    try:
        for cve_id in todo:
            gate.wait()
            body = _get(http, url, cve_id, headers, auth, shown)
            if body is None:
                missing.append(cve_id)
                continue
            found = nvd.cves_of(load_json(body, nvd.FEED))
            if not found:
                missing.append(cve_id)
            cves.extend(found)
    finally:
        if client is None:
            http.close()
    data: FeedData = nvd.parse_cves(cves)
    with build(db_path) as writer:
        writer.apply(data, url=shown, now=utc_now())
        writer.mark_missing_nvd(missing)
    return EnrichResult(
        len(wanted), tuple(a.id for a in data.advisories), tuple(missing), len(already)
    )


def _get(
    http: HttpClient,
    url: str,
    cve_id: str,
    headers: dict[str, str],
    auth: httpx.BasicAuth | None,
    shown: str,
) -> bytes | None:
    """One CVE's API answer, read up to :data:`MAX_CVE_RESPONSE`; None when NVD has no record."""
    try:
        with http.stream(
            "GET", url, params={"cveId": cve_id}, secrets=headers, auth=auth
        ) as response:
            return _answer(response, cve_id, shown)
    except httpx.TooManyRedirects:
        raise feed_error(
            nvd.FEED, f"{shown}: more than {MAX_REDIRECTS} redirects for {cve_id}"
        ) from None
    except UsageError as error:  # the guard refused a redirect hop
        raise feed_error(nvd.FEED, f"{shown} redirected: {error.message}") from None
    except httpx.HTTPError as error:
        raise feed_error(nvd.FEED, f"request for {cve_id} failed ({error})") from error


def _answer(response: httpx.Response, cve_id: str, shown: str) -> bytes | None:
    if response.status_code in (403, 429):
        raise RateLimitError(
            f"NVD refused {cve_id} with HTTP {response.status_code} (rate limit)",
            hint="set NVD_API_KEY for a higher limit, or retry later",
        )
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        raise feed_error(nvd.FEED, f"{cve_id}: HTTP {response.status_code} from {shown}")
    return read_body(response, MAX_CVE_RESPONSE, nvd.FEED, shown)
