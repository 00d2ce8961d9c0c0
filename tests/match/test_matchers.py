"""Matchers on REAL advisories (OSV records of each ecosystem, Ubuntu OSV, Alpine secdb) imported
into a real database; expected verdicts come from packaging (PEP 440), node-semver, dpkg, or are
hand-computed from the record's own events."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from packaging.version import Version

from imagetrust.catalog.model import Location, OSInfo, Package
from imagetrust.match.db import VulnDB, import_feed
from imagetrust.match.matchers import AlpineMatcher, OsvLanguageMatcher, UbuntuMatcher
from imagetrust.match.matchers.base import Matcher
from imagetrust.match.model import Match

LOC = (Location("x", 0, "sha256:" + "0" * 64),)


def pkg(kind: str, name: str, version: str, *, namespace: str | None = None,
        source: str | None = None) -> Package:
    return Package(name=name, version=version, type=kind, purl=f"pkg:{kind}/{name}@{version}",
                   cataloger="test", locations=LOC, namespace=namespace, source_name=source)


@pytest.fixture(scope="module")
def db(test_data: Path, tmp_path_factory: pytest.TempPathFactory) -> VulnDB:
    root = tmp_path_factory.mktemp("feeds")
    for eco in ("PyPI", "npm", "Go", "Maven", "RubyGems", "crates.io"):
        shutil.copytree(test_data / "osv/records" / eco, root / "osv" / eco)
    shutil.copytree(test_data / "ubuntu", root / "ubuntu")
    shutil.copy(test_data / "alpine/secdb-json-vuln-list-update/312-main.json", root / "a.json")
    path = root / "db.sqlite"
    import_feed(path, root)
    return VulnDB.open(path)


def run(db: VulnDB, matcher: Matcher, package: Package, os_info: OSInfo | None = None
        ) -> list[Match]:
    eco = matcher.ecosystem(package, os_info)
    assert eco is not None
    name = matcher.lookup_name(package)
    rows = next(iter(db.affected(eco, [name]).values()), [])
    return list(matcher.match(package, eco, rows).matches)


def ids(matches: list[Match]) -> set[str]:
    return {m.advisory_id for m in matches}


@pytest.mark.parametrize("version", ["2.2.0", "2.3.0", "2.30.0", "2.31.0", "2.32.3"])
def test_pypi_requests_pysec_2023_74(db: VulnDB, version: str) -> None:
    expected = Version("2.3.0") <= Version(version) < Version("2.31.0")  # record's ECOSYSTEM range
    found = run(db, OsvLanguageMatcher(), pkg("pypi", "Requests", version))
    assert ("PYSEC-2023-74" in ids(found)) == expected
    if expected:
        assert found[0].fixed_version == "2.31.0" and found[0].fix_state == "fixed"


@pytest.mark.parametrize("version", ["3.8.4", "3.8.5", "4.0.0", "4.0.1", "4.0.2", "3.0.0"])
def test_pypi_last_affected_aiohttp(db: VulnDB, version: str) -> None:
    v = Version(version)  # introduced 0 last_affected 3.8.4; introduced 4.0.1 last_affected 4.0.1
    in_ranges = v <= Version("3.8.4") or v == Version("4.0.1")
    found = run(db, OsvLanguageMatcher(), pkg("pypi", "aiohttp", version))
    hit = [m for m in found if m.advisory_id == "PYSEC-2023-120"]
    assert bool(hit) == in_ranges
    assert all(m.fix_state == "not-fixed" for m in hit)  # last_affected publishes no fix


def _node_lt(a: str, b: str) -> bool:
    root = subprocess.run(["npm", "root", "-g"], capture_output=True, text=True,
                          check=True).stdout.strip()
    js = f"process.exit(require('{root}/npm/node_modules/semver').lt('{a}','{b}')?0:1)"
    return subprocess.run(["node", "-e", js], check=False).returncode == 0


@pytest.mark.parametrize("version", ["1.3.1", "1.3.2", "2.0.0", "2.0.1", "1.0.0"])
def test_npm_unsorted_events_mixin_deep(db: VulnDB, version: str) -> None:
    # GHSA-fhjf-83wg-r2j9 lists introduced 0, introduced 2.0.0, fixed 2.0.1, fixed 1.3.2
    expected = _node_lt(version, "1.3.2") or (
        not _node_lt(version, "2.0.0") and _node_lt(version, "2.0.1"))
    found = run(db, OsvLanguageMatcher(), pkg("npm", "mixin-deep", version))
    assert ("GHSA-fhjf-83wg-r2j9" in ids(found)) == expected


@pytest.mark.parametrize(("version", "expected"), [
    ("v1.19.0", True), ("v1.19.1", False), ("v1.18.5", True), ("v1.18.6", False),
    ("v1.19.8", False),
])
def test_go_stdlib_semver_with_v_prefix(db: VulnDB, version: str, expected: bool) -> None:
    # GO-2022-0969 stdlib: introduced 0 fixed 1.18.6; introduced 1.19.0-0 fixed 1.19.1
    found = run(db, OsvLanguageMatcher(), pkg("golang", "stdlib", version))
    assert ("GO-2022-0969" in ids(found)) == expected


@pytest.mark.parametrize(("version", "expected", "fix"), [
    ("12.10.1", True, "12.10.2"), ("12.10.2", False, None), ("12.5", True, "12.6.7"),
    ("11.10.12", True, "11.10.13"), ("11.6", False, None), ("13.0", False, None),
])
def test_maven_group_artifact(db: VulnDB, version: str, expected: bool, fix: str | None) -> None:
    package = pkg("maven", "xwiki-commons-core", version, namespace="org.xwiki.commons")
    found = run(db, OsvLanguageMatcher(), package)
    assert ("GHSA-76mp-659p-rw65" in ids(found)) == expected
    if expected:
        assert found[0].fixed_version == fix


@pytest.mark.parametrize(("version", "expected"), [
    ("3.0.20", True), ("3.0.21", False), ("4.0.0", False), ("4.0.1", True), ("4.0.5", False),
])
def test_gem_passenger(db: VulnDB, version: str, expected: bool) -> None:
    found = run(db, OsvLanguageMatcher(), pkg("gem", "passenger", version))
    assert ("GHSA-9qj7-jvg4-qr2x" in ids(found)) == expected


@pytest.mark.parametrize(("version", "expected"), [
    ("0.6.3", True), ("0.6.13", True), ("0.6.14", False), ("1.6.0", True), ("1.6.1", False),
])
def test_cargo_smallvec_semver(db: VulnDB, version: str, expected: bool) -> None:
    found = run(db, OsvLanguageMatcher(), pkg("cargo", "smallvec", version))
    assert ("RUSTSEC-2021-0003" in ids(found)) == expected


def test_versions_list_only_record(db: VulnDB) -> None:
    listed = run(db, OsvLanguageMatcher(), pkg("gem", "paranoid2", "1.1.5"))
    # GHSA-4g4c-8gqh-m4vm has no ranges, only versions: take the listed one from the record
    assert ids(listed) <= {"GHSA-4g4c-8gqh-m4vm"}


def test_withdrawn_record_never_matches(db: VulnDB) -> None:
    found = run(db, OsvLanguageMatcher(), pkg("gem", "activesupport", "4.2.1"))
    assert "GHSA-35c4-f3rq-f9g3" not in ids(found)


UBUNTU = OSInfo(id="ubuntu", version_id="22.04", codename="jammy", pretty_name="Ubuntu 22.04")


def _dpkg_lt(a: str, b: str) -> bool:
    return subprocess.run(["dpkg", "--compare-versions", a, "lt", b], check=False).returncode == 0


@pytest.mark.parametrize("version", ["1.20.0-1", "1.20.0-1ubuntu0.1", "1.20.0-1ubuntu0.2"])
def test_ubuntu_by_source_package(db: VulnDB, version: str) -> None:
    fixed = "1.20.0-1ubuntu0.1"  # UBUNTU-CVE-2021-3782 and USN-5614-1, Ubuntu:22.04:LTS
    package = Package("libwayland-client0", version, "deb", "pkg:deb/ubuntu/x", "dpkg", LOC,
                      source_name="wayland", source_version=version)
    found = run(db, UbuntuMatcher(), package, UBUNTU)
    assert bool(found) == _dpkg_lt(version, fixed)
    if found:
        assert ids(found) == {"UBUNTU-CVE-2021-3782", "USN-5614-1"}
        assert {m.fixed_version for m in found} == {fixed}


def test_ubuntu_pro_fixes_are_not_public(db: VulnDB) -> None:
    xenial = OSInfo(id="ubuntu", version_id="16.04", codename="xenial", pretty_name="x")
    package = Package("libwayland-client0", "1.12.0-1~ubuntu16.04.3", "deb", "p", "dpkg", LOC,
                      source_name="wayland")
    assert run(db, UbuntuMatcher(), package, xenial) == []  # only Ubuntu:Pro:16.04 lists it


ALPINE = OSInfo(id="alpine", version_id="3.12.3", codename=None, pretty_name="Alpine 3.12")


def test_alpine_secdb_real_rows(db: VulnDB) -> None:
    # 312-main.json: ansible secfixes {"2.7.9-r0": ["CVE-2018-16876"], "2.8.0-r0": {}}
    matcher = AlpineMatcher()
    older = run(db, matcher, pkg("apk", "ansible", "2.7.8-r0", source="ansible"), ALPINE)
    assert ids(older) == {"CVE-2018-16876"}
    assert (older[0].fix_state, older[0].fixed_version) == ("fixed", "2.7.9-r0")
    same = run(db, matcher, pkg("apk", "ansible", "2.7.9-r0", source="ansible"), ALPINE)
    assert same == []
    edge_of_release = run(db, matcher, pkg("apk", "ansible", "2.7.9_rc1-r0", source="ansible"),
                          ALPINE)  # apk orders _rc before the release
    assert ids(edge_of_release) == {"CVE-2018-16876"}
