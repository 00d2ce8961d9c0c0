"""Local-first resolution with and without a daemon (podman's API service, a real registry)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from imagetrust.config import Settings, load_settings
from imagetrust.errors import NetworkError, NotFoundError, UsageError
from imagetrust.image.model import Platform
from imagetrust.image.open import open_image
from imagetrust.reference import parse_reference, parse_target
from imagetrust.source.daemon import DaemonSource
from imagetrust.source.resolve import ResolvedSource, resolve_source, source_mode
from tests.source.daemon.conftest import DaemonWorld

NO_DAEMON = "unix:///nonexistent"


@pytest.fixture
def settings(world: DaemonWorld) -> Settings:
    return load_settings(registry_mirrors=[f"docker.io={world.registry.url}"])


@pytest.fixture
def daemon_env(world: DaemonWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", world.podman.docker_host)


@pytest.fixture
def opened() -> Iterator[list[ResolvedSource]]:
    made: list[ResolvedSource] = []
    yield made
    for resolved in made:
        resolved.close()


def _resolve(opened: list[ResolvedSource], target: str, settings: Settings,
             mode: str | None = None) -> ResolvedSource:
    resolved = resolve_source(parse_target(target), settings, mode)
    opened.append(resolved)
    return resolved


@pytest.mark.usefixtures("daemon_env")
def test_auto_prefers_the_local_image(world: DaemonWorld, settings: Settings,
                                      opened: list[ResolvedSource]) -> None:
    resolved = _resolve(opened, "debian:12", settings)
    assert resolved.origin == "local"
    assert isinstance(resolved.source, DaemonSource)
    assert resolved.local is not None
    assert resolved.local.image_id == world.config_digest("base")
    assert resolved.note is not None and "local image debian:12" in resolved.note
    image = open_image(resolved.source, reference="docker.io/library/debian:12")
    assert image.config.digest == world.config_digest("base")  # not the registry's rebuild


@pytest.mark.usefixtures("daemon_env")
def test_local_info_supports_freshness(world: DaemonWorld, settings: Settings,
                                       opened: list[ResolvedSource]) -> None:
    local = _resolve(opened, "debian:12", settings).local
    assert local is not None
    ref = parse_reference("debian:12")
    assert local.is_current(ref, world.fx.manifest_digest("base"))
    assert not local.is_current(ref, world.fx.manifest_digest("base-rebuild"))
    now = _resolve(opened, "debian:12", settings, "registry").source.root().digest
    assert now == world.fx.manifest_digest("base-rebuild")
    assert not local.is_current(ref, now)


@pytest.mark.usefixtures("daemon_env")
def test_several_repo_digests_all_count(world: DaemonWorld, settings: Settings,
                                        opened: list[ResolvedSource]) -> None:
    resolved = _resolve(opened, f"{world.host}/myapp:1.0", settings)
    assert resolved.local is not None
    ref = parse_reference(f"{world.host}/myapp:1.0")
    assert set(resolved.local.digests_for(ref)) == {
        world.fx.manifest_digest("app"), world.v2s2_digest}
    # pinned by either digest, the same local image is found
    for digest in (world.fx.manifest_digest("app"), world.v2s2_digest):
        pinned = _resolve(opened, f"{world.host}/myapp@{digest}", settings)
        assert pinned.origin == "local"
        assert pinned.local is not None
        assert pinned.local.image_id == world.config_digest("app")


@pytest.mark.usefixtures("daemon_env")
def test_only_local_image(world: DaemonWorld, settings: Settings,
                          opened: list[ResolvedSource]) -> None:
    resolved = _resolve(opened, "localonly/app:1", settings)
    assert resolved.origin == "local"
    assert resolved.local is not None
    assert resolved.local.image_id == world.config_digest("app")
    assert "localhost/localonly/app:1" in resolved.local.repo_tags


@pytest.mark.usefixtures("daemon_env")
def test_auto_falls_back_when_the_daemon_lacks_the_image(
    world: DaemonWorld, settings: Settings, opened: list[ResolvedSource]
) -> None:
    resolved = _resolve(opened, f"{world.host}/myapp:1.0-v2s2-missing", settings)
    assert resolved.origin == "registry"
    assert resolved.note is not None
    assert "is not in the local image cache" in resolved.note
    assert resolved.note.endswith("using the registry")


@pytest.mark.usefixtures("daemon_env")
def test_local_mode_requires_the_image(settings: Settings) -> None:
    with pytest.raises(NotFoundError, match="nosuch:1 is not in the local image cache"):
        resolve_source(parse_target("nosuch:1"), settings, "local")


@pytest.mark.usefixtures("daemon_env")
def test_registry_mode_never_asks_the_daemon(world: DaemonWorld, settings: Settings,
                                            opened: list[ResolvedSource]) -> None:
    resolved = _resolve(opened, "debian:12", settings, "registry")
    assert resolved.origin == "registry"
    assert resolved.local is None
    assert resolved.source.root().digest == world.fx.manifest_digest("base-rebuild")


@pytest.mark.usefixtures("daemon_env")
def test_environment_selects_the_mode(settings: Settings, monkeypatch: pytest.MonkeyPatch,
                                      opened: list[ResolvedSource]) -> None:
    monkeypatch.setenv("IMAGETRUST_SOURCE", "registry")
    assert _resolve(opened, "debian:12", settings).origin == "registry"
    monkeypatch.setenv("IMAGETRUST_SOURCE", "local")
    assert _resolve(opened, "debian:12", settings).origin == "local"


@pytest.mark.usefixtures("daemon_env")
def test_explicit_transport_is_always_local(world: DaemonWorld, settings: Settings,
                                            opened: list[ResolvedSource]) -> None:
    resolved = _resolve(opened, "docker-daemon:localonly/app:1", settings, "registry")
    assert resolved.origin == "local"
    assert resolved.source.kind == "docker-daemon"
    assert resolved.local is not None
    assert resolved.local.image_id == world.config_digest("app")


@pytest.mark.usefixtures("daemon_env")
def test_auto_uses_the_registry_for_another_platform(
    world: DaemonWorld, settings: Settings, opened: list[ResolvedSource]
) -> None:
    arm = settings.with_overrides(platform=Platform("linux", "arm64"))
    resolved = _resolve(opened, f"{world.host}/myapp:1.0", arm)
    assert resolved.origin == "registry"
    assert resolved.note is not None and "is linux/amd64, not linux/arm64" in resolved.note


def test_auto_without_daemon_uses_the_registry(
    world: DaemonWorld, settings: Settings, monkeypatch: pytest.MonkeyPatch,
    opened: list[ResolvedSource],
) -> None:
    monkeypatch.setenv("DOCKER_HOST", NO_DAEMON)
    resolved = _resolve(opened, "debian:12", settings)
    assert resolved.origin == "registry"
    assert resolved.note == f"no Docker daemon reachable at {NO_DAEMON}; using the registry"
    assert resolved.source.root().digest == world.fx.manifest_digest("base-rebuild")


def test_local_mode_without_daemon_fails_clearly(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", NO_DAEMON)
    with pytest.raises(NetworkError) as caught:
        resolve_source(parse_target("debian:12"), settings, "local")
    assert str(caught.value).startswith(f"no Docker daemon reachable at {NO_DAEMON};")
    with pytest.raises(NetworkError):
        resolve_source(parse_target("docker-daemon:debian:12"), settings, "auto")


def test_default_sockets_are_searched(
    world: DaemonWorld, settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    opened: list[ResolvedSource],
) -> None:
    (tmp_path / "podman").mkdir()
    (tmp_path / "podman" / "podman.sock").symlink_to(world.podman.socket)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    resolved = _resolve(opened, "debian:12", settings)
    assert resolved.origin == "local"
    assert resolved.note is not None and str(tmp_path / "podman" / "podman.sock") in resolved.note


def test_unsupported_docker_host_falls_back_in_auto_only(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, opened: list[ResolvedSource]
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "ssh://user@build-host")
    resolved = _resolve(opened, "debian:12", settings)
    assert resolved.origin == "registry"
    assert resolved.note is not None and "ssh scheme is not supported" in resolved.note
    with pytest.raises(UsageError):
        resolve_source(parse_target("debian:12"), settings, "local")


def test_source_mode_values() -> None:
    assert source_mode(None, {}) == "auto"
    assert source_mode(None, {"IMAGETRUST_SOURCE": "Registry"}) == "registry"
    assert source_mode("local", {"IMAGETRUST_SOURCE": "registry"}) == "local"
    with pytest.raises(UsageError, match="use auto, local or registry"):
        source_mode("daemon", {})
