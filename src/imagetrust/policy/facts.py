"""The one place trust signals become the facts the verdict rules read.

``check`` and ``audit`` gather their signals differently (a full assessment, or a daemon's
records of many images) but must be judged alike, so both hand a
:class:`~imagetrust.assess.model.TrustSignals` to :func:`trust_facts`.
"""

from __future__ import annotations

from imagetrust.assess.model import TrustSignals
from imagetrust.policy.model import TrustFacts


def trust_facts(signals: TrustSignals) -> TrustFacts:
    """Counts and states the rules need, nothing the rules could compute themselves."""
    vulns = signals.vulnerabilities
    return TrustFacts(
        reference=signals.reference,
        publisher_tier=signals.publisher_tier,
        tag_status=signals.tag_status,
        freshness=signals.freshness,
        days_behind=signals.days_behind if signals.freshness == "behind" else None,
        fixes_by_pulling=len(signals.pull.fixed) if signals.pull is not None else None,
        base_status=signals.base_status,
        vulnerabilities_scanned=vulns is not None,
        vulnerability_coverage=vulns.coverage if vulns is not None else "none",
        coverage_reason=vulns.coverage_reason if vulns is not None else "",
        fixable_critical=vulns.fixable_count("critical") if vulns is not None else 0,
        fixable_high=vulns.fixable_count("high") if vulns is not None else 0,
        kev=vulns.kev_count if vulns is not None else 0,
        attestations=signals.attestations,
        registry_reference=signals.registry_reference,
        end_of_life=signals.end_of_life,
        lifecycle_known=signals.lifecycle_known,
        age_days=signals.age_days,
        user=signals.user,
        base_reference=signals.base_reference,
        licenses=signals.licenses,
        findings=vulns.findings if vulns is not None else (),
    )
