"""The verification memo: a local file verified once is not hashed again while provably unchanged,
and any change to it (even one that restores its mtime) is verified afresh and caught."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from imagetrust.config import load_settings
from imagetrust.errors import IntegrityError
from imagetrust.image.files import FileRequest
from imagetrust.image.reader import read_files
from imagetrust.image.session import open_image
from imagetrust.source import _ranges
from tests.support.synthetic import build_image, file, layer_tar, write_docker_archive

PAYLOAD = b"hello from the layer\n" * 64


def make_archive(tmp_path: Path) -> Path:
    image = build_image([layer_tar([file("etc/greeting", PAYLOAD)])], compression="none")
    return write_docker_archive(tmp_path / "image.tar", [(image, ["memo:1"])])


def scan(archive: Path, cache: Path) -> tuple[bytes | None, int]:
    """Read one file through the real pipeline; returns its content and how many hashes ran."""
    hashes = 0
    original = _ranges.digest_range

    def counting(*args: Any, **kwargs: Any) -> str:
        nonlocal hashes
        hashes += 1
        return original(*args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_ranges, "digest_range", counting)
        settings = load_settings(cache_dir=cache)
        with open_image(f"docker-archive:{archive}", settings=settings) as opened:
            tree = read_files(opened.source, opened.image, [FileRequest(("etc/greeting",))])
    return tree.read("etc/greeting"), hashes


def test_second_scan_of_an_unchanged_archive_skips_the_hash(tmp_path: Path) -> None:
    archive, cache = make_archive(tmp_path), tmp_path / "cache"
    first, hashed = scan(archive, cache)
    assert first == PAYLOAD and hashed >= 1
    again, hashed_again = scan(archive, cache)
    assert again == PAYLOAD and hashed_again == 0
    assert list((cache / "verified").rglob("*"))  # the memo lives in the cache directory


def flip_payload_byte(archive: Path) -> None:
    data = bytearray(archive.read_bytes())
    at = data.index(PAYLOAD)
    data[at] ^= 0x20
    with archive.open("r+b") as handle:  # in place: same inode, same size
        handle.write(data)


def test_in_place_change_is_verified_afresh_and_caught(tmp_path: Path) -> None:
    archive, cache = make_archive(tmp_path), tmp_path / "cache"
    scan(archive, cache)
    flip_payload_byte(archive)
    with pytest.raises(IntegrityError):
        scan(archive, cache)


def test_restoring_the_mtime_does_not_fool_the_memo(tmp_path: Path) -> None:
    archive, cache = make_archive(tmp_path), tmp_path / "cache"
    scan(archive, cache)
    before = archive.stat()
    flip_payload_byte(archive)
    os.utime(archive, ns=(before.st_atime_ns, before.st_mtime_ns))  # mtime back; ctime moves on
    assert archive.stat().st_mtime_ns == before.st_mtime_ns
    with pytest.raises(IntegrityError):
        scan(archive, cache)
