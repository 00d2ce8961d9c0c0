"""Fedora images end to end: real Bodhi update samples, a real rpm database, rpm as the oracle.

The samples are imported with ``imagetrust db import``; the image is a root filesystem with a
Fedora os-release and an rpm database written by the real ``rpm``. Expected findings come from
the sample JSON read here with the standard library and rpm's own ``rpm.vercmp``.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from imagetrust.cli.main import main
from tests.match.test_rpm_distros import Expected, evr, os_release, rootfs, scan, vercmp
from tests.support.feedserver import serve
from tests.support.pkgdb import RpmSpec

pytestmark = pytest.mark.skipif(
    shutil.which("rpmbuild") is None, reason="needs rpmbuild (Debian package rpm)"
)

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "feeds" / "fedora"


def updates() -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(SAMPLES.glob("FEDORA-*.json"))]


def fixes(release: str) -> dict[str, tuple[str, str, set[str]]]:
    """Source name → (update alias, fixed EVR, CVEs) from the samples' builds of ``release``."""
    out: dict[str, tuple[str, str, set[str]]] = {}
    for update in updates():
        if update["release"]["version"] != release:
            continue
        words = " ".join([update["display_name"], update["title"], update["notes"],
                          *(b["title"] for b in update["bugs"])])
        cves = set(re.findall(r"CVE-\d{4}-\d+", words))
        for build in update["builds"]:
            name, version, rel = build["nvr"].rsplit("-", 2)
            fix = f"{version}-{rel}"
            if build["epoch"]:
                fix = f"{build['epoch']}:{fix}"
            out[name] = (update["alias"], fix, cves)
    return out


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "vuln.sqlite"
    monkeypatch.setenv("IMAGETRUST_DB", str(db))
    samples = tmp_path / "samples"
    shutil.copytree(SAMPLES, samples, ignore=shutil.ignore_patterns("*.md"))
    assert main(["db", "import", str(samples)]) == 0
    return db


def found(document: dict[str, Any]) -> Expected:
    rows: Expected = set()
    for finding in document["findings"]:
        ids = [finding["id"], *finding.get("aliases", [])]
        update = [i for i in ids if i.startswith("FEDORA-")]
        rows.add((finding["package"]["name"], update[0] if update else finding["id"],
                  finding.get("fixed_version")))
    return rows


def test_fedora40_image(database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    known = fixes("40")
    assert len(known) == 4
    # below the fix: libxml2 (two CVEs), java-17-openjdk (same version, epoch 0 < 1), expat
    # (older release); at the fix: python3-docs; not in any update: bash
    root, installed = rootfs(tmp_path, os_release("fedora", "40", "Fedora Linux 40"), [
        RpmSpec("libxml2", "2.12.8", "1.fc40", subpackages=("libxml2-devel",),
                build_arch="x86_64"),
        RpmSpec("java-17-openjdk", "17.0.14.0.7", "1.fc40", build_arch="x86_64"),
        RpmSpec("expat", "2.7.0", "0.fc40", build_arch="x86_64"),
        RpmSpec("python3-docs", "3.12.9", "1.fc40"),
        RpmSpec("bash", "5.2.26", "3.fc40", build_arch="x86_64"),
    ])
    expected: Expected = set()
    cves: dict[str, set[str]] = {}
    for row in installed:
        source = row["sourcerpm"].rsplit("-", 2)[0]
        if source in known:
            alias, fix, named = known[source]
            if vercmp(evr(row), fix) < 0:
                expected.add((row["name"], alias, fix))
                cves.setdefault(row["name"], set()).update(named)
    assert {name for name, _, _ in expected} == {
        "libxml2", "libxml2-devel", "java-17-openjdk", "expat"}
    document = scan(root, capsys)
    assert found(document) == expected
    assert {f["fix_state"] for f in document["findings"]} == {"fixed"}
    for finding in document["findings"]:
        ids = {finding["id"], *finding.get("aliases", [])}
        assert cves[finding["package"]["name"]] <= ids
    assert not document["coverage"]["gaps"]


def test_fedora_release_without_data_is_a_gap(
    database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A mirror's Fedora 41 file without any update (the samples name only 40): the release is
    stored but holds no rows, so its packages are a coverage gap, not clean."""
    assert {u["release"]["version"] for u in updates()} == {"40"}
    mirror = tmp_path / "mirror"
    (mirror / "fedora-bodhi").mkdir(parents=True)
    (mirror / "fedora-bodhi/41.json").write_text('{"updates": []}')
    with serve(mirror) as server:
        monkeypatch.setenv("IMAGETRUST_FEED_URLS", f"fedora-bodhi={server.url}/fedora-bodhi")
        assert main(["db", "update", "--feed", "fedora-bodhi/41"]) == 0
    root, _ = rootfs(tmp_path, os_release("fedora", "41", "Fedora Linux 41"),
                     [RpmSpec("libxml2", "2.12.8", "1.fc41", build_arch="x86_64")])
    document = scan(root, capsys)
    assert document["findings"] == []
    assert [g["what"] for g in document["coverage"]["gaps"]] == ["package(s) of fedora:41"]


def test_fedora_release_missing_offline_is_an_error(
    database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Offline, a release never imported is not silently clean: the scan refuses."""
    root, _ = rootfs(tmp_path, os_release("fedora", "42", "Fedora Linux 42"),
                     [RpmSpec("libxml2", "2.12.8", "1.fc42", build_arch="x86_64")])
    capsys.readouterr()
    code = main(["cves", "--format", "json", "--offline", f"dir:{root}"])
    out, err = capsys.readouterr()
    assert code != 0 and out == ""
    assert "lacks feed(s) fedora-bodhi/42" in err
