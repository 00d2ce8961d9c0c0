"""Every JSON output validates against its published schema in ``schemas/`` and says which
copy of the image was read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from imagetrust.cli.main import main
from imagetrust.report.formats import FORMATS
from tests.support.images import FixtureImages
from tests.support.schemas import SCHEMAS, validate


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    code = main(list(args))
    out, err = capsys.readouterr()
    assert code == 0, err
    document: dict[str, Any] = json.loads(out)
    return document


def test_every_command_with_json_has_a_schema() -> None:
    with_json = {command for command, formats in FORMATS.items()
                 if any(f.name == "json" for f in formats)}
    assert with_json == {p.name.split(".")[0] for p in SCHEMAS.glob("*.schema.json")}
    for path in SCHEMAS.glob("*.schema.json"):
        schema = json.loads(path.read_text())
        command = path.name.split(".")[0]
        # cves 1.1 added suppressions (additive: minor bump); the rest are still 1.0
        assert schema["properties"]["schema_version"]["const"] == (
            "1.1" if command == "cves" else "1.0")
        assert "schema_version" in schema["required"]


@pytest.mark.parametrize(
    ("form", "origin"),
    [
        ("docker-archive:{archive}", "archive"),
        ("oci-dir:{layout}:app", "layout"),
        ("oci-archive:{oci_archive}", "archive"),
    ],
)
def test_sbom_check_inspect_json_validate_and_name_the_copy(
    images: FixtureImages, capsys: pytest.CaptureFixture[str], form: str, origin: str
) -> None:
    target = form.format(
        archive=images.app_archive, layout=images.layout, oci_archive=images.app_oci_archive
    )
    path = target.split(":", 1)[1].removesuffix(":app")
    sbom = run_json(capsys, "sbom", "--format", "json", target)
    validate("sbom", sbom)
    assert sbom["image"]["source"] == {"origin": origin, "path": path}
    assert len(sbom["packages"]) >= images.debootstrap_packages

    check = run_json(capsys, "check", "--format", "json", "--offline", "--no-scan", target)
    validate("check", check)
    assert check["image"]["source"] == {"origin": origin, "path": path}

    inspect = run_json(capsys, "inspect", "--format", "json", target)
    validate("inspect", inspect)
    assert inspect["schema_version"] == "1.0"


def test_schema_rejects_a_document_missing_its_version(
    images: FixtureImages, capsys: pytest.CaptureFixture[str]
) -> None:
    from jsonschema import ValidationError

    document = run_json(capsys, "sbom", "--format", "json", f"docker-archive:{images.app_archive}")
    del document["schema_version"]
    with pytest.raises(ValidationError):
        validate("sbom", document)


def test_sbom_input_names_the_file(
    images: FixtureImages, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch, test_data: Path,
) -> None:
    bom = tmp_path / "app.cdx.json"
    assert main(["sbom", "--format", "cyclonedx-json", "-o", str(bom),
                 f"docker-archive:{images.app_archive}"]) == 0
    monkeypatch.setenv("IMAGETRUST_DB", str(tmp_path / "vuln.sqlite"))
    assert main(["db", "import",
                 str(test_data / "debian/osvdev-debian_security_tracker_mock.json")]) == 0
    capsys.readouterr()
    cves = run_json(capsys, "cves", "--format", "json", "--offline", f"sbom:{bom}")
    validate("cves", cves)
    assert cves["image"]["source"] == {"origin": "sbom", "path": str(bom)}
