"""Manifest parsing and open_image: platforms, attestations, annotations, malformed input."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from imagetrust.errors import ManifestError
from imagetrust.image.manifest import Index, Manifest, parse_config, parse_manifest
from imagetrust.image.model import Platform, RawManifest
from imagetrust.image.open import open_image
from imagetrust.oci import mediatypes as mt
from imagetrust.source.oci_layout import OciLayoutSource
from tests.support.synthetic import (
    OCI_MANIFEST,
    Blob,
    build_image,
    build_index,
    file,
    layer_tar,
    sha256,
    write_layout,
)

TAR = layer_tar([file("etc/os-release", "ID=debian\n")])
D = "sha256:" + "a" * 64


def _raw(obj: object, media_type: str = "") -> RawManifest:
    data = json.dumps(obj).encode()
    return RawManifest(media_type, sha256(data), data)


def test_parse_manifest_and_index_shapes() -> None:
    built = build_image([TAR], annotations={"org.opencontainers.image.base.name": "debian:12"})
    parsed = parse_manifest(RawManifest(OCI_MANIFEST, built.manifest.digest, built.manifest.data))
    assert isinstance(parsed, Manifest)
    assert parsed.config.digest == built.config.digest
    assert parsed.layers[0].size == len(built.layers[0].data)
    assert parsed.annotations[mt.ANN_BASE_NAME] == "debian:12"
    index = parse_manifest(_raw({"schemaVersion": 2, "manifests": [
        {"mediaType": OCI_MANIFEST, "digest": D, "size": 7,
         "platform": {"os": "linux", "architecture": "arm", "variant": "v7"}}]}))
    assert isinstance(index, Index)  # no mediaType: inferred from the shape
    assert index.manifests[0].platform == Platform("linux", "arm", "v7")


@pytest.mark.parametrize(
    ("document", "needle"),
    [
        ({"schemaVersion": 1, "name": "x", "fsLayers": []}, "schema 1"),
        ({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "layers": []}, "config"),
        ({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
          "config": {"mediaType": mt.OCI_CONFIG, "digest": "sha256:zz", "size": 1},
          "layers": []}, "config.digest"),
        ({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
          "config": {"mediaType": mt.OCI_CONFIG, "digest": D, "size": -1}, "layers": []}, "size"),
        ({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
          "config": {"mediaType": mt.OCI_CONFIG, "digest": D, "size": 1}, "layers": {}},
         "'layers'"),
        ({"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": [{"size": 1}]},
         "manifests[0]"),
        ([1, 2], "not a JSON object"),
    ],
)
def test_malformed_manifests_name_the_field(document: object, needle: str) -> None:
    with pytest.raises(ManifestError) as info:
        parse_manifest(_raw(document))
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_schema1_by_media_type_and_bad_json() -> None:
    with pytest.raises(ManifestError, match="unsupported"):
        parse_manifest(_raw({"schemaVersion": 2}, mt.DOCKER_SCHEMA1_SIGNED))
    with pytest.raises(ManifestError, match="not valid JSON"):
        parse_manifest(RawManifest(OCI_MANIFEST, D, b"{\"schemaVersion\": 2,"))


def test_parse_config_fields() -> None:
    built = build_image([TAR], config_extra={"variant": "v8", "architecture": "arm64"})
    config = parse_config(built.config.data, built.config.digest)
    assert (config.os, config.architecture, config.variant) == ("linux", "arm64", "v8")
    assert config.created == datetime(2024, 5, 1, 10, 20, 30, 123456, tzinfo=UTC)
    assert config.user == "app" and config.cmd == ("/bin/sh",) and config.entrypoint is None
    assert config.labels == {"org.example": "yes"}
    assert config.diff_ids == (sha256(TAR),)
    assert config.history[0].created_by == "layer 0" and not config.history[0].empty_layer
    with pytest.raises(ManifestError, match="rootfs"):
        parse_config(b'{"os": "linux", "architecture": "amd64"}', D)
    with pytest.raises(ManifestError, match="Env"):
        parse_config(json.dumps({"os": "linux", "architecture": "amd64", "config": {"Env": "x"},
                                 "rootfs": {"type": "layers", "diff_ids": []}}).encode(), D)


def _multiarch(tmp_path: Path) -> tuple[OciLayoutSource, dict[str, Blob], Blob]:
    amd = build_image([TAR])
    arm64 = build_image([TAR], architecture="arm64", variant="v8")
    armv6 = build_image([TAR], architecture="arm", variant="v6")
    attestation = Blob(OCI_MANIFEST, b'{"schemaVersion": 2}')
    index = build_index(
        [(amd, {"os": "linux", "architecture": "amd64"}),
         (arm64, {"os": "linux", "architecture": "arm64", "variant": "v8"}),
         (armv6, {"os": "linux", "architecture": "arm", "variant": "v6"})],
        attestations=[(attestation, amd.manifest.digest)],
        annotations={"org.opencontainers.image.source": "https://example.org/repo"},
    )
    blobs = [*amd.blobs, *arm64.blobs, *armv6.blobs, attestation]
    layout = write_layout(tmp_path / "l", {"multi": index}, blobs)
    manifests = {"amd64": amd.manifest, "arm64": arm64.manifest, "armv6": armv6.manifest}
    return OciLayoutSource(layout), manifests, index


def test_platform_selection_and_attestations(tmp_path: Path) -> None:
    source, manifests, index = _multiarch(tmp_path)
    image = open_image(source, reference="multi")
    assert image.digest == manifests["amd64"].digest and image.index_digest == index.digest
    assert [str(p) for p in image.platforms] == ["linux/amd64", "linux/arm64/v8", "linux/arm/v6"]
    assert len(image.attestations) == 1
    assert image.attestations[0].annotations[mt.ANN_DOCKER_REFERENCE_DIGEST] == image.digest
    assert image.annotations[mt.ANN_SOURCE] == "https://example.org/repo"
    arm = open_image(source, reference="m", platform=Platform.parse("linux/arm64"))
    assert arm.digest == manifests["arm64"].digest and arm.attestations == ()
    assert arm.platform == Platform("linux", "arm64", "v8")
    # arm/v7 can run arm/v6: the best compatible variant is taken
    v7 = open_image(source, reference="m", platform=Platform.parse("linux/arm/v7"))
    assert v7.digest == manifests["armv6"].digest
    with pytest.raises(ManifestError) as info:
        open_image(source, reference="m", platform=Platform.parse("linux/s390x"))
    text = str(info.value)
    assert "linux/s390x" in text and "linux/amd64" in text and "linux/arm64/v8" in text
    with pytest.raises(ManifestError, match="available: linux/arm/v6"):
        open_image(source, reference="m", platform=Platform.parse("linux/arm/v5"))


def test_layer_count_must_match_diff_ids(tmp_path: Path) -> None:
    built = build_image([TAR], diff_ids=[sha256(TAR), sha256(b"other")])
    layout = write_layout(tmp_path / "l", {"x": built.manifest}, built.blobs)
    with pytest.raises(ManifestError, match="1 layers but its config has 2 diff_ids"):
        open_image(OciLayoutSource(layout), reference="x")


def test_artifact_is_not_an_image(tmp_path: Path) -> None:
    config = Blob("application/vnd.cncf.helm.config.v1+json", b"{}")
    manifest = Blob(OCI_MANIFEST, json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config.descriptor(),
        "layers": []}).encode())
    layout = write_layout(tmp_path / "l", {"x": manifest}, [config])
    with pytest.raises(ManifestError, match="not a container image"):
        open_image(OciLayoutSource(layout), reference="x")
