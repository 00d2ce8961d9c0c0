"""The public API: scheme dispatch, keys, errors, and the hand-checked schemes without a local
oracle (PEP 440 wiring, SemVer 2.0 for Cargo, RubyGems)."""

from __future__ import annotations

import pytest

from imagetrust.errors import ImagetrustError, UsageError
from imagetrust.versions import SCHEMES, InvalidVersion, comparator, compare, is_valid, key


def test_every_purl_type_is_served() -> None:
    assert {"deb", "apk", "rpm", "pypi", "npm", "golang", "maven", "cargo", "gem"} == SCHEMES


def test_unknown_scheme_is_a_usage_error() -> None:
    for call in (lambda: compare("conan", "1", "2"), lambda: is_valid("conan", "1"),
                 lambda: key("conan", "1"), lambda: comparator("conan")):
        with pytest.raises(UsageError, match="unknown version scheme 'conan'"):
            call()


def test_comparator_orders_as_compare() -> None:
    """Pairs whose order differs between schemes: a comparator for the wrong scheme would fail."""
    pairs = {"deb": ("1.0~rc1", "1.0"), "pypi": ("1.0rc1", "1.0"), "npm": ("1.0.0-rc.1", "1.0.0"),
             "maven": ("1.0-alpha", "1.0"), "gem": ("1.0.a", "1.0"), "apk": ("1.0_rc1", "1.0")}
    for scheme, (low, high) in pairs.items():
        ordered = comparator(scheme)
        assert ordered(low, high) == compare(scheme, low, high) == -1
        assert ordered(high, low) == 1 and ordered(high, high) == 0


def test_invalid_version_is_a_value_error_and_an_imagetrust_error() -> None:
    with pytest.raises(ValueError) as caught:
        compare("pypi", "1.0", "not-a-version!")
    assert isinstance(caught.value, ImagetrustError)
    assert isinstance(caught.value, InvalidVersion)
    assert str(caught.value).startswith("invalid pypi version 'not-a-version!'")


@pytest.mark.parametrize(
    ("scheme", "unsorted", "expected"),
    [
        # dpkg's own sort test from Dpkg_Version.t.
        ("deb", ["4:4-4", "5.0abc", "0.0-0.0alpha0", "10.100.1-1", "0~999.999zeta", "0:1.0-0"],
         ["0~999.999zeta", "0.0-0.0alpha0", "0:1.0-0", "5.0abc", "10.100.1-1", "4:4-4"]),
        # The precedence example of the SemVer 2.0 specification, §11.
        ("cargo", ["1.0.0", "1.0.0-rc.1", "1.0.0-beta.11", "1.0.0-beta.2", "1.0.0-beta",
                   "1.0.0-alpha.beta", "1.0.0-alpha.1", "1.0.0-alpha"],
         ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
          "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0"]),
        # PEP 440's "summary of permitted suffixes and relative ordering" example.
        ("pypi", ["1.0", "1.0.post456", "1.0a12.dev456", "1.0.dev456", "1.0b2.post345",
                  "1.0a1", "1.0c1", "1.0b2", "1.0a12", "1.0b1.dev456", "1.0rc2",
                  "1.0b2.post345.dev456", "1.0.post456.dev34", "1.0+abc.5", "1.1.dev1"],
         ["1.0.dev456", "1.0a1", "1.0a12.dev456", "1.0a12", "1.0b1.dev456", "1.0b2",
          "1.0b2.post345.dev456", "1.0b2.post345", "1.0c1", "1.0rc2", "1.0", "1.0+abc.5",
          "1.0.post456.dev34", "1.0.post456", "1.1.dev1"]),
        # apk: pre-release suffixes < none < post-release suffixes < revisions.
        ("apk", ["1.0_p1", "1.0-r1", "1.0_rc1", "1.0", "1.0_alpha", "1.0_git20240101", "1.0a"],
         ["1.0_alpha", "1.0_rc1", "1.0", "1.0-r1", "1.0_git20240101", "1.0_p1", "1.0a"]),
    ],
)
def test_key_sorts_like_upstream_examples(scheme: str, unsorted: list[str],
                                          expected: list[str]) -> None:
    assert sorted(unsorted, key=lambda v: key(scheme, v)) == expected
    for low, high in zip(expected, expected[1:], strict=False):
        assert compare(scheme, low, high) <= 0 and compare(scheme, high, low) >= 0


def test_pep440_equivalent_spellings() -> None:
    assert compare("pypi", "1.0", "1.0.0") == 0
    assert compare("pypi", "1.0-RC1", "1.0rc1") == 0
    assert compare("pypi", "1!0.1", "2.0") == 1  # an epoch outranks everything
    assert not is_valid("pypi", "1.0-foo")


def test_cargo_is_strict_semver() -> None:
    assert compare("cargo", "1.0.0+build.1", "1.0.0+build.2") == 0  # build metadata ignored
    assert not is_valid("cargo", "01.0.0")
    assert not is_valid("cargo", "1.0.0-01")
    assert not is_valid("cargo", "v1.0.0")
    assert is_valid("npm", "v1.0.0") and is_valid("npm", "=01.0.0")


def test_golang_pseudo_versions_and_incompatible() -> None:
    # Pseudo-versions are pre-releases of the next patch: above the base, below the release.
    assert compare("golang", "v1.2.3", "v1.2.4-0.20191109021931-daa7c04131f5") == -1
    assert compare("golang", "v1.2.4-0.20191109021931-daa7c04131f5", "v1.2.4") == -1
    assert compare("golang", "v0.0.0-20191109021931-daa7c04131f5",
                   "v0.0.0-20200101000000-000000000000") == -1
    assert compare("golang", "v2.0.0+incompatible", "v2.0.0") == 0
    assert compare("golang", "1.2.3", "v1.2.3") == 0  # OSV writes Go versions without "v"
    assert compare("golang", "v1.2", "v1.2.0") == 0


# RubyGems: hand-derived from Gem::Version's documented rules (segments split on '.', a letter
# makes a pre-release that sorts below the release, '-' reads as '.pre.', trailing zeros ignored).
@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("1.0", "1.0.0", 0), ("1.0.a", "1.0", -1), ("1.0.b1", "1.0.a2", 1),
        ("1.0.a10", "1.0.a9", 1),
        ("1.8.2", "0.0.0", 1), ("1.8.2.a", "1.8.2", -1), ("", "0", 0),
        ("0.beta.1", "0.0.beta.1", 0), ("0.0.beta", "0.0.beta.1", -1),
        ("5.a", "5.0.0.rc2", -1), ("5.x", "5.0.0.rc2", 1), ("1.0.0-1", "1.0.0.pre.1", 0),
        ("1.0.0-1", "1.0.0", -1), ("2.7.0.1", "2.7.0", 1), ("1.0a", "1.0.a", 0),
    ],
)
def test_gem_ordering(a: str, b: str, expected: int) -> None:
    assert compare("gem", a, b) == expected
    assert compare("gem", b, a) == -expected


def test_gem_validity() -> None:
    assert is_valid("gem", " 1.2.3 ") and is_valid("gem", "1.0.0-rc-1") and is_valid("gem", "")
    for bad in ("1.0.0-", "junk", "1..2"):
        assert not is_valid("gem", bad), bad


def test_keys_of_comparison_only_schemes_sort() -> None:
    versions = ["1.0-SNAPSHOT", "1.0", "1.0-alpha-1", "1.0-sp1", "1.0-rc1"]
    assert sorted(versions, key=lambda v: key("maven", v)) == [
        "1.0-alpha-1", "1.0-rc1", "1.0-SNAPSHOT", "1.0", "1.0-sp1"]
    with pytest.raises(InvalidVersion):
        key("apk", "abc")
