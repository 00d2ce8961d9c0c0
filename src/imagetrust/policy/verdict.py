"""The decision: every enabled rule of the policy checked against the facts, one level out.

Established publishers start at ``trusted``, everyone else at ``unknown`` (unknown, not bad);
each enabled rule that fails caps the level at its own; the verdict is the lowest level reached
and its reasons are the sentences of the rules at that level. Which rules apply and at which
level is the policy (:mod:`imagetrust.policy.policyfile`): the shipped default unless the
organisation gives its own. docs/trust-levels.md lists the default; a test checks it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from imagetrust.policy.model import TRUSTED_TIERS, Level, TrustFacts, Verdict
from imagetrust.policy.policyfile import Policy, load_policy
from imagetrust.policy.rules import KINDS, Status


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule of the default policy and the level it caps the verdict at."""

    name: str
    level: Level


@dataclass(frozen=True, slots=True)
class RuleResult:
    """One rule's answer for one image (a row of ``policy evaluate``)."""

    name: str
    level: Level
    status: Status
    reason: str


@cache
def default_policy() -> Policy:
    return load_policy(None)


def evaluate_rules(facts: TrustFacts, policy: Policy | None = None) -> tuple[RuleResult, ...]:
    """Every enabled rule's pass/fail/unknown for ``facts``, in policy order."""
    chosen = policy or default_policy()
    results = []
    for setting in chosen.enabled:
        check = KINDS[setting.name].check(facts, setting.params)
        results.append(RuleResult(setting.name, setting.level, check.status, check.reason))
    return tuple(results)


def starting_level(facts: TrustFacts) -> tuple[Level, str]:
    """Established publishers start at trusted; everyone else at unknown (not at bad)."""
    if facts.trusted_publisher:
        return Level.TRUSTED, f"published by an established publisher ({facts.publisher_tier})"
    return Level.UNKNOWN, (
        f"publisher is {facts.publisher_tier}: trust rests on your own review, not on the source"
    )


def decide_results(facts: TrustFacts, results: tuple[RuleResult, ...]) -> Verdict:
    """The lowest level any failed rule (or the publisher's start) sets, with its sentences."""
    start, start_reason = starting_level(facts)
    fired = [r for r in results if r.status == "fail"]
    level = min([start, *(r.level for r in fired)])
    setting = [r for r in fired if r.level == level]
    reasons = [r.reason for r in setting]
    if level == start and start != Level.TRUSTED:
        reasons.insert(0, start_reason)
    if not reasons:
        reasons = [start_reason]
    return Verdict(level, tuple(reasons), tuple(r.name for r in setting))


def decide(facts: TrustFacts, policy: Policy | None = None) -> Verdict:
    """Apply every enabled rule of ``policy`` (the default when None) and decide."""
    return decide_results(facts, evaluate_rules(facts, policy))


def __getattr__(name: str) -> Any:
    if name == "RULES":  # the default policy's enabled rules, read on first use
        return tuple(Rule(s.name, s.level) for s in default_policy().enabled)
    raise AttributeError(name)


__all__ = [
    "TRUSTED_TIERS",
    "Level",
    "Rule",
    "RuleResult",
    "TrustFacts",
    "Verdict",
    "decide",
    "decide_results",
    "default_policy",
    "evaluate_rules",
    "rules_table",
    "starting_level",
]


def rules_table(policy: Policy | None = None) -> str:
    """The policy's rules as the Markdown table docs/trust-levels.md prints (a test compares)."""
    chosen = policy or default_policy()
    lines = ["| rule | caps the level at | applies when |", "|---|---|---|"]
    for setting in chosen.rules:
        level = f"`{setting.level.slug}`" + ("" if setting.enabled else " (off by default)")
        lines.append(f"| `{setting.name}` | {level} | {KINDS[setting.name].applies_when} |")
    return "\n".join(lines) + "\n"
