"""The recommendation ranking: which tag to move to, in one documented table.

Candidates are ordered by the criteria of :data:`RANKING`, first to last; each criterion is a
key (lower sorts first) and the sentence a person reads when it decided between two candidates.
The order is the policy "calibrated, not needlessly disruptive": stay supported, keep the OS
family, prefer LTS releases, remove the most fixable critical/high findings, then change as
little as possible. A candidate past its security support is never placed above a supported one
(the first criterion), and is marked "not recommended". docs/recommend.md prints this table and
a test keeps the two equal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

_CHANGE_COST = {"none": 0, "patch": 1, "minor": 2, "major": 3, "unknown": 3, "downgrade": 4}


@dataclass(frozen=True, slots=True)
class CandidateFacts:
    """What ranking reads about one candidate tag."""

    tag: str
    supported: bool
    """Listed by the official-images library (or, elsewhere, present in the registry)."""
    end_of_life: bool
    """Its OS release or a runtime it ships is past security support."""
    same_os_family: bool
    lts: bool
    fixable_critical_high: int
    version_change: str
    """none, patch, minor, major, downgrade, unknown (the image's own version)."""
    os_change: str
    size_delta: int
    """Bytes more (or fewer) than the current image."""


@dataclass(frozen=True, slots=True)
class Criterion:
    name: str
    key: Callable[[CandidateFacts], int]
    explains: str


RANKING: tuple[Criterion, ...] = (
    Criterion("supported", lambda c: 0 if c.supported and not c.end_of_life else 1,
              "supported releases first: an end-of-life or unsupported tag is never placed "
              "above a supported one"),
    Criterion("same-os-family", lambda c: 0 if c.same_os_family else 1,
              "the same OS family (Debian stays Debian, Alpine stays Alpine)"),
    Criterion("lts", lambda c: 0 if c.lts else 1,
              "long-term-support releases before short-lived ones"),
    Criterion("fixable-critical-high", lambda c: c.fixable_critical_high,
              "fewest fixable critical and high findings"),
    Criterion("smallest-change", lambda c: _CHANGE_COST.get(c.version_change, 3)
              + _CHANGE_COST.get(c.os_change, 3),
              "the smallest change: patch before minor before major, for the image's own "
              "version and its OS release"),
    Criterion("size", lambda c: max(0, c.size_delta) // (1 << 20),
              "then the smallest growth in size (per MiB)"),
)


def rank_key(candidate: CandidateFacts) -> tuple[int | str, ...]:
    return (*(criterion.key(candidate) for criterion in RANKING), candidate.tag)


def rank(candidates: Sequence[CandidateFacts]) -> list[CandidateFacts]:
    """Candidates in recommendation order (ties broken by tag name, for a stable order)."""
    return sorted(candidates, key=rank_key)


def why_first(first: CandidateFacts, second: CandidateFacts) -> str | None:
    """The criterion that put ``first`` above ``second`` (None when only the name did)."""
    for criterion in RANKING:
        if criterion.key(first) != criterion.key(second):
            return criterion.explains
    return None


def recommended(candidate: CandidateFacts) -> bool:
    """Whether a candidate may be recommended at all (supported, not end-of-life)."""
    return candidate.supported and not candidate.end_of_life


def ranking_table() -> str:
    """The Markdown table docs/recommend.md prints."""
    lines = ["| order | criterion | prefers |", "|---|---|---|"]
    lines += [f"| {i} | `{c.name}` | {c.explains} |" for i, c in enumerate(RANKING, 1)]
    return "\n".join(lines) + "\n"


__all__ = ["RANKING", "CandidateFacts", "Criterion", "rank", "rank_key", "ranking_table",
           "recommended", "why_first"]
