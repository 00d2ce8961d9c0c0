"""Where catalogers spool content too large for memory: inside the scan's cache directory.

imagetrust writes nowhere but its cache and output directories, so ``catalog_image`` points
:data:`SPOOL_DIR` at ``<cache>/spool`` for the duration of a read; a library caller without a
cache leaves it None, which means the system temporary directory.
"""

from __future__ import annotations

from contextvars import ContextVar
from pathlib import Path

SPOOL_DIR: ContextVar[Path | None] = ContextVar("imagetrust_spool_dir", default=None)


def spool_dir() -> str | None:
    """The directory for ``tempfile`` (created on first use), or None for the system default."""
    directory = SPOOL_DIR.get()
    if directory is None:
        return None
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return str(directory)
