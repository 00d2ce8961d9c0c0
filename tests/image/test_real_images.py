"""The fixture app image (debootstrap + umoci + skopeo) opened through every local form."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from imagetrust.image.files import FileRequest
from imagetrust.image.model import Image
from imagetrust.image.open import open_image
from imagetrust.image.reader import read_files
from imagetrust.source.archive import DockerArchiveSource
from imagetrust.source.interface import ImageSource
from imagetrust.source.oci_layout import OciArchiveSource, OciLayoutSource
from imagetrust.source.rootfs import RootfsSource
from tests.support.images import APP_FILE, APP_FILE_TEXT, DELETED_FILE

pytestmark = pytest.mark.fixtures

REQUESTS = (FileRequest(("var/lib/dpkg/status", "etc/*", APP_FILE)),)


def _forms(images: Any) -> dict[str, ImageSource]:
    return {
        "oci-dir": OciLayoutSource(images.layout, "app"),
        "oci-archive": OciArchiveSource(images.app_oci_archive, "app"),
        "docker-archive": DockerArchiveSource(images.app_archive),
        "docker-archive-oci": DockerArchiveSource(images.app_archive_oci),
        "multi-archive": DockerArchiveSource(images.multi_archive, "docker.io/library/myapp:1.0"),
    }


def _skopeo(args: list[str]) -> dict[str, Any]:
    out = subprocess.run(["skopeo", "inspect", *args], check=True, capture_output=True, timeout=60)
    value: dict[str, Any] = json.loads(out.stdout)
    return value


def test_every_form_agrees_on_config_layers_and_files(images: Any) -> None:
    opened: dict[str, tuple[Image, Any]] = {}
    for name, source in _forms(images).items():
        image = open_image(source, reference=name)
        opened[name] = (image, read_files(source, image, REQUESTS))
        source.close()
    config = images.config("app")
    diff_ids = tuple(config["rootfs"]["diff_ids"])
    status_texts = set()
    for name, (image, tree) in opened.items():
        assert image.config.diff_ids == diff_ids, name
        assert image.config.user == "1000:1000", name
        assert DELETED_FILE not in tree, name
        assert tree.read(APP_FILE) == APP_FILE_TEXT.encode(), name
        status = tree.get("var/lib/dpkg/status")
        assert status is not None and status.data is not None, name
        assert status.layer_index == len(diff_ids) - 1  # apt-get install rewrote it on top
        status_texts.add(status.data)
    assert len(status_texts) == 1
    assert b"Package: jq\n" in next(iter(status_texts))
    # the OCI forms keep the real manifest digest
    manifest_digest = images.manifest_digest("app")
    assert opened["oci-dir"][0].digest == manifest_digest
    assert opened["oci-archive"][0].digest == manifest_digest
    tags = opened["docker-archive"][0].repo_tags
    assert tags in (("myapp:1.0",), ("docker.io/library/myapp:1.0",))

    rootfs = RootfsSource(images.app_rootfs)
    image = open_image(rootfs, reference="dir")
    tree = read_files(rootfs, image, REQUESTS)
    assert image.digest is None and len(image.layers) == 1
    assert DELETED_FILE not in tree
    status = tree.get("var/lib/dpkg/status")
    assert status is not None and status.data in status_texts


def test_skopeo_agrees_on_config_and_manifest(images: Any, tmp_path: Path) -> None:
    source = OciLayoutSource(images.layout, "app")
    image = open_image(source, reference="app")
    target = f"oci:{images.layout}:app"
    raw = _skopeo(["--raw", target])
    config = _skopeo(["--config", target])
    assert [layer["digest"] for layer in raw["layers"]] == [layer.digest for layer in image.layers]
    assert raw["config"]["digest"] == image.config.digest
    assert tuple(config["rootfs"]["diff_ids"]) == image.diff_ids
    assert config["architecture"] == image.platform.architecture
    archive = DockerArchiveSource(images.app_archive)
    from_archive = open_image(archive, reference="a")
    archived = _skopeo(["--config", f"docker-archive:{images.app_archive}"])
    assert tuple(archived["rootfs"]["diff_ids"]) == from_archive.diff_ids
    assert [lay.diff_id for lay in from_archive.layers] == list(from_archive.diff_ids)


def test_multiarch_index_selects_each_platform(images: Any) -> None:
    from imagetrust.image.model import Platform

    source = OciLayoutSource(images.layout, "multiarch")
    amd = open_image(source, reference="m", platform=Platform("linux", "amd64"))
    arm = open_image(source, reference="m", platform=Platform("linux", "arm64"))
    assert amd.index_digest == arm.index_digest == images.manifest_digest("multiarch")
    index = images.manifest("multiarch")
    expected = {Platform(m["platform"]["os"], m["platform"]["architecture"],
                         m["platform"].get("variant")) for m in index["manifests"]}
    assert set(amd.platforms) == expected
    assert amd.platform.architecture == "amd64" and arm.platform.architecture == "arm64"
    assert amd.digest != arm.digest
