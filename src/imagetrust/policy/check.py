"""The ``check`` decision: an assessment's signals reduced to facts and decided.

The assess stage gathers evidence and never imports policy; this module is where the two meet.
Running the whole use case (open, catalog, scan, assess, decide) is the application layer's
job (:func:`imagetrust.app.check.check_image`).
"""

from __future__ import annotations

from dataclasses import dataclass

from imagetrust.assess.check import Assessment
from imagetrust.policy.facts import trust_facts
from imagetrust.policy.policyfile import Policy
from imagetrust.policy.verdict import (
    RuleResult,
    TrustFacts,
    Verdict,
    decide_results,
    evaluate_rules,
)


@dataclass(frozen=True)
class CheckResult:
    assessment: Assessment
    facts: TrustFacts
    verdict: Verdict
    results: tuple[RuleResult, ...] = ()
    """Every enabled rule's pass/fail/unknown (what ``policy evaluate`` lists)."""


def decide_assessment(assessment: Assessment, policy: Policy | None = None) -> CheckResult:
    """The verdict on one assessment under ``policy`` (the default when None), with the facts
    it was decided from and every rule's answer."""
    facts = trust_facts(assessment.signals)
    results = evaluate_rules(facts, policy)
    return CheckResult(assessment, facts, decide_results(facts, results), results)


__all__ = ["CheckResult", "decide_assessment"]
