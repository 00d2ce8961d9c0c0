"""Each parser against real upstream files; expectations are computed from the raw JSON here."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from imagetrust.errors import FeedError
from imagetrust.match.feeds import alpine_secdb, debian_tracker, epss, kev, nvd, osv
from tests.match.conftest import zip_records


def test_debian_tracker_keeps_every_release_verbatim(test_data: Path) -> None:
    for name in ("vunnel-debian-tracker-fixture.json", "osvdev-debian_security_tracker_mock.json"):
        raw = json.loads((test_data / "debian" / name).read_bytes())
        data = debian_tracker.parse_bytes((test_data / "debian" / name).read_bytes())
        expected = {
            (f"debian:{rel}", pkg, cve): info
            for pkg, cves in raw.items()
            for cve, body in cves.items()
            for rel, info in (body["releases"] or {}).items()  # the tracker writes [] for none
        }
        assert data.record_count == sum(len(cves) for cves in raw.values())
        got = {(r.ecosystem, r.package, r.advisory_id): r for r in data.affected}
        assert got.keys() == expected.keys()
        for key, info in expected.items():
            row = got[key]
            assert row.state == info["status"]
            assert row.fixed_version == info.get("fixed_version")
            assert row.urgency == info.get("urgency")
            assert row.nodsa_reason == info.get("nodsa_reason")
        assert {a.id for a in data.advisories} == {c for cves in raw.values() for c in cves}


def test_debian_tracker_wrong_shape_names_the_feed() -> None:
    with pytest.raises(FeedError, match="debian-tracker") as info:
        debian_tracker.parse_bytes(b'{"title": "CISA catalog", "count": 3}')
    assert "\n" not in str(info.value)
    with pytest.raises(FeedError, match="not valid JSON"):
        debian_tracker.parse_bytes(b'{"openssl": {"CVE-1": ')


def test_alpine_secdb_counts_and_not_affected(test_data: Path) -> None:
    path = test_data / "alpine/secdb-json-vuln-list-update/311-main.json"
    raw = json.loads(path.read_bytes())
    data = alpine_secdb.parse_bytes(path.read_bytes())
    expected = {
        (p["pkg"]["name"], ver, cve)
        for p in raw["packages"]
        for ver, cves in p["pkg"]["secfixes"].items()
        for cve in cves
    }
    assert {(r.package, r.fixed_version, r.advisory_id) for r in data.affected} == expected
    assert data.source == "alpine-secdb/v3.11/main"
    assert {r.ecosystem for r in data.affected} == {"alpine:v3.11"}
    empty = alpine_secdb.parse_bytes(
        (test_data / "alpine/secdb-json-vuln-list-update/311-community.json").read_bytes()
    )
    assert empty.affected == [] and empty.record_count == 0

    # The real v3.19 busybox secfixes, wrapped in the secdb layout: "0" means never affected.
    busybox = json.loads((test_data / "alpine/vuln-list-3.19-main/busybox.json").read_bytes())
    doc = {"distroversion": "v3.19", "reponame": "main",
           "packages": [{"pkg": {"name": "busybox", "secfixes": busybox["secfixes"]}}]}
    rows = alpine_secdb.parse(doc).affected
    zero = set(busybox["secfixes"]["0"])
    assert {r.advisory_id for r in rows if r.state == "not-affected"} == zero
    assert all(r.fixed_version == "0" for r in rows if r.state == "not-affected")


def test_osv_zip_records(tmp_path: Path, test_data: Path) -> None:
    files = sorted((test_data / "osv/records/PyPI").glob("*.json"))
    data = osv.parse_zip(zip_records(files, tmp_path / "all.zip").read_bytes(), "osv/PyPI")
    raws = [json.loads(f.read_bytes()) for f in files]
    assert data.record_count == len(files)
    assert {a.id for a in data.advisories} == {r["id"] for r in raws}
    # every affected package with a matchable range or version list becomes one row
    expected = sum(
        1
        for r in raws if not r.get("withdrawn")
        for a in r.get("affected", [])
        if a.get("versions") or any(g["type"] != "GIT" for g in a.get("ranges", []))
    )
    assert len(data.affected) == expected
    requests = [r for r in data.affected if r.advisory_id == "PYSEC-2023-74"]
    assert len(requests) == 1 and requests[0].ecosystem == "pypi"
    assert requests[0].fixed_version == "2.31.0"  # the ECOSYSTEM fix, not the GIT commit
    assert "GIT" not in (requests[0].ranges or "")


def test_osv_withdrawn_and_ubuntu(test_data: Path) -> None:
    path = test_data / "osv/records/RubyGems/GHSA-35c4-f3rq-f9g3.json"
    withdrawn = json.loads(path.read_bytes())
    data = osv.parse_records([withdrawn], "osv/RubyGems")
    assert data.advisories[0].withdrawn == withdrawn["withdrawn"]
    assert data.affected == []

    usn = json.loads((test_data / "ubuntu/UBUNTU-CVE-2021-3782.json").read_bytes())
    data = osv.parse_records([usn], "osv/Ubuntu")
    ecosystems = {r.ecosystem for r in data.affected}
    assert "ubuntu:18.04" in ecosystems and "ubuntu-pro:16.04" in ecosystems
    assert json.loads(data.advisories[0].aliases or "[]") == ["CVE-2021-3782"]
    ubuntu_words = [s for s in data.severities if s.type == "Ubuntu"]
    assert [s.rating for s in ubuntu_words] == ["medium"]
    assert len([s for s in data.severities if s.type == "CVSS_V3"]) == 1  # duplicate dropped


def test_osv_cvss_scores_agree_with_nvd(test_data: Path) -> None:
    """OSV carries vectors only; the scores computed for them must equal NVD's for that vector."""
    nvd_scores: dict[str, tuple[float, str]] = {}
    for page in (test_data / "nvd/api2.0").rglob("*.json"):
        doc = json.loads(page.read_bytes())
        cves = [v["cve"] for v in doc["vulnerabilities"]] if "vulnerabilities" in doc else [doc]
        for cve in cves:
            for metrics in cve.get("metrics", {}).values():
                for m in metrics:
                    d = m.get("cvssData", {})
                    if d.get("vectorString", "").startswith("CVSS:3"):
                        nvd_scores[d["vectorString"]] = (d["baseScore"], d["baseSeverity"].lower())
    records = [json.loads(p.read_bytes()) for p in (test_data / "osv/records").rglob("*.json")]
    data = osv.parse_records(records, "osv/all")
    compared = 0
    for sev in data.severities:
        if sev.vector in nvd_scores:
            assert (sev.score, sev.rating) == nvd_scores[sev.vector], sev.vector
            compared += 1
    assert compared >= 5


def test_nvd_pages(test_data: Path) -> None:
    page = test_data / "nvd/api2.0/vunnel-full-page.json"
    raw = json.loads(page.read_bytes())
    data = nvd.parse_bytes(page.read_bytes())
    assert data.record_count == len(raw["vulnerabilities"]) == 38
    expected = sum(
        len(ms) for v in raw["vulnerabilities"] for ms in v["cve"].get("metrics", {}).values()
    )
    assert len(data.severities) == expected
    bare = test_data / "nvd/api2.0/vuln-list-update-CVE-2024-5732.json"
    raw_cve = json.loads(bare.read_bytes())
    v4 = raw_cve["metrics"]["cvssMetricV40"][0]["cvssData"]
    row = next(s for s in nvd.parse_bytes(bare.read_bytes()).severities if s.type == "CVSS_V4")
    assert (row.score, row.vector) == (v4["baseScore"], v4["vectorString"])


def test_kev_and_epss(test_data: Path) -> None:
    catalog = test_data / "nvd/kev/known_exploited_vulnerabilities.json"
    raw = json.loads(catalog.read_bytes())
    data = kev.parse_bytes(catalog.read_bytes())
    assert data.record_count == len(raw["vulnerabilities"]) == raw["count"]
    csv = (test_data / "nvd/epss/lodestone-epss_scores-current-first61lines.csv").read_bytes()
    lines = csv.decode().splitlines()
    rows = [line.split(",") for line in lines[2:] if line]
    for body in (csv, gzip.compress(csv)):
        parsed = epss.parse_bytes(body)
        assert [(r.cve_id, r.epss, r.percentile) for r in parsed.epss] == [
            (c, float(e), float(p)) for c, e, p in rows
        ]
        assert parsed.epss[0].date == "2026-09-29"
    with pytest.raises(FeedError, match="epss.*gzip"):
        epss.parse_bytes(gzip.compress(csv)[:200])
    with pytest.raises(FeedError, match="header"):
        epss.parse_bytes(b"cve;epss\nCVE-1;0.1\n")
