"""Where catalogers spool content too large for memory: inside the scan's cache directory.

imagetrust writes nowhere but its cache and output directories, so ``catalog_image`` points
:data:`SPOOL_DIR` at ``<cache>/spool`` for the duration of a read (None, the default, means the
system temporary directory, for library callers without a cache).  The directory is made ahead,
best effort: a cache that cannot be written costs only the archives too large for memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from pathlib import Path

SPOOL_DIR: ContextVar[Path | None] = ContextVar("imagetrust_spool_dir", default=None)


@contextmanager
def spooling_in(directory: Path) -> Iterator[None]:
    """Spool into ``directory`` inside the block (created now if it can be)."""
    with suppress(OSError):  # then only an archive outgrowing memory fails, as a named skip
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    token = SPOOL_DIR.set(directory)
    try:
        yield
    finally:
        SPOOL_DIR.reset(token)


def spool_dir() -> str | None:
    """The directory for ``tempfile``'s ``dir=`` (None: the system default)."""
    directory = SPOOL_DIR.get()
    return None if directory is None else str(directory)
