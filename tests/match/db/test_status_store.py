"""db_status ages and the read API the matchers use."""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from imagetrust.errors import DatabaseError
from imagetrust.match.db import VulnDB, db_status, import_feed, resolve_db_path
from imagetrust.match.db.writer import build
from imagetrust.match.feeds.model import AffectedRow, FeedData


def test_status_reports_age_and_staleness(tmp_path: Path, test_data: Path) -> None:
    db = tmp_path / "v.sqlite"
    import_feed(db, test_data / "nvd/kev/known_exploited_vulnerabilities.json",
                now="2025-08-25T00:00:00Z")
    import_feed(db, test_data / "nvd/epss/vunnel-epss-example-1.csv", now="2025-08-27T12:00:00Z")
    now = datetime(2025, 8, 29, 0, 0, tzinfo=UTC)
    status = {s.name: s for s in db_status(db, now=now)}
    assert status["kev"].age == timedelta(days=4) and status["kev"].stale
    assert status["kev"].record_count == 1404
    assert status["epss"].age == timedelta(days=1, hours=12) and not status["epss"].stale
    assert status["epss"].record_count == 5
    relaxed = {s.name: s.stale for s in db_status(db, now=now, max_age=timedelta(days=5))}
    assert relaxed == {"epss": False, "kev": False}


def test_missing_or_foreign_database_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match="no vulnerability database at .*db update"):
        db_status(tmp_path / "absent.sqlite")
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(DatabaseError, match="not a readable vulnerability database"):
        VulnDB.open(junk)


def test_db_path_resolution(tmp_path: Path) -> None:
    assert resolve_db_path(None, tmp_path, {}) == tmp_path / "db" / "imagetrust.sqlite"
    assert resolve_db_path(None, tmp_path, {"IMAGETRUST_DB": "/x/y.sqlite"}) == Path("/x/y.sqlite")
    assert resolve_db_path(tmp_path / "a", tmp_path, {"IMAGETRUST_DB": "/x"}) == tmp_path / "a"


def test_read_api_returns_feed_words(tmp_path: Path, test_data: Path) -> None:
    db = tmp_path / "v.sqlite"
    import_feed(db, test_data / "debian/osvdev-debian_security_tracker_mock.json")
    import_feed(db, test_data / "osv/records/PyPI")
    import_feed(db, test_data / "nvd/api2.0/osvdev-nvdcve-2.0")
    raw = json.loads((test_data / "debian/osvdev-debian_security_tracker_mock.json").read_bytes())
    with VulnDB.open(db) as vdb:
        rows = vdb.affected("debian:bookworm", ["apparmor"])["apparmor"]
        want = {c: b["releases"]["bookworm"] for c, b in raw["apparmor"].items()}
        assert {r.advisory_id: (r.state, r.fixed_version) for r in rows} == {
            c: (r["status"], r.get("fixed_version")) for c, r in want.items()
        }
        # PyPI names are looked up PEP 503-normalised
        hits = vdb.affected("pypi", ["Requests"])
        assert "PYSEC-2023-74" in {r.advisory_id for r in hits["requests"]}
        rng = next(r for r in hits["requests"] if r.advisory_id == "PYSEC-2023-74").ranges
        assert [(e.kind, e.version) for e in rng[0].events] == [
            ("introduced", "2.3.0"), ("fixed", "2.31.0")
        ]
        sev = vdb.severities(["CVE-2016-1585"])["CVE-2016-1585"]
        assert {(s.origin, s.type, s.score) for s in sev} == {
            ("nvd@nist.gov", "CVSS_V3", 9.8), ("security@ubuntu.com", "CVSS_V3", 3.9),
            ("nvd@nist.gov", "CVSS_V2", 7.5),
        }


def test_lookup_uses_the_index_and_is_fast(tmp_path: Path) -> None:
    """10,000 catalogued packages against 300,000 rows: one indexed query."""
    db = tmp_path / "big.sqlite"
    rows = [
        AffectedRow("debian:bookworm", f"pkg{i % 100_000}", f"CVE-2024-{i}", "open", None, "low",
                    None, None, None, None, None)
        for i in range(300_000)
    ]
    with build(db) as writer:
        writer.apply(FeedData("debian-tracker", "debian-tracker", len(rows), affected=rows),
                     url=None)
    conn = sqlite3.connect(db)
    plan = conn.execute(
        "EXPLAIN QUERY PLAN SELECT * FROM affected WHERE ecosystem = ? AND package IN"
        " (SELECT value FROM json_each(?))", ("debian:bookworm", "[]"),
    ).fetchall()
    conn.close()
    assert any("USING INDEX affected_lookup" in str(step) for step in plan)
    # 10,000 names, one in ten known to the database (3 advisories each)
    names = [f"pkg{i}" if i % 10 == 0 else f"other{i}" for i in range(10_000)]
    with VulnDB.open(db) as vdb:
        start = time.perf_counter()
        found = vdb.affected("debian:bookworm", names)
        elapsed = time.perf_counter() - start
    assert len(found) == 1000 and all(len(v) == 3 for v in found.values())
    assert elapsed < 1.0  # ~30 ms measured idle; loose bound for a shared 2-core machine
