"""opkg status and the Mariner/Azure Linux rpm manifest.

Truth: for the manifest, the real rpm's own query of a database built here (the manifest is
generated with the query format Mariner uses) plus Syft's real fixture; for opkg, the real
dpkg-query reading the same control-format file (opkg's format is dpkg's).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from imagetrust.catalog.model import OSInfo
from imagetrust.catalog.opkg import OpkgCataloger
from imagetrust.catalog.rpm.cataloger import RpmCataloger
from imagetrust.catalog.rpm.manifest import MANIFEST_PATH, RpmManifestCataloger
from tests.catalog.test_dpkg_hostile import dpkg_query, hostile_status
from tests.support.pkgdb import RpmSpec, build_rpms, install_justdb, make_tree

DATA = Path(__file__).resolve().parents[1] / "data" / "rpmmanifest"
MARINER = OSInfo("mariner", "2.0", None, "CBL-Mariner/Linux")
MANIFEST_QF = ("%{NAME}\t%{VERSION}-%{RELEASE}\t%{INSTALLTIME}\t%{BUILDTIME}\t%{VENDOR}\t"
               "%{EPOCH}\t%{SIZE}\t%{ARCH}\t%{EPOCHNUM}\t%{SOURCERPM}\n")


def test_syft_mariner_fixture() -> None:
    tree = make_tree({MANIFEST_PATH: (DATA / "container-manifest-2").read_bytes()})
    packages, skips = RpmManifestCataloger().catalog(tree, MARINER)
    assert skips == []
    got = {(p.name, p.version, p.architecture, p.source_name) for p in packages}
    # The fixture's own columns, read by eye: vim has epoch 2, the others none.
    assert got == {
        ("mariner-release", "2.0-12.cm2", "noarch", "mariner-release"),
        ("filesystem", "1.1-9.cm2", "x86_64", "filesystem"),
        ("glibc", "2.35-2.cm2", "x86_64", "glibc"),
        ("openssl-libs", "1.1.1k-15.cm2", "x86_64", "openssl"),
        ("vim", "2:9.0-1.cm2", "x86_64", "vim"),
    }
    assert all(p.cataloger == "rpm-manifest" and p.type == "rpm" for p in packages)


@pytest.mark.skipif(shutil.which("rpmbuild") is None, reason="rpmbuild (Debian rpm) is absent")
def test_manifest_from_real_rpm_matches_the_rpm_database(tmp_path: Path) -> None:
    """A manifest made by rpm itself gives the same packages (purls included) as the rpm
    database it was made from."""
    specs = [RpmSpec("alpha", "1.0", "1.cm2"), RpmSpec("beta", "2.3~rc1", "4.cm2", epoch=3),
             RpmSpec("gamma", "0.9^git1", "1", subpackages=("gamma-libs",))]
    db = tmp_path / "db"
    install_justdb(db, build_rpms(tmp_path, specs))
    manifest = subprocess.run(["rpm", "--dbpath", str(db), "-qa", "--qf", MANIFEST_QF],
                              check=True, capture_output=True).stdout
    from_manifest, skips = RpmManifestCataloger().catalog(
        make_tree({MANIFEST_PATH: manifest}), MARINER)
    assert skips == []
    from_db, _ = RpmCataloger().catalog(
        make_tree({"var/lib/rpm/rpmdb.sqlite": (db / "rpmdb.sqlite").read_bytes()}), MARINER)
    assert sorted(p.purl for p in from_manifest) == sorted(p.purl for p in from_db)
    assert len(from_manifest) == 4


def test_bad_manifest_lines_are_skips() -> None:
    data = b"short\tline\nx\t1.0\t0\t0\tv\tnope\t0\tnoarch\t0\tx-1.0-1.src.rpm\n"
    packages, skips = RpmManifestCataloger().catalog(make_tree({MANIFEST_PATH: data}), None)
    assert packages == []
    assert len(skips) == 2


@pytest.mark.skipif(shutil.which("dpkg-query") is None, reason="dpkg-query is the oracle")
@pytest.mark.parametrize("path", ["var/lib/opkg/status", "usr/lib/opkg/status"])
def test_opkg_status_like_dpkg_query(tmp_path: Path, path: str) -> None:
    status = hostile_status()
    truth = dpkg_query(status, tmp_path / "db")
    openwrt = OSInfo("openwrt", "23.05.3", None, "OpenWrt 23.05.3")
    packages, skips = OpkgCataloger().catalog(make_tree({path: status}), openwrt)
    assert sorted((p.name, p.version) for p in packages) == truth
    assert skips == []
    first = sorted(packages, key=lambda p: p.name)[0]
    assert first.purl == (f"pkg:opkg/openwrt/{first.name}@{first.version}"
                          "?arch=amd64&distro=openwrt-23.05.3")
