"""DaemonClient against podman's Docker-Engine-API service (real daemon, private storage)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import pytest

from imagetrust.errors import NetworkError, NotFoundError
from imagetrust.image.model import Platform
from imagetrust.source.daemon import DaemonClient
from tests.conftest import REPO_ROOT
from tests.source.daemon.conftest import DaemonWorld


@pytest.fixture
def client(world: DaemonWorld) -> DaemonClient:
    return DaemonClient(world.podman.socket)


def test_ping_and_version(client: DaemonClient) -> None:
    client.ping()
    version = client.version()
    assert version["ApiVersion"] == "1.41"  # podman 4.3 serves Docker API 1.41


def test_list_images_shows_every_pulled_image(world: DaemonWorld, client: DaemonClient) -> None:
    rows = {row.image_id: row for row in client.list_images()}
    base = rows[world.config_digest("base")]
    assert "docker.io/library/debian:12" in base.repo_tags
    assert f"{world.host}/library/debian:12" in base.repo_tags
    assert base.size > 100_000_000
    app = rows[world.config_digest("app")]
    assert "localhost/localonly/app:1" in app.repo_tags  # podman puts short names under localhost/


def test_inspect_fields(world: DaemonWorld, client: DaemonClient) -> None:
    info = client.inspect("docker.io/library/debian:12")
    config = world.fx.config("base")
    assert info.image_id == world.config_digest("base")
    assert f"docker.io/library/debian@{world.fx.manifest_digest('base')}" in info.repo_digests
    expected_created = dt.datetime.fromisoformat(str(config["created"]))
    assert info.created is not None
    assert abs((info.created - expected_created).total_seconds()) < 1e-3
    assert info.platform == Platform("linux", "amd64")


def test_inspect_by_image_id(world: DaemonWorld, client: DaemonClient) -> None:
    assert client.inspect(world.config_digest("app")).image_id == world.config_digest("app")


def test_podman_keeps_several_repo_digests(world: DaemonWorld, client: DaemonClient) -> None:
    info = client.inspect(f"{world.host}/myapp:1.0")
    assert {
        f"{world.host}/myapp@{world.fx.manifest_digest('app')}",
        f"{world.host}/myapp@{world.v2s2_digest}",
    } <= set(info.repo_digests)


def test_inspect_missing_image_is_a_one_line_not_found(client: DaemonClient) -> None:
    with pytest.raises(NotFoundError) as caught:
        client.inspect("docker.io/library/nosuch:1")
    message = str(caught.value)
    assert "nosuch:1 is not in the local image cache" in message
    assert "\n" not in message


def test_unreachable_socket_is_a_network_error(tmp_path: Path) -> None:
    with DaemonClient(tmp_path / "absent.sock") as client, pytest.raises(NetworkError) as caught:
        client.ping()
    assert f"unix://{tmp_path / 'absent.sock'}" in str(caught.value)


def test_export_is_a_docker_save_tarball(world: DaemonWorld, client: DaemonClient,
                                         tmp_path: Path) -> None:
    target = tmp_path / "out.tar"
    with target.open("wb") as handle:
        written = client.export(world.config_digest("app"), handle)
    assert written == target.stat().st_size
    with tarfile.open(target) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
    assert manifest[0]["Config"].removesuffix(".json") == world.config_digest("app").split(":")[1]
    assert len(manifest[0]["Layers"]) == len(world.diff_ids("app"))


def test_export_keeps_memory_bounded(world: DaemonWorld, tmp_path: Path) -> None:
    """Exporting a 120 MB image must not grow the process by anything near the image size."""
    script = textwrap.dedent(
        """
        import json, resource, sys
        from imagetrust.source.daemon import DaemonClient
        client = DaemonClient(sys.argv[1])
        client.ping()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        with open(sys.argv[3], "wb") as handle:
            written = client.export(sys.argv[2], handle)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({"written": written, "growth_kib": after - before}))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(world.podman.socket), world.config_digest("base"),
         str(tmp_path / "export.tar")],
        capture_output=True, text=True, check=True, cwd=REPO_ROOT, timeout=300,
    )
    result = json.loads(out.stdout)
    assert result["written"] > 100_000_000
    assert result["growth_kib"] * 1024 < 32 * 1024 * 1024  # well below the ~120 MB image


def test_tcp_loopback_daemon(world: DaemonWorld, tmp_path: Path) -> None:
    """DOCKER_HOST=tcp://127.0.0.1:PORT reaches a daemon over plain HTTP."""
    from imagetrust.source.daemon.discovery import parse_docker_host
    from tests.support.podman import start_podman_service
    from tests.support.registry import free_port

    service = start_podman_service(world.podman.root, [world.host], tcp_port=free_port(),
                                   name="tcp")
    try:
        with DaemonClient(parse_docker_host(service.docker_host)) as client:
            client.ping()
            info = client.inspect("docker.io/library/debian:12")
            assert info.image_id == world.config_digest("base")
            target = tmp_path / "tcp.tar"
            with target.open("wb") as handle:
                assert client.export(info.image_id, handle) > 100_000_000
    finally:
        service.stop()
