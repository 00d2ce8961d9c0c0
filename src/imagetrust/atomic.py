"""Atomic file writes: a reader sees the old file or the new one, never half of one.

Every cache, database and report written to disk goes through here, so a kill at any moment
leaves what was there before: the new content goes to a temp file in the target's directory
(same file system, so the rename is atomic), is fsynced, then ``os.replace``-d over the target.
A failure anywhere removes the temp file and leaves the target untouched.

Three shapes, one mechanism:

- :func:`write_atomic` — bytes already in memory.
- :func:`atomic_writer` — a binary handle for streamed writes (downloads, exports, tar bundles).
- :func:`atomic_path` — a temp *path*, for writers that open the file themselves (SQLite).

Temp names are ``<prefix><random><suffix>`` beside the target; callers that sweep stale temp
files after a crash (the export cache, the database writer) choose a prefix they can glob.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


def write_atomic(path: Path, data: bytes, *, sync_dir: bool = False) -> None:
    """Replace ``path`` with ``data`` atomically, creating its directory if needed.

    ``sync_dir`` also fsyncs the directory, so the rename itself survives a power loss (for
    state such as the official catalog, not for caches that can be rebuilt).
    """
    with atomic_writer(path, sync_dir=sync_dir) as handle:
        handle.write(data)


@contextlib.contextmanager
def atomic_writer(
    path: Path, *, sync_dir: bool = False, prefix: str | None = None, suffix: str = ".tmp"
) -> Iterator[BinaryIO]:
    """Yield a binary handle on a temp file beside ``path``; a clean exit publishes it.

    On a clean exit the handle is flushed, fsynced and closed, then the temp file replaces
    ``path`` (and with ``sync_dir`` the directory is fsynced). Any exception, including one
    raised by the caller's block to reject what it wrote, removes the temp file instead.
    ``prefix`` defaults to ``.<name>.``.
    """
    with (
        atomic_path(path, sync_dir=sync_dir, prefix=prefix, suffix=suffix, fsync=False) as tmp,
        tmp.open("wb") as handle,
    ):
        yield handle
        handle.flush()
        os.fsync(handle.fileno())


@contextlib.contextmanager
def atomic_path(
    path: Path, *, sync_dir: bool = False, prefix: str | None = None, suffix: str = ".tmp",
    fsync: bool = True,
) -> Iterator[Path]:
    """Yield the path of an empty temp file beside ``path``; a clean exit publishes it.

    For writers that open the file themselves (a SQLite connection): they must have closed it
    when the block ends. The file is fsynced (unless ``fsync=False``: the caller did), then
    replaces ``path``. An exception removes the temp file and leaves ``path`` as it was.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(
        prefix=f".{path.name}." if prefix is None else prefix, suffix=suffix, dir=path.parent
    )
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        if fsync:
            _fsync(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    if sync_dir:
        fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    """Make a rename durable: the directory entry must reach the disk too."""
    _fsync(path)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
