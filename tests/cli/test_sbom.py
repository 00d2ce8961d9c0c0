"""``imagetrust sbom`` end to end: every source form, every format, output files and errors.

Expected package counts come from ``dpkg-query`` on the app's root filesystem and layer diff_ids
from the fixture's own image config; the SBOMs are checked by the CycloneDX and SPDX libraries'
validators, never by re-reading them with imagetrust.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from spdx_tools.spdx.parser.json.json_parser import parse_from_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from tests.support.images import FixtureImages

TIMEOUT = 300


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "imagetrust", "sbom", *args],
                          capture_output=True, text=True, timeout=TIMEOUT)


def sbom_json(*args: str) -> dict[str, Any]:
    result = run("--format", "json", *args)
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.fixture(scope="module")
def dpkg_truth(images: FixtureImages) -> set[tuple[str, str]]:
    """(name, version) of every package dpkg itself lists in the app's root filesystem."""
    out = subprocess.run(
        ["dpkg-query", f"--admindir={images.app_rootfs}/var/lib/dpkg", "-W",
         "-f", "${Package}\t${Version}\t${db:Status-Abbrev}\n"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout
    rows = [line.split("\t") for line in out.splitlines()]
    assert all(status.startswith("ii") for _, _, status in rows)
    return {(name, version) for name, version, _ in rows}


@pytest.fixture(scope="module")
def app_diff_ids(images: FixtureImages) -> list[str]:
    return list(images.config("app")["rootfs"]["diff_ids"])  # type: ignore[index]


def _forms(images: FixtureImages) -> dict[str, str]:
    return {
        "oci-dir": f"oci-dir:{images.layout}:app",
        "docker-archive": f"docker-archive:{images.app_archive}",
        "docker-archive-25": f"docker-archive:{images.app_archive_oci}",
        "oci-archive": f"oci-archive:{images.app_oci_archive}:app",
        "dir": f"dir:{images.app_rootfs}",
    }


def _check_inventory(data: dict[str, Any], truth: set[tuple[str, str]]) -> None:
    debs = {(p["name"], p["version"]) for p in data["packages"] if p["type"] == "deb"}
    # dpkg-query prints epochs in versions, as our deb versions do
    assert debs == truth
    assert all(p["cataloger"] == "dpkg" for p in data["packages"] if p["type"] == "deb")
    assert data["os"]["id"] == "debian"


@pytest.mark.parametrize("form", ["oci-dir", "docker-archive", "docker-archive-25",
                                  "oci-archive", "dir"])
def test_every_local_form_lists_what_dpkg_lists(
    form: str, images: FixtureImages, dpkg_truth: set[tuple[str, str]],
    app_diff_ids: list[str],
) -> None:
    data = sbom_json(_forms(images)[form])
    _check_inventory(data, dpkg_truth)
    if form != "dir":  # a root filesystem has one synthetic layer
        jq = next(p for p in data["packages"] if p["name"] == "jq")
        assert {loc["layer_diff_id"] for loc in jq["locations"]} == {app_diff_ids[-1]}


def test_registry_form(fixture_registry: Any, dpkg_truth: set[tuple[str, str]],
                       app_diff_ids: list[str]) -> None:
    _, pushed = fixture_registry
    data = sbom_json(pushed["app"])
    _check_inventory(data, dpkg_truth)
    bash = next(p for p in data["packages"] if p["name"] == "bash")
    assert app_diff_ids[0] in {loc["layer_diff_id"] for loc in bash["locations"]}


def _properties(component: dict[str, Any]) -> dict[str, str]:
    return {p["name"]: p["value"] for p in component.get("properties", [])}


def test_cyclonedx_is_valid_and_carries_layer_and_cataloger(
    images: FixtureImages, tmp_path: Path, dpkg_truth: set[tuple[str, str]],
    app_diff_ids: list[str],
) -> None:
    out = tmp_path / "app.cdx.json"
    result = run("--format", "cyclonedx-json", "-o", str(out), f"oci-dir:{images.layout}:app")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""  # the document went to the file
    text = out.read_text()
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    bom = json.loads(text)
    assert bom["specVersion"] == "1.6"
    libraries = [c for c in bom["components"] if c["type"] == "library"]
    debs = [c for c in libraries if c["purl"].startswith("pkg:deb/")]
    assert len(debs) == len(dpkg_truth)
    jq = next(c for c in debs if c["name"] == "jq")
    props = _properties(jq)
    assert props["imagetrust:cataloger"] == "dpkg"
    assert props["imagetrust:layer:diffID"] == app_diff_ids[-1]


def test_spdx_parses_and_validates(images: FixtureImages, tmp_path: Path,
                                   dpkg_truth: set[tuple[str, str]]) -> None:
    out = tmp_path / "app.spdx.json"
    result = run("--format", "spdx-json", "-o", str(out), f"docker-archive:{images.app_archive}")
    assert result.returncode == 0, result.stderr
    document = parse_from_file(str(out))
    assert validate_full_spdx_document(document, "SPDX-2.3") == []
    names = {(p.name, p.version) for p in document.packages}
    assert dpkg_truth <= names
    text = out.read_text()
    assert "imagetrust:cataloger" in text and "imagetrust:layer:diffID" in text


def test_json_to_file_matches_stdout(images: FixtureImages, tmp_path: Path) -> None:
    target = f"docker-archive:{images.app_archive}"
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "app.json"
    result = run("--format", "json", "-o", str(out), target)
    assert result.returncode == 0, result.stderr
    written = json.loads(out.read_text())
    assert written["packages"] == sbom_json(target)["packages"]
    assert [p.name for p in out.parent.iterdir()] == ["app.json"]  # no temp file left


def test_table_lists_packages(images: FixtureImages) -> None:
    result = run(f"docker-archive:{images.app_archive}")
    assert result.returncode == 0, result.stderr
    assert "jq" in result.stdout and "bash" in result.stdout


def test_missing_output_directory_is_one_line_error(images: FixtureImages,
                                                     tmp_path: Path) -> None:
    out = tmp_path / "no" / "such" / "dir" / "sbom.json"
    result = run("--format", "json", "-o", str(out), f"docker-archive:{images.app_archive}")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert str(out.parent) in lines[0] or "directory" in lines[0].lower()
    assert not out.parent.exists()


def test_bad_target_is_one_line_error(tmp_path: Path) -> None:
    result = run("--format", "json", f"docker-archive:{tmp_path / 'missing.tar'}")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert len([line for line in result.stderr.splitlines() if line.strip()]) == 1
