"""Semantic versions: npm (node-semver, loose) and Cargo (SemVer 2.0, strict).

Both orderings are SemVer 2.0 precedence — build metadata ignored, a pre-release below its release,
numeric identifiers below alphanumeric ones — so one key serves both; only parsing differs.
"""

from __future__ import annotations

import re
from functools import lru_cache

from imagetrust.versions.base import InvalidVersion

# Pre-release identifier keys: (0, number) sorts before (1, text); the release itself gets the
# single-element tuple (2,) so that it sorts after every pre-release of the same x.y.z.
_Ident = tuple[int, int | str]
SemverKey = tuple[int, int, int, tuple[_Ident, ...]]
_RELEASE: tuple[_Ident, ...] = ((2, 0),)

# node-semver's LOOSE grammar: any mix of 'v', '=' and blanks in front, leading zeros allowed,
# the pre-release hyphen optional.
_NPM_IDENT = r"(?:[0-9]+|[0-9]*[a-zA-Z-][a-zA-Z0-9-]*)"
_NPM = re.compile(
    r"[v=\s]*([0-9]+)\.([0-9]+)\.([0-9]+)"
    rf"(?:-?({_NPM_IDENT}(?:\.{_NPM_IDENT})*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
)
_NPM_MAX_LENGTH = 256
_NPM_MAX_SAFE_INTEGER = 2**53 - 1

# SemVer 2.0 as the spec's grammar (what the ``semver`` crate accepts).
_NUM = r"(?:0|[1-9][0-9]*)"
_STRICT_IDENT = r"(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)"
_STRICT = re.compile(
    rf"({_NUM})\.({_NUM})\.({_NUM})"
    rf"(?:-({_STRICT_IDENT}(?:\.{_STRICT_IDENT})*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?"
)


def prerelease_key(prerelease: str | None) -> tuple[_Ident, ...]:
    """Key of the dot-separated pre-release part (``None`` or "" = a release)."""
    if not prerelease:
        return _RELEASE
    return tuple(
        (0, int(ident)) if ident.isdigit() else (1, ident) for ident in prerelease.split(".")
    )


@lru_cache(maxsize=65536)
def npm_key(version: str) -> SemverKey:
    """Parse like ``new SemVer(version, {loose: true})``."""
    text = version.strip()
    match = _NPM.fullmatch(text) if len(version) <= _NPM_MAX_LENGTH else None
    if match is None:
        raise InvalidVersion("npm", version, "not a semantic version (major.minor.patch)")
    major, minor, patch = (int(match.group(i)) for i in (1, 2, 3))
    if max(major, minor, patch) > _NPM_MAX_SAFE_INTEGER:
        raise InvalidVersion("npm", version, "a version number is larger than 2^53-1")
    return major, minor, patch, prerelease_key(match.group(4))


@lru_cache(maxsize=65536)
def cargo_key(version: str) -> SemverKey:
    """Parse strict SemVer 2.0 as Cargo does (no ``v`` prefix, no leading zeros)."""
    match = _STRICT.fullmatch(version)
    if match is None:
        raise InvalidVersion("cargo", version, "not a SemVer 2.0 version (major.minor.patch)")
    major, minor, patch = (int(match.group(i)) for i in (1, 2, 3))
    return major, minor, patch, prerelease_key(match.group(4))


def compare_npm(a: str, b: str) -> int:
    """-1, 0 or 1 like node-semver's ``compare(a, b, true)``."""
    ka, kb = npm_key(a), npm_key(b)
    return (ka > kb) - (ka < kb)


def compare_cargo(a: str, b: str) -> int:
    """-1, 0 or 1 by SemVer 2.0 precedence (build metadata ignored, as ``VersionReq`` does)."""
    ka, kb = cargo_key(a), cargo_key(b)
    return (ka > kb) - (ka < kb)


def is_valid_npm(version: str) -> bool:
    """True when node-semver parses the string in loose mode."""
    try:
        npm_key(version)
    except InvalidVersion:
        return False
    return True


def is_valid_cargo(version: str) -> bool:
    """True for a strict SemVer 2.0 version."""
    try:
        cargo_key(version)
    except InvalidVersion:
        return False
    return True
