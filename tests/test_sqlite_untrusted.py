"""Crafted SQLite files read through :mod:`imagetrust.sqlite_untrusted` and the rpm sqlite reader.

Every file is written here with Python's sqlite3: a ``WITH RECURSIVE`` view that never ends, a
view over a 2 GB ``zeroblob``, a generated column, a huge stored blob. Each read ends in one
clear error within its stated budget, allocates nothing near the crafted size, and writes nothing
next to the file (immutable, ``temp_store=MEMORY``).
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from imagetrust.catalog.rpm.sqlite import iter_sqlite
from imagetrust.sqlite_untrusted import UntrustedSqliteError, open_bytes, open_file

FOREVER = ("WITH RECURSIVE x(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM x) "
           "SELECT n AS hnum, CAST(n AS BLOB) AS blob FROM x")


def _db(path: Path, *statements: str) -> Path:
    conn = sqlite3.connect(path)
    with conn:
        for statement in statements:
            conn.execute(statement)
    conn.close()
    return path


def test_recursive_view_is_interrupted_at_the_budget(tmp_path: Path) -> None:
    path = _db(tmp_path / "x.sqlite", f"CREATE VIEW forever AS {FOREVER}")
    before = sorted(p.name for p in tmp_path.iterdir())
    started = time.monotonic()
    with open_file(path, seconds=0.5) as db, pytest.raises(UntrustedSqliteError) as info:
        db.query("SELECT count(*) FROM forever")
    assert time.monotonic() - started < 3
    assert str(info.value) == "reading it took longer than 0.5 s"
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no journal, wal or shm


def test_value_larger_than_the_cap_is_an_error_not_an_allocation(tmp_path: Path) -> None:
    path = _db(tmp_path / "z.sqlite", "CREATE VIEW big AS SELECT zeroblob(2000000000) AS b")
    with open_file(path, max_value=1 << 20) as db, pytest.raises(
            UntrustedSqliteError, match="larger than 1048576 bytes"):
        db.query("SELECT b FROM big")


def test_the_file_is_read_only(tmp_path: Path) -> None:
    path = _db(tmp_path / "t.sqlite", "CREATE TABLE t (a)")
    with open_file(path) as db, pytest.raises(UntrustedSqliteError):
        db.query("INSERT INTO t VALUES (1)")


def test_not_a_database_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "n.sqlite"
    path.write_bytes(b"SQLite format 3\0" + b"\xff" * 5000)
    with pytest.raises(UntrustedSqliteError), open_file(path) as db:
        db.objects()


# -- rpmdb.sqlite ---------------------------------------------------------------------------------


def _rpmdb(tmp_path: Path, *statements: str) -> bytes:
    return _db(tmp_path / "rpmdb.sqlite", *statements).read_bytes()


def _errors(data: bytes) -> list[str]:
    started = time.monotonic()
    records = list(iter_sqlite(data))
    assert time.monotonic() - started < 12  # the 10 s budget at most, mostly immediate
    return [r.error or "" for r in records if r.blob is None]


def test_rpm_packages_as_a_recursive_view_is_refused_at_once(tmp_path: Path) -> None:
    started = time.monotonic()
    errors = _errors(_rpmdb(tmp_path, f"CREATE VIEW Packages AS {FOREVER}"))
    assert errors == ["Packages is a view, not a table: refused"]
    assert time.monotonic() - started < 2


def test_rpm_packages_view_over_a_huge_zeroblob_is_refused(tmp_path: Path) -> None:
    errors = _errors(_rpmdb(
        tmp_path, "CREATE VIEW Packages AS SELECT 1 AS hnum, zeroblob(2000000000) AS blob"))
    assert errors == ["Packages is a view, not a table: refused"]


def test_rpm_generated_blob_column_is_refused(tmp_path: Path) -> None:
    errors = _errors(_rpmdb(
        tmp_path, "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, "
        "blob BLOB AS (zeroblob(2000000000)))"))
    assert errors == ["Packages has a generated hnum or blob column: refused"]


def test_rpm_oversized_header_is_skipped_by_length_and_others_still_read(tmp_path: Path) -> None:
    data = _rpmdb(
        tmp_path, "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB)",
        "INSERT INTO Packages VALUES (1, zeroblob(40000000))",
        "INSERT INTO Packages VALUES (2, x'0102')",
        "INSERT INTO Packages VALUES (3, 'text')",
    )
    records = list(iter_sqlite(data))
    assert [(r.key, r.blob, r.error) for r in records] == [
        ("1", None, "header of 40000000 bytes is larger than 33554432"),
        ("2", b"\x01\x02", None),
        ("3", None, "blob column is not a BLOB"),
    ]


def test_rpm_wal_mode_database_is_read(tmp_path: Path) -> None:
    path = tmp_path / "rpmdb.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    with conn:
        conn.execute("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB)")
        conn.execute("INSERT INTO Packages VALUES (7, x'00')")
    conn.close()  # checkpoints into the main file
    assert [(r.key, r.blob) for r in iter_sqlite(path.read_bytes())] == [("7", b"\x00")]


def test_open_bytes_refuses_garbage() -> None:
    with pytest.raises(UntrustedSqliteError), open_bytes(b"SQLite format 3\0" + b"\0" * 84) as db:
        db.objects()
