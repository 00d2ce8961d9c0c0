"""Read just ``library/*`` out of an official-images repository tarball, refusing anything hostile.

The tarball comes from the network, so nothing in it is trusted: it is walked with
:class:`imagetrust.tarwalk.TarWalker` (bounded headers, never :mod:`tarfile`) and nothing is
extracted. Only regular files exactly at ``<top>/library/<name>`` with a valid image name are read
into memory (with size caps); links, devices, absolute paths and ``..`` are skipped and counted,
so a malicious archive cannot write outside the cache.

A damaged download must fail rather than yield part of the library: a bad header checksum is an
error wherever it is, and the walk requires the end-of-archive marker and reads the decompressed
stream to its very end, so the gzip CRC is checked too. The commit GitHub records in the pax
global header is read from the walker, which, like Go's archive/tar, never applies a global
header's path to the members.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import re
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from imagetrust.errors import FeedError
from imagetrust.tarwalk import HARDLINK, SYMLINK, TarFormatError, TarHostileError, TarWalker

LIBRARY_NAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9]|[._-](?=[a-z0-9])){0,127}$")
"""A library file name is an image name component: lower-case, no ``..``, no leading dot."""

MAX_LIBRARY_FILE = 4 * 1024 * 1024
MAX_LIBRARY_FILES = 10_000
MAX_TOTAL_LIBRARY = 128 * 1024 * 1024
MAX_MEMBERS = 200_000
_UNSAFE_TYPES = frozenset({HARDLINK, SYMLINK, *b"346"})
"""Links and devices (``3`` char, ``4`` block, ``6`` fifo) under ``library/``: counted as unsafe."""


@dataclass(frozen=True, slots=True)
class LibraryArchive:
    """The ``library/`` files found in an archive, plus what was refused."""

    files: dict[str, bytes]
    commit: str | None
    """The commit GitHub records in the tarball's pax global header (``comment``), if any."""
    unsafe_members: tuple[str, ...]
    """Member names skipped because they were links, absolute or escaped with ``..``."""


def is_valid_library_name(name: str) -> bool:
    return bool(LIBRARY_NAME_RE.match(name))


def read_library_archive(path: Path) -> LibraryArchive:
    """Collect ``<top>/library/<name>`` regular files from a (gzip) tarball."""
    files: dict[str, bytes] = {}
    unsafe: list[str] = []
    total = 0
    try:
        with path.open("rb") as raw, _decompressed(raw) as stream:
            walker = TarWalker(stream, seekable=False, what="archive", require_end=True)
            for count, member in enumerate(walker, start=1):
                if count > MAX_MEMBERS:
                    raise FeedError(
                        f"official-images archive {path.name} has more than {MAX_MEMBERS} members",
                        hint="this is not the official-images repository; check the catalog URL",
                    )
                name = member.name
                parts = name.split("/")
                if name.startswith("/") or ".." in parts or "\\" in name:
                    unsafe.append(name)
                    continue
                parts = [p for p in parts if p not in ("", ".")]
                if len(parts) != 3 or parts[1] != "library":
                    continue
                if not member.is_regular or member.sparse:
                    if member.type in _UNSAFE_TYPES:
                        unsafe.append(name)
                    continue
                if not is_valid_library_name(parts[2]):
                    continue
                if member.size > MAX_LIBRARY_FILE:
                    raise FeedError(
                        f"official-images archive member {name} is {member.size} bytes "
                        f"(limit {MAX_LIBRARY_FILE})",
                        hint="this is not a genuine library file; check the catalog URL",
                    )
                total += member.size
                if total > MAX_TOTAL_LIBRARY or len(files) >= MAX_LIBRARY_FILES:
                    raise FeedError(
                        f"official-images archive {path.name} holds too many library files",
                        hint="this is not the official-images repository; check the catalog URL",
                    )
                files[parts[2]] = walker.read_data()
            commit = _commit(walker.global_pax.get("comment"))
    except TarHostileError as error:
        raise FeedError(
            f"official-images archive {path.name} is refused: {error}",
            hint="this is not the official-images repository; check the catalog URL",
        ) from None
    except TarFormatError as error:
        raise FeedError(
            f"official-images archive {path.name} is damaged: {error}",
            hint="the download is corrupt or incomplete; run `imagetrust catalog update` again",
        ) from None
    except (EOFError, OSError, lzma.LZMAError) as error:
        reason = " ".join(str(error).split()) or type(error).__name__
        raise FeedError(
            f"cannot read official-images archive {path.name}: {reason}",
            hint="the download may be truncated; run `imagetrust catalog update` again",
        ) from None
    return LibraryArchive(files=files, commit=commit, unsafe_members=tuple(unsafe))


def _decompressed(raw: IO[bytes]) -> AbstractContextManager[Any]:
    """The tar stream inside ``raw``: gunzipped (bzip2, xz) or as is, by magic number."""
    magic = raw.read(6)
    raw.seek(0)
    if magic.startswith(b"\x1f\x8b"):
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if magic.startswith(b"BZh"):
        return bz2.BZ2File(raw, mode="rb")
    if magic.startswith(b"\xfd7zXZ\x00"):
        return lzma.LZMAFile(raw, mode="rb")
    return nullcontext(raw)


def _commit(value: str | None) -> str | None:
    if value and re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", value.strip()):
        return value.strip()
    return None
