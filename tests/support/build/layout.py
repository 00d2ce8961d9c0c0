"""Small edits to an OCI image layout that umoci cannot make: annotations, indexes, ref removal.

Every rewrite stores the new blob under its own digest and repoints ``index.json`` atomically, so
the layout stays valid for skopeo and umoci after each step.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

REF_NAME = "org.opencontainers.image.ref.name"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"

JSONDict = dict[str, Any]


def atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def blob_path(layout: Path, digest: str) -> Path:
    algorithm, _, hexdigest = digest.partition(":")
    return layout / "blobs" / algorithm / hexdigest


def read_blob(layout: Path, digest: str) -> bytes:
    data = blob_path(layout, digest).read_bytes()
    if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
        raise RuntimeError(f"blob {digest} in {layout} does not match its digest")
    return data


def write_blob(layout: Path, data: bytes) -> tuple[str, int]:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    path = blob_path(layout, digest)
    if not path.exists():
        atomic_write(path, data)
    return digest, len(data)


def canonical(document: JSONDict) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


def load_index(layout: Path) -> JSONDict:
    index: JSONDict = json.loads((layout / "index.json").read_text(encoding="utf-8"))
    return index


def save_index(layout: Path, index: JSONDict) -> None:
    atomic_write(layout / "index.json", canonical(index))


def ref_descriptor(layout: Path, ref: str) -> JSONDict:
    for entry in load_index(layout)["manifests"]:
        if entry.get("annotations", {}).get(REF_NAME) == ref:
            found: JSONDict = entry
            return found
    raise KeyError(f"no ref {ref!r} in {layout}")


def set_ref(layout: Path, ref: str, descriptor: JSONDict) -> None:
    """Point ``ref`` at ``descriptor`` (replacing any previous target of that name)."""
    index = load_index(layout)
    entry = dict(descriptor)
    entry["annotations"] = {**descriptor.get("annotations", {}), REF_NAME: ref}
    index["manifests"] = [
        item for item in index["manifests"] if item.get("annotations", {}).get(REF_NAME) != ref
    ] + [entry]
    save_index(layout, index)


def remove_ref(layout: Path, ref: str) -> None:
    index = load_index(layout)
    index["manifests"] = [
        item for item in index["manifests"] if item.get("annotations", {}).get(REF_NAME) != ref
    ]
    save_index(layout, index)


def manifest_json(layout: Path, ref: str) -> JSONDict:
    document: JSONDict = json.loads(read_blob(layout, ref_descriptor(layout, ref)["digest"]))
    return document


def annotate_manifest(layout: Path, ref: str, annotations: dict[str, str]) -> str:
    """Add manifest annotations (umoci only sets config labels); return the new digest."""
    manifest = manifest_json(layout, ref)
    manifest["annotations"] = {**manifest.get("annotations", {}), **annotations}
    digest, size = write_blob(layout, canonical(manifest))
    set_ref(layout, ref, {"mediaType": OCI_MANIFEST, "digest": digest, "size": size})
    return digest


def write_index(layout: Path, ref: str, members: list[tuple[str, JSONDict]]) -> str:
    """Make ``ref`` an image index over the manifests of refs ``members`` (ref, platform)."""
    manifests = []
    for member_ref, platform in members:
        desc = ref_descriptor(layout, member_ref)
        manifests.append({"mediaType": desc["mediaType"], "digest": desc["digest"],
                          "size": desc["size"], "platform": platform})
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests}
    digest, size = write_blob(layout, canonical(index))
    set_ref(layout, ref, {"mediaType": OCI_INDEX, "digest": digest, "size": size})
    return digest
