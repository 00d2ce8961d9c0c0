"""Content-addressed blob cache: a second scan of the same image downloads nothing.

Layout: ``root/<algorithm>/<hex>``. A file only ever appears under its final name after its bytes
were hashed and matched the digest (:func:`imagetrust.atomic.atomic_writer`), so a
kill at any point leaves either nothing or a verified blob. Concurrent writers of one digest are
harmless: each writes its own temp file and the identical results replace each other.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imagetrust.atomic import atomic_writer
from imagetrust.errors import IntegrityError, ManifestError

_DIGEST_RE = re.compile(r"^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$")


def split_digest(digest: str) -> tuple[str, str]:
    """``sha256:…`` → (algorithm, hex), refusing anything that could escape a directory."""
    if not _DIGEST_RE.match(digest):
        raise ManifestError(
            f"invalid digest {digest[:80]!r}",
            hint="digests are sha256: or sha512: followed by lower-case hex",
        )
    algorithm, _, hexdigest = digest.partition(":")
    return algorithm, hexdigest


def digest_of(data: bytes, algorithm: str = "sha256") -> str:
    """The ``algorithm:hex`` digest of ``data``."""
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


def verify_digest(data: bytes, digest: str, what: str) -> None:
    """Raise :class:`IntegrityError` unless ``data`` hashes to ``digest``."""
    algorithm, _ = split_digest(digest)
    actual = digest_of(data, algorithm)
    if actual != digest:
        raise IntegrityError(
            f"{what} does not match its digest {digest} (got {actual})",
            hint="the source served corrupt or tampered content; nothing was cached",
        )


@dataclass
class BlobWriter:
    """A write handle that hashes and counts what passes through it."""

    _handle: Any
    _hasher: Any
    expected_size: int | None
    written: int = field(default=0)

    def write(self, chunk: bytes) -> int:
        self.written += len(chunk)
        if self.expected_size is not None and self.written > self.expected_size:
            raise IntegrityError(
                f"blob is larger than its declared size {self.expected_size}",
                hint="the source served corrupt or tampered content; nothing was cached",
            )
        self._hasher.update(chunk)
        self._handle.write(chunk)
        return len(chunk)


class BlobCache:
    """Verified blobs by digest under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _final_path(self, digest: str) -> Path:
        algorithm, hexdigest = split_digest(digest)
        return self.root / algorithm / hexdigest

    def path_for(self, digest: str) -> Path | None:
        """The cached file for ``digest``, or None when it is not cached."""
        path = self._final_path(digest)
        return path if path.is_file() else None

    @contextmanager
    def writer(self, digest: str, size: int | None = None) -> Iterator[BlobWriter]:
        """Write a blob; on a clean exit it is verified and published, otherwise discarded.

        Raises :class:`IntegrityError` (and caches nothing) when the digest or size differ.
        """
        final = self._final_path(digest)
        algorithm, _ = split_digest(digest)
        with atomic_writer(final, prefix=".partial-", suffix="") as handle:
            blob = BlobWriter(handle, hashlib.new(algorithm), size)
            yield blob
            actual = f"{algorithm}:{blob._hasher.hexdigest()}"
            if actual != digest:
                raise IntegrityError(
                    f"blob does not match its digest {digest} (got {actual})",
                    hint="the source served corrupt or tampered content; nothing was cached",
                )
            if size is not None and blob.written != size:
                raise IntegrityError(
                    f"blob {digest} has {blob.written} bytes, expected {size}",
                    hint="the download was truncated or the manifest is wrong",
                )

    def put(self, digest: str, data: bytes) -> Path:
        """Store bytes already in memory (verified like any other write)."""
        with self.writer(digest, len(data)) as blob:
            blob.write(data)
        return self._final_path(digest)
