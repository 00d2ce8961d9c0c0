"""Go module versions (golang.org/x/mod/semver), including pseudo-versions and ``+incompatible``.

Pseudo-versions (``v0.0.0-20191109021931-daa7c04131f5``) are ordinary pre-releases, so SemVer
precedence orders them by timestamp; ``+incompatible`` is build metadata and ignored. Go requires
the ``v`` prefix, but OSV's Go ecosystem writes versions without it, so a missing ``v`` is added.
Shorthands ``v1`` and ``v1.2`` mean ``v1.0.0`` and ``v1.2.0``, as in x/mod/semver.
"""

from __future__ import annotations

import re
from functools import lru_cache

from imagetrust.versions.base import InvalidVersion
from imagetrust.versions.semver import SemverKey, prerelease_key

SCHEME = "golang"

_NUM = r"(?:0|[1-9][0-9]*)"
_IDENT = r"(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)"
_FULL = re.compile(
    rf"v({_NUM})\.({_NUM})\.({_NUM})"
    rf"(?:-({_IDENT}(?:\.{_IDENT})*))?"
    r"(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?"
)
_SHORT = re.compile(rf"v({_NUM})(?:\.({_NUM}))?")


@lru_cache(maxsize=65536)
def key(version: str) -> SemverKey:
    """Sort key; raises for what ``semver.IsValid`` rejects (after adding a missing ``v``)."""
    text = version if version.startswith("v") else "v" + version
    match = _FULL.fullmatch(text)
    if match is not None:
        major, minor, patch = (int(match.group(i)) for i in (1, 2, 3))
        return major, minor, patch, prerelease_key(match.group(4))
    short = _SHORT.fullmatch(text)
    if short is None:
        raise InvalidVersion(SCHEME, version, "not a Go module version (vMAJOR.MINOR.PATCH)")
    return int(short.group(1)), int(short.group(2) or 0), 0, prerelease_key(None)


def compare(a: str, b: str) -> int:
    """-1, 0 or 1 like ``semver.Compare`` for valid versions."""
    ka, kb = key(a), key(b)
    return (ka > kb) - (ka < kb)


def is_valid(version: str) -> bool:
    """True when ``semver.IsValid`` accepts it (a missing ``v`` is tolerated)."""
    try:
        key(version)
    except InvalidVersion:
        return False
    return True
