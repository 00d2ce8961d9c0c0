"""The error every version scheme raises, apart so scheme modules need not import the API."""

from __future__ import annotations

from imagetrust.errors import ImagetrustError


class InvalidVersion(ImagetrustError, ValueError):
    """A version string the scheme cannot order.

    Also a ``ValueError`` so callers that treat a bad feed entry like any other parse failure can
    catch it without knowing imagetrust's error tree.
    """

    def __init__(self, scheme: str, version: str, reason: str) -> None:
        self.scheme = scheme
        self.version = version
        self.reason = reason
        super().__init__(
            f"invalid {scheme} version {version!r}: {reason}",
            hint="check the package metadata or advisory that produced it",
        )


def sign(value: int) -> int:
    """Collapse any comparison result to -1, 0 or 1."""
    return (value > 0) - (value < 0)
