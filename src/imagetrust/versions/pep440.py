"""Python package versions: PEP 440 through ``packaging``, the reference implementation."""

from __future__ import annotations

from functools import lru_cache

from packaging.version import InvalidVersion as _PackagingInvalid
from packaging.version import Version

from imagetrust.versions.base import InvalidVersion

SCHEME = "pypi"


@lru_cache(maxsize=65536)
def key(version: str) -> Version:
    """Parsed ``Version`` (itself ordered); equivalent forms compare equal (``1.0`` == ``1``)."""
    try:
        return Version(version)
    except _PackagingInvalid:
        raise InvalidVersion(SCHEME, version, "not a PEP 440 version") from None


def compare(a: str, b: str) -> int:
    """-1, 0 or 1 under PEP 440 (local labels included, as ``packaging`` orders them)."""
    ka, kb = key(a), key(b)
    return (ka > kb) - (ka < kb)


def is_valid(version: str) -> bool:
    """True when ``packaging`` accepts the string."""
    try:
        key(version)
    except InvalidVersion:
        return False
    return True
