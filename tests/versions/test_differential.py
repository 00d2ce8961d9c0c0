"""Differential tests: our ordering against the real tool of each scheme on generated pairs.

Truth is the tool's verdict (dpkg, rpm, apk-tools 2.14's version.c, Maven's ComparableVersion,
node-semver, Go's x/mod/semver, RubyGems), never a list written from our code. Where a tool
refuses a version, we must refuse it too (InvalidVersion or ``is_valid`` False). The counts keep
the whole module within a few seconds; the seeds make every failure reproducible.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from imagetrust.versions import InvalidVersion, apk, compare, is_valid
from tests.versions import generate
from tests.versions.oracles import (
    Pair,
    apk_compare,
    dpkg_verdicts,
    gem_compare,
    go_compare,
    maven_compare_chain,
    npm_compare,
    rpm_compare,
)


def _ours(scheme: str, a: str, b: str) -> int | None:
    try:
        return compare(scheme, a, b)
    except InvalidVersion:
        return None


def _disagreements(scheme: str, pairs: list[Pair], truth: list[int | None],
                   valid: Callable[[str], bool] | None = None) -> list[tuple[str, str, object]]:
    """Pairs where we differ from the tool. ``truth`` None means the tool refused a version:
    then at least one side must be invalid for us too."""
    assert len(truth) == len(pairs)
    check = valid or (lambda v: is_valid(scheme, v))
    wrong: list[tuple[str, str, object]] = []
    for (a, b), expected in zip(pairs, truth, strict=True):
        if expected is None:
            if check(a) and check(b):
                wrong.append((a, b, "tool refuses, we accept"))
        elif _ours(scheme, a, b) != expected:
            wrong.append((a, b, expected))
    return wrong


def _spread(truth: list[int | None]) -> None:
    """The vectors must exercise every verdict, or the test proves little."""
    assert {-1, 0, 1} <= set(truth)


def test_dpkg_generated(tmp_path: Path) -> None:
    pairs = generate.pairs(generate.dpkg_version, 1000, seed=1)
    truth = dpkg_verdicts(pairs, tmp_path)
    assert _disagreements("deb", pairs, truth) == []
    _spread(truth)


def test_rpm_generated(tmp_path: Path) -> None:
    pairs = generate.pairs(generate.rpm_version, 3000, seed=2)
    truth: list[int | None] = list(rpm_compare(pairs, tmp_path))
    assert _disagreements("rpm", pairs, truth) == []
    _spread(truth)


def test_apk_generated(tmp_path: Path) -> None:
    pairs = generate.pairs(generate.apk_version, 5000, seed=3)
    verdicts = apk_compare(pairs, tmp_path)
    wrong, refused = [], 0
    for (a, b), (expected, valid_a, valid_b) in zip(pairs, verdicts, strict=True):
        ours = _ours("apk", a, b)
        if (apk.is_valid(a), apk.is_valid(b)) != (valid_a, valid_b):
            wrong.append((a, b, f"validity {valid_a} {valid_b}"))
        elif ours is None:
            # Our one deliberate difference: apk orders a broken version that does not start
            # with a digit by accident of its tokeniser; we refuse it instead.
            refused += 1
            bad = [v for v, ok in ((a, valid_a), (b, valid_b)) if not ok and not v[:1].isdigit()]
            if not bad:
                wrong.append((a, b, expected))
        elif ours != expected:
            wrong.append((a, b, expected))
    assert wrong == []
    assert refused < len(pairs) // 50
    _spread([v for v, _, _ in verdicts])
    assert sum(not (va and vb) for _, va, vb in verdicts) > 100  # broken ones are ordered too


def test_apk_letter_digits_and_revision(tmp_path: Path) -> None:
    """The case the issue names: a letter followed by digits, then the revision."""
    pairs = [("1.9.5p2-r0", "1.9.5p2-r1"), ("1.9.5p2", "1.9.5p3"), ("1.9.5p10", "1.9.5p9"),
             ("1.0a1b2-r3", "1.0a1b2-r4"), ("1.9.5p2-r1", "1.9.5-r1")]
    verdicts = apk_compare(pairs, tmp_path)
    assert [compare("apk", a, b) for a, b in pairs] == [v for v, _, _ in verdicts]
    assert [v for v, _, _ in verdicts][:2] == [-1, -1]


def test_maven_generated() -> None:
    pairs = generate.pairs(generate.maven_version, 1500, seed=4)
    chain = [v for pair in pairs for v in pair]
    truth = maven_compare_chain(chain)
    wrong = [(a, b, t) for a, b, t in truth if compare("maven", a, b) != t]
    assert wrong == []
    _spread([t for _, _, t in truth])


def test_npm_generated() -> None:
    pairs = generate.pairs(generate.semver_version, 3000, seed=5)
    truth = npm_compare(pairs)
    assert _disagreements("npm", pairs, truth) == []
    _spread(truth)
    assert None in truth


def test_golang_generated(tmp_path: Path) -> None:
    pairs = generate.pairs(generate.go_version, 3000, seed=6,
                           usable=lambda v: bool(v) and " " not in v)
    # x/mod/semver needs the "v"; our scheme also accepts OSV's v-less form and adds it.
    go_form = [(a if a.startswith("v") else "v" + a, b if b.startswith("v") else "v" + b)
               for a, b in pairs]
    truth = go_compare(go_form, tmp_path)
    assert _disagreements("golang", go_form, truth) == []
    _spread(truth)
    assert None in truth


def test_gem_generated() -> None:
    pairs = generate.pairs(generate.gem_version, 3000, seed=7,
                           usable=lambda v: "\t" not in v and "\n" not in v)
    truth = gem_compare(pairs)
    assert _disagreements("gem", pairs, truth) == []
    _spread(truth)
