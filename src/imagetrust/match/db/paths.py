"""Where the database lives, and the lock that keeps two writers from swapping over each other."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

from imagetrust.errors import DatabaseError

DB_FILENAME = "imagetrust.sqlite"


def resolve_db_path(
    explicit: Path | None, cache_dir: Path, environ: Mapping[str, str] | None = None
) -> Path:
    """``--db PATH``, else ``$IMAGETRUST_DB``, else ``<cache_dir>/db/imagetrust.sqlite``."""
    if explicit is not None:
        return explicit
    env = os.environ if environ is None else environ
    if env.get("IMAGETRUST_DB"):
        return Path(env["IMAGETRUST_DB"])
    return cache_dir / "db" / DB_FILENAME


@contextlib.contextmanager
def write_lock(db_path: Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``<db>.lock``: readers never need it, writers always take it."""
    try:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(db_path.with_name(db_path.name + ".lock"), "a+b")  # noqa: SIM115
    except OSError as error:
        raise DatabaseError(
            f"cannot create the database directory {db_path.parent} ({error.strerror})",
            hint="choose a writable place with --db or IMAGETRUST_DB",
        ) from error
    with handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

