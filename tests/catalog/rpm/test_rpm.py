"""rpm cataloger on databases holding headers of real rpms built here, with rpm as the oracle.

rpm 4.18 on Debian writes only sqlite (``rpm --showrc``: sqlite, bdb_ro, dummy), so the Berkeley DB
files are written by libdb 5.3 itself (Perl DB_File) and checked readable by ``rpm`` (bdb_ro) before
use; the NDB file is laid out from rpm's format description (rpm here cannot read NDB).
"""

from __future__ import annotations

import shutil
import struct
from dataclasses import dataclass
from pathlib import Path

import pytest

from imagetrust.catalog.model import OSInfo, Package
from imagetrust.catalog.rpm import RpmCataloger, RpmHeaderError, parse_header
from tests.support.pkgdb import (
    RpmSpec,
    build_rpms,
    install_justdb,
    make_tree,
    rpm_query_all,
    sqlite_headers,
    write_bdb,
    write_ndb,
)

pytestmark = pytest.mark.skipif(
    shutil.which("rpmbuild") is None or shutil.which("perl") is None,
    reason="needs rpmbuild (Debian package rpm) and perl",
)

SPECS = [
    RpmSpec("hello", "1.0", "1", subpackages=("libhello",)),
    RpmSpec("withepoch", "3.1", "4.el9", epoch=2, build_arch="x86_64",
            license="GPL-2.0-or-later AND MIT"),
    RpmSpec("bigheader", "0.1", "1", description_bytes=20000),
    RpmSpec("gpg-pubkey", "abcd1234", "5f000000"),
]
RHEL = OSInfo("rhel", "9.3", None, "Red Hat Enterprise Linux 9.3 (Plow)")


@dataclass(frozen=True)
class Databases:
    sqlite: Path
    expected: list[tuple[str, str, str | None, str, str, tuple[str, ...]]]
    headers: list[bytes]
    work: Path


def _expected(rows: list[dict[str, str]]) -> list[tuple[str, str, str | None, str, str,
                                                        tuple[str, ...]]]:
    """(name, [E:]V-R, arch, source name, source EVR, licences) from ``rpm -qa`` output."""
    out = []
    for row in rows:
        if row["name"] == "gpg-pubkey":
            continue
        evr = f"{row['version']}-{row['release']}"
        if row["epoch"] != "(none)":
            evr = f"{row['epoch']}:{evr}"
        source = row["sourcerpm"].removesuffix(".src.rpm")
        source_name, source_version, source_release = source.rsplit("-", 2)
        source_evr = f"{source_version}-{source_release}"
        if row["epoch"] != "(none)":
            source_evr = f"{row['epoch']}:{source_evr}"
        out.append((row["name"], evr, row["arch"], source_name, source_evr, (row["license"],)))
    return sorted(out)


def _got(packages: list[Package]) -> list[tuple[str, str, str | None, str | None, str | None,
                                                 tuple[str, ...]]]:
    return sorted((p.name, p.version, p.architecture, p.source_name, p.source_version,
                   p.licenses) for p in packages)


@pytest.fixture(scope="module")
def dbs(tmp_path_factory: pytest.TempPathFactory) -> Databases:
    work = tmp_path_factory.mktemp("rpm")
    rpms = build_rpms(work, SPECS)
    install_justdb(work / "sqlite", rpms)
    rows = rpm_query_all(work / "sqlite")
    assert {r["name"] for r in rows} == {"hello", "libhello", "withepoch", "bigheader",
                                         "gpg-pubkey"}
    return Databases(work / "sqlite" / "rpmdb.sqlite", _expected(rows),
                     sqlite_headers(work / "sqlite"), work)


def _catalog(path: str, data: bytes, os_info: OSInfo | None = RHEL) -> tuple[
        list[Package], list[str]]:
    packages, skips = RpmCataloger().catalog(make_tree({path: (data, 1)}), os_info)
    return list(packages), [s.reason for s in skips]


def test_sqlite_matches_rpm(dbs: Databases) -> None:
    packages, skips = _catalog("var/lib/rpm/rpmdb.sqlite", dbs.sqlite.read_bytes())
    assert skips == []
    assert _got(packages) == dbs.expected
    assert all(p.locations[0].path == "var/lib/rpm/rpmdb.sqlite" for p in packages)
    assert all(p.locations[0].layer_index == 1 for p in packages)


@pytest.mark.parametrize(("page_size", "big_endian"), [(4096, False), (512, False),
                                                       (4096, True), (65536, False)])
def test_berkeley_db_matches_rpm(dbs: Databases, page_size: int, big_endian: bool) -> None:
    directory = dbs.work / f"bdb-{page_size}-{big_endian}"
    directory.mkdir()
    write_bdb(directory / "Packages", dbs.headers, page_size, big_endian)
    assert _expected(rpm_query_all(directory, backend="bdb_ro")) == dbs.expected
    packages, skips = _catalog("var/lib/rpm/Packages", (directory / "Packages").read_bytes())
    assert skips == []
    assert _got(packages) == dbs.expected


def test_ndb_holds_the_same_packages(dbs: Databases, tmp_path: Path) -> None:
    write_ndb(tmp_path / "Packages.db", dbs.headers)
    packages, skips = _catalog("usr/lib/sysimage/rpm/Packages.db",
                               (tmp_path / "Packages.db").read_bytes())
    assert skips == []
    assert _got(packages) == dbs.expected


def test_ndb_checksum_mismatch_skips_one_record(dbs: Databases, tmp_path: Path) -> None:
    write_ndb(tmp_path / "Packages.db", dbs.headers)
    data = bytearray((tmp_path / "Packages.db").read_bytes())
    data[4096 + 16 + 100] ^= 0xFF  # inside the first blob's header bytes
    packages, skips = _catalog("var/lib/rpm/Packages.db", bytes(data))
    assert len(skips) == 1 and "adler32" in skips[0]
    assert len(_got(packages)) == len(dbs.expected) - 1


def test_purl_and_namespace(dbs: Databases) -> None:
    packages, _ = _catalog("var/lib/rpm/rpmdb.sqlite", dbs.sqlite.read_bytes())
    withepoch = next(p for p in packages if p.name == "withepoch")
    assert withepoch.epoch == 2 and withepoch.namespace == "redhat"
    assert withepoch.purl == (
        "pkg:rpm/redhat/withepoch@3.1-4.el9?arch=x86_64&distro=rhel-9.3&epoch=2"
        "&upstream=withepoch-3.1-4.el9.src.rpm"
    )
    unknown_os, _ = _catalog("var/lib/rpm/rpmdb.sqlite", dbs.sqlite.read_bytes(), None)
    hello = next(p for p in unknown_os if p.name == "hello")
    assert hello.purl == "pkg:rpm/hello@1.0-1?arch=noarch&upstream=hello-1.0-1.src.rpm"


def test_stale_second_database_is_reported(dbs: Databases, tmp_path: Path) -> None:
    write_ndb(tmp_path / "Packages.db", dbs.headers[:1])
    tree = make_tree({
        "var/lib/rpm/rpmdb.sqlite": dbs.sqlite.read_bytes(),
        "var/lib/rpm/Packages.db": (tmp_path / "Packages.db").read_bytes(),
        "var/lib/rpm/rpmdb.sqlite-wal": b"\0" * 32,
    })
    packages, skips = RpmCataloger().catalog(tree, RHEL)
    assert _got(list(packages)) == dbs.expected
    assert sorted(s.path for s in skips) == ["var/lib/rpm/Packages.db",
                                             "var/lib/rpm/rpmdb.sqlite-wal"]


@pytest.mark.parametrize("path", ["var/lib/rpm/rpmdb.sqlite", "var/lib/rpm/Packages",
                                  "var/lib/rpm/Packages.db"])
@pytest.mark.parametrize("data", [b"", b"garbage" * 100, b"\0" * 8192])
def test_garbage_databases_are_one_skip(path: str, data: bytes) -> None:
    packages, skips = _catalog(path, data)
    assert packages == [] and len(skips) == 1


def test_corrupt_headers_are_record_skips(dbs: Databases, tmp_path: Path) -> None:
    good = dbs.headers[0]
    truncated = good[: len(good) // 2]
    il, dl = struct.unpack_from(">II", good)
    bad_offset = bytearray(good)
    for i in range(il):  # point the NAME entry past the data store
        if struct.unpack_from(">I", good, 8 + 16 * i)[0] == 1000:
            struct.pack_into(">I", bad_offset, 8 + 16 * i + 8, dl + 5)
    write_ndb(tmp_path / "Packages.db", [truncated, bytes(bad_offset), good])
    packages, skips = _catalog("var/lib/rpm/Packages.db", (tmp_path / "Packages.db").read_bytes())
    assert len(packages) == 1 and len(skips) == 2
    assert any("truncated" in s for s in skips)
    assert any("outside the data store" in s for s in skips)
    with pytest.raises(RpmHeaderError):
        parse_header(b"\0\0\0")
    with pytest.raises(RpmHeaderError):
        parse_header(struct.pack(">II", 0xFFFFFFFF, 1))
