"""The official-images download against damaged archives and unsafe URLs.

Archives are built here with tarfile/gzip and then damaged by hand at known places (a header's
checksum, the gzip CRC trailer, the end-of-archive blocks), so each expectation follows from the
tar and gzip formats, not from the code under test. Servers run on 127.0.0.1; 0.0.0.0 stands in
for a non-loopback host (it reaches this machine, so a request that must not happen would show).
"""

from __future__ import annotations

import gzip
import io
import tarfile
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from imagetrust.assess.official.archive import read_library_archive
from imagetrust.assess.official.store import (
    LibraryMissingError,
    load_library,
    store_dir,
    update_library,
)
from imagetrust.cli import catalog_cmd  # noqa: F401  - registers the command on the group
from imagetrust.cli.main import main
from imagetrust.errors import FeedError, UsageError
from tests.assess.httpserver import Reply, Server, serve

TOP = "official-images-0123"
COMMIT = "c" * 40


def _library(i: int) -> bytes:
    return (
        f"Maintainers: Someone <someone@example.com> (@someone)\n"
        f"GitRepo: https://github.com/example/img{i}.git\n\n"
        f"Tags: {i}.0, latest\nGitCommit: {i:040x}\nDirectory: {i}\n"
    ).encode()


def _tar(count: int) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(
        fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT, pax_headers={"comment": COMMIT}
    ) as tar:
        for i in range(count):
            data = _library(i)
            info = tarfile.TarInfo(f"{TOP}/library/img{i}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _header_offset(raw: bytes, name: str) -> int:
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as tar:
        return tar.getmember(name).offset


def _read(tmp_path: Path, body: bytes) -> int:
    path = tmp_path / "archive.tar.gz"
    path.write_bytes(body)
    return len(read_library_archive(path).files)


def test_intact_archive_yields_every_file(tmp_path: Path) -> None:
    assert _read(tmp_path, gzip.compress(_tar(50))) == 50


def test_corrupt_header_mid_archive_is_not_taken_for_the_end(tmp_path: Path) -> None:
    raw = bytearray(_tar(50))
    offset = _header_offset(bytes(raw), f"{TOP}/library/img24")
    raw[offset + 148 : offset + 156] = b"9999999\0"  # the header's checksum field (octal)
    with pytest.raises(FeedError, match="is damaged: unreadable tar header") as caught:
        _read(tmp_path, gzip.compress(bytes(raw)))
    assert "\n" not in str(caught.value)


def test_wrong_gzip_crc_is_detected(tmp_path: Path) -> None:
    body = bytearray(gzip.compress(_tar(50)))
    body[-8] ^= 0xFF  # the CRC-32 trailer; the deflate data itself is intact
    with pytest.raises(FeedError, match="CRC check failed"):
        _read(tmp_path, bytes(body))


def test_gzip_without_its_trailer_is_detected(tmp_path: Path) -> None:
    body = gzip.compress(_tar(50))[:-8]
    with pytest.raises(FeedError, match="ended before the end-of-stream marker"):
        _read(tmp_path, body)


def test_tar_without_end_of_archive_blocks_is_refused(tmp_path: Path) -> None:
    raw = _tar(50).rstrip(b"\0")
    raw += b"\0" * (-len(raw) % tarfile.BLOCKSIZE)  # the last member's padding stays
    with pytest.raises(FeedError, match="lacks the end-of-archive marker"):
        _read(tmp_path, gzip.compress(raw))


# -- the store keeps the good catalog ----------------------------------------------------------


def _server(body: dict[str, bytes]) -> AbstractContextManager[Server]:
    """Serves ``body["value"]`` at /a.tar.gz (swap the value to change the archive)."""
    return serve({"/a.tar.gz": lambda _h: Reply(200, body["value"])})


def test_much_smaller_library_is_refused_unless_forced(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    body = {"value": gzip.compress(_tar(50))}
    with _server(body) as srv:
        url = f"{srv.url}/a.tar.gz"
        assert update_library(cache, url).meta.files == 50
        before = load_library(cache).root
        body["value"] = gzip.compress(_tar(20))  # complete, but 40% of what is installed
        with pytest.raises(FeedError, match="only 20 library files, the installed catalog 50"):
            update_library(cache, url, force=False)
        assert load_library(cache).root == before and len(load_library(cache).names()) == 50
        assert update_library(cache, url, force=True).meta.files == 20
    assert len(load_library(cache).names()) == 20


def test_damaged_download_keeps_the_installed_catalog(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    body = {"value": gzip.compress(_tar(50))}
    with _server(body) as srv:
        url = f"{srv.url}/a.tar.gz"
        update_library(cache, url)
        before = load_library(cache).root
        raw = bytearray(_tar(50))
        offset = _header_offset(bytes(raw), f"{TOP}/library/img40")
        raw[offset + 148 : offset + 156] = b"9999999\0"
        body["value"] = gzip.compress(bytes(raw))
        with pytest.raises(FeedError, match="damaged"):
            update_library(cache, url, force=True)
    assert load_library(cache).root == before
    assert sorted(p.name for p in store_dir(cache).iterdir() if p.name.startswith(".")) == []


def test_nested_meta_json_is_reported_as_unreadable(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with _server({"value": gzip.compress(_tar(3))}) as srv:
        update_library(cache, f"{srv.url}/a.tar.gz")
    meta = load_library(cache).root / "meta.json"
    meta.write_bytes(b"[" * 200_000)
    with pytest.raises(LibraryMissingError, match="unreadable: meta.json is not valid JSON"):
        load_library(cache)


# -- URLs: plain HTTP only to loopback or listed hosts; credentials never shown ----------------


def _requests(server: Server) -> list[str]:
    return [path for path, _ in server.requests]


def test_plain_http_to_a_non_loopback_host_is_refused(tmp_path: Path) -> None:
    with _server({"value": gzip.compress(_tar(3))}) as srv:
        port = srv.url.rsplit(":", 1)[1]
        url = f"http://0.0.0.0:{port}/a.tar.gz"
        with pytest.raises(UsageError, match=r"refusing plain HTTP to 0\.0\.0\.0"):
            update_library(tmp_path / "cache", url)
        assert _requests(srv) == []
        result = update_library(tmp_path / "cache", url, insecure=frozenset({"0.0.0.0"}))
        assert result.meta.files == 3 and _requests(srv) == ["/a.tar.gz"]


def test_redirect_to_plain_http_elsewhere_is_refused(tmp_path: Path) -> None:
    with _server({"value": gzip.compress(_tar(3))}) as target:
        port = target.url.rsplit(":", 1)[1]
        hop = {"/r": lambda _h: Reply(302, headers={"Location": f"http://0.0.0.0:{port}/a.tar.gz"})}
        with serve(hop) as redirector, pytest.raises(UsageError, match="refusing plain HTTP"):
            update_library(tmp_path / "cache", f"{redirector.url}/r")
        assert _requests(target) == []
    assert not any(p.name.startswith(".download") for p in store_dir(tmp_path / "cache").iterdir())


def test_credentials_in_the_catalog_url_are_never_stored_or_shown(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    body = {"value": gzip.compress(_tar(3))}
    with _server(body) as srv:
        url = srv.url.replace("http://", "http://alice:s3cret@") + "/a.tar.gz"
        result = update_library(cache, url)
        assert result.meta.source == srv.url.replace("http://", "http://***@") + "/a.tar.gz"
        assert "s3cret" not in (load_library(cache).root / "meta.json").read_text()
        assert srv.requests[0][1]["authorization"] == "Basic YWxpY2U6czNjcmV0"  # alice:s3cret
        with pytest.raises(FeedError) as caught:
            update_library(cache, url.replace("/a.tar.gz", "/missing.tar.gz"))
    assert "HTTP 404" in str(caught.value) and "s3cret" not in str(caught.value)


def test_cli_refuses_a_plain_http_catalog_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with _server({"value": gzip.compress(_tar(3))}) as srv:
        port = srv.url.rsplit(":", 1)[1]
        monkeypatch.setenv("IMAGETRUST_CATALOG_URL", f"http://0.0.0.0:{port}/a.tar.gz")
        assert main(["catalog", "update"]) == 1
        err = capsys.readouterr().err
        assert err.startswith("imagetrust: error: refusing plain HTTP to 0.0.0.0")
        assert len(err.strip().splitlines()) == 1 and _requests(srv) == []

        monkeypatch.setenv("IMAGETRUST_INSECURE_REGISTRIES", "0.0.0.0")
        assert main(["catalog", "update"]) == 0
        assert "catalog updated: 3 library files" in capsys.readouterr().out
        assert _requests(srv) == ["/a.tar.gz"]
