"""The official-images catalog store: download over real HTTP (127.0.0.1), import, load, look up.

The archive is built here from the real library files in the shared test data, shaped like GitHub's
tarball (one top-level ``official-images-master/`` directory and a pax global header carrying the
commit), plus hostile members that must never land on disk.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from imagetrust.assess.official.library import parse_library
from imagetrust.assess.official.store import (
    LibraryMissingError,
    import_library,
    load_library,
    update_library,
)
from imagetrust.errors import FeedError, NetworkError
from imagetrust.reference.parse import parse_reference
from tests.assess.httpserver import Reply, Server, serve

TOP = "official-images-master"
HOSTILE = (
    "../escape-parent",
    f"{TOP}/library/../../escape-dotdot",
    "/tmp/escape-absolute",
)


def _source_commit(test_data: Path) -> str:
    sources = (test_data / "SOURCES.md").read_text(encoding="utf-8")
    match = re.search(r"\| docker-library/official-images \| [^|]+ \| ([0-9a-f]{40}) \|", sources)
    assert match is not None
    return match[1]


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def _build_archive(library: Path, commit: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(
        fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT, pax_headers={"comment": commit}
    ) as tar:
        _add(tar, f"{TOP}/README.md", b"# official images\n")
        for path in sorted(library.iterdir()):
            _add(tar, f"{TOP}/library/{path.name}", path.read_bytes())
        for name in HOSTILE:
            _add(tar, name, b"pwned\n")
        link = tarfile.TarInfo(f"{TOP}/library/evil-link")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tar.addfile(link)
        _add(tar, f"{TOP}/test/library/nested", b"not a library file\n")
    return buffer.getvalue()


@dataclass
class Archive:
    body: bytes
    etag: str = '"v1"'
    status: int = 200


@pytest.fixture
def library_dir(test_data: Path) -> Path:
    return test_data / "official-images" / "library"


@pytest.fixture
def archive(test_data: Path, library_dir: Path) -> Archive:
    return Archive(_build_archive(library_dir, _source_commit(test_data)))


@pytest.fixture
def server(archive: Archive) -> Iterator[Server]:
    def tarball(handler: BaseHTTPRequestHandler) -> Reply:
        if archive.status != 200:
            return Reply(archive.status, b"boom")
        if handler.headers.get("If-None-Match") == archive.etag:
            return Reply(304, headers={"ETag": archive.etag})
        return Reply(200, archive.body, {"ETag": archive.etag, "Content-Type": "application/gzip"})

    def redirect(handler: BaseHTTPRequestHandler) -> Reply:
        return Reply(302, headers={"Location": "/codeload/master.tar.gz"})

    with serve({"/codeload/master.tar.gz": tarball, "/archive/master.tar.gz": redirect}) as srv:
        yield srv


def _url(server: Server) -> str:
    return f"{server.url}/archive/master.tar.gz"


def test_update_installs_library_and_ignores_hostile_members(
    tmp_path: Path, server: Server, library_dir: Path, test_data: Path
) -> None:
    cache = tmp_path / "cache"
    result = update_library(cache, _url(server))

    assert result.changed
    names = sorted(p.name for p in library_dir.iterdir())
    assert result.meta.files == len(names)
    assert result.meta.commit == _source_commit(test_data)
    assert result.meta.etag == '"v1"'
    assert result.invalid_files == ()
    assert set(HOSTILE) <= set(result.unsafe_members)
    assert f"{TOP}/library/evil-link" in result.unsafe_members
    # Nothing escaped: no file named escape-* anywhere under the test's directory or /tmp.
    assert not list(tmp_path.rglob("escape-*"))
    assert not Path("/tmp/escape-absolute").exists()

    catalog = load_library(cache)
    assert sorted(catalog.names()) == names  # no README, no nested test/library, no symlink
    text = (library_dir / "postgres").read_text(encoding="utf-8")
    assert catalog.lookup("postgres") == parse_library(text, "postgres", source=str(
        catalog.root / "library" / "postgres"))
    assert catalog.lookup("docker.io/library/postgres") == catalog.lookup("postgres")
    assert catalog.lookup("no-such-image") is None
    assert catalog.meta.source == _url(server)


def test_second_update_is_conditional_and_keeps_the_catalog(
    tmp_path: Path, server: Server, archive: Archive
) -> None:
    cache = tmp_path / "cache"
    first = update_library(cache, _url(server))
    root = load_library(cache).root
    second = update_library(cache, _url(server))

    assert not second.changed
    assert second.meta.fetched_at == first.meta.fetched_at
    assert second.meta.checked_at > first.meta.checked_at
    tarball_requests = [h for p, h in server.requests if p.startswith("/codeload/")]
    assert "if-none-match" not in tarball_requests[0]
    assert tarball_requests[1]["if-none-match"] == '"v1"'
    assert load_library(cache).root == root
    assert load_library(cache).meta.checked_at == second.meta.checked_at

    archive.etag = '"v2"'
    third = update_library(cache, _url(server))
    assert third.changed
    assert load_library(cache).meta.etag == '"v2"'
    assert load_library(cache).root != root


def test_failed_or_corrupt_download_leaves_the_old_catalog(
    tmp_path: Path, server: Server, archive: Archive
) -> None:
    cache = tmp_path / "cache"
    update_library(cache, _url(server))
    before = load_library(cache)

    archive.status = 500
    with pytest.raises(FeedError, match="HTTP 500"):
        update_library(cache, _url(server), force=True)

    archive.status = 200
    archive.etag = '"v3"'
    archive.body = archive.body[: len(archive.body) // 2]
    with pytest.raises(FeedError) as caught:
        update_library(cache, _url(server))
    assert "\n" not in str(caught.value)

    after = load_library(cache)
    assert after.root == before.root
    assert after.names() == before.names()
    leftovers = [p.name for p in (cache / "official-images").iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_archive_without_library_is_refused(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        _add(tar, f"{TOP}/README.md", b"hello\n")

    with (
        serve({"/a.tar.gz": lambda _h: Reply(200, buffer.getvalue())}) as srv,
        pytest.raises(FeedError, match="no library/ files"),
    ):
        update_library(tmp_path / "cache", f"{srv.url}/a.tar.gz")
    with pytest.raises(LibraryMissingError):
        load_library(tmp_path / "cache")


def test_unreachable_server_is_a_network_error(tmp_path: Path) -> None:
    with serve({}) as srv:
        url = f"{srv.url}/gone.tar.gz"
    with pytest.raises(NetworkError) as caught:
        update_library(tmp_path / "cache", url, timeout=5)
    assert "catalog import" in str(caught.value)


def test_missing_catalog_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(LibraryMissingError) as caught:
        load_library(tmp_path / "cache")
    message = str(caught.value)
    assert "imagetrust catalog update" in message
    assert "imagetrust catalog import" in message
    assert "\n" not in message


def test_import_from_checkout_and_from_library_dir(
    tmp_path: Path, test_data: Path, library_dir: Path
) -> None:
    cache = tmp_path / "cache"
    result = import_library(cache, test_data / "official-images")
    assert result.meta.files == len(list(library_dir.iterdir()))
    assert load_library(cache).names() == frozenset(p.name for p in library_dir.iterdir())

    other = tmp_path / "cache2"
    import_library(other, library_dir)
    assert load_library(other).names() == load_library(cache).names()


def test_import_records_git_head_and_skips_symlinks(tmp_path: Path, library_dir: Path) -> None:
    checkout = tmp_path / "checkout"
    (checkout / "library").mkdir(parents=True)
    (checkout / "library" / "postgres").write_bytes((library_dir / "postgres").read_bytes())
    (checkout / "library" / "sneaky").symlink_to("/etc/hostname")
    commit = "0123456789abcdef0123456789abcdef01234567"
    (checkout / ".git" / "refs" / "heads").mkdir(parents=True)
    (checkout / ".git" / "HEAD").write_text("ref: refs/heads/master\n")
    (checkout / ".git" / "refs" / "heads" / "master").write_text(commit + "\n")

    result = import_library(tmp_path / "cache", checkout)
    assert result.meta.commit == commit
    assert result.unsafe_members == ("sneaky",)
    assert load_library(tmp_path / "cache").names() == frozenset({"postgres"})


def test_invalid_library_file_is_reported_and_fails_on_lookup(tmp_path: Path) -> None:
    library = tmp_path / "library"
    library.mkdir()
    (library / "good").write_text("Maintainers: A (@a)\nGitRepo: r\n\nTags: 1\nGitCommit: abc\n")
    (library / "bad").write_text("Maintainers: A (@a)\n\nTags: 1\n")
    result = import_library(tmp_path / "cache", library)
    assert len(result.invalid_files) == 1 and "bad line 3" in result.invalid_files[0]
    catalog = load_library(tmp_path / "cache")
    assert catalog.lookup("good") is not None
    with pytest.raises(FeedError, match="bad line 3"):
        catalog.lookup("bad")


def test_damaged_pointer_is_reported(tmp_path: Path, library_dir: Path) -> None:
    cache = tmp_path / "cache"
    import_library(cache, library_dir)
    (cache / "official-images" / "CURRENT").write_text("../../etc\n")
    with pytest.raises(LibraryMissingError, match="damaged"):
        load_library(cache)


def test_official_and_tag_status(tmp_path: Path, library_dir: Path) -> None:
    cache = tmp_path / "cache"
    import_library(cache, library_dir)
    catalog = load_library(cache)
    text = (library_dir / "postgres").read_text(encoding="utf-8")
    tag_lines = [line.partition(":")[2] for line in text.splitlines() if line.startswith("Tags:")]
    supported = tag_lines[0].split(",")[0].strip()
    all_tags = {t.strip() for line in tag_lines for t in line.split(",")}
    absent = next(t for t in ("9.6-alpine", "9.6", "10-stretch") if t not in all_tags)

    assert catalog.is_official(parse_reference("postgres"))
    assert catalog.is_official(parse_reference("public.ecr.aws/docker/library/postgres:16"))
    assert not catalog.is_official(parse_reference("bitnami/postgresql"))
    assert not catalog.is_official(parse_reference("library/no-such-image"))
    assert not catalog.is_official(parse_reference("quay.io/library/postgres"))

    ok = catalog.tag_status(parse_reference(f"postgres:{supported}"))
    assert (ok.state, ok.image, ok.tag) == ("supported", "postgres", supported)

    old = catalog.tag_status(parse_reference(f"postgres:{absent}"))
    assert old.state == "unsupported"
    assert "never rebuilt again" in old.reason
    assert old.suggestions and all(s in all_tags for s in old.suggestions)
    if absent.endswith("-alpine"):
        assert all(s.endswith("-alpine") for s in old.suggestions)

    ecr = parse_reference(f"public.ecr.aws/docker/library/postgres:{supported}")
    mirror = catalog.tag_status(ecr)
    assert mirror.state == "supported"

    pinned = catalog.tag_status(parse_reference("postgres@sha256:" + "a" * 64))
    assert pinned.state == "unknown"
    other = catalog.tag_status(parse_reference("ghcr.io/org/postgres:16"))
    assert other.state == "unknown"


def test_catalog_age(tmp_path: Path, library_dir: Path) -> None:
    from datetime import timedelta

    import_library(tmp_path / "cache", library_dir)
    catalog = load_library(tmp_path / "cache")
    later = catalog.meta.checked_at + timedelta(days=8)
    assert catalog.age(later) == timedelta(days=8)
    assert catalog.is_stale(now=later)
    assert not catalog.is_stale(now=catalog.meta.checked_at + timedelta(days=1))
    meta = json.loads((catalog.root / "meta.json").read_text())
    assert meta["files"] == len(catalog.names())
