"""Suite-wide fixtures: shared test data location and per-test isolated caches.

Nothing here reaches the network: servers the tests need run on 127.0.0.1.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
DEAD_URL = "http://127.0.0.1:9"
"""The discard port: nothing listens there, so a stray request fails at once, locally."""


def shared_data_dir() -> Path:
    """``IMAGETRUST_TEST_DATA`` or ``../shared/data`` next to the checkout."""
    env = os.environ.get("IMAGETRUST_TEST_DATA")
    return Path(env) if env else (REPO_ROOT.parent / "shared" / "data")


@pytest.fixture(scope="session")
def test_data() -> Path:
    """The real public test data; tests that need it skip with the reason when it is absent."""
    path = shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"shared test data not found at {path} (set IMAGETRUST_TEST_DATA)")
    return path


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test gets its own cache and config so no test sees another's state or the user's."""
    monkeypatch.setenv("IMAGETRUST_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("IMAGETRUST_CONFIG", str(tmp_path / "no-config.toml"))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    # Every internet default points at a closed loopback port, so no test can reach out even by
    # mistake; tests that need a server start one on 127.0.0.1 and override these.
    for name in (
        "IMAGETRUST_HUB_URL",
        "IMAGETRUST_FEED_BASE_URL",
        "IMAGETRUST_NVD_URL",
        "IMAGETRUST_CATALOG_URL",
        "IMAGETRUST_DOCKER_HUB_URL",
    ):
        monkeypatch.setenv(name, DEAD_URL)
    monkeypatch.delenv("IMAGETRUST_FEED_URLS", raising=False)
    monkeypatch.delenv("NVD_API_KEY", raising=False)
    for name in (
        "IMAGETRUST_REGISTRY_MIRRORS",
        "IMAGETRUST_INSECURE_REGISTRIES",
        "IMAGETRUST_DB",
        "IMAGETRUST_PLATFORM",
        "IMAGETRUST_OFFLINE",
        "IMAGETRUST_SOURCE",
        "DOCKER_HOST",
    ):
        monkeypatch.delenv(name, raising=False)
    # One run per test: an endpoint that went dead in one test stays usable in the next.
    from imagetrust.http.breaker import run_scope

    with run_scope():
        yield


@pytest.fixture(scope="session")
def images() -> object:
    """Real images built by the suite from Debian packages (debootstrap + umoci + skopeo).

    Built once and cached between runs (see tests/support/images.py); concurrent runs wait on a
    lock instead of building twice.
    """
    from tests.support.images import fixture_images

    return fixture_images()


@pytest.fixture(scope="session")
def fixture_registry(images: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """One real registry (no auth, 127.0.0.1) holding every fixture image, shared by the session.

    Yields ``(server, pushed)``: the RegistryServer and push_fixtures' name → reference map.
    """
    from tests.support.images import push_fixtures
    from tests.support.registry import start_registry

    server = start_registry(tmp_path_factory.mktemp("fixture-registry"), "none")
    try:
        yield server, push_fixtures(images, server.host)  # type: ignore[arg-type]
    finally:
        server.stop()
