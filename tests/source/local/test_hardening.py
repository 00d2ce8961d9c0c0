"""Local sources against hostile input: JSON nesting bombs and files changing under the scan."""

from __future__ import annotations

import io
import json
import os
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from imagetrust.errors import ManifestError
from imagetrust.source import rootfs
from imagetrust.source.archive import DockerArchiveSource
from imagetrust.source.oci_layout import OciLayoutSource

BOMB = b"[" * 200_000 + b"]" * 200_000
"""Valid JSON nested far deeper than the parser's recursion limit."""


def _write_tar(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, mode="w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_nested_index_json_in_an_oci_layout_is_a_manifest_error(tmp_path: Path) -> None:
    (tmp_path / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (tmp_path / "index.json").write_bytes(BOMB)
    with pytest.raises(ManifestError, match="index.json .* not valid JSON: nested too deeply"):
        OciLayoutSource(tmp_path)


def test_nested_manifest_json_in_a_docker_archive_is_a_manifest_error(tmp_path: Path) -> None:
    archive = _write_tar(tmp_path / "a.tar", {"manifest.json": BOMB})
    with pytest.raises(ManifestError, match="manifest.json .* nested too deeply"):
        DockerArchiveSource(archive)


def test_nested_config_in_a_classic_archive_does_not_crash_the_source(tmp_path: Path) -> None:
    """The source only peeks at diff_ids; a bad config is the image stage's to report."""
    layer = b"\0" * 1024
    manifest = json.dumps([{"Config": "c.json", "Layers": ["l/layer.tar"]}]).encode()
    archive = _write_tar(
        tmp_path / "a.tar", {"manifest.json": manifest, "c.json": BOMB, "l/layer.tar": layer}
    )
    source = DockerArchiveSource(archive)
    body = json.loads(source.root().data)
    source.close()
    assert len(body["layers"]) == 1 and body["layers"][0]["size"] == len(layer)


def test_symlink_vanishing_during_the_listing_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between stat and readlink the link disappears (a live filesystem): no raw OSError."""
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "os-release").write_text("ID=debian\n")
    os.symlink("os-release", root / "etc" / "gone")
    real_walk = rootfs.walk_tree

    def racing_walk(top: Path) -> Iterator[tuple[str, os.DirEntry[str]]]:
        for relative, entry in real_walk(top):
            if entry.is_symlink():
                entry.stat(follow_symlinks=False)  # the scan's stat happened already…
                os.unlink(entry.path)  # …and then the link was removed
            yield relative, entry

    monkeypatch.setattr(rootfs, "walk_tree", racing_walk)
    source = rootfs.RootfsSource(root)
    raw = source.root()
    assert json.loads(raw.data)["layers"][0]["digest"].startswith("sha256:")
    assert not (root / "etc" / "gone").exists()
