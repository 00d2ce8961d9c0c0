"""Bundles whose database is a crafted SQLite file with a valid manifest (right size and sha256).

Each database is a genuine export changed here with Python's sqlite3: a view that recurses
forever put in the place of ``feeds``, a view over a 2 GB zeroblob, a trigger, an extra table, a
column of another type, values of the wrong type, a value over the cap, credentials in a feed
URL. Each is refused with one line within 5 s (the schema is compared before any of it runs), the
previous database is unchanged, and ``db status`` and ``cves`` still work on it afterwards.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from imagetrust.errors import FeedError
from imagetrust.match.db import VulnDB, db_status, export_bundle, import_feed

FOREVER = ("WITH RECURSIVE x(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM x) "
           "SELECT 'n' || n AS name, 'kev' AS feed, NULL AS url, '2024-01-01T00:00:00Z' AS "
           "updated_at, n AS record_count, NULL AS sha256 FROM x")


@pytest.fixture
def genuine(tmp_path: Path, test_data: Path) -> Path:
    """A database file exactly as a genuine export ships it."""
    db = tmp_path / "src" / "v.sqlite"
    import_feed(db, test_data / "nvd/kev/known_exploited_vulnerabilities.json")
    out = export_bundle(db, tmp_path / "src" / "bundle.tar.gz")
    shipped = tmp_path / "shipped.sqlite"
    with tarfile.open(out, "r:gz") as tar:
        shipped.write_bytes(tar.extractfile("imagetrust.sqlite").read())  # type: ignore[union-attr]
    return shipped


@pytest.fixture
def target(tmp_path: Path, test_data: Path) -> Path:
    db = tmp_path / "here" / "v.sqlite"
    import_feed(db, test_data / "nvd/epss/vunnel-epss-example-1.csv")
    return db


def _bundle(tmp_path: Path, database: Path, *statements: str) -> Path:
    conn = sqlite3.connect(database)
    with conn:
        for statement in statements:
            conn.execute(statement)
    conn.close()
    data = database.read_bytes()
    manifest = json.dumps({
        "format": "imagetrust-db-bundle", "schema_version": 2,
        "database": {"name": "imagetrust.sqlite", "size": len(data),
                     "sha256": hashlib.sha256(data).hexdigest()},
        "feeds": [{"name": "kev", "url": None, "record_count": 1}],
    }).encode()
    path = tmp_path / "crafted.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, body in (("manifest.json", manifest), ("imagetrust.sqlite", data)):
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    return path


def _refused(target: Path, bundle: Path, match: str) -> None:
    before = hashlib.sha256(target.read_bytes()).hexdigest()
    listing = sorted(p.name for p in target.parent.iterdir())
    started = time.monotonic()
    with pytest.raises(FeedError, match=match) as info:
        import_feed(target, bundle)
    assert time.monotonic() - started < 5
    assert "\n" not in str(info.value)
    assert hashlib.sha256(target.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in target.parent.iterdir()) == listing  # nothing staged remains
    assert [s.name for s in db_status(target)] == ["epss"]
    with VulnDB.open(target) as vdb:
        assert vdb.epss(["CVE-1999-0001"])


@pytest.mark.parametrize(
    ("statements", "match"),
    [
        (["DROP TABLE feeds", f"CREATE VIEW feeds AS {FOREVER}"], "holds view 'feeds'"),
        (["CREATE VIEW big AS SELECT zeroblob(2000000000) AS b"], "holds view 'big'"),
        (["CREATE TRIGGER t AFTER INSERT ON kev BEGIN DELETE FROM epss; END"],
         "holds trigger 't'"),
        (["CREATE TABLE extra (a)"], "holds table 'extra'"),
        (["CREATE INDEX extra_idx ON kev (vendor)"], "holds index 'extra_idx'"),
        (["DROP TABLE epss", "CREATE TABLE epss (cve_id TEXT PRIMARY KEY, epss TEXT NOT NULL, "
          "percentile REAL NOT NULL, date TEXT) WITHOUT ROWID"],
         "holds table 'epss', which an imagetrust database does not have \\(or has with another"),
        (["DROP TABLE nvd_fetched"], "lacks table 'nvd_fetched'"),
        (["UPDATE kev SET vendor = x'00ff'"], "rows of its kev table hold values of the wrong"),
        (["UPDATE feeds SET record_count = 'many'"], "rows of its feeds table hold values of"),
        (["UPDATE kev SET notes = CAST(zeroblob(20000000) AS TEXT) WHERE cve_id IN "
          "(SELECT cve_id FROM kev LIMIT 1)"], "holds a value larger than 16777216 bytes"),
    ],
    ids=["recursive-view-as-feeds", "zeroblob-view", "trigger", "extra-table", "extra-index",
         "wrong-column-type", "missing-table", "blob-in-text", "text-in-integer", "huge-value"],
)
def test_crafted_bundle_database_is_refused(
    tmp_path: Path, genuine: Path, target: Path, statements: list[str], match: str
) -> None:
    _refused(target, _bundle(tmp_path, genuine, *statements), match)


def test_recursive_view_bundle_through_the_cli(tmp_path: Path, genuine: Path,
                                               target: Path) -> None:
    """The command exits 1 with one line, and ``db status`` answers afterwards."""
    bundle = _bundle(tmp_path, genuine, "DROP TABLE feeds", f"CREATE VIEW feeds AS {FOREVER}")
    env = {**os.environ, "IMAGETRUST_CACHE_DIR": str(tmp_path / "cache")}
    cli = [sys.executable, "-m", "imagetrust"]
    run = subprocess.run([*cli, "db", "import", "--db", str(target), str(bundle)],
                         capture_output=True, text=True, timeout=60, env=env)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert "holds view 'feeds'" in run.stderr
    status = subprocess.run([*cli, "db", "status", "--db", str(target)],
                            capture_output=True, text=True, timeout=60, env=env)
    assert status.returncode == 0 and "epss" in status.stdout


def test_credentials_in_a_crafted_feed_url_stay_out(tmp_path: Path, genuine: Path,
                                                    target: Path) -> None:
    bundle = _bundle(tmp_path, genuine,
                     "UPDATE feeds SET url = 'https://bob:hunter2@mirror.example/kev.json'")
    import_feed(target, bundle)
    assert b"hunter2" not in target.read_bytes()
    assert [s.url for s in db_status(target)] == ["https://***@mirror.example/kev.json"]


def test_meta_cannot_claim_another_schema_version(tmp_path: Path, genuine: Path,
                                                  target: Path) -> None:
    bundle = _bundle(tmp_path, genuine, "UPDATE meta SET value = 'x' WHERE key = 'schema_version'")
    import_feed(target, bundle)
    with VulnDB.open(target) as vdb:
        assert "CVE-2025-48384" in vdb.kev(["CVE-2025-48384"])
