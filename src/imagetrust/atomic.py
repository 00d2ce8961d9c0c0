"""Atomic file writes: a reader sees the old file or the new one, never half of one.

Caches, catalogs and reports all go through here, so a kill at any moment leaves what was there
before (temp file in the same directory, fsync, ``os.replace``).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: bytes, *, sync_dir: bool = False) -> None:
    """Replace ``path`` with ``data`` atomically, creating its directory if needed.

    ``sync_dir`` also fsyncs the directory, so the rename itself survives a power loss (for
    state such as the official catalog, not for caches that can be rebuilt).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if sync_dir:
        fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    """Make a rename durable: the directory entry must reach the disk too."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
