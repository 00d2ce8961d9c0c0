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
    (``ensure_ascii`` alone would write ``\\udce9``, an escape strict JSON readers reject).

    Indented output is written by :func:`_indented`, the same text as ``json.dumps`` (whose C
    encoder only writes unindented JSON) in about a third of the time: an SBOM's components are
    tens of thousands of small values.
    """
    if indent is not None and indent >= 0:
        try:
            return _indented(value, indent, ensure_ascii)
        except _Unusual:
            pass
    return json.dumps(valid_unicode(value), indent=indent, ensure_ascii=ensure_ascii)


class _Unusual(Exception):
    """A value :func:`_indented` leaves to ``json.dumps`` (non-string keys, unknown types)."""


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value in (_INFINITY, -_INFINITY):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)


_INFINITY = float("inf")


def _indented(value: Any, indent: int, ensure_ascii: bool) -> str:
    """``json.dumps(valid_unicode(value), indent=indent)``, or :class:`_Unusual`."""
    quote = json.encoder.encode_basestring_ascii if ensure_ascii else json.encoder.encode_basestring
    parts: list[str] = []
    add = parts.append
    newlines = ["\n" + " " * (indent * level) for level in range(8)]

    def walk(item: Any, level: int) -> None:
        kind = type(item)
        if kind is str:
            add(quote(item if item.isascii() else valid_text(item)))
        elif kind is dict:
            if not item:
                add("{}")
                return
            while len(newlines) <= level + 1:
                newlines.append("\n" + " " * (indent * len(newlines)))
            inner = newlines[level + 1]
            if not all(type(k) is str and k.isascii() for k in item):
                if not all(isinstance(k, str) for k in item):
                    raise _Unusual
                item = {valid_text(k): v for k, v in item.items()}
            first = True
            for key, child in item.items():
                add(("{" if first else ",") + inner + quote(key) + ": ")
                first = False
                walk(child, level + 1)
            add(newlines[level] + "}")
        elif kind is list or kind is tuple:
            if not item:
                add("[]")
                return
            while len(newlines) <= level + 1:
                newlines.append("\n" + " " * (indent * len(newlines)))
            inner = newlines[level + 1]
            first = True
            for child in item:
                add(("[" if first else ",") + inner)
                first = False
                walk(child, level + 1)
            add(newlines[level] + "]")
        elif item is None:
            add("null")
        elif item is True:
            add("true")
        elif item is False:
            add("false")
        elif kind is int:
            add(int.__repr__(item))
        elif kind is float:
            add(_float(item))
        elif isinstance(item, str):
            add(quote(valid_text(item)))
        else:
            raise _Unusual  # subclasses, other types: json.dumps decides (or raises)

    walk(value, 0)
    return "".join(parts)
