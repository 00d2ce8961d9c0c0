"""Coverage is not cleanliness: what the database cannot judge never reads as a pass.

The root filesystems here are written by the test: a real dpkg status for two packages whose
source ``apparmor`` the real Debian tracker sample lists (for bookworm … trixie, sid), under an
os-release the sample has no data for (Debian 14 "forky") or has data for (bookworm). So the
expected coverage follows from the sample's own release list, read in the test.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from imagetrust.cli.main import main
from tests.support.schemas import validate

TRACKER = "debian/osvdev-debian_security_tracker_mock.json"
STATUS = """Package: apparmor
Status: install ok installed
Priority: optional
Section: admin
Maintainer: Debian AppArmor Team <pkg-apparmor-team@lists.alioth.debian.org>
Architecture: amd64
Version: 3.0.8-3
Description: user-space parser utility for AppArmor

Package: libapparmor1
Status: install ok installed
Priority: optional
Section: libs
Maintainer: Debian AppArmor Team <pkg-apparmor-team@lists.alioth.debian.org>
Architecture: amd64
Source: apparmor
Version: 3.0.8-3
Description: changehat AppArmor library

"""


def rootfs(where: Path, version_id: str, codename: str, *, broken_python: bool = False) -> Path:
    (where / "etc").mkdir(parents=True)
    (where / "etc/os-release").write_text(
        f'PRETTY_NAME="Debian GNU/Linux {version_id} ({codename})"\nNAME="Debian GNU/Linux"\n'
        f'VERSION_ID="{version_id}"\nVERSION_CODENAME={codename}\nID=debian\n'
    )
    (where / "var/lib/dpkg").mkdir(parents=True)
    (where / "var/lib/dpkg/status").write_text(STATUS)
    if broken_python:
        meta = where / "usr/lib/python3/dist-packages/broken-1.0.dist-info"
        meta.mkdir(parents=True)
        (meta / "METADATA").write_text("Metadata-Version: 2.1\nSummary: no name, no version\n")
    return where


@pytest.fixture
def database(test_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "vuln.sqlite"
    monkeypatch.setenv("IMAGETRUST_DB", str(db))
    assert main(["db", "import", str(test_data / TRACKER)]) == 0
    return db


def releases(test_data: Path) -> set[str]:
    data = json.loads((test_data / TRACKER).read_text())
    return set(data["apparmor"]["CVE-2017-6507"]["releases"])


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    code = main(list(args))
    out, err = capsys.readouterr()
    assert code == 0, err
    document: dict[str, Any] = json.loads(out)
    return document


def test_a_release_without_data_is_not_covered_never_clean(
    database: Path, test_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "forky" not in releases(test_data)
    target = f"dir:{rootfs(tmp_path / 'forky', '14', 'forky')}"
    cves = run_json(capsys, "cves", "--format", "json", "--offline", target)
    validate("cves", cves)
    assert cves["findings"] == []
    assert cves["coverage"]["state"] == "none"
    assert cves["coverage"]["judged_packages"] == 0
    assert "debian:forky" in json.dumps(cves["coverage"]["gaps"])

    check = run_json(capsys, "check", "--format", "json", "--offline", target)
    validate("check", check)
    vulns = next(e for e in check["evidence"] if e["signal"] == "vulnerabilities")
    assert vulns["outcome"] == "unknown"
    assert vulns["details"]["coverage"] == "none"
    assert vulns["summary"].startswith("not covered:")
    assert "not-covered" in check["rules"] or check["level"] in ("unknown", "needs-attention")
    assert check["level"] != "trusted"


def test_a_covered_release_with_a_skipped_file_is_partial(
    database: Path, test_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "bookworm" in releases(test_data)
    target = f"dir:{rootfs(tmp_path / 'bookworm', '12', 'bookworm', broken_python=True)}"
    cves = run_json(capsys, "cves", "--format", "json", "--offline", target)
    validate("cves", cves)
    assert cves["coverage"]["state"] == "partial"
    assert cves["coverage"]["judged_packages"] == 2
    assert [g["what"] for g in cves["coverage"]["gaps"]] == ["file(s)"]
    assert cves["image"]["source"] == {"origin": "rootfs", "path": str(tmp_path / "bookworm")}


def test_full_coverage_when_every_package_is_judged(
    database: Path, test_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = f"dir:{rootfs(tmp_path / 'bookworm', '12', 'bookworm')}"
    cves = run_json(capsys, "cves", "--format", "json", "--offline", target)
    assert cves["coverage"] == {
        "state": "full", "judged_packages": 2, "reason": "all 2 packages judged", "gaps": [],
    }
    # bookworm's apparmor rows are in the sample: at least one is open for 3.0.8-3 or fixed
    # later; whichever, the findings come from real rows, and the scan judged them.
    assert {f["package"]["source_name"] for f in cves["findings"]} <= {"apparmor"}
