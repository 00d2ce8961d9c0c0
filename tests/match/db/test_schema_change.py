"""A database written by another imagetrust version: a partial update must not silently start
from an empty database (dropping every other feed); a full update rebuilds it from scratch."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest

from imagetrust.errors import DatabaseError
from imagetrust.match.db import VulnDB, db_status, import_feed, update_feeds
from imagetrust.match.db.schema import SCHEMA_VERSION
from imagetrust.match.feeds import FEEDS, alpine_secdb, osv
from tests.match.conftest import add_rpm_feed_units, base_urls, zip_records
from tests.support.feedserver import serve


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _set_schema(db: Path, version: str) -> None:
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (version,))
    conn.close()


def _schema(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return str(conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0])
    finally:
        conn.close()


@pytest.mark.parametrize("version", ["1", "99"])
def test_partial_update_across_a_schema_change_is_refused(
    tmp_path: Path, mirror: Path, test_data: Path, version: str
) -> None:
    db = tmp_path / "v.sqlite"
    with serve(mirror) as server:
        update_feeds(db, ["kev", "osv/npm"], base_urls=base_urls(server.url))
        _set_schema(db, version)
        before, hits = _sha(db), len(server.hits)
        with pytest.raises(DatabaseError, match=f"has schema version {version}") as info:
            update_feeds(db, ["kev"], base_urls=base_urls(server.url))
        assert len(server.hits) == hits  # refused before downloading anything
    text = str(info.value)
    assert "would drop all the others" in text and "without --feed" in text and "\n" not in text
    with pytest.raises(DatabaseError, match="updating only some feeds"):
        import_feed(db, test_data / "nvd/kev/known_exploited_vulnerabilities.json")
    assert _sha(db) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_partial_update_over_a_foreign_file_is_refused(tmp_path: Path, test_data: Path) -> None:
    other = tmp_path / "other.sqlite"
    conn = sqlite3.connect(other)
    with conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
        conn.execute("INSERT INTO notes VALUES ('keep me')")
    conn.close()
    before = _sha(other)
    with pytest.raises(DatabaseError, match="is not an imagetrust database"):
        import_feed(other, test_data / "nvd/kev/known_exploited_vulnerabilities.json")
    assert _sha(other) == before
    empty = tmp_path / "empty.sqlite"
    empty.touch()  # an empty file holds nothing to lose
    import_feed(empty, test_data / "nvd/kev/known_exploited_vulnerabilities.json")
    assert {s.name for s in db_status(empty)} == {"kev"}


@pytest.fixture
def full_mirror(mirror: Path, test_data: Path) -> Path:
    """The mirror, completed with every default unit so that a plain ``db update`` succeeds."""
    secdb = test_data / "alpine/secdb-json-vuln-list-update"
    for rel in alpine_secdb.DEFAULT_RELEASES:
        (mirror / "alpine" / rel).mkdir(parents=True, exist_ok=True)
        for repo in alpine_secdb.REPOS:
            shutil.copy(secdb / f"312-{repo}.json", mirror / "alpine" / rel / f"{repo}.json")
    for eco in osv.DEFAULT_ECOSYSTEMS:
        if not (mirror / "osv" / eco / "all.zip").exists():
            zip_records(sorted((test_data / "osv/records" / eco).glob("*.json")),
                        mirror / "osv" / eco / "all.zip")
    add_rpm_feed_units(mirror)
    return mirror


def test_full_update_rebuilds_a_database_of_another_schema(
    tmp_path: Path, full_mirror: Path
) -> None:
    db = tmp_path / "v.sqlite"
    everything = list(FEEDS)
    with serve(full_mirror) as server:
        first = update_feeds(db, everything, base_urls=base_urls(server.url))
        units = {o.name: o.record_count for o in first.outcomes}
        _set_schema(db, "1")
        hits = len(server.hits)
        again = update_feeds(db, everything, base_urls=base_urls(server.url))
        rebuild_hits = server.hits[hits:]
    # the old rows cannot be kept, so nothing may count as "not modified": all downloaded again
    assert again.swapped and all(o.changed for o in again.outcomes)
    assert len(rebuild_hits) == len(units) and {h.status for h in rebuild_hits} == {200}
    assert not any("If-None-Match" in h.headers for h in rebuild_hits)
    assert _schema(db) == str(SCHEMA_VERSION)
    assert {s.name: s.record_count for s in db_status(db)} == units
    with VulnDB.open(db) as vdb:
        assert vdb.affected("debian:buster", ["prototypejs"])
