"""Maven versions as ``org.apache.maven.artifact.versioning.ComparableVersion`` (Maven 3.8).

A version parses into nested lists: ``.`` separates items, ``-`` and every digit/letter transition
open a sub-list, and so does a qualifier after ``.`` that ends the version or precedes a digit
(``1.0.a`` == ``1.0-a``). Known qualifiers order ``alpha < beta < milestone < rc = cr <
snapshot < "" = ga = final = release < sp``; unknown ones sort after ``sp``, alphabetically.
Trailing "null" items (0, "", empty list) are dropped: ``1.0`` == ``1`` and ``1-ga`` == ``1``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from imagetrust.versions.base import InvalidVersion

SCHEME = "maven"

_QUALIFIERS = ("alpha", "beta", "milestone", "rc", "snapshot", "", "sp")
_ALIASES = {"ga": "", "final": "", "release": "", "cr": "rc"}
_SHORT = {"a": "alpha", "b": "beta", "m": "milestone"}
_RELEASE_INDEX = _QUALIFIERS.index("")


@dataclass(frozen=True, slots=True)
class _Str:
    """A qualifier, reduced to the string Maven compares it by (``comparableQualifier``)."""

    rank: str

    @staticmethod
    def of(text: str, followed_by_digit: bool) -> _Str:
        if followed_by_digit and len(text) == 1:
            text = _SHORT.get(text, text)
        text = _ALIASES.get(text, text)
        if text in _QUALIFIERS:
            return _Str(str(_QUALIFIERS.index(text)))
        return _Str(f"{len(_QUALIFIERS)}-{text}")

    def is_null(self) -> bool:
        return self.rank == str(_RELEASE_INDEX)




def _is_null(item: int | _Str | list[object]) -> bool:
    if isinstance(item, int):
        return item == 0
    if isinstance(item, _Str):
        return item.is_null()
    return not item


def _normalize(items: list[object]) -> None:
    """Drop trailing null items, looking through (but not past) trailing sub-lists."""
    for i in range(len(items) - 1, -1, -1):
        item = items[i]
        if _is_null(item):  # type: ignore[arg-type]
            del items[i]
        elif not isinstance(item, list):
            break


def _cmp_null(item: object) -> int:
    """``item.compareTo(null)``: how an item compares with a missing one."""
    if isinstance(item, int):
        return 0 if item == 0 else 1
    if isinstance(item, _Str):
        return (item.rank > str(_RELEASE_INDEX)) - (item.rank < str(_RELEASE_INDEX))
    assert isinstance(item, list)
    for child in item:  # the whole list, not only its first item (MNG-6964)
        result = _cmp_null(child)
        if result:
            return result
    return 0


def _cmp(left: object, right: object) -> int:
    """``left.compareTo(right)`` for two present items."""
    if isinstance(left, int):
        if isinstance(right, int):
            return (left > right) - (left < right)
        return 1  # a number beats a qualifier and a sub-list
    if isinstance(left, _Str):
        if isinstance(right, _Str):
            return (left.rank > right.rank) - (left.rank < right.rank)
        return -1  # a qualifier loses to a number and to a sub-list
    assert isinstance(left, list)
    if isinstance(right, int):
        return -1
    if isinstance(right, _Str):
        return 1
    assert isinstance(right, list)
    return _cmp_lists(left, right)


def _cmp_lists(left: list[object], right: list[object]) -> int:
    for i in range(max(len(left), len(right))):
        if i >= len(left):
            result = -_cmp_null(right[i])
        elif i >= len(right):
            result = _cmp_null(left[i])
        else:
            result = _cmp(left[i], right[i])
        if result:
            return result
    return 0


def _item(text: str, is_digit: bool) -> object:
    return int(text) if is_digit else _Str.of(text, False)


@lru_cache(maxsize=65536)
def parse(version: str) -> list[object]:
    """The item tree of ``ComparableVersion.parseVersion`` (do not mutate: it is cached)."""
    if not version.strip():
        raise InvalidVersion(SCHEME, version, "version string is empty")
    text = version.lower()
    items: list[object] = []
    current = items
    stack = [items]
    is_digit = False
    start = 0
    for i, char in enumerate(text):
        if char in ".-":
            current.append(0 if i == start else _item(text[start:i], is_digit))
            start = i + 1
            if char == "-":
                sub: list[object] = []
                current.append(sub)
                current = sub
                stack.append(sub)
        elif char.isdecimal():
            if not is_digit and i > start:
                if current:  # ".X1" is read as "-X1"
                    sub = []
                    current.append(sub)
                    current = sub
                    stack.append(sub)
                current.append(_Str.of(text[start:i], True))
                start = i
                sub = []
                current.append(sub)
                current = sub
                stack.append(sub)
            is_digit = True
        else:
            if is_digit and i > start:
                current.append(int(text[start:i]))
                start = i
                sub = []
                current.append(sub)
                current = sub
                stack.append(sub)
            is_digit = False
    if len(text) > start:
        if not is_digit and current:  # a trailing ".X" is read as "-X"
            sub = []
            current.append(sub)
            current = sub
            stack.append(sub)
        current.append(_item(text[start:], is_digit))
    while stack:
        _normalize(stack.pop())
    return items


def compare(a: str, b: str) -> int:
    """-1, 0 or 1 like ``new ComparableVersion(a).compareTo(new ComparableVersion(b))``."""
    return _cmp_lists(parse(a), parse(b))


def is_valid(version: str) -> bool:
    """Maven orders any string; only blank ones are refused here."""
    return bool(version.strip())
