"""``dir:`` root filesystems: a synthetic one-layer image read in place, never leaving the root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from imagetrust.errors import ArchiveError
from imagetrust.image.files import FileRequest
from imagetrust.image.open import open_image
from imagetrust.image.reader import read_files
from imagetrust.source.rootfs import RootfsSource


def _rootfs(tmp_path: Path) -> Path:
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "os-release").write_text("ID=debian\n")
    (root / "usr" / "lib").mkdir(parents=True)
    (root / "usr" / "lib" / "big").write_bytes(b"x" * 5000)
    secret = tmp_path / "secret"
    secret.write_text("outside")
    os.symlink("../../secret", root / "etc" / "escape")
    os.symlink("/usr/lib/big", root / "etc" / "inside")
    os.symlink(str(tmp_path), root / "usr" / "hostdir")  # a directory link: never descended
    return root


def test_reads_in_place_and_never_follows_links_out(tmp_path: Path) -> None:
    root = _rootfs(tmp_path)
    source = RootfsSource(root)
    image = open_image(source, reference=f"dir:{root}")
    assert image.digest is None and image.source_kind == "dir" and len(image.layers) == 1
    tree = read_files(source, image, [FileRequest(("etc/*", "usr/**"), max_size=4096)])
    assert tree.read("etc/os-release") == b"ID=debian\n"
    assert tree.get("etc/os-release").diff_id == image.layers[0].diff_id  # type: ignore[union-attr]
    big = tree.get("usr/lib/big")
    assert big is not None and big.truncated and big.data is None
    inside = tree.get("etc/inside")
    assert inside is not None and inside.kind == "symlink" and inside.link_target == "/usr/lib/big"
    assert "etc/escape" not in tree
    assert any(s.path == "etc/escape" and "outside" in s.reason for s in tree.skips)
    assert all("secret" not in p for p in tree.files)
    assert not any(p.startswith("usr/hostdir/") for p in tree.files)


def test_diff_id_is_stable_and_changes_with_content(tmp_path: Path) -> None:
    root = _rootfs(tmp_path)
    first = open_image(RootfsSource(root), reference="a").layers[0].diff_id
    assert open_image(RootfsSource(root), reference="a").layers[0].diff_id == first
    (root / "etc" / "new").write_text("n")
    assert open_image(RootfsSource(root), reference="a").layers[0].diff_id != first


def test_not_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="not a directory"):
        RootfsSource(tmp_path / "missing")
