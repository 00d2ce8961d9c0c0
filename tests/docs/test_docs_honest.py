"""Docs stay true to the code: every verdict rule is documented with its real level."""

from __future__ import annotations

from pathlib import Path

from imagetrust.policy.verdict import RULES

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_verdict_rule_is_documented_with_its_level() -> None:
    text = (DOCS / "trust-levels.md").read_text()
    for rule in RULES:
        assert f"| `{rule.name}` | `{rule.level.slug}` |" in text, rule.name
