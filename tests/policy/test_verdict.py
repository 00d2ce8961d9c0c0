"""Every verdict path, case by case: the level and the sentence that set it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from imagetrust.errors import UsageError
from imagetrust.policy.verdict import Level, TrustFacts, decide

OFFICIAL_CURRENT = TrustFacts(
    reference="docker.io/library/postgres:16",
    publisher_tier="official",
    tag_status="supported",
    freshness="current",
    days_behind=0,
    fixes_by_pulling=0,
    base_status="official-current",
    vulnerabilities_scanned=True,
    attestations="verified",
)


def test_official_current_no_fixable_high_is_trusted() -> None:
    verdict = decide(OFFICIAL_CURRENT)
    assert verdict.level is Level.TRUSTED
    assert verdict.rules == ()


def test_unfixed_highs_alone_do_not_lower_trust() -> None:
    # Findings the distro has not fixed cannot be acted on by pulling or rebuilding.
    assert decide(replace(OFFICIAL_CURRENT, fixable_high=0)).level is Level.TRUSTED


def test_official_200_days_behind_with_fixes_needs_attention() -> None:
    facts = replace(OFFICIAL_CURRENT, freshness="behind", days_behind=200, fixes_by_pulling=37)
    verdict = decide(facts)
    assert verdict.level is Level.NEEDS_ATTENTION
    assert "behind-with-fixes" in verdict.rules
    assert any("200 days behind" in r and "37" in r for r in verdict.reasons)


def test_behind_without_fixes_is_a_caveat() -> None:
    facts = replace(OFFICIAL_CURRENT, freshness="behind", days_behind=3, fixes_by_pulling=0)
    verdict = decide(facts)
    assert verdict.level is Level.TRUSTED_WITH_CAVEATS
    assert verdict.rules == ("behind",)


def test_unknown_publisher_with_critical_fixable_is_untrusted() -> None:
    facts = replace(OFFICIAL_CURRENT, publisher_tier="unknown", fixable_critical=2)
    verdict = decide(facts)
    assert verdict.level is Level.UNTRUSTED
    assert "unestablished-publisher-critical" in verdict.rules


def test_community_with_kev_is_untrusted() -> None:
    facts = replace(OFFICIAL_CURRENT, publisher_tier="community", kev=1)
    assert decide(facts).level is Level.UNTRUSTED


def test_official_with_kev_needs_attention_not_untrusted() -> None:
    facts = replace(OFFICIAL_CURRENT, kev=1, fixable_high=1)
    verdict = decide(facts)
    assert verdict.level is Level.NEEDS_ATTENTION
    assert {"known-exploited", "fixable-critical-high"} <= set(verdict.rules)


def test_unsupported_tag_needs_attention_and_says_never_rebuilt() -> None:
    verdict = decide(replace(OFFICIAL_CURRENT, tag_status="unsupported"))
    assert verdict.level is Level.NEEDS_ATTENTION
    assert any("never be rebuilt" in r for r in verdict.reasons)


def test_provenance_mismatch_is_untrusted_even_when_official() -> None:
    assert decide(replace(OFFICIAL_CURRENT, attestations="mismatch")).level is Level.UNTRUSTED


def test_missing_attestations_is_a_caveat_not_a_failure() -> None:
    verdict = decide(replace(OFFICIAL_CURRENT, attestations="missing"))
    assert verdict.level is Level.TRUSTED_WITH_CAVEATS
    assert any("missing, not failed" in r for r in verdict.reasons)


def test_unknown_publisher_clean_image_is_unknown_not_bad() -> None:
    verdict = decide(replace(OFFICIAL_CURRENT, publisher_tier="private"))
    assert verdict.level is Level.UNKNOWN
    assert "your own review" in verdict.reasons[0]


def test_not_scanned_is_a_caveat() -> None:
    verdict = decide(replace(OFFICIAL_CURRENT, vulnerabilities_scanned=False))
    assert verdict.level is Level.TRUSTED_WITH_CAVEATS
    assert verdict.rules == ("not-scanned",)


def test_levels_are_ordered_for_min_level_gates() -> None:
    assert Level.UNTRUSTED < Level.NEEDS_ATTENTION < Level.UNKNOWN
    assert Level.UNKNOWN < Level.TRUSTED_WITH_CAVEATS < Level.TRUSTED
    assert Level.parse("trusted-with-caveats") is Level.TRUSTED_WITH_CAVEATS
    assert Level.parse("needs attention") is Level.NEEDS_ATTENTION
    with pytest.raises(UsageError, match="unknown trust level"):
        Level.parse("great")
