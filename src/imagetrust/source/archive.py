"""``docker save`` tarballs (``docker-archive:PATH[:TAG]``), read in place.

Two layouts exist: the classic one (``manifest.json`` + ``<id>/layer.tar`` + ``<id>.json``) and the
one written by Docker >= 25 and skopeo, which carries an OCI layout (``index.json``, ``blobs/``)
next to ``manifest.json``. When the real manifest is present it is used, so digests match the
registry. A classic archive has no manifest: one is synthesised (Docker schema 2, config digest =
sha256 of the config file, layer digest = sha256 of the layer file), and its digest is therefore
synthetic — it names this archive's content, not anything a registry ever served.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from imagetrust import jsonutil
from imagetrust.errors import ArchiveError, ImagetrustError, ManifestError
from imagetrust.oci import mediatypes as mt
from imagetrust.oci.content import Descriptor, RawManifest
from imagetrust.reference.parse import parse_reference
from imagetrust.source._ranges import digest_bytes, digest_range
from imagetrust.source._store import Extent, TarStore, read_named
from imagetrust.source.oci_layout import (
    StoreSource,
    blob_name,
    descriptor_from_json,
    load_json_value,
)

_BLOB_PATH = re.compile(r"^blobs/(sha256)/([0-9a-f]{64})$")
_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def _tag_key(tag: str) -> str:
    try:
        return str(parse_reference(tag))
    except ImagetrustError:
        return tag


class DockerArchiveSource(StoreSource):
    """A docker-save tarball; ``selector`` picks an image by tag when it holds several."""

    kind = "docker-archive"

    def __init__(self, path: Path, selector: str | None = None) -> None:
        path = Path(path)
        self._where = f"docker archive {path}"
        store = TarStore(path, self._where)
        super().__init__(store)
        self._tar = store
        self._names: dict[str, str] = {}
        try:
            entry = self._select(self._entries(), selector)
            tags = entry.get("RepoTags") or []
            self._tags = tuple(t for t in tags if isinstance(t, str))
            self._root = self._real_manifest(entry) or self._synthesise(entry)
        except BaseException:
            store.close()
            raise

    # -- selection -------------------------------------------------------------------------
    def _entries(self) -> list[dict[str, Any]]:
        if self._tar.locate("manifest.json") is None:
            hint = "it looks like an OCI archive: use oci-archive:" if self._tar.locate(
                "oci-layout") else "pass a file written by docker save or skopeo"
            raise ArchiveError(f"{self._where} has no manifest.json", hint=hint)
        what = f"manifest.json in {self._where}"
        value = load_json_value(read_named(self._tar, "manifest.json", what), what)
        if not isinstance(value, list) or not value:
            raise ManifestError(f"{what} must be a non-empty list of images")
        for i, item in enumerate(value):
            if not isinstance(item, dict) or not isinstance(item.get("Config"), str):
                raise ManifestError(f"{what}: entry {i} has no 'Config' string")
            layers = item.get("Layers")
            if not isinstance(layers, list) or not all(isinstance(x, str) for x in layers):
                raise ManifestError(f"{what}: entry {i}: 'Layers' must be a list of strings")
            tags = item.get("RepoTags")
            if tags is not None and (
                not isinstance(tags, list) or not all(isinstance(t, str) for t in tags)
            ):
                raise ManifestError(f"{what}: entry {i}: 'RepoTags' must be a list of strings")
        return value

    def _select(self, entries: list[dict[str, Any]], selector: str | None) -> dict[str, Any]:
        def listing() -> str:
            return "; ".join(
                ", ".join(e.get("RepoTags") or []) or f"@{i} (untagged)"
                for i, e in enumerate(entries)
            )

        if selector is None:
            if len(entries) == 1:
                return entries[0]
            raise ArchiveError(
                f"{self._where} holds {len(entries)} images: {listing()}",
                hint="add :TAG to the reference to pick one",
            )
        if re.fullmatch(r"@\d+", selector):
            position = int(selector[1:])
            if position < len(entries):
                return entries[position]
        wanted = _tag_key(selector)
        for entry in entries:
            if any(_tag_key(tag) == wanted for tag in entry.get("RepoTags") or []):
                return entry
        raise ArchiveError(
            f"{self._where} has no image tagged {selector!r}; it has: {listing()}",
            hint="pick one of those tags",
        )

    # -- manifests -------------------------------------------------------------------------
    def _real_manifest(self, entry: dict[str, Any]) -> RawManifest | None:
        """The OCI manifest stored by Docker >= 25 / skopeo whose config is this entry's."""
        match = _BLOB_PATH.match(entry["Config"].lstrip("./"))
        if match is None or self._tar.locate("index.json") is None:
            return None
        config_digest = f"{match[1]}:{match[2]}"
        what = f"index.json in {self._where}"
        index = load_json_value(read_named(self._tar, "index.json", what), what)
        pending = list(index.get("manifests") or []) if isinstance(index, dict) else []
        for _ in range(64):  # bounded walk over nested indexes
            if not pending:
                break
            descriptor = descriptor_from_json(pending.pop(0), f"{what}: manifests")
            if self._tar.locate(blob_name(descriptor.digest)) is None:
                continue
            raw = self.manifest(descriptor)
            body = load_json_value(raw.data, f"manifest {descriptor.digest}")
            if not isinstance(body, dict):
                continue
            if isinstance(body.get("manifests"), list):
                pending.extend(body["manifests"])
                continue
            config = body.get("config")
            if isinstance(config, dict) and config.get("digest") == config_digest:
                media_type = body.get("mediaType") or descriptor.media_type
                return RawManifest(str(media_type), raw.digest, raw.data)
        return None

    def _synthesise(self, entry: dict[str, Any]) -> RawManifest:
        config_name = entry["Config"]
        config_data = read_named(self._tar, config_name, f"{config_name} in {self._where}")
        config_digest = digest_bytes(config_data)
        self._names[config_digest] = config_name
        diff_ids = _diff_ids(config_data)
        layers = []
        for i, name in enumerate(entry["Layers"]):
            extent = self._tar.locate(name)
            if extent is None:
                raise ArchiveError(
                    f"{self._where} lacks layer {name} named in manifest.json",
                    hint="the archive is incomplete; save it again",
                )
            magic = os.pread(extent.fd, 4, extent.offset)
            if magic.startswith(_GZIP_MAGIC):
                media_type = mt.DOCKER_LAYER_GZIP
            elif magic.startswith(_ZSTD_MAGIC):
                media_type = mt.OCI_LAYER_ZSTD
            else:
                media_type = mt.DOCKER_LAYER
            digest = _known_digest(name, media_type, diff_ids, i) or digest_range(
                extent.fd, extent.offset, extent.size
            )
            self._names[digest] = name
            layers.append({"mediaType": media_type, "size": extent.size, "digest": digest})
        manifest = {
            "schemaVersion": 2,
            "mediaType": mt.DOCKER_MANIFEST,
            "config": {
                "mediaType": mt.DOCKER_CONFIG,
                "size": len(config_data),
                "digest": config_digest,
            },
            "layers": layers,
        }
        data = json.dumps(manifest, indent=3).encode()
        return RawManifest(mt.DOCKER_MANIFEST, digest_bytes(data), data)

    # -- ImageSource -----------------------------------------------------------------------
    def _extent_for(self, descriptor: Descriptor) -> tuple[Extent, str]:
        name = self._names.get(descriptor.digest)
        if name is None:
            return super()._extent_for(descriptor)
        extent = self._tar.locate(name)
        assert extent is not None  # located when the manifest was synthesised
        return extent, name

    def root(self) -> RawManifest:
        return self._root

    def manifest(self, descriptor: Descriptor) -> RawManifest:
        root: RawManifest | None = getattr(self, "_root", None)
        if root is not None and descriptor.digest == root.digest:
            return root
        return super().manifest(descriptor)

    def repo_tags(self) -> tuple[str, ...]:
        return self._tags


def _diff_ids(config: bytes) -> list[str]:
    try:
        value = jsonutil.loads(config, what="image config")
        ids = value["rootfs"]["diff_ids"]
        return [i for i in ids if isinstance(i, str)] if isinstance(ids, list) else []
    except (ManifestError, TypeError, KeyError):
        return []  # the image stage reports a malformed config properly


def _known_digest(name: str, media_type: str, diff_ids: list[str], index: int) -> str | None:
    """A digest that needs no hashing now (it is still verified when the layer is read)."""
    match = _BLOB_PATH.match(name.lstrip("./"))
    if match:
        return f"{match[1]}:{match[2]}"
    if media_type == mt.DOCKER_LAYER and index < len(diff_ids):
        candidate = diff_ids[index]
        if re.fullmatch(r"sha256:[0-9a-f]{64}", candidate):
            return candidate  # an uncompressed layer's digest is its diff_id
    return None
