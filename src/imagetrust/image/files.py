"""The merged file view that the layer reader builds and the catalogers read.

Catalogers never see tar streams: they declare a :class:`FileRequest` and receive a
:class:`FileTree` holding just the files they asked for, as they appear in the final image
(whiteouts and opaque directories applied), each remembering the layer that put it there.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import BinaryIO, Literal

FileKind = Literal["file", "dir", "symlink", "hardlink", "other"]

DEFAULT_MAX_FILE_SIZE = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class FileRequest:
    """What one cataloger wants from the image.

    ``patterns`` are globs on the normalised path (no leading ``/``): ``*`` stays inside one path
    segment, ``**`` crosses segments (``**/*.dist-info/METADATA``). ``want`` is an optional extra
    predicate on (path, size, mode) for files that globs cannot describe (e.g. executables that
    may be Go binaries). Files larger than ``max_size`` are listed with ``data=None`` and
    ``truncated=True`` instead of being read, so memory stays bounded.

    ``extract`` (optional) keeps only what a cataloger needs from large files: the reader hands
    it ``(path, stream)`` over the file's content (seekable when the layer is) and stores what
    it returns as ``data`` with ``extracted=True``; None means nothing of interest. A file that
    another request wants whole is still read whole, so catalogers using ``extract`` must accept
    both forms.
    """

    patterns: tuple[str, ...]
    max_size: int = DEFAULT_MAX_FILE_SIZE
    want: Callable[[str, int, int], bool] | None = field(default=None, compare=False)
    extract: Callable[[str, BinaryIO], bytes | None] | None = field(default=None, compare=False)

    def matches(self, path: str, size: int = 0, mode: int = 0) -> bool:
        if any(_glob_regex(p).match(path) for p in self.patterns):
            return True
        return self.want is not None and self.want(path, size, mode)


@lru_cache(maxsize=512)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """Translate a glob with ``**`` support; fnmatch alone lets ``*`` cross ``/``."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape("["))
                i += 1
            else:
                out.append(fnmatch.translate(pattern[i : end + 1])[4:-3])
                i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One file as it is in the final image."""

    path: str
    """Normalised path, relative to the root, no leading slash (``var/lib/dpkg/status``)."""
    kind: FileKind
    size: int
    mode: int
    layer_index: int
    """Index into ``Image.layers`` of the layer that last wrote this path."""
    diff_id: str
    """diff_id of that layer (synthetic for ``dir:`` sources)."""
    link_target: str | None = None
    """For symlinks and hard links: the target as recorded (hard links: a normalised path)."""
    data: bytes | None = None
    """Content of a regular file that matched a request and fits its ``max_size``."""
    truncated: bool = False
    """True when the file matched but was too large to read into memory."""
    extracted: bool = False
    """True when ``data`` is what a request's ``extract`` kept, not the whole content."""


@dataclass(frozen=True, slots=True)
class Skip:
    """Something the reader refused or could not read, with the reason (never silent)."""

    path: str
    layer_index: int | None
    reason: str


@dataclass(frozen=True)
class FileTree:
    """Matched files of the merged view, plus every skip the reader reported."""

    files: Mapping[str, FileEntry]
    skips: tuple[Skip, ...] = ()

    def __contains__(self, path: object) -> bool:
        return path in self.files

    def get(self, path: str) -> FileEntry | None:
        return self.files.get(path.lstrip("/"))

    def read(self, path: str) -> bytes | None:
        """Content of a regular file (following one hard link), or None."""
        entry = self.get(path)
        if entry is None:
            return None
        if entry.data is not None:
            return entry.data
        if entry.kind == "hardlink" and entry.link_target:
            # The link keeps its content even when a later layer deleted the target path.
            target = self.files.get(entry.link_target)
            return target.data if target else None
        return None

    def glob(self, pattern: str) -> Iterator[FileEntry]:
        """Entries whose path matches ``pattern`` (same syntax as :class:`FileRequest`)."""
        regex = _glob_regex(pattern)
        for path in sorted(self.files):
            if regex.match(path):
                yield self.files[path]
