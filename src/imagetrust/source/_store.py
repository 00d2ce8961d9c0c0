"""Named byte ranges inside a tar file or a directory: what archive and layout sources read from.

A tar is indexed once (member name → offset, size) by walking its headers with seeks
(:mod:`imagetrust.tarwalk`, not :mod:`tarfile`), never extracting; a directory maps names to files
below it. Both hand out ``(fd, offset, size)`` ranges.
"""

from __future__ import annotations

import os
import posixpath
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from imagetrust.errors import ArchiveError, ManifestError
from imagetrust.tarwalk import (
    HARDLINK,
    REGULAR,
    SYMLINK,
    TarFormatError,
    TarHostileError,
    TarWalker,
)

MAX_METADATA_SIZE = 16 * 1024 * 1024
"""Manifests, indexes, configs and manifest.json larger than this are refused, not read."""


@dataclass(frozen=True, slots=True)
class Extent:
    """Where a named blob lives: ``size`` bytes at ``offset`` of the open file ``fd``."""

    fd: int
    offset: int
    size: int


class BlobStore(Protocol):
    description: str

    def locate(self, name: str) -> Extent | None: ...

    def close(self) -> None: ...


def read_extent(extent: Extent, what: str, limit: int = MAX_METADATA_SIZE) -> bytes:
    if extent.size > limit:
        raise ManifestError(f"{what} is {extent.size} bytes, larger than the {limit} allowed")
    data = os.pread(extent.fd, extent.size, extent.offset)
    if len(data) != extent.size:
        raise ArchiveError(f"{what} is truncated", hint="the archive is incomplete; save it again")
    return data


def read_named(store: BlobStore, name: str, what: str | None = None) -> bytes:
    extent = store.locate(name)
    if extent is None:
        raise ArchiveError(
            f"{store.description} has no {name}", hint="is this the right kind of image file?"
        )
    return read_extent(extent, what or f"{name} in {store.description}")


def _clean(name: str) -> str:
    name = posixpath.normpath("/" + name).lstrip("/")
    return name


class TarStore:
    """An indexed tar file: members are served as ranges of the file, never extracted."""

    def __init__(self, path: Path, description: str) -> None:
        self.description = description
        try:
            self._fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError:
            raise ArchiveError(f"{path} does not exist", hint="check the path") from None
        except IsADirectoryError:
            raise ArchiveError(f"{path} is a directory, not a tar file") from None
        except OSError as error:
            raise ArchiveError(f"cannot open {path}: {error.strerror}") from None
        try:
            self._size = os.fstat(self._fd).st_size
            if stat.S_ISDIR(os.fstat(self._fd).st_mode):
                raise ArchiveError(f"{path} is a directory, not a tar file")
            self._members = self._index(path)
        except BaseException:
            os.close(self._fd)
            raise

    def _index(self, path: Path) -> dict[str, tuple[int, int, str | None]]:
        from imagetrust.source._ranges import open_range

        members: dict[str, tuple[int, int, str | None]] = {}
        stream = open_range(self._fd, 0, self._size)
        try:
            walker = TarWalker(stream, seekable=True, what="archive")
            for member in walker:
                name = _clean(member.name)
                if member.type in REGULAR and not member.sparse:
                    members[name] = (walker.data_offset, member.size, None)
                elif member.type == SYMLINK:
                    target = posixpath.join(posixpath.dirname(name), member.linkname)
                    members[name] = (0, 0, _clean(target))
                elif member.type == HARDLINK:
                    members[name] = (0, 0, _clean(member.linkname))
        except TarFormatError as error:
            raise ArchiveError(
                f"{path} is not a readable tar archive ({error})",
                hint="pass a complete file written by docker save, skopeo or buildah",
            ) from None
        except TarHostileError as error:
            raise ArchiveError(
                f"{path} is refused: {error}", hint="is this a real image file?"
            ) from None
        finally:
            stream.close()
        return members

    def locate(self, name: str) -> Extent | None:
        name = _clean(name)
        for _ in range(8):  # follow links inside the archive (docker save dedups layers so)
            entry = self._members.get(name)
            if entry is None:
                return None
            offset, size, link = entry
            if link is None:
                return Extent(self._fd, offset, size)
            name = link
        return None

    def names(self) -> list[str]:
        return list(self._members)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


class DirStore:
    """Files below a directory; names never resolve outside it."""

    def __init__(self, root: Path, description: str) -> None:
        self.description = description
        self._root = root.resolve()
        self._fds: dict[str, int] = {}

    def locate(self, name: str) -> Extent | None:
        name = _clean(name)
        fd = self._fds.get(name)
        if fd is None:
            path = (self._root / name).resolve()
            if not path.is_relative_to(self._root):
                return None
            try:
                fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
            except FileNotFoundError:
                return None
            except OSError as error:
                raise ArchiveError(f"cannot read {path}: {error.strerror}") from None
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                os.close(fd)
                return None
            self._fds[name] = fd
        return Extent(fd, 0, os.fstat(fd).st_size)

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()
