"""What matching produces: findings (package + advisory + fix state + severity) and a scan result.

Immutable: the report stage formats them, the policy stage judges them, nobody edits them.
``Match`` and ``Finding`` are typed NamedTuples rather than frozen dataclasses because a scan
makes one per package and advisory (thousands) and a frozen dataclass measured 3-4 times slower
to build; the rest are frozen dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import NamedTuple

from imagetrust.catalog.model import OSInfo, Package

FIXED = "fixed"
NOT_FIXED = "not-fixed"
WONT_FIX = "wont-fix"
DEFERRED = "deferred"
END_OF_LIFE = "end-of-life"
FIX_STATES: tuple[str, ...] = (FIXED, NOT_FIXED, WONT_FIX, DEFERRED, END_OF_LIFE)

SEVERITIES: tuple[str, ...] = ("critical", "high", "medium", "low", "negligible", "unknown")
"""Most to least severe; ``unknown`` when no source rated the vulnerability."""


class Match(NamedTuple):
    """A matcher's verdict for one package and one advisory, before aliases and severity.

    ``distro_rating`` is the distribution's own severity word (Debian urgency, Ubuntu priority)
    already mapped to :data:`SEVERITIES`; None when it gave none.
    """

    package: Package
    advisory_id: str
    source: str
    """The feed that said so: ``debian-tracker``, ``alpine-secdb``, ``osv``."""
    ecosystem: str
    fix_state: str
    fixed_version: str | None
    distro_status: str | None
    distro_rating: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Cvss:
    score: float | None
    vector: str | None
    type: str
    """``CVSS_V3``, ``CVSS_V4``, ``CVSS_V2``."""
    origin: str
    """Who scored it: ``nvd@nist.gov``, a CNA, or the advisory (``ghsa``)."""


class Finding(NamedTuple):
    """One vulnerability in one installed package (per binary package for distros)."""

    id: str
    """The CVE id when there is one, else the advisory's own id."""
    aliases: tuple[str, ...]
    package: Package
    fix_state: str
    fixed_version: str | None
    distro_status: str | None
    severity: str
    severity_source: str | None
    """``debian``, ``ubuntu``, ``nvd``, ``ghsa``, ``pysec``…; None when ``unknown``."""
    cvss: Cvss | None
    kev: bool
    epss: float | None
    source: str
    ecosystem: str
    summary: str | None = None
    note: str | None = None
    published: str | None = None
    """When the advisory was first published (ISO 8601, from the feed), None when the feed gives
    no date: policies count grace periods from it."""

    @property
    def ids(self) -> tuple[str, ...]:
        return (self.id, *self.aliases)

    @property
    def cve_ids(self) -> tuple[str, ...]:
        return tuple(i for i in self.ids if i.startswith("CVE-"))


@dataclass(frozen=True, slots=True)
class FeedAge:
    """A feed unit the scan relied on, and how old its data was."""

    name: str
    updated_at: str
    age: timedelta
    record_count: int
    stale: bool


@dataclass(frozen=True, slots=True)
class ScanSubject:
    """What was scanned: the reference or path as the user gave it, and its digest if known."""

    reference: str
    digest: str | None = None


@dataclass(frozen=True, slots=True)
class CoverageGap:
    """Packages (or files) the scan could not judge, and why: never counted as clean."""

    what: str
    """``deb packages (debian 13)``, ``gem packages``, ``files``…"""
    count: int
    reason: str


COVERAGE_STATES: tuple[str, ...] = ("full", "partial", "none")


@dataclass(frozen=True, slots=True)
class Coverage:
    """How much of the image the vulnerability scan could judge.

    Zero findings mean "clean" only when coverage is ``full``: an OS release without data, a
    package type without a matcher or a file a cataloger skipped is a gap, and a scan with no
    package judged at all is ``none``.
    """

    judged: int
    """Packages matched against an ecosystem the database holds data for."""
    gaps: tuple[CoverageGap, ...] = ()

    @property
    def state(self) -> str:
        """``full``, ``partial`` or ``none`` (see :data:`COVERAGE_STATES`)."""
        if self.judged == 0:
            return "none"
        return "partial" if self.gaps else "full"

    @property
    def reason(self) -> str:
        """One line for people: what was not judged, or that everything was."""
        if self.judged == 0 and not self.gaps:
            return "no packages were found to scan"
        if not self.gaps:
            return f"all {self.judged} packages judged"
        return "; ".join(f"{g.count} {g.what}: {g.reason}" for g in self.gaps)


@dataclass(frozen=True)
class ScanResult:
    subject: ScanSubject
    os: OSInfo | None
    packages: tuple[Package, ...]
    findings: tuple[Finding, ...]
    feeds: tuple[FeedAge, ...] = ()
    warnings: tuple[str, ...] = ()
    db_path: Path | None = None
    updated_feeds: tuple[str, ...] = field(default=())
    """Feed units downloaded during this scan (empty offline or when all were fresh)."""
    coverage: Coverage = field(default=Coverage(0))
    """What could not be judged: zero findings are clean only when this is ``full``."""

    def counts(self) -> dict[str, int]:
        """Findings per severity, every severity present (zeros included)."""
        result = dict.fromkeys(SEVERITIES, 0)
        for finding in self.findings:
            result[finding.severity] += 1
        return result
