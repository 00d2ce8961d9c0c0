"""The ``check`` decision: an assessment's signals reduced to facts and decided.

The assess stage gathers evidence and never imports policy; this module is where the two meet.
Running the whole use case (open, catalog, scan, assess, decide) is the application layer's
job (:func:`imagetrust.app.check.check_image`).
"""

from __future__ import annotations

from dataclasses import dataclass

from imagetrust.assess.check import Assessment
from imagetrust.policy.facts import trust_facts
from imagetrust.policy.verdict import TrustFacts, Verdict, decide


@dataclass(frozen=True)
class CheckResult:
    assessment: Assessment
    facts: TrustFacts
    verdict: Verdict


def decide_assessment(assessment: Assessment) -> CheckResult:
    """The verdict on one assessment, with the facts it was decided from."""
    facts = trust_facts(assessment.signals)
    return CheckResult(assessment, facts, decide(facts))


__all__ = ["CheckResult", "decide_assessment"]
