"""Alpine (apk-tools 2.14) version ordering.

Grammar: ``digit{.digit}...{letter}{_suffix{number}}...{-rN}``. apk compares token by token and
still orders strings that break the grammar (``1.0 < 1.0bc``): the first invalid token ends the
comparison. We keep that, but refuse versions that do not even start with a digit, which apk
would call equal to each other.
"""

from __future__ import annotations

import re
from functools import lru_cache

from imagetrust.versions.base import InvalidVersion

SCHEME = "apk"

INITIAL_DIGIT, DIGIT, LETTER, SUFFIX, SUFFIX_NO, REVISION_NO, END, INVALID = range(8)
# Pre-release suffixes sort below "no suffix" (5), post-release ones above.
_SUFFIXES = {"alpha": 1, "beta": 2, "pre": 3, "rc": 4, "": 5,
             "cvs": 6, "svn": 7, "git": 8, "hg": 9, "p": 10}
_NO_SUFFIX = 5
_DIGITS = re.compile(r"[0-9]*")
_LOWER = re.compile(r"[a-z]*")

# (token type, value): value is an int, or the digit string for DIGIT (compared as text when
# either side has a leading zero, as Gentoo does).
Token = tuple[int, int | str]


def _tokens(version: str) -> tuple[Token, ...]:
    """All tokens up to and including the terminating END or INVALID token."""
    first = _DIGITS.match(version)
    assert first is not None
    if not first.group():
        return ((INVALID, 0),)
    tokens: list[Token] = [(INITIAL_DIGIT, int(first.group()))]
    kind, pos, end = INITIAL_DIGIT, first.end(), len(version)
    while pos < end:
        char = version[pos]
        value: int | str
        if "a" <= char <= "z":
            if kind > DIGIT:
                break
            kind, value = LETTER, ord(char)
            pos += 1
        elif char == "." or "0" <= char <= "9":
            if char == ".":
                if kind > DIGIT:
                    break
                pos += 1
            digits = _DIGITS.match(version, pos)
            assert digits is not None
            pos = digits.end()
            if kind == SUFFIX:
                kind, value = SUFFIX_NO, int(digits.group() or "0")
            elif kind in (INITIAL_DIGIT, DIGIT):
                kind, value = DIGIT, digits.group()
            else:
                break
        elif char == "_":
            if kind > SUFFIX_NO:
                break
            name = _LOWER.match(version, pos + 1)
            assert name is not None
            suffix = _SUFFIXES.get(name.group())
            if suffix is None:
                break
            kind, value, pos = SUFFIX, suffix, name.end()
        elif char == "-":
            if kind >= REVISION_NO or version[pos + 1:pos + 2] != "r":
                break
            digits = _DIGITS.match(version, pos + 2)
            assert digits is not None
            kind, value, pos = REVISION_NO, int(digits.group() or "0"), digits.end()
        else:
            break
        tokens.append((kind, value))
    else:
        tokens.append((END, 0))
        return tuple(tokens)
    tokens.append((INVALID, 0))
    return tuple(tokens)


@lru_cache(maxsize=65536)
def tokens(version: str) -> tuple[Token, ...]:
    """Cached tokenisation; raises for a version that does not start with a digit."""
    result = _tokens(version)
    if result[0][0] == INVALID:
        raise InvalidVersion(SCHEME, version, "an apk version starts with a digit")
    return result


def _token_cmp(kind: int, a: int | str, b: int | str) -> int:
    if kind == DIGIT:
        assert isinstance(a, str) and isinstance(b, str)
        if a.startswith("0") or b.startswith("0"):
            return (a > b) - (a < b)
        a, b = int(a or "0"), int(b or "0")
    return (a > b) - (a < b)  # type: ignore[operator]


def compare(a: str, b: str, *, fuzzy: bool = False) -> int:
    """-1, 0 or 1 like ``apk version -t``; ``fuzzy`` is apk's ``~`` (b is a prefix of a)."""
    ta, tb = tokens(a), tokens(b)
    i = 0
    while True:
        (ka, va), (kb, vb) = ta[i], tb[i]
        if ka != kb or ka >= END:
            break
        result = _token_cmp(ka, va, vb)
        if result:
            return result
        i += 1
    if ka == kb or (fuzzy and kb == END):
        return 0
    if ka == SUFFIX and va < _NO_SUFFIX:  # type: ignore[operator]
        return -1
    if kb == SUFFIX and vb < _NO_SUFFIX:  # type: ignore[operator]
        return 1
    return -1 if ka > kb else 1


def is_valid(version: str) -> bool:
    """True when the whole string follows apk's grammar (``apk_version_validate``)."""
    return _tokens(version)[-1][0] == END
