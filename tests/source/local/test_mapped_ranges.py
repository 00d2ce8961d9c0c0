"""Blob ranges read through a mapping: the bytes and digests are those of the file (hashlib on the
bytes written is the truth), pages dropped behind the readers read back intact, a mismatch is
still an IntegrityError, and a range that cannot be mapped falls back to reads."""

from __future__ import annotations

import hashlib
import io
import os
import threading
from pathlib import Path

import pytest

from imagetrust.errors import IntegrityError
from imagetrust.source import _ranges
from imagetrust.tarwalk import TarWalker
from tests.support.synthetic import file, layer_tar

PAGE = 4096


@pytest.fixture
def small_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Slices, drop steps and windows of a few pages, so that a small file exercises them."""
    monkeypatch.setattr(_ranges, "_HASH_SLICE", 3 * PAGE + 17)
    monkeypatch.setattr(_ranges, "_DROP_STEP", PAGE)
    monkeypatch.setattr(_ranges, "_WINDOW", 2 * PAGE)


def _blob_file(tmp_path: Path, prefix: int, data: bytes) -> tuple[int, int]:
    path = tmp_path / "archive"
    path.write_bytes(os.urandom(prefix) + data + os.urandom(777))
    return os.open(path, os.O_RDONLY), prefix


@pytest.mark.parametrize("prefix", [0, 512, PAGE * 3 + 1536, 9_001 * 512])
def test_digest_of_a_mapped_range_is_that_of_its_bytes(
    tmp_path: Path, prefix: int, small_windows: None
) -> None:
    data = os.urandom(50 * PAGE + 123)
    fd, offset = _blob_file(tmp_path, prefix, data)
    try:
        expected = "sha256:" + hashlib.sha256(data).hexdigest()
        assert _ranges.digest_range(fd, offset, len(data)) == expected
        with _ranges.MappedRange(fd, offset, len(data), hashing=True) as mapped:
            assert mapped.digest("sha256") == expected
            # Everything behind both readers was dropped; reading it again still gives the file.
            mapped.forget(len(data))
            assert mapped.read() == data
            mapped.seek(-100, io.SEEK_END)
            assert mapped.read(1000) == data[-100:]
    finally:
        os.close(fd)


def test_reader_and_hash_share_one_mapping_and_both_see_the_file(
    tmp_path: Path, small_windows: None
) -> None:
    """A walk over the mapping while the hash runs in another thread, pages dropped behind."""
    layer = layer_tar([file(f"f{i}", os.urandom(i * 300)) for i in range(200)])
    fd, offset = _blob_file(tmp_path, 1536, layer)
    digest = "sha256:" + hashlib.sha256(layer).hexdigest()
    try:
        with _ranges.verified_range(fd, offset, len(layer), digest, "layer") as stream:
            assert getattr(stream, "mapping", None) is not None
            walker = TarWalker(stream, seekable=True)
            contents = {m.name: walker.read_data() for m in walker}
        assert all(len(contents[f"f{i}"]) == i * 300 for i in range(200))
    finally:
        os.close(fd)


def test_tampered_mapped_blob_is_an_integrity_error(tmp_path: Path) -> None:
    layer = layer_tar([file("etc/os-release", "ID=debian\n")])
    fd, offset = _blob_file(tmp_path, 512, layer)
    wrong = "sha256:" + hashlib.sha256(layer + b"x").hexdigest()
    try:
        with pytest.raises(IntegrityError, match="does not match its digest"), \
                _ranges.verified_range(fd, offset, len(layer), wrong, "layer") as stream:
            assert [m.name for m in TarWalker(stream, seekable=True)] == ["etc/os-release"]
    finally:
        os.close(fd)


def test_range_past_the_end_of_the_file_is_read_not_mapped(tmp_path: Path) -> None:
    """A truncated archive is never mapped (touching missing pages would kill the process):
    it is read, comes up short, and fails verification."""
    data = os.urandom(3 * PAGE)
    fd, offset = _blob_file(tmp_path, 0, data)
    digest = "sha256:" + hashlib.sha256(data + bytes(10 * PAGE)).hexdigest()
    try:
        with pytest.raises(OSError):
            _ranges.MappedRange(fd, offset, 20 * PAGE)
        with pytest.raises(IntegrityError), \
                _ranges.verified_range(fd, offset, 13 * PAGE, digest, "layer") as stream:
            assert getattr(stream, "mapping", None) is None
            stream.read()
    finally:
        os.close(fd)


def test_switch_interval_is_restored_after_concurrent_verifications(tmp_path: Path) -> None:
    import sys

    before = sys.getswitchinterval()
    data = os.urandom(PAGE)
    fd, offset = _blob_file(tmp_path, 0, data)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    failures: list[BaseException] = []

    def verify() -> None:
        try:
            for _ in range(20):
                with _ranges.verified_range(fd, offset, len(data), digest, "blob") as stream:
                    assert stream.read() == data
        except BaseException as error:
            failures.append(error)

    try:
        threads = [threading.Thread(target=verify) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        os.close(fd)
    assert not failures
    assert sys.getswitchinterval() == before


def test_prefetched_verification_is_taken_over_once_and_the_rest_cancelled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blobs = [os.urandom(5 * PAGE + i) for i in range(3)]
    path = tmp_path / "blobs"
    path.write_bytes(b"".join(blobs))
    fd = os.open(path, os.O_RDONLY)
    hashed: list[int] = []
    original = _ranges.digest_range

    def counting(fd: int, offset: int, size: int, *args: object) -> str:
        hashed.append(offset)
        return original(fd, offset, size, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(_ranges, "digest_range", counting)
    ranges, at = [], 0
    for blob in blobs:
        ranges.append((fd, at, len(blob), "sha256:" + hashlib.sha256(blob).hexdigest()))
        at += len(blob)
    try:
        with _ranges.prefetched(ranges):
            for fd_, offset, size, digest in ranges[:2]:
                with _ranges.verified_range(fd_, offset, size, digest, "blob") as stream:
                    assert stream.read() == blobs[ranges.index((fd_, offset, size, digest))]
        assert not _ranges._pending
        assert sorted(hashed) == sorted(r[1] for r in ranges)  # each once, none twice
    finally:
        os.close(fd)


def test_tampered_upper_layer_of_a_prefetched_archive_is_an_integrity_error(
    tmp_path: Path
) -> None:
    from imagetrust.image.files import FileRequest
    from imagetrust.image.open import open_image
    from imagetrust.image.reader import read_files
    from imagetrust.source.archive import DockerArchiveSource
    from tests.support.synthetic import build_image, write_docker_archive

    lower = layer_tar([file("etc/os-release", "ID=debian\n")])
    upper = layer_tar([file("app/data", b"genuine" * 1000)])
    image = build_image([lower, upper], compression="none")
    archive = write_docker_archive(tmp_path / "image.tar", [(image, ["t:1"])])
    raw = bytearray(archive.read_bytes())
    at = raw.index(b"genuine" * 1000)
    raw[at] ^= 0x01
    archive.write_bytes(bytes(raw))
    with DockerArchiveSource(archive) as source:
        opened = open_image(source, reference=f"docker-archive:{archive}")
        with pytest.raises(IntegrityError, match="does not match its digest"):
            read_files(source, opened, [FileRequest(("**",))])
        assert not _ranges._pending
