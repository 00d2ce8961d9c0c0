"""SPDX 2.3 output: parsed and fully validated by spdx-tools, and readable back.

The writer builds plain JSON; spdx-tools (a test dependency only) is the independent judge. The
SPDX 2.3 JSON schema is not among the shared test data, so it is not checked here.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from spdx_tools.spdx.parser.json.json_parser import parse_from_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from imagetrust.catalog.model import Catalog, Location, Package
from imagetrust.catalog.sbom_input import read_sbom
from imagetrust.report.spdx import spdx_json
from tests.catalog.lang_tree import diff_id_for
from tests.report.sample import BASH, DEBIAN, DIGEST, IMAGE, identity, sample_catalog


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


# --- licences, classified by the SPDX licence list (not by the writer) ------------------------


def _declared(*licenses: str) -> tuple[str, dict[str, str]]:
    """licenseDeclared of one package with ``licenses``, and the document's LicenseRef names."""
    pkg = dataclasses.replace(BASH, licenses=licenses)
    doc = json.loads(spdx_json(Catalog(os=None, packages=(pkg,)), IMAGE, DIGEST))
    (entry,) = [p for p in doc["packages"] if p["SPDXID"] != "SPDXRef-image"]
    refs = {e["licenseId"]: e["name"] for e in doc.get("hasExtractedLicensingInfos", [])}
    return entry["licenseDeclared"], refs


@pytest.mark.parametrize(("licenses", "declared"), [
    ((), "NOASSERTION"),
    (("mit",), "MIT"),  # ids in their listed case
    (("(mit or apache-2.0)",), "MIT OR Apache-2.0"),
    (("Apache-2.0 OR BSD-3-Clause", "MIT"), "(Apache-2.0 OR BSD-3-Clause) AND MIT"),
    (("MIT", "mit"), "MIT"),  # one id once
    # GNU ids the SPDX licence list deprecated in 3.0, as Debian copyright files write them.
    (("LGPL-2.1",), "LGPL-2.1-only"),
    (("LGPL-2.1+",), "LGPL-2.1-or-later"),
    (("GFDL-1.2+",), "GFDL-1.2-or-later"),  # the SPDX "+" operator
    (("GPL-2.0+ with Classpath-exception-2.0",), "GPL-2.0-or-later WITH Classpath-exception-2.0"),
])
def test_spdx_licences_are_written_as_expressions(licenses: tuple[str, ...],
                                                  declared: str) -> None:
    assert _declared(*licenses) == (declared, {})


def test_other_licence_names_become_licence_refs_with_their_text() -> None:
    declared, refs = _declared("MIT/X11", "GPL", "LicenseRef-own", "MIT")
    parts = declared.split(" AND ")
    assert parts[-1] == "MIT"
    assert sorted(refs.values()) == ["GPL", "LicenseRef-own", "MIT/X11"]
    assert parts[:3] == list(refs)
    assert all(ref.startswith("LicenseRef-imagetrust-") for ref in refs)


def test_licence_refs_of_different_names_never_clash() -> None:
    """"GPL 2" and "GPL-2" make the same id text; the second gets a suffix."""
    declared, refs = _declared("GPL 2", "GPL-2")
    assert sorted(refs.values()) == ["GPL 2", "GPL-2"]
    assert declared == " AND ".join(refs)


# --- bytes that are not UTF-8 -----------------------------------------------------------------


def test_names_and_paths_that_are_not_utf8_stay_valid_unicode(tmp_path: Path) -> None:
    """The tar reader keeps undecodable bytes as surrogate escapes; the document shows them as
    ``\\xNN`` text, is valid UTF-8 and validates, and two paths that differ only in such a byte
    still make two packages."""
    raw_dir = b"usr/lib/python3/caf\xe9".decode("utf-8", "surrogateescape")
    other_dir = b"usr/lib/python3/caf\xe8".decode("utf-8", "surrogateescape")
    packages = tuple(
        Package(name=b"caf\xe9".decode("utf-8", "surrogateescape"), version="1.0", type="pypi",
                purl="pkg:pypi/cafe@1.0", cataloger="python", licenses=("MIT",),
                locations=(Location(f"{directory}/METADATA", 0, diff_id_for(0)),))
        for directory in (raw_dir, other_dir)
    )
    text = spdx_json(Catalog(os=None, packages=packages), IMAGE, DIGEST)
    path = tmp_path / "sbom.spdx.json"
    path.write_bytes(text.encode("utf-8"))  # strict: raises on a lone surrogate
    json.loads(path.read_bytes().decode("utf-8"))
    document = parse_from_file(str(path))
    assert validate_full_spdx_document(document, "SPDX-2.3") == []
    names = [p.name for p in document.packages if p.spdx_id != "SPDXRef-image"]
    assert names == ["caf\\xe9", "caf\\xe9"]
    assert len({p.spdx_id for p in document.packages}) == 3
    comments = {a.annotation_comment for a in document.annotations}
    assert "imagetrust:location:0:path=usr/lib/python3/caf\\xe8/METADATA" in comments


def test_writing_does_not_load_spdx_tools_or_license_expression() -> None:
    """The point of writing JSON directly: spdx-tools' import alone costs ~0.15-0.2 s."""
    code = (
        "import sys\n"
        "from imagetrust.report.spdx import spdx_json\n"
        "from tests.report.sample import sample_catalog, IMAGE, DIGEST\n"
        "spdx_json(sample_catalog(), IMAGE, DIGEST)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {\n"
        "    'spdx_tools', 'license_expression', 'boolean', 'rdflib', 'beartype'}))\n"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=root)
    assert out.stdout.strip() == "[]"
