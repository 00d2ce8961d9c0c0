"""``db update``: download the requested feeds conditionally, then rebuild in one atomic swap.

Everything is downloaded before anything is written, and each body is parsed inside the write
session: a failure anywhere (HTTP 500, truncated gzip, bad JSON, wrong shape) aborts the session
and the previous database stays exactly as it was.

Only a request covering every feed's default units counts as a full update, which may rebuild a
database of another schema from nothing; a partial one is refused there instead of silently
dropping the other feeds (see :func:`imagetrust.match.db.writer.require_compatible`).  Feed URLs
are stored and reported without credentials.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from imagetrust.errors import FeedError
from imagetrust.http.client import HttpClient
from imagetrust.http.guard import check_plain_http, redact_url
from imagetrust.match.feeds import FEEDS, MIRROR_ONLY, default_feeds, resolve_units
from imagetrust.match.feeds.common import feed_error
from imagetrust.match.feeds.download import Fetched, configured_insecure, fetch, make_client
from imagetrust.match.feeds.model import FeedData, FeedUnit

from .writer import build, incompatibility, require_compatible, touch_in_place, utc_now

# Feeds that are never legitimately empty: an empty body means a broken mirror, not "no CVEs".
_NEVER_EMPTY = frozenset({"debian-tracker", "osv", "kev", "epss"})


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    """``phase``: download (``done``/``total`` bytes), unchanged (304), store (rows written)."""

    source: str
    phase: str
    done: int = 0
    total: int | None = None


ProgressCallback = Callable[[ProgressEvent], None]


@dataclass(frozen=True, slots=True)
class FeedOutcome:
    name: str
    url: str | None
    changed: bool
    record_count: int | None


@dataclass(frozen=True, slots=True)
class UpdateResult:
    db_path: Path
    outcomes: tuple[FeedOutcome, ...]
    swapped: bool
    """True when a new database file replaced the old one (some feed changed)."""


def stored_validators(db_path: Path) -> dict[str, tuple[str | None, str | None, str | None]]:
    """``name → (url, etag, last_modified)`` of the feeds already stored (empty if none, or if
    the database is of another schema: its rows will not be kept, so nothing may be a 304)."""
    if not db_path.is_file() or incompatibility(db_path) is not None:
        return {}
    try:
        conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            rows = conn.execute("SELECT name, url, etag, last_modified FROM feeds").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return {}  # unreadable: fetch everything afresh, the rebuild replaces it
    return {name: (url, etag, modified) for name, url, etag, modified in rows}


def is_full_update(
    units: Sequence[FeedUnit], base_urls: Mapping[str, str] | None = None
) -> bool:
    """Whether ``units`` include every default unit of every feed a plain ``db update`` fetches
    (mirror-only feeds count only when a mirror is configured for them)."""
    every = {u.source for u in resolve_units(default_feeds(base_urls), dict(base_urls or {}))}
    return every <= {u.source for u in units}


def update_feeds(
    db_path: Path,
    feeds: Sequence[str],
    *,
    base_urls: Mapping[str, str] | None = None,
    client: HttpClient | None = None,
    timeout: float = 60.0,
    progress: ProgressCallback | None = None,
    now: str | None = None,
    insecure: frozenset[str] | None = None,
    max_bytes: Mapping[str, int] | None = None,
) -> UpdateResult:
    """Fetch ``feeds`` (``debian-tracker``, ``alpine-secdb/v3.19``, ``osv/PyPI``, ``kev``, ``epss``)
    into the database at ``db_path``; ``base_urls`` overrides a feed's server (mirrors, tests).

    ``insecure``: hosts reachable over plain HTTP besides loopback (None: the configured
    ``insecure-registries``).  ``max_bytes``: per-feed caps on a decoded body (feed name → bytes),
    over :func:`imagetrust.match.feeds.download.max_bytes_for`.  ``client``: an HTTP-layer client
    to use instead of :func:`imagetrust.match.feeds.download.make_client`'s (tests, transports).
    """
    units = resolve_units(feeds, dict(base_urls or {}))
    for unit in units:
        if unit.feed in MIRROR_ONLY and unit.feed not in (base_urls or {}):
            raise FeedError(
                f"feed {unit.feed} is served upstream in a layout imagetrust does not resolve",
                hint=f"set IMAGETRUST_FEED_URLS={unit.feed}=URL to a mirror, or download it "
                "where you can and `imagetrust db import` it (docs/vulnerability-data.md)",
            )
    rebuild = is_full_update(units, base_urls)
    require_compatible(db_path, rebuild=rebuild)  # before downloading anything
    allowed = configured_insecure() if insecure is None else insecure
    for unit in units:  # every URL vetted before the first download
        check_plain_http(unit.url, allowed)
    caps = dict(max_bytes or {})
    previous = stored_validators(db_path)
    fetched: list[Fetched] = []
    http = client or make_client(timeout, allowed)
    try:
        for unit in units:
            url, etag, modified = previous.get(unit.source, (None, None, None))
            same = url == redact_url(unit.url)
            report = _byte_reporter(progress, unit.source)
            result = fetch(
                http,
                unit,
                etag=etag if same else None,
                last_modified=modified if same else None,
                progress=report,
                insecure=allowed,
                max_bytes=caps.get(unit.feed),
            )
            if not result.changed and progress is not None:
                progress(ProgressEvent(unit.source, "unchanged"))
            fetched.append(result)
    finally:
        if client is None:
            http.close()

    stamp = now or utc_now()
    outcomes: list[FeedOutcome] = []
    if not any(f.changed for f in fetched):
        touch_in_place(db_path, [f.unit.source for f in fetched], stamp)
        outcomes = [FeedOutcome(f.unit.source, redact_url(f.unit.url), False, None)
                    for f in fetched]
        return UpdateResult(db_path, tuple(outcomes), False)

    with build(db_path, rebuild=rebuild) as writer:
        for item in fetched:
            shown = redact_url(item.unit.url)
            if item.body is None:
                writer.touch(item.unit.source, stamp)
                outcomes.append(FeedOutcome(item.unit.source, shown, False, None))
                continue
            data = _parse(item)
            writer.apply(
                data, url=shown, etag=item.etag, last_modified=item.last_modified,
                sha256=item.sha256, now=stamp,
            )
            if progress is not None:
                progress(ProgressEvent(item.unit.source, "store", data.record_count))
            outcomes.append(FeedOutcome(item.unit.source, shown, True, data.record_count))
    return UpdateResult(db_path, tuple(outcomes), True)


def _parse(item: Fetched) -> FeedData:
    assert item.body is not None
    data = FEEDS[item.unit.feed].parse(item.body, item.unit.source)
    if data.record_count == 0 and item.unit.feed in _NEVER_EMPTY:
        raise feed_error(item.unit.source, f"{redact_url(item.unit.url)} contained no records")
    return data


def _byte_reporter(
    progress: ProgressCallback | None, source: str
) -> Callable[[int, int | None], None] | None:
    if progress is None:
        return None

    def report(done: int, total: int | None) -> None:
        progress(ProgressEvent(source, "download", done, total))

    return report
