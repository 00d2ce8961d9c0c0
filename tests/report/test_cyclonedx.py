"""CycloneDX 1.6 output: schema-valid, complete, and readable back into the same catalog.

Expectations are derived from the catalog and from the CycloneDX/purl specifications, never from
the writer; the schema check is cyclonedx-python-lib's strict validator.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from packageurl import PackageURL

from imagetrust import __version__
from imagetrust.catalog.model import Catalog, Location, OSInfo, Package
from imagetrust.catalog.sbom_input import (
    P_ARCHITECTURE,
    P_CATALOGER,
    P_EPOCH,
    P_LAYER_DIFF_ID,
    P_METADATA,
    P_OS_CODENAME,
    P_OS_DISTROLESS,
    P_OS_ID_LIKE,
    P_OS_POINT_RELEASE,
    P_SOURCE_NAME,
    P_SOURCE_VERSION,
    read_sbom,
)
from imagetrust.report.cyclonedx import cyclonedx_json
from tests.catalog.lang_tree import diff_id_for
from tests.report.sample import BASH, DEBIAN, DIGEST, IMAGE, identity, sample_catalog

VALIDATOR = JsonStrictValidator(SchemaVersion.V1_6)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return sample_catalog()


@pytest.fixture(scope="module")
def document(catalog: Catalog) -> str:
    return cyclonedx_json(catalog, IMAGE, DIGEST)


def assert_valid(document: str) -> dict[str, Any]:
    errors = VALIDATOR.validate_str(document)
    assert errors is None, errors
    doc: dict[str, Any] = json.loads(document)
    return doc


def props(comp: dict[str, Any]) -> dict[str, str]:
    pairs = [(p["name"], p["value"]) for p in comp.get("properties", [])]
    assert len(pairs) == len(dict(pairs)), "a property name appears twice"
    return dict(pairs)


def expected_properties(pkg: Package) -> dict[str, str]:
    """What every package must carry, from the catalog fields and the property vocabulary."""
    want = {P_CATALOGER: pkg.cataloger,
            P_LAYER_DIFF_ID: min(pkg.locations, key=lambda loc: loc.layer_index).diff_id}
    for i, loc in enumerate(pkg.locations):
        want[f"imagetrust:location:{i}:path"] = loc.path
        want[f"imagetrust:location:{i}:layerDiffID"] = loc.diff_id
        want[f"imagetrust:location:{i}:layerIndex"] = str(loc.layer_index)
    for key, value in ((P_SOURCE_NAME, pkg.source_name), (P_SOURCE_VERSION, pkg.source_version),
                       (P_ARCHITECTURE, pkg.architecture), (P_EPOCH, pkg.epoch)):
        if value is not None:
            want[key] = str(value)
    want.update({P_METADATA + k: v for k, v in pkg.metadata.items()})
    return want


def test_valid_against_the_cyclonedx_1_6_schema(document: str) -> None:
    doc = assert_valid(document)
    assert (doc["bomFormat"], doc["specVersion"], doc["version"]) == ("CycloneDX", "1.6", 1)
    assert doc["$schema"] == "http://cyclonedx.org/schema/bom-1.6.schema.json"


def test_metadata_names_the_tool_the_time_and_the_image(document: str) -> None:
    doc = json.loads(document)
    assert uuid.UUID(doc["serialNumber"].removeprefix("urn:uuid:")).version == 4
    assert doc["serialNumber"].startswith("urn:uuid:")
    stamp = datetime.fromisoformat(doc["metadata"]["timestamp"])
    assert stamp.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - stamp) < timedelta(minutes=5)
    assert doc["metadata"]["tools"] == {"components": [
        {"type": "application", "name": "imagetrust", "version": __version__}]}
    root = doc["metadata"]["component"]
    assert (root["type"], root["bom-ref"], root["name"], root["version"]) == (
        "container", "image", IMAGE, DIGEST)
    # purl-spec's oci type: name is the last path segment, the repository goes in a qualifier.
    oci = PackageURL.from_string(root["purl"])
    assert (oci.type, oci.name, oci.version, oci.qualifiers) == (
        "oci", "python", DIGEST,
        {"repository_url": "docker.io/library/python", "tag": "3.11-bookworm"},
    )


def test_every_package_is_a_component_with_its_layer(catalog: Catalog, document: str) -> None:
    doc = json.loads(document)
    libraries = [c for c in doc["components"] if c["type"] == "library"]
    assert len(libraries) == len(catalog.packages) > 100
    # Components follow the catalog's order, so each pairs with its package.
    for comp, pkg in zip(libraries, catalog.packages, strict=True):
        assert (comp["name"], comp["version"], comp["purl"]) == (pkg.name, pkg.version, pkg.purl)
        assert comp.get("group") == (pkg.namespace if pkg.type == "maven" else None)
        assert props(comp) == expected_properties(pkg)
        assert [o["location"] for o in comp["evidence"]["occurrences"]] == [
            loc.path for loc in pkg.locations]
    assert any(c.get("group") for c in libraries) == any(
        p.type == "maven" for p in catalog.packages)
    twice = next(c for c in libraries if len(c["evidence"]["occurrences"]) == 2)
    assert props(twice)[P_LAYER_DIFF_ID] == diff_id_for(min(
        int(props(twice)[f"imagetrust:location:{i}:layerIndex"]) for i in (0, 1)))


def test_bom_refs_are_unique_and_stable(catalog: Catalog, document: str) -> None:
    doc = json.loads(document)
    refs = [c["bom-ref"] for c in doc["components"]]
    assert len(set(refs)) == len(refs)
    key = f"{BASH.purl}\0var/lib/dpkg/status@{diff_id_for(0)}"
    bash = next(c for c in doc["components"] if c["name"] == "bash")
    package_id = hashlib.sha256(key.encode()).hexdigest()[:16]
    assert bash["bom-ref"] == f"{BASH.purl}?package-id={package_id}"
    again = json.loads(cyclonedx_json(catalog, IMAGE, DIGEST))
    assert [c["bom-ref"] for c in again["components"]] == refs
    # The same package twice at the same place still gets two distinct refs.
    dup = cyclonedx_json(Catalog(os=None, packages=(BASH, BASH)), IMAGE)
    first, second = (c["bom-ref"] for c in assert_valid(dup)["components"])
    assert first != second and second.startswith(first)


def test_the_image_depends_on_every_component(document: str) -> None:
    doc = json.loads(document)
    refs = [c["bom-ref"] for c in doc["components"]]
    deps = {d["ref"]: d.get("dependsOn") for d in doc["dependencies"]}
    assert sorted(deps["image"]) == sorted(refs)
    # Every component is in the graph, with no dependencies of its own known.
    assert {ref: deps[ref] for ref in refs} == dict.fromkeys(refs)
    assert set(deps) == {"image", *refs}


def test_os_component_and_licences(document: str) -> None:
    doc = json.loads(document)
    (os_comp,) = [c for c in doc["components"] if c["type"] == "operating-system"]
    assert doc["components"][0] == os_comp  # the OS comes first, as Syft and Trivy write it
    assert (os_comp["bom-ref"], os_comp["name"], os_comp["version"], os_comp["description"]) == (
        "os:debian@12", DEBIAN.id, DEBIAN.version_id, DEBIAN.pretty_name)
    assert props(os_comp) == {P_OS_CODENAME: "bookworm", P_OS_POINT_RELEASE: "12.7"}
    bash = next(c for c in doc["components"] if c["name"] == "bash")
    assert bash["licenses"] == [{"license": {"id": "GPL-3.0-or-later"}}]
    packaging = next(c for c in doc["components"] if c["name"] == "packaging")
    assert packaging["licenses"] == [{"expression": "Apache-2.0 OR BSD-2-Clause"}]


def _pkg(name: str, licenses: tuple[str, ...], **extra: Any) -> Package:
    purl = PackageURL(type="generic", name=name, version="1.0").to_string()
    return Package(name=name, version="1.0", type="generic", purl=purl,
                   cataloger="test", locations=(Location(f"opt/{name}", 2, diff_id_for(2)),),
                   licenses=licenses, **extra)


@pytest.mark.parametrize(("licenses", "want"), [
    # One value: an SPDX id in its canonical case, an expression, or a free-text name.
    (("mit",), [{"license": {"id": "MIT"}}]),
    (("GPL-2.0+",), [{"license": {"id": "GPL-2.0+"}}]),
    (("(MIT OR Apache-2.0)",), [{"expression": "(MIT OR Apache-2.0)"}]),
    (("GPL-2.0-only WITH Classpath-exception-2.0",),
     [{"expression": "GPL-2.0-only WITH Classpath-exception-2.0"}]),
    (("MIT License",), [{"license": {"name": "MIT License"}}]),
    (("GPL-2+",), [{"license": {"name": "GPL-2+"}}]),
    # Several, all SPDX: one AND expression (compound parts in parentheses).
    (("MIT", "Apache-2.0 OR BSD-3-Clause"),
     [{"expression": "MIT AND (Apache-2.0 OR BSD-3-Clause)"}]),
    # Several, not all SPDX (Debian copyright files): ids and names; duplicates merged.
    (("GPL-2+", "zlib", "Zlib", " MIT ", "MIT", "public-domain"),
     [{"license": {"name": "GPL-2+"}}, {"license": {"id": "Zlib"}},
      {"license": {"id": "MIT"}}, {"license": {"name": "public-domain"}}]),
    # An expression among names is demoted to a name: CycloneDX forbids mixing them.
    (("MIT OR Apache-2.0", "BSD-3-clause and/or GPL-3+"),
     [{"license": {"name": "MIT OR Apache-2.0"}},
      {"license": {"name": "BSD-3-clause and/or GPL-3+"}}]),
    (("", "  "), None),
])
def test_licence_forms(licenses: tuple[str, ...], want: list[dict[str, Any]] | None) -> None:
    doc = assert_valid(cyclonedx_json(Catalog(os=None, packages=(_pkg("x", licenses),)), "x.tar"))
    (comp,) = doc["components"]
    assert comp.get("licenses") == want


def test_local_archive_without_os_or_digest(tmp_path: Path) -> None:
    """A path is no registry reference: no oci purl, no version; no OS means no OS component."""
    odd = _pkg("zé\"\\n", ("Apache-2.0",), source_name="src", source_version="0.9",
               architecture="arm64", epoch=2, metadata={"k": "v\nw"})
    text = cyclonedx_json(Catalog(os=None, packages=(odd,)), "docker-archive:/tmp/a b.tar",
                          "sha256:" + "ab" * 32)
    doc = assert_valid(text)
    assert doc["metadata"]["component"] == {
        "bom-ref": "image", "type": "container", "name": "docker-archive:/tmp/a b.tar",
        "version": "sha256:" + "ab" * 32}
    (comp,) = doc["components"]
    assert comp["name"] == odd.name and props(comp) == expected_properties(odd)
    no_digest = assert_valid(cyclonedx_json(Catalog(os=None, packages=()), IMAGE))
    assert "version" not in no_digest["metadata"]["component"]
    assert "purl" not in no_digest["metadata"]["component"]
    assert no_digest["components"] == [] and no_digest["dependencies"] == [
        {"ref": "image", "dependsOn": []}]
    path = tmp_path / "odd.cdx.json"
    path.write_text(text)
    assert list(map(identity, read_sbom(path).packages)) == [identity(odd)]


def test_os_without_version_and_distroless(tmp_path: Path) -> None:
    os_info = OSInfo(id="wolfi", version_id=None, codename=None, pretty_name=None,
                     id_like=("alpine",), distroless=True)
    doc = assert_valid(cyclonedx_json(Catalog(os=os_info, packages=()), IMAGE, DIGEST))
    (os_comp,) = doc["components"]
    assert os_comp == {
        "bom-ref": "os:wolfi@", "type": "operating-system", "name": "wolfi",
        "properties": [{"name": P_OS_ID_LIKE, "value": "alpine"},
                       {"name": P_OS_DISTROLESS, "value": "true"}]}
    path = tmp_path / "wolfi.cdx.json"
    path.write_text(json.dumps(doc))
    assert read_sbom(path).os == os_info


def test_round_trip_through_read_sbom(catalog: Catalog, document: str, tmp_path: Path) -> None:
    path = tmp_path / "sbom.cdx.json"
    path.write_text(document)
    back = read_sbom(path)
    assert sorted(map(identity, back.packages)) == sorted(map(identity, catalog.packages))
    assert back.os == DEBIAN
    bash = next(p for p in back.packages if p.name == "bash")
    assert bash.licenses == BASH.licenses
    assert back.skips == ()


def test_writing_does_not_load_the_cyclonedx_model_or_license_expression() -> None:
    """The point of writing JSON directly: these cost ~0.35 s of start-up (module docstring)."""
    code = (
        "import sys\n"
        "from imagetrust.catalog.model import Catalog\n"
        "from imagetrust.report.cyclonedx import cyclonedx_json\n"
        "from tests.report.sample import BASH, DEBIAN\n"
        "cyclonedx_json(Catalog(os=DEBIAN, packages=(BASH,)), 'x', 'sha256:' + 'a' * 64)\n"
        "print(sorted(m for m in sys.modules if m.startswith(\n"
        "    ('cyclonedx.model', 'cyclonedx.output', 'license_expression', 'boolean'))))\n"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=root)
    assert out.stdout.strip() == "[]"
