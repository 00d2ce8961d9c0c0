"""Images stacked on the suite's real Debian base and pushed to a real registry, for compare.

Each image is the fixture base layer (from the OCI layout, bytes unchanged) plus layers made
here: a dpkg status file written by the real ``dpkg --root`` installing a package built with
``dpkg-deb``, so package versions and their order are dpkg's own. Configs are the base's with
the layer list, history, ``created`` and labels changed; manifests may carry annotations
(``org.opencontainers.image.base.*``, ``org.opencontainers.image.revision``).
"""

from __future__ import annotations

import copy
import gzip
import io
import json
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.build import layout as oci
from tests.support.registry import OCI_CONFIG, OCI_MANIFEST, RegistryServer, make_layer, sha256

PROBE = "imagetrust-probe"
STATUS = "var/lib/dpkg/status"


def sh(*args: str | Path) -> str:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{args[0]} failed: {done.stderr[-800:]}"
    return done.stdout


@dataclass(frozen=True)
class Layer:
    data: bytes
    diff_id: str
    media_type: str = "application/vnd.oci.image.layer.v1.tar+gzip"


@dataclass(frozen=True)
class Pushed:
    digest: str
    """Manifest digest."""
    config: dict[str, Any]
    layers: tuple[Layer, ...]


def layout_layers(layout: Path, ref: str) -> tuple[tuple[Layer, ...], dict[str, Any]]:
    """The layers (bytes as stored) and config of a single-platform layout ref."""
    manifest = oci.manifest_json(layout, ref)
    config = json.loads(oci.read_blob(layout, manifest["config"]["digest"]))
    layers = tuple(
        Layer(oci.read_blob(layout, d["digest"]), diff_id, d["mediaType"])
        for d, diff_id in zip(manifest["layers"], config["rootfs"]["diff_ids"], strict=True)
    )
    return layers, config


def registry_layers(server: RegistryServer, repo: str, reference: str) -> tuple[
    tuple[Layer, ...], dict[str, Any]
]:
    """The layers and config of an image already in the registry."""
    accept = {"Accept": OCI_MANIFEST + ", application/vnd.docker.distribution.manifest.v2+json"}
    manifest = server.http.get(f"/v2/{repo}/manifests/{reference}", headers=accept).json()
    config = server.http.get(f"/v2/{repo}/blobs/{manifest['config']['digest']}").json()
    layers = tuple(
        Layer(server.http.get(f"/v2/{repo}/blobs/{d['digest']}").content, diff_id, d["mediaType"])
        for d, diff_id in zip(manifest["layers"], config["rootfs"]["diff_ids"], strict=True)
    )
    return layers, config


def file_in_layers(layers: tuple[Layer, ...], path: str) -> bytes | None:
    """The last version of ``path`` in a stack of gzip layers (no whiteouts needed here)."""
    found: bytes | None = None
    for layer in layers:
        raw = gzip.decompress(layer.data) if layer.data[:2] == b"\x1f\x8b" else layer.data
        with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
            for member in tar:
                if member.name.lstrip("./") == path and member.isfile():
                    extracted = tar.extractfile(member)
                    assert extracted is not None
                    found = extracted.read()
    return found


def push(
    server: RegistryServer,
    repo: str,
    tag: str | None,
    layers: tuple[Layer, ...],
    base_config: dict[str, Any],
    *,
    created: str = "2026-01-01T00:00:00Z",
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
) -> Pushed:
    config = copy.deepcopy(base_config)
    config["created"] = created
    config["rootfs"] = {"type": "layers", "diff_ids": [layer.diff_id for layer in layers]}
    history = list(config.get("history") or [])[: len(layers)]
    while len(history) < len(layers):
        history.append({"created": created, "created_by": "imagetrust test layer"})
    config["history"] = history
    if labels:
        config.setdefault("config", {}).setdefault("Labels", {}).update(labels)
    config_data = json.dumps(config, sort_keys=True).encode()
    for layer in layers:
        server.push_blob(repo, layer.data)
    server.push_blob(repo, config_data)
    manifest: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": sha256(config_data),
                   "size": len(config_data)},
        "layers": [
            {"mediaType": layer.media_type, "digest": sha256(layer.data), "size": len(layer.data)}
            for layer in layers
        ],
    }
    if annotations:
        manifest["annotations"] = annotations
    data = json.dumps(manifest, indent=2).encode()
    digest = server.push_manifest(repo, tag or sha256(data), data, OCI_MANIFEST)
    return Pushed(digest, config, layers)


class DpkgRoot:
    """A directory dpkg installs into with ``--root``, seeded with an image's status file."""

    def __init__(self, root: Path, status: bytes) -> None:
        self.root = root
        admin = root / "var/lib/dpkg"
        for sub in ("info", "updates"):
            (admin / sub).mkdir(parents=True, exist_ok=True)
        (admin / "status").write_bytes(status)
        (admin / "available").touch()

    def install(self, deb: Path) -> bytes:
        sh("dpkg", f"--root={self.root}", "--force-script-chrootless", "--force-depends",
           "-i", deb)
        return (self.root / STATUS).read_bytes()

    def layer(self, status: bytes, extra: dict[str, bytes] | None = None) -> Layer:
        data, diff_id = make_layer({STATUS: status, **(extra or {})})
        return Layer(data, diff_id)


def build_deb(work: Path, version: str, name: str = PROBE) -> Path:
    """A real .deb built by dpkg-deb: one documentation file, no maintainer scripts."""
    tree = work / f"{name}-{version}"
    (tree / "DEBIAN").mkdir(parents=True, exist_ok=True)
    (tree / "DEBIAN/control").write_text(
        f"Package: {name}\nVersion: {version}\nArchitecture: all\n"
        "Maintainer: imagetrust tests <tests@example.org>\nDescription: compare probe\n",
        encoding="utf-8",
    )
    doc = tree / f"usr/share/doc/{name}"
    doc.mkdir(parents=True, exist_ok=True)
    (doc / "VERSION").write_text(version + "\n", encoding="utf-8")
    deb = work / f"{name}_{version}_all.deb"
    sh("dpkg-deb", "--root-owner-group", "--build", tree, deb)
    return deb


def dpkg_packages(work: Path, status: bytes) -> dict[str, str]:
    """name → version of installed packages, as ``dpkg-query --admindir`` reads ``status``."""
    admin = work / sha256(status).split(":")[1][:16]
    admin.mkdir(parents=True, exist_ok=True)
    (admin / "status").write_bytes(status)
    out = sh("dpkg-query", f"--admindir={admin}", "-W",
             "-f=${Package}\t${Version}\t${db:Status-Status}\n")
    packages: dict[str, str] = {}
    for line in out.splitlines():
        name, version, state = line.split("\t")
        if state == "installed":
            packages[name] = version
    return packages


def dpkg_newer(a: str, b: str) -> bool:
    """dpkg's own answer to "is b newer than a"."""
    return subprocess.run(["dpkg", "--compare-versions", b, "gt", a], check=False).returncode == 0
