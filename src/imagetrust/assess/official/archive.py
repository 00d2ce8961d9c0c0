"""Read just ``library/*`` out of an official-images repository tarball, refusing anything hostile.

The tarball comes from the network, so nothing in it is trusted: members are never extracted by
``tarfile`` itself. Only regular files exactly at ``<top>/library/<name>`` with a valid image name
are read into memory (with size caps); links, devices, absolute paths and ``..`` are skipped and
counted, so a malicious archive cannot write outside the cache.
"""

from __future__ import annotations

import re
import tarfile
from dataclasses import dataclass
from pathlib import Path

from imagetrust.errors import FeedError

LIBRARY_NAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9]|[._-](?=[a-z0-9])){0,127}$")
"""A library file name is an image name component: lower-case, no ``..``, no leading dot."""

MAX_LIBRARY_FILE = 4 * 1024 * 1024
MAX_LIBRARY_FILES = 10_000
MAX_TOTAL_LIBRARY = 128 * 1024 * 1024
MAX_MEMBERS = 200_000


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
        with tarfile.open(path, mode="r:*") as tar:
            commit = _commit(tar.pax_headers.get("comment"))
            for count, member in enumerate(tar, start=1):
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
                if not member.isreg():
                    if member.issym() or member.islnk() or member.isdev():
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
                handle = tar.extractfile(member)
                if handle is None:
                    continue
                data = handle.read(MAX_LIBRARY_FILE + 1)
                if len(data) != member.size:
                    raise FeedError(f"official-images archive member {name} is truncated")
                files[parts[2]] = data
    except (tarfile.TarError, EOFError, OSError, ValueError) as error:
        raise FeedError(
            f"cannot read official-images archive {path.name}: {error}",
            hint="the download may be truncated; run `imagetrust catalog update` again",
        ) from error
    return LibraryArchive(files=files, commit=commit, unsafe_members=tuple(unsafe))


def _commit(value: str | None) -> str | None:
    if value and re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", value.strip()):
        return value.strip()
    return None
