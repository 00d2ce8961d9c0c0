"""What the assess stage needs from vulnerability matching, and what it hands to policy.

Matching is a separate stage that evolves on its own; assessment only needs five facts per finding
(id, package, severity, fix state, KEV), so :class:`FindingLike` is a structural protocol that any
finding type with those attributes satisfies. The summaries here are plain frozen values.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from imagetrust.catalog.model import Catalog
from imagetrust.image.model import Image
from imagetrust.source.interface import ImageSource

SEVERITIES = ("critical", "high", "medium", "low", "negligible", "unknown")


@runtime_checkable
class FindingLike(Protocol):
    """The five facts assessment reads from a vulnerability finding."""

    @property
    def id(self) -> str: ...

    @property
    def package_name(self) -> str: ...

    @property
    def severity(self) -> str:
        """critical, high, medium, low, negligible or unknown."""
        ...

    @property
    def fix_state(self) -> str:
        """``fixed`` means a fixed version exists; anything else means no fix to take."""
        ...

    @property
    def kev(self) -> bool:
        """Listed in CISA's Known Exploited Vulnerabilities catalog."""
        ...


@dataclass(frozen=True, slots=True)
class VulnFinding:
    """A finding reduced to what assessment uses (also a ready-made :class:`FindingLike`)."""

    id: str
    package_name: str
    severity: str = "unknown"
    fix_state: str = "unknown"
    kev: bool = False
    epss: float | None = None
    published: str | None = None
    """When the advisory was published (ISO 8601), for policy grace periods."""

    @classmethod
    def of(cls, finding: FindingLike) -> VulnFinding:
        severity = (finding.severity or "unknown").lower()
        return cls(
            id=finding.id,
            package_name=finding.package_name,
            severity=severity if severity in SEVERITIES else "unknown",
            fix_state=finding.fix_state,
            kev=bool(finding.kev),
            epss=getattr(finding, "epss", None),
            published=getattr(finding, "published", None),
        )

    @property
    def key(self) -> tuple[str, str]:
        """Identity across images: the same advisory on the same package."""
        return (self.id, self.package_name)

    @property
    def fixable(self) -> bool:
        return self.fix_state == "fixed"


@dataclass(frozen=True, slots=True)
class VulnSummary:
    """The findings of one image, deduplicated by (id, package), with the counts rules use.

    ``coverage`` travels with the findings: zero findings mean clean only when it is ``full``
    (``partial``: some packages or files could not be judged; ``none``: nothing could be).
    """

    findings: tuple[VulnFinding, ...] = ()
    coverage: str = "full"
    coverage_reason: str = ""
    suppressed: tuple[tuple[str, str, str], ...] = ()
    """(id, package, by which VEX statement or exception) of findings left out."""

    @classmethod
    def of(
        cls,
        findings: Iterable[FindingLike] | VulnSummary,
        coverage: str = "full",
        coverage_reason: str = "",
    ) -> VulnSummary:
        if isinstance(findings, VulnSummary):
            return findings
        unique: dict[tuple[str, str], VulnFinding] = {}
        for finding in findings:
            reduced = VulnFinding.of(finding)
            unique.setdefault(reduced.key, reduced)
        return cls(tuple(sorted(unique.values(), key=_order)), coverage, coverage_reason)

    def __iter__(self) -> Iterator[VulnFinding]:
        return iter(self.findings)

    def __len__(self) -> int:
        return len(self.findings)

    @property
    def by_severity(self) -> dict[str, int]:
        return _count(self.findings)

    def fixable_count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.fixable and f.severity == severity)

    @property
    def kev_count(self) -> int:
        return sum(1 for f in self.findings if f.kev)


ScanFn = Callable[[ImageSource, Image, Catalog], Iterable[FindingLike] | VulnSummary]
"""``scan(source, image, catalog)``: the findings of one image; a :class:`VulnSummary` also
carries how much of the image could be judged."""


@dataclass(frozen=True, slots=True)
class PullDiff:
    """What pulling the tag's current image changes: findings that go away and ones that arrive."""

    current_digest: str
    fixed: tuple[VulnFinding, ...]
    introduced: tuple[VulnFinding, ...]

    @property
    def fixed_by_severity(self) -> dict[str, int]:
        return _count(self.fixed)

    @property
    def introduced_by_severity(self) -> dict[str, int]:
        return _count(self.introduced)

    def to_json(self) -> dict[str, Any]:
        return {
            "current_digest": self.current_digest,
            "fixed": len(self.fixed),
            "fixed_by_severity": self.fixed_by_severity,
            "fixed_ids": sorted({f.id for f in self.fixed}),
            "introduced": len(self.introduced),
            "introduced_by_severity": self.introduced_by_severity,
            "introduced_ids": sorted({f.id for f in self.introduced}),
        }


def pull_diff(scanned: VulnSummary, current: VulnSummary, current_digest: str) -> PullDiff:
    """Set difference by (id, package): what disappears and what appears after pulling."""
    now = {f.key for f in current}
    before = {f.key for f in scanned}
    return PullDiff(
        current_digest=current_digest,
        fixed=tuple(f for f in scanned if f.key not in now),
        introduced=tuple(f for f in current if f.key not in before),
    )


def _order(finding: VulnFinding) -> tuple[int, str, str]:
    return (SEVERITIES.index(finding.severity), finding.id, finding.package_name)


def _count(findings: Iterable[VulnFinding]) -> dict[str, int]:
    counts = Counter(f.severity for f in findings)
    return {s: counts[s] for s in SEVERITIES if counts[s]}


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """Which image was assessed, for reports."""

    reference: str
    digest: str | None
    index_digest: str | None
    config_digest: str
    platform: str
    source_kind: str
    tag_reference: str | None
    """The registry tag the image is compared with (None when none is known)."""
    user: str | None = None
    """The config's default user ("" means root)."""
    age_days: int | None = None


@dataclass(frozen=True, slots=True)
class TrustSignals:
    """The established signals the verdict reads, whoever gathered them.

    ``check`` derives them from a full :class:`~imagetrust.assess.check.Assessment`; ``audit``
    gathers them for each local image without base or attestation checks (``unknown``). One
    builder (:func:`imagetrust.policy.facts.trust_facts`) turns either into the rules' facts.
    """

    reference: str
    publisher_tier: str
    tag_status: str
    freshness: str
    """current, behind, unknown."""
    days_behind: int | None
    pull: PullDiff | None
    vulnerabilities: VulnSummary | None
    base_status: str = "unknown"
    attestations: str = "unknown"
    registry_reference: str | None = None
    end_of_life: tuple[str, ...] = ()
    """A sentence per OS release or runtime past its security support."""
    lifecycle_known: bool = False
    age_days: int | None = None
    user: str | None = None
    base_reference: str | None = None
    licenses: tuple[str, ...] | None = None
