"""One registry and one podman API service for the daemon tests (session-scoped, stopped after).

The registry holds library/debian:12 (the fixture ``base``), myapp:1.0 (OCI) and myapp:1.0-v2s2
(the same image converted to Docker schema 2: same config, new manifest digest). podman pulls all
three — so myapp has two RepoDigests — and tags debian:12 as docker.io/library/debian:12 and the
app as localonly/app:1 (never pushed). Afterwards base-rebuild is pushed over library/debian:12,
so the local debian:12 is stale against the registry.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.images import FixtureImages
from tests.support.podman import PodmanService, start_podman_service
from tests.support.registry import DOCKER_MANIFEST, RegistryServer, start_registry


def _skopeo_push(layout: Path, ref: str, dest: str, *extra: str) -> None:
    subprocess.run(
        ["skopeo", "--insecure-policy", "copy", "-q", "--dest-tls-verify=false", *extra,
         f"oci:{layout}:{ref}", f"docker://{dest}"],
        check=True, capture_output=True,
    )


@dataclass(frozen=True)
class DaemonWorld:
    fx: FixtureImages
    registry: RegistryServer
    podman: PodmanService
    v2s2_digest: str  # manifest digest of myapp:1.0-v2s2, hashed from the registry's bytes

    @property
    def host(self) -> str:
        return self.registry.host

    def config_digest(self, ref: str) -> str:
        digest: str = self.fx.manifest(ref)["config"]["digest"]  # type: ignore[index]
        return digest

    def diff_ids(self, ref: str) -> list[str]:
        config: dict[str, Any] = self.fx.config(ref)
        return list(config["rootfs"]["diff_ids"])


@pytest.fixture(scope="session")
def world(images: FixtureImages, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonWorld]:
    registry = start_registry(tmp_path_factory.mktemp("daemon-registry"))
    podman: PodmanService | None = None
    try:
        layout, host = images.layout, registry.host
        _skopeo_push(layout, "base", f"{host}/library/debian:12", "--preserve-digests")
        _skopeo_push(layout, "app", f"{host}/myapp:1.0", "--preserve-digests")
        _skopeo_push(layout, "app", f"{host}/myapp:1.0-v2s2", "--format", "v2s2")
        body = httpx.get(
            f"{registry.url}/v2/myapp/manifests/1.0-v2s2", headers={"Accept": DOCKER_MANIFEST}
        ).content
        v2s2 = "sha256:" + hashlib.sha256(body).hexdigest()

        podman = start_podman_service(tmp_path_factory.mktemp("podman"), [host])
        podman.pull(f"{host}/library/debian:12")
        podman.tag(f"{host}/library/debian:12", "docker.io/library/debian:12")
        podman.pull(f"{host}/myapp:1.0")
        podman.pull(f"{host}/myapp:1.0-v2s2")
        podman.tag(f"{host}/myapp:1.0", "localonly/app:1")
        _skopeo_push(layout, "base-rebuild", f"{host}/library/debian:12", "--preserve-digests")
        yield DaemonWorld(images, registry, podman, v2s2)
    finally:
        if podman is not None:
            podman.stop()
            shutil.rmtree(podman.root, ignore_errors=True)  # vfs: a full copy of every layer
        registry.stop()


@pytest.fixture(autouse=True)
def _drop_exports(tmp_path: Path) -> Iterator[None]:
    """Exports are ~120 MB each; pytest keeps old tmp dirs, so remove them after each test."""
    yield
    for export in tmp_path.rglob("*.tar"):
        export.unlink(missing_ok=True)
