"""The one atomic-write mechanism: the target is the old file or the new one, never a mix, and a
failure leaves no temp file behind (checked on real files in a temp directory)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from imagetrust.atomic import atomic_path, atomic_writer, write_atomic


def test_write_atomic_creates_directories_and_replaces(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "file"
    write_atomic(target, b"one")
    write_atomic(target, b"two", sync_dir=True)
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["file"]


def test_streamed_write_is_published_only_on_success(tmp_path: Path) -> None:
    target = tmp_path / "blob"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_writer(target, prefix=".partial-", suffix="") as out:
        out.write(b"half of the new")
        assert sorted(p.name.startswith(".partial-") for p in tmp_path.iterdir()) == [False, True]
        raise RuntimeError("rejected")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["blob"]
    with atomic_writer(target) as out:
        out.write(b"new")
        assert target.read_bytes() == b"old"  # readers still see the old file meanwhile
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["blob"]


def test_atomic_path_for_writers_that_open_the_file_themselves(tmp_path: Path) -> None:
    target = tmp_path / "db.sqlite"
    with atomic_path(target, sync_dir=True) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".db.sqlite.")
        conn = sqlite3.connect(tmp)
        conn.execute("CREATE TABLE t (x)")
        conn.commit()
        conn.close()
    assert sqlite3.connect(target).execute("SELECT count(*) FROM t").fetchone() == (0,)
    with pytest.raises(ValueError), atomic_path(target):
        raise ValueError("bad build")
    assert [p.name for p in tmp_path.iterdir()] == ["db.sqlite"]
