"""Docker Hub badge client against unsafe URLs and hostile answers.

MOCKED like tests/assess/test_hub.py: a local http.server on 127.0.0.1 stands in for Hub's search
API. 0.0.0.0 stands in for a non-loopback host: it reaches this machine, so a request that must
not be sent would visibly arrive.
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from imagetrust.assess.hub import SEARCH_PATH, HubClient
from imagetrust.config import load_settings
from imagetrust.errors import UsageError
from tests.assess.httpserver import Reply, Server, serve

ANSWER = json.dumps(
    {"results": [{"slug": "bitnami/nginx", "badge": "verified_publisher",
                  "publisher": {"name": "VMware"}}]}
).encode()
BOMB = b'{"results": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"


def _hub(body: bytes = ANSWER) -> AbstractContextManager[Server]:
    return serve({SEARCH_PATH: lambda _h: Reply(200, body, {"Content-Type": "application/json"})})


def _port(server: Server) -> str:
    return server.url.rsplit(":", 1)[1]


def test_plain_http_hub_url_to_a_non_loopback_host_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _hub() as hub:
        monkeypatch.setenv("IMAGETRUST_HUB_URL", f"http://0.0.0.0:{_port(hub)}")
        with pytest.raises(UsageError, match=r"refusing plain HTTP to 0\.0\.0\.0"):
            HubClient.from_settings(load_settings())
        assert hub.requests == []

        monkeypatch.setenv("IMAGETRUST_INSECURE_REGISTRIES", "0.0.0.0")
        badge = HubClient.from_settings(load_settings()).badge("bitnami/nginx")
        assert badge.badge == "verified_publisher" and badge.source == "hub-api"
        assert len(hub.requests) == 1


def test_hub_url_with_credentials_is_refused_without_echoing_them(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        HubClient(tmp_path, base_url="http://alice:s3cret@127.0.0.1:9")
    assert "s3cret" not in str(caught.value) and "credentials" in str(caught.value)


def test_redirect_to_plain_http_elsewhere_is_not_followed(tmp_path: Path) -> None:
    with _hub() as target:
        location = f"http://0.0.0.0:{_port(target)}{SEARCH_PATH}"
        hop = {SEARCH_PATH: lambda _h: Reply(302, headers={"Location": location})}
        with serve(hop) as hub:
            badge = HubClient(tmp_path, base_url=hub.url).badge("bitnami/nginx")
        assert badge.badge == "unknown" and badge.source == "error"
        assert target.requests == []


def test_nesting_bomb_answer_gives_an_unknown_badge(tmp_path: Path) -> None:
    with _hub(BOMB) as hub:
        badge = HubClient(tmp_path, base_url=hub.url).badge("bitnami/nginx")
    assert badge.badge == "unknown"
    assert "not valid JSON: nested too deeply" in badge.detail


def test_nesting_bomb_in_the_cache_is_ignored(tmp_path: Path) -> None:
    with _hub() as hub:
        client = HubClient(tmp_path, base_url=hub.url)
        assert client.badge("bitnami/nginx").source == "hub-api"
        cached = next((tmp_path / "hub-badges").glob("*.json"))
        cached.write_bytes(BOMB)
        again = HubClient(tmp_path, base_url=hub.url).badge("bitnami/nginx")
        assert again.badge == "verified_publisher" and again.source == "hub-api"
        assert len(hub.requests) == 2  # the damaged entry was re-fetched, not trusted
