"""Our orderings against the real tools installed on this machine, on seeded random pairs."""

from __future__ import annotations

import random
import re
from pathlib import Path

from imagetrust.versions import InvalidVersion, compare, is_valid
from tests.versions.oracles import (
    Pair,
    dpkg_compare,
    go_compare,
    maven_compare_chain,
    npm_compare,
    require,
    rpm_compare,
    seeded_pairs,
)

# --- dpkg -------------------------------------------------------------------------------------

_DPKG_EDGES: list[Pair] = [
    ("1.0~rc1", "1.0"), ("1.0~~", "1.0~"), ("1:0.9", "2.0"), ("1.0-1~bpo1", "1.0-1"),
    ("1.0+dfsg-1", "1.0-1"), ("2.30-2ubuntu1", "2.30-2"), ("1.0.", "1.0"), ("1.0a", "1.0."),
    ("0.0~git20200101.abc", "0.0~git20191231.fff"), ("1.2.3-0.1", "1.2.3-0.1~"),
    ("1.00001", "1.1"), ("10", "9"), ("1:1.0-1", "01:1.0-1"), ("1.0~", "1.0~~a"),
]


def _installed_dpkg_versions() -> list[str]:
    status = Path("/var/lib/dpkg/status")
    require("dpkg")
    text = status.read_text(errors="replace")
    return re.findall(r"^Version: (\S+)$", text, re.M)


def test_dpkg_against_dpkg(tmp_path: Path) -> None:
    versions = _installed_dpkg_versions()
    assert len(versions) > 50
    pairs = seeded_pairs(versions, 600, seed=20240101) + _DPKG_EDGES
    truth = dpkg_compare(pairs, tmp_path)
    assert len(truth) == len(pairs)
    mismatches = [(a, b, t) for (a, b), t in zip(pairs, truth, strict=True)
                  if compare("deb", a, b) != t]
    assert mismatches == []
    assert {-1, 0, 1} <= set(truth)


# --- rpm --------------------------------------------------------------------------------------

_RPM_PIECES = ["0", "1", "2", "9", "10", "010", "20240101", "a", "b", "rc", "git", "fc17", "el8",
               "p", "~", "^", ".", ".", "_", "+"]
# The "oddities" rpmvercmp.at documents but leaves commented out, plus EVR shapes.
_RPM_EDGES: list[Pair] = [
    ("1b.fc17", "1.fc17"), ("1g.fc17", "1.fc17"), ("1.1.α", "1.1.β"), ("1.1.αα", "1.1.α"),
    ("1:1.0-1", "1.0-1"), ("0:1.0-1", "1.0-1"), ("1.0-1", "1.0"), ("1.0-~1", "1.0"),
    ("1.0-", "1.0"), ("01:1.0", "1:1.0"), ("a:1.0", "1.0"), ("1.0-1-2", "1.0-1"),
    ("2:1.0-1.el8", "2:1.0-1.el8_1"), ("1.0^git1-1", "1.0-1"), ("1.0~rc1-1", "1.0-0"),
]


def _random_rpm_version(rng: random.Random) -> str:
    text = "".join(rng.choice(_RPM_PIECES) for _ in range(rng.randint(1, 5)))
    if rng.random() < 0.3:
        text = f"{rng.choice(['0', '1', '2', '01'])}:{text}"
    if rng.random() < 0.5:
        text += "-" + "".join(rng.choice(_RPM_PIECES) for _ in range(rng.randint(1, 3)))
    return text


def test_rpm_against_rpm(tmp_path: Path) -> None:
    rng = random.Random(4181)
    versions = [_random_rpm_version(rng) for _ in range(400)]
    pairs = seeded_pairs(versions, 600, seed=4182) + _RPM_EDGES
    truth = rpm_compare(pairs, tmp_path)
    assert len(truth) == len(pairs)
    mismatches = [(a, b, t) for (a, b), t in zip(pairs, truth, strict=True)
                  if compare("rpm", a, b) != t]
    assert mismatches == []
    assert {-1, 0, 1} <= set(truth)


# --- maven ------------------------------------------------------------------------------------

_MAVEN_VERSIONS = [
    "1", "1.0", "1.0.0", "1-0", "1.0-0", "1-1", "1.1", "1-ga", "1-final", "1.0.RELEASE", "1-sp",
    "1-sp1", "1-sp-1", "1-alpha", "1-alpha1", "1-a1", "1a1", "1-beta", "1-b2", "1-milestone",
    "1-m3", "1-rc", "1-cr", "1-rc1", "1-CR2", "1-snapshot", "1.0-SNAPSHOT", "1-foo", "1-bar",
    "1-xyz", "1.0.1", "1.0-1", "1.0.0-1", "2.0.0.Final", "2.0.0.GA", "2", "1.0a", "1.0b", "1.0m",
    "1.0-a", "1.0.a", "1..1", "1.-1", "1-.1", "0.9.9-rc-1", "1.2.3-beta.2", "1.2.3-beta-2",
    "1.2.3.beta2", "1.0-alpha-1-SNAPSHOT", "3.0.0-M1", "9999999999", "99999999999999999999",
    "1.0.0.0.0.1", "1.0-final-1.0", "1-1.foo-bar1baz-.1", "X1", "2.0-SP1", "1.0-jre", "1.0-android",
    "31.1-jre", "31.1-android", "5.3.31", "6.0.0-RC1", "2.17.1", "2.0.0-alpha1", "2.0.0-beta",
]


def test_maven_against_comparable_version() -> None:
    rng = random.Random(3887)
    chain = [rng.choice(_MAVEN_VERSIONS) for _ in range(500)] + _MAVEN_VERSIONS
    truth = maven_compare_chain(chain)
    mismatches = [(a, b, t) for a, b, t in truth if compare("maven", a, b) != t]
    assert mismatches == []
    assert {-1, 0, 1} <= {t for _, _, t in truth}


# --- npm --------------------------------------------------------------------------------------

_NPM_VERSIONS = [
    "1.2.3", "v1.2.3", "=1.2.3", " =v1.2.3 ", "1.2.3-alpha", "1.2.3-alpha.1", "1.2.3-alpha.beta",
    "1.2.3-beta", "1.2.3-beta.2", "1.2.3-beta.11", "1.2.3-rc.1", "1.2.3+build.5", "1.2.3-rc.1+b",
    "1.2.3-1", "1.2.3-01", "1.2.3-0.3.7", "1.2.3-x.7.z.92", "1.2.3-x-y-z.--", "1.2.3beta",
    "01.02.03", "1.2.4", "1.10.0", "2.0.0", "0.0.0", "1.2", "1.2.3.4", "x.y.z", "1.2.3-",
    "1.2.3-alpha..1", "1.2.3+", "1.2.3-Alpha", "1.2.3-alpha", "1.2.3-a-", "1.2.3-0a", "10.0.0",
]


def test_npm_against_node_semver() -> None:
    rng = random.Random(785)
    pairs = [(rng.choice(_NPM_VERSIONS), rng.choice(_NPM_VERSIONS)) for _ in range(500)]
    truth = npm_compare(pairs)
    for (a, b), expected in zip(pairs, truth, strict=True):
        if expected is None:
            assert not (is_valid("npm", a) and is_valid("npm", b)), (a, b)
            continue
        assert compare("npm", a, b) == expected, (a, b)
    assert sum(t is None for t in truth) > 10
    assert {-1, 0, 1} <= {t for t in truth if t is not None}


# --- golang -----------------------------------------------------------------------------------

_GO_VERSIONS = [
    "v0.0.0", "v1", "v1.2", "v1.2.0", "v1.2.3", "v1.2.3-pre", "v1.2.3-pre.1", "v1.2.3-pre.10",
    "v1.2.3-0.20191109021931-daa7c04131f5", "v0.0.0-20191109021931-daa7c04131f5",
    "v0.0.0-20200101000000-000000000000", "v1.2.4-0.20191109021931-daa7c04131f5",
    "v2.0.0+incompatible", "v2.0.0", "v2.1.0+incompatible", "v1.2.3+meta", "v1.10.0",
    "v01.2.3", "v1.2.3-01", "1.2.3", "v1.2-pre", "v1.2.3-", "v1.2.3.4",
]


def _go_form(version: str) -> str:
    return version if version.startswith("v") else "v" + version


def test_golang_against_x_mod_semver(tmp_path: Path) -> None:
    rng = random.Random(119)
    pairs = [(rng.choice(_GO_VERSIONS), rng.choice(_GO_VERSIONS)) for _ in range(400)]
    # x/mod/semver needs the "v"; our scheme also accepts OSV's v-less form and adds it.
    truth = go_compare([(_go_form(a), _go_form(b)) for a, b in pairs], tmp_path)
    for (a, b), expected in zip(pairs, truth, strict=True):
        if expected is None:
            assert not (is_valid("golang", a) and is_valid("golang", b)), (a, b)
            continue
        assert compare("golang", a, b) == expected, (a, b)
    assert {-1, 0, 1} <= {t for t in truth if t is not None}
    assert None in truth


def test_invalid_versions_raise() -> None:
    for scheme, version in [("npm", "x.y.z"), ("golang", "v1.2-pre"), ("cargo", "v1.2.3"),
                            ("pypi", "not a version"), ("deb", "1.0-"), ("apk", "abc"),
                            ("rpm", ""), ("maven", " "), ("gem", "1.0.0-")]:
        try:
            compare(scheme, version, "1.0.0")
        except InvalidVersion as error:
            assert error.scheme == scheme and "\n" not in str(error)
        else:
            raise AssertionError(f"{scheme} accepted {version!r}")
