"""Red Hat family images end to end: real feed samples, real rpm databases, rpm as the oracle.

Each test image is a root filesystem with an os-release of the distribution and an rpm database
written by the real ``rpm`` (``rpm -i --justdb`` of packages built by ``rpmbuild`` with NEVRAs the
feed samples name). The expected findings are worked out here from the sample files themselves
(stdlib JSON/XML reading) and the real rpm's ``rpm.vercmp``; never from imagetrust's output.
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import xml.etree.ElementTree as ET  # noqa: S405 - the test's own trusted samples
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from imagetrust.cli.main import main
from tests.support.pkgdb import RpmSpec, build_rpms, install_justdb, rpm_query_all

pytestmark = pytest.mark.skipif(
    shutil.which("rpmbuild") is None, reason="needs rpmbuild (Debian package rpm)"
)

FEEDS = Path(__file__).resolve().parents[1] / "data" / "feeds"
Expected = set[tuple[str, str, str | None]]  # (package, advisory, fixed version)


def vercmp(a: str, b: str) -> int:
    """The oracle: rpm's own comparison of two [epoch:]version-release strings."""
    out = subprocess.run(
        ["rpm", "--eval", f'%{{lua:print(rpm.vercmp("{a}", "{b}"))}}'],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    return int(out)


def rootfs(where: Path, os_release: str, specs: list[RpmSpec]) -> tuple[Path, list[dict[str, str]]]:
    """A root filesystem with ``os_release`` and an rpm database of ``specs``; rpm's ``-qa``."""
    root = where / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text(os_release)
    (where / "build").mkdir()
    rpms = build_rpms(where / "build", specs)
    dbpath = root / "var/lib/rpm"
    install_justdb(dbpath, rpms)
    return root, rpm_query_all(dbpath)


def evr(row: dict[str, str]) -> str:
    epoch = row["epoch"] if row["epoch"] not in ("(none)", "") else None
    text = f"{row['version']}-{row['release']}"
    return f"{epoch}:{text}" if epoch else text


def scan(root: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    capsys.readouterr()
    code = main(["cves", "--format", "json", "--offline", f"dir:{root}"])
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    document: dict[str, Any] = json.loads(out)
    return document


def found(document: dict[str, Any]) -> Expected:
    """(package, advisory, fixed version) per finding; the advisory is the vendor's id (ALAS,
    ELSA, ALSA, RLSA) when the finding names one among its aliases, else the finding's id."""
    rows: Expected = set()
    for finding in document["findings"]:
        ids = [finding["id"], *finding.get("aliases", [])]
        vendor = [i for i in ids if i.split("-")[0] in ("ALAS", "ALAS2", "ALAS2023", "ELSA")
                  or i.startswith(("ALSA", "RLSA"))]
        rows.add((finding["package"]["name"], vendor[0] if vendor else finding["id"],
                  finding.get("fixed_version")))
    return rows


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "vuln.sqlite"
    monkeypatch.setenv("IMAGETRUST_DB", str(db))
    samples = tmp_path / "samples"
    shutil.copytree(FEEDS, samples, ignore=shutil.ignore_patterns("*.md"))
    assert main(["db", "import", str(samples)]) == 0
    return db


def os_release(os_id: str, version_id: str, name: str) -> str:
    return f'NAME="{name}"\nID="{os_id}"\nVERSION_ID="{version_id}"\nPRETTY_NAME="{name}"\n'


def lowest(fixes: Iterable[str]) -> str | None:
    best: str | None = None
    for fix in fixes:
        if best is None or vercmp(fix, best) < 0:
            best = fix
    return best


# --- Red Hat -----------------------------------------------------------------------------------

def streams(branches: list[dict[str, Any]], release: str) -> set[str]:
    """Product ids whose CPE is main-line RHEL ``release``."""
    found: set[str] = set()
    for branch in branches:
        product = branch.get("product") or {}
        cpe = (product.get("product_identification_helper") or {}).get("cpe", "")
        if cpe.split(":")[2:5] == ["redhat", "enterprise_linux", release]:
            found.add(product["product_id"])
        found |= streams(branch.get("branches") or [], release)
    return found


def redhat_fixes(release: str, source: str, cve: str) -> list[str]:
    """Fixed source EVRs of ``source`` for ``cve`` in the main-line RHEL ``release`` streams."""
    fixes = []
    for path in sorted((FEEDS / "redhat").glob("*.json")):
        doc = json.loads(path.read_text())
        mainline = streams(doc["product_tree"]["branches"], release)
        refs = {
            r["full_product_name"]["product_id"]: r["product_reference"]
            for r in doc["product_tree"]["relationships"]
            if r["relates_to_product_reference"] in mainline
        }
        for vuln in doc["vulnerabilities"]:
            if vuln["cve"] != cve:
                continue
            for pid in vuln.get("product_status", {}).get("fixed", []):
                ref = refs.get(pid, "")
                prefix = f"{source}-0:"
                if ref.startswith(prefix) and ref.endswith(".src"):
                    fixes.append(ref[len(prefix):-len(".src")])
    return fixes


def test_rhel9_image(database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root, installed = rootfs(
        tmp_path, os_release("rhel", "9.4", "Red Hat Enterprise Linux 9.4 (Plow)"),
        [RpmSpec("python3.9", "3.9.18", "3.el9_4.4", subpackages=("python3", "python3-libs"),
                 build_arch="x86_64"),
         RpmSpec("wireshark", "3.4.10", "7.el9", build_arch="x86_64")],
    )
    fixes = redhat_fixes("9", "python3.9", "CVE-2024-8088")
    assert len(set(fixes)) == 2  # RHSA-2024:6163 (9.4 z-stream) and RHSA-2024:9371 (9.5)
    fix = lowest(fixes)
    assert fix is not None
    expected: Expected = set()
    for row in installed:
        if row["sourcerpm"].startswith("python3.9-") and vercmp(evr(row), fix) < 0:
            expected.add((row["name"], "CVE-2024-8088", fix))
    assert len(expected) == 3
    document = scan(root, capsys)
    assert found(document) == expected  # wireshark: known_not_affected on RHEL 9
    states = {f["fix_state"] for f in document["findings"]}
    assert states == {"fixed"}
    assert not document["coverage"]["gaps"]


def test_rhel9_image_at_the_fix_is_clean(
    database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fix = lowest(redhat_fixes("9", "python3.9", "CVE-2024-8088"))
    assert fix == "3.9.18-3.el9_4.5"
    version, release = fix.split("-")
    root, installed = rootfs(
        tmp_path, os_release("rhel", "9.4", "Red Hat Enterprise Linux 9.4 (Plow)"),
        [RpmSpec("python3.9", version, release, subpackages=("python3",), build_arch="x86_64")],
    )
    assert all(vercmp(evr(r), fix) >= 0 for r in installed)
    document = scan(root, capsys)
    assert document["findings"] == []
    assert not document["coverage"]["gaps"]


def test_rhel_release_without_data_is_a_gap(
    database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No sample names a RHEL 10 stream (the samples' CPEs say so), so RHEL 10 is not covered;
    RHEL 8 is, though only through the wireshark VEX's not-affected verdict."""
    cpes = " ".join(p.read_text() for p in (FEEDS / "redhat").glob("*.json"))
    assert "enterprise_linux:10" not in cpes and "enterprise_linux:8" in cpes
    root, _ = rootfs(tmp_path, os_release("rhel", "10.0", "Red Hat Enterprise Linux 10.0"),
                     [RpmSpec("python3", "3.12.5", "2.el10", build_arch="x86_64")])
    document = scan(root, capsys)
    assert document["findings"] == []
    gaps = document["coverage"]["gaps"]
    assert [g["what"] for g in gaps] == ["package(s) of redhat:10"]


# --- Oracle Linux ------------------------------------------------------------------------------

OVAL = "{http://oval.mitre.org/XMLSchema/oval-definitions-5}"


def elsa_fixes(platform: str, arch: str) -> dict[tuple[str, str], list[str]]:
    """(package, ELSA) → fixed EVRs under ``Oracle Linux arch is <arch>`` of ``platform``."""
    tree = ET.parse(FEEDS / "oracle/elsa-per-arch.xml")  # noqa: S314 - trusted sample
    out: dict[tuple[str, str], list[str]] = {}
    for definition in tree.getroot().iter(f"{OVAL}definition"):
        if definition.findtext(f".//{OVAL}platform") != platform:
            continue
        elsa = next(r.get("ref_id") for r in definition.iter(f"{OVAL}reference")
                    if r.get("source") == "elsa")
        for scope in definition.iter(f"{OVAL}criteria"):
            comments = [c.get("comment", "") for c in scope.findall(f"{OVAL}criterion")]
            if f"Oracle Linux arch is {arch}" not in comments:
                continue
            for criterion in scope.iter(f"{OVAL}criterion"):
                words = criterion.get("comment", "").split(" is earlier than ")
                if len(words) == 2:
                    out.setdefault((words[0], elsa), []).append(words[1].removeprefix("0:"))
    return out


def test_oracle7_image(database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root, installed = rootfs(
        tmp_path, os_release("ol", "7.9", "Oracle Linux Server 7.9"),
        [RpmSpec("rsyslog", "8.24.0", "57.el7_9.2", build_arch="x86_64",
                 subpackages=("rsyslog-gnutls",)),
         RpmSpec("rsyslog-mysql", "8.24.0", "57.0.2.el7_9.3", build_arch="x86_64")],
    )
    fixes = elsa_fixes("Oracle Linux 7", "x86_64")
    expected: Expected = set()
    for row in installed:
        for (name, elsa), evrs in fixes.items():
            fix = lowest(evrs)
            if name == row["name"] and fix and vercmp(evr(row), fix) < 0:
                expected.add((name, elsa, fix))
    # rsyslog-mysql 57.0.2 carries the x86_64 fix (57.0.1) though not the aarch64 one (57.0.4)
    assert {e[0] for e in expected} == {"rsyslog", "rsyslog-gnutls"}
    assert found(scan(root, capsys)) == expected


# --- Amazon Linux ------------------------------------------------------------------------------

def alas_fixes(sample: str, collection: str) -> dict[tuple[str, str], str]:
    root = ET.fromstring(gzip.decompress((FEEDS / "amazon" / sample).read_bytes()))  # noqa: S314
    out = {}
    for update in root.iter("update"):
        for coll in update.iter("collection"):
            if coll.get("short") != collection:
                continue
            for pkg in coll.iter("package"):
                epoch = pkg.get("epoch", "0")
                text = f"{pkg.get('version')}-{pkg.get('release')}"
                out[(pkg.get("name", ""), update.findtext("id", ""))] = \
                    text if epoch == "0" else f"{epoch}:{text}"
    return out


@pytest.mark.parametrize(
    ("version_id", "sample", "collection", "specs"),
    [
        ("2", "updateinfo_2_items.xml.gz", "amazon-linux-2", [
            RpmSpec("qemu-kvm", "1.5.3", "141.amzn2.5.2", epoch=10, build_arch="x86_64"),
            RpmSpec("qemu-img", "1.5.3", "141.amzn2.5.3", epoch=10, build_arch="x86_64"),
            # a higher version without the epoch is still older than 10:1.5.3
            RpmSpec("qemu-kvm-common", "2.0", "1.amzn2", build_arch="x86_64"),
        ]),
        ("2023", "updateinfo_AL2023.xml.gz", "amazon-linux-2023", [
            RpmSpec("rsyslog", "8.2204.0", "2.amzn2023.0.1", build_arch="x86_64"),
            RpmSpec("rsyslog-gnutls", "8.2204.0", "3.amzn2023.0.2", build_arch="x86_64"),
        ]),
    ],
)
def test_amazon_images(
    database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    version_id: str, sample: str, collection: str, specs: list[RpmSpec],
) -> None:
    root, installed = rootfs(tmp_path, os_release("amzn", version_id, "Amazon Linux"), specs)
    fixes = alas_fixes(sample, collection)
    expected: Expected = {
        (name, alas, fix)
        for row in installed
        for (name, alas), fix in fixes.items()
        if name == row["name"] and vercmp(evr(row), fix) < 0
    }
    assert expected  # each image has at least one vulnerable package
    assert len(expected) < len(installed)  # and at least one fixed one
    assert found(scan(root, capsys)) == expected


# --- AlmaLinux and Rocky Linux (OSV) ----------------------------------------------------------

def osv_fixes(folder: str, ecosystem: str) -> dict[tuple[str, str], str]:
    out = {}
    for path in sorted((FEEDS / folder).glob("*.json")):
        record = json.loads(path.read_text())
        for affected in record["affected"]:
            if affected["package"]["ecosystem"] != ecosystem:
                continue
            for rng in affected["ranges"]:
                for event in rng["events"]:
                    if "fixed" in event:
                        out[(affected["package"]["name"], record["id"])] = event["fixed"]
    return out


@pytest.mark.parametrize(
    ("os_id", "folder", "ecosystem", "specs"),
    [
        ("almalinux", "almalinux", "AlmaLinux:9", [
            RpmSpec("avahi", "0.8", "19.el9", build_arch="x86_64", subpackages=("avahi-libs",)),
            RpmSpec("libtiff", "4.4.0", "2.el9", build_arch="x86_64"),
        ]),
        ("rocky", "rocky", "Rocky Linux:9", [
            RpmSpec("ruby", "3.3.1", "1.module+el9.4.0+20000+4c237fd3", build_arch="x86_64"),
            RpmSpec("rubygem-pg", "1.5.4", "1.module+el9.4.0+20787+4c237fd3",
                    build_arch="x86_64"),
        ]),
    ],
)
def test_osv_rpm_images(
    database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    os_id: str, folder: str, ecosystem: str, specs: list[RpmSpec],
) -> None:
    root, installed = rootfs(tmp_path, os_release(os_id, "9.4", ecosystem), specs)
    fixes = osv_fixes(folder, ecosystem)
    expected: Expected = {
        (name, advisory, fix)
        for row in installed
        for (name, advisory), fix in fixes.items()
        if name == row["name"] and vercmp(evr(row), fix) < 0
    }
    assert expected
    assert len(expected) < len(installed)
    assert found(scan(root, capsys)) == expected


def test_fedora_is_covered_by_bodhi(
    database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Fedora 40 has Bodhi samples (tests/match/test_fedora.py): a package no update names is
    judged clean, not reported as a gap."""
    root, _ = rootfs(tmp_path, os_release("fedora", "40", "Fedora Linux 40"),
                     [RpmSpec("bash", "5.2.26", "3.fc40", build_arch="x86_64")])
    document = scan(root, capsys)
    assert document["findings"] == []
    assert not document["coverage"]["gaps"]
