"""Photon OS, Wolfi and Chainguard end to end: real feed samples through ``imagetrust db import``,
test root filesystems (an rpm database written by the real ``rpm``, an apk ``installed`` file),
then ``imagetrust cves --format json --offline dir:ROOT``.

The expected findings are computed here from the feed files themselves, by an oracle that applies
each distribution's documented rule with its own comparison: ``rpm.vercmp`` run by the real rpm
for Photon, apk ordering (imagetrust.versions.apk, checked against apk-tools' own test data
elsewhere) for the secdb distributions.  Nothing is copied from imagetrust's output.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

import imagetrust.cli.cves_cmd  # noqa: F401  - registers the command
import imagetrust.cli.db_cmd  # noqa: F401
from imagetrust import versions
from imagetrust.catalog.apk import INSTALLED_PATH
from imagetrust.cli.main import main
from tests.support.pkgdb import ApkListing, RpmSpec, build_apk_installed, build_rpms, install_justdb

FEEDS = Path(__file__).resolve().parents[1] / "data" / "feeds"
needs_rpm = pytest.mark.skipif(
    shutil.which("rpmbuild") is None or shutil.which("rpm") is None,
    reason="needs rpm and rpmbuild (Debian package rpm)",
)

Finding = tuple[str, str, str, str | None]  # package, id, fix state, fixed version


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def import_feed(capsys: pytest.CaptureFixture[str], db: Path, path: Path, *extra: str) -> None:
    code, _, err = run(capsys, "db", "import", str(path), "--db", str(db), *extra)
    assert code == 0, err


def scan(capsys: pytest.CaptureFixture[str], db: Path, root: Path) -> dict[str, Any]:
    code, out, err = run(capsys, "cves", f"dir:{root}", "--format", "json", "--offline",
                         "--db", str(db), "-q")
    assert code == 0, err
    doc: dict[str, Any] = json.loads(out)
    return doc


def found(doc: dict[str, Any]) -> set[Finding]:
    return {(f["package"]["name"], f["id"], f["fix_state"], f["fixed_version"])
            for f in doc["findings"]}


# --- Photon -------------------------------------------------------------------------------------

def rpm_vercmp(a: str, b: str) -> int:
    """The real rpm's ordering (rpmvercmp over epoch:version-release)."""
    out = subprocess.run(
        ["rpm", "--eval", f'%{{lua: print(rpm.vercmp("{a}", "{b}"))}}'],
        check=True, capture_output=True, text=True,
    ).stdout
    return int(out.strip())


# Real Photon 3.0 package names from the sample; versions on both sides of its fixes.
PHOTON_SPECS = [
    RpmSpec("ansible", "2.7.6", "1.ph3"),  # before the fix of CVE-2019-3828
    RpmSpec("apache-tomcat", "8.5.40", "1.ph3"),  # exactly one fix in, one still ahead
    RpmSpec("binutils", "2.31.1", "3.ph3", build_arch="x86_64"),  # at the fix
    RpmSpec("curl", "7.61.1", "1.ph3", build_arch="x86_64", subpackages=("curl-libs",)),
]


def photon_oracle(feed: Path, installed: list[tuple[str, str, str]]) -> set[Finding]:
    """(binary, source name, source version-release) → findings, by Photon's stated rule:
    ``all versions before res_ver are vulnerable``; ``Not Affected`` is none."""
    expected: set[Finding] = set()
    entries = json.loads(feed.read_text())
    for binary, source, version in installed:
        for entry in entries:
            if entry["pkg"] != source or entry.get("status") == "Not Affected":
                continue
            fixed = entry["res_ver"]
            if fixed == "NA":
                expected.add((binary, entry["cve_id"], "not-fixed", None))
            elif rpm_vercmp(version, fixed) < 0:
                expected.add((binary, entry["cve_id"], "fixed", fixed))
    return expected


def rpm_root(tmp: Path, os_release: str, specs: list[RpmSpec]) -> Path:
    root = tmp / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text(os_release)
    (tmp / "build").mkdir()
    install_justdb(root / "var/lib/rpm", build_rpms(tmp / "build", specs))
    return root


@needs_rpm
def test_photon_findings_match_the_rpm_oracle(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "vuln.sqlite"
    for release in ("1.0", "2.0", "3.0"):
        import_feed(capsys, db, FEEDS / "photon" / f"cve_data_photon{release}.json")
    root = rpm_root(tmp_path, 'NAME="VMware Photon OS"\nVERSION="3.0"\nID=photon\n'
                    'VERSION_ID=3.0\nPRETTY_NAME="VMware Photon OS/Linux"\n', PHOTON_SPECS)
    rows = subprocess.run(
        ["rpm", "--dbpath", str(root / "var/lib/rpm"), "-qa", "--qf",
         "%{NAME}\t%{SOURCERPM}\t%{VERSION}-%{RELEASE}\n"],
        check=True, capture_output=True, text=True,
    ).stdout.splitlines()
    installed = []
    for row in rows:
        name, sourcerpm, evr = row.split("\t")
        installed.append((name, sourcerpm.removesuffix(".src.rpm").rsplit("-", 2)[0], evr))
    expected = photon_oracle(FEEDS / "photon/cve_data_photon3.0.json", installed)
    # the sample must exercise each outcome: a fix ahead, a fix reached, Not Affected
    assert {("ansible", "CVE-2019-3828"), ("apache-tomcat", "CVE-2019-10072")} <= {
        (p, c) for p, c, _, _ in expected}
    assert not any(c in ("CVE-2019-0199", "CVE-2017-16826", "CVE-2025-0725")
                   for _, c, _, _ in expected)

    doc = scan(capsys, db, root)
    assert doc["image"]["os"]["id"] == "photon"
    assert found(doc) == expected
    assert doc["coverage"]["state"] == "full"
    # releases never mix: Photon 2.0's ansible fixes are not applied to a 3.0 image
    assert "CVE-2018-16876" not in {f["id"] for f in doc["findings"]}


@needs_rpm
def test_a_photon_release_without_data_is_not_covered(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "vuln.sqlite"
    empty = tmp_path / "cve_data_photon4.0.json"
    empty.write_text("[]")
    import_feed(capsys, db, FEEDS / "photon/cve_data_photon3.0.json")
    import_feed(capsys, db, empty, "--feed", "photon-cve")
    root = rpm_root(tmp_path, "ID=photon\nVERSION_ID=4.0\n", PHOTON_SPECS[:1])
    doc = scan(capsys, db, root)
    assert doc["findings"] == []
    assert doc["coverage"]["state"] != "full"
    assert any("photon:4.0" in gap["what"] for gap in doc["coverage"]["gaps"])


@needs_rpm
def test_a_photon_release_never_imported_is_an_error_offline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "vuln.sqlite"
    import_feed(capsys, db, FEEDS / "photon/cve_data_photon3.0.json")
    root = rpm_root(tmp_path, "ID=photon\nVERSION_ID=5.0\n", PHOTON_SPECS[:1])
    code, _, err = run(capsys, "cves", f"dir:{root}", "--format", "json", "--offline",
                       "--db", str(db))
    assert code == 1
    assert "photon-cve/5.0" in err and "Traceback" not in err


# --- Wolfi and Chainguard -----------------------------------------------------------------------

def secdb_oracle(feed: Path, installed: list[tuple[str, str, str]]) -> set[Finding]:
    """(package, origin, version) → findings by the secdb rule: affected while older than the
    highest version whose secfixes name the id; an id under ``0`` never affected."""
    fixes: dict[tuple[str, str], list[str]] = {}
    for entry in json.loads(feed.read_text())["packages"]:
        for version, ids in entry["pkg"]["secfixes"].items():
            for vuln in ids:
                fixes.setdefault((entry["pkg"]["name"], vuln), []).append(version)
    expected: set[Finding] = set()
    for name, origin, version in installed:
        for (pkg, vuln), listed in fixes.items():
            if pkg != origin or "0" in listed:
                continue
            highest = max(listed, key=lambda v: versions.key("apk", v))
            if versions.compare("apk", version, highest) < 0:
                expected.add((name, vuln, "fixed", highest))
    return expected


def apk_root(tmp: Path, os_id: str, installed: list[tuple[str, str, str]]) -> Path:
    root = tmp / os_id
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text(
        f'ID={os_id}\nNAME="{os_id.title()}"\nPRETTY_NAME="{os_id.title()}"\n'
        'VERSION_ID="20230201"\n')
    listings = [ApkListing(name, version, "MIT") for name, origin, version in installed
                if name == origin]
    db = build_apk_installed(listings)
    for name, origin, version in installed:  # subpackages name their origin
        if name != origin:
            db += (f"P:{name}\nV:{version}\nA:x86_64\no:{origin}\nL:MIT\n\n").encode()
    (root / INSTALLED_PATH).parent.mkdir(parents=True)
    (root / INSTALLED_PATH).write_bytes(db)
    return root


# Packages of the samples, versions on both sides of their fixes.
WOLFI = [
    ("openssl", "openssl", "3.0.6-r0"),  # before 3.0.7-r0
    ("libcrypto3", "openssl", "3.0.6-r0"),  # subpackage: judged by origin openssl
    ("zlib", "zlib", "1.2.12-r1"),  # one fix in, the next ahead
    ("binutils", "binutils", "2.39-r3"),  # every fix in
    ("coreutils", "coreutils", "9.1-r0"),  # CVE-2016-2781 under "0": never affected
    ("apko", "apko", "0.8.0-r1"),  # mixed: "0" ids, fixes in and ahead
]
CHAINGUARD = [
    ("git", "git", "2.39.1-r0"),  # "0" id, fixes in, one ahead
    ("glibc", "glibc", "2.36-r0"),
    ("openssh", "openssh", "9.1_p1-r2"),  # _p suffix ordering before 9.2_p1-r0
]


@pytest.mark.parametrize(
    ("os_id", "feed", "installed"),
    [("wolfi", "wolfi-security.json", WOLFI), ("chainguard", "chainguard-security.json",
                                                 CHAINGUARD)],
)
def test_secdb_findings_match_the_apk_oracle(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], os_id: str, feed: str,
    installed: list[tuple[str, str, str]],
) -> None:
    db = tmp_path / "vuln.sqlite"
    import_feed(capsys, db, FEEDS / "wolfi/wolfi-security.json")
    import_feed(capsys, db, FEEDS / "wolfi/chainguard-security.json")
    expected = secdb_oracle(FEEDS / "wolfi" / feed, installed)
    assert any(state == "fixed" for _, _, state, _ in expected)
    doc = scan(capsys, db, apk_root(tmp_path, os_id, installed))
    assert doc["image"]["os"]["id"] == os_id
    assert found(doc) == expected
    assert doc["coverage"]["state"] == "full"


def test_a_secdb_naming_neither_distro_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = json.loads((FEEDS / "wolfi/wolfi-security.json").read_text())
    doc["urlprefix"], doc["reponame"] = "https://example.org", "extras"
    odd = tmp_path / "security.json"
    odd.write_text(json.dumps(doc))
    code, _, err = run(capsys, "db", "import", str(odd), "--db", str(tmp_path / "v.sqlite"))
    assert code == 1 and "Wolfi or Chainguard" in err and "Traceback" not in err
