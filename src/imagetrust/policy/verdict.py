"""The rules that turn trust evidence into one level, in one readable place.

Every rule is a row of :data:`RULES`: a condition on :class:`TrustFacts`, the level it caps the
verdict at, and the sentence a person reads. The verdict is the lowest level any rule (or the
publisher's starting level) sets; its reasons are the sentences of the rules at that level.
docs/trust-levels.md prints this table; tests/policy/test_verdict.py checks it case by case.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from imagetrust.errors import UsageError

TRUSTED_TIERS = frozenset({"official", "verified-publisher", "sponsored-oss", "trusted-vendor"})


class Level(IntEnum):
    """Ordered: a higher value is more trust. ``--min-level`` compares with this order."""

    UNTRUSTED = 0
    NEEDS_ATTENTION = 1
    UNKNOWN = 2
    TRUSTED_WITH_CAVEATS = 3
    TRUSTED = 4

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", " ")

    @property
    def slug(self) -> str:
        return self.name.lower().replace("_", "-")

    @classmethod
    def parse(cls, text: str) -> Level:
        key = text.strip().lower().replace("-", "_").replace(" ", "_")
        try:
            return cls[key.upper()]
        except KeyError:
            choices = ", ".join(level.slug for level in cls)
            raise UsageError(
                f"unknown trust level {text!r}", hint=f"use one of {choices}"
            ) from None


@dataclass(frozen=True, slots=True)
class TrustFacts:
    """What the assessment established, reduced to what the rules need."""

    reference: str
    publisher_tier: str
    """official, verified-publisher, sponsored-oss, trusted-vendor, community, private, unknown."""
    tag_status: str = "unknown"
    """supported, unsupported, unknown, not-applicable (digest-only / no tag)."""
    freshness: str = "unknown"
    """current, behind, unknown."""
    days_behind: int | None = None
    fixes_by_pulling: int | None = None
    """Findings that disappear in the tag's current image (None: not computed)."""
    base_status: str = "unknown"
    """official-current, official-behind, unsupported, unofficial, none, unknown."""
    vulnerabilities_scanned: bool = False
    vulnerability_coverage: str = "full"
    """full, partial (some packages or files could not be judged), none (nothing could be)."""
    coverage_reason: str = ""
    fixable_critical: int = 0
    fixable_high: int = 0
    kev: int = 0
    """Findings listed in CISA's Known Exploited Vulnerabilities catalog."""
    attestations: str = "unknown"
    """verified (provenance matches the library's GitCommit), present, missing, mismatch,
    unknown."""

    @property
    def trusted_publisher(self) -> bool:
        return self.publisher_tier in TRUSTED_TIERS


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    level: Level
    applies: Callable[[TrustFacts], bool]
    reason: Callable[[TrustFacts], str]


def _behind(f: TrustFacts) -> str:
    return f"{f.days_behind} days behind" if f.days_behind is not None else "behind"


RULES: tuple[Rule, ...] = (
    Rule(
        "unestablished-publisher-critical",
        Level.UNTRUSTED,
        lambda f: not f.trusted_publisher and f.fixable_critical > 0,
        lambda f: (
            f"publisher is not established ({f.publisher_tier}) and "
            f"{f.fixable_critical} critical vulnerabilities have fixes available"
        ),
    ),
    Rule(
        "unestablished-publisher-kev",
        Level.UNTRUSTED,
        lambda f: not f.trusted_publisher and f.kev > 0,
        lambda f: (
            f"publisher is not established ({f.publisher_tier}) and "
            f"{f.kev} vulnerabilities are known to be exploited (CISA KEV)"
        ),
    ),
    Rule(
        "provenance-mismatch",
        Level.UNTRUSTED,
        lambda f: f.attestations == "mismatch",
        lambda f: "provenance does not match the commit the official-images library lists",
    ),
    Rule(
        "known-exploited",
        Level.NEEDS_ATTENTION,
        lambda f: f.trusted_publisher and f.kev > 0,
        lambda f: f"{f.kev} vulnerabilities are known to be exploited (CISA KEV)",
    ),
    Rule(
        "unsupported-tag",
        Level.NEEDS_ATTENTION,
        lambda f: f.tag_status == "unsupported",
        lambda f: (
            "the tag is no longer supported and will never be rebuilt: move to a supported tag"
        ),
    ),
    Rule(
        "behind-with-fixes",
        Level.NEEDS_ATTENTION,
        lambda f: f.freshness == "behind" and (f.fixes_by_pulling or 0) > 0,
        lambda f: (
            f"the image is {_behind(f)} its tag and pulling would fix "
            f"{f.fixes_by_pulling} vulnerabilities"
        ),
    ),
    Rule(
        "fixable-critical-high",
        Level.NEEDS_ATTENTION,
        lambda f: f.fixable_critical + f.fixable_high > 0,
        lambda f: (
            f"{f.fixable_critical} critical and {f.fixable_high} high vulnerabilities "
            "have fixes available"
        ),
    ),
    Rule(
        "behind",
        Level.TRUSTED_WITH_CAVEATS,
        lambda f: f.freshness == "behind" and not (f.fixes_by_pulling or 0) > 0,
        lambda f: f"the image is {_behind(f)} its tag (pull to stay current)",
    ),
    Rule(
        "freshness-unknown",
        Level.TRUSTED_WITH_CAVEATS,
        lambda f: f.freshness == "unknown",
        lambda f: "could not compare with what the tag points to now",
    ),
    Rule(
        "base-behind",
        Level.TRUSTED_WITH_CAVEATS,
        lambda f: f.base_status in ("official-behind", "unsupported"),
        lambda f: "the base image is behind or unsupported: rebuild on a current base",
    ),
    Rule(
        "not-scanned",
        Level.TRUSTED_WITH_CAVEATS,
        lambda f: not f.vulnerabilities_scanned,
        lambda f: "vulnerabilities were not scanned",
    ),
    Rule(
        "not-covered",
        Level.TRUSTED_WITH_CAVEATS,
        lambda f: f.vulnerabilities_scanned and f.vulnerability_coverage == "none",
        lambda f: f"vulnerabilities could not be judged: {f.coverage_reason or 'no data'}",
    ),
    Rule(
        "partially-scanned",
        Level.TRUSTED_WITH_CAVEATS,
        lambda f: f.vulnerabilities_scanned and f.vulnerability_coverage == "partial",
        lambda f: f"vulnerabilities were only partly scanned: {f.coverage_reason}",
    ),
    Rule(
        "no-attestations",
        Level.TRUSTED_WITH_CAVEATS,
        lambda f: f.attestations in ("missing", "unknown"),
        lambda f: "no build attestations to verify provenance (missing, not failed)",
    ),
)


@dataclass(frozen=True, slots=True)
class Verdict:
    level: Level
    reasons: tuple[str, ...]
    rules: tuple[str, ...]
    """Names of the rules that set the level (empty when the publisher's start level holds)."""


def starting_level(facts: TrustFacts) -> tuple[Level, str]:
    """Established publishers start at trusted; everyone else at unknown (not at bad)."""
    if facts.trusted_publisher:
        return Level.TRUSTED, f"published by an established publisher ({facts.publisher_tier})"
    return Level.UNKNOWN, (
        f"publisher is {facts.publisher_tier}: trust rests on your own review, not on the source"
    )


def decide(facts: TrustFacts) -> Verdict:
    """Apply every rule; the lowest level wins and its sentences become the reasons."""
    start, start_reason = starting_level(facts)
    fired = [rule for rule in RULES if rule.applies(facts)]
    level = min([start, *(rule.level for rule in fired)])
    setting = [rule for rule in fired if rule.level == level]
    reasons = [rule.reason(facts) for rule in setting]
    if level == start and start != Level.TRUSTED:
        reasons.insert(0, start_reason)
    if not reasons:
        reasons = [start_reason]
    return Verdict(level, tuple(reasons), tuple(rule.name for rule in setting))
