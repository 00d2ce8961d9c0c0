"""update_feeds against a real local HTTP mirror of the shared test data."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from imagetrust.errors import FeedError, UsageError
from imagetrust.match.db import ProgressEvent, VulnDB, update_feeds
from tests.match.conftest import FEEDS, base_urls
from tests.support.feedserver import serve


def _count(db: Path, sql: str, *args: object) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute(sql, args).fetchone()[0])
    finally:
        conn.close()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_update_stores_every_feed_and_honours_304(tmp_path: Path, mirror: Path) -> None:
    db = tmp_path / "db" / "v.sqlite"
    events: list[ProgressEvent] = []
    with serve(mirror) as server:
        result = update_feeds(db, FEEDS, base_urls=base_urls(server.url), progress=events.append)
        assert result.swapped
        first_hits = len(server.hits)
        tracker = json.loads((mirror / "tracker/data/json").read_bytes())
        releases = sum(len(c["releases"] or {}) for p in tracker.values() for c in p.values())
        assert _count(db, "SELECT count(*) FROM affected WHERE source='debian-tracker'") == releases
        kev = json.loads((mirror / "kev/known_exploited_vulnerabilities.json").read_bytes())
        assert _count(db, "SELECT count(*) FROM kev") == len(kev["vulnerabilities"])
        with zipfile.ZipFile(mirror / "osv/PyPI/all.zip") as archive:
            pypi = len(archive.namelist())
        assert _count(db, "SELECT record_count FROM feeds WHERE name='osv/PyPI'") == pypi
        assert _count(db, "SELECT count(*) FROM epss") == 59  # 61 lines: comment + header + 59
        names = {e.source for e in events if e.phase == "store"}
        assert "debian-tracker" in names and "alpine-secdb/v3.12/main" in names

        inode = db.stat().st_ino
        again = update_feeds(db, FEEDS, base_urls=base_urls(server.url))
        assert not again.swapped and not any(o.changed for o in again.outcomes)
        new_hits = server.hits[first_hits:]
        assert len(new_hits) == first_hits  # one request per feed unit, each answered 304
        assert {h.status for h in new_hits} == {304}
        assert all("If-None-Match" in h.headers for h in new_hits)
        assert db.stat().st_ino == inode  # nothing rebuilt


def test_changed_feed_is_downloaded_again_and_others_kept(tmp_path: Path, mirror: Path) -> None:
    db = tmp_path / "v.sqlite"
    with serve(mirror) as server:
        update_feeds(db, ["kev", "osv/npm"], base_urls=base_urls(server.url))
        kev_file = mirror / "kev/known_exploited_vulnerabilities.json"
        doc = json.loads(kev_file.read_bytes())
        doc["vulnerabilities"] = doc["vulnerabilities"][:10]
        kev_file.write_text(json.dumps(doc))
        result = update_feeds(db, ["kev", "osv/npm"], base_urls=base_urls(server.url))
        assert {o.name: o.changed for o in result.outcomes} == {"kev": True, "osv/npm": False}
        assert server.count("/osv/npm/all.zip", 200) == 1
    assert _count(db, "SELECT count(*) FROM kev") == 10
    assert _count(db, "SELECT count(*) FROM advisories WHERE source='osv/npm'") == 6


def test_gzip_transfer_encoding(tmp_path: Path, mirror: Path) -> None:
    plain, zipped = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    with serve(mirror) as server:
        update_feeds(plain, ["debian-tracker", "kev"], base_urls=base_urls(server.url))
    with serve(mirror, gzip=True) as server:
        update_feeds(zipped, ["debian-tracker", "kev"], base_urls=base_urls(server.url))
        assert all(h.status == 200 for h in server.hits)
        assert all("gzip" in h.headers.get("Accept-Encoding", "") for h in server.hits)
    query = "SELECT count(*) FROM affected"
    assert _count(plain, query) == _count(zipped, query) > 0


def test_only_requested_feeds_are_fetched(tmp_path: Path, mirror: Path) -> None:
    with serve(mirror) as server:
        update_feeds(tmp_path / "v.sqlite", ["osv/pypi"], base_urls=base_urls(server.url))
        assert [h.path for h in server.hits] == ["/osv/PyPI/all.zip"]
    with pytest.raises(UsageError, match="unknown feed 'nope'"):
        update_feeds(tmp_path / "v.sqlite", ["nope"])


@pytest.mark.parametrize("how", ["truncate", "bad-json", "http-500", "truncate-gzip"])
def test_broken_feed_leaves_previous_database(tmp_path: Path, mirror: Path, how: str) -> None:
    db = tmp_path / "v.sqlite"
    with serve(mirror) as server:
        update_feeds(db, ["debian-tracker", "kev"], base_urls=base_urls(server.url))
        before = _sha(db)
        server.break_path("tracker/data/json", how)
        with pytest.raises(FeedError, match="debian-tracker") as info:
            update_feeds(db, ["kev", "debian-tracker"], base_urls=base_urls(server.url))
        assert "\n" not in str(info.value)
    assert _sha(db) == before
    with VulnDB.open(db) as vdb:
        assert vdb.affected("debian:buster", ["prototypejs"])
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_wrong_shape_and_empty_feeds_are_rejected(tmp_path: Path, mirror: Path) -> None:
    db = tmp_path / "v.sqlite"
    with serve(mirror) as server:
        update_feeds(db, ["debian-tracker"], base_urls=base_urls(server.url))
        before = _sha(db)
        (mirror / "tracker/data/json").write_bytes(
            (mirror / "kev/known_exploited_vulnerabilities.json").read_bytes()
        )
        with pytest.raises(FeedError, match="debian-tracker: package 'title'"):
            update_feeds(db, ["debian-tracker"], base_urls=base_urls(server.url))
        (mirror / "tracker/data/json").write_bytes(b"{}")
        with pytest.raises(FeedError, match="no records"):
            update_feeds(db, ["debian-tracker"], base_urls=base_urls(server.url))
    assert _sha(db) == before


_KILL_SCRIPT = """
import os, signal, sys
from pathlib import Path
from imagetrust.match.db.writer import build
from imagetrust.match.feeds import kev
data = kev.parse_bytes(Path(sys.argv[2]).read_bytes())
with build(Path(sys.argv[1])) as writer:
    writer.apply(data, url="file:x")
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_kill_during_build_keeps_previous_database(tmp_path: Path, mirror: Path) -> None:
    db = tmp_path / "v.sqlite"
    with serve(mirror) as server:
        update_feeds(db, ["osv/npm"], base_urls=base_urls(server.url))
    before = _sha(db)
    kev_file = mirror / "kev/known_exploited_vulnerabilities.json"
    proc = subprocess.run(
        [sys.executable, "-c", _KILL_SCRIPT, str(db), str(kev_file)],
        capture_output=True, env={**os.environ}, timeout=120, check=False,
    )
    assert proc.returncode == -9, proc.stderr.decode()
    assert _sha(db) == before
    leftovers = list(tmp_path.glob(".v.sqlite.*.tmp"))
    assert leftovers  # the killed writer's temporary file
    with serve(mirror) as server:
        update_feeds(db, ["kev"], base_urls=base_urls(server.url))
    assert not any(p.exists() for p in leftovers)  # cleaned by the next writer
    assert _count(db, "SELECT count(*) FROM advisories WHERE source='osv/npm'") == 6
