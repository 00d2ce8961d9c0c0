"""VEX documents of all three formats read into statements, checked against the documents'
JSON read independently here (never against what the parser itself wrote)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from imagetrust.errors import ImagetrustError, PolicyError
from imagetrust.policy.purlmatch import in_vers_range, purl_matches
from imagetrust.policy.vex import load_vex

DATA = Path(__file__).resolve().parents[1] / "data" / "vex"


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", ["trivy-oci.openvex.json", "trivy.openvex.json"])
def test_openvex_samples(test_data: Path, name: str) -> None:
    path = test_data / "vex" / name
    doc = _json(path)
    statements = load_vex(path)
    assert len(statements) == len(doc["statements"]) > 0
    for index, (raw, got) in enumerate(zip(doc["statements"], statements, strict=True)):
        assert got.index == index and got.source == str(path) and got.format == "openvex"
        assert got.vulnerability == raw["vulnerability"]["name"]
        assert list(got.aliases) == raw["vulnerability"].get("aliases", [])
        assert got.status == raw["status"]
        assert got.justification == raw.get("justification")
        assert got.impact_statement == raw.get("impact_statement")
        assert [p.purl for p in got.products] == [p["@id"] for p in raw["products"]]
        assert [list(p.subcomponents) for p in got.products] == [
            [s["@id"] for s in p.get("subcomponents", [])] for p in raw["products"]]
        assert got.label == f"{path}#{index}"


def test_red_hat_csaf_vex(test_data: Path, tmp_path: Path) -> None:
    """The real Red Hat document was trimmed of ``product_status`` (SOURCES.md), so it states
    nothing; a copy given the status Red Hat publishes for the products its ``vendor_fix``
    remediation names yields one ``fixed`` statement with those products' purls."""
    path = test_data / "redhat" / "csaf-vex" / "cve-2024-10041.json"
    assert load_vex(path) == ()
    doc = _json(path)
    vuln = doc["vulnerabilities"][0]
    fix = next(r for r in vuln["remediations"] if r["category"] == "vendor_fix")
    vuln["product_status"] = {"fixed": fix["product_ids"]}
    copy = tmp_path / "cve-2024-10041-with-status.json"
    copy.write_text(json.dumps(doc), encoding="utf-8")
    (statement,) = load_vex(copy)
    assert statement.vulnerability == vuln["cve"] == "CVE-2024-10041"
    assert statement.status == "fixed" and statement.format == "csaf"
    assert statement.action_statement == fix["details"]
    # relationship product ids resolve to the purl of their product_reference
    by_id = {}
    for arch in doc["product_tree"]["branches"][0]["branches"][2:]:
        product = arch["branches"][0]["product"]
        by_id[product["product_id"]] = product["product_identification_helper"]["purl"]
    rels = {r["full_product_name"]["product_id"]: by_id[r["product_reference"]]
            for r in doc["product_tree"]["relationships"]}
    assert [p.purl for p in statement.products] == [rels[i] for i in fix["product_ids"]]


def test_csaf_with_relationships_and_flags() -> None:
    path = DATA / "trivy-csaf-relationships.json"
    doc = _json(path)
    (statement,) = load_vex(path)
    vuln = doc["vulnerabilities"][0]
    assert statement.vulnerability == vuln["cve"]
    assert statement.status == "not_affected"
    assert statement.justification == vuln["flags"][0]["label"]
    assert statement.impact_statement == vuln["threats"][0]["details"]
    assert [p.purl for p in statement.products] == [
        "pkg:golang/github.com/aquasecurity/go-transitive@v4.0.0"]


def test_cyclonedx_vex_with_bom_links() -> None:
    path = DATA / "trivy-cyclonedx.json"
    doc = _json(path)
    statements = load_vex(path)
    assert [s.vulnerability for s in statements] == [v["id"] for v in doc["vulnerabilities"]]
    assert all(s.status == "not_affected" for s in statements)
    assert statements[0].justification == doc["vulnerabilities"][0]["analysis"]["justification"]
    ref = doc["vulnerabilities"][1]["affects"][0]["ref"]
    (product,) = statements[1].products
    assert product.purl == ref.split("#", 1)[1]
    assert product.version_range == doc["vulnerabilities"][1]["affects"][0]["versions"][0][
        "version"]


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"[[[[" * 10000, "not valid JSON"),
        (b"\xff\xfe{", "not valid JSON"),
        (b'{"hello": 1}', "not an OpenVEX, CSAF or CycloneDX"),
        (b'{"@context": "https://openvex.dev/ns/v0.2.0", "statements": 3}', "expected an array"),
        (b'{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [{"vulnerability": '
         b'{"name": "CVE-1"}, "products": [], "status": "maybe"}]}', "unknown status"),
        (b'{"document": {"csaf_version": "2.0"}, "vulnerabilities": [{"product_status": '
         b'{"fixed": ["x"]}}]}', "names no vulnerability"),
        (b'{"bomFormat": "CycloneDX", "vulnerabilities": [{"id": "CVE-1", "analysis": '
         b'{"state": "sure"}}]}', "unknown state"),
    ],
)
def test_hostile_documents_fail_with_one_error_naming_the_file(
    tmp_path: Path, content: bytes, needle: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(PolicyError) as caught:
        load_vex(path)
    assert str(path) in str(caught.value) and needle in str(caught.value)


def test_missing_and_oversized_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ImagetrustError, match="cannot read VEX file"):
        load_vex(tmp_path / "absent.json")
    import imagetrust.policy.vex.load as load

    monkeypatch.setattr(load, "MAX_BYTES", 10)
    big = tmp_path / "big.json"
    big.write_text('{"statements": []}')
    with pytest.raises(PolicyError, match="larger than"):
        load_vex(big)


def test_purl_and_range_matching() -> None:
    installed = "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12"
    assert purl_matches("pkg:deb/debian/libc6", installed)
    assert purl_matches("pkg:deb/debian/libc6?arch=amd64", installed)
    assert not purl_matches("pkg:deb/debian/libc6?arch=arm64", installed)
    assert purl_matches("pkg:deb/debian/libc6@2.36-9+deb12u4", installed)
    assert not purl_matches("pkg:deb/debian/libc6@2.36-9", installed)
    assert not purl_matches("pkg:deb/ubuntu/libc6", installed)
    # dpkg ordering, not text: 2.36-9+deb12u4 > 2.36-9 and < 2.36-10
    assert in_vers_range("vers:deb/>=2.36-9|<2.36-10", "deb", "2.36-9+deb12u4")
    assert not in_vers_range("vers:deb/>=2.36-10", "deb", "2.36-9+deb12u4")
    assert in_vers_range("vers:deb/<2.30|>2.36-9", "deb", "2.36-9+deb12u4")
    assert not in_vers_range("vers:deb/!=2.36-9+deb12u4", "deb", "2.36-9+deb12u4")
    assert in_vers_range("vers:deb/*", "deb", "1")
