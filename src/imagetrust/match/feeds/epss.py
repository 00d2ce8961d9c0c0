"""FIRST EPSS daily scores: ``epss_scores-YYYY-MM-DD.csv.gz`` (``#model_version...`` comment, then
``cve,epss,percentile``).  A grype-style JSON list of ``{cve, epss, percentile, date}`` is accepted
for offline import too.

The CSV is read one bounded line at a time (:data:`MAX_LINE`), from memory or straight from a
file, and gzip is inflated as it is read up to :data:`MAX_INFLATED` (and :data:`MAX_LINES`): a file
of one 1 GB line or a gzip bomb is one error after reading a few KB past the cap, never gigabytes
of memory.
"""

from __future__ import annotations

import gzip
import io
import re
import zlib
from collections.abc import Iterator, Sequence
from typing import IO, Any

from imagetrust.match.feeds import common
from imagetrust.match.feeds.common import GZIP_MAGIC, feed_error, size_text
from imagetrust.match.feeds.model import EpssRow, FeedData, FeedUnit

FEED = "epss"
DEFAULT_BASE_URL = "https://epss.empiricalsecurity.com"
_SCORE_DATE = re.compile(r"score_date:(\d{4}-\d{2}-\d{2})")
_HEADER = "cve,epss,percentile"
MAX_LINE = 4096
"""The longest line read (a row is ~35 bytes, the ``#model_version`` comment ~70)."""
MAX_LINES = 4_000_000
"""The most lines read (the daily file has ~300,000): blank padding cannot cost minutes of CPU."""
MAX_INFLATED = 256 << 20
"""The most a gzip-compressed file may inflate to (256 MiB, or the feeds' common cap if lower;
the daily file is ~10 MB)."""


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
    return parse_stream(io.BytesIO(data), source)


def parse_stream(stream: IO[bytes], source: str = FEED) -> FeedData:
    """Parse the CSV (gzip-compressed or not) from a binary stream, one bounded line at a time."""
    head = stream.read(2)
    stream.seek(0)
    if head == GZIP_MAGIC:
        with gzip.GzipFile(fileobj=stream) as inflated:
            cap = min(MAX_INFLATED, common.MAX_INFLATED)
            return _parse_lines(_lines(inflated, source, cap), source)
    return _parse_lines(_lines(stream, source, None), source)


def _lines(
    stream: IO[bytes] | gzip.GzipFile, source: str, cap: int | None
) -> Iterator[tuple[int, str]]:
    total = 0
    number = 0
    try:
        while line := stream.readline(MAX_LINE + 1):
            number += 1
            total += len(line)
            if number > MAX_LINES:
                raise feed_error(source, f"more than {MAX_LINES} lines")
            if cap is not None and total > cap:
                raise feed_error(source, f"gzip data inflates to more than {size_text(cap)}")
            if len(line) > MAX_LINE:
                raise feed_error(source, f"line {number} is longer than {MAX_LINE} bytes")
            try:
                yield number, line.decode("utf-8")
            except UnicodeDecodeError as error:
                raise feed_error(source, f"line {number}: not UTF-8 text ({error})") from None
    except (OSError, EOFError, zlib.error) as error:
        raise feed_error(source, f"corrupt or truncated gzip data ({error})") from error


def _parse_lines(lines: Iterator[tuple[int, str]], source: str) -> FeedData:
    date: str | None = None
    rows: list[EpssRow] = []
    header_seen = False
    for number, line in lines:
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
        parts = line.rstrip("\r\n").split(",")
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
