"""Install the catalog from a local official-images checkout or its ``library/`` directory.

The offline path: nothing is downloaded, the files are read with the same name and size limits
as an archive's, and the checkout's commit is read from ``.git`` without running git.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from imagetrust.assess.official.archive import (
    MAX_LIBRARY_FILE,
    MAX_LIBRARY_FILES,
    is_valid_library_name,
)
from imagetrust.assess.official.generations import LibraryUpdate, install, store_dir
from imagetrust.assess.official.model import LibraryMeta
from imagetrust.errors import FeedError


def import_library(cache_dir: Path, path: Path) -> LibraryUpdate:
    """Install the catalog from a local official-images checkout or its ``library/`` directory."""
    library = path / "library" if (path / "library").is_dir() else path
    if not library.is_dir():
        raise FeedError(
            f"{path} is not a directory",
            hint="give an official-images checkout or its library/ directory",
        )
    files: dict[str, bytes] = {}
    skipped: list[str] = []
    for entry in sorted(library.iterdir()):
        if not is_valid_library_name(entry.name):
            continue
        if entry.is_symlink() or not entry.is_file():
            skipped.append(entry.name)
            continue
        if entry.stat().st_size > MAX_LIBRARY_FILE or len(files) >= MAX_LIBRARY_FILES:
            raise FeedError(f"{entry} is too large or {library} has too many files for a library")
        files[entry.name] = entry.read_bytes()
    if not files:
        raise FeedError(
            f"no library files found in {library}",
            hint="give an official-images checkout or its library/ directory",
        )
    now = datetime.now(UTC)
    meta = LibraryMeta(
        source=str(path.resolve()),
        fetched_at=now,
        checked_at=now,
        files=len(files),
        commit=_git_head(library.parent),
    )
    base = store_dir(cache_dir)
    base.mkdir(parents=True, exist_ok=True)
    invalid = install(base, files, meta)
    return LibraryUpdate(
        changed=True, meta=meta, unsafe_members=tuple(skipped), invalid_files=invalid
    )


def _git_head(checkout: Path) -> str | None:
    """The checked-out commit of a plain git checkout, read without running git."""
    git = checkout / ".git"
    try:
        head = (git / "HEAD").read_text(encoding="utf-8").strip()
        if not head.startswith("ref: "):
            return head if _is_sha(head) else None
        ref = head[5:].strip()
        loose = git / ref
        if loose.is_file():
            value = loose.read_text(encoding="utf-8").strip()
            return value if _is_sha(value) else None
        packed = git / "packed-refs"
        if packed.is_file():
            for line in packed.read_text(encoding="utf-8").splitlines():
                sha, _, name = line.partition(" ")
                if name == ref and _is_sha(sha):
                    return sha
    except OSError:
        return None
    return None


def _is_sha(text: str) -> bool:
    return len(text) in (40, 64) and all(c in "0123456789abcdef" for c in text)
