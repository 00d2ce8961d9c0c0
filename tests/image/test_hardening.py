"""Regression tests from the layer-reader security review: each builds the hostile input itself.

B1 cache hits of local layers are verified, B2 pax/long-name headers cannot grow memory, B3 one
budget bounds the file content kept (and jars are streamed), B5 absurdly nested JSON is a
ManifestError, B14 races and unrequested hard-link targets in the tree.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import subprocess
import sys
import tarfile
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from imagetrust.errors import IntegrityError, LayerError, ManifestError
from imagetrust.image import layercache, reader
from imagetrust.image.files import FileRequest
from imagetrust.image.manifest import parse_config, parse_manifest
from imagetrust.image.model import RawManifest
from imagetrust.image.open import open_image
from imagetrust.image.reader import read_files
from imagetrust.source.archive import DockerArchiveSource
from imagetrust.source.oci_layout import OciLayoutSource
from imagetrust.source.rootfs import RootfsSource
from imagetrust.tarwalk import TarHostileError, TarWalker
from tests.support.synthetic import (
    OCI_MANIFEST,
    Blob,
    build_image,
    file,
    hardlink,
    layer_tar,
    write_docker_archive,
    write_layout,
)

ALL = (FileRequest(("**",)),)
GENUINE = layer_tar([file("etc/os-release", "ID=debian\n"), file("etc/issue", "Debian 12\n")])
# Same length as GENUINE, other content: a tampered copy that claims GENUINE's digests.
FORGED = layer_tar([file("etc/os-release", "ID=alpine\n"), file("etc/issue", "Alpine 3\n\n")])
assert len(FORGED) == len(GENUINE) and FORGED != GENUINE


def _os_release(source: DockerArchiveSource | OciLayoutSource, cache: Path) -> bytes | None:
    tree = read_files(source, open_image(source, reference="x"), ALL, cache_dir=cache)
    return tree.read("etc/os-release")


# -- B1 ---------------------------------------------------------------------------------------
def test_forged_archive_fails_even_after_the_genuine_one_was_cached(tmp_path: Path) -> None:
    """The reviewer's repro: good.tar and evil.tar claim the same digests, bytes differ."""
    good = build_image([GENUINE], compression="none")
    evil = dataclasses.replace(good, layers=[Blob(good.layers[0].media_type, FORGED)])
    good_tar = write_docker_archive(tmp_path / "good.tar", [(good, ["x/debian:12"])])
    evil_tar = write_docker_archive(tmp_path / "evil.tar", [(evil, ["x/debian:12"])])
    cache = tmp_path / "layer-cache"

    with pytest.raises(IntegrityError):
        _os_release(DockerArchiveSource(evil_tar), cache)
    assert _os_release(DockerArchiveSource(good_tar), cache) == b"ID=debian\n"
    assert list((cache / "layers").rglob("*"))  # the genuine layer is cached now
    with pytest.raises(IntegrityError) as info:
        _os_release(DockerArchiveSource(evil_tar), cache)
    assert good.layers[0].digest in str(info.value) and "\n" not in str(info.value)
    # the genuine archive is still served (from the cache, after verification)
    assert _os_release(DockerArchiveSource(good_tar), cache) == b"ID=debian\n"


def test_blob_tampered_in_place_after_caching_is_an_integrity_error(tmp_path: Path) -> None:
    image = build_image([GENUINE], compression="none")
    layout = write_layout(tmp_path / "layout", {"app": image.manifest}, image.blobs)
    cache = tmp_path / "layer-cache"
    assert _os_release(OciLayoutSource(layout), cache) == b"ID=debian\n"
    (layout / "blobs" / "sha256" / image.layers[0].digest[7:]).write_bytes(FORGED)
    with pytest.raises(IntegrityError):
        _os_release(OciLayoutSource(layout), cache)


# -- B2 ---------------------------------------------------------------------------------------
def _record(key: str, value: str) -> bytes:
    """One pax record ``LEN key=value\\n`` (LEN counts its own digits)."""
    body = f" {key}={value}\n".encode()
    length = len(body) + len(str(len(body)))
    length = len(body) + len(str(length))
    return str(length).encode() + body


def _header(name: str, kind: bytes, size: int) -> bytes:
    info = tarfile.TarInfo(name)
    info.size = size
    block = bytearray(info.tobuf(format=tarfile.USTAR_FORMAT))
    block[156:157] = kind
    block[148:156] = b"        "
    block[148:156] = b"%06o\0 " % sum(block)
    return bytes(block)


def _member(name: str, kind: bytes, payload: bytes) -> bytes:
    return _header(name, kind, len(payload)) + payload + b"\0" * (-len(payload) % 512)


class _Generated(io.RawIOBase):
    """A forward-only stream produced chunk by chunk, so the bomb never sits in memory here."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        super().__init__()
        self._chunks = chunks
        self._view = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        while not self._view:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._view = memoryview(chunk)
        count = min(len(buffer), len(self._view))
        memoryview(buffer).cast("B")[:count] = self._view[:count]
        self._view = self._view[count:]
        return count


def test_pax_headers_with_ever_new_keys_keep_memory_bounded() -> None:
    headers = 40
    value = "v" * 1_000_000  # each header just under the 1 MiB limit, 80 MB in all

    def bomb() -> Iterator[bytes]:
        for i in range(headers):
            yield _member("pax_global", b"g", _record(f"comment.g{i}", value))
        for i in range(headers):
            yield _member("pax_local", b"x", _record(f"comment.x{i}", value))
        yield _member("etc/x", b"0", b"hello")
        yield b"\0" * 1024

    tracemalloc.start()
    try:
        stream = _Generated(bomb())
        walker = TarWalker(stream, seekable=False, header_limit=1 << 20)  # type: ignore[arg-type]
        names = [(m.name, walker.read_data()) for m in walker]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert names == [("etc/x", b"hello")]
    assert peak < 12 * 1024 * 1024, peak


@pytest.mark.parametrize("payload", [
    b"".join(_record(f"k{i}", "") for i in range(5000)),  # many tiny records: CPU per header
    _record("path", "a/" * 40_000),  # an 80 KB path
])
def test_absurd_pax_content_is_hostile(payload: bytes) -> None:
    data = _member("pax", b"x", payload) + _member("etc/x", b"0", b"x") + b"\0" * 1024
    with pytest.raises(TarHostileError):
        walker = TarWalker(io.BytesIO(data), seekable=True, header_limit=1 << 20)  # type: ignore[arg-type]
        list(walker)


def test_large_requests_do_not_raise_the_header_limit(tmp_path: Path) -> None:
    """A 2 MiB pax header is refused even when a request accepts 256 MiB files."""
    layer = (_member("pax", b"x", _record("comment", "c" * (2 << 20)))
             + _member("etc/x", b"0", b"x") + b"\0" * 1024)
    image = build_image([layer], compression="gzip")
    layout = write_layout(tmp_path / "layout", {"app": image.manifest}, image.blobs)
    source = OciLayoutSource(layout)
    with pytest.raises(LayerError, match="hostile") as info:
        read_files(source, open_image(source, reference="x"),
                   [FileRequest(("**",), max_size=256 << 20)])
    assert "\n" not in str(info.value)


# -- B3 ---------------------------------------------------------------------------------------
def _layout(tmp_path: Path, tar: bytes) -> OciLayoutSource:
    image = build_image([tar], compression="gzip")
    return OciLayoutSource(write_layout(tmp_path / "layout", {"app": image.manifest},
                                        image.blobs))


def test_budget_lists_the_rest_truncated_with_a_skip_and_caches_nothing(tmp_path: Path) -> None:
    contents = {f"a/{i}": os.urandom(1000) for i in range(3)}
    source = _layout(tmp_path, layer_tar([file(p, d) for p, d in contents.items()]))
    image = open_image(source, reference="x")
    cache = tmp_path / "cache"
    tree = read_files(source, image, ALL, cache_dir=cache, budget=2500)
    assert [tree.read(p) for p in contents] == [contents["a/0"], contents["a/1"], None]
    last = tree.get("a/2")
    assert last is not None and last.truncated and last.size == 1000
    assert [s.path for s in tree.skips] == ["a/2"] and "budget" in tree.skips[0].reason
    assert not [p for p in cache.rglob("*") if p.is_file()]  # a partial delta is not cached
    full = read_files(source, image, ALL, cache_dir=cache)
    assert {p: full.read(p) for p in contents} == contents and full.skips == ()
    # a cached delta larger than what is left of the budget is not loaded whole either
    again = read_files(source, image, ALL, cache_dir=cache, budget=1500)
    assert [again.read(p) for p in contents] == [contents["a/0"], None, None]


def test_rootfs_reads_respect_the_budget(tmp_path: Path) -> None:
    for i in range(3):
        (tmp_path / f"f{i}").write_bytes(b"x" * 1000)
    source = RootfsSource(tmp_path)
    tree = read_files(source, open_image(source, reference="dir:x"), [FileRequest(("f*",))],
                      budget=2500)
    assert sum(e.data is not None for e in tree.files.values()) == 2
    assert len(tree.skips) == 1 and "budget" in tree.skips[0].reason


def test_large_deltas_are_not_written_to_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(layercache, "MAX_STORED", 1500)
    source = _layout(tmp_path, layer_tar([file("a/big", os.urandom(2000)), file("a/s", "s")]))
    cache = tmp_path / "cache"
    tree = read_files(source, open_image(source, reference="x"), ALL, cache_dir=cache)
    assert tree.read("a/s") == b"s"
    assert not [p for p in cache.rglob("*") if p.is_file()]


_CHILD = """
import json, resource, sys
from pathlib import Path
from imagetrust.catalog.java import JavaCataloger
from imagetrust.image.open import open_image
from imagetrust.image.reader import read_files
from imagetrust.source.oci_layout import OciLayoutSource

def rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

source = OciLayoutSource(Path(sys.argv[1]))
image = open_image(source, reference="x")
cataloger = JavaCataloger()
before = rss()
tree = read_files(source, image, [cataloger.request()], cache_dir=Path(sys.argv[2]))
packages, skips = cataloger.catalog(tree, None)
print(json.dumps({"grew": rss() - before, "purls": [p.purl for p in packages],
                  "skips": {s.path: s.reason for s in skips}}))
"""


class _Zeros(io.RawIOBase):
    def __init__(self, size: int) -> None:
        super().__init__()
        self._left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        count = min(len(buffer), self._left)
        memoryview(buffer).cast("B")[:count] = bytes(count)
        self._left -= count
        return count


def test_zero_filled_jars_stay_within_a_memory_bound(tmp_path: Path) -> None:
    """The reviewer's archive: tiny compressed, hundreds of MB of "jars" once inflated."""
    import gzip
    import hashlib
    import zipfile

    jar = io.BytesIO()
    with zipfile.ZipFile(jar, "w") as archive:  # a real jar, bulky (stored) but valid
        archive.writestr("META-INF/maven/org.example/demo/pom.properties",
                         "groupId=org.example\nartifactId=demo\nversion=1.2.3\n")
        archive.writestr("blob.bin", bytes(40 << 20))
    raw = tmp_path / "layer.tar"
    with raw.open("wb") as out, tarfile.open(fileobj=out, mode="w") as tar:
        for i in range(8):
            info = tarfile.TarInfo(f"opt/app/lib/zero{i}.jar")
            info.size = 48 << 20
            tar.addfile(info, _Zeros(info.size))  # type: ignore[arg-type]
        info = tarfile.TarInfo("opt/app/lib/demo.jar")
        info.size = len(jar.getvalue())
        tar.addfile(info, io.BytesIO(jar.getvalue()))
    diff_id = "sha256:" + hashlib.file_digest(raw.open("rb"), "sha256").hexdigest()
    gz = tmp_path / "layer.tar.gz"
    with raw.open("rb") as src, gzip.open(gz, "wb", compresslevel=1) as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)
    raw.unlink()
    layer = Blob("application/vnd.oci.image.layer.v1.tar+gzip", gz.read_bytes())
    assert len(layer.data) < 2 << 20  # about 1.5 MB on disk, 430 MB of "jars" inflated
    base = build_image([b""], diff_ids=[diff_id])
    manifest = json.loads(base.manifest.data)
    manifest["layers"] = [layer.descriptor()]
    manifest_blob = Blob(OCI_MANIFEST, json.dumps(manifest).encode())
    layout = write_layout(tmp_path / "layout", {"app": manifest_blob}, [base.config, layer])
    cache = tmp_path / "cache"

    result = subprocess.run([sys.executable, "-c", _CHILD, str(layout), str(cache)],
                            capture_output=True, text=True, check=True, timeout=300)
    report = json.loads(result.stdout)
    cached = sum(p.stat().st_size for p in cache.rglob("*") if p.is_file())
    # Before: every jar was kept whole (about 430 MB) and written to the cache.
    assert (report["grew"] < 64 << 20, cached < 64 * 1024) == (True, True), (report, cached)
    assert cached > 0  # the small findings are cached
    assert report["purls"] == ["pkg:maven/org.example/demo@1.2.3"]
    assert all("no zip signature" in report["skips"][f"opt/app/lib/zero{i}.jar"]
               for i in range(8))


# -- B5 ---------------------------------------------------------------------------------------
def test_deeply_nested_json_is_a_manifest_error() -> None:
    nested = b"[" * 100_000
    with pytest.raises(ManifestError) as info:
        parse_manifest(RawManifest(OCI_MANIFEST, "sha256:" + "a" * 64, nested))
    assert "\n" not in str(info.value)
    with pytest.raises(ManifestError):
        parse_config(nested, "sha256:" + "a" * 64)


def test_deeply_nested_cache_file_is_ignored(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    digest, diff_id, print_ = "sha256:" + "b" * 64, "sha256:" + "c" * 64, "p"
    delta = layercache.LayerDelta((), (), (), ())
    layercache.store(cache, digest, diff_id, print_, delta)
    (path,) = [p for p in cache.rglob("*") if p.is_file()]
    header = b"[" * 100_000
    path.write_bytes(b"ITLC1\n" + len(header).to_bytes(8, "big") + header)
    assert layercache.load(cache, digest, diff_id, print_) is None


# -- B14 --------------------------------------------------------------------------------------
def test_symlink_removed_during_the_walk_is_a_skip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "link").symlink_to("os-release")
    (tmp_path / "etc" / "os-release").write_text("ID=debian\n")
    real = os.readlink

    def racing(path: str | os.PathLike[str], *args: object, **kwargs: object) -> str:
        if str(path).endswith("etc/link"):
            raise FileNotFoundError(2, "No such file or directory")
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(reader.os, "readlink", racing)
    source = RootfsSource(tmp_path)
    tree = read_files(source, open_image(source, reference="dir:x"), ALL)
    assert tree.read("etc/os-release") == b"ID=debian\n"
    assert [(s.path, "symlink" in s.reason) for s in tree.skips] == [("etc/link", True)]


@pytest.mark.parametrize("compression", ["none", "gzip"])
def test_unrequested_hard_link_target_stays_out_of_the_tree(
    tmp_path: Path, compression: str
) -> None:
    tar = layer_tar([file("usr/lib/real", "content", mode=0o755),
                     hardlink("etc/alias", "usr/lib/real")])
    image = build_image([tar], compression=compression)  # type: ignore[arg-type]
    source = OciLayoutSource(write_layout(tmp_path / "l", {"app": image.manifest}, image.blobs))
    tree = read_files(source, open_image(source, reference="x"), [FileRequest(("etc/*",))])
    assert set(tree.files) == {"etc/alias"}  # no made-up entry for usr/lib/real
    alias = tree.files["etc/alias"]
    assert alias.kind == "hardlink" and alias.link_target == "usr/lib/real"
    assert alias.data == b"content" and alias.mode == 0o644  # the link's own header mode
