"""VEX and exceptions end to end on a real scan.

The root filesystem is built here from the host's real ``/etc/os-release`` (Debian bookworm)
and the host's real dpkg status stanza of ``libc6`` (source ``glibc``). The database is imported
with ``imagetrust db import`` from tracker JSON written from real records:

- CVE-2016-1585: the real bookworm entry of the shared Debian tracker sample (``open``, urgency
  ``unimportant``), filed under ``glibc`` as tests/match/scan_feeds.py does;
- CVE-2021-36367: the tracker's real ``<no-dsa> (Minor issue)`` line for this CVE (shared
  ``vuln-list-update-CVE-list-fixture``: ``[bullseye] - putty <no-dsa> (Minor issue)``, urgency
  ``low``) in the JSON shape the tracker publishes, filed under ``glibc``/bookworm. The second
  tracker file adds a fixed version for that release, as the tracker does when a fix ships.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

import imagetrust.cli.cves_cmd  # noqa: F401 - registers the command
import imagetrust.cli.db_cmd  # noqa: F401
from imagetrust.app.cves import cves
from imagetrust.cli.main import main
from imagetrust.config import load_settings
from imagetrust.errors import PolicyError
from imagetrust.policy.exceptions import parse_exceptions
from imagetrust.policy.vex import load_vex
from tests.support.schemas import validate

HOST_STATUS = Path("/var/lib/dpkg/status")
OPEN_CVE = "CVE-2016-1585"
NODSA_CVE = "CVE-2021-36367"


def _libc6_stanza() -> str:
    if not HOST_STATUS.is_file():
        pytest.skip("no dpkg status on this host")
    for stanza in HOST_STATUS.read_text(encoding="utf-8").split("\n\n"):
        if stanza.startswith("Package: libc6\n"):
            return stanza.strip() + "\n"
    pytest.skip("libc6 is not installed on this host")


def _version(stanza: str) -> str:
    return next(line.split(": ", 1)[1] for line in stanza.splitlines()
                if line.startswith("Version: "))


@pytest.fixture
def scan(tmp_path: Path, test_data: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    stanza = _libc6_stanza()
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    (root / "var/lib/dpkg").mkdir(parents=True)
    os_release = Path("/etc/os-release").read_text(encoding="utf-8")
    if "VERSION_CODENAME=bookworm" not in os_release:
        pytest.skip("the host is not Debian bookworm")
    (root / "etc/os-release").write_text(os_release, encoding="utf-8")
    (root / "var/lib/dpkg/status").write_text(stanza, encoding="utf-8")
    real = json.loads((test_data / "debian/osvdev-debian_security_tracker_mock.json").read_text())
    installed = _version(stanza)
    nodsa = {"status": "open", "repositories": {"bookworm": installed}, "urgency": "low",
             "nodsa": "Minor issue", "nodsa_reason": ""}
    first = {"glibc": {
        OPEN_CVE: {"releases": {"bookworm": real["apparmor"][OPEN_CVE]["releases"]["bookworm"]}},
        NODSA_CVE: {"releases": {"bookworm": nodsa}},
    }}
    fixed_version = f"{installed}+fix1"
    second = json.loads(json.dumps(first))
    second["glibc"][NODSA_CVE]["releases"]["bookworm"] = {
        "status": "resolved", "repositories": {"bookworm": fixed_version},
        "fixed_version": fixed_version, "urgency": "low"}
    (tmp_path / "tracker1.json").write_text(json.dumps(first), encoding="utf-8")
    (tmp_path / "tracker2.json").write_text(json.dumps(second), encoding="utf-8")
    monkeypatch.setenv("IMAGETRUST_DB", str(tmp_path / "vuln.sqlite"))
    assert main(["db", "import", str(tmp_path / "tracker1.json")]) == 0
    return {"target": f"dir:{root}", "tmp": tmp_path, "fixed_version": fixed_version}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def cves_json(capsys: pytest.CaptureFixture[str], target: str, *flags: str) -> dict[str, Any]:
    code, out, err = run(capsys, "cves", target, "--offline", "--format", "json", *flags)
    assert code == 0, err
    doc: dict[str, Any] = json.loads(out)
    validate("cves", doc)
    return doc


def openvex(path: Path, *statements: dict[str, Any]) -> Path:
    path.write_text(json.dumps({
        "@context": "https://openvex.dev/ns/v0.2.0", "@id": f"https://example.test/{path.name}",
        "author": "tests", "timestamp": "2025-01-01T00:00:00Z", "version": 1,
        "statements": list(statements)}), encoding="utf-8")
    return path


def statement(cve: str, status: str, product: str = "pkg:deb/debian/libc6",
              **extra: str) -> dict[str, Any]:
    return {"vulnerability": {"name": cve}, "products": [{"@id": product}], "status": status,
            **extra}


def ids(doc: dict[str, Any]) -> set[str]:
    return {f["id"] for f in doc["findings"]}


def test_openvex_not_affected_suppresses_and_affected_does_not(
    scan: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    target, tmp = scan["target"], scan["tmp"]
    plain = cves_json(capsys, target)
    assert ids(plain) == {OPEN_CVE, NODSA_CVE}
    assert plain["suppressed"] == [] and plain["schema_version"] == "1.1"

    hide = openvex(tmp / "hide.json", statement(
        OPEN_CVE, "not_affected", justification="vulnerable_code_not_in_execute_path",
        impact_statement="apparmor mount rules are not used"))
    doc = cves_json(capsys, target, "--vex", str(hide))
    assert ids(doc) == {NODSA_CVE} and doc["counts"]["total"] == 1
    (hidden,) = doc["suppressed"]
    assert hidden["id"] == OPEN_CVE and hidden["package"]["name"] == "libc6"
    assert hidden["kind"] == "vex" and hidden["by"] == f"{hide}#0"
    assert hidden["status"] == "not_affected"
    assert hidden["justification"] == "vulnerable_code_not_in_execute_path"

    for status in ("affected", "under_investigation"):
        keep = openvex(tmp / f"{status}.json", statement(OPEN_CVE, status))
        assert ids(cves_json(capsys, target, "--vex", str(keep))) == {OPEN_CVE, NODSA_CVE}
    # the last matching statement in load order wins
    later = openvex(tmp / "later.json", statement(OPEN_CVE, "affected"))
    assert OPEN_CVE in ids(cves_json(capsys, target, "--vex", str(hide), "--vex", str(later)))
    assert OPEN_CVE not in ids(cves_json(capsys, target, "--vex", str(later), "--vex", str(hide)))
    # a product with another version, or another package, does not match
    other = openvex(tmp / "other.json",
                    statement(OPEN_CVE, "not_affected", "pkg:deb/debian/libc6@1.0-1"),
                    statement(OPEN_CVE, "not_affected", "pkg:deb/debian/libc-bin"))
    assert OPEN_CVE in ids(cves_json(capsys, target, "--vex", str(other)))
    # a vers range that holds the installed version matches
    ranged = tmp / "ranged.cdx.json"
    ranged.write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
                                  "vulnerabilities": [{"id": OPEN_CVE,
                                  "analysis": {"state": "not_affected"},
                                  "affects": [{"ref": "pkg:deb/debian/libc6", "versions": [
                                      {"range": "vers:deb/>=2.0|<99"}]}]}]}))
    assert OPEN_CVE not in ids(cves_json(capsys, target, "--vex", str(ranged)))


def test_env_and_table_count(scan: dict[str, Any], capsys: pytest.CaptureFixture[str],
                             monkeypatch: pytest.MonkeyPatch) -> None:
    target, tmp = scan["target"], scan["tmp"]
    hide = openvex(tmp / "hide.json", statement(OPEN_CVE, "not_affected"))
    monkeypatch.setenv("IMAGETRUST_VEX", f"{tmp / 'none.json'},{hide}")
    code, _, err = run(capsys, "cves", target, "--offline")
    assert code == 1 and "cannot read VEX file" in err and "none.json" in err
    monkeypatch.setenv("IMAGETRUST_VEX", str(hide))
    code, out, err = run(capsys, "cves", target, "--offline")
    assert code == 0, err
    assert "1 suppressed (1 by VEX, 0 by exceptions); --show-suppressed lists them" in out
    assert OPEN_CVE not in out
    code, out, err = run(capsys, "cves", target, "--offline", "--show-suppressed",
                         "--format", "markdown")
    assert code == 0, err
    assert "### Suppressed" in out and f"| libc6 | {OPEN_CVE} |" in out and f"{hide}#0" in out
    code, _, _ = run(capsys, "cves", target, "--offline", "--exit-code",
                     "--only-cve-id", OPEN_CVE)
    assert code == 0  # suppressed findings do not fail the gate


def _exceptions(path: Path, body: str) -> Path:
    path.write_text(body, encoding="utf-8")
    return path


def test_exception_expiry_uses_the_injected_clock(scan: dict[str, Any]) -> None:
    tmp = scan["tmp"]
    file = _exceptions(tmp / "exceptions.toml", f"""
# accepted until the end of January
[[exception]]
id = "{OPEN_CVE.lower()}"
reason = "apparmor is not installed"
author = "alice@example.test"
expires = 2027-01-31
scope = {{ package = "glibc", purl = "pkg:deb/debian/libc6" }}
""")
    settings = load_settings(offline=True, quiet=True)

    def at(day: str) -> Any:
        now = datetime.fromisoformat(day).replace(tzinfo=UTC)
        return cves(scan["target"], settings=settings, exceptions=file, now=now)

    held = at("2027-01-31T23:59:00")
    assert OPEN_CVE not in {f.id for f in held.findings} and held.expired == ()
    (hidden,) = held.suppressed
    assert hidden.kind == "exception" and hidden.by == f"{file}:3 ({OPEN_CVE})"
    assert hidden.justification == "apparmor is not installed"
    lapsed = at("2027-02-01T00:00:01")
    assert OPEN_CVE in {f.id for f in lapsed.findings} and lapsed.suppressed == ()
    (expired,) = lapsed.expired
    assert expired.id == OPEN_CVE and str(expired.expires) == "2027-01-31"
    # scope: another image pattern or package keeps the finding
    for scope in ('image = "docker.io/library/postgres:*"', 'package = "openssl"'):
        other = _exceptions(tmp / "other.toml", f"""[[exception]]
id = "{OPEN_CVE}"
reason = "r"
author = "a"
expires = 2027-01-31
scope = {{ {scope} }}
""")
        doc = cves(scan["target"], settings=settings, exceptions=other,
                   now=datetime(2027, 1, 1, tzinfo=UTC))
        assert OPEN_CVE in {f.id for f in doc.findings}


def test_distro_status_exception_ends_when_the_tracker_publishes_a_fix(
    scan: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    target, tmp = scan["target"], scan["tmp"]
    file = _exceptions(tmp / "exceptions.toml", f"""[[exception]]
id = "{NODSA_CVE}"
reason = "Debian will not issue a DSA; low impact for us"
author = "bob@example.test"
scope = {{ package = "libc6" }}
while-distro-status = ["no-dsa", "minor", "postponed"]
""")
    doc = cves_json(capsys, target, "--exceptions", str(file))
    assert ids(doc) == {OPEN_CVE}
    (hidden,) = doc["suppressed"]
    assert hidden["id"] == NODSA_CVE and hidden["kind"] == "exception"
    assert hidden["fix_state"] == "not-fixed" and doc["ended_exceptions"] == []

    assert main(["db", "import", str(tmp / "tracker2.json")]) == 0
    capsys.readouterr()
    code, out, err = run(capsys, "cves", target, "--offline", "--format", "json",
                         "--exceptions", str(file))
    assert code == 0, err
    doc = json.loads(out)
    validate("cves", doc)
    assert ids(doc) == {OPEN_CVE, NODSA_CVE} and doc["suppressed"] == []
    back = next(f for f in doc["findings"] if f["id"] == NODSA_CVE)
    assert back["fix_state"] == "fixed" and back["fixed_version"] == scan["fixed_version"]
    (ended,) = doc["ended_exceptions"]
    assert ended["id"] == NODSA_CVE and ended["by"] == f"{file}:1 ({NODSA_CVE})"
    assert ended["reason"].startswith(f"Debian published a fix ({scan['fixed_version']})")
    assert "no longer applies" in ended["reason"] and "no longer applies" in err
    code, out, _ = run(capsys, "cves", target, "--offline", "--exceptions", str(file))
    assert f"ended: libc6 {NODSA_CVE}: Debian published a fix" in out


def test_sarif_and_cyclonedx_carry_suppressions(
    scan: dict[str, Any], test_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target, tmp = scan["target"], scan["tmp"]
    hide = openvex(tmp / "hide.json", statement(
        OPEN_CVE, "not_affected", justification="vulnerable_code_not_in_execute_path"))
    accept = _exceptions(tmp / "exceptions.toml", f"""[[exception]]
id = "{NODSA_CVE}"
reason = "low impact"
author = "carol"
expires = 2999-01-01
""")
    flags = ("--offline", "--vex", str(hide), "--exceptions", str(accept))
    code, out, err = run(capsys, "cves", target, "--format", "sarif", *flags)
    assert code == 0, err
    sarif = json.loads(out)
    jsonschema.validate(sarif, json.loads(
        (test_data / "schemas/sarif-schema-2.1.0.json").read_text()))
    results = {r["ruleId"]: r for r in sarif["runs"][0]["results"]}
    assert set(results) == {OPEN_CVE, NODSA_CVE}  # suppressed results stay, marked
    (vex_mark,) = results[OPEN_CVE]["suppressions"]
    assert vex_mark["kind"] == "external" and vex_mark["status"] == "accepted"
    assert f"{hide}#0" in vex_mark["justification"]
    assert "low impact" in results[NODSA_CVE]["suppressions"][0]["justification"]

    code, out, err = run(capsys, "cves", target, "--format", "cyclonedx-vex", *flags)
    assert code == 0, err
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(out) is None
    bom = json.loads(out)
    by_id = {v["id"]: v for v in bom["vulnerabilities"]}
    assert by_id[OPEN_CVE]["analysis"]["state"] == "not_affected"
    assert by_id[OPEN_CVE]["analysis"]["justification"] == "code_not_reachable"
    assert by_id[NODSA_CVE]["analysis"]["state"] == "exploitable"
    assert by_id[NODSA_CVE]["analysis"]["response"] == ["will_not_fix"]

    # imagetrust's own CycloneDX VEX reads back: its not_affected statement suppresses alone
    own = tmp / "own.cdx.json"
    own.write_text(out, encoding="utf-8")
    statements = {s.vulnerability: s for s in load_vex(own)}
    assert statements[OPEN_CVE].status == "not_affected"
    assert statements[NODSA_CVE].status == "affected"
    doc = cves_json(capsys, target, "--vex", str(own))
    assert ids(doc) == {NODSA_CVE} and doc["suppressed"][0]["by"].startswith(f"{own}#")


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ('[[exception]]\nid = "CVE-1"\n', "f.toml:1: reason: must be a non-empty string"),
        ('\n\n[[exception]]\nid = "CVE-1"\nreason = "r"\nauthor = "a"\n',
         "f.toml:3: expires: required"),
        ('[[exception]]\nid = "CVE-1"\nreason = "r"\nauthor = "a"\nexpires = "2027-01-01"\n',
         "expires: must be a TOML date"),
        ('[[exception]]\nid = "C"\nreason = "r"\nauthor = "a"\n'
         'while-distro-status = ["no-dsa", "maybe"]\n', "unknown word 'maybe'"),
        ('[[exception]]\nid = "C"\nreason = "r"\nauthor = "a"\nexpires = 2027-01-01\n'
         'scope = { img = "x" }\n', "scope.img: unknown key"),
        ('[[exception]]\nid = "C"\nreason = "r"\nauthor = "a"\nexpires = 2027-01-01\n'
         'scope = { purl = "openssl" }\n', "scope.purl: must be a package URL"),
        ("[[exception]\n", "not valid TOML"),
        ('rules = 1\n', "rules: unknown key"),
    ],
)
def test_exceptions_file_errors_name_file_line_and_key(body: str, needle: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_exceptions(body, "f.toml")
    assert needle in str(caught.value)
