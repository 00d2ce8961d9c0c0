"""Exact version ordering for every package ecosystem imagetrust matches advisories against.

``scheme`` is the package-URL type (``deb``, ``apk``, ``rpm``, ``pypi``, ``npm``, ``golang``,
``maven``, ``cargo``, ``gem``). Parsed versions are cached, so comparing the same installed version
against many advisories costs a tuple comparison.

Errors: an unknown scheme raises :class:`~imagetrust.errors.UsageError`; a version the scheme
cannot order raises :class:`InvalidVersion` (an ``ImagetrustError`` and a ``ValueError``).
Schemes whose tools still order malformed input keep doing so: dpkg only warns about bad
characters, apk orders a version up to its first bad token, Maven and RPM order any non-empty
string.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cmp_to_key, lru_cache
from typing import Any

from imagetrust.errors import UsageError
from imagetrust.versions import apk, dpkg, gem, golang, maven, pep440, rpm, semver
from imagetrust.versions.base import InvalidVersion

__all__ = ["SCHEMES", "InvalidVersion", "compare", "comparator", "is_valid", "key"]

_COMPARE: dict[str, Callable[[str, str], int]] = {
    "deb": dpkg.compare,
    "apk": apk.compare,
    "rpm": rpm.compare,
    "pypi": pep440.compare,
    "npm": semver.compare_npm,
    "cargo": semver.compare_cargo,
    "golang": golang.compare,
    "maven": maven.compare,
    "gem": gem.compare,
}
_VALID: dict[str, Callable[[str], bool]] = {
    "deb": dpkg.is_valid,
    "apk": apk.is_valid,
    "rpm": rpm.is_valid,
    "pypi": pep440.is_valid,
    "npm": semver.is_valid_npm,
    "cargo": semver.is_valid_cargo,
    "golang": golang.is_valid,
    "maven": maven.is_valid,
    "gem": gem.is_valid,
}
# Schemes whose order is a plain tuple/object order; the others go through cmp_to_key.
_NATIVE_KEY: dict[str, Callable[[str], Any]] = {
    "deb": dpkg.key,
    "rpm": rpm.key,
    "pypi": pep440.key,
    "npm": semver.npm_key,
    "cargo": semver.cargo_key,
    "golang": golang.key,
}

SCHEMES: frozenset[str] = frozenset(_COMPARE)


def _unknown(scheme: str) -> UsageError:
    return UsageError(
        f"unknown version scheme {scheme!r}",
        hint=f"use one of: {', '.join(sorted(SCHEMES))}",
    )


def compare(scheme: str, a: str, b: str) -> int:
    """-1, 0 or 1 as ``a`` is lower than, equal to or higher than ``b`` under ``scheme``."""
    try:
        function = _COMPARE[scheme]
    except KeyError:
        raise _unknown(scheme) from None
    return function(a, b)


def comparator(scheme: str) -> Callable[[str, str], int]:
    """The scheme's own ``compare(a, b)``, for callers comparing thousands of pairs of one
    scheme (one call less per comparison than :func:`compare`)."""
    try:
        return _COMPARE[scheme]
    except KeyError:
        raise _unknown(scheme) from None


def is_valid(scheme: str, version: str) -> bool:
    """True when ``version`` is well formed for ``scheme`` (stricter than ``compare``)."""
    try:
        function = _VALID[scheme]
    except KeyError:
        raise _unknown(scheme) from None
    return function(version)


@lru_cache(maxsize=16)
def _cmp_key(scheme: str) -> Callable[[str], Any]:
    compare_scheme = _COMPARE[scheme]
    return cmp_to_key(compare_scheme)


def key(scheme: str, version: str) -> Any:
    """A sort key for ``version``: ``sorted(vs, key=lambda v: key("deb", v))``.

    Keys of one scheme compare with each other exactly as :func:`compare` does; keys of different
    schemes must not be mixed. Raises like :func:`compare` for a bad scheme or version.
    """
    if scheme not in _COMPARE:
        raise _unknown(scheme)
    native = _NATIVE_KEY.get(scheme)
    if native is not None:
        return native(version)
    if scheme == "apk":
        apk.tokens(version)  # raise now, not at the first comparison
    else:
        _COMPARE[scheme](version, version)
    return _cmp_key(scheme)(version)
