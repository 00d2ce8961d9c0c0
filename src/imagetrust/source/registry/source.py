"""The registry as an :class:`~imagetrust.source.interface.ImageSource`.

Layers go through the blob cache, so ``open_blob`` hands out a seekable local file and a second
scan of the same image downloads nothing.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import BinaryIO

from imagetrust.errors import IntegrityError
from imagetrust.oci.content import Descriptor, RawManifest
from imagetrust.reference.parse import ImageReference
from imagetrust.source.registry.client import RegistryClient


class RegistrySource:
    """One image reference read through a :class:`RegistryClient`."""

    kind = "registry"

    def __init__(
        self, ref: ImageReference, client: RegistryClient, *, close_client: bool = True
    ) -> None:
        self.ref = ref
        """The canonical reference; it stays the same when a mirror serves the bytes."""
        self.client = client
        self._close_client = close_client
        self._root: RawManifest | None = None

    def root(self) -> RawManifest:
        if self._root is None:
            self._root = self.client.get_manifest(self.ref)
        return self._root

    def manifest(self, descriptor: Descriptor) -> RawManifest:
        raw = self.client.get_manifest(self.ref, descriptor.digest)
        if descriptor.size >= 0 and len(raw.data) != descriptor.size:
            raise IntegrityError(
                f"manifest {descriptor.digest} of {self.ref.name} has {len(raw.data)} bytes, "
                f"its descriptor says {descriptor.size}",
                hint="the index is inconsistent; re-push the image",
            )
        return raw

    def blob(self, descriptor: Descriptor) -> bytes:
        return self.client.blob_bytes(self.ref, descriptor)

    def open_blob(self, descriptor: Descriptor) -> AbstractContextManager[BinaryIO]:
        return self.client.fetch_blob(self.ref, descriptor).open("rb")

    def repo_tags(self) -> tuple[str, ...]:
        return (self.ref.tag,) if self.ref.tag else ()

    def close(self) -> None:
        if self._close_client:
            self.client.close()
