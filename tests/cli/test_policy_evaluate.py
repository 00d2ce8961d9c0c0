"""``policy evaluate`` and ``check`` under the organisation's policy, end to end on the suite's
own images, with the official-images library and a vulnerability database imported from the
shared real data."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator

from imagetrust.cli.main import main
from tests.app.test_coverage import STATUS, rootfs
from tests.support.images import FixtureImages
from tests.support.schemas import validate

TRACKER = "debian/osvdev-debian_security_tracker_mock.json"


@pytest.fixture
def world(test_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("IMAGETRUST_DB", str(tmp_path / "vuln.sqlite"))
    assert main(["db", "import", str(test_data / TRACKER)]) == 0
    assert main(["catalog", "import", str(test_data / "official-images")]) == 0
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def licences_of(capsys: pytest.CaptureFixture[str], target: str) -> set[str]:
    code, out, err = run(capsys, "sbom", "--format", "json", target)
    assert code == 0, err
    return {name for pkg in json.loads(out)["packages"] for name in pkg["licenses"]}


def test_user_image_named_like_an_official_one_is_not_official(
    world: Path, images: FixtureImages, capsys: pytest.CaptureFixture[str]
) -> None:
    # the app archive is tagged myapp:1.0, which Docker files as docker.io/library/myapp
    code, out, err = run(capsys, "check", "--format", "json", "--offline",
                         f"docker-archive:{images.app_archive}")
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    validate("check", data)
    publisher = next(e for e in data["evidence"] if e["signal"] == "publisher")
    assert publisher["details"]["tier"] == "unknown"
    assert "not a Docker Official Image" in publisher["summary"]
    assert data["level"] == "unknown"  # was trusted-with-caveats: official status presumed


def test_end_of_life_release_needs_attention(
    world: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Debian 10 "buster": LTS ended 2024-06-30 (wiki.debian.org/LTS)
    target = f"dir:{rootfs(tmp_path / 'buster', '10', 'buster')}"
    code, out, err = run(capsys, "check", "--format", "json", "--offline", target)
    assert code == 0, err
    data = json.loads(out)
    lifecycle = next(e for e in data["evidence"] if e["signal"] == "lifecycle")
    assert lifecycle["outcome"] == "fail" and "2024-06-30" in lifecycle["summary"]
    assert data["level"] == "needs-attention" and "end-of-life" in data["rules"]
    assert any("2024-06-30" in reason for reason in data["reasons"])
    assert STATUS  # the same dpkg status the coverage tests use


def test_policy_evaluate_formats_and_gate(
    world: Path, images: FixtureImages, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    test_data: Path,
) -> None:
    target = f"docker-archive:{images.app_archive}"
    denied = sorted(licences_of(capsys, target))[0]
    policy = tmp_path / "imagetrust.toml"
    policy.write_text(
        "[rules.denied-licenses]\nenabled = true\n"
        f"licenses = [{json.dumps(denied)}]\n"
        "[rules.approved-registries]\nenabled = true\npatterns = [\"registry.acme.io/*\"]\n"
    )
    common = ["policy", "evaluate", "--offline", "--policy", str(policy), target]
    code, out, err = run(capsys, *common[:2], "--format", "json", *common[2:])
    assert code == 0, err
    data = json.loads(out)
    validate("policy", data)
    rows = {r["rule"]: r for r in data["images"][0]["rules"]}
    assert rows["denied-licenses"]["status"] == "fail" and denied in rows["denied-licenses"][
        "reason"]
    assert rows["approved-registries"]["status"] == "fail"
    assert rows["approved-registries"]["level"] == "untrusted"
    assert data["images"][0]["level"] == "untrusted"
    assert data["images"][0]["source"]["origin"] == "archive"
    failed = [r for r in data["images"][0]["rules"] if r["status"] == "fail"]

    code, out, _ = run(capsys, *common[:2], "--format", "junit", *common[2:])
    suite = ET.fromstring(out).find("testsuite")
    assert suite is not None and int(suite.get("failures", "-1")) == len(failed)
    assert int(suite.get("tests", "-1")) == len(data["images"][0]["rules"])

    code, out, _ = run(capsys, *common[:2], "--format", "sarif", *common[2:])
    sarif_schema = json.loads((test_data / "schemas/sarif-schema-2.1.0.json").read_text())
    sarif = json.loads(out)
    Draft7Validator(sarif_schema).validate(sarif)
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} == {r["rule"] for r in failed}

    code, out, _ = run(capsys, *common[:2], "--format", "github", *common[2:])
    lines = out.splitlines()
    assert len(lines) == len(failed) and all(line.startswith(("::error ", "::warning "))
                                             for line in lines)
    assert any(line.startswith("::error title=imagetrust approved-registries") for line in lines)

    code, out, _ = run(capsys, *common[:2], "--format", "markdown", *common[2:])
    assert "| Image | Rule | Level | Why |" in out and "`approved-registries`" in out

    code, _, err = run(capsys, *common[:2], "--exit-code", "--fail-on", "untrusted",
                       *common[2:])
    assert code == 2 and "approved-registries" in err
    # the same policy, applied by check: the level is the one policy evaluate reported
    code, out, _ = run(capsys, "check", "--format", "json", "--offline", "--policy",
                       str(policy), target)
    assert json.loads(out)["level"] == "untrusted"


def test_an_image_that_cannot_be_read_is_reported_not_skipped(
    world: Path, images: FixtureImages, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "absent.tar"
    code, out, err = run(capsys, "policy", "evaluate", "--format", "json", "--offline",
                         f"docker-archive:{images.app_archive}", f"docker-archive:{missing}")
    assert code == 1
    data = json.loads(out)
    assert [bool(e["error"]) for e in data["images"]] == [False, True]
    assert "could not be evaluated" in err and "Traceback" not in err
    validate("policy", data)


def test_vex_reaches_check_and_policy_evaluate_also_from_the_policy_file(
    world: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An OpenVEX not_affected statement hides CVE-2016-1585 (open for bookworm's apparmor in
    the real tracker sample) from check and policy evaluate, given as --vex or listed in the
    policy file."""
    target = f"dir:{rootfs(tmp_path / 'root', '12', 'bookworm')}"
    code, out, err = run(capsys, "cves", "--format", "json", "--offline", target)
    before = {(f["id"], f["package"]["name"]) for f in json.loads(out)["findings"]}
    assert ("CVE-2016-1585", "apparmor") in before
    vex = tmp_path / "vendor.openvex.json"
    vex.write_text(json.dumps({
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://example.com/vex/1",
        "author": "test",
        "timestamp": "2026-11-01T00:00:00Z",
        "version": 1,
        "statements": [{
            "vulnerability": {"name": "CVE-2016-1585"},
            "products": [{"@id": "pkg:deb/debian/apparmor"},
                         {"@id": "pkg:deb/debian/libapparmor1"}],
            "status": "not_affected",
            "justification": "vulnerable_code_not_in_execute_path",
        }],
    }))
    code, out, err = run(capsys, "check", "--format", "json", "--offline", "--vex", str(vex),
                         target)
    assert code == 0, err
    vulns = next(e for e in json.loads(out)["evidence"] if e["signal"] == "vulnerabilities")
    hidden = {(s["id"], s["package"]) for s in vulns["details"]["suppressed"]}
    assert hidden == {("CVE-2016-1585", "apparmor"), ("CVE-2016-1585", "libapparmor1")}
    assert vulns["details"]["total"] == len(before) - 2
    policy = tmp_path / "imagetrust.toml"
    policy.write_text(f'vex = ["{vex.name}"]\n')
    code, out, err = run(capsys, "policy", "evaluate", "--format", "json", "--offline",
                         "--policy", str(policy), target)
    assert code == 0, err
    data = json.loads(out)
    validate("policy", data)
    assert {(s["id"], s["package"]) for s in data["images"][0]["suppressed"]} == hidden
    # a broken VEX file is one clear error before any scan
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    code, _, err = run(capsys, "check", "--offline", "--vex", str(broken), target)
    assert code == 1 and str(broken) in err and "Traceback" not in err
