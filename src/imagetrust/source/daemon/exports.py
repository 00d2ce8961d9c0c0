"""Exported images kept by image ID, so a second scan of the same local image exports nothing.

``<root>/<algorithm>-<hex>.tar`` appears only after the whole export was written
(:func:`imagetrust.atomic.atomic_writer`); a kill at any point leaves a stray temp file at most,
which a later prune removes. The total size is capped: least recently used exports go first.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from imagetrust.atomic import atomic_writer
from imagetrust.errors import SourceError
from imagetrust.source.cache import split_digest

DEFAULT_MAX_BYTES = 8 * 1024**3
_TEMP_PREFIX = ".export-"
_STALE_TEMP_SECONDS = 6 * 3600


class ExportCache:
    """docker-save tarballs by image ID below ``root``, at most ``max_bytes`` in total."""

    def __init__(self, root: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def path_for(self, image_id: str) -> Path:
        algorithm, hexdigest = split_digest(image_id)  # refuses anything path-like
        return self.root / f"{algorithm}-{hexdigest}.tar"

    def get(self, image_id: str) -> Path | None:
        """The cached export, marked as just used; None when absent."""
        path = self.path_for(image_id)
        try:
            os.utime(path)
        except FileNotFoundError:
            return None
        except OSError:
            return path if path.is_file() else None
        return path

    def put(self, image_id: str, write: Callable[[BinaryIO], int]) -> Path:
        """Run ``write`` into a temp file and publish it atomically as ``image_id``'s export."""
        final = self.path_for(image_id)
        opened = False
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with atomic_writer(final, prefix=_TEMP_PREFIX, suffix=".tar") as handle:
                opened = True
                write(handle)
        except OSError as error:  # ENOSPC, EIO, quota: the cache is unusable, not the image
            if not opened:
                raise SourceError(
                    f"cannot write to the export cache {self.root}: {error.strerror}",
                    hint="check IMAGETRUST_CACHE_DIR points at a writable directory",
                ) from None
            reason = error.strerror or type(error).__name__
            raise SourceError(
                f"cannot write the export of {image_id} to {self.root}: {reason}",
                hint="free disk space, or point IMAGETRUST_CACHE_DIR at a roomier directory",
            ) from None
        with contextlib.suppress(OSError):
            self.prune(keep=final)
        return final

    def discard(self, image_id: str) -> None:
        self.path_for(image_id).unlink(missing_ok=True)

    def prune(self, keep: Path | None = None) -> None:
        """Drop stale temp files, then the least recently used exports above the size cap."""
        now = time.time()
        exports: list[tuple[float, int, Path]] = []
        for entry in os.scandir(self.root):
            if not entry.is_file(follow_symlinks=False):
                continue
            info = entry.stat(follow_symlinks=False)
            path = Path(entry.path)
            if entry.name.startswith(_TEMP_PREFIX):
                if now - info.st_mtime > _STALE_TEMP_SECONDS:
                    path.unlink(missing_ok=True)
            elif entry.name.endswith(".tar"):
                exports.append((info.st_mtime, info.st_size, path))
        total = sum(size for _, size, _ in exports)
        for _, size, path in sorted(exports):
            if total <= self.max_bytes:
                break
            if path == keep:
                continue
            path.unlink(missing_ok=True)  # readers keep their open descriptor
            total -= size
