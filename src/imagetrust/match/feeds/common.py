"""Helpers every feed parser shares: decoding bodies and raising FeedError with the feed's name."""

from __future__ import annotations

import gzip
import json
import zlib
from typing import Any

from imagetrust.errors import FeedError

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"


def feed_error(source: str, problem: str) -> FeedError:
    return FeedError(
        f"feed {source}: {problem}",
        hint="the previous database is unchanged; retry later or import a good copy",
    )


def gunzip(data: bytes, source: str) -> bytes:
    """Inflate a gzip body, rejecting truncation (``gzip.decompress`` accepts some cut streams)."""
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as error:
        raise feed_error(source, f"corrupt or truncated gzip data ({error})") from error


def load_json(data: bytes, source: str) -> Any:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise feed_error(source, f"invalid JSON ({error})") from error


def dumps(value: object) -> str | None:
    """Compact JSON, or None for empty values so absent stays NULL."""
    if value is None or value == [] or value == {}:
        return None
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def text(value: object) -> str | None:
    """A scalar from a feed as text (numbers such as ``debianbug`` included), None when absent."""
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)
