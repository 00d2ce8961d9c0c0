"""The content-addressed blob cache publishes only verified blobs."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest

from imagetrust.errors import IntegrityError, ManifestError
from imagetrust.source.cache import BlobCache

DATA = b"layer bytes " * 1000
DIGEST = "sha256:" + hashlib.sha256(DATA).hexdigest()


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_verified_write_lands_under_its_digest(tmp_path: Path) -> None:
    cache = BlobCache(tmp_path / "blobs")
    assert cache.path_for(DIGEST) is None
    with cache.writer(DIGEST, len(DATA)) as blob:
        blob.write(DATA[:100])
        blob.write(DATA[100:])
    path = cache.path_for(DIGEST)
    assert path == tmp_path / "blobs" / "sha256" / hashlib.sha256(DATA).hexdigest()
    assert path.read_bytes() == DATA
    assert _files(tmp_path / "blobs") == [path]


def test_sha512_digests_work(tmp_path: Path) -> None:
    digest = "sha512:" + hashlib.sha512(DATA).hexdigest()
    path = BlobCache(tmp_path).put(digest, DATA)
    assert path.parent.name == "sha512" and path.read_bytes() == DATA


@pytest.mark.parametrize(
    ("data", "size"),
    [(DATA[:-1] + b"X", len(DATA)), (DATA[:-1], len(DATA)), (DATA, len(DATA) - 1)],
    ids=["other-bytes", "truncated", "oversized"],
)
def test_mismatch_leaves_nothing(tmp_path: Path, data: bytes, size: int) -> None:
    cache = BlobCache(tmp_path)
    with pytest.raises(IntegrityError), cache.writer(DIGEST, size) as blob:
        blob.write(data)
    assert cache.path_for(DIGEST) is None
    assert _files(tmp_path) == []


def test_exception_inside_writer_leaves_nothing(tmp_path: Path) -> None:
    cache = BlobCache(tmp_path)
    with pytest.raises(RuntimeError), cache.writer(DIGEST, len(DATA)) as blob:
        blob.write(DATA[:10])
        raise RuntimeError("connection lost")
    assert _files(tmp_path) == []


@pytest.mark.parametrize("digest", ["sha256:../../etc/passwd", "md5:abc", "sha256:" + "A" * 64])
def test_digests_cannot_escape_the_cache(tmp_path: Path, digest: str) -> None:
    with pytest.raises(ManifestError):
        BlobCache(tmp_path).path_for(digest)


def test_concurrent_writers_of_one_digest(tmp_path: Path) -> None:
    cache = BlobCache(tmp_path)
    errors: list[BaseException] = []

    def write() -> None:
        try:
            cache.put(DIGEST, DATA)
        except BaseException as error:  # noqa: BLE001 - collected for the assertion
            errors.append(error)

    threads = [threading.Thread(target=write) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert _files(tmp_path) == [cache.path_for(DIGEST)]
