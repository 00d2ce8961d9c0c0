"""make_purl against examples written out in the purl specification's README."""

from __future__ import annotations

from imagetrust.catalog.purl import make_purl


def test_spec_examples() -> None:
    assert (
        make_purl("deb", "debian", "curl", "7.50.3-1", {"arch": "i386", "distro": "jessie"})
        == "pkg:deb/debian/curl@7.50.3-1?arch=i386&distro=jessie"
    )
    assert (
        make_purl("rpm", "fedora", "curl", "7.50.3-1.fc25", {"arch": "i386", "distro": "fedora-25"})
        == "pkg:rpm/fedora/curl@7.50.3-1.fc25?arch=i386&distro=fedora-25"
    )
    assert make_purl("npm", "@angular", "animation", "12.3.1") == (
        "pkg:npm/%40angular/animation@12.3.1"
    )


def test_empty_qualifiers_are_dropped_and_the_rest_sorted() -> None:
    purl = make_purl("apk", "alpine", "musl", "1.2.5-r10",
                     {"epoch": None, "upstream": "", "distro": "alpine-3.22.6", "arch": "x86_64"})
    assert purl == "pkg:apk/alpine/musl@1.2.5-r10?arch=x86_64&distro=alpine-3.22.6"


def test_no_namespace_no_version() -> None:
    assert make_purl("pypi", None, "requests", None) == "pkg:pypi/requests"
