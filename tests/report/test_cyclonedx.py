"""CycloneDX 1.6 output: schema-valid, complete, and readable back into the same catalog."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from packageurl import PackageURL

from imagetrust.catalog.model import Catalog
from imagetrust.catalog.sbom_input import read_sbom
from imagetrust.report.cyclonedx import cyclonedx_json
from tests.report.sample import BASH, DEBIAN, DIGEST, IMAGE, identity, sample_catalog


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return sample_catalog()


@pytest.fixture(scope="module")
def document(catalog: Catalog) -> str:
    return cyclonedx_json(catalog, IMAGE, DIGEST)


def test_valid_against_the_cyclonedx_1_6_schema(document: str) -> None:
    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(document)
    assert errors is None, errors
    assert json.loads(document)["specVersion"] == "1.6"


def test_every_package_is_a_component_with_its_layer(catalog: Catalog, document: str) -> None:
    doc = json.loads(document)
    assert doc["metadata"]["component"]["type"] == "container"
    assert doc["metadata"]["component"]["name"] == IMAGE
    assert doc["metadata"]["component"]["version"] == DIGEST
    # purl-spec's oci type: name is the last path segment, the repository goes in a qualifier.
    oci = PackageURL.from_string(doc["metadata"]["component"]["purl"])
    assert (oci.type, oci.name, oci.version, oci.qualifiers) == (
        "oci", "python", DIGEST,
        {"repository_url": "docker.io/library/python", "tag": "3.11-bookworm"},
    )
    libraries = [c for c in doc["components"] if c["type"] == "library"]
    assert len(libraries) == len(catalog.packages) > 100
    assert len({c["bom-ref"] for c in libraries}) == len(libraries)
    got = sorted(
        (c["purl"], c["name"], c["version"],
         tuple(sorted(o["location"] for o in c["evidence"]["occurrences"])),
         {p["name"]: p["value"] for p in c["properties"]}["imagetrust:cataloger"],
         {p["name"]: p["value"] for p in c["properties"]}["imagetrust:layer:diffID"])
        for c in libraries
    )
    want = sorted(
        (p.purl, p.name, p.version, tuple(sorted(loc.path for loc in p.locations)), p.cataloger,
         min(p.locations, key=lambda loc: loc.layer_index).diff_id)
        for p in catalog.packages
    )
    assert got == want
    # The root depends on everything: the dependency graph is complete.
    root = next(d for d in doc["dependencies"] if d["ref"] == "image")
    assert len(root["dependsOn"]) == len(doc["components"])


def test_os_component_and_licences(document: str) -> None:
    doc = json.loads(document)
    (os_comp,) = [c for c in doc["components"] if c["type"] == "operating-system"]
    assert (os_comp["name"], os_comp["version"]) == (DEBIAN.id, DEBIAN.version_id)
    bash = next(c for c in doc["components"] if c["name"] == "bash")
    assert bash["licenses"] == [{"license": {"id": "GPL-3.0-or-later"}}]
    packaging = next(c for c in doc["components"] if c["name"] == "packaging")
    assert packaging["licenses"] == [{"expression": "Apache-2.0 OR BSD-2-Clause"}]


def test_round_trip_through_read_sbom(catalog: Catalog, document: str, tmp_path: Path) -> None:
    path = tmp_path / "sbom.cdx.json"
    path.write_text(document)
    back = read_sbom(path)
    assert sorted(map(identity, back.packages)) == sorted(map(identity, catalog.packages))
    assert back.os == DEBIAN
    bash = next(p for p in back.packages if p.name == "bash")
    assert bash.licenses == BASH.licenses
    assert back.skips == ()
