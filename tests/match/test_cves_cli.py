"""``imagetrust cves`` and ``imagetrust db`` end to end: the real app/polyglot fixture images, a DB
built through the real local feed server from re-keyed real records (tests/match/scan_feeds.py),
each filter, each format, --exit-code and the offline error."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

import imagetrust.cli.cves_cmd  # noqa: F401  - registers the command (lead adds it to commands)
import imagetrust.cli.db_cmd  # noqa: F401
from imagetrust.cli.main import main
from tests.match.conftest import base_urls
from tests.match.scan_feeds import scan_mirror
from tests.support.feedserver import FeedServer, serve


@pytest.fixture
def feeds(mirror: Path, test_data: Path, monkeypatch: pytest.MonkeyPatch,
          tmp_path: Path) -> Any:
    scan_mirror(mirror, test_data)
    with serve(mirror) as server:
        urls = base_urls(server.url)
        monkeypatch.setenv("IMAGETRUST_FEED_URLS", ",".join(f"{k}={v}" for k, v in urls.items())
                           + f",nvd={server.url}/nvd")
        monkeypatch.setenv("IMAGETRUST_DB", str(tmp_path / "vuln.sqlite"))
        yield server


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def app(images: Any) -> str:
    return f"docker-archive:{images.app_archive}"


def test_json_and_filters(images: Any, feeds: FeedServer,
                          capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "cves", app(images), "--format", "json", "-q")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["image"]["os"]["release"] == "bookworm"
    assert doc["image"]["digest"].startswith("sha256:")
    assert "debian-tracker" in {f["name"] for f in doc["db"]["feeds"]}
    findings = doc["findings"]
    assert doc["counts"]["total"] == len(findings) > 0
    assert sum(doc["counts"][s] for s in ("critical", "high", "medium", "low", "negligible",
                                          "unknown")) == len(findings)
    libc = next(f for f in findings if f["package"]["name"] == "libc6")
    assert libc["package"]["source_name"] == "glibc"
    assert libc["fix_state"] == "not-fixed" and libc["severity"] == "negligible"
    assert set(libc) >= {"id", "aliases", "fix_state", "fixed_version", "distro_status",
                         "severity", "severity_source", "cvss", "kev", "epss"}
    second_hits = len(feeds.hits)

    def ids(*flags: str) -> set[tuple[str, str]]:
        code, out, err = run(capsys, "cves", app(images), "--format", "json", "--offline",
                             *flags)
        assert code == 0, err
        return {(f["package"]["name"], f["id"]) for f in json.loads(out)["findings"]}

    everything = {(f["package"]["name"], f["id"]) for f in findings}
    by = {(f["package"]["name"], f["id"]): f for f in findings}
    assert ids() == everything
    assert ids("--only-fixed") == {k for k, f in by.items() if f["fix_state"] == "fixed"} != set()
    assert ids("--only-unfixed") == {k for k, f in by.items() if f["fix_state"] != "fixed"}
    assert ids("--only-severity", "negligible") == {
        k for k, f in by.items() if f["severity"] == "negligible"} != set()
    assert ids("--only-cve-id", "cve-2025-53603") == {k for k in by if k[1] == "CVE-2025-53603"}
    assert ids("--only-package-type", "pypi") == set()
    assert ids("--only-kev") == {k for k, f in by.items() if f["kev"]}
    assert len(feeds.hits) == second_hits  # offline: not one request


def test_exit_code_and_formats(images: Any, feeds: FeedServer, test_data: Path, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "cves", app(images), "--exit-code", "-q")
    assert code == 2 and "vulnerabilities remain" in err
    assert "libc6" in out and "negligible" in out
    code, _, _ = run(capsys, "cves", app(images), "--exit-code", "--offline",
                     "--only-package-type", "npm")
    assert code == 0

    sarif_file = tmp_path / "out" / "r.sarif"
    sarif_file.parent.mkdir()  # -o refuses a directory that does not exist
    code, _, err = run(capsys, "cves", app(images), "--offline", "--format", "sarif", "-o",
                       str(sarif_file))
    assert code == 0, err
    sarif = json.loads(sarif_file.read_text())
    schema = json.loads((test_data / "schemas/sarif-schema-2.1.0.json").read_text())
    jsonschema.validate(sarif, schema)
    results = sarif["runs"][0]["results"]
    rules = sarif["runs"][0]["tool"]["driver"]["rules"]
    assert results and all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in results)

    code, out, err = run(capsys, "cves", app(images), "--offline", "--format", "cyclonedx-vex")
    assert code == 0, err
    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(out)
    assert errors is None, errors
    vex = json.loads(out)
    refs = {c["bom-ref"] for c in vex["components"]}
    assert vex["vulnerabilities"] and all(
        a["ref"] in refs for v in vex["vulnerabilities"] for a in v["affects"])

    code, out, err = run(capsys, "cves", app(images), "--offline", "--format", "markdown")
    assert code == 0 and out.startswith("## Vulnerabilities in")
    assert "| libc6 |" in out


def test_polyglot_language_filter(images: Any, feeds: FeedServer,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "cves", f"oci-dir:{images.layout}:polyglot", "--format",
                         "json", "--only-package-type", "pypi,npm", "-q")
    assert code == 0, err
    found = {(f["package"]["type"], f["package"]["name"]) for f in json.loads(out)["findings"]}
    assert ("pypi", "urllib3") in found and ("npm", "minimist") in found
    assert {t for t, _ in found} <= {"pypi", "npm"}


def test_offline_without_feed_is_one_line(images: Any, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "cves", app(images), "--offline", "--db",
                         str(tmp_path / "missing.sqlite"))
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "debian-tracker" in err and "Traceback" not in err


def test_bad_severity_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "cves", "docker-archive:/nonexistent.tar", "--only-severity",
                       "severe")
    assert code == 1 and "unknown severity 'severe'" in err


def test_db_commands(feeds: FeedServer, tmp_path: Path,
                     capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "db", "update", "--feed", "debian-tracker", "--feed", "kev")
    assert code == 0, err
    assert "debian-tracker:" in out and "kev:" in out
    code, out, _ = run(capsys, "db", "status", "--format", "json")
    names = {f["name"]: f for f in json.loads(out)["feeds"]}
    assert set(names) == {"debian-tracker", "kev"} and not names["kev"]["stale"]
    code, out, err = run(capsys, "db", "status", "--max-age", "0")
    assert code == 0 and "warning: debian-tracker is older than 0 days" in err
    bundle = tmp_path / "bundle.tar.gz"
    assert run(capsys, "db", "export", str(bundle))[0] == 0
    other = tmp_path / "other.sqlite"
    code, out, err = run(capsys, "db", "import", str(bundle), "--db", str(other))
    assert code == 0, err
    code, out, _ = run(capsys, "db", "status", "--format", "json", "--db", str(other))
    assert {f["name"] for f in json.loads(out)["feeds"]} == {"debian-tracker", "kev"}


def test_sbom_input_gives_the_same_findings(images: Any, feeds: FeedServer, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """An SBOM written by Syft (a real peer tool) of the app archive, scanned offline."""
    syft = shutil.which("syft") or str(Path(sys.executable).parent / "syft")
    sbom = tmp_path / "app.cdx.json"
    subprocess.run([syft, f"docker-archive:{images.app_archive}", "-o",
                    f"cyclonedx-json={sbom}", "-q"], check=True,
                   env={**os.environ, "SYFT_CHECK_FOR_APP_UPDATE": "false"})
    code, out, err = run(capsys, "cves", app(images), "--format", "json", "-q")
    assert code == 0, err
    direct = {(f["package"]["name"], f["id"]) for f in json.loads(out)["findings"]}
    code, out, err = run(capsys, "cves", f"sbom:{sbom}", "--format", "json", "--offline")
    assert code == 0, err
    doc = json.loads(out)
    via_sbom = {(f["package"]["name"], f["id"]) for f in doc["findings"]}
    assert doc["image"]["os"]["version_id"] == "12"  # Syft writes no codename: 12 → bookworm
    assert via_sbom == direct
