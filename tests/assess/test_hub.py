"""Docker Hub badge client.

MOCKED: Docker Hub's web API (``/api/search/v3/catalog/search``) cannot be reached from here, so
a local http.server on 127.0.0.1 answers with canned JSON shaped like Hub's search results. This is
the only mocked service in the assess tests.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from imagetrust.assess.hub import HubClient
from imagetrust.config import load_settings
from tests.assess.httpserver import Reply, Server, serve

HUB_RESULTS = {
    "bitnami/nginx": {"badge": "verified_publisher", "publisher": {"id": "x", "name": "VMware"}},
    "grafana/grafana": {"badge": "open_source", "publisher": {"id": "y", "name": "Grafana Labs"}},
    "someuser/app": {"badge": "none", "publisher": {"id": "z", "name": "someuser"}},
}


def hub_search(handler: BaseHTTPRequestHandler) -> Reply:
    query = parse_qs(urlsplit(handler.path).query).get("query", [""])[0]
    results = [
        {
            "id": name,
            "name": name,
            "slug": name,
            "type": "image",
            "short_description": "",
            "star_count": 1,
            **fields,
        }
        for name, fields in HUB_RESULTS.items()
        if query in name
    ]
    # Hub's search is fuzzy: add a near miss that must not be mistaken for the repository.
    results.append({"id": f"{query}-fork", "name": f"{query}-fork", "slug": f"{query}-fork",
                    "badge": "verified_publisher", "type": "image"})
    body = json.dumps({"total": len(results), "results": results}).encode()
    return Reply(200, body, {"Content-Type": "application/json"})


@pytest.fixture
def hub() -> Iterator[Server]:
    with serve({"/api/search/v3/catalog/search": hub_search}) as server:
        yield server


def _searches(server: Server) -> int:
    return sum(1 for path, _ in server.requests if path.startswith("/api/search/"))


def test_badges_from_hub_then_from_cache(tmp_path: Path, hub: Server) -> None:
    client = HubClient(tmp_path / "cache", base_url=hub.url)

    verified = client.badge("bitnami/nginx")
    assert (verified.badge, verified.source, verified.publisher) == (
        "verified_publisher", "hub-api", "VMware")
    assert client.badge("grafana/grafana").badge == "open_source"
    assert client.badge("docker.io/someuser/app").badge == "none"
    assert _searches(hub) == 3

    again = HubClient(tmp_path / "cache", base_url=hub.url).badge("bitnami/nginx")
    assert (again.badge, again.source) == ("verified_publisher", "cache")
    assert _searches(hub) == 3


def test_cache_expires_after_ttl(tmp_path: Path, hub: Server) -> None:
    client = HubClient(tmp_path / "cache", base_url=hub.url, ttl=timedelta(hours=1))
    start = datetime.now(UTC)
    client.badge("bitnami/nginx", now=start)
    client.badge("bitnami/nginx", now=start + timedelta(minutes=30))
    assert _searches(hub) == 1
    refreshed = client.badge("bitnami/nginx", now=start + timedelta(hours=2))
    assert refreshed.source == "hub-api"
    assert _searches(hub) == 2


def test_offline_is_unknown_without_touching_the_network(tmp_path: Path, hub: Server) -> None:
    client = HubClient(tmp_path / "cache", base_url=hub.url, offline=True)
    result = client.badge("bitnami/nginx")
    assert (result.badge, result.source) == ("unknown", "offline")
    assert "offline" in result.detail
    assert _searches(hub) == 0


def test_offline_with_expired_cache_returns_the_old_answer_marked(
    tmp_path: Path, hub: Server
) -> None:
    HubClient(tmp_path / "cache", base_url=hub.url).badge("bitnami/nginx")
    offline = HubClient(tmp_path / "cache", base_url=hub.url, offline=True, ttl=timedelta(0))
    result = offline.badge("bitnami/nginx", now=datetime.now(UTC) + timedelta(days=3))
    assert (result.badge, result.source) == ("verified_publisher", "cache")
    assert "not refreshed" in result.detail


def test_errors_are_unknown_and_not_cached(tmp_path: Path) -> None:
    state = {"status": 500}

    def flaky(_handler: BaseHTTPRequestHandler) -> Reply:
        if state["status"] == 200:
            return Reply(200, b"{not json", {"Content-Type": "application/json"})
        return Reply(state["status"], b"oops")

    with serve({"/api/search/v3/catalog/search": flaky}) as server:
        client = HubClient(tmp_path / "cache", base_url=server.url)
        failed = client.badge("bitnami/nginx")
        assert (failed.badge, failed.source) == ("unknown", "error")
        assert "HTTP 500" in failed.detail
        state["status"] = 200
        garbled = client.badge("bitnami/nginx")
        assert garbled.badge == "unknown"
        assert "JSON" in garbled.detail
        assert len(server.requests) == 2  # nothing was cached
    assert not list((tmp_path / "cache").rglob("*.json"))


def test_unreachable_hub_and_missing_repository(tmp_path: Path, hub: Server) -> None:
    with serve({}) as gone:
        dead_url = gone.url
    down = HubClient(tmp_path / "cache", base_url=dead_url, timeout=5).badge("bitnami/nginx")
    assert (down.badge, down.source) == ("unknown", "error")

    missing = HubClient(tmp_path / "cache", base_url=hub.url).badge("nobody/nothing")
    assert missing.badge == "unknown"  # only a fuzzy near miss came back
    assert "not found" in missing.detail


def test_from_settings_uses_env_url_and_offline(tmp_path: Path, hub: Server) -> None:
    settings = load_settings(cache_dir=tmp_path / "cache", offline=True)
    client = HubClient.from_settings(settings, environ={"IMAGETRUST_HUB_URL": hub.url})
    assert client.base_url == hub.url
    assert client.offline
    assert client.badge("bitnami/nginx").badge == "unknown"
