"""JSON in and out: parsing untrusted bytes that fails only with an :class:`ImagetrustError`, and
writing text that is always valid UTF-8, whatever bytes an image's names held.

``json.loads`` raises ``RecursionError`` on deeply nested input (``[[[[…]]]]``), which is not a
``ValueError`` and so slipped past every ``except ValueError`` into a traceback. Every parse of
input from registries, archives, daemons or downloads goes through :func:`loads` instead.

File names and metadata read from an image may hold bytes that are not UTF-8; readers keep them
as surrogate escapes (``surrogateescape``), which cannot be encoded and broke every writer with
``UnicodeEncodeError`` (or, on a POSIX-locale stdout, wrote the raw bytes: invalid UTF-8). Every
report goes through :func:`valid_text` / :func:`dumps`, which write such a byte as the text
``\\xNN`` (and any other lone surrogate as ``\\uDXXX``), as SPDX documents always did.
"""

from __future__ import annotations

import json
from typing import Any

from imagetrust.errors import ImagetrustError, ManifestError

_MAX_REASON = 120
_ESCAPED_BYTES = range(0xDC80, 0xDD00)
"""Where ``surrogateescape`` puts the bytes 0x80-0xFF it could not decode."""
_SURROGATES = range(0xD800, 0xE000)


def loads(
    data: bytes | bytearray | str,
    *,
    what: str,
    error: type[ImagetrustError] = ManifestError,
) -> Any:
    """Parse ``data``; anything malformed raises ``error("<what> is not valid JSON: …")``."""
    try:
        return json.loads(data)
    except RecursionError:
        reason = "nested too deeply"
    except UnicodeDecodeError as exc:
        reason = f"not UTF-8 text (byte {exc.start})"
    except json.JSONDecodeError as exc:
        reason = f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    except ValueError as exc:  # e.g. integers with too many digits
        reason = str(exc)
    reason = " ".join(reason.split())[:_MAX_REASON]
    raise error(f"{what} is not valid JSON: {reason}") from None


def raw_bytes(text: str) -> bytes:
    """The bytes ``text`` was decoded from (surrogate escapes back to the original bytes)."""
    return text.encode("utf-8", "surrogateescape")


def valid_text(text: str) -> str:
    """``text`` as valid Unicode: an undecodable byte becomes ``\\xNN``, other lone surrogates
    ``\\uXXXX``; text that is valid already is returned unchanged (the common, fast case)."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        pass
    else:
        return text
    out = []
    for char in text:
        code = ord(char)
        if code in _ESCAPED_BYTES:
            out.append(f"\\x{code - 0xDC00:02x}")
        elif code in _SURROGATES:
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)


def valid_unicode(value: Any) -> Any:
    """``value`` (JSON-shaped) with every string, keys too, made valid by :func:`valid_text`."""
    if isinstance(value, str):
        return valid_text(value)
    if isinstance(value, dict):
        return {valid_text(k) if isinstance(k, str) else k: valid_unicode(v)
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [valid_unicode(item) for item in value]
    return value


def dumps(value: Any, *, indent: int | None = 2, ensure_ascii: bool = True) -> str:
    """``json.dumps`` of ``value`` made valid Unicode first: the result always encodes as UTF-8
    (``ensure_ascii`` alone would write ``\\udce9``, an escape strict JSON readers reject)."""
    return json.dumps(valid_unicode(value), indent=indent, ensure_ascii=ensure_ascii)
