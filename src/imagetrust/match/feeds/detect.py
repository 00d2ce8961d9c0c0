"""Recognise a feed file by its content, for offline ``import`` of files copied from elsewhere.

Names lie (``all.zip``, ``data.json``); shapes do not.  Each test below is a cheap structural check
on the parsed document, ordered so that the more specific shapes win.
"""

from __future__ import annotations

import gzip
import zlib
from collections import defaultdict
from pathlib import Path
from typing import Any

from imagetrust.errors import UsageError
from imagetrust.match.feeds import alpine_secdb, debian_tracker, epss, kev, nvd, osv
from imagetrust.match.feeds.common import (
    EMPTY_ZIP_MAGIC,
    GZIP_MAGIC,
    ZIP_MAGIC,
    feed_error,
    gunzip,
    load_json,
)
from imagetrust.match.feeds.model import FeedData

KNOWN = (
    debian_tracker.FEED, alpine_secdb.FEED, osv.FEED, nvd.FEED, kev.FEED, epss.FEED,
)


def _kind_of_json(doc: Any) -> str | None:
    if nvd.looks_like_page(doc) or nvd.looks_like_cve(doc):
        return nvd.FEED
    if kev.looks_like(doc):
        return kev.FEED
    if epss.looks_like_json(doc):
        return epss.FEED
    if alpine_secdb.looks_like(doc):
        return alpine_secdb.FEED
    if osv.looks_like(doc) or (isinstance(doc, list) and doc and all(map(osv.looks_like, doc))):
        return osv.FEED
    if debian_tracker.looks_like(doc):
        return debian_tracker.FEED
    return None


def _is_epss_csv(path: Path, feed: str | None) -> bool:
    """An EPSS CSV (or gzip of one), judged from its first bytes only."""
    try:
        with path.open("rb") as handle:
            head = handle.read(256)
            if head[:2] == GZIP_MAGIC:
                handle.seek(0)
                with gzip.GzipFile(fileobj=handle) as inflated:
                    head = inflated.read(256)
    except (OSError, EOFError, zlib.error):
        return False  # the whole-file path below says what is wrong
    if head[:4] in (ZIP_MAGIC, EMPTY_ZIP_MAGIC):
        return False
    return feed == epss.FEED or epss.looks_like_csv(head)


def parse_file(path: Path, feed: str | None = None) -> list[FeedData] | None:
    """Parse one feed file; None when its content is no feed we know (and ``feed`` was not given).

    OSV records come back as one FeedData per ecosystem family so each replaces ``osv/<Family>``.
    """
    if feed is not None and feed not in KNOWN:
        raise UsageError(f"unknown feed {feed!r}", hint=f"choose from {', '.join(KNOWN)}")
    label = str(path)
    if feed in (None, epss.FEED) and _is_epss_csv(path, feed):
        try:
            with path.open("rb") as stream:  # streamed: a huge line is an error, not a read
                return [epss.parse_stream(stream, epss.FEED)]
        except OSError as error:
            raise feed_error(label, f"cannot read file ({error.strerror})") from error
    try:
        data = path.read_bytes()
    except OSError as error:
        raise feed_error(label, f"cannot read file ({error.strerror})") from error
    if data[:2] == GZIP_MAGIC:
        data = gunzip(data, label)
    if data[:4] in (ZIP_MAGIC, EMPTY_ZIP_MAGIC):
        if feed not in (None, osv.FEED):
            raise feed_error(label, f"a zip archive is not a {feed} feed")
        return _regroup_osv(osv.read_zip(data, label))
    if feed == epss.FEED or (feed is None and epss.looks_like_csv(data[:256])):
        return [epss.parse_bytes(data, epss.FEED)]
    doc = load_json(data, label) if feed != epss.FEED else None
    kind = feed or _kind_of_json(doc)
    if kind is None:
        return None
    return _parse_doc(kind, doc, label)


def _parse_doc(kind: str, doc: Any, label: str) -> list[FeedData]:
    if kind == debian_tracker.FEED:
        if not debian_tracker.looks_like(doc):
            raise feed_error(label, "not Debian security tracker JSON")
        return [debian_tracker.parse(doc)]
    if kind == alpine_secdb.FEED:
        return [alpine_secdb.parse(doc)]
    if kind == nvd.FEED:
        return [nvd.parse_cves(nvd.cves_of(doc, label))]
    if kind == kev.FEED:
        return [kev.parse(doc)]
    if kind == epss.FEED:
        return [epss.parse_json(doc)]
    records = doc if isinstance(doc, list) else [doc]
    return _regroup_osv(records)


def _regroup_osv(records: list[Any]) -> list[FeedData]:
    groups: dict[str, list[Any]] = defaultdict(list)
    for record in records:
        if not osv.looks_like(record):
            raise feed_error(osv.FEED, "not an OSV record (no id/modified)")
        groups[osv.family_of(record)].append(record)
    return [osv.parse_records(recs, f"{osv.FEED}/{fam}") for fam, recs in sorted(groups.items())]


def merge(datas: list[FeedData]) -> list[FeedData]:
    """Merge results that replace the same source (OSV records spread over many files)."""
    by_source: dict[str, list[FeedData]] = defaultdict(list)
    for item in datas:
        by_source[item.source].append(item)
    merged: list[FeedData] = []
    for source, items in by_source.items():
        if len(items) == 1:
            merged.append(items[0])
            continue
        first = items[0]
        merged.append(
            FeedData(
                feed=first.feed,
                source=source,
                record_count=sum(i.record_count for i in items),
                mode=first.mode,
                advisories=[r for i in items for r in i.advisories],
                affected=[r for i in items for r in i.affected],
                severities=[r for i in items for r in i.severities],
                kev=[r for i in items for r in i.kev],
                epss=[r for i in items for r in i.epss],
            )
        )
    return merged
