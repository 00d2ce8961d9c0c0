"""RubyGems versions (``Gem::Version``): dotted segments, a letter anywhere makes a pre-release.

``1.0.a < 1.0`` because letters sort before numbers at the same position; ``-`` is read as
``.pre.`` and trailing zeros of the release and of the pre-release part are ignored.
"""

from __future__ import annotations

import re
from functools import lru_cache

from imagetrust.versions.base import InvalidVersion

SCHEME = "gem"

_VALID = re.compile(
    r"\s*([0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)?\s*"
)
_SEGMENT = re.compile(r"[0-9]+|[a-zA-Z]+")
Segment = int | str


def _drop_trailing_zeros(segments: list[Segment]) -> list[Segment]:
    while segments and segments[-1] == 0:
        segments.pop()
    return segments


@lru_cache(maxsize=65536)
def canonical_segments(version: str) -> tuple[Segment, ...]:
    """``Gem::Version#canonical_segments``: the list two versions are compared on."""
    if _VALID.fullmatch(version) is None:
        raise InvalidVersion(SCHEME, version, "not a RubyGems version")
    text = version.strip().replace("-", ".pre.") or "0"
    segments: list[Segment] = [
        int(part) if part.isdigit() else part for part in _SEGMENT.findall(text)
    ]
    split = next((i for i, s in enumerate(segments) if isinstance(s, str)), len(segments))
    release = _drop_trailing_zeros(segments[:split])
    prerelease = _drop_trailing_zeros(segments[split:])
    return tuple(release + prerelease)


def compare(a: str, b: str) -> int:
    """-1, 0 or 1 like ``Gem::Version#<=>``: missing segments count as 0, strings < numbers."""
    left, right = canonical_segments(a), canonical_segments(b)
    if left == right:
        return 0
    for i in range(max(len(left), len(right))):
        lhs = left[i] if i < len(left) else 0
        rhs = right[i] if i < len(right) else 0
        if lhs == rhs:
            continue
        if isinstance(lhs, str) != isinstance(rhs, str):
            return -1 if isinstance(lhs, str) else 1
        return -1 if lhs < rhs else 1  # type: ignore[operator]
    return 0


def is_valid(version: str) -> bool:
    """True when ``Gem::Version.correct?`` accepts it (blank counts as ``0``)."""
    return _VALID.fullmatch(version) is not None
