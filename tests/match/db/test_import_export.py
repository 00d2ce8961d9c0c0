"""Offline import by content and bundle round trips."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from imagetrust.errors import FeedError
from imagetrust.match.db import VulnDB, db_status, export_bundle, import_feed
from tests.match.conftest import zip_records


def _dump(db: Path) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        out: list[tuple[object, ...]] = []
        for table in ("advisories", "affected", "severities", "kev", "epss", "feeds"):
            out.extend(sorted(conn.execute(f"SELECT '{table}', * FROM {table}"), key=repr))
        return out
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("relpath", "feed", "source"),
    [
        ("debian/vunnel-debian-tracker-fixture.json", "debian-tracker", "debian-tracker"),
        ("alpine/secdb-json-vuln-list-update/312-main.json", "alpine-secdb",
         "alpine-secdb/v3.12/main"),
        ("nvd/api2.0/vunnel-full-page.json", "nvd", "nvd"),
        ("nvd/api2.0/vuln-list-update-CVE-2024-5732.json", "nvd", "nvd"),
        ("nvd/kev/known_exploited_vulnerabilities.json", "kev", "kev"),
        ("nvd/kev/grype-kev-entries.json", "kev", "kev"),
        ("nvd/epss/vunnel-epss-example-1.csv", "epss", "epss"),
        ("nvd/epss/grype-epss.json", "epss", "epss"),
        ("osv/records/Go/GO-2022-0969.json", "osv", "osv/Go"),
    ],
)
def test_feed_recognised_from_content(
    tmp_path: Path, test_data: Path, relpath: str, feed: str, source: str
) -> None:
    # copied under a misleading name: recognition must not rely on it
    path = tmp_path / "download.bin"
    shutil.copy(test_data / relpath, path)
    result = import_feed(tmp_path / "v.sqlite", path)
    assert [o.name for o in result.outcomes] == [source]
    conn = sqlite3.connect(tmp_path / "v.sqlite")
    assert conn.execute("SELECT feed FROM feeds WHERE name = ?", (source,)).fetchone() == (feed,)
    conn.close()


def test_osv_zip_and_directory_import(tmp_path: Path, test_data: Path) -> None:
    files = sorted((test_data / "osv/records").rglob("*.json"))
    db = tmp_path / "v.sqlite"
    result = import_feed(db, test_data / "osv/records")
    families = {json.loads(f.read_bytes())["affected"][0]["package"]["ecosystem"].split(":")[0]
                for f in files}
    assert {o.name for o in result.outcomes} == {f"osv/{f}" for f in families}
    assert sum(o.record_count or 0 for o in result.outcomes) == len(files)

    cargo = sorted((test_data / "osv/records/crates.io").glob("*.json"))
    archive = zip_records(cargo, tmp_path / "crates.io" / "all.zip")
    import_feed(db, archive)
    status = {s.name: s.record_count for s in db_status(db)}
    assert status["osv/crates.io"] == len(cargo)


def test_unrecognised_and_corrupt_files(tmp_path: Path, test_data: Path) -> None:
    db = tmp_path / "v.sqlite"
    import_feed(db, test_data / "nvd/kev/known_exploited_vulnerabilities.json")
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    stray = tmp_path / "notes.json"
    stray.write_text('{"hello": "world"}')
    with pytest.raises(FeedError, match="not a feed imagetrust recognises"):
        import_feed(db, stray)
    broken = tmp_path / "all.zip"
    data = zip_records(sorted((test_data / "osv/records/npm").glob("*.json")), broken).read_bytes()
    broken.write_bytes(data[: len(data) // 2])
    with pytest.raises(FeedError, match="truncated zip"):
        import_feed(db, broken)
    with pytest.raises(FeedError, match="does not exist"):
        import_feed(db, tmp_path / "absent")
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def test_bundle_round_trip(tmp_path: Path, test_data: Path) -> None:
    db = tmp_path / "here" / "v.sqlite"
    import_feed(db, test_data / "debian/vunnel-debian-tracker-fixture.json")
    import_feed(db, test_data / "nvd/kev/known_exploited_vulnerabilities.json")
    bundle = export_bundle(db, tmp_path / "out" / "imagetrust-db.tar.gz")
    other = tmp_path / "there" / "v.sqlite"
    result = import_feed(other, bundle)
    assert result.bundle
    assert {o.name for o in result.outcomes} == {"debian-tracker", "kev"}
    assert _dump(other) == _dump(db)
    with VulnDB.open(other) as vdb:
        assert "CVE-2025-48384" in vdb.kev(["CVE-2025-48384"])

    # a damaged bundle is refused and the target stays intact
    before = hashlib.sha256(other.read_bytes()).hexdigest()
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(bundle.read_bytes()[: bundle.stat().st_size // 2])
    with pytest.raises(FeedError):
        import_feed(other, cut)
    assert hashlib.sha256(other.read_bytes()).hexdigest() == before
