"""apk cataloger against the package listing of the real alpine:3.22 image (repo-info)."""

from __future__ import annotations

from pathlib import Path

from imagetrust.catalog.apk import INSTALLED_PATH, ApkCataloger
from imagetrust.catalog.model import OSInfo
from tests.support.pkgdb import build_apk_installed, fake_diff_id, make_tree, parse_repo_info_apk

ALPINE = OSInfo("alpine", "3.22.6", None, "Alpine Linux v3.22", "3.22.6")


def test_every_listed_package_of_alpine_3_22(test_data: Path) -> None:
    listings = parse_repo_info_apk(
        (test_data / "repo-info/repos/alpine/local/3.22.md").read_text()
    )
    assert len(listings) >= 15
    tree = make_tree({INSTALLED_PATH: (build_apk_installed(listings), 0)})
    packages, skips = ApkCataloger().catalog(tree, ALPINE)
    assert skips == []
    got = sorted((p.name, p.version, p.licenses) for p in packages)
    assert got == sorted((item.name, item.version, (item.license,)) for item in listings)
    musl = next(p for p in packages if p.name == "musl")
    assert musl.purl == f"pkg:apk/alpine/musl@{musl.version}?arch=x86_64&distro=alpine-3.22.6"
    assert musl.locations[0].path == INSTALLED_PATH
    assert musl.locations[0].diff_id == fake_diff_id(0)


def test_origin_is_the_source_package() -> None:
    db = (
        b"P:libcrypto3\nV:3.5.1-r0\nA:aarch64\no:openssl\nL:Apache-2.0\n"
        b"m:Natanael Copa <ncopa@alpinelinux.org>\nF:lib\nR:libcrypto.so.3\n\n"
        b"P:busybox\nV:1.37.0-r18\nA:aarch64\n"
    )
    packages, skips = ApkCataloger().catalog(make_tree({INSTALLED_PATH: db}), None)
    assert skips == []
    crypto, busybox = sorted(packages, key=lambda p: p.name, reverse=True)
    assert (crypto.source_name, crypto.source_version) == ("openssl", "3.5.1-r0")
    assert crypto.metadata["maintainer"].startswith("Natanael")
    assert busybox.source_name == "busybox" and busybox.licenses == ()
    assert busybox.purl == "pkg:apk/alpine/busybox@1.37.0-r18?arch=aarch64"


def test_bad_records_are_skips() -> None:
    db = (
        b"P:ok\nV:1.0-r0\n\n"
        b"V:2.0-r0\nA:x86_64\n\n"
        b"P:noversion\nA:x86_64\n\n"
        b"P:junk\nV:1-r0\nnot a field\n"
    )
    packages, skips = ApkCataloger().catalog(make_tree({INSTALLED_PATH: db}), ALPINE)
    assert [p.name for p in packages] == ["ok"]
    reasons = sorted(s.reason for s in skips)
    assert len(reasons) == 3
    assert any("line 4" in r and "name" in r for r in reasons)
    assert any("noversion" in r for r in reasons)
    assert any("line 12" in r for r in reasons)


def test_missing_or_too_large_database() -> None:
    assert ApkCataloger().catalog(make_tree({}), ALPINE) == ([], [])
    big = make_tree({INSTALLED_PATH: b"P:x\nV:1\n" * 10}, max_size=4)
    packages, skips = ApkCataloger().catalog(big, ALPINE)
    assert packages == [] and "too large" in skips[0].reason
