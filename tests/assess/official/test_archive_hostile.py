"""Hostile official-images tarballs, built here byte by byte with tarfile: a pax header larger
than the walker's cap, an archive cut short, members escaping with ``../``. Each is either one
clear error line or a skipped member, and nothing is ever written outside the cache directory.

Expectations follow from the tar format (a cut inside a member's data, a header's declared size)
and from the walker's documented cap, not from the code's output.
"""

from __future__ import annotations

import gzip
import io
import os
import tarfile
from pathlib import Path

import pytest

from imagetrust.assess.official.archive import read_library_archive
from imagetrust.assess.official.store import load_library, update_library
from imagetrust.errors import FeedError
from imagetrust.tarwalk import HEADER_LIMIT
from tests.assess.httpserver import Reply, serve

TOP = "official-images-0123"
COMMIT = "d" * 40
GOOD = b"Maintainers: A <a@example.com> (@a)\nGitRepo: https://example.com/r.git\n\nTags: 1\n" \
       b"GitCommit: " + b"1" * 40 + b"\nDirectory: 1\n"


def _tar(members: list[tuple[str, bytes, dict[str, str]]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT,
                      pax_headers={"comment": COMMIT}) as tar:
        for name, data, pax in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.pax_headers = pax
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def _install(tmp_path: Path, body: bytes) -> Path:
    """``catalog update`` from 127.0.0.1 into ``tmp_path/box/cache``; returns the cache."""
    box = tmp_path / "box"
    cache = box / "cache"
    cache.mkdir(parents=True)
    with serve({"/a.tar.gz": lambda _h: Reply(200, body)}) as srv:
        update_library(cache, f"{srv.url}/a.tar.gz")
    return cache


def _outside(tmp_path: Path) -> set[str]:
    return {p for p in _tree(tmp_path) if not p.startswith("box/cache")}


def test_pax_header_over_the_cap_is_one_clear_error(tmp_path: Path) -> None:
    padding = {"comment": "x" * (HEADER_LIMIT + 1)}  # a local record: only the header size counts
    body = gzip.compress(_tar([(f"{TOP}/library/a", GOOD, {}), (f"{TOP}/library/b", GOOD,
                                                              padding)]))
    path = tmp_path / "a.tar.gz"
    path.write_bytes(body)
    refused = r"a\.tar\.gz is refused: a x header claims \d+ bytes"
    with pytest.raises(FeedError, match=refused) as info:
        read_library_archive(path)
    assert "\n" not in str(info.value)
    before = _outside(tmp_path)
    with pytest.raises(FeedError, match="is refused"):
        _install(tmp_path, body)
    assert _outside(tmp_path) == before | {"box"}


def test_truncated_archive_is_one_clear_error(tmp_path: Path) -> None:
    raw = _tar([(f"{TOP}/library/a", GOOD, {}), (f"{TOP}/library/b", b"y" * 5000, {})])
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        cut = tar.getmember(f"{TOP}/library/b").offset_data + 1000  # inside b's data
    for body, reason in [(raw[:cut], "ends inside a member's data"),
                         (gzip.compress(raw)[:-200], "ended before the end-of-stream marker")]:
        path = tmp_path / "cut.tar.gz"
        path.write_bytes(body)
        with pytest.raises(FeedError, match=reason) as info:
            read_library_archive(path)
        assert "\n" not in str(info.value) and "cut.tar.gz" in str(info.value)


def test_dotdot_members_are_skipped_and_nothing_lands_outside_the_cache(tmp_path: Path) -> None:
    escapes = ["../escape", f"{TOP}/library/../../../escape2", f"{TOP}/../../escape3"]
    members = [(f"{TOP}/library/good", GOOD, {})]
    members += [(name, b"pwned\n", {}) for name in escapes]
    # a pax path reaching out, on a header whose ustar name looks harmless
    members.append((f"{TOP}/library/decoy", b"pwned\n", {"path": "../../escape4"}))
    body = gzip.compress(_tar(members))
    path = tmp_path / "in.tar.gz"
    path.write_bytes(body)
    result = read_library_archive(path)
    assert sorted(result.files) == ["good"] and result.commit == COMMIT
    assert sorted(result.unsafe_members) == sorted([*escapes, "../../escape4"])

    cache = _install(tmp_path, body)
    assert sorted(load_library(cache).names()) == ["good"]
    outside = _outside(tmp_path)
    assert not any("escape" in p for p in outside), outside
    assert not any("escape" in name or "pwned" in name for _, _, names in os.walk(tmp_path)
                   for name in names)
