"""Red Hat CSAF, Oracle ELSA and Amazon ALAS parsers on the real samples in tests/data/feeds.

Expected rows are read from the sample documents by the test (stdlib JSON), not from the parser.
"""

from __future__ import annotations

import bz2
import copy
import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from imagetrust.catalog.model import Location, Package
from imagetrust.errors import FeedError
from imagetrust.match.db.store import Affected
from imagetrust.match.feeds import detect, resolve_units
from imagetrust.match.feeds import redhat_csaf as csaf
from imagetrust.match.feeds.amazon_alas import parse_bytes as parse_alas
from imagetrust.match.feeds.oracle_elsa import parse_bytes as parse_elsa
from imagetrust.match.matchers.rpm import RpmVendorMatcher

FEEDS = Path(__file__).resolve().parents[2] / "data" / "feeds"
VEX = FEEDS / "redhat" / "cve-2024-0208.json"


def rhel_package(name: str, version: str, label: str | None = None) -> Package:
    return Package(name, version, "rpm", f"pkg:rpm/redhat/{name}@{version}", "rpm",
                   (Location("var/lib/rpm/rpmdb.sqlite", 0, "sha256:0"),),
                   source_name=name, source_version=version, architecture="x86_64",
                   metadata={"modularitylabel": label} if label else {})


def stored(rows: list[Any]) -> list[Affected]:
    return [Affected("redhat-csaf", r.ecosystem, r.package, r.advisory_id, r.state,
                     r.fixed_version, r.urgency, r.nodsa, r.nodsa_reason, (), ()) for r in rows]


def test_vex_not_affected_rows_per_release() -> None:
    doc = json.loads(VEX.read_text())
    data = csaf.parse_bytes(VEX.read_bytes())
    listed = doc["vulnerabilities"][0]["product_status"]["known_not_affected"]
    releases = sorted(pid.split(":")[0].rsplit("_", 1)[1] for pid in listed)
    assert sorted(r.ecosystem for r in data.affected) == [f"redhat:{r}" for r in releases]
    assert {(r.package, r.state, r.fixed_version) for r in data.affected} == {
        ("wireshark", "not-affected", None)}


def _moved(statuses: dict[str, list[str]], remediations: list[dict[str, Any]]) -> Any:
    """The real CVE-2024-0208 VEX with its product ids moved between status lists: Red Hat's
    documented shape for known_affected verdicts, of which no real sample is at hand."""
    doc = json.loads(VEX.read_text())
    vuln = doc["vulnerabilities"][0]
    vuln["product_status"] = statuses
    vuln["remediations"] = remediations
    return doc


@pytest.mark.parametrize(
    ("detail", "state"),
    [("Will not fix", "wont-fix"), ("Fix deferred", "deferred"),
     ("Out of support scope", "end-of-life"), ("Affected", "not-fixed")],
)
def test_known_affected_remediations_map_to_fix_states(detail: str, state: str) -> None:
    doc = _moved({"known_affected": ["red_hat_enterprise_linux_9:wireshark"],
                  "known_not_affected": ["red_hat_enterprise_linux_8:wireshark"]},
                 [{"category": "no_fix_planned" if detail != "Fix deferred" else
                   "none_available", "details": detail,
                   "product_ids": ["red_hat_enterprise_linux_9:wireshark"]}])
    data = csaf.parse_documents([doc])
    matcher = RpmVendorMatcher("rhel")
    rows = [r for r in stored(data.affected) if r.ecosystem == "redhat:9"]
    outcome = matcher.match(rhel_package("wireshark", "3.4.10-7.el9"), "redhat:9", rows)
    assert [(m.advisory_id, m.fix_state, m.fixed_version) for m in outcome.matches] == [
        ("CVE-2024-0208", state, None)]
    el8 = [r for r in stored(data.affected) if r.ecosystem == "redhat:8"]
    assert matcher.match(rhel_package("wireshark", "2.6.2-17.el8"), "redhat:8", el8).matches == ()


def test_under_investigation_is_a_finding_not_clean() -> None:
    doc = _moved({"under_investigation": ["red_hat_enterprise_linux_9:wireshark"]}, [])
    rows = stored(csaf.parse_documents([doc]).affected)
    outcome = RpmVendorMatcher("rhel").match(
        rhel_package("wireshark", "3.4.10-7.el9"), "redhat:9", rows)
    assert [(m.fix_state, m.distro_status) for m in outcome.matches] == [
        ("not-fixed", "under investigation")]


def test_advisory_fixed_rows_use_source_rpm_and_epoch() -> None:
    path = FEEDS / "redhat" / "rhsa-2024_6163.json"
    doc = json.loads(path.read_text())
    fixed = doc["vulnerabilities"][0]["product_status"]["fixed"]
    src = {pid.split(":", 1)[1] for pid in fixed}
    assert src == {"python3.9-0:3.9.18-3.el9_4.5.src"}
    data = csaf.parse_bytes(path.read_bytes())
    assert {(r.ecosystem, r.package, r.state, r.fixed_version) for r in data.affected} == {
        ("redhat:9", "python3.9", "fixed", "3.9.18-3.el9_4.5")}
    # an epoch in the installed version wins over any version-release
    rows = stored(data.affected)
    matcher = RpmVendorMatcher("rhel")
    assert matcher.match(rhel_package("python3.9", "1:3.9.0-1.el9"), "redhat:9", rows) \
        .matches == ()
    assert len(matcher.match(rhel_package("python3.9", "3.9.18-3.el9_4.4"), "redhat:9", rows)
               .matches) == 1


def test_eus_only_advisory_gives_no_mainline_rows() -> None:
    path = FEEDS / "redhat" / "rhsa-2024_4546.json"
    doc = json.loads(path.read_text())
    cpes = {p["product_identification_helper"]["cpe"]
            for p in _products(doc["product_tree"]["branches"])
            if "cpe" in p.get("product_identification_helper", {})}
    assert cpes and not any(":enterprise_linux:" in c for c in cpes)
    assert csaf.parse_bytes(path.read_bytes()).affected == []


def test_modular_rows_apply_to_their_stream_only() -> None:
    doc = json.loads((FEEDS / "redhat" / "rhsa-2024_6163.json").read_text())
    moved = copy.deepcopy(doc)
    # the component as Red Hat names a modular one (product ref and purl with rpmmod)
    ref = "python3.9-0:3.9.18-3.el9_4.5.src"
    for node in _products(moved["product_tree"]["branches"]):
        if node["product_id"] == ref:
            node["product_identification_helper"]["purl"] += "&rpmmod=python39:3.9:8100:abcdef"
    rows = stored(csaf.parse_documents([moved]).affected)
    assert {r.nodsa for r in rows} == {"python39:3.9"}
    matcher = RpmVendorMatcher("rhel")
    old = "3.9.18-1.module+el9.4.0+1+abcdef"
    assert len(matcher.match(rhel_package("python3.9", old, "python39:3.9:8100:abcdef"),
                             "redhat:9", rows).matches) == 1
    assert matcher.match(rhel_package("python3.9", old, "python39:3.8:8100:abcdef"),
                         "redhat:9", rows).matches == ()
    assert matcher.match(rhel_package("python3.9", "3.9.18-1.el9"), "redhat:9", rows) \
        .matches == ()


def _products(branches: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for branch in branches:
        if "product" in branch:
            out.append(branch["product"])
        out.extend(_products(branch.get("branches", [])))
    return out


def test_component_names() -> None:
    comp = csaf._component("nodejs:18/nodejs", None)
    assert comp is not None and (comp.name, comp.module, comp.fixed) == ("nodejs", "nodejs:18",
                                                                       None)
    comp = csaf._component("bind-32:9.16.23-5.el9_1.src", None)
    assert comp is not None and (comp.name, comp.fixed, comp.source) == (
        "bind", "32:9.16.23-5.el9_1", True)


def test_csaf_archive_tar_zst(tmp_path: Path) -> None:
    import io
    import tarfile

    import zstandard

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for path in sorted((FEEDS / "redhat").glob("*.json")):
            archive.add(path, arcname=f"2024/{path.name}")
    packed = zstandard.ZstdCompressor().compress(buffer.getvalue())
    data = csaf.parse_bytes(packed)
    assert data.record_count == 4
    target = tmp_path / "csaf_vex_latest.tar.zst"
    target.write_bytes(packed)
    parsed = detect.parse_file(target)
    assert parsed is not None and parsed[0].source == "redhat-csaf"


def test_oval_bz2_and_release_split(tmp_path: Path) -> None:
    raw = (FEEDS / "oracle" / "elsa-per-arch.xml").read_bytes()
    target = tmp_path / "com.oracle.elsa-all.xml.bz2"
    target.write_bytes(bz2.compress(raw))
    parsed = detect.parse_file(target)
    assert parsed is not None
    assert [d.source for d in parsed] == ["oracle-elsa/10", "oracle-elsa/7", "oracle-elsa/8"]
    assert sum(len(d.affected) for d in parsed) == len(parse_elsa(raw).affected)


@pytest.mark.parametrize("parse", [parse_elsa, parse_alas])
def test_xml_entity_expansion_is_refused(parse: Any) -> None:
    bomb = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><updates>&b;</updates>')
    with pytest.raises(FeedError):
        parse(bomb)


def test_alas_rows_per_release() -> None:
    data = parse_alas((FEEDS / "amazon" / "updateinfo_AL2023.xml.gz").read_bytes())
    text = gzip.decompress((FEEDS / "amazon" / "updateinfo_AL2023.xml.gz").read_bytes())
    assert {r.ecosystem for r in data.affected} == {"amazon:2023"}
    assert len(data.affected) == text.count(b"<package ")
    assert json.loads(data.advisories[0].aliases or "[]") == ["CVE-2014-3634", "CVE-2022-24903"]


def test_units() -> None:
    sources = [u.source for u in resolve_units(["oracle-elsa/9", "amazon-alas/2023",
                                                "redhat-csaf", "osv/AlmaLinux"])]
    assert sources == ["oracle-elsa/9", "amazon-alas/2023", "redhat-csaf", "osv/AlmaLinux"]
