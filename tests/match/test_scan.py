"""scan_catalog end to end: real fixture images, a real local feed mirror of re-keyed real records
(see tests/match/scan_feeds.py), expectations from real dpkg / packaging / node-semver."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from packaging.version import Version

from imagetrust.api import open_image
from imagetrust.catalog.model import Catalog
from imagetrust.catalog.run import catalog_image
from imagetrust.config import load_settings
from imagetrust.errors import DatabaseError
from imagetrust.match.db import update_feeds
from imagetrust.match.model import ScanSubject
from imagetrust.match.scan import required_feeds, scan_catalog
from tests.match.conftest import base_urls
from tests.match.scan_feeds import REKEYED, scan_mirror, tracker_entry
from tests.support.feedserver import serve


def dpkg_lt(a: str, b: str) -> bool:
    return subprocess.run(["dpkg", "--compare-versions", a, "lt", b], check=False).returncode == 0


def node_semver_lt(a: str, b: str) -> bool:
    """node-semver as bundled with npm, the reference implementation for npm ranges."""
    npm_root = subprocess.run(["npm", "root", "-g"], capture_output=True, text=True,
                              check=True).stdout.strip()
    script = (f"const s=require('{npm_root}/npm/node_modules/semver');"
              f"process.exit(s.lt('{a}','{b}')?0:1)")
    return subprocess.run(["node", "-e", script], check=False).returncode == 0


def _catalog(target: str, tmp: Path) -> Catalog:
    settings = load_settings(cache_dir=tmp)
    with open_image(target, settings=settings) as opened:
        return catalog_image(opened.source, opened.image, cache_dir=tmp)


@pytest.fixture(scope="module")
def app_catalog(images: Any, tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    return _catalog(f"docker-archive:{images.app_archive}", tmp_path_factory.mktemp("c"))


@pytest.fixture(scope="module")
def polyglot_catalog(images: Any, tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    return _catalog(f"oci-dir:{images.layout}:polyglot", tmp_path_factory.mktemp("c"))


def test_required_feeds_follow_the_image(app_catalog: Catalog, polyglot_catalog: Catalog) -> None:
    assert required_feeds(app_catalog).required == ("debian-tracker",)
    types = {p.type for p in polyglot_catalog.packages}
    assert {"pypi", "npm", "golang", "maven"} <= types
    assert required_feeds(polyglot_catalog).required == (
        "debian-tracker", "osv/Go", "osv/Maven", "osv/PyPI", "osv/npm",
    )


def test_app_findings_match_the_tracker(
    app_catalog: Catalog, mirror: Path, test_data: Path, tmp_path: Path
) -> None:
    scan_mirror(mirror, test_data)
    db = tmp_path / "db.sqlite"
    with serve(mirror) as server:
        result = scan_catalog(
            app_catalog, db, subject=ScanSubject("app"), base_urls=base_urls(server.url),
            nvd_url=f"{server.url}/nvd",
        )
        assert server.count("/tracker/data/json", 200) == 1
        assert server.count("/osv/PyPI/all.zip") == 0  # only what the image needs
        assert server.count("/nvd/CVE-2017-6507.json") == 1  # unrated by Debian → NVD
    found = {(f.package.name, f.id): f for f in result.findings}

    expected: set[tuple[str, str]] = set()
    for source, cve, (real, release) in REKEYED:
        entry = tracker_entry(test_data, real, cve, release)
        for pkg in app_catalog.packages:
            if (pkg.source_name or pkg.name) != source:
                continue
            installed = pkg.source_version or pkg.version
            fixed = entry.get("fixed_version")
            is_open = entry["status"] == "open"
            if is_open or (fixed not in (None, "0") and dpkg_lt(installed, fixed)):
                expected.add((pkg.name, cve))
    assert set(found) == expected
    assert {"libc6", "libc-bin"} <= {name for name, cve in found if cve == "CVE-2016-1585"}

    libc = found[("libc6", "CVE-2016-1585")]
    assert (libc.fix_state, libc.severity, libc.severity_source) == (
        "not-fixed", "negligible", "debian")
    jq = found[("jq", "CVE-2025-53603")]
    assert (jq.fix_state, jq.fixed_version) == ("fixed", "5.8.0-1+deb12u1")
    eol = [f for f in result.findings if f.id == "CVE-2022-0456"]
    assert eol and {f.fix_state for f in eol} == {"end-of-life"}
    zstd = found[("libzstd1", "CVE-2017-6507")]
    nvd = json.loads((mirror / "nvd/CVE-2017-6507.json").read_text())["vulnerabilities"][0]["cve"]
    v31 = nvd["metrics"]["cvssMetricV30"][0]["cvssData"]  # the only v3 metric it has
    assert zstd.severity_source == "nvd"
    assert zstd.severity == v31["baseSeverity"].lower()
    assert zstd.cvss is not None and zstd.cvss.score == v31["baseScore"]
    assert [f.name for f in result.feeds][:1] == ["debian-tracker"]


def test_polyglot_language_findings(
    polyglot_catalog: Catalog, mirror: Path, test_data: Path, tmp_path: Path
) -> None:
    scan_mirror(mirror, test_data)
    db = tmp_path / "db.sqlite"
    with serve(mirror) as server:
        urls = base_urls(server.url)
        result = scan_catalog(polyglot_catalog, db, base_urls=urls, nvd=False)
    lang = {(f.package.type, f.package.name): f for f in result.findings
            if f.package.type != "deb"}
    pkgs = {(p.type, p.name): p for p in polyglot_catalog.packages}
    urllib3 = pkgs[("pypi", "urllib3")]
    assert (Version(urllib3.version) < Version("2.6.1")) == (("pypi", "urllib3") in lang)
    assert lang[("pypi", "urllib3")].fixed_version == "2.6.1"
    assert lang[("pypi", "urllib3")].id == "CVE-2021-21337"
    assert "GHSA-p44j-xrqg-4xrr" in lang[("pypi", "urllib3")].aliases
    requests = pkgs[("pypi", "requests")]  # PYSEC-2023-74: introduced 2.3.0, fixed 2.31.0
    in_range = Version("2.3.0") <= Version(requests.version) < Version("2.31.0")
    assert in_range == (("pypi", "requests") in lang)
    minimist = pkgs[("npm", "minimist")]
    assert node_semver_lt(minimist.version, "1.10.3") == (("npm", "minimist") in lang)
    lodash = pkgs[("npm", "lodash")]
    lodash_hit = not node_semver_lt(lodash.version, "2.1.1-0") and node_semver_lt(
        lodash.version, "3.0.0")
    assert lodash_hit == (("npm", "lodash") in lang)


def test_offline_missing_feed_names_it(app_catalog: Catalog, tmp_path: Path) -> None:
    with pytest.raises(DatabaseError) as info:
        scan_catalog(app_catalog, tmp_path / "none.sqlite", offline=True)
    text = str(info.value)
    assert "debian-tracker" in text and "imagetrust db import" in text and "\n" not in text


def test_offline_uses_the_stored_db_and_warns_for_enrichment(
    app_catalog: Catalog, mirror: Path, test_data: Path, tmp_path: Path
) -> None:
    scan_mirror(mirror, test_data)
    db = tmp_path / "db.sqlite"
    with serve(mirror) as server:
        update_feeds(db, ["debian-tracker"], base_urls=base_urls(server.url))
    shutil.copy(db, tmp_path / "before.sqlite")
    result = scan_catalog(app_catalog, db, offline=True)
    assert any(f.id == "CVE-2016-1585" for f in result.findings)
    assert any("kev" in w for w in result.warnings) and any("epss" in w for w in result.warnings)
    assert db.read_bytes() == (tmp_path / "before.sqlite").read_bytes()
