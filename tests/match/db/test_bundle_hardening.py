"""Hostile offline bundles and databases: manifests of the wrong types, nested too deeply or too
large, database members that do not match their declared size (gzip bombs), and JSON columns an
imported database may hold. Each ends in one error line; the installed database stays intact.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import sqlite3
import tarfile
from pathlib import Path
from typing import IO, Any

import pytest

from imagetrust.errors import DatabaseError, FeedError
from imagetrust.match.db import VulnDB, db_status, export_bundle, import_feed
from imagetrust.match.db import bundle as bundle_module
from imagetrust.match.db.writer import build
from imagetrust.match.feeds import kev

DEEP = b"[" * 100_000


@pytest.fixture
def exported(tmp_path: Path, test_data: Path) -> tuple[dict[str, Any], bytes]:
    """A genuine bundle's manifest and database bytes, to tamper with."""
    db = tmp_path / "src" / "v.sqlite"
    import_feed(db, test_data / "nvd/kev/known_exploited_vulnerabilities.json")
    out = export_bundle(db, tmp_path / "src" / "bundle.tar.gz")
    with tarfile.open(out, "r:gz") as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
        data = tar.extractfile("imagetrust.sqlite").read()  # type: ignore[union-attr]
    return manifest, data


@pytest.fixture
def target(tmp_path: Path, test_data: Path) -> Path:
    """The user's current database, which no bad bundle may touch."""
    db = tmp_path / "here" / "v.sqlite"
    import_feed(db, test_data / "nvd/epss/vunnel-epss-example-1.csv")
    return db


def _write_bundle(path: Path, manifest: bytes, members: list[tuple[str, bytes]]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in [("manifest.json", manifest), *members]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _refused(target: Path, bundle: Path, error: type[Exception], match: str) -> str:
    before = _sha(target)
    with pytest.raises(error, match=match) as info:
        import_feed(target, bundle)
    assert _sha(target) == before
    assert [p.name for p in target.parent.iterdir() if p.name.endswith(".tmp")] == []
    text = str(info.value)
    assert "\n" not in text
    return text


# -- C12: manifest types and size ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"database": "imagetrust.sqlite"}, "'database' is not an object"),
        ({"database": None}, "'database' is not an object"),
        ({"database": {"name": "imagetrust.sqlite", "size": "12", "sha256": "0" * 64}},
         "'database.size' is not a byte count"),
        ({"database": {"name": "imagetrust.sqlite", "size": True, "sha256": "0" * 64}},
         "'database.size' is not a byte count"),
        ({"database": {"name": "imagetrust.sqlite", "size": 1, "sha256": ["x"]}},
         "'database.sha256' is not a sha256"),
        ({"feeds": {"kev": 1}}, "'feeds' is not a list"),
        ({"feeds": ["kev"]}, "a 'feeds' entry"),
        ({"feeds": [{"name": "kev", "url": 5}]}, "a 'feeds' entry"),
    ],
)
def test_manifest_of_the_wrong_types_is_refused(
    tmp_path: Path, exported: tuple[dict[str, Any], bytes], target: Path,
    change: dict[str, Any], problem: str,
) -> None:
    manifest, data = exported
    bad = _write_bundle(tmp_path / "bad.tar.gz", json.dumps({**manifest, **change}).encode(),
                        [("imagetrust.sqlite", data)])
    text = _refused(target, bad, FeedError, "manifest.json is malformed")
    assert problem in text


def test_deeply_nested_manifest_is_a_database_error(tmp_path: Path, target: Path) -> None:
    bad = _write_bundle(tmp_path / "deep.tar.gz", DEEP, [])
    text = _refused(target, bad, DatabaseError, "manifest.json is not valid JSON")
    assert "nested too deeply" in text


def test_oversized_manifest_is_not_read(
    tmp_path: Path, exported: tuple[dict[str, Any], bytes], target: Path
) -> None:
    manifest, data = exported
    padded = json.dumps(manifest).encode() + b" " * (2 << 20)  # valid JSON, 2 MiB of padding
    bad = _write_bundle(tmp_path / "big.tar.gz", padded, [("imagetrust.sqlite", data)])
    _refused(target, bad, FeedError, "manifest.json is larger than")


# -- C12: the database member is checked before it is copied -------------------------------------


class _Counting:
    def __init__(self, inner: IO[bytes], counter: list[int]) -> None:
        self._inner, self._counter = inner, counter

    def read(self, size: int = -1) -> bytes:
        block = self._inner.read(size)
        self._counter[0] += len(block)
        return block


def _count_member_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the bytes read from the database member's data (the copy's only source)."""
    counter = [0]
    original = bundle_module._copy_exactly

    def copy_exactly(source: IO[bytes], out: IO[bytes], size: int) -> str:
        return original(_Counting(source, counter), out, size)  # type: ignore[arg-type]

    monkeypatch.setattr(bundle_module, "_copy_exactly", copy_exactly)
    return counter


def test_member_larger_than_declared_is_refused_before_copying(
    tmp_path: Path, exported: tuple[dict[str, Any], bytes], target: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    manifest, data = exported
    bomb = data + b"\0" * (16 << 20)  # zeros: a few KB on disk, 16 MiB more once inflated
    bad = _write_bundle(tmp_path / "bomb.tar.gz", json.dumps(manifest).encode(),
                        [("imagetrust.sqlite", bomb)])
    assert bad.stat().st_size < 1 << 20
    reads = _count_member_reads(monkeypatch)
    _refused(target, bad, FeedError, "does not match the manifest's sha256/size")
    assert reads[0] == 0  # not one byte of the member was copied


def test_database_larger_than_free_space_is_refused(
    tmp_path: Path, exported: tuple[dict[str, Any], bytes], target: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    manifest, data = exported
    good = _write_bundle(tmp_path / "good.tar.gz", json.dumps(manifest).encode(),
                         [("imagetrust.sqlite", data)])
    real = shutil.disk_usage
    monkeypatch.setattr(
        bundle_module.shutil, "disk_usage",
        lambda path: real(path)._replace(free=len(data) - 1),
    )
    assert "free" in _refused(target, good, FeedError, "needs")
    monkeypatch.setattr(bundle_module.shutil, "disk_usage", real)
    assert import_feed(target, good).bundle  # the same bundle installs with room to spare
    with VulnDB.open(target) as vdb:
        assert "CVE-2025-48384" in vdb.kev(["CVE-2025-48384"])


def test_member_order_and_kind_are_checked(
    tmp_path: Path, exported: tuple[dict[str, Any], bytes], target: Path
) -> None:
    manifest, data = exported
    text = json.dumps(manifest).encode()
    swapped = _write_bundle(tmp_path / "x.tar.gz", text,
                            [("other.bin", b"x"), ("imagetrust.sqlite", data)])
    _refused(target, swapped, FeedError, "does not follow manifest.json")
    # a manifest that is not first: not a bundle, so not installed, and not a feed either
    late = tmp_path / "late.tar.gz"
    with tarfile.open(late, "w:gz") as tar:
        for name, body in (("imagetrust.sqlite", data), ("manifest.json", text)):
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    _refused(target, late, FeedError, "late.tar.gz")


# -- C5: JSON columns of an imported or damaged database ----------------------------------------


def _osv_db(tmp_path: Path, test_data: Path) -> Path:
    db = tmp_path / "osv.sqlite"
    import_feed(db, test_data / "osv/records/PyPI")
    return db


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("ranges", DEEP.decode(), "affected.ranges is not valid JSON: nested too deeply"),
        ("ranges", '[{"type": "ECOSYSTEM"}]', "affected.ranges holds a value of the wrong shape"),
        ("ranges", '[{"type": "SEMVER", "events": [1]}]', "wrong shape"),
        ("versions", DEEP.decode(), "affected.versions is not valid JSON"),
        ("versions", '{"a": 1}', "affected.versions holds a value of the wrong shape"),
    ],
)
def test_malformed_json_columns_are_database_errors(
    tmp_path: Path, test_data: Path, column: str, value: str, message: str
) -> None:
    db = _osv_db(tmp_path, test_data)
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(f"UPDATE affected SET {column} = ? WHERE package = 'requests'", (value,))
    conn.close()
    with VulnDB.open(db) as vdb, pytest.raises(DatabaseError, match=message) as info:
        vdb.affected("pypi", ["requests"])
    assert "\n" not in str(info.value) and "imagetrust db update" in str(info.value)


def test_deeply_nested_aliases_are_a_database_error(tmp_path: Path, test_data: Path) -> None:
    db = _osv_db(tmp_path, test_data)
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE advisories SET aliases = ? WHERE id = 'PYSEC-2023-74'",
                     (DEEP.decode(),))
    conn.close()
    with VulnDB.open(db) as vdb, pytest.raises(DatabaseError, match="aliases is not valid JSON"):
        vdb.advisories(["PYSEC-2023-74"])


def test_credentials_stored_by_older_versions_stay_home(tmp_path: Path, test_data: Path) -> None:
    db = tmp_path / "v.sqlite"
    kev_file = test_data / "nvd/kev/known_exploited_vulnerabilities.json"
    data = kev.parse_bytes(kev_file.read_bytes())
    with build(db) as writer:  # what an older imagetrust stored verbatim
        writer.apply(data, url="https://alice:s3cret@mirror.example/kev/kev.json")
    assert [s.url for s in db_status(db)] == ["https://***@mirror.example/kev/kev.json"]
    out = export_bundle(db, tmp_path / "b.tar.gz")
    with tarfile.open(out, "r:gz") as tar:
        for member in tar.getmembers():
            assert b"s3cret" not in tar.extractfile(member).read()  # type: ignore[union-attr]
    other = tmp_path / "other.sqlite"
    import_feed(other, out)
    assert [s.url for s in db_status(other)] == ["https://***@mirror.example/kev/kev.json"]
