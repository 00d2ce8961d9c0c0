"""Real BuildKit-style attestations for tests, pushed to a loopback registry.

BuildKit (``docker buildx build --provenance --sbom``) stores, next to each image manifest in the
index, an *attestation manifest*: an OCI manifest whose layers are in-toto statements
(``application/vnd.in-toto+json``, annotation ``in-toto.io/predicate-type``), listed in the index
with platform unknown/unknown and ``vnd.docker.reference.type: attestation-manifest`` /
``vnd.docker.reference.digest: <image manifest digest>``. These helpers write exactly that shape
(from the BuildKit attestation-storage documentation) so the reader is tested against the format,
not against itself. Also: a skopeo push of a fixture layout ref.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.registry import OCI_INDEX, OCI_MANIFEST, PushedImage, RegistryServer, sha256

IN_TOTO = "application/vnd.in-toto+json"
SLSA_V02 = "https://slsa.dev/provenance/v0.2"
SLSA_V1 = "https://slsa.dev/provenance/v1"
SPDX = "https://spdx.dev/Document"
STATEMENT_V01 = "https://in-toto.io/Statement/v0.1"


def _subject(image_digest: str, name: str) -> list[dict[str, Any]]:
    algorithm, hexdigest = image_digest.split(":", 1)
    return [{"name": name, "digest": {algorithm: hexdigest}}]


def provenance_v02(
    image_digest: str,
    *,
    repo: str | None,
    commit: str | None,
    materials: Sequence[tuple[str, str]] = (),
    entry_point: str = "Dockerfile",
    name: str = "pkg:docker/test/image@1?platform=linux%2Famd64",
) -> dict[str, Any]:
    """A SLSA v0.2 statement as BuildKit writes it (configSource uri ``REPO#COMMIT:DIR``)."""
    config_source: dict[str, Any] = {"entryPoint": entry_point}
    if repo is not None:
        config_source["uri"] = f"{repo}#{commit}:bookworm" if commit else repo
    if commit is not None:
        config_source["digest"] = {"sha1": commit}
    return {
        "_type": STATEMENT_V01,
        "predicateType": SLSA_V02,
        "subject": _subject(image_digest, name),
        "predicate": {
            "builder": {"id": "https://github.com/docker-library/meta/actions/runs/1"},
            "buildType": "https://mobyproject.org/buildkit@v1",
            "materials": [
                {"uri": uri, "digest": {"sha256": digest.split(":", 1)[1]}}
                for uri, digest in materials
            ],
            "invocation": {
                "configSource": config_source,
                "parameters": {"frontend": "dockerfile.v0"},
            },
            "metadata": {
                "buildStartedOn": "2026-01-02T03:04:05Z",
                "buildFinishedOn": "2026-01-02T03:09:05Z",
                "completeness": {"parameters": True, "environment": True, "materials": False},
                "reproducible": False,
            },
        },
    }


def provenance_v1(
    image_digest: str,
    *,
    repo: str,
    commit: str,
    dependencies: Sequence[tuple[str, str]] = (),
    name: str = "pkg:docker/test/image@1?platform=linux%2Famd64",
) -> dict[str, Any]:
    """A SLSA v1 statement: source in externalParameters.configSource, inputs resolved."""
    return {
        "_type": "https://in-toto.io/Statement/v1",
        "predicateType": SLSA_V1,
        "subject": _subject(image_digest, name),
        "predicate": {
            "buildDefinition": {
                "buildType": "https://github.com/moby/buildkit/blob/master/docs/attestations/"
                "slsa-definitions.md",
                "externalParameters": {
                    "configSource": {"uri": repo, "digest": {"sha1": commit}, "path": "Dockerfile"},
                    "request": {"frontend": "dockerfile.v0"},
                },
                "resolvedDependencies": [
                    {"uri": uri, "digest": {"sha256": digest.split(":", 1)[1]}}
                    for uri, digest in dependencies
                ],
            },
            "runDetails": {
                "builder": {"id": "https://example.test/builder"},
                "metadata": {"invocationID": "abc", "startedOn": "2026-01-02T03:04:05Z"},
            },
        },
    }


def spdx_statement(image_digest: str, packages: Sequence[str]) -> dict[str, Any]:
    return {
        "_type": STATEMENT_V01,
        "predicateType": SPDX,
        "subject": _subject(image_digest, "pkg:docker/test/image@1"),
        "predicate": {
            "spdxVersion": "SPDX-2.3",
            "SPDXID": "SPDXRef-DOCUMENT",
            "name": "sbom",
            "packages": [
                {"name": p, "SPDXID": f"SPDXRef-{i}", "downloadLocation": "NOASSERTION"}
                for i, p in enumerate(packages)
            ],
        },
    }


@dataclass(frozen=True)
class AttestedIndex:
    index_digest: str
    image_digest: str
    attestation_digest: str | None


def push_attested(
    registry: RegistryServer,
    repo: str,
    tag: str,
    image: PushedImage,
    statements: Sequence[Mapping[str, Any]],
    *,
    index_annotations: Mapping[str, str] | None = None,
) -> AttestedIndex:
    """Push ``statements`` as an attestation manifest for ``image`` and an index over both."""
    entries: list[dict[str, Any]] = [
        {
            **image.manifest.descriptor(),
            "platform": {"os": "linux", "architecture": image.architecture},
        }
    ]
    attestation_digest = None
    if statements:
        layers = []
        diff_ids = []
        for statement in statements:
            data = json.dumps(statement).encode()
            digest = registry.push_blob(repo, data)
            diff_ids.append(digest)
            layers.append({
                "mediaType": IN_TOTO,
                "digest": digest,
                "size": len(data),
                "annotations": {"in-toto.io/predicate-type": statement["predicateType"]},
            })
        config = json.dumps({
            "architecture": "unknown", "os": "unknown", "config": {},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        }).encode()
        config_digest = registry.push_blob(repo, config)
        manifest = json.dumps({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config_digest,
                "size": len(config),
            },
            "layers": layers,
        }).encode()
        attestation_digest = registry.push_manifest(repo, sha256(manifest), manifest, OCI_MANIFEST)
        entries.append({
            "mediaType": OCI_MANIFEST,
            "digest": attestation_digest,
            "size": len(manifest),
            "annotations": {
                "vnd.docker.reference.digest": image.manifest.digest,
                "vnd.docker.reference.type": "attestation-manifest",
            },
            "platform": {"architecture": "unknown", "os": "unknown"},
        })
    index: dict[str, Any] = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}
    if index_annotations:
        index["annotations"] = dict(index_annotations)
    data = json.dumps(index).encode()
    index_digest = registry.push_manifest(repo, tag, data, OCI_INDEX)
    return AttestedIndex(index_digest, image.manifest.digest, attestation_digest)


def skopeo_push(layout: Path, ref: str, registry: RegistryServer, target: str, *,
                v2s2: bool = False, all_platforms: bool = False) -> None:
    """Copy layout ref ``ref`` to ``registry/target`` (digests kept unless converted to v2s2)."""
    extra = ["--format", "v2s2"] if v2s2 else ["--preserve-digests"]
    if all_platforms:
        extra.append("--all")
    subprocess.run(
        ["skopeo", "--insecure-policy", "copy", "-q", "--dest-tls-verify=false", *extra,
         f"oci:{layout}:{ref}", f"docker://{registry.host}/{target}"],
        check=True, capture_output=True, timeout=300,
    )


def library_commit(library_text: str, arch: str) -> str:
    """``<arch>-GitCommit`` of a library file's global entry, else its ``GitCommit`` (by hand)."""
    found: dict[str, str] = {}
    for line in library_text.splitlines():
        if line.startswith("Tags:"):
            break  # the global entry ends where the first tag entry starts
        if line.startswith(("#", " ")) or ":" not in line:
            continue
        key, _, value = line.partition(":")
        found[key.strip()] = value.strip()
    return found.get(f"{arch}-GitCommit") or found["GitCommit"]
