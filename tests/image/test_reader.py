"""The layer reader: merged view, whiteouts, attribution, hostile input, caching."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest

from imagetrust.errors import ArchiveError, IntegrityError, LayerError
from imagetrust.image import reader
from imagetrust.image.files import FileRequest
from imagetrust.image.open import open_image
from imagetrust.image.reader import read_files
from imagetrust.source.oci_layout import OciLayoutSource
from tests.support.synthetic import (
    LAYER_TYPES,
    OCI_MANIFEST,
    Blob,
    absurd_size_tar,
    build_image,
    device,
    directory,
    file,
    hardlink,
    layer_tar,
    opaque,
    sha256,
    symlink,
    whiteout,
    write_layout,
)

ALL = (FileRequest(("**",)),)


def _open(tmp_path: Path, tars: list[bytes], **kwargs: object) -> tuple[OciLayoutSource, object]:
    image = build_image(tars, **kwargs)  # type: ignore[arg-type]
    layout = write_layout(tmp_path / "layout", {"app": image.manifest}, image.blobs)
    source = OciLayoutSource(layout)
    return source, open_image(source, reference="oci-dir:layout:app")


BASE = layer_tar([
    directory("etc"),
    file("etc/os-release", "ID=debian\n"),
    file("etc/passwd", "root:x:0:0\n"),
    directory("var/lib/dpkg"),
    file("var/lib/dpkg/status", "Package: base\n"),
    directory("usr/share/doc"),
    file("usr/share/doc/a/copyright", "A"),
    file("usr/share/doc/b/copyright", "B"),
    file("opt/tool/bin", "tool"),
])
APP = layer_tar([
    whiteout("etc/passwd"),
    opaque("usr/share/doc"),
    file("usr/share/doc/c/copyright", "C"),
    file("var/lib/dpkg/status", "Package: base\n\nPackage: jq\n"),
    whiteout("opt/tool"),
])


@pytest.mark.parametrize("compression", ["gzip", "zstd", "none"])
def test_merged_view_applies_whiteouts_opaque_dirs_and_attribution(
    tmp_path: Path, compression: str
) -> None:
    source, image = _open(tmp_path, [BASE, APP], compression=compression)
    tree = read_files(source, image, ALL)  # type: ignore[arg-type]
    files = {p for p, e in tree.files.items() if e.kind == "file"}
    assert files == {
        "etc/os-release", "var/lib/dpkg/status", "usr/share/doc/c/copyright",
    }
    status = tree.get("var/lib/dpkg/status")
    assert status is not None and status.data == b"Package: base\n\nPackage: jq\n"
    assert status.layer_index == 1 and status.diff_id == sha256(APP)
    os_release = tree.get("etc/os-release")
    assert os_release is not None and os_release.layer_index == 0
    assert os_release.diff_id == sha256(BASE)
    # the directory entries of the base survive (only their content was hidden)
    assert tree.get("usr/share/doc") is not None and tree.get("usr/share/doc")
    assert tree.skips == ()


def test_whiteout_in_same_layer_does_not_hide_that_layers_file(tmp_path: Path) -> None:
    upper = layer_tar([file("etc/x", "new"), whiteout("etc/x")])
    source, image = _open(tmp_path, [layer_tar([file("etc/x", "old")]), upper])
    tree = read_files(source, image, ALL)  # type: ignore[arg-type]
    entry = tree.get("etc/x")
    assert entry is not None and entry.data == b"new" and entry.layer_index == 1


def test_only_requested_paths_are_returned_and_large_files_truncated(tmp_path: Path) -> None:
    big = os.urandom(5000)
    source, image = _open(tmp_path, [layer_tar([file("a/small", "s"), file("a/big", big),
                                                 file("b/other", "o")])])
    tree = read_files(source, image, [FileRequest(("a/*",), max_size=4096)])  # type: ignore[arg-type]
    assert set(tree.files) == {"a/small", "a/big"}
    entry = tree.get("a/big")
    assert entry is not None and entry.truncated and entry.data is None and entry.size == 5000
    # a second request with a larger limit wins for the paths it matches
    tree = read_files(source, image, [FileRequest(("a/*",), max_size=4096),  # type: ignore[arg-type]
                                      FileRequest(("a/big",), max_size=10_000)])
    entry = tree.get("a/big")
    assert entry is not None and entry.data == big and not entry.truncated


def test_want_predicate_selects_by_mode(tmp_path: Path) -> None:
    tar = layer_tar([file("usr/bin/tool", "ELF", mode=0o755), file("usr/share/x", "no")])
    source, image = _open(tmp_path, [tar])
    request = FileRequest((), want=lambda _path, _size, mode: bool(mode & 0o111))
    tree = read_files(source, image, [request])  # type: ignore[arg-type]
    assert set(tree.files) == {"usr/bin/tool"}


def test_hostile_names_and_links_become_skips(tmp_path: Path) -> None:
    tar = layer_tar([
        file("/etc/abs", "a"),
        file("../../escape", "e"),
        file("ok/../../up", "u"),
        symlink("etc/out", "../../../../etc/shadow"),
        symlink("etc/inside", "/usr/lib/os-release"),
        hardlink("etc/ghost", "etc/nothing"),
        device("dev/null"),
        file("etc/good", "g"),
    ])
    source, image = _open(tmp_path, [tar])
    tree = read_files(source, image, ALL)  # type: ignore[arg-type]
    reasons = {s.path: s.reason for s in tree.skips}
    assert "absolute" in reasons["/etc/abs"]
    assert "escapes" in reasons["../../escape"]
    assert "escapes" in reasons["ok/../../up"]
    assert "outside" in reasons["etc/out"]
    assert "missing member" in reasons["etc/ghost"]
    assert "device" in reasons["dev/null"]
    assert all(s.layer_index == 0 for s in tree.skips)
    assert set(tree.files) == {"etc/inside", "etc/good"}
    inside = tree.get("etc/inside")
    assert inside is not None and inside.kind == "symlink"
    assert inside.link_target == "/usr/lib/os-release"


def test_hard_link_resolves_to_target_content(tmp_path: Path) -> None:
    tar = layer_tar([file("usr/lib/real", "content"), hardlink("etc/alias", "usr/lib/real")])
    source, image = _open(tmp_path, [tar], compression="gzip")
    tree = read_files(source, image, [FileRequest(("etc/alias",))])  # type: ignore[arg-type]
    entry = tree.get("etc/alias")
    assert entry is not None and entry.kind == "hardlink"
    assert entry.link_target == "usr/lib/real"
    assert tree.read("etc/alias") == b"content"


def test_truncated_gzip_layer_is_a_layer_error_naming_the_digest(tmp_path: Path) -> None:
    good = build_image([BASE]).layers[0].data
    # a truncated gzip blob, named correctly by its manifest: the digest check passes
    truncated = good[: len(good) // 2]
    broken = build_image([BASE], compression="none", diff_ids=[sha256(gzip.decompress(good))])
    layer = Blob(LAYER_TYPES["gzip"], truncated)
    manifest = json.loads(broken.manifest.data)
    manifest["layers"] = [layer.descriptor()]
    manifest_blob = Blob(OCI_MANIFEST, json.dumps(manifest).encode())
    layout = write_layout(tmp_path / "l", {"app": manifest_blob}, [broken.config, layer])
    source = OciLayoutSource(layout)
    opened = open_image(source, reference="x")
    with pytest.raises(LayerError) as info:
        read_files(source, opened, ALL)
    assert layer.digest in str(info.value) and "\n" not in str(info.value)


def test_absurd_member_size_is_rejected_cleanly(tmp_path: Path) -> None:
    source, image = _open(tmp_path, [absurd_size_tar("etc/huge", 10**12)], compression="none")
    with pytest.raises(LayerError) as info:
        read_files(source, image, ALL)  # type: ignore[arg-type]
    assert "sha256:" in str(info.value)


def test_flipped_byte_in_layer_is_an_integrity_error(tmp_path: Path) -> None:
    for compression in ("none", "gzip"):
        source, image = _open(tmp_path / compression, [BASE], compression=compression)
        layer = image.layers[0]  # type: ignore[attr-defined]
        path = tmp_path / compression / "layout" / "blobs" / "sha256" / layer.digest[7:]
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
        with pytest.raises(IntegrityError) as info:
            read_files(source, image, ALL)  # type: ignore[arg-type]
        assert layer.digest in str(info.value)


def test_layer_cache_serves_unchanged_layers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, image = _open(tmp_path, [BASE, APP])
    cache = tmp_path / "cache"
    first = read_files(source, image, ALL, cache_dir=cache)  # type: ignore[arg-type]
    cached = list((cache / "layers").rglob("*"))
    assert len([p for p in cached if p.is_file()]) == 2
    # a second read comes from the cache: no layer is walked again
    walked: list[int] = []
    real_walk = reader._walk_layer

    def counting_walk(src, layer, *args):  # type: ignore[no-untyped-def]
        walked.append(layer.index)
        return real_walk(src, layer, *args)

    monkeypatch.setattr(reader, "_walk_layer", counting_walk)
    fresh = OciLayoutSource(tmp_path / "layout")
    second = read_files(fresh, image, ALL, cache_dir=cache)  # type: ignore[arg-type]
    assert second.files == first.files and walked == []
    # other requests have another key: not served from this cache
    read_files(fresh, image, [FileRequest(("etc/*",))], cache_dir=cache)  # type: ignore[arg-type]
    assert walked == [0, 1]
    # a local layer's digest is only a claim: the cache never vouches for a missing blob
    for layer in image.layers:  # type: ignore[attr-defined]
        (tmp_path / "layout" / "blobs" / "sha256" / layer.digest[7:]).unlink()
    with pytest.raises(ArchiveError, match="lacks blob"):
        read_files(OciLayoutSource(tmp_path / "layout"), image, ALL,  # type: ignore[arg-type]
                   cache_dir=cache)


def test_damaged_cache_file_is_ignored(tmp_path: Path) -> None:
    source, image = _open(tmp_path, [BASE])
    cache = tmp_path / "cache"
    first = read_files(source, image, ALL, cache_dir=cache)  # type: ignore[arg-type]
    for path in (cache / "layers").rglob("*"):
        if path.is_file():
            path.write_bytes(b"garbage")
    assert read_files(source, image, ALL, cache_dir=cache).files == first.files  # type: ignore[arg-type]
