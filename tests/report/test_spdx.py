"""SPDX 2.3 output: parsed and fully validated by spdx-tools, and readable back."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from spdx_tools.spdx.parser.json.json_parser import parse_from_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from imagetrust.catalog.model import Catalog
from imagetrust.catalog.sbom_input import read_sbom
from imagetrust.report.spdx import spdx_json
from tests.report.sample import DEBIAN, DIGEST, IMAGE, identity, sample_catalog


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return sample_catalog()


@pytest.fixture(scope="module")
def written(catalog: Catalog, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("spdx") / "sbom.spdx.json"
    path.write_text(spdx_json(catalog, IMAGE, DIGEST, created=datetime(2024, 5, 1, tzinfo=UTC)))
    return path


def test_parses_and_validates_with_spdx_tools(written: Path) -> None:
    document = parse_from_file(str(written))
    assert validate_full_spdx_document(document, "SPDX-2.3") == []
    assert document.creation_info.spdx_version == "SPDX-2.3"
    assert document.creation_info.created == datetime(2024, 5, 1)


def test_structure(catalog: Catalog, written: Path) -> None:
    doc = json.loads(written.read_text())
    describes = [(r["spdxElementId"], r["relatedSpdxElement"]) for r in doc["relationships"]
                 if r["relationshipType"] == "DESCRIBES"]
    assert describes == [("SPDXRef-DOCUMENT", "SPDXRef-image")]
    libraries = [p for p in doc["packages"] if p.get("primaryPackagePurpose") == "LIBRARY"]
    assert len(libraries) == len(catalog.packages)
    purls = sorted(r["referenceLocator"] for p in libraries for r in p["externalRefs"])
    assert purls == sorted(p.purl for p in catalog.packages)
    contained = {r["relatedSpdxElement"] for r in doc["relationships"]
                 if r["relationshipType"] == "CONTAINS" and r["spdxElementId"] == "SPDXRef-image"}
    assert contained == {p["SPDXID"] for p in doc["packages"]} - {"SPDXRef-image"}
    (os_pkg,) = [p for p in doc["packages"] if p.get("primaryPackagePurpose") == "OPERATING_SYSTEM"]
    assert (os_pkg["name"], os_pkg["versionInfo"]) == ("debian", "12")
    # Licence names that are not SPDX ids are kept as LicenseRefs, not dropped.
    refs = {e["licenseId"]: e["name"] for e in doc.get("hasExtractedLicensingInfos", [])}
    assert all(k.startswith("LicenseRef-") for k in refs)


def test_round_trip_through_read_sbom(catalog: Catalog, written: Path) -> None:
    back = read_sbom(written)
    assert sorted(map(identity, back.packages)) == sorted(map(identity, catalog.packages))
    assert back.os == DEBIAN
    want = {(p.purl, p.licenses) for p in catalog.packages if len(p.licenses) == 1}
    got = {(p.purl, p.licenses) for p in back.packages if len(p.licenses) == 1}
    assert want <= got
