"""The fast paths must not change a single verdict.

Debian rows are filtered in SQL (``affected_after``, from ``fixed_key``), and OSV ``versions``
lists are checked by a set of version keys. Each is compared here with the plain path it
replaces, on REAL tracker and OSV records, and a few verdicts are checked by hand.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import pytest

from imagetrust.catalog.model import Catalog, Location, OSInfo, Package
from imagetrust.match.db import VulnDB, import_feed
from imagetrust.match.db.store import Affected
from imagetrust.match.matchers import DebianMatcher
from imagetrust.match.matchers.base import MatchOutcome, RowFetcher
from imagetrust.match.matchers.osvrange import comparators, evaluate
from imagetrust.match.scan import match_catalog
from imagetrust.versions import InvalidVersion

LOC = (Location("var/lib/dpkg/status", 0, "sha256:" + "0" * 64),)
TRACKERS = ("vunnel-debian-tracker-fixture.json", "osvdev-debian_security_tracker_mock.json")
CODENAMES = {"bookworm": "12", "bullseye": "11", "buster": "10"}


class PlainDebian:
    """DebianMatcher without ``fetch_rows``: the scan reads every row with ``affected``."""

    name = "debian"

    def __init__(self) -> None:
        self._inner = DebianMatcher()

    def ecosystem(self, package: Package, os_info: OSInfo | None) -> str | None:
        return self._inner.ecosystem(package, os_info)

    def feed(self, ecosystem: str) -> str:
        return self._inner.feed(ecosystem)

    def lookup_name(self, package: Package) -> str:
        return self._inner.lookup_name(package)

    def match(self, package: Package, ecosystem: str, rows: Sequence[Affected]) -> MatchOutcome:
        return self._inner.match(package, ecosystem, rows)


@pytest.fixture(scope="module")
def db(test_data: Path, tmp_path_factory: pytest.TempPathFactory) -> VulnDB:
    root = tmp_path_factory.mktemp("prefilter")
    merged: dict[str, object] = {}
    for name in TRACKERS:
        merged.update(json.loads((test_data / "debian" / name).read_bytes()))
    (root / "tracker.json").write_text(json.dumps(merged))
    for eco in ("PyPI", "npm", "Go", "Maven", "RubyGems", "crates.io"):
        shutil.copytree(test_data / "osv/records" / eco, root / "osv" / eco)
    path = root / "db.sqlite"
    import_feed(path, root)
    return VulnDB.open(path)


def _tracker(test_data: Path) -> dict[str, dict[str, dict[str, object]]]:
    merged: dict[str, dict[str, dict[str, object]]] = {}
    for name in TRACKERS:
        merged.update(json.loads((test_data / "debian" / name).read_bytes()))
    return merged


def _versions(rel: dict[str, object]) -> list[str]:
    """Versions around every edge a row has: its fixed version, just below and above it, the
    release's shipped versions, a binNMU, an epoch, and ones dpkg refuses or barely orders."""
    found = {"0.1-1", "1:0.1-1", "99:1", "~~", "1.0 bad"}
    fixed = rel.get("fixed_version")
    if isinstance(fixed, str) and fixed not in ("", "0"):
        found |= {fixed, fixed + "~", fixed + "+b1", fixed.rsplit("-", 1)[0]}
    repos = rel.get("repositories")
    if isinstance(repos, dict):
        found |= {str(v) for v in repos.values()}
    return sorted(found)


def _packages(test_data: Path, codename: str) -> list[Package]:
    packages = []
    for source, cves in _tracker(test_data).items():
        versions: set[str] = set()
        for info in cves.values():
            rel = (info.get("releases") or {}).get(codename)  # type: ignore[union-attr]
            if isinstance(rel, dict):
                versions.update(_versions(rel))
        for i, version in enumerate(sorted(versions)):
            # two binaries of one source at one version share the SQL key; a third is older
            packages.append(Package(f"{source}-bin{i}", version, "deb", f"pkg:deb/debian/x{i}",
                                    "dpkg", LOC, source_name=source, source_version=version))
    return packages


def _verdicts(catalog: Catalog, db: VulnDB, matchers: list[object] | None) -> tuple[
        set[tuple[str, str, str, str | None, str | None]], set[str]]:
    matches, problems = match_catalog(catalog, db, matchers)  # type: ignore[arg-type]
    return {(m.package.name, m.advisory_id, m.fix_state, m.fixed_version, m.distro_status)
            for m in matches}, set(problems)


@pytest.mark.parametrize("codename", sorted(CODENAMES))
def test_sql_filter_keeps_every_verdict(db: VulnDB, test_data: Path, codename: str) -> None:
    packages = _packages(test_data, codename)
    assert len(packages) > 10
    os_info = OSInfo("debian", CODENAMES[codename], codename, f"Debian {CODENAMES[codename]}")
    catalog = Catalog(os_info, tuple(packages))
    assert isinstance(DebianMatcher(), RowFetcher) and not isinstance(PlainDebian(), RowFetcher)
    fast = _verdicts(catalog, db, None)
    plain = _verdicts(catalog, db, [PlainDebian()])
    assert fast == plain
    assert fast[0]  # there is something to lose
    assert any("1.0 bad" in p for p in fast[1])  # bad installed versions are still reported


def test_sql_filter_drops_rows_and_keeps_the_right_ones(db: VulnDB) -> None:
    eco = "debian:bookworm"
    everything = db.affected(eco, ["apparmor", "sope"])
    assert sum(map(len, everything.values())) == 4
    from imagetrust.versions.dpkg import sortable

    kept = db.affected_after(eco, {"apparmor": sortable("3.0.8-3"), "sope": sortable("5.8.0-1")})
    # by hand from the tracker records: apparmor CVE-2014-1424 is fixed in 0, CVE-2017-6507
    # fixed in 2.11.0-3 < 3.0.8-3, CVE-2016-1585 is open; sope 5.8.0-1 < 5.8.0-1+deb12u1
    assert {(r.package, r.advisory_id) for rows in kept.values() for r in rows} == {
        ("apparmor", "CVE-2016-1585"), ("sope", "CVE-2025-53603"),
    }
    fixed = db.affected_after(eco, {"sope": sortable("5.8.0-1+deb12u1")})
    assert fixed == {}
    unknown = db.affected_after(eco, {"sope": None})  # no key: nothing dropped by version
    assert [r.advisory_id for r in unknown["sope"]] == ["CVE-2025-53603"]


def test_debian_filter_is_answered_from_the_partial_index(db: VulnDB) -> None:
    """The query keeps the partial index's terms verbatim; reworded, SQLite would silently fall
    back to reading every row of every package from the table."""
    from imagetrust.match.db.store import AFFECTED_AFTER_SQL

    conn = sqlite3.connect(db.path)
    try:
        plan = conn.execute(
            f"EXPLAIN QUERY PLAN {AFFECTED_AFTER_SQL}", ("debian:bookworm", '{"sope": null}')
        ).fetchall()
    finally:
        conn.close()
    assert any("INDEX affected_open" in str(step) for step in plan), plan


def test_listed_versions_by_key_equal_comparison(db: VulnDB) -> None:
    """Every OSV row with a ``versions`` list, asked about each listed version, spellings PEP 440
    or SemVer treat as equal, and versions not listed: same verdict with and without keys."""
    checked = 0
    for eco in ("pypi", "npm", "go", "maven", "rubygems", "crates.io"):
        rows = [r for rows in db.affected(eco, _names(db, eco)).values() for r in rows]
        eco_cmp, sem_cmp = comparators(eco)
        scheme = {"pypi": "pypi", "npm": "npm", "go": "golang", "maven": "maven",
                  "rubygems": "gem", "crates.io": "cargo"}[eco]
        for row in rows:
            if not row.versions:
                continue
            probes = {*row.versions[:20], "0.0.1", "999.0.0"}
            probes |= {v + ".0" for v in row.versions[:5]}
            for probe in sorted(probes):
                try:
                    slow = evaluate(probe, row.ranges, row.versions, eco_cmp, sem_cmp)
                except InvalidVersion:
                    with pytest.raises(InvalidVersion):
                        evaluate(probe, row.ranges, row.versions, eco_cmp, sem_cmp, scheme)
                    continue
                assert evaluate(probe, row.ranges, row.versions, eco_cmp, sem_cmp, scheme) == slow
                checked += 1
    assert checked > 50


def _names(db: VulnDB, eco: str) -> list[str]:
    conn = db._conn  # the test reads the stored names directly
    return [str(r[0]) for r in conn.execute(
        "SELECT DISTINCT package FROM affected WHERE ecosystem = ?", (eco,))]
