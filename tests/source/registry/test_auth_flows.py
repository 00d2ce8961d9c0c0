"""Basic and bearer authentication against real registries, credentials from DOCKER_CONFIG."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from imagetrust.errors import AuthenticationError
from imagetrust.image.model import Descriptor
from imagetrust.reference.parse import parse_reference
from tests.source.registry.conftest import MakeClient
from tests.support.registry import PushedImage, RegistryServer

pytestmark = pytest.mark.registry
WriteConfig = Callable[[dict[str, Any]], Path]
WRONG = "Wr0ng-s3cret-xyz"


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _pull_everything(client: Any, server: RegistryServer, repo: str) -> None:
    pushed = server.push_image(repo, "1")
    _pull(client, server, repo, pushed)


def _pull(client: Any, server: RegistryServer, repo: str, pushed: PushedImage) -> None:
    ref = parse_reference(f"{server.host}/{repo}:1")
    raw = client.get_manifest(ref)
    assert raw.data == pushed.manifest.data
    layer = pushed.layers[0]
    path = client.fetch_blob(ref, Descriptor(layer.media_type, layer.digest, len(layer.data)))
    assert path.read_bytes() == layer.data


@pytest.mark.parametrize("key_form", ["bare", "url"])
@pytest.mark.parametrize("entry_form", ["auth", "username"])
def test_basic_auth_from_auths(
    basic_registry: RegistryServer,
    make_client: MakeClient,
    docker_config: WriteConfig,
    key_form: str,
    entry_form: str,
) -> None:
    key = basic_registry.host if key_form == "bare" else f"http://{basic_registry.host}/"
    entry = (
        {"auth": _b64("user:pass")}
        if entry_form == "auth"
        else {"username": "user", "password": "pass"}
    )
    docker_config({"auths": {key: entry}})
    client, log = make_client()
    _pull_everything(client, basic_registry, f"basic/{key_form}-{entry_form}")
    assert all(r.headers.get("Authorization", "").startswith("Basic ") for r in log.requests[1:])


def test_bearer_token_from_auths_is_reused(
    token_registry: RegistryServer, make_client: MakeClient, docker_config: WriteConfig
) -> None:
    assert token_registry.token_server is not None
    docker_config({"auths": {token_registry.host: {"auth": _b64("user:pass")}}})
    pushed = token_registry.push_image("bearer/app", "1")
    client, log = make_client()
    before = len(token_registry.token_server.requests)
    _pull(client, token_registry, "bearer/app", pushed)
    client.head_manifest(parse_reference(f"{token_registry.host}/bearer/app:1"))
    issued = token_registry.token_server.requests[before:]
    # One token for the one scope, reused for manifest, blob and HEAD.
    assert len(issued) == 1
    assert issued[0]["scope"] == ["repository:bearer/app:pull"]
    assert issued[0]["service"] == [token_registry.token_server.service]
    registry_requests = [r for r in log.requests if r.url.netloc.decode() == token_registry.host]
    assert [r.headers.get("Authorization", "")[:7] for r in registry_requests][1:] == [
        "Bearer "
    ] * (len(registry_requests) - 1)


@pytest.mark.parametrize("fixture", ["basic_registry", "token_registry"])
def test_wrong_credentials(
    request: pytest.FixtureRequest,
    make_client: MakeClient,
    docker_config: WriteConfig,
    fixture: str,
) -> None:
    server: RegistryServer = request.getfixturevalue(fixture)
    server.push_image("wrong/creds", "1")
    docker_config({"auths": {server.host: {"auth": _b64(f"user:{WRONG}")}}})
    client, _ = make_client()
    with pytest.raises(AuthenticationError) as caught:
        client.get_manifest(parse_reference(f"{server.host}/wrong/creds:1"))
    message = str(caught.value)
    assert "\n" not in message
    assert WRONG not in message and WRONG not in repr(caught.value)
    assert _b64(f"user:{WRONG}") not in message
    assert server.host in message and "wrong/creds" in message
    assert "docker login" in message


def test_missing_credentials_say_so(
    basic_registry: RegistryServer, make_client: MakeClient
) -> None:
    client, _ = make_client()
    with pytest.raises(AuthenticationError, match="no credentials"):
        client.get_manifest(parse_reference(f"{basic_registry.host}/wrong/creds:1"))


def _helper(tmp_path: Path, name: str, host: str) -> Path:
    """A docker-credential-NAME script answering for ``host`` and logging what it was asked."""
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    script = bindir / f"docker-credential-{name}"
    script.write_text(
        "#!/bin/sh\n"
        f'read -r url; echo "$1 $url" >> "{tmp_path}/helper.log"\n'
        f'if [ "$url" = "{host}" ]; then\n'
        f'  printf \'{{"ServerURL":"%s","Username":"user","Secret":"pass"}}\' "$url"\n'
        "else\n  echo 'credentials not found in native keychain'; exit 1\nfi\n"
    )
    script.chmod(0o755)
    return bindir


@pytest.mark.parametrize("style", ["credHelpers", "credsStore"])
def test_credential_helper(
    token_registry: RegistryServer,
    make_client: MakeClient,
    docker_config: WriteConfig,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    style: str,
) -> None:
    bindir = _helper(tmp_path, "test", token_registry.host)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    if style == "credHelpers":
        docker_config({"credHelpers": {token_registry.host: "test"}})
    else:
        docker_config({"credsStore": "test", "auths": {token_registry.host: {}}})
    client, _ = make_client()
    _pull_everything(client, token_registry, f"helper/{style.lower()}")
    assert (tmp_path / "helper.log").read_text().splitlines() == [f"get {token_registry.host}"]
