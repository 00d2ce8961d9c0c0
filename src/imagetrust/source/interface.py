"""The one protocol every source implements, so the image stage never knows where bytes live."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import BinaryIO, Protocol, runtime_checkable

from imagetrust.oci.content import Descriptor, RawManifest


@runtime_checkable
class ImageSource(Protocol):
    """Where an image's manifests and blobs come from.

    Contract:
    - every manifest and blob returned has been (or, for streams, will be by EOF) verified against
      its digest; a mismatch raises :class:`~imagetrust.errors.IntegrityError`;
    - ``open_blob`` returns a readable binary stream positioned at the start of the blob; local
      sources return a *seekable* stream so an uncompressed tar can be walked by seeking;
    - errors are :class:`~imagetrust.errors.ImagetrustError` subclasses with one-line messages.
    """

    kind: str
    """registry, docker-archive, oci-dir, oci-archive, dir, docker-daemon."""

    def root(self) -> RawManifest:
        """The manifest or index the reference points at."""
        ...

    def manifest(self, descriptor: Descriptor) -> RawManifest:
        """A child manifest named by an index entry."""
        ...

    def blob(self, descriptor: Descriptor) -> bytes:
        """A small blob (config, attestation) read whole and verified."""
        ...

    def open_blob(self, descriptor: Descriptor) -> AbstractContextManager[BinaryIO]:
        """A layer blob as a stream (verified; seekable for local sources)."""
        ...

    def repo_tags(self) -> tuple[str, ...]:
        """Tags the source records for the selected image (archives, layouts, daemon)."""
        ...

    def close(self) -> None: ...
