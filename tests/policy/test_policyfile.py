"""The policy file: the default merged with the organisation's, every value traceable to its
origin, and every mistake one error naming file, line and key."""

from __future__ import annotations

import json
import tomllib
from dataclasses import replace
from datetime import date
from importlib import resources
from pathlib import Path

import pytest

from imagetrust.assess.model import VulnFinding
from imagetrust.cli.main import main
from imagetrust.errors import UsageError
from imagetrust.policy.policyfile import find_policy_file, load_policy
from imagetrust.policy.verdict import Level, TrustFacts, decide, evaluate_rules

BASE = TrustFacts(
    reference="docker.io/library/postgres:16",
    publisher_tier="official",
    tag_status="supported",
    freshness="current",
    days_behind=0,
    fixes_by_pulling=0,
    base_status="official-current",
    vulnerabilities_scanned=True,
    attestations="verified",
    registry_reference="docker.io/library/postgres:16",
    user="postgres",
    licenses=("MIT", "GPL-2.0-only"),
    age_days=10,
    today=date(2026, 12, 2),
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "imagetrust.toml"
    path.write_text(text)
    return path


def test_default_policy_is_the_shipped_file() -> None:
    shipped = tomllib.loads(
        resources.files("imagetrust").joinpath("data/policy.toml").read_text("utf-8")
    )["rules"]
    policy = load_policy(None)
    assert [r.name for r in policy.rules] == list(shipped)
    for rule in policy.rules:
        assert rule.level.slug == shipped[rule.name]["level"]
        assert rule.enabled == shipped[rule.name].get("enabled", True)
        assert set(rule.origins.values()) == {"default"}


def test_file_overrides_level_enabled_and_settings_with_origins(tmp_path: Path) -> None:
    path = write(tmp_path, '''
[rules.fixable-critical-high]
level = "untrusted"
grace-days = 14

[rules.non-root-user]
enabled = true
''')
    policy = load_policy(path)
    fixable = policy.rule("fixable-critical-high")
    assert fixable.level is Level.UNTRUSTED and fixable.params["grace-days"] == 14
    assert fixable.origins["level"] == f"{path}:3"
    assert fixable.origins["grace-days"] == f"{path}:4"
    assert fixable.params["severities"] == ("critical", "high")  # kept from the default
    assert policy.rule("non-root-user").enabled
    # root by default now fails, at the shipped level of that rule
    verdict = decide(replace(BASE, user=""), policy)
    assert verdict.level is Level.NEEDS_ATTENTION and verdict.rules == ("non-root-user",)
    assert decide(replace(BASE, user=""), load_policy(None)).level is Level.TRUSTED


@pytest.mark.parametrize(
    ("text", "line", "key", "words"),
    [
        ("[rules.no-such-rule]\nlevel = 'untrusted'\n", 1, "rules.no-such-rule", "unknown rule"),
        ("[rules.old-image]\nmax-age-days = 'x'\n", 2, "rules.old-image.max-age-days",
         "must be int"),
        ("[rules.old-image]\nlevel = 'sort-of'\n", 2, "rules.old-image.level",
         "unknown trust level"),
        ("\n[rules.epss]\nthreshold = 0.3\ncolour = 'red'\n", 4, "rules.epss.colour",
         "unknown setting"),
        ("vex = 'a.json'\n", 1, "vex", "list of strings"),
        ("verdict = 1\n", 1, "verdict", "unknown setting"),
    ],
)
def test_mistakes_name_file_line_and_key(
    tmp_path: Path, text: str, line: int, key: str, words: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(UsageError) as caught:
        load_policy(path)
    message = caught.value.message
    assert message.startswith(f"{path}:{line}: {key}: "), message
    assert words in message


def test_invalid_toml_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "[rules.old-image\n")
    assert main(["policy", "show", "--policy", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") <= 2 and "not valid TOML" in err and "Traceback" not in err


def test_discovery_order(tmp_path: Path) -> None:
    local = write(tmp_path, "")
    env_file = tmp_path / "env.toml"
    assert find_policy_file(None, {}, tmp_path) == local
    assert find_policy_file(None, {"IMAGETRUST_POLICY": str(env_file)}, tmp_path) == env_file
    assert find_policy_file(tmp_path / "x.toml", {"IMAGETRUST_POLICY": "y"}, tmp_path) == (
        tmp_path / "x.toml"
    )
    assert find_policy_file(None, {}, tmp_path / "elsewhere") is None


def test_policy_show_prints_origins(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "[rules.max-image-age]\nenabled = true\ndays = 90\n")
    assert main(["policy", "show", "--format", "json", "--policy", str(path)]) == 0
    shown = json.loads(capsys.readouterr().out)
    rule = next(r for r in shown["rules"] if r["rule"] == "max-image-age")
    assert rule["enabled"] is True and rule["settings"] == {"days": 90}
    assert rule["origins"] == {"enabled": f"{path}:2", "level": "default", "days": f"{path}:3"}
    assert main(["policy", "show", "--policy", str(path)]) == 0
    text = capsys.readouterr().out
    assert f"days = 90  ({path}:3)" in text


def test_vex_and_exceptions_paths_are_relative_to_the_policy_file(tmp_path: Path) -> None:
    path = write(tmp_path, 'vex = ["vex/a.json"]\nexceptions = "exceptions.toml"\n')
    policy = load_policy(path)
    assert policy.vex == (tmp_path / "vex/a.json",)
    assert policy.exceptions == tmp_path / "exceptions.toml"


def test_grace_period_counts_from_publication(tmp_path: Path) -> None:
    path = write(tmp_path, "[rules.fixable-critical-high]\ngrace-days = 30\n")
    policy = load_policy(path)
    fresh = VulnFinding("CVE-2026-1", "openssl", "critical", "fixed", published="2026-11-20")
    old = VulnFinding("CVE-2026-2", "openssl", "high", "fixed", published="2026-09-01")
    undated = VulnFinding("CVE-2026-3", "zlib", "high", "fixed")
    facts = replace(BASE, fixable_critical=1, fixable_high=0, findings=(fresh,))
    assert decide(facts, policy).level is Level.TRUSTED  # 12 days: still within grace
    facts = replace(BASE, fixable_critical=1, fixable_high=1, findings=(fresh, old))
    verdict = decide(facts, policy)
    assert verdict.rules == ("fixable-critical-high",)
    assert "0 critical and 1 high" in verdict.reasons[0]
    # no date known: the grace period cannot hide it
    assert decide(replace(BASE, fixable_high=1, findings=(undated,)), policy).rules == (
        "fixable-critical-high",
    )


@pytest.mark.parametrize(
    ("rule", "settings", "facts", "status"),
    [
        ("epss", "threshold = 0.5", {"findings": (VulnFinding("C", "p", epss=0.7),)}, "fail"),
        ("epss", "threshold = 0.9", {"findings": (VulnFinding("C", "p", epss=0.7),)}, "pass"),
        ("approved-registries", 'patterns = ["registry.acme.io/*"]', {}, "fail"),
        ("approved-registries", 'patterns = ["docker.io/library/*"]', {}, "pass"),
        ("approved-registries", 'patterns = ["x/*"]', {"registry_reference": None}, "unknown"),
        ("approved-base-images", 'patterns = ["docker.io/library/debian:*"]',
         {"base_reference": "docker.io/library/debian:12", "base_status": "official-current"},
         "pass"),
        ("approved-base-images", 'patterns = ["docker.io/library/debian:*"]',
         {"base_reference": "docker.io/library/ubuntu:24.04"}, "fail"),
        ("approved-base-images", 'patterns = ["x/*"]', {"base_status": "none"}, "pass"),
        ("max-days-behind", "days = 30", {"freshness": "behind", "days_behind": 45}, "fail"),
        ("max-days-behind", "days = 30", {"freshness": "behind", "days_behind": 5}, "pass"),
        ("non-root-user", "", {"user": "0:0"}, "fail"),
        ("non-root-user", "", {"user": None}, "unknown"),
        ("required-attestations", 'accept = ["verified"]', {"attestations": "present"}, "fail"),
        ("required-attestations", 'accept = ["verified"]', {}, "pass"),
        ("denied-licenses", 'licenses = ["GPL-2.0-only"]', {}, "fail"),
        ("denied-licenses", 'licenses = ["AGPL-3.0"]', {}, "pass"),
        ("denied-licenses", 'licenses = ["AGPL-3.0"]', {"licenses": None}, "unknown"),
        ("max-image-age", "days = 5", {}, "fail"),
        ("max-image-age", "days = 365", {"age_days": None}, "unknown"),
        ("unknown-publisher", "", {"publisher_tier": "community"}, "fail"),
        ("unknown-publisher", "", {}, "pass"),
    ],
)
def test_opt_in_rules(
    tmp_path: Path, rule: str, settings: str, facts: dict[str, object], status: str
) -> None:
    policy = load_policy(write(tmp_path, f"[rules.{rule}]\nenabled = true\n{settings}\n"))
    results = {r.name: r for r in evaluate_rules(replace(BASE, **facts), policy)}  # type: ignore[arg-type]
    assert results[rule].status == status, results[rule].reason
    assert (rule in decide(replace(BASE, **facts), policy).rules) == (  # type: ignore[arg-type]
        status == "fail"
    )


def test_end_of_life_and_old_image_rules() -> None:
    eol = replace(BASE, end_of_life=("debian 10 (buster) is past its security support since "
                                     "2024-06-30: no more fixes will come",),
                  lifecycle_known=True)
    verdict = decide(eol)
    assert verdict.level is Level.NEEDS_ATTENTION and verdict.rules == ("end-of-life",)
    assert "2024-06-30" in verdict.reasons[0]
    old = replace(BASE, freshness="unknown", age_days=400)
    assert set(decide(old).rules) == {"freshness-unknown", "old-image"}
    assert decide(replace(old, age_days=20)).rules == ("freshness-unknown",)


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ('[rules.fixable-critical-high]\nseverities = ["Critical", "hihg"]\n',
         "rules.fixable-critical-high.severities", "unknown severity"),
        ("[rules.fixable-critical-high]\ngrace-days = -30\n",
         "rules.fixable-critical-high.grace-days", "0 or more"),
        ("[rules.epss]\nthreshold = 50\n", "rules.epss.threshold", "between 0 and 1"),
        ("[rules.approved-registries]\nenabled = true\npatterns = []\n",
         "rules.approved-registries.patterns", "at least one pattern"),
        ('[rules.required-attestations]\naccept = ["signed"]\n',
         "rules.required-attestations.accept", "unknown attestation state"),
    ],
)
def test_values_that_would_silently_disable_a_rule_are_refused(
    tmp_path: Path, text: str, key: str, words: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(UsageError) as caught:
        load_policy(path)
    assert f": {key}: " in caught.value.message and words in caught.value.message


def test_behind_without_a_pull_diff_is_unknown_and_kev_always_fails() -> None:
    results = {r.name: r for r in evaluate_rules(replace(BASE, freshness="behind",
                                                         fixes_by_pulling=None))}
    assert results["behind-with-fixes"].status == "unknown"
    community = replace(BASE, publisher_tier="community", kev=1)
    results = {r.name: r for r in evaluate_rules(community)}
    assert results["known-exploited"].status == "fail"
