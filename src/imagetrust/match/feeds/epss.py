"""FIRST EPSS daily scores: ``epss_scores-YYYY-MM-DD.csv.gz`` (``#model_version...`` comment, then
``cve,epss,percentile``).  A grype-style JSON list of ``{cve, epss, percentile, date}`` is accepted
for offline import too."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from imagetrust.match.feeds.common import GZIP_MAGIC, feed_error, gunzip
from imagetrust.match.feeds.model import EpssRow, FeedData, FeedUnit

FEED = "epss"
DEFAULT_BASE_URL = "https://epss.empiricalsecurity.com"
_SCORE_DATE = re.compile(r"score_date:(\d{4}-\d{2}-\d{2})")
_HEADER = "cve,epss,percentile"


def units(base_url: str, selectors: Sequence[str]) -> list[FeedUnit]:
    """Selectors may name a day (``2025-02-20``); the default is the current file."""
    base = base_url.rstrip("/")
    day = selectors[0] if selectors else "current"
    return [FeedUnit(FEED, FEED, f"{base}/epss_scores-{day}.csv.gz")]


def looks_like_csv(head: bytes) -> bool:
    first = head.lstrip()[:200].decode("utf-8", "replace")
    return first.startswith("#model_version") or first.startswith(_HEADER)


def looks_like_json(doc: object) -> bool:
    return (
        isinstance(doc, list)
        and bool(doc)
        and isinstance(doc[0], dict)
        and {"cve", "epss", "percentile"} <= doc[0].keys()
    )


def parse_bytes(data: bytes, source: str = FEED) -> FeedData:
    if data[:2] == GZIP_MAGIC:
        data = gunzip(data, source)
    try:
        body = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise feed_error(source, f"not UTF-8 text ({error})") from error
    date: str | None = None
    rows: list[EpssRow] = []
    header_seen = False
    for number, line in enumerate(body.splitlines(), 1):
        if not line.strip():
            continue
        if line.startswith("#"):
            match = _SCORE_DATE.search(line)
            date = match.group(1) if match else date
            continue
        if not header_seen:
            if line.strip().lower() != _HEADER:
                raise feed_error(source, f"line {number}: expected header {_HEADER!r}")
            header_seen = True
            continue
        parts = line.split(",")
        try:
            if len(parts) != 3 or not parts[0].startswith("CVE-"):
                raise ValueError(line[:60])
            rows.append(EpssRow(parts[0], float(parts[1]), float(parts[2]), date))
        except ValueError as error:
            raise feed_error(source, f"line {number}: bad row ({error})") from error
    if not header_seen:
        raise feed_error(source, f"no {_HEADER!r} header")
    return FeedData(feed=FEED, source=source, record_count=len(rows), epss=rows)


def parse_json(doc: Any, source: str = FEED) -> FeedData:
    if not looks_like_json(doc):
        raise feed_error(source, "expected a list of {cve, epss, percentile}")
    try:
        rows = [
            EpssRow(str(i["cve"]), float(i["epss"]), float(i["percentile"]), i.get("date"))
            for i in doc
        ]
    except (KeyError, TypeError, ValueError) as error:
        raise feed_error(source, f"bad entry ({error})") from error
    return FeedData(feed=FEED, source=source, record_count=len(rows), epss=rows)
