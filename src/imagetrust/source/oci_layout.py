"""OCI image layouts: a directory (``oci-dir:``) or a tar of one (``oci-archive:``).

Both read ``index.json``, pick the image by its ``org.opencontainers.image.ref.name`` annotation and
serve blobs from ``blobs/<alg>/<hex>`` as verified byte ranges; an archive is indexed, never
unpacked.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from types import MappingProxyType
from typing import Any, BinaryIO

from imagetrust import jsonutil
from imagetrust.errors import ArchiveError, ImagetrustError, ManifestError
from imagetrust.oci import mediatypes as mt
from imagetrust.oci.content import Descriptor, RawManifest
from imagetrust.reference.parse import parse_reference
from imagetrust.source._ranges import check_bytes, prefetched, split_digest, verified_range
from imagetrust.source._store import (
    MAX_METADATA_SIZE,
    BlobStore,
    DirStore,
    TarStore,
    read_extent,
    read_named,
)

CONTAINERD_IMAGE_NAME = "io.containerd.image.name"
MAX_BLOB_SIZE = 512 * 1024 * 1024
"""``blob()`` reads whole blobs into memory; anything bigger must be streamed with open_blob."""


def blob_name(digest: str) -> str:
    """``blobs/sha256/<hex>`` for a validated digest (digests become paths, so check them)."""
    algorithm, hexpart = split_digest(digest)
    return f"blobs/{algorithm}/{hexpart}"


def load_json_value(data: bytes, what: str) -> Any:
    return jsonutil.loads(data, what=what)


def descriptor_from_json(value: Any, what: str) -> Descriptor:
    """The few descriptor fields a source needs; the image stage parses the rest."""
    if not isinstance(value, dict):
        raise ManifestError(f"{what} must be an object")
    media_type, digest, size = value.get("mediaType"), value.get("digest"), value.get("size")
    if not isinstance(media_type, str) or not isinstance(digest, str):
        raise ManifestError(f"{what} needs string 'mediaType' and 'digest'")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ManifestError(f"{what}: 'size' must be a non-negative integer")
    split_digest(digest)
    annotations = value.get("annotations") or {}
    if not isinstance(annotations, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in annotations.items()
    ):
        raise ManifestError(f"{what}: 'annotations' must map strings to strings")
    return Descriptor(media_type, digest, size, annotations=MappingProxyType(dict(annotations)))


def ref_names(descriptor: Descriptor) -> tuple[str, ...]:
    names = (
        descriptor.annotations.get(mt.ANN_REF_NAME),
        descriptor.annotations.get(CONTAINERD_IMAGE_NAME),
    )
    return tuple(dict.fromkeys(n for n in names if n))


def _normalised(name: str) -> str | None:
    try:
        return str(parse_reference(name))
    except ImagetrustError:
        return None


def name_matches(candidate: str, selector: str) -> bool:
    """Exact ref name, a tag (``1.0`` ~ ``x/app:1.0``) or the same normalised reference."""
    if candidate == selector or candidate.endswith(":" + selector):
        return True
    left, right = _normalised(candidate), _normalised(selector)
    return left is not None and left == right


class StoreSource:
    """Blob serving shared by layouts and archives: every read checked against its digest."""

    kind = "oci-dir"

    def __init__(self, store: BlobStore) -> None:
        self._store = store

    def _extent_for(self, descriptor: Descriptor) -> tuple[Any, str]:
        name = blob_name(descriptor.digest)
        extent = self._store.locate(name)
        if extent is None:
            raise ArchiveError(
                f"{self._store.description} lacks blob {descriptor.digest}",
                hint="the image is incomplete; save or copy it again",
            )
        if extent.size != descriptor.size:
            raise ArchiveError(
                f"blob {descriptor.digest} in {self._store.description} is {extent.size} bytes, "
                f"the manifest says {descriptor.size}",
                hint="the image is corrupt; save or copy it again",
            )
        return extent, name

    def _read_verified(self, descriptor: Descriptor, limit: int) -> bytes:
        extent, name = self._extent_for(descriptor)
        what = f"{name} in {self._store.description}"
        return check_bytes(read_extent(extent, what, limit), descriptor.digest, what)

    def manifest(self, descriptor: Descriptor) -> RawManifest:
        data = self._read_verified(descriptor, MAX_METADATA_SIZE)
        return RawManifest(descriptor.media_type, descriptor.digest, data)

    def blob(self, descriptor: Descriptor) -> bytes:
        return self._read_verified(descriptor, MAX_BLOB_SIZE)

    def open_blob(self, descriptor: Descriptor) -> AbstractContextManager[BinaryIO]:
        extent, name = self._extent_for(descriptor)
        return verified_range(
            extent.fd, extent.offset, extent.size, descriptor.digest,
            f"{name} in {self._store.description}",
        )

    def prefetch_blobs(self, descriptors: Sequence[Descriptor]) -> AbstractContextManager[None]:
        """Start verifying blobs about to be opened, in parallel (see ``_ranges.prefetched``)."""
        ranges = []
        for descriptor in descriptors:
            try:
                extent, _ = self._extent_for(descriptor)
            except ImagetrustError:
                continue  # reported when that blob is opened, in order
            ranges.append((extent.fd, extent.offset, extent.size, descriptor.digest))
        return prefetched(ranges)

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> StoreSource:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def read_index(store: BlobStore) -> tuple[Descriptor, ...]:
    """The manifests listed by ``index.json`` of a layout, after checking ``oci-layout``."""
    if store.locate("oci-layout") is None:
        raise ArchiveError(
            f"{store.description} is not an OCI layout (no oci-layout file)",
            hint="use docker-archive: for docker save output, dir: for a root filesystem",
        )
    what = f"index.json in {store.description}"
    index = load_json_value(read_named(store, "index.json", what), what)
    if not isinstance(index, dict) or not isinstance(index.get("manifests"), list):
        raise ManifestError(f"{what} has no 'manifests' list")
    return tuple(
        descriptor_from_json(item, f"{what}: manifests[{i}]")
        for i, item in enumerate(index["manifests"])
    )


def select_descriptor(
    entries: tuple[Descriptor, ...], selector: str | None, where: str
) -> Descriptor:
    """Pick the index entry named by ``selector``, or the only one."""
    if selector:
        found = [e for e in entries if any(name_matches(n, selector) for n in ref_names(e))]
        if not found:
            found = [e for e in entries if e.digest == selector]
        if len(found) == 1 or (found and len({e.digest for e in found}) == 1):
            return found[0]
        if not found:
            raise ArchiveError(
                f"{where} has no image named {selector!r}; it has: {_listing(entries)}",
                hint="pick one of those names",
            )
        raise ArchiveError(
            f"{selector!r} matches several images in {where}: {_listing(found)}",
            hint="give the full name",
        )
    if not entries:
        raise ArchiveError(f"{where} contains no images")
    if len({e.digest for e in entries}) == 1:
        return entries[0]
    raise ArchiveError(
        f"{where} holds {len(entries)} images: {_listing(entries)}",
        hint="add :NAME to the reference to pick one",
    )


def _listing(entries: tuple[Descriptor, ...] | list[Descriptor]) -> str:
    names = [", ".join(ref_names(e)) or e.digest for e in entries]
    return "; ".join(names)


class _LayoutSource(StoreSource):
    def __init__(self, store: BlobStore, selector: str | None, where: str) -> None:
        super().__init__(store)
        try:
            self._selected = select_descriptor(read_index(store), selector, where)
        except BaseException:
            store.close()
            raise

    def root(self) -> RawManifest:
        return self.manifest(self._selected)

    def repo_tags(self) -> tuple[str, ...]:
        return ref_names(self._selected)


class OciLayoutSource(_LayoutSource):
    """An OCI image layout directory (``oci-dir:PATH[:REF]``)."""

    kind = "oci-dir"

    def __init__(self, path: Path, selector: str | None = None) -> None:
        path = Path(path)
        if not path.is_dir():
            raise ArchiveError(
                f"{path} is not a directory", hint="oci-dir: expects an OCI layout directory"
            )
        super().__init__(DirStore(path, f"OCI layout {path}"), selector, f"OCI layout {path}")


class OciArchiveSource(_LayoutSource):
    """A tar of an OCI image layout (``oci-archive:PATH[:REF]``), read in place."""

    kind = "oci-archive"

    def __init__(self, path: Path, selector: str | None = None) -> None:
        path = Path(path)
        super().__init__(TarStore(path, f"OCI archive {path}"), selector, f"OCI archive {path}")
