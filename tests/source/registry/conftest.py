"""Session-wide real registries (anonymous, htpasswd, bearer token) and a client factory."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from imagetrust.config import load_settings
from imagetrust.source.registry import RegistryClient, RetryPolicy
from tests.support.registry import RegistryServer, start_registry

FAST_RETRY = RetryPolicy(attempts=3, backoff=0.01, max_wait=5.0)


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    server = start_registry(tmp_path_factory.mktemp("registry-none"), "none")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def basic_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    server = start_registry(tmp_path_factory.mktemp("registry-basic"), "basic")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def token_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    server = start_registry(tmp_path_factory.mktemp("registry-token"), "token")
    yield server
    server.stop()


class RequestLog:
    """httpx event hook recording every request the client sends."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> None:
        self.requests.append(request)

    @property
    def hosts(self) -> set[str]:
        return {request.url.netloc.decode() for request in self.requests}


MakeClient = Callable[..., tuple[RegistryClient, RequestLog]]


@pytest.fixture
def make_client() -> Iterator[MakeClient]:
    """``make_client(**settings_overrides, retry=…, sleep=…)`` → (client, request log)."""
    made: list[RegistryClient] = []

    def factory(**overrides: Any) -> tuple[RegistryClient, RequestLog]:
        retry = overrides.pop("retry", FAST_RETRY)
        extra = {k: overrides.pop(k) for k in ("sleep",) if k in overrides}
        settings = load_settings().with_overrides(**overrides)
        log = RequestLog()
        client = RegistryClient(settings, retry=retry, event_hooks={"request": [log]}, **extra)
        made.append(client)
        return client, log

    yield factory
    for client in made:
        client.close()


@pytest.fixture
def docker_config(tmp_path: Path) -> Callable[[dict[str, Any]], Path]:
    """Write ``$DOCKER_CONFIG/config.json`` (tests/conftest.py points DOCKER_CONFIG here)."""

    def write(content: dict[str, Any]) -> Path:
        directory = tmp_path / "docker-config"
        directory.mkdir(exist_ok=True)
        path = directory / "config.json"
        path.write_text(json.dumps(content))
        return path

    return write
