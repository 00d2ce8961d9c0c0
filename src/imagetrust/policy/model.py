"""The policy stage's vocabulary: trust levels, the facts rules read, and the verdict."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import IntEnum
from typing import TYPE_CHECKING

from imagetrust.assess.model import VulnFinding
from imagetrust.errors import UsageError

if TYPE_CHECKING:
    from imagetrust.policy.exceptions import Exception_
    from imagetrust.policy.vex import VexStatement

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


def _today() -> date:
    return datetime.now(UTC).date()


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
    not-expected (the tag's builder records none), unknown."""
    registry_reference: str | None = None
    """The registry name the image is judged as (None for a local image with no known name)."""
    end_of_life: tuple[str, ...] = ()
    """Sentences for each OS release or runtime past its security support."""
    lifecycle_known: bool = False
    """Whether any lifecycle (OS or runtime) was found for the image."""
    age_days: int | None = None
    user: str | None = None
    """The default user from the image config ("" is root); None when not known."""
    base_reference: str | None = None
    licenses: tuple[str, ...] | None = None
    """Every package licence found (None: packages not inventoried)."""
    findings: tuple[VulnFinding, ...] = ()
    today: date = field(default_factory=_today)

    @property
    def trusted_publisher(self) -> bool:
        return self.publisher_tier in TRUSTED_TIERS


@dataclass(frozen=True, slots=True)
class SuppressionInputs:
    """VEX statements and exceptions a use case applies, loaded once (by
    :func:`imagetrust.policy.suppress.load_inputs`); empty when there are none."""

    vex: tuple[VexStatement, ...] = ()
    exceptions: tuple[Exception_, ...] = ()
    files: tuple[str, ...] = field(default=())

    def __bool__(self) -> bool:
        return bool(self.vex or self.exceptions)

    def fingerprint(self, day: date) -> str:
        """Names what these inputs suppress on ``day``: cached results made with other
        statements or exceptions, or before an expiry, must not be reused."""
        text = repr((self.vex, self.exceptions, day.isoformat()))
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Verdict:
    level: Level
    reasons: tuple[str, ...]
    rules: tuple[str, ...]
    """Names of the rules that set the level (empty when the publisher's start level holds)."""


__all__ = ["TRUSTED_TIERS", "Level", "SuppressionInputs", "TrustFacts", "Verdict"]
