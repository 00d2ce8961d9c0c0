"""One typed document per command: what every formatter of that command renders.

The application layer builds a document; formatters (:mod:`imagetrust.report.formats`) only
turn it into text. A formatter never computes a fact the document lacks, so the table, the JSON
and the SARIF of one run cannot disagree. Each JSON rendering carries the document's
``SCHEMA_VERSION``; the JSON Schemas in ``schemas/`` describe them (docs/schemas.md says what is
stable).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, TypeAlias

if TYPE_CHECKING:  # annotations only: a formatter's import must not load the whole pipeline
    from datetime import datetime

    from imagetrust.assess.base_image import BaseImageResult
    from imagetrust.assess.diff import ConfigDiff, FindingDiff, LayerDiff, PackageDiff
    from imagetrust.assess.freshness import FreshnessResult
    from imagetrust.assess.lifecycle import Release
    from imagetrust.assess.model import PullDiff, VulnFinding, VulnSummary
    from imagetrust.assess.rebuild import RebuildExplanation
    from imagetrust.image.model import Image
    from imagetrust.image.session import CopyRead
    from imagetrust.match.model import Finding, ScanResult
    from imagetrust.policy.check import CheckResult
    from imagetrust.policy.exceptions import Exception_
    from imagetrust.policy.model import Level
    from imagetrust.policy.ranking import CandidateFacts as RankFacts
    from imagetrust.policy.suppress import Ended, Suppressed
    from imagetrust.policy.verdict import RuleResult, Verdict
    from imagetrust.reference.dockerfile import FromLine
    from imagetrust.source.daemon.model import LocalImageInfo

from imagetrust.report.sbom_document import SbomDocument as SbomDocument  # its own module


@dataclass(frozen=True)
class InspectDocument:
    """``imagetrust inspect``: the image model, without reading layers."""

    SCHEMA_VERSION: ClassVar[str] = "1.0"
    COMMAND: ClassVar[str] = "inspect"

    image: Image
    copy: CopyRead
    origin: str
    """``local`` or ``registry`` (how a plain reference was resolved)."""
    local: LocalImageInfo | None = None
    ratelimit_remaining: int | None = None
    note: str | None = None


@dataclass(frozen=True)
class CvesDocument:
    """``imagetrust cves``: the scan, and the findings left after VEX, exceptions and the
    ``--only-*`` filters; what VEX and exceptions hid is kept in ``suppressed``."""

    SCHEMA_VERSION: ClassVar[str] = "1.1"
    COMMAND: ClassVar[str] = "cves"

    result: ScanResult
    findings: tuple[Finding, ...]
    copy: CopyRead
    note: str | None = None
    suppressed: tuple[Suppressed, ...] = ()
    """Findings hidden by a VEX statement or an exception (after the same ``--only-*`` filters)."""
    expired: tuple[Exception_, ...] = ()
    """Exceptions past their date: they hid nothing."""
    ended: tuple[Ended, ...] = ()
    """Distro-status exceptions that no longer hold, with the finding they gave back."""
    show_suppressed: bool = False
    """Table and Markdown list suppressed findings (machine formats always carry them)."""


@dataclass(frozen=True)
class CheckDocument:
    """``imagetrust check``: every signal's evidence and the verdict."""

    SCHEMA_VERSION: ClassVar[str] = "1.0"
    COMMAND: ClassVar[str] = "check"

    result: CheckResult
    copy: CopyRead
    note: str | None = None
    show_suppressed: bool = False
    """List suppressed findings in the table and Markdown (JSON always has them)."""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One tag of one local image (or one untagged image, ``reference`` None)."""

    reference: str | None
    image_id: str
    repo_digests: tuple[str, ...]
    local_created: datetime | None
    publisher: str
    supported_tag: str
    freshness: FreshnessResult
    vulnerabilities: VulnSummary | None
    """None: not scanned (``--no-scan``, untagged, or the scan failed: see ``notes``)."""
    verdict: Verdict
    pull: PullDiff | None = None
    notes: tuple[str, ...] = ()

    @property
    def fixable_critical_high(self) -> int:
        v = self.vulnerabilities
        return v.fixable_count("critical") + v.fixable_count("high") if v is not None else 0


@dataclass(frozen=True, slots=True)
class AuditTimings:
    """Wall seconds per phase: daemon listing, registry lookups (the whole parallel phase),
    and per image export, catalog (manifest + layers) and matching; ``pull`` scans the tags'
    current images."""

    total: float = 0.0
    daemon: float = 0.0
    registry: float = 0.0
    export: float = 0.0
    catalog: float = 0.0
    matching: float = 0.0
    pull: float = 0.0


@dataclass(frozen=True, slots=True)
class AuditDocument:
    """``imagetrust audit``: every local image judged like ``check``, riskiest first."""

    SCHEMA_VERSION: ClassVar[str] = "1.0"
    COMMAND: ClassVar[str] = "audit"

    entries: tuple[AuditEntry, ...]
    daemon: str
    timings: AuditTimings
    scanned: int
    """Images exported and cataloged in this run."""
    cached: int
    """Images whose scan came from the audit cache."""
    what_pulling_fixes: bool = False


@dataclass(frozen=True, slots=True)
class PolicyEntry:
    """One image under the policy: every enabled rule's answer, or why it could not be judged."""

    reference: str
    copy: CopyRead | None
    level: Level | None
    """The verdict's level (None when the image could not be evaluated)."""
    results: tuple[RuleResult, ...] = ()
    error: str | None = None
    suppressed: tuple[tuple[str, str, str], ...] = ()
    """(id, package, by) of findings VEX statements or exceptions left out."""


@dataclass(frozen=True, slots=True)
class PolicyDocument:
    """``imagetrust policy evaluate``: one row per image and rule, pass/fail/unknown."""

    SCHEMA_VERSION: ClassVar[str] = "1.0"
    COMMAND: ClassVar[str] = "policy"

    entries: tuple[PolicyEntry, ...]
    policy_source: str | None
    """The policy file merged over the default (None: the default alone)."""
    fail_on: Level
    show_suppressed: bool = False

    def failing(self) -> tuple[tuple[PolicyEntry, RuleResult], ...]:
        """Failed rules at or below ``fail_on`` (the ones that fail a gate)."""
        return tuple(
            (entry, result)
            for entry in self.entries
            for result in entry.results
            if result.status == "fail" and result.level <= self.fail_on
        )


@dataclass(frozen=True, slots=True)
class ScannedTag:
    """One tag of the repository a recommendation is about, as scanned."""

    tag: str
    reference: str
    """The tag pinned at the digest that was scanned."""
    digest: str
    created: datetime | None
    age_days: int | None
    size: int
    """Bytes of the platform image's layers as stored."""
    packages: int
    os: str | None
    """``debian 12``, ``alpine 3.20``…"""
    lifecycle: tuple[Release, ...]
    vulnerabilities: VulnSummary


@dataclass(frozen=True, slots=True)
class SeverityDelta:
    """Findings that go away and that arrive when moving from one image to another."""

    fixed: tuple[VulnFinding, ...]
    introduced: tuple[VulnFinding, ...]

    def by_severity(self) -> dict[str, int]:
        """Net change per severity (introduced minus fixed), every severity present."""
        from imagetrust.assess.model import SEVERITIES

        return {s: sum(1 for f in self.introduced if f.severity == s)
                - sum(1 for f in self.fixed if f.severity == s) for s in SEVERITIES}

    def fixable_ids(self, which: str, severities: tuple[str, ...] = ("critical", "high")
                    ) -> tuple[str, ...]:
        found = self.fixed if which == "fixed" else self.introduced
        return tuple(sorted({f.id for f in found if f.fixable and f.severity in severities}))


@dataclass(frozen=True, slots=True)
class Candidate:
    scanned: ScannedTag
    facts: RankFacts
    delta: SeverityDelta
    package_delta: int
    runtime_change: str
    recommended: bool
    why: str | None = None
    """Why it ranks above the next candidate (the deciding criterion)."""


@dataclass(frozen=True, slots=True)
class Refresh:
    """The same tag now: what pulling or rebuilding on it would change."""

    tag: str
    state: str
    """current, behind, unknown."""
    reason: str
    scanned_digest: str | None
    current: ScannedTag | None = None
    delta: SeverityDelta | None = None


@dataclass(frozen=True, slots=True)
class RecommendDocument:
    """``imagetrust recommend``: refresh, then update candidates in ranking order."""

    SCHEMA_VERSION: ClassVar[str] = "1.0"
    COMMAND: ClassVar[str] = "recommend"

    image: str
    base: str
    """The repository:tag recommended for (the image itself, or its detected base)."""
    base_how: str
    """``the image itself``, ``annotation``, ``provenance``, ``layer chain``…"""
    current: ScannedTag | None
    refresh: Refresh | None
    candidates: tuple[Candidate, ...]
    notes: tuple[str, ...] = ()


Document: TypeAlias = (
    "InspectDocument | SbomDocument | CvesDocument | CheckDocument | AuditDocument"
    " | PolicyDocument | RecommendDocument | CompareDocument | DockerfileCheckDocument"
    " | DockerfilePinDocument"
)

__all__ = [
    "AuditDocument",
    "AuditEntry",
    "AuditTimings",
    "CheckDocument",
    "CompareDocument",
    "CompareSide",
    "CvesDocument",
    "Document",
    "DockerfileBase",
    "DockerfileCheckDocument",
    "DockerfilePin",
    "DockerfilePinDocument",
    "InspectDocument",
    "Candidate",
    "PolicyDocument",
    "PolicyEntry",
    "RecommendDocument",
    "Refresh",
    "SbomDocument",
    "ScannedTag",
    "SeverityDelta",
]


@dataclass(frozen=True, slots=True)
class CompareSide:
    """One of the two images ``compare`` read."""

    reference: str
    digest: str | None
    index_digest: str | None
    config_digest: str
    platform: str
    created: datetime | None
    tag: str | None
    """The registry tag it is a build of (None: not known)."""
    os: str | None
    packages: int
    copy: CopyRead
    note: str | None = None
    scan_coverage: str | None = None
    """``full``, ``partial`` or ``none``; None when not scanned."""


@dataclass(frozen=True, slots=True)
class CompareDocument:
    """``imagetrust compare A B``: packages, findings, config, layers and base from A to B, and
    why the tag was rebuilt when they are two builds of one tag."""

    SCHEMA_VERSION: ClassVar[str] = "1.0"
    COMMAND: ClassVar[str] = "compare"

    before: CompareSide
    after: CompareSide
    packages: PackageDiff
    findings: FindingDiff | None
    """None with ``--no-scan``."""
    config: ConfigDiff
    layers: LayerDiff
    base_before: BaseImageResult | None
    base_after: BaseImageResult | None
    """None when not looked up (offline)."""
    rebuild: RebuildExplanation | None
    rebuild_note: str | None
    """Why no rebuild is explained (None when ``rebuild`` is set)."""
    filters: dict[str, object]
    to_latest: bool = False


@dataclass(frozen=True, slots=True)
class DockerfileBase:
    """One external base of a Dockerfile, judged like ``check`` and against the file's rules."""

    line: FromLine
    pinned: bool
    level: Level | None
    publisher: str | None
    supported_tag: str | None
    """supported, unsupported or unknown."""
    lifecycle: str | None
    """The lifecycle outcome: pass, warn, fail (end of life) or unknown."""
    freshness: str | None
    """current, behind or unknown."""
    summaries: dict[str, str]
    """Signal → the sentence ``check`` says about it."""
    reasons: tuple[str, ...]
    recommendation: str
    failed: tuple[str, ...]
    """Rules this base fails: unpinned, unsupported-tag, end-of-life, untrusted, unchecked."""
    error: str | None = None


@dataclass(frozen=True, slots=True)
class DockerfileCheckDocument:
    """``imagetrust dockerfile check PATH``: every stage's base and the rules it fails."""

    SCHEMA_VERSION: ClassVar[str] = "1.0"
    COMMAND: ClassVar[str] = "dockerfile"

    path: str
    stages: tuple[FromLine, ...]
    bases: tuple[DockerfileBase, ...]

    @property
    def failed(self) -> bool:
        return any(base.failed for base in self.bases)


@dataclass(frozen=True, slots=True)
class DockerfilePin:
    """One reference ``pin`` looked at: what it was, what it becomes, and why."""

    line: int
    reference: str
    """The reference as BuildKit resolves it (``postgres:16``)."""
    before: str
    """The bytes that were there (the FROM text or the ARG default)."""
    after: str
    action: str
    """pinned, updated, unchanged, kept (already pinned, no --update) or skipped."""
    digest: str | None = None
    via_arg: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class DockerfilePinDocument:
    """``imagetrust dockerfile pin PATH``: each reference and what was (or would be) written."""

    SCHEMA_VERSION: ClassVar[str] = "1.0"
    COMMAND: ClassVar[str] = "dockerfile"

    path: str
    pins: tuple[DockerfilePin, ...]
    diff: str
    """The unified diff of the change (empty when nothing changes)."""
    written: bool
    dry_run: bool
