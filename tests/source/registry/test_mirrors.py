"""Mirrors keep canonical names; plain HTTP only where it is safe; offline stays offline."""

from __future__ import annotations

import pytest

from imagetrust.errors import NetworkError, UsageError
from imagetrust.image.model import Descriptor
from imagetrust.reference.parse import parse_reference
from imagetrust.source.registry import RegistrySource
from tests.source.registry.conftest import MakeClient
from tests.support.registry import RegistryServer, StaticServer

pytestmark = pytest.mark.registry


def test_docker_hub_reference_served_by_mirror(
    registry: RegistryServer, make_client: MakeClient
) -> None:
    pushed = registry.push_image("library/debian", "12")
    client, log = make_client(registry_mirrors={"docker.io": (registry.url,)}, offline=True)
    ref = parse_reference("debian:12")
    source = RegistrySource(ref, client)
    root = source.root()
    assert root.data == pushed.manifest.data
    layer = pushed.layers[0]
    with source.open_blob(Descriptor(layer.media_type, layer.digest, len(layer.data))) as handle:
        assert handle.read() == layer.data
    assert str(source.ref) == "docker.io/library/debian:12"
    assert source.repo_tags() == ("12",)
    assert log.hosts == {registry.host}


def test_mirror_404_falls_through_to_next(
    registry: RegistryServer, make_client: MakeClient
) -> None:
    pushed = registry.push_image("library/alpine", "3")
    empty = StaticServer({})
    try:
        client, log = make_client(
            registry_mirrors={"docker.io": (empty.url, registry.url)}, offline=True
        )
        raw = client.get_manifest(parse_reference("alpine:3"))
        assert raw.data == pushed.manifest.data
        assert [p for _, p in empty.requests] == ["/v2/library/alpine/manifests/3"]
        assert log.hosts == {empty.host, registry.host}
    finally:
        empty.stop()


def test_offline_without_mirror_contacts_nothing(make_client: MakeClient) -> None:
    client, log = make_client(offline=True)
    with pytest.raises(NetworkError, match="offline"):
        client.get_manifest(parse_reference("debian:12"))
    assert log.requests == []


def test_plain_http_refused_for_non_loopback_mirror(make_client: MakeClient) -> None:
    with pytest.raises(UsageError, match="plain HTTP to mirror.example.com"):
        make_client(registry_mirrors={"docker.io": ("http://mirror.example.com",)})


def test_insecure_host_may_use_plain_http(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("IMAGETRUST_DOCKER_HUB_URL")  # the real Hub endpoint; nothing is contacted
    client, log = make_client(
        registry_mirrors={"docker.io": ("http://mirror.example.com:5000",)},
        insecure_registries=frozenset({"mirror.example.com:5000", "lan.example.com"}),
    )
    hub = [e.base_url for e in client.endpoints(parse_reference("debian:12"))]
    assert hub == ["http://mirror.example.com:5000", "https://registry-1.docker.io"]
    lan = client.endpoints(parse_reference("lan.example.com/app:1"))
    assert [e.base_url for e in lan] == ["http://lan.example.com"]
    other = client.endpoints(parse_reference("registry.example.com/app:1"))
    assert [e.base_url for e in other] == ["https://registry.example.com"]
    loop = client.endpoints(parse_reference("localhost:5000/app:1"))
    assert [e.base_url for e in loop] == ["http://localhost:5000"]
    assert log.requests == []
