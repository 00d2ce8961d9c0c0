"""RPM version ordering: ``rpmvercmp`` segments plus epoch:version-release (rpm 4.18 ``rpmverCmp``).

Each string becomes a tuple of tokens whose first element encodes rpmvercmp's precedence at one
position: ``~`` < end of string < ``^`` < alphabetic segment < numeric segment.
"""

from __future__ import annotations

import re
from functools import lru_cache

from imagetrust.versions.base import InvalidVersion

SCHEME = "rpm"

_TILDE, _END, _CARET, _ALPHA, _NUM = 0, 1, 2, 3, 4
_Token = tuple[int, int | str]
_TOKENS = re.compile(r"(~)|(\^)|([0-9]+)|([A-Za-z]+)")
_END_TOKEN: _Token = (_END, 0)
_VALID = re.compile(r"(?:[0-9]+:)?[A-Za-z0-9._+~^]+(?:-[A-Za-z0-9._+~^]+)?")


@lru_cache(maxsize=65536)
def segments(text: str) -> tuple[_Token, ...]:
    """Key of one version or release string under ``rpmvercmp``.

    Separators (anything not ASCII alphanumeric, ``~`` or ``^``) only delimit segments. Numbers
    compare by value (leading zeros ignored); a number beats letters at the same position.
    """
    tokens: list[_Token] = []
    for tilde, caret, digits, letters in _TOKENS.findall(text):
        if tilde:
            tokens.append((_TILDE, 0))
        elif caret:
            tokens.append((_CARET, 0))
        elif digits:
            tokens.append((_NUM, int(digits)))
        else:
            tokens.append((_ALPHA, letters))
    tokens.append(_END_TOKEN)
    return tuple(tokens)


def vercmp(a: str, b: str) -> int:
    """``rpmvercmp(a, b)`` on bare version (or release) strings."""
    ka, kb = segments(a), segments(b)
    return (ka > kb) - (ka < kb)


RpmKey = tuple[tuple[_Token, ...], tuple[_Token, ...], tuple[int, tuple[_Token, ...]]]


@lru_cache(maxsize=65536)
def key(evr: str) -> RpmKey:
    """Sort key of ``[epoch:]version[-release]`` as rpm parses it (``parseEVR``).

    A missing epoch counts as 0; a missing release sorts before any present release, as rpm 4.18's
    ``rpmverCmp`` does.
    """
    if not evr:
        raise InvalidVersion(SCHEME, evr, "version string is empty")
    digits = len(evr) - len(evr.lstrip("0123456789"))
    epoch = "0"
    version = evr
    if evr[digits:digits + 1] == ":":
        epoch = evr[:digits] or "0"
        version = evr[digits + 1:]
    head, hyphen, release = version.rpartition("-")
    if not hyphen:
        return segments(epoch), segments(version), (0, ())
    return segments(epoch), segments(head), (1, segments(release))


def compare(a: str, b: str) -> int:
    """-1, 0 or 1 like rpm 4.18's ``rpm.vercmp`` (full EVR comparison)."""
    ka, kb = key(a), key(b)
    return (ka > kb) - (ka < kb)


def is_valid(evr: str) -> bool:
    """Well-formed EVR: optional numeric epoch, version and release of rpm's allowed characters."""
    return _VALID.fullmatch(evr) is not None
