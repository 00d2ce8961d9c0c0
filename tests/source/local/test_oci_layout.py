"""OCI layouts as directories and tar archives: selection by ref name, verification, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from imagetrust.errors import ArchiveError, IntegrityError, ManifestError
from imagetrust.image.files import FileRequest
from imagetrust.image.model import Descriptor
from imagetrust.image.open import open_image
from imagetrust.image.reader import read_files
from imagetrust.source.oci_layout import OciArchiveSource, OciLayoutSource
from tests.support.synthetic import build_image, file, layer_tar, tar_directory, write_layout

L0 = layer_tar([file("etc/os-release", "ID=alpine\n")])


def _layout(tmp_path: Path) -> Path:
    a = build_image([L0])
    b = build_image([L0, layer_tar([file("app/x", "x")])])
    return write_layout(
        tmp_path / "layout",
        {"base": a.manifest, "docker.io/library/app:1.0": b.manifest},
        [*a.blobs, *b.blobs],
    )


def test_select_by_ref_name_or_tag_from_dir_and_archive(tmp_path: Path) -> None:
    layout = _layout(tmp_path)
    archive = tar_directory(layout, tmp_path / "layout.tar")
    for make in (OciLayoutSource, OciArchiveSource):
        target = layout if make is OciLayoutSource else archive
        for selector, layers in (("base", 1), ("1.0", 2), ("app:1.0", 2)):
            source = make(target, selector)
            image = open_image(source, reference=selector)
            assert len(image.layers) == layers, (make, selector)
            assert source.kind in ("oci-dir", "oci-archive")
            source.close()
        with pytest.raises(ArchiveError) as info:
            make(target)
        assert "base" in str(info.value) and "docker.io/library/app:1.0" in str(info.value)
        with pytest.raises(ArchiveError, match="no image named 'nope'"):
            make(target, "nope")


def test_single_manifest_needs_no_selector(tmp_path: Path) -> None:
    a = build_image([L0])
    layout = write_layout(tmp_path / "l", {}, a.blobs, unnamed=[a.manifest])
    source = OciLayoutSource(layout)
    image = open_image(source, reference="x")
    assert image.digest == a.manifest.digest and image.repo_tags == ()
    tree = read_files(source, image, [FileRequest(("etc/os-release",))])
    assert tree.read("etc/os-release") == b"ID=alpine\n"


def test_tampered_manifest_config_and_layer(tmp_path: Path) -> None:
    a = build_image([L0])
    blobs = tmp_path / "l" / "blobs" / "sha256"
    for blob in (a.manifest, a.config, a.layers[0]):
        layout = write_layout(tmp_path / "l", {"x": a.manifest}, a.blobs)
        path = blobs / blob.digest[7:]
        data = bytearray(path.read_bytes())
        data[-5] ^= 0x01
        path.write_bytes(bytes(data))
        source = OciLayoutSource(layout)
        with pytest.raises(IntegrityError, match=blob.digest):
            image = open_image(source, reference="x")
            read_files(source, image, [FileRequest(("**",))])
        source.close()


def test_missing_blob_and_size_mismatch(tmp_path: Path) -> None:
    a = build_image([L0])
    layout = write_layout(tmp_path / "l", {"x": a.manifest}, a.blobs)
    source = OciLayoutSource(layout)
    with pytest.raises(ArchiveError, match="lacks blob"):
        source.blob(Descriptor("x", "sha256:" + "0" * 64, 3))
    with pytest.raises(ArchiveError, match="the manifest says 1"):
        source.blob(Descriptor("x", a.config.digest, 1))
    with pytest.raises(ManifestError, match="invalid digest"):
        source.blob(Descriptor("x", "sha256:../../etc/passwd", 3))


def test_not_a_layout_and_bad_index(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ArchiveError, match="not an OCI layout"):
        OciLayoutSource(tmp_path / "empty")
    with pytest.raises(ArchiveError, match="not a directory"):
        OciLayoutSource(tmp_path / "nothing")
    layout = _layout(tmp_path)
    (layout / "index.json").write_text("{not json")
    with pytest.raises(ManifestError, match="index.json .* not valid JSON"):
        OciLayoutSource(layout)
    (layout / "index.json").write_text(json.dumps({"manifests": [{"digest": 1}]}))
    with pytest.raises(ManifestError, match=r"manifests\[0\]"):
        OciLayoutSource(layout)
