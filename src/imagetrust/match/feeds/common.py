"""Helpers every feed parser shares: decoding bodies and raising FeedError with the feed's name.

Feed bytes are untrusted (a mirror, a proxy or a file copied from elsewhere), so decoding is
bounded: JSON goes through :func:`imagetrust.jsonutil.loads` (deep nesting is an error, not a
``RecursionError``) and gzip is inflated in a stream that stops at a size limit, so a small bomb
cannot expand to fill memory.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import re
import zlib
from typing import TYPE_CHECKING, Any

from imagetrust.errors import FeedError
from imagetrust.jsonutil import loads

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"

MAX_INFLATED = 1 << 30
"""Largest decompressed gzip document (1 GiB): the Debian tracker, the biggest, is ~70 MB."""

_USERINFO = re.compile(r"(?<=//)[^/\s@]*@")


def scrub(message: str) -> str:
    """``message`` with every URL's ``user:password@`` replaced by ``***@``."""
    return _USERINFO.sub("***@", message)


def feed_error(source: str, problem: str) -> FeedError:
    return FeedError(
        scrub(f"feed {source}: {problem}"),
        hint="the previous database is unchanged; retry later or import a good copy",
    )


def size_text(size: int) -> str:
    """``1073741824`` → ``1 GiB``; for limits in messages."""
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if size >= 1 << shift:
            return f"{size / (1 << shift):.4g} {unit}"
    return f"{size} bytes"


BZ2_MAGIC = b"BZh"


def bunzip(data: bytes, source: str) -> bytes:
    """Inflate a bzip2 body, at most :data:`MAX_INFLATED` bytes."""
    decompressor = bz2.BZ2Decompressor()
    try:
        out = decompressor.decompress(data, MAX_INFLATED + 1)
    except (OSError, ValueError) as error:
        raise feed_error(source, f"corrupt bzip2 data ({error})") from None
    if len(out) > MAX_INFLATED:
        raise feed_error(source, f"bzip2 data inflates to more than {size_text(MAX_INFLATED)}")
    return out


def parse_xml(data: bytes, source: str, kind: str) -> Element:
    """The root of an untrusted XML feed document, through ``defusedxml`` (no entities, no
    external references); anything else is a FeedError saying it is not ``kind`` XML."""
    from defusedxml import ElementTree
    from defusedxml.common import DefusedXmlException

    try:
        root: Element = ElementTree.fromstring(data)
    except (ElementTree.ParseError, DefusedXmlException) as error:
        raise feed_error(source, f"not {kind} XML ({error})") from None
    return root


def gunzip(data: bytes, source: str, limit: int | None = None) -> bytes:
    """Inflate a gzip body (every member), at most ``limit`` bytes; truncation is an error."""
    cap = MAX_INFLATED if limit is None else limit
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            out = stream.read(cap + 1)
    except (OSError, EOFError, zlib.error) as error:
        raise feed_error(source, f"corrupt or truncated gzip data ({error})") from error
    if len(out) > cap:
        raise feed_error(source, f"gzip data inflates to more than {size_text(cap)}")
    return out


def load_json(data: bytes, source: str) -> Any:
    """Parse a feed document; malformed or hostile (deeply nested) JSON is a FeedError."""
    try:
        return loads(data, what="the document", error=FeedError)
    except FeedError as error:
        raise feed_error(source, error.message) from None


def dumps(value: object, source: str = "feed") -> str | None:
    """Compact JSON, or None for empty values so absent stays NULL.

    A value parsed just under the nesting limit can exceed it when encoded from a deeper stack,
    so encoding failures are a FeedError as well.
    """
    if value is None or value == [] or value == {}:
        return None
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    except (RecursionError, ValueError) as error:
        reason = "nested too deeply" if isinstance(error, RecursionError) else str(error)[:120]
        raise feed_error(source, f"a value cannot be stored as JSON ({reason})") from None


def text(value: object) -> str | None:
    """A scalar from a feed as text (numbers such as ``debianbug`` included), None when absent."""
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)
