"""OS detection on real release files (this machine's) and on files of other distributions."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from imagetrust.catalog.osrelease import detect_os, parse_os_release
from tests.support.pkgdb import make_tree

ALPINE_OS_RELEASE = b"""NAME="Alpine Linux"
ID=alpine
VERSION_ID=3.22.6
PRETTY_NAME="Alpine Linux v3.22"
HOME_URL="https://alpinelinux.org/"
BUG_REPORT_URL="https://gitlab.alpinelinux.org/alpine/aports/-/issues"
"""

UBUNTU_OS_RELEASE = b"""PRETTY_NAME="Ubuntu 22.04.4 LTS"
NAME="Ubuntu"
VERSION_ID="22.04"
VERSION="22.04.4 LTS (Jammy Jellyfish)"
VERSION_CODENAME=jammy
ID=ubuntu
ID_LIKE=debian
UBUNTU_CODENAME=jammy
"""


def _shell_fields(path: Path) -> list[str]:
    """The oracle: os-release(5) is a shell fragment, so let sh parse it."""
    out = subprocess.run(
        ["sh", "-c", '. "$0"; printf "%s|%s|%s|%s" "$ID" "$VERSION_ID" "$VERSION_CODENAME" '
         '"$PRETTY_NAME"', str(path)],
        check=True, capture_output=True, text=True,
    ).stdout
    return out.split("|")


@pytest.mark.skipif(not Path("/etc/debian_version").exists(), reason="needs a Debian host")
def test_this_machine_through_the_etc_symlink() -> None:
    link = Path("/etc/os-release")
    tree = make_tree({
        "etc/os-release": ("symlink", str(link.readlink()) if link.is_symlink() else "", 0),
        "usr/lib/os-release": Path("/usr/lib/os-release").read_bytes(),
        "etc/debian_version": Path("/etc/debian_version").read_bytes(),
    })
    info = detect_os(tree)
    os_id, version_id, codename, pretty = _shell_fields(Path("/usr/lib/os-release"))
    assert info is not None
    assert (info.id, info.version_id, info.codename, info.pretty_name) == (
        os_id, version_id, codename, pretty
    )
    assert info.point_release == Path("/etc/debian_version").read_text().strip()
    assert info.release == codename
    assert not info.distroless


def test_alpine_release_adds_point_release_and_branch() -> None:
    tree = make_tree({"etc/os-release": ALPINE_OS_RELEASE, "etc/alpine-release": b"3.22.6\n"})
    info = detect_os(tree)
    assert info is not None
    assert (info.id, info.version_id, info.point_release, info.release) == (
        "alpine", "3.22.6", "3.22.6", "v3.22"
    )


def test_ubuntu_ignores_debian_version_of_its_parent() -> None:
    tree = make_tree({"usr/lib/os-release": UBUNTU_OS_RELEASE,
                      "etc/debian_version": b"bookworm/sid\n"})
    info = detect_os(tree)
    assert info is not None
    assert (info.id, info.version_id, info.codename, info.id_like, info.point_release) == (
        "ubuntu", "22.04", "jammy", ("debian",), None
    )


def test_absolute_symlink_and_parent_escape_stay_in_the_tree() -> None:
    tree = make_tree({
        "etc/os-release": ("symlink", "/usr/lib/os-release", 1),
        "usr/lib/os-release": ALPINE_OS_RELEASE,
    })
    assert detect_os(tree) is not None
    escaping = make_tree({
        "etc/os-release": ("symlink", "../../../../usr/lib/os-release", 1),
        "usr/lib/os-release": ALPINE_OS_RELEASE,
    })
    info = detect_os(escaping)
    assert info is not None and info.id == "alpine"


def test_dangling_or_looping_symlink_falls_back_to_release_files() -> None:
    tree = make_tree({
        "etc/os-release": ("symlink", "os-release", 0),
        "usr/lib/os-release": ("symlink", "../../etc/os-release", 0),
        "etc/debian_version": b"11.9\n",
    })
    info = detect_os(tree)
    assert info is not None
    assert (info.id, info.version_id, info.codename, info.point_release) == (
        "debian", "11", "bullseye", "11.9"
    )


def test_redhat_release_without_os_release() -> None:
    tree = make_tree({"etc/redhat-release": b"CentOS Linux release 7.9.2009 (Core)\n"})
    info = detect_os(tree)
    assert info is not None
    assert (info.id, info.version_id) == ("centos", "7.9.2009")


def test_distroless_with_os_release() -> None:
    os_release = b'PRETTY_NAME="Distroless"\nNAME="Debian GNU/Linux"\nID="debian"\n' \
                 b'VERSION_ID="12"\nVERSION="Debian GNU/Linux 12 (bookworm)"\n'
    tree = make_tree({
        "etc/os-release": os_release,
        "var/lib/dpkg/status.d/base-files": b"Package: base-files\nVersion: 12.4+deb12u5\n",
    })
    info = detect_os(tree)
    assert info is not None
    assert (info.id, info.version_id, info.codename, info.distroless) == (
        "debian", "12", "bookworm", True
    )


def test_distroless_without_os_release_uses_base_files() -> None:
    tree = make_tree({
        "var/lib/dpkg/status.d/base-files": b"Package: base-files\nVersion: 12.4+deb12u5\n",
        "var/lib/dpkg/status.d/base-files.md5sums": b"0123 etc/issue\n",
    })
    info = detect_os(tree)
    assert info is not None
    assert (info.id, info.version_id, info.codename, info.point_release, info.distroless) == (
        "debian", "12", "bookworm", "12.4", True
    )


def test_status_file_means_not_distroless() -> None:
    tree = make_tree({
        "etc/debian_version": b"12.7\n",
        "var/lib/dpkg/status": b"",
        "var/lib/dpkg/status.d/extra": b"Package: extra\n",
    })
    info = detect_os(tree)
    assert info is not None and not info.distroless and info.point_release == "12.7"


def test_nothing_known() -> None:
    assert detect_os(make_tree({"etc/hostname": b"x\n"})) is None


def test_parse_os_release_quoting() -> None:
    text = ('# comment\nNAME="Foo \\"Bar\\""\nID=foo\nVERSION=\'1 (x)\'\nBROKEN="unterminated\n'
            "not a field\n=nokey\n")
    fields = parse_os_release(text)
    assert fields == {"NAME": 'Foo "Bar"', "ID": "foo", "VERSION": "1 (x)",
                      "BROKEN": "unterminated"}
