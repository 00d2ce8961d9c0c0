"""Local-first resolution seen from the CLI: every output says which copy was read."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.source.daemon.conftest import DaemonWorld


def run(
    world: DaemonWorld, *args: str, docker_host: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DOCKER_HOST": docker_host or world.podman.docker_host}
    return subprocess.run(
        [sys.executable, "-m", "imagetrust", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def test_plain_reference_reads_the_local_image_first(world: DaemonWorld) -> None:
    mirror = f"docker.io=http://{world.host}"
    result = run(world, "inspect", "--format", "json", "--registry-mirror", mirror, "debian:12")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["origin"] == "local"
    assert data["source"] == "docker-daemon"
    # The local copy is the first build (base), not the rebuild the registry's tag now holds.
    assert data["config_digest"] == world.config_digest("base")
    assert data["local"]["image_id"].endswith(world.config_digest("base").split(":")[1])
    assert data["local"]["repo_digests"]
    assert "local image" in result.stderr


def test_source_registry_reads_the_registry_copy(world: DaemonWorld) -> None:
    mirror = f"docker.io=http://{world.host}"
    result = run(
        world,
        "inspect",
        "--format",
        "json",
        "--source",
        "registry",
        "--registry-mirror",
        mirror,
        "debian:12",
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["origin"] == "registry"
    assert data["config_digest"] == world.config_digest("base-rebuild")


def test_no_daemon_auto_falls_back_with_a_note_local_fails(world: DaemonWorld) -> None:
    mirror = f"docker.io=http://{world.host}"
    gone = "unix:///nonexistent/docker.sock"
    auto = run(
        world,
        "inspect",
        "--format",
        "json",
        "--registry-mirror",
        mirror,
        "debian:12",
        docker_host=gone,
    )
    assert auto.returncode == 0, auto.stderr
    assert json.loads(auto.stdout)["origin"] == "registry"
    notes = [line for line in auto.stderr.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "using the registry" in notes[0]

    local = run(world, "inspect", "--source", "local", "debian:12", docker_host=gone)
    assert local.returncode == 1
    lines = [line for line in local.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("imagetrust: error:")


def test_docker_daemon_transport_and_local_only_image(world: DaemonWorld) -> None:
    result = run(world, "sbom", "--format", "json", "docker-daemon:localonly/app:1")
    assert result.returncode == 0, result.stderr
    names = {p["name"] for p in json.loads(result.stdout)["packages"]}
    assert "jq" in names  # the app layer's apt-installed package


def test_sbom_honours_source_and_says_which_copy_it_read(world: DaemonWorld) -> None:
    mirror = f"docker.io=http://{world.host}"
    local = run(world, "sbom", "--format", "json", "--registry-mirror", mirror, "debian:12")
    assert local.returncode == 0, local.stderr
    assert "local image" in local.stderr
    remote = run(
        world, "sbom", "--format", "json", "--source", "registry", "--registry-mirror", mirror,
        "debian:12",
    )
    assert remote.returncode == 0, remote.stderr
    assert "local image" not in remote.stderr
    assert json.loads(remote.stdout)["packages"]
