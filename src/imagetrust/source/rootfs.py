"""A root filesystem directory (``dir:PATH``) presented as a one-layer image.

There is no manifest, config or layer blob, so all three are synthesised. The layer's diff_id is a
sha256 over the sorted listing (path, type, size, mode, mtime, link target) — stable while the tree
is unchanged, different as soon as a file is touched — and can never match a registry digest. The
layer reader reads files in place (see :mod:`imagetrust.image.reader`); there is no tar to stream.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform as host
import stat
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import BinaryIO

from imagetrust.errors import ArchiveError
from imagetrust.oci import mediatypes as mt
from imagetrust.oci.content import Descriptor, RawManifest
from imagetrust.source._ranges import check_bytes, digest_bytes

_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64",
         "armv7l": "arm", "i686": "386", "ppc64le": "ppc64le", "s390x": "s390x"}


def walk_tree(root: Path) -> Iterator[tuple[str, os.DirEntry[str]]]:
    """(relative path, entry) for everything below ``root``, never descending through symlinks."""
    stack = [(str(root), "")]
    while stack:
        directory, prefix = stack.pop()
        try:
            with os.scandir(directory) as scan:
                entries = sorted(scan, key=lambda e: e.name)
        except OSError:
            continue  # unreadable directory: the reader reports it as a skip when it matters
        for entry in entries:
            relative = f"{prefix}{entry.name}"
            yield relative, entry
            if entry.is_dir(follow_symlinks=False):
                stack.append((entry.path, relative + "/"))


class RootfsSource:
    """A directory holding an unpacked image root filesystem."""

    kind = "dir"

    def __init__(self, path: Path) -> None:
        path = Path(path)
        if not path.is_dir():
            raise ArchiveError(f"{path} is not a directory", hint="dir: expects a root filesystem")
        self.root_path = path.resolve()
        self._manifest: RawManifest | None = None
        self._config = b""

    def _listing_digest(self) -> str:
        digest = hashlib.sha256()
        for relative, entry in walk_tree(self.root_path):
            try:
                info = entry.stat(follow_symlinks=False)
                link = os.readlink(entry.path) if stat.S_ISLNK(info.st_mode) else ""
            except OSError:
                continue  # vanished or changed type since the listing: not part of the tree
            digest.update(
                f"{relative}\0{info.st_mode:o}\0{info.st_size}\0{info.st_mtime_ns}\0{link}\n"
                .encode("utf-8", "surrogateescape")
            )
        return f"sha256:{digest.hexdigest()}"

    def root(self) -> RawManifest:
        if self._manifest is None:
            diff_id = self._listing_digest()
            config = {
                "architecture": _ARCH.get(host.machine().lower(), host.machine().lower()),
                "os": "linux",
                "config": {},
                "rootfs": {"type": "layers", "diff_ids": [diff_id]},
                "history": [{"created_by": f"dir:{self.root_path}", "comment": "root filesystem"}],
            }
            self._config = json.dumps(config, sort_keys=True).encode()
            manifest = {
                "schemaVersion": 2,
                "mediaType": mt.OCI_MANIFEST,
                "config": {"mediaType": mt.OCI_CONFIG, "digest": digest_bytes(self._config),
                           "size": len(self._config)},
                "layers": [{"mediaType": mt.OCI_LAYER, "digest": diff_id, "size": 0}],
            }
            data = json.dumps(manifest, sort_keys=True).encode()
            self._manifest = RawManifest(mt.OCI_MANIFEST, digest_bytes(data), data)
        return self._manifest

    def manifest(self, descriptor: Descriptor) -> RawManifest:
        root = self.root()
        if descriptor.digest != root.digest:
            raise ArchiveError(f"dir:{self.root_path} has no manifest {descriptor.digest}")
        return root

    def blob(self, descriptor: Descriptor) -> bytes:
        self.root()
        return check_bytes(self._config, descriptor.digest, f"config of dir:{self.root_path}")

    def open_blob(self, descriptor: Descriptor) -> AbstractContextManager[BinaryIO]:
        raise ArchiveError(
            f"dir:{self.root_path} has no layer blobs",
            hint="read its files with imagetrust.image.reader.read_files",
        )

    def repo_tags(self) -> tuple[str, ...]:
        return ()

    def close(self) -> None:
        return None
