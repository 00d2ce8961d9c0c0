"""Build-once caching: an fcntl lock so concurrent pytest runs wait, and a marker written last."""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

MARKER = ".complete"


@contextmanager
def locked(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock; a second process blocks here until the first has finished."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def is_complete(path: Path) -> bool:
    return (path / MARKER).is_file()


def build_once(final: Path, build: Callable[[Path], None]) -> Path:
    """Return ``final`` built by ``build(workdir)``, building it at most once across processes.

    The build runs in a sibling ``.partial`` directory, which gets the marker last and is then
    renamed into place, so a crash at any point leaves either nothing or a complete build; a
    leftover partial directory is removed before retrying.
    """
    with locked(final.with_name(final.name + ".lock")):
        if is_complete(final):
            return final
        if final.exists():
            shutil.rmtree(final)
        partial = final.with_name(final.name + ".partial")
        if partial.exists():
            shutil.rmtree(partial)
        partial.mkdir(parents=True)
        try:
            build(partial)
            marker = partial / MARKER
            with open(marker, "w", encoding="utf-8") as handle:
                handle.write("ok\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(partial, final)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        return final


_IN_USE: list[IO[bytes]] = []


def _inuse_path(build: Path) -> Path:
    return build.with_name(build.name + ".inuse")


def mark_in_use(build: Path) -> None:
    """Hold a shared lock on ``build`` until this process exits, so no pruner deletes it."""
    handle = open(_inuse_path(build), "a+b")  # noqa: SIM115 - kept open on purpose
    fcntl.flock(handle.fileno(), fcntl.LOCK_SH)
    _IN_USE.append(handle)


def _try_exclusive(path: Path) -> IO[bytes] | None:
    handle = open(path, "a+b")  # noqa: SIM115 - returned to the caller, who closes it
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def prune_builds(keep: Path, pattern: str = "build-*") -> list[Path]:
    """Delete other complete builds that no process is building or using (each is ~0.8 GB).

    Lock files are left in place: unlinking one could let two processes lock different inodes.
    """
    removed = []
    for other in sorted(keep.parent.glob(pattern)):
        if other == keep or not other.is_dir() or other.suffix == ".partial":
            continue
        build_lock = _try_exclusive(other.with_name(other.name + ".lock"))
        if build_lock is None:
            continue
        try:
            use_lock = _try_exclusive(_inuse_path(other))
            if use_lock is None:
                continue
            try:
                shutil.rmtree(other)
                removed.append(other)
            finally:
                use_lock.close()
        finally:
            build_lock.close()
    return removed
