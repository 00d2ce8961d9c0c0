"""DaemonSource: the exported image is the fixture image, and exports are cached by image ID."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from imagetrust.errors import NotFoundError
from imagetrust.image.model import Descriptor
from imagetrust.image.open import open_image
from imagetrust.source.daemon import DaemonClient, DaemonSource
from imagetrust.source.daemon.exports import ExportCache
from tests.source.daemon.conftest import DaemonWorld


@pytest.fixture
def client(world: DaemonWorld) -> DaemonClient:
    return DaemonClient(world.podman.socket)


def test_opens_the_same_image_as_the_fixture_layout(
    world: DaemonWorld, client: DaemonClient, tmp_path: Path
) -> None:
    with DaemonSource(f"{world.host}/myapp:1.0", client, tmp_path) as source:
        assert source.kind == "docker-daemon"
        image = open_image(source, reference="docker-daemon:myapp")
        assert image.config.digest == world.config_digest("app")
        assert list(image.diff_ids) == world.diff_ids("app")
        assert image.source_kind == "docker-daemon"
        assert f"{world.host}/myapp:1.0" in source.repo_tags()
        assert source.image_id == world.config_digest("app")
        assert f"{world.host}/myapp@{world.v2s2_digest}" in source.repo_digests
        # an exported layer streams as its uncompressed tar, whose sha256 is the diff_id
        last = image.layers[-1]
        descriptor = Descriptor(last.media_type, last.digest, last.size)
        with source.open_blob(descriptor) as stream:
            assert "sha256:" + hashlib.sha256(stream.read()).hexdigest() == last.diff_id


def test_familiar_name_finds_the_docker_io_image(
    world: DaemonWorld, client: DaemonClient, tmp_path: Path
) -> None:
    with DaemonSource("debian:12", client, tmp_path) as source:
        assert source.image_id == world.config_digest("base")


def test_short_name_resolves_to_podman_localhost(
    world: DaemonWorld, client: DaemonClient, tmp_path: Path
) -> None:
    with DaemonSource("localonly/app:1", client, tmp_path) as source:
        assert source.image_id == world.config_digest("app")


def test_missing_image(client: DaemonClient, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="not in the local image cache"):
        DaemonSource("nosuch/image:1", client, tmp_path)
    assert not list(tmp_path.glob("*.tar"))


def test_second_open_reuses_the_export(
    world: DaemonWorld, client: DaemonClient, tmp_path: Path
) -> None:
    name = f"{world.host}/myapp:1.0"
    with DaemonSource(name, client, tmp_path) as first:
        assert first.exported
        path = first.export_path
    inode = path.stat().st_ino
    with DaemonSource("localonly/app:1", client, tmp_path) as second:  # same image, other name
        assert not second.exported
        assert second.export_path == path
    assert path.stat().st_ino == inode
    assert path.name == world.config_digest("app").replace(":", "-") + ".tar"


def test_damaged_cached_export_is_replaced(
    world: DaemonWorld, client: DaemonClient, tmp_path: Path
) -> None:
    cache = ExportCache(tmp_path)
    path = cache.path_for(world.config_digest("base"))
    tmp_path.mkdir(exist_ok=True)
    path.write_bytes(b"not a tar file at all" * 100)
    with DaemonSource("debian:12", client, tmp_path) as source:
        assert source.exported
        image = open_image(source, reference="debian:12")
        assert image.config.digest == world.config_digest("base")


def test_foreign_cached_export_is_replaced(
    world: DaemonWorld, client: DaemonClient, tmp_path: Path
) -> None:
    """A cached file holding another image (wrong name, tampering) is never served."""
    with DaemonSource("debian:12", client, tmp_path) as base:
        base_export = base.export_path
    app_path = ExportCache(tmp_path).path_for(world.config_digest("app"))
    os.link(base_export, app_path)
    with DaemonSource("localonly/app:1", client, tmp_path) as source:
        assert source.exported
        assert open_image(source, reference="x").config.digest == world.config_digest("app")


def test_no_cache_deletes_the_export_on_close(
    world: DaemonWorld, client: DaemonClient, tmp_path: Path
) -> None:
    source = DaemonSource(f"{world.host}/myapp:1.0", client, tmp_path, max_bytes=0)
    path = source.export_path
    assert path.is_file()
    source.close()
    assert not path.exists()
    assert not list(tmp_path.iterdir())


def _fake(digit: str) -> str:
    return "sha256:" + digit * 64


def test_export_cache_evicts_least_recently_used(tmp_path: Path) -> None:
    cache = ExportCache(tmp_path, max_bytes=250)
    for i, digit in enumerate("abc"):
        cache.put(_fake(digit), lambda handle: handle.write(b"x" * 100))
        os.utime(cache.path_for(_fake(digit)), (1000 + i, 1000 + i))
    cache.prune()  # adding c went over the cap: a, the least recently used, went
    assert cache.get(_fake("a")) is None
    assert cache.get(_fake("b")) is not None  # get() marks b as just used
    cache.put(_fake("d"), lambda handle: handle.write(b"x" * 100))
    assert cache.get(_fake("c")) is None  # c was now the least recently used
    assert cache.get(_fake("b")) is not None
    assert cache.get(_fake("d")) is not None


def test_export_cache_failed_write_leaves_nothing(tmp_path: Path) -> None:
    cache = ExportCache(tmp_path)

    def boom(handle: object) -> int:
        raise NotFoundError("gone")

    with pytest.raises(NotFoundError):
        cache.put(_fake("e"), boom)
    assert list(tmp_path.iterdir()) == []


def test_export_cache_refuses_path_like_ids(tmp_path: Path) -> None:
    from imagetrust.errors import ManifestError

    with pytest.raises(ManifestError):
        ExportCache(tmp_path).path_for("sha256:../../etc/passwd")
