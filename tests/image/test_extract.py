"""``FileRequest.extract``: only what the hook returns is kept, on every kind of layer stream."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import pytest

from imagetrust.image.files import FileRequest
from imagetrust.image.open import open_image
from imagetrust.image.reader import read_files
from imagetrust.source.oci_layout import OciLayoutSource
from imagetrust.source.rootfs import RootfsSource
from tests.support.synthetic import build_image, file, hardlink, layer_tar, write_layout

SCRIPT = b"#!/bin/sh\n" + b"echo padding\n" * 10_000
TOOL = b"\x7fELF" + b"\0" * 200_000


def shebang(path: str, stream: BinaryIO) -> bytes | None:
    """Keep the interpreter line of scripts; other files give None."""
    head = stream.read(2)
    if head != b"#!":
        return None
    return head + stream.read(64).split(b"\n", 1)[0]


EXTRACT = FileRequest(("bin/*",), max_size=1 << 20, extract=shebang)
LAYER = layer_tar([file("bin/script", SCRIPT, 0o755), file("bin/tool", TOOL, 0o755),
                   hardlink("bin/alias", "bin/script"), file("etc/conf", "x")])


def _tree(tmp_path: Path, compression: str, requests: list[FileRequest],
          cache: Path | None = None):  # type: ignore[no-untyped-def]
    image = build_image([LAYER], compression=compression)
    layout = write_layout(tmp_path / compression, {"app": image.manifest}, image.blobs)
    source = OciLayoutSource(layout)
    return read_files(source, open_image(source, reference="x"), requests, cache_dir=cache)


@pytest.mark.parametrize("compression", ["none", "gzip", "zstd"])
def test_only_the_extract_is_kept(tmp_path: Path, compression: str) -> None:
    tree = _tree(tmp_path, compression, [EXTRACT])
    script = tree.get("bin/script")
    assert script is not None and script.extracted and script.data == b"#!/bin/sh"
    assert script.size == len(SCRIPT) and not script.truncated
    tool = tree.get("bin/tool")
    assert tool is not None and tool.data is None and not tool.extracted
    alias = tree.get("bin/alias")
    assert alias is not None and alias.kind == "hardlink" and alias.extracted
    assert tree.read("bin/alias") == b"#!/bin/sh"
    assert tree.get("etc/conf") is None


def test_a_whole_file_request_wins(tmp_path: Path) -> None:
    tree = _tree(tmp_path, "gzip", [EXTRACT, FileRequest(("bin/script",))])
    script = tree.get("bin/script")
    assert script is not None and not script.extracted and script.data == SCRIPT


def test_extracts_are_cached(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = _tree(tmp_path / "a", "gzip", [EXTRACT], cache)
    second = _tree(tmp_path / "b", "gzip", [EXTRACT], cache)  # same layer digest: from the cache
    assert second.files == first.files
    assert len([p for p in cache.rglob("*") if p.is_file()]) == 1


def test_root_filesystems_use_the_hook_too(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "bin").mkdir(parents=True)
    (root / "bin/script").write_bytes(SCRIPT)
    source = RootfsSource(root)
    tree = read_files(source, open_image(source, reference="dir:root"), [EXTRACT])
    script = tree.get("bin/script")
    assert script is not None and script.extracted and script.data == b"#!/bin/sh"
