"""docker-save tarballs skopeo cannot write: several images in one file, and Docker >= 25's layout.

Docker 25 ``docker save`` writes an OCI layout (``oci-layout``, ``index.json``, ``blobs/``) with
uncompressed layers and the classic ``manifest.json``/``repositories`` pointing into ``blobs/``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import zlib
from pathlib import Path
from typing import IO, Any

from tests.support.build.layout import (
    OCI_INDEX,
    OCI_MANIFEST,
    canonical,
    manifest_json,
    read_blob,
)

OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
CHUNK = 1 << 20


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def _add_stream(tar: tarfile.TarFile, name: str, size: int, stream: IO[bytes]) -> None:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o644
    tar.addfile(info, stream)


def merge_docker_archives(sources: list[Path], dest: Path) -> None:
    """One docker-save tarball holding every image of ``sources`` (shared layers stored once)."""
    manifests: list[Any] = []
    repositories: dict[str, dict[str, str]] = {}
    seen: set[str] = set()
    tmp = dest.with_name(dest.name + ".tmp")
    with tarfile.open(tmp, "w") as out:
        for source in sources:
            with tarfile.open(source, "r") as tar:
                for member in tar:
                    if member.name == "manifest.json":
                        manifests.extend(json.load(_extract(tar, member)))
                    elif member.name == "repositories":
                        for repo, tags in json.load(_extract(tar, member)).items():
                            repositories.setdefault(repo, {}).update(tags)
                    elif member.name not in seen:
                        seen.add(member.name)
                        out.addfile(member, tar.extractfile(member) if member.isfile() else None)
        _add_bytes(out, "manifest.json", json.dumps(manifests).encode())
        if repositories:
            _add_bytes(out, "repositories", json.dumps(repositories).encode())
    os.replace(tmp, dest)


def _extract(tar: tarfile.TarFile, member: tarfile.TarInfo) -> IO[bytes]:
    handle = tar.extractfile(member)
    if handle is None:
        raise RuntimeError(f"{member.name} is not a regular file in the archive")
    return handle


def _gunzip_to(src: Path, dst: IO[bytes]) -> tuple[str, int]:
    """Inflate a gzip layer, returning its diff_id and uncompressed size."""
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    digest = hashlib.sha256()
    size = 0
    with open(src, "rb") as handle:
        while chunk := handle.read(CHUNK):
            data = inflater.decompress(chunk)
            digest.update(data)
            dst.write(data)
            size += len(data)
    data = inflater.flush()
    digest.update(data)
    dst.write(data)
    size += len(data)
    return "sha256:" + digest.hexdigest(), size


def write_docker25_save(layout: Path, ref: str, repo_tag: str, dest: Path, workdir: Path) -> None:
    """Write what ``docker save REPO:TAG`` produces on Docker 25+ for the image at ``ref``.

    The config blob is copied byte for byte (same image ID); layers are stored uncompressed, so
    their blob digests are the config's diff_ids, as in Docker's own output.
    """
    manifest = manifest_json(layout, ref)
    config_digest = manifest["config"]["digest"]
    config = read_blob(layout, config_digest)
    diff_ids = json.loads(config)["rootfs"]["diff_ids"]
    workdir.mkdir(parents=True, exist_ok=True)
    layers: list[tuple[str, int, Path]] = []
    for layer, expected in zip(manifest["layers"], diff_ids, strict=True):
        out_path = workdir / layer["digest"].split(":")[1]
        with open(out_path, "wb") as out:
            diff_id, size = _gunzip_to(layout / "blobs/sha256" / layer["digest"].split(":")[1], out)
        if diff_id != expected:
            raise RuntimeError(f"layer {layer['digest']} inflates to {diff_id}, not {expected}")
        layers.append((diff_id, size, out_path))
    oci_manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config)},
        "layers": [{"mediaType": OCI_LAYER_TAR, "digest": d, "size": s} for d, s, _ in layers],
    }
    manifest_bytes = canonical(oci_manifest)
    manifest_digest = "sha256:" + hashlib.sha256(manifest_bytes).hexdigest()
    name, _, tag = repo_tag.rpartition(":")
    full_name = name if "/" in name else f"docker.io/library/{name}"
    index = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [{
            "mediaType": OCI_MANIFEST, "digest": manifest_digest, "size": len(manifest_bytes),
            "annotations": {"io.containerd.image.name": f"{full_name}:{tag}",
                            "org.opencontainers.image.ref.name": tag},
        }],
    }
    blob = "blobs/sha256/"
    docker_manifest = [{
        "Config": blob + config_digest.split(":")[1],
        "RepoTags": [repo_tag],
        "Layers": [blob + d.split(":")[1] for d, _, _ in layers],
    }]
    repositories = {name: {tag: layers[-1][0].split(":")[1]}}
    tmp = dest.with_name(dest.name + ".tmp")
    with tarfile.open(tmp, "w") as tar:
        for directory in ("blobs", "blobs/sha256"):
            info = tarfile.TarInfo(directory)
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            tar.addfile(info)
        _add_bytes(tar, blob + config_digest.split(":")[1], config)
        for diff_id, size, path in layers:
            with open(path, "rb") as handle:
                _add_stream(tar, blob + diff_id.split(":")[1], size, handle)
            path.unlink()
        _add_bytes(tar, blob + manifest_digest.split(":")[1], manifest_bytes)
        _add_bytes(tar, "index.json", canonical(index))
        _add_bytes(tar, "manifest.json", json.dumps(docker_manifest).encode())
        _add_bytes(tar, "oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
        _add_bytes(tar, "repositories", json.dumps(repositories).encode())
    os.replace(tmp, dest)
