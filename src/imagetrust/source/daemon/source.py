"""``docker-daemon:NAME``: an image from the local Docker/podman image cache.

The daemon exports the image (``docker save``) into the export cache, keyed by image ID; the
tarball is then read in place like any docker-archive. Exporting by ID (not by name) makes the
export independent of which name was asked for, and the config digest inside is checked against
that ID, so a daemon answering with some other image is caught.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from imagetrust import jsonutil
from imagetrust.errors import ArchiveError, IntegrityError, ManifestError
from imagetrust.oci.content import Descriptor, RawManifest
from imagetrust.source._ranges import check_bytes
from imagetrust.source._store import TarStore, read_extent
from imagetrust.source.archive import DockerArchiveSource
from imagetrust.source.daemon.client import DaemonClient
from imagetrust.source.daemon.exports import DEFAULT_MAX_BYTES, ExportCache
from imagetrust.source.daemon.lookup import resolve_name
from imagetrust.source.daemon.model import LocalImageInfo
from imagetrust.source.oci_layout import blob_name


def _config_digest(root: RawManifest) -> str | None:
    try:
        body = jsonutil.loads(root.data, what="the exported manifest")
    except ManifestError:
        return None
    config = body.get("config") if isinstance(body, dict) else None
    digest = config.get("digest") if isinstance(config, dict) else None
    return digest if isinstance(digest, str) else None


_MAX_INDEX_WALK = 64


def _index_children(data: bytes, what: str) -> list[Any]:
    body = jsonutil.loads(data, what=what)
    manifests = body.get("manifests") if isinstance(body, dict) else None
    return list(manifests) if isinstance(manifests, list) else []


def _holds_image(archive: DockerArchiveSource, path: Path, image_id: str) -> bool:
    """Whether the export is the image the daemon calls ``image_id``.

    The classic image store names an image by its config digest; Docker's containerd store by
    its manifest or index digest. For an index the selected manifest must be listed in it
    (directly or through nested indexes): merely carrying a blob of that name proves nothing.
    """
    root = archive.root()
    if image_id in (_config_digest(root), root.digest):
        return True
    store = TarStore(path, f"docker export {path}")
    try:
        pending = [image_id]
        seen: set[str] = set()
        while pending and len(seen) < _MAX_INDEX_WALK:
            digest = pending.pop(0)
            if digest in seen:
                continue
            seen.add(digest)
            name = blob_name(digest)
            extent = store.locate(name)
            if extent is None:
                continue
            what = f"{name} in {store.description}"
            children = _index_children(check_bytes(read_extent(extent, what), digest, what), what)
            for child in children:
                child_digest = child.get("digest") if isinstance(child, dict) else None
                if child_digest == root.digest:
                    return True
                if isinstance(child_digest, str):
                    pending.append(child_digest)
        return False
    finally:
        store.close()


class DaemonSource:
    """The local image named ``name``, exported once and then read from the export cache.

    ``max_bytes`` caps the export cache; ``0`` keeps nothing: the export is deleted on close.
    """

    kind = "docker-daemon"

    def __init__(
        self,
        name: str,
        client: DaemonClient,
        spool_dir: Path,
        *,
        info: LocalImageInfo | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.name = name
        self.info = info if info is not None else resolve_name(client, name)
        self.endpoint = str(client.endpoint)
        self._cache = ExportCache(spool_dir, max_bytes)
        self._keep = max_bytes > 0
        self.exported = False
        """True when this open had to export (False: the cached export was reused)."""
        self._path, self._archive = self._open(client)

    def _open(self, client: DaemonClient) -> tuple[Path, DockerArchiveSource]:
        image_id = self.info.image_id
        cached = self._cache.get(image_id)
        if cached is not None:
            try:
                return cached, self._checked(cached)
            except (ArchiveError, ManifestError, IntegrityError):
                self._cache.discard(image_id)  # damaged or foreign: export afresh
        path = self._cache.put(image_id, lambda handle: client.export(image_id, handle))
        self.exported = True
        try:
            return path, self._checked(path)
        except BaseException:
            self._cache.discard(image_id)
            raise

    def _checked(self, path: Path) -> DockerArchiveSource:
        archive = DockerArchiveSource(path, None)
        try:
            if not _holds_image(archive, path, self.info.image_id):
                raise IntegrityError(
                    f"the Docker daemon at {self.endpoint} exported a different image than "
                    f"{self.info.image_id} for {self.name}",
                    hint="retry; if it persists, check the daemon",
                )
        except BaseException:
            archive.close()
            raise
        return archive

    # -- what the daemon knows -------------------------------------------------------------
    @property
    def image_id(self) -> str:
        return self.info.image_id

    @property
    def repo_digests(self) -> tuple[str, ...]:
        return self.info.repo_digests

    @property
    def created(self) -> dt.datetime | None:
        return self.info.created

    @property
    def export_path(self) -> Path:
        return self._path

    # -- ImageSource -----------------------------------------------------------------------
    @contextmanager
    def _forget_if_corrupt(self) -> Iterator[None]:
        """A cached export that fails verification would fail every rescan: drop it."""
        try:
            yield
        except IntegrityError:
            self._cache.discard(self.info.image_id)
            raise

    def root(self) -> RawManifest:
        return self._archive.root()

    def manifest(self, descriptor: Descriptor) -> RawManifest:
        with self._forget_if_corrupt():
            return self._archive.manifest(descriptor)

    def blob(self, descriptor: Descriptor) -> bytes:
        with self._forget_if_corrupt():
            return self._archive.blob(descriptor)

    @contextmanager
    def _open_verified(self, descriptor: Descriptor) -> Iterator[BinaryIO]:
        with self._forget_if_corrupt(), self._archive.open_blob(descriptor) as stream:
            yield stream

    def open_blob(self, descriptor: Descriptor) -> AbstractContextManager[BinaryIO]:
        return self._open_verified(descriptor)

    def repo_tags(self) -> tuple[str, ...]:
        return self.info.repo_tags

    def close(self) -> None:
        self._archive.close()
        if not self._keep:
            self._cache.discard(self.info.image_id)

    def __enter__(self) -> DaemonSource:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
