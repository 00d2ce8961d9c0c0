"""Challenge parsing, Retry-After, and credential lookup in config.json."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from imagetrust.errors import UsageError
from imagetrust.http.retry import RetryPolicy, parse_retry_after
from imagetrust.source.registry.auth import parse_challenge
from imagetrust.source.registry.credentials import Credentials, CredentialStore


def test_docker_hub_challenge() -> None:
    # The header Docker Hub sends (docs.docker.com, "Token authentication specification").
    header = (
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
        'scope="repository:samalba/my-app:pull,push"'
    )
    challenge = parse_challenge(header)
    assert challenge.scheme == "bearer"
    assert challenge.realm == "https://auth.docker.io/token"
    assert dict(challenge.params) == {
        "realm": "https://auth.docker.io/token",
        "service": "registry.docker.io",
        "scope": "repository:samalba/my-app:pull,push",
    }


def test_basic_challenge() -> None:
    challenge = parse_challenge('Basic realm="Registry Realm"')
    assert (challenge.scheme, challenge.realm) == ("basic", "Registry Realm")


def test_retry_after_forms() -> None:
    now = datetime(2015, 10, 21, 7, 28, 0, tzinfo=UTC)
    assert parse_retry_after("120") == 120.0
    # RFC 9110 example date, 60 s after `now`.
    assert parse_retry_after("Wed, 21 Oct 2015 07:29:00 GMT", now) == 60.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
    policy = RetryPolicy(attempts=4, backoff=0.5, max_wait=3.0)
    assert [policy.delay(n, None) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 3.0]
    assert policy.delay(1, "2") == 2.0


def _store(tmp_path: Path, config: dict[str, object]) -> CredentialStore:
    (tmp_path / "config.json").write_text(json.dumps(config))
    return CredentialStore(tmp_path)


def test_docker_hub_key_and_precedence(tmp_path: Path) -> None:
    hub = base64.b64encode(b"hubuser:hubpass").decode()
    store = _store(
        tmp_path,
        {"auths": {"https://index.docker.io/v1/": {"auth": hub}, "ghcr.io": {"auth": "Zzp4"}}},
    )
    assert store.get("docker.io") == Credentials("hubuser", "hubpass")
    assert store.get("registry-1.docker.io") == Credentials("hubuser", "hubpass")
    assert store.get("ghcr.io") == Credentials("g", "x")
    assert store.get("quay.io") is None


def test_secret_not_in_repr() -> None:
    assert "hunter2" not in repr(Credentials("me", "hunter2"))


def test_missing_config_is_anonymous(tmp_path: Path) -> None:
    assert CredentialStore(tmp_path / "nowhere").get("docker.io") is None


def test_missing_helper_is_anonymous(tmp_path: Path) -> None:
    store = _store(tmp_path, {"credsStore": "definitely-not-installed-xyz"})
    assert store.get("docker.io") is None


@pytest.mark.parametrize(
    "config", ["{not json", json.dumps({"auths": {"h": {"auth": "!!!"}}})], ids=["json", "base64"]
)
def test_broken_config_is_a_usage_error(tmp_path: Path, config: str) -> None:
    (tmp_path / "config.json").write_text(config)
    with pytest.raises(UsageError) as caught:
        CredentialStore(tmp_path).get("h")
    assert "\n" not in str(caught.value)
