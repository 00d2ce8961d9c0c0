"""Debian version ordering (Debian policy §5.6.12, dpkg's ``verrevcmp``).

Versions become nested tuples so that Python's C tuple comparison does the work: a sort key, not a
per-call loop, because matching compares every installed package against many advisories.
"""

from __future__ import annotations

import re
from functools import lru_cache

from imagetrust.versions.base import InvalidVersion

SCHEME = "deb"

# A string part is the tuple of dpkg "order" values of its bytes plus a 0 terminator: '~' is -1,
# the end is 0, ASCII letters keep their code, everything else sorts after letters (+256). Bytes
# >= 0x80 are negative ``char`` in dpkg (x86), so c + 256 is simply the unsigned byte value.
_ORDER = [c + 256 for c in range(128)] + list(range(128, 256))
for _c in range(ord("A"), ord("Z") + 1):
    _ORDER[_c] = _c
for _c in range(ord("a"), ord("z") + 1):
    _ORDER[_c] = _c
_ORDER[ord("~")] = -1

_PARTS = re.compile(r"([^0-9]*)([0-9]*)")
_Part = tuple[tuple[int, ...], int]
# An absent (string, number) pair: dpkg compares a finished string as "" and 0.
_ABSENT: _Part = ((0,), 0)
_UPSTREAM_OK = re.compile(r"[A-Za-z0-9.+~:-]*")
_REVISION_OK = re.compile(r"[A-Za-z0-9.+~]*")


def _letters_key(letters: str) -> tuple[int, ...]:
    """Order values of one non-digit run; the few distinct runs ("." "-" "+dfsg" "~rc") repeat."""
    cached = _LETTERS.get(letters)
    if cached is None:
        orders = [_ORDER[b] for b in letters.encode("utf-8", "surrogateescape")]
        cached = tuple(orders) + (0,)
        if len(_LETTERS) < 4096:
            _LETTERS[letters] = cached
    return cached


_LETTERS: dict[str, tuple[int, ...]] = {}


def _fragment_key(text: str) -> tuple[_Part, ...]:
    """Key of an upstream version or revision.

    Every key starts with its first pair (``""`` parses as ``("", 0)``, like ``"0"``) and only
    that pair can equal ``_ABSENT``: later string parts are never empty. So ``_ABSENT`` appended as
    a terminator makes plain tuple comparison equal ``verrevcmp``: where one key ends, its
    terminator meets a non-absent pair of the other.
    """
    # findall ends with an empty match; it doubles as the terminator (or the "" first pair).
    parts = [
        (_letters_key(letters), int(digits) if digits else 0)
        for letters, digits in _PARTS.findall(text)
    ]
    if len(parts) == 1:
        parts.append(_ABSENT)
    return tuple(parts)


def _split(version: str) -> tuple[int, str, str]:
    """Split like dpkg's ``parseversion``; raise only where dpkg refuses (not where it warns)."""
    text = version.strip()
    if not text:
        raise InvalidVersion(SCHEME, version, "version string is empty")
    if len(text.split(None, 1)) > 1:
        raise InvalidVersion(SCHEME, version, "version string has embedded spaces")
    epoch = 0
    head, colon, rest = text.partition(":")
    if colon:
        if not head:
            raise InvalidVersion(SCHEME, version, "epoch in version is empty")
        if not head.isascii() or not head.isdigit():
            raise InvalidVersion(SCHEME, version, "epoch in version is not number")
        epoch = int(head)
        if epoch > 2**31 - 1:
            raise InvalidVersion(SCHEME, version, "epoch in version is too big")
        text = rest
    upstream, hyphen, revision = text.rpartition("-")
    if not hyphen:
        upstream, revision = text, ""
    elif not revision:
        raise InvalidVersion(SCHEME, version, "revision number is empty")
    if not upstream:
        raise InvalidVersion(SCHEME, version, "version number is empty")
    return epoch, upstream, revision


DpkgKey = tuple[int, tuple[_Part, ...], tuple[_Part, ...]]


@lru_cache(maxsize=65536)
def key(version: str) -> DpkgKey:
    """Sort key; equal keys mean dpkg considers the versions equal (``1.0`` == ``1.00``)."""
    epoch, upstream, revision = _split(version)
    return epoch, _fragment_key(upstream), _fragment_key(revision)


def compare(a: str, b: str) -> int:
    """-1, 0 or 1 like ``dpkg --compare-versions`` (which only warns on bad characters)."""
    ka, kb = key(a), key(b)
    return (ka > kb) - (ka < kb)


def is_valid(version: str) -> bool:
    """Strict validity as ``Dpkg::Version->is_valid``: starts with a digit, allowed characters."""
    try:
        _, upstream, revision = _split(version)
    except InvalidVersion:
        return False
    return (
        upstream[0].isascii()
        and upstream[0].isdigit()
        and _UPSTREAM_OK.fullmatch(upstream) is not None
        and _REVISION_OK.fullmatch(revision) is not None
    )


def _int_bytes(value: int) -> bytes:
    """Length-prefixed big-endian: shorter means smaller, so byte order is numeric order."""
    data = value.to_bytes((value.bit_length() + 7) // 8, "big")
    if len(data) > 255:
        raise InvalidVersion(SCHEME, str(value), "number too long for a sortable key")
    return bytes((len(data),)) + data


def _fragment_bytes(parts: tuple[_Part, ...]) -> bytes:
    # A letter order (-1..383) + 257 takes two bytes starting with 0x01 or 0x02, so every pair
    # starts above the 0x00 that ends a fragment: a shorter fragment sorts first, as in tuples.
    out = bytearray()
    for letters, number in parts:
        for order in letters:
            out += (order + 257).to_bytes(2, "big")
        out += _int_bytes(number)
    out.append(0)
    return bytes(out)


@lru_cache(maxsize=65536)
def sortable(version: str) -> str:
    """:func:`key` as hex text whose plain string order is dpkg's order.

    Why: the database stores it next to each fixed version, so SQLite can drop rows an installed
    version already includes (``fixed_key <= installed_key``) before Python sees them. Each
    element of the key tuple gets a prefix-free, order-preserving byte code, so comparing the
    concatenations compares the tuples. Raises :class:`InvalidVersion` like :func:`key`.
    """
    epoch, upstream, revision = key(version)
    data = _int_bytes(epoch) + _fragment_bytes(upstream) + _fragment_bytes(revision)
    return data.hex()
