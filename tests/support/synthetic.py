"""Tiny images written in Python: OCI layouts, docker-save archives and hostile layer tars.

Digests are computed here with hashlib from the bytes written, independently of imagetrust, so
tests can compare what the reader reports with what was actually put into the files.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import zstandard

Compression = Literal["gzip", "zstd", "none"]

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER_TYPES = {
    "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
    "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
    "none": "application/vnd.oci.image.layer.v1.tar",
}


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


# -- layer tars -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Member:
    """One tar member; ``name`` is written verbatim (so hostile names are possible)."""

    name: str
    type: bytes = tarfile.REGTYPE
    data: bytes = b""
    linkname: str = ""
    mode: int = 0o644
    size: int | None = None
    """Override the header size (absurd sizes); data is written as given."""


def file(name: str, data: bytes | str, mode: int = 0o644) -> Member:
    return Member(name, data=data.encode() if isinstance(data, str) else data, mode=mode)


def directory(name: str) -> Member:
    return Member(name, tarfile.DIRTYPE, mode=0o755)


def symlink(name: str, target: str) -> Member:
    return Member(name, tarfile.SYMTYPE, linkname=target, mode=0o777)


def hardlink(name: str, target: str) -> Member:
    return Member(name, tarfile.LNKTYPE, linkname=target)


def whiteout(path: str) -> Member:
    head, _, base = path.rpartition("/")
    return Member(f"{head}/.wh.{base}" if head else f".wh.{base}")


def opaque(path: str) -> Member:
    return Member(f"{path}/.wh..wh..opq")


def device(name: str) -> Member:
    return Member(name, tarfile.CHRTYPE, mode=0o666)


def layer_tar(members: Sequence[Member]) -> bytes:
    """An uncompressed tar holding ``members`` in order."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for m in members:
            info = tarfile.TarInfo(m.name)
            info.type = m.type
            info.mode = m.mode
            info.linkname = m.linkname
            info.mtime = 1_700_000_000
            if m.type == tarfile.REGTYPE:
                info.size = len(m.data)
                tar.addfile(info, io.BytesIO(m.data))
            else:
                if m.type == tarfile.CHRTYPE:
                    info.devmajor, info.devminor = 1, 3
                tar.addfile(info)
    data = out.getvalue()
    return data


def absurd_size_tar(name: str, claimed: int) -> bytes:
    """A tar whose one member header claims ``claimed`` bytes but holds only a few."""
    info = tarfile.TarInfo(name)
    info.size = claimed
    header = info.tobuf(format=tarfile.GNU_FORMAT)
    return header + b"x" * 512 + b"\0" * 1024


def compress(data: bytes, compression: Compression) -> bytes:
    if compression == "gzip":
        return gzip.compress(data, mtime=0)
    if compression == "zstd":
        return zstandard.ZstdCompressor().compress(data)
    return data


# -- images ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Blob:
    media_type: str
    data: bytes

    @property
    def digest(self) -> str:
        return sha256(self.data)

    def descriptor(self, **extra: Any) -> dict[str, Any]:
        return {"mediaType": self.media_type, "digest": self.digest, "size": len(self.data),
                **extra}


@dataclass
class BuiltImage:
    manifest: Blob
    config: Blob
    layers: list[Blob]
    diff_ids: list[str]
    tars: list[bytes] = field(repr=False)

    @property
    def blobs(self) -> list[Blob]:
        return [self.manifest, self.config, *self.layers]


def build_image(
    tars: Sequence[bytes],
    *,
    compression: Compression | Sequence[Compression] = "gzip",
    os: str = "linux",
    architecture: str = "amd64",
    variant: str | None = None,
    annotations: dict[str, str] | None = None,
    config_extra: dict[str, Any] | None = None,
    diff_ids: Sequence[str] | None = None,
) -> BuiltImage:
    """An OCI manifest + config + layers from uncompressed layer tars."""
    kinds = [compression] * len(tars) if isinstance(compression, str) else list(compression)
    layers = [Blob(LAYER_TYPES[k], compress(t, k)) for t, k in zip(tars, kinds, strict=True)]
    ids = list(diff_ids) if diff_ids is not None else [sha256(t) for t in tars]
    config: dict[str, Any] = {
        "architecture": architecture,
        "os": os,
        "created": "2024-05-01T10:20:30.123456789Z",
        "config": {"User": "app", "Env": ["PATH=/usr/bin"], "Cmd": ["/bin/sh"],
                   "Labels": {"org.example": "yes"}},
        "rootfs": {"type": "layers", "diff_ids": ids},
        "history": [{"created": "2024-05-01T10:20:30Z", "created_by": f"layer {i}"}
                    for i in range(len(tars))],
    }
    if variant:
        config["variant"] = variant
    config.update(config_extra or {})
    config_blob = Blob(OCI_CONFIG, json.dumps(config).encode())
    manifest: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config_blob.descriptor(),
        "layers": [layer.descriptor() for layer in layers],
    }
    if annotations:
        manifest["annotations"] = annotations
    return BuiltImage(Blob(OCI_MANIFEST, json.dumps(manifest).encode()), config_blob, layers,
                      ids, list(tars))


def build_index(
    images: Sequence[tuple[BuiltImage, dict[str, str]]],
    *,
    attestations: Sequence[tuple[Blob, str]] = (),
    annotations: dict[str, str] | None = None,
) -> Blob:
    """An OCI index of (image, platform) pairs plus attestation manifests for given digests."""
    manifests = [img.manifest.descriptor(platform=platform) for img, platform in images]
    manifests += [
        blob.descriptor(
            platform={"os": "unknown", "architecture": "unknown"},
            annotations={"vnd.docker.reference.type": "attestation-manifest",
                         "vnd.docker.reference.digest": subject},
        )
        for blob, subject in attestations
    ]
    index: dict[str, Any] = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests}
    if annotations:
        index["annotations"] = annotations
    return Blob(OCI_INDEX, json.dumps(index).encode())


def write_blobs(root: Path, blobs: Sequence[Blob]) -> None:
    (root / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    for blob in blobs:
        (root / "blobs" / "sha256" / blob.digest.removeprefix("sha256:")).write_bytes(blob.data)


def write_layout(
    root: Path, refs: dict[str, Blob], blobs: Sequence[Blob], *, unnamed: Sequence[Blob] = ()
) -> Path:
    """An OCI layout whose index.json names each top blob (manifest or index) by ref."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    entries = [blob.descriptor(annotations={"org.opencontainers.image.ref.name": ref})
               for ref, blob in refs.items()]
    entries += [blob.descriptor() for blob in unnamed]
    (root / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": entries}))
    write_blobs(root, [*blobs, *refs.values(), *unnamed])
    return root


def tar_directory(source: Path, target: Path) -> Path:
    """A tar of a directory's content (names relative to it), e.g. an oci-archive."""
    with tarfile.open(target, "w") as tar:
        for path in sorted(source.rglob("*")):
            tar.add(path, arcname=str(path.relative_to(source)), recursive=False)
    return target


def write_docker_archive(
    target: Path,
    images: Sequence[tuple[BuiltImage, Sequence[str]]],
    *,
    style: Literal["classic", "oci"] = "classic",
) -> Path:
    """A docker-save tarball: classic (``<id>/layer.tar``) or Docker 25 style (OCI inside).

    Classic layers are written as the image's layer blobs (so pass compression="none" for the
    usual uncompressed layers, or gzip to test magic detection).
    """
    files: dict[str, bytes] = {}
    manifest: list[dict[str, Any]] = []
    for image, tags in images:
        if style == "classic":
            config_name = image.config.digest.removeprefix("sha256:") + ".json"
            layer_names = []
            for i, layer in enumerate(image.layers):
                v1 = hashlib.sha256(f"{config_name}{i}".encode()).hexdigest()
                files[f"{v1}/layer.tar"] = layer.data
                files[f"{v1}/VERSION"] = b"1.0"
                layer_names.append(f"{v1}/layer.tar")
            files[config_name] = image.config.data
        else:
            config_name = "blobs/sha256/" + image.config.digest.removeprefix("sha256:")
            layer_names = ["blobs/sha256/" + b.digest.removeprefix("sha256:")
                           for b in image.layers]
            for blob in image.blobs:
                files["blobs/sha256/" + blob.digest.removeprefix("sha256:")] = blob.data
        manifest.append({"Config": config_name, "RepoTags": list(tags), "Layers": layer_names})
    if style == "oci":
        files["oci-layout"] = json.dumps({"imageLayoutVersion": "1.0.0"}).encode()
        files["index.json"] = json.dumps({"schemaVersion": 2, "manifests": [
            image.manifest.descriptor(annotations={
                "io.containerd.image.name": tags[0] if tags else "",
                "org.opencontainers.image.ref.name": tags[0].rpartition(":")[2] if tags else "",
            })
            for image, tags in images
        ]}).encode()
    files["manifest.json"] = json.dumps(manifest).encode()
    with tarfile.open(target, "w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return target
