"""docker-save tarballs: classic and Docker 25 layouts, selection, synthesis, integrity."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from imagetrust.errors import ArchiveError, IntegrityError, ManifestError
from imagetrust.image.files import FileRequest
from imagetrust.image.open import open_image
from imagetrust.image.reader import read_files
from imagetrust.oci import mediatypes as mt
from imagetrust.source.archive import DockerArchiveSource
from imagetrust.source.interface import ImageSource
from tests.support.synthetic import (
    build_image,
    file,
    layer_tar,
    sha256,
    whiteout,
    write_docker_archive,
)

L0 = layer_tar([file("etc/os-release", "ID=debian\n"), file("etc/motd", "hi")])
L1 = layer_tar([whiteout("etc/motd"), file("app/hello", "hello")])


def _two_images() -> list[tuple[object, list[str]]]:
    return [
        (build_image([L0], compression="none"), ["debian:12"]),
        (build_image([L0, L1], compression="none"), ["myapp:1.0", "myapp:latest"]),
    ]


@pytest.mark.parametrize("style", ["classic", "oci"])
def test_select_by_tag_in_any_spelling(tmp_path: Path, style: str) -> None:
    path = write_docker_archive(tmp_path / "a.tar", _two_images(), style=style)  # type: ignore[arg-type]
    for selector in ("myapp:1.0", "docker.io/library/myapp:1.0", "myapp"):
        source = DockerArchiveSource(path, selector)
        assert isinstance(source, ImageSource)
        image = open_image(source, reference="x")
        assert len(image.layers) == 2 and image.repo_tags == ("myapp:1.0", "myapp:latest")
        tree = read_files(source, image, [FileRequest(("**",))])
        assert set(tree.files) == {"etc/os-release", "app/hello"}
        source.close()


def test_several_images_without_selector_lists_tags(tmp_path: Path) -> None:
    path = write_docker_archive(tmp_path / "a.tar", _two_images())  # type: ignore[arg-type]
    with pytest.raises(ArchiveError) as info:
        DockerArchiveSource(path)
    text = str(info.value)
    assert "debian:12" in text and "myapp:1.0" in text and "\n" not in text
    with pytest.raises(ArchiveError, match="no image tagged 'nginx:1'"):
        DockerArchiveSource(path, "nginx:1")


def test_classic_archive_gets_a_synthetic_schema2_manifest(tmp_path: Path) -> None:
    built = build_image([L0, L1], compression="none")
    path = write_docker_archive(tmp_path / "a.tar", [(built, ["myapp:1.0"])])
    source = DockerArchiveSource(path)
    root = source.root()
    manifest = json.loads(root.data)
    assert root.media_type == mt.DOCKER_MANIFEST == manifest["mediaType"]
    assert root.digest == "sha256:" + hashlib.sha256(root.data).hexdigest()
    assert manifest["config"]["digest"] == built.config.digest  # sha256 of the config file
    assert [x["digest"] for x in manifest["layers"]] == [sha256(L0), sha256(L1)]
    assert {x["mediaType"] for x in manifest["layers"]} == {mt.DOCKER_LAYER}


def test_docker25_archive_uses_the_real_manifest(tmp_path: Path) -> None:
    built = build_image([L0, L1], compression="none")
    path = write_docker_archive(tmp_path / "a.tar", [(built, ["myapp:1.0"])], style="oci")
    image = open_image(DockerArchiveSource(path), reference="x")
    assert image.digest == built.manifest.digest
    assert image.media_type == mt.OCI_MANIFEST


def test_gzip_layer_inside_classic_archive_is_detected(tmp_path: Path) -> None:
    built = build_image([L0, L1], compression="gzip")
    path = write_docker_archive(tmp_path / "a.tar", [(built, ["myapp:1.0"])])
    source = DockerArchiveSource(path)
    image = open_image(source, reference="x")
    assert [layer.digest for layer in image.layers] == [b.digest for b in built.layers]
    assert {layer.media_type for layer in image.layers} == {mt.DOCKER_LAYER_GZIP}
    tree = read_files(source, image, [FileRequest(("app/*",))])
    assert tree.read("app/hello") == b"hello"


def test_flipped_byte_in_layer_is_integrity_error(tmp_path: Path) -> None:
    built = build_image([L0], compression="none")
    path = write_docker_archive(tmp_path / "a.tar", [(built, ["x:1"])])
    data = bytearray(path.read_bytes())
    at = bytes(data).index(b"ID=debian")
    data[at] ^= 0x20  # 'I' → 'i': still a valid tar, but not the bytes the diff_id names
    path.write_bytes(bytes(data))
    source = DockerArchiveSource(path)
    image = open_image(source, reference="x")
    with pytest.raises(IntegrityError, match=built.diff_ids[0]):
        read_files(source, image, [FileRequest(("etc/*",))])


def _tar(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_bad_archives_give_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="does not exist"):
        DockerArchiveSource(tmp_path / "missing.tar")
    garbage = tmp_path / "garbage.tar"
    garbage.write_bytes(b"\x01" * 2000)
    with pytest.raises(ArchiveError, match="not a readable tar"):
        DockerArchiveSource(garbage)
    with pytest.raises(ArchiveError, match="no manifest.json"):
        DockerArchiveSource(_tar(tmp_path / "empty.tar", {"x": b"1"}))
    with pytest.raises(ManifestError, match="not valid JSON"):
        DockerArchiveSource(_tar(tmp_path / "bad.tar", {"manifest.json": b"[{"}))
    missing_layer = json.dumps([{"Config": "c.json", "RepoTags": ["a:1"], "Layers": ["l.tar"]}])
    with pytest.raises(ArchiveError, match="lacks layer l.tar"):
        DockerArchiveSource(
            _tar(tmp_path / "ml.tar", {"manifest.json": missing_layer.encode(), "c.json": b"{}"})
        )
    built = build_image([L0], compression="none")
    good = write_docker_archive(tmp_path / "good.tar", [(built, ["x:1"])])
    cut = tmp_path / "cut.tar"
    cut.write_bytes(good.read_bytes()[:3000])
    cut_short = r"cut\.tar is not a readable tar archive \(member .* runs past the end of the"
    with pytest.raises(ArchiveError, match=cut_short):
        DockerArchiveSource(cut)


def test_hostile_pax_headers_are_refused_without_tarfile(tmp_path: Path) -> None:
    """Archives are indexed by the bounded walker, not tarfile (whose pax parsing was quadratic
    before Python 3.11.10, CVE-2024-6232): an oversized pax header is refused, not parsed."""
    from imagetrust.tarwalk import HEADER_LIMIT

    huge = tmp_path / "huge-pax.tar"
    with tarfile.open(huge, "w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("manifest.json")
        info.pax_headers = {"comment": "x" * (HEADER_LIMIT + 1)}
        tar.addfile(info, io.BytesIO(b""))
    with pytest.raises(ArchiveError, match="huge-pax.tar is refused: a x header claims"):
        DockerArchiveSource(huge)


def test_archive_index_follows_links_as_docker_save_writes_them(tmp_path: Path) -> None:
    """docker save dedups a layer shared by two images with a symlink (relative to the link's
    directory); hard links name their target from the archive root; loops end as absent."""
    from imagetrust.source._store import TarStore

    path = tmp_path / "links.tar"
    with tarfile.open(path, "w") as tar:
        info = tarfile.TarInfo("aaa/layer.tar")
        info.size = 5
        tar.addfile(info, io.BytesIO(b"layer"))
        for name, kind, target in [("bbb/layer.tar", tarfile.SYMTYPE, "../aaa/layer.tar"),
                                   ("hard.tar", tarfile.LNKTYPE, "aaa/layer.tar"),
                                   ("loop1", tarfile.SYMTYPE, "loop2"),
                                   ("loop2", tarfile.SYMTYPE, "loop1"),
                                   ("fifo", tarfile.FIFOTYPE, "")]:
            link = tarfile.TarInfo(name)
            link.type, link.linkname = kind, target
            tar.addfile(link)
    store = TarStore(path, "links.tar")
    try:
        original = store.locate("aaa/layer.tar")
        assert original is not None and original.size == 5
        assert store.locate("bbb/layer.tar") == original == store.locate("./hard.tar")
        assert store.locate("loop1") is None and store.locate("fifo") is None
        assert store.locate("missing") is None
    finally:
        store.close()

