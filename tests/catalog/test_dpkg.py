"""dpkg cataloger: this machine's real database against dpkg-query, repo-info listings of the
real debian:bookworm image, distroless status.d, layer attribution and malformed input."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from imagetrust.catalog.dpkg import DpkgCataloger, parse_copyright_licenses
from imagetrust.catalog.model import OSInfo
from tests.support.pkgdb import (
    build_dpkg_status,
    fake_diff_id,
    make_tree,
    parse_repo_info_dpkg,
)

BOOKWORM = OSInfo("debian", "12", "bookworm", "Debian GNU/Linux 12 (bookworm)", "12.7")
STATUS = "var/lib/dpkg/status"

needs_dpkg = pytest.mark.skipif(
    shutil.which("dpkg-query") is None or not Path("/var/lib/dpkg/status").is_file(),
    reason="needs a dpkg-based host",
)


def _dpkg_query(fmt: str) -> list[str]:
    return subprocess.run(["dpkg-query", "-W", "-f", fmt], check=True, capture_output=True,
                          text=True).stdout.splitlines()


@needs_dpkg
def test_real_status_matches_dpkg_query() -> None:
    data = Path("/var/lib/dpkg/status").read_bytes()
    packages, skips = DpkgCataloger().catalog(make_tree({STATUS: data}), BOOKWORM)
    expected = sorted(
        tuple(line.split("\t"))
        for line in _dpkg_query(
            "${db:Status-Abbrev}\t${Package}\t${Architecture}\t${Version}\t${source:Package}"
            "\t${source:Version}\n"
        )
        if line.startswith("ii")
    )
    got = sorted(
        ("ii ", p.name, p.architecture, p.version, p.source_name, p.source_version)
        for p in packages
    )
    assert skips == []
    assert got == expected
    assert len(got) > 50


@needs_dpkg
def test_real_copyright_licences_match_repo_info(test_data: Path) -> None:
    """Where this machine has the same version as the debian:bookworm image, the copyright file
    is the same, so the licences must equal the ones repo-info's own tooling extracted."""
    listings = parse_repo_info_dpkg(
        (test_data / "repo-info/repos/debian/local/bookworm.md").read_text()
    )
    installed = dict(line.split("\t", 1) for line in _dpkg_query("${Package}\t${Version}\n"))
    compared = 0
    for item in listings:
        copyright_file = Path(f"/usr/share/doc/{item.name}/copyright")
        if installed.get(item.name) != item.version or not copyright_file.is_file():
            continue
        assert sorted(parse_copyright_licenses(copyright_file.read_bytes())) == sorted(
            item.licenses
        ), item.name
        compared += 1
    if compared < 10:
        pytest.skip(f"only {compared} packages share versions with debian:bookworm here")


def test_repo_info_bookworm_listing(test_data: Path) -> None:
    listings = parse_repo_info_dpkg(
        (test_data / "repo-info/repos/debian/local/bookworm.md").read_text()
    )
    assert len(listings) > 80
    packages, skips = DpkgCataloger().catalog(
        make_tree({STATUS: build_dpkg_status(listings)}), BOOKWORM
    )
    assert skips == []
    by_name = {p.name: p for p in packages}
    assert len(by_name) == len(listings)
    for item in listings:
        package = by_name[item.name]
        assert (package.version, package.source_name, package.source_version) == (
            item.version, item.source, item.source_version
        ), item.name


def test_purl_epoch_and_upstream_conventions() -> None:
    status = (
        b"Package: libattr1\nStatus: install ok installed\nArchitecture: amd64\n"
        b"Source: attr\nVersion: 1:2.5.1-4\n\n"
        b"Package: bsdutils\nStatus: install ok installed\nArchitecture: amd64\n"
        b"Source: util-linux (2.38.1-5+deb12u1)\nVersion: 1:2.38.1-5+deb12u1\n\n"
        b"Package: adduser\nStatus: install ok installed\nArchitecture: all\nVersion: 3.134\n"
    )
    packages, _ = DpkgCataloger().catalog(make_tree({STATUS: status}), BOOKWORM)
    by_name = {p.name: p for p in packages}
    attr = by_name["libattr1"]
    assert (attr.version, attr.epoch, attr.source_version) == ("1:2.5.1-4", 1, "1:2.5.1-4")
    assert attr.purl == (
        "pkg:deb/debian/libattr1@2.5.1-4?arch=amd64&distro=debian-12&epoch=1&upstream=attr"
    )
    assert by_name["bsdutils"].purl == (
        "pkg:deb/debian/bsdutils@2.38.1-5%2Bdeb12u1?arch=amd64&distro=debian-12&epoch=1"
        "&upstream=util-linux%402.38.1-5%2Bdeb12u1"
    )
    assert by_name["adduser"].purl == "pkg:deb/debian/adduser@3.134?arch=all&distro=debian-12"
    assert by_name["adduser"].epoch is None


def test_only_installed_stanzas_count() -> None:
    status = (
        b"Package: gone\nStatus: deinstall ok config-files\nVersion: 1.0\n\n"
        b"Package: half\nStatus: install reinstreq half-installed\nVersion: 1.0\n\n"
        b"Package: held\nStatus: hold ok installed\nVersion: 2.0\nArchitecture: all\n\n"
        b"Package: kept\nstatus: install ok installed\nVERSION: 3.0\nArchitecture: all\n"
    )
    packages, skips = DpkgCataloger().catalog(make_tree({STATUS: status}), None)
    assert sorted(p.name for p in packages) == ["held", "kept"]
    assert skips == []
    assert packages[0].namespace == "debian" and "distro=" not in packages[0].purl


def test_broken_stanzas_become_skips_and_the_rest_survives() -> None:
    status = (
        b"Status: install ok installed\nVersion: 1.0\n\n"
        b"Package: badversion\nStatus: install ok installed\nVersion: 1:\n\n"
        b"Package: nostatus\nVersion: 1.0\n\n"
        b"Package: garbage\nthis line has no colon\nStatus: install ok installed\n\n"
        b"Package: badsource\nStatus: install ok installed\nVersion: 1\nSource: a b c\n\n"
        b"Package: fine\nStatus: install ok installed\nVersion: 1.0-1\nArchitecture: all\n"
    )
    packages, skips = DpkgCataloger().catalog(make_tree({STATUS: status}), BOOKWORM)
    assert [p.name for p in packages] == ["fine"]
    reasons = sorted(s.reason for s in skips)
    assert len(reasons) == 5
    assert all(s.path == STATUS and s.cataloger == "dpkg" for s in skips)
    assert any("line 1" in r and "no Package" in r for r in reasons)
    assert any("badversion" in r and "invalid Version" in r for r in reasons)
    assert any("nostatus" in r and "Status" in r for r in reasons)
    assert any("line 15" in r for r in reasons)  # the garbage line number
    assert any("badsource" in r for r in reasons)


def test_list_files_give_the_introducing_layer() -> None:
    status = (
        b"Package: libc6\nStatus: install ok installed\nArchitecture: amd64\n"
        b"Multi-Arch: same\nSource: glibc\nVersion: 2.36-9\n\n"
        b"Package: jq\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.6-2.1\n\n"
        b"Package: nolist\nStatus: install ok installed\nArchitecture: all\nVersion: 1\n"
    )
    tree = make_tree({
        STATUS: (status, 2),
        "var/lib/dpkg/info/libc6:amd64.list": (b"/.\n", 0),
        "var/lib/dpkg/info/jq.list": (b"/.\n", 1),
    })
    packages, _ = DpkgCataloger().catalog(tree, BOOKWORM)
    by_name = {p.name: p for p in packages}
    intro = {name: p.introduced_by for name, p in by_name.items()}
    assert intro["libc6"] is not None and intro["libc6"].layer_index == 0
    assert intro["libc6"].path == "var/lib/dpkg/info/libc6:amd64.list"
    assert intro["libc6"].diff_id == fake_diff_id(0)
    assert intro["jq"] is not None and intro["jq"].layer_index == 1
    assert intro["nolist"] is not None and intro["nolist"].layer_index == 2
    assert by_name["libc6"].locations[0].path == STATUS


def test_list_files_are_wanted_for_presence_only() -> None:
    requests = DpkgCataloger().requests()
    list_request = next(r for r in requests if r.matches("var/lib/dpkg/info/jq.list"))
    assert list_request.max_size == 0
    assert DpkgCataloger().request().matches("var/lib/dpkg/status.d/libssl3")


def test_distroless_status_d() -> None:
    tree = make_tree({
        "var/lib/dpkg/status.d/base-files": (
            b"Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\n", 0),
        "var/lib/dpkg/status.d/base-files.md5sums": (b"d41d8 etc/issue\n", 0),
        "var/lib/dpkg/status.d/libssl3": (
            b"Package: libssl3\nVersion: 3.0.11-1~deb12u2\nArchitecture: amd64\n"
            b"Source: openssl\n\nPackage: openssl\nVersion: 3.0.11-1~deb12u2\n"
            b"Architecture: amd64\n", 1),
    })
    info = OSInfo("debian", "12", "bookworm", "Distroless", distroless=True)
    packages, skips = DpkgCataloger().catalog(tree, info)
    assert skips == []
    got = sorted((p.name, p.version, p.source_name, p.introduced_by.layer_index)  # type: ignore[union-attr]
                 for p in packages)
    assert got == [
        ("base-files", "12.4+deb12u5", "base-files", 0),
        ("libssl3", "3.0.11-1~deb12u2", "openssl", 1),
        ("openssl", "3.0.11-1~deb12u2", "openssl", 1),
    ]


def test_licences_from_copyright_and_too_large_status() -> None:
    copyright_text = (
        b"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
        b"Files: *\nCopyright: 2020 Someone\nLicense: GPL-2+ or MIT\n\n"
        b"License: GPL-2+\n On Debian systems see /usr/share/common-licenses/GPL-2.\n"
    )
    status = b"Package: foo\nStatus: install ok installed\nVersion: 1\nArchitecture: all\n"
    tree = make_tree({STATUS: status, "usr/share/doc/foo/copyright": copyright_text})
    packages, _ = DpkgCataloger().catalog(tree, BOOKWORM)
    assert packages[0].licenses == ("GPL-2", "GPL-2+", "MIT")

    big = make_tree({STATUS: status * 10}, max_size=len(status))
    packages, skips = DpkgCataloger().catalog(big, BOOKWORM)
    assert packages == [] and len(skips) == 1 and "too large" in skips[0].reason
