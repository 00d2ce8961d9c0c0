"""``imagetrust check``: the assessment's evidence reduced to :class:`TrustFacts` and decided.

The assess stage gathers evidence and never imports policy; this module is where the two meet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from imagetrust.assess.check import Assessment, assess_image
from imagetrust.assess.hub import HubClient
from imagetrust.assess.model import ScanFn
from imagetrust.assess.official.store import OfficialLibrary
from imagetrust.config import Settings
from imagetrust.image.model import Platform
from imagetrust.policy.verdict import TrustFacts, Verdict, decide
from imagetrust.reference.parse import ImageReference, Target


@dataclass(frozen=True)
class CheckResult:
    assessment: Assessment
    facts: TrustFacts
    verdict: Verdict


def trust_facts(assessment: Assessment) -> TrustFacts:
    """The facts the verdict rules read, taken from the assessment's results."""
    vulns = assessment.vulnerabilities
    fresh = assessment.freshness
    return TrustFacts(
        reference=assessment.image.tag_reference or assessment.image.reference,
        publisher_tier=assessment.publisher_tier,
        tag_status=assessment.tag_status,
        freshness=fresh.state,
        days_behind=fresh.days_behind if fresh.state == "behind" else None,
        fixes_by_pulling=len(assessment.pull.fixed) if assessment.pull is not None else None,
        base_status=assessment.base.status,
        vulnerabilities_scanned=vulns is not None,
        fixable_critical=vulns.fixable_count("critical") if vulns is not None else 0,
        fixable_high=vulns.fixable_count("high") if vulns is not None else 0,
        kev=vulns.kev_count if vulns is not None else 0,
        attestations=assessment.attestations.state,
    )


def decide_assessment(assessment: Assessment) -> CheckResult:
    facts = trust_facts(assessment)
    return CheckResult(assessment, facts, decide(facts))


def check_image(
    target: str | Target,
    *,
    settings: Settings,
    official: OfficialLibrary | Path | None = None,
    hub_client: HubClient | None = None,
    scan: ScanFn | None = None,
    tag: str | ImageReference | None = None,
    platform: Platform | None = None,
    now: datetime | None = None,
) -> CheckResult:
    """Assess ``target`` (see :func:`~imagetrust.assess.check.assess_image`) and decide."""
    assessment = assess_image(
        target, settings=settings, official=official, hub_client=hub_client, scan=scan, tag=tag,
        platform=platform, now=now,
    )
    return decide_assessment(assessment)
