"""SLES images end to end: SUSE's real OVAL sample, real rpm databases, rpm as the oracle.

The sample (tests/data/feeds/suse, from anchore/vunnel) is imported with ``imagetrust db import``;
each image is a root filesystem with a SLES os-release and an rpm database written by the real
``rpm`` from NEVRAs near the sample's fixes. Expected findings are worked out here from the XML
(stdlib reading: the tests' ``NAME is <EVR`` comments, the product criteria beside them) and
rpm's own ``rpm.vercmp``; never from imagetrust's output.
"""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET  # noqa: S405 - the test's own trusted sample
from pathlib import Path

import pytest

from imagetrust.cli.main import main
from tests.match.test_rpm_distros import (
    FEEDS,
    Expected,
    evr,
    found,
    lowest,
    os_release,
    rootfs,
    scan,
    vercmp,
)
from tests.support.pkgdb import RpmSpec

pytestmark = pytest.mark.skipif(
    shutil.which("rpmbuild") is None, reason="needs rpmbuild (Debian package rpm)"
)

SAMPLE = FEEDS / "suse/suse_truncated.xml"


def _release(product: str) -> str | None:
    """The oracle's own reading of a SLES 15 product criterion: GA or ``SP<n>``."""
    if not product.startswith("SUSE Linux Enterprise ") or " 15" not in product:
        return None
    sp = re.search(r" SP(\d+)", product)
    return f"15.{sp.group(1)}" if sp else "15"


def oval_fixes(release: str) -> dict[tuple[str, str], list[str]]:
    """(package, CVE) → fixed EVRs for SLES ``release`` in the sample."""
    root = ET.parse(SAMPLE).getroot()  # noqa: S314 - trusted sample
    comments = {t.get("id"): t.get("comment", "") for t in root.iter() if
                t.tag.endswith("rpminfo_test")}
    out: dict[tuple[str, str], list[str]] = {}
    for definition in root.iter():
        if not definition.tag.endswith("}definition"):
            continue
        cve = next(t.text for t in definition.iter() if t.tag.endswith("title"))
        for group in definition.iter():
            if not group.tag.endswith("criteria") or group.get("operator") != "AND":
                continue
            criteria = [c for c in group.iter() if c.tag.endswith("criterion")]
            products = {_release(c.get("comment", "").removesuffix(" is installed"))
                        for c in criteria}
            if release not in products:
                continue
            for criterion in criteria:
                said = comments.get(criterion.get("test_ref"), "").split(" is <")
                if len(said) == 2:
                    out.setdefault((said[0], cve or ""), []).append(said[1].split()[0])
    return out


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "vuln.sqlite"
    monkeypatch.setenv("IMAGETRUST_DB", str(db))
    samples = tmp_path / "samples"
    samples.mkdir()
    shutil.copy(SAMPLE, samples)
    assert main(["db", "import", str(samples)]) == 0
    return db


def expected_for(release: str, installed: list[dict[str, str]]) -> Expected:
    expected: Expected = set()
    for row in installed:
        for (name, cve), fixes in oval_fixes(release).items():
            fix = lowest(fixes)
            if name == row["name"] and fix and vercmp(evr(row), fix) < 0:
                expected.add((name, cve, fix))
    return expected


def test_sles15_image(database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root, installed = rootfs(tmp_path, os_release("sles", "15", "SLES"), [
        RpmSpec("kernel-default", "4.12.14", "150.60.1", build_arch="x86_64"),
        RpmSpec("krb5", "1.15.2", "4.25", build_arch="x86_64", subpackages=("krb5-client",)),
        RpmSpec("krb5-devel", "1.15.2", "4.19", build_arch="x86_64"),
        # an epoch outranks any version-release: 1:1.15.2-4.1 is past 0:1.15.2-4.25
        RpmSpec("krb5-server", "1.15.2", "4.1", epoch=1, build_arch="x86_64"),
        # SUSE lists these as not affected by CVE-1999-0524 / CVE-2026-34073
        RpmSpec("kernel-source", "4.12.14", "150.1.1"),
        RpmSpec("python3-cryptography", "2.8", "3.1", build_arch="x86_64"),
    ])
    expected = expected_for("15", installed)
    assert {e[0] for e in expected} == {"kernel-default", "krb5-devel"}
    document = scan(root, capsys)
    assert found(document) == expected
    assert not document["coverage"]["gaps"]
    fixed = {f["id"]: f["fix_state"] for f in document["findings"]}
    assert set(fixed.values()) == {"fixed"}


def test_sles15_sp1_image_reads_its_own_release(
    database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """SP1 has its own kernel fix (197.89.2) and no krb5 rows: the GA's fix does not apply."""
    root, installed = rootfs(tmp_path, os_release("sles", "15.1", "SLES"), [
        RpmSpec("kernel-default", "4.12.14", "197.80.1", build_arch="x86_64"),
        RpmSpec("krb5-devel", "1.15.2", "4.19", build_arch="x86_64"),
    ])
    expected = expected_for("15.1", installed)
    assert expected == {("kernel-default", "CVE-2021-29154", "4.12.14-197.89.2")}
    assert found(scan(root, capsys)) == expected


def test_sles_service_pack_without_data_is_a_gap(
    database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The sample's SLES 15 file says nothing of SP5: its packages are not covered, not clean."""
    assert " 15 SP5" not in SAMPLE.read_text()
    root, _ = rootfs(tmp_path, os_release("sles", "15.5", "SLES"), [
        RpmSpec("kernel-default", "4.12.14", "150.60.1", build_arch="x86_64"),
    ])
    document = scan(root, capsys)
    assert document["findings"] == []
    assert [g["what"] for g in document["coverage"]["gaps"]] == ["package(s) of sles:15.5"]


@pytest.mark.parametrize(("comment", "release"), [
    ("SUSE Linux Enterprise Server 15 SP1-LTSS is installed", "sles:15.1"),
    ("SUSE Linux Enterprise Module for Basesystem 15 SP2 is installed", "sles:15.2"),
    ("SUSE Linux Enterprise Server for SAP Applications 15 is installed", "sles:15"),
    ("SUSE Linux Enterprise Micro 5.5 is installed", "sle-micro:5.5"),
    ("openSUSE Leap 15.6 is installed", "opensuse-leap:15.6"),
    ("SUSE Linux Enterprise Storage 7 is installed", None),
    ("SUSE Manager Server 4.1 is installed", None),
    ("kernel-default-4.12.14-150.72.1 is installed", None),
])
def test_product_criteria_name_the_release(comment: str, release: str | None) -> None:
    """Product names as SUSE writes them in the sample's criteria and os-release VERSION_IDs."""
    from imagetrust.match.feeds.suse_oval import release_of

    assert release_of(comment) == release


def test_units_are_upstream_files() -> None:
    from imagetrust.errors import UsageError
    from imagetrust.match.feeds import resolve_units

    got = {u.source: u.url for u in resolve_units(["suse-oval/sles-15", "suse-oval/sle-micro-5.5"],
                                                  {"suse-oval": "http://m/oval"})}
    assert got == {
        "suse-oval/sles-15": "http://m/oval/suse.linux.enterprise.server.15.xml.gz",
        "suse-oval/sle-micro-5.5": "http://m/oval/suse.linux.enterprise.micro.5.5.xml.gz",
    }
    with pytest.raises(UsageError):
        resolve_units(["suse-oval/fedora-40"])
