"""Corrupt content, malformed manifests, rate limits and server errors."""

from __future__ import annotations

import hashlib
import json
import time

import pytest

from imagetrust.errors import IntegrityError, ManifestError, RateLimitError, RegistryError
from imagetrust.image.model import Descriptor
from imagetrust.oci import mediatypes as mt
from imagetrust.reference.parse import parse_reference
from imagetrust.source.registry import RetryPolicy
from tests.source.registry.conftest import MakeClient
from tests.support.registry import FaultProxy, RegistryServer, StaticServer

pytestmark = pytest.mark.registry


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def test_corrupted_blob_is_refused_and_not_cached(
    registry: RegistryServer, make_client: MakeClient
) -> None:
    pushed = registry.push_image("faults/corrupt", "1", files={"x": b"unique-corrupt-" * 300})
    layer = pushed.layers[0]
    stored = registry.blob_path(layer.digest)
    assert stored.read_bytes() == layer.data
    stored.write_bytes(bytes(b ^ 0xFF for b in layer.data))  # same size, other bytes

    client, _ = make_client()
    ref = parse_reference(f"{registry.host}/faults/corrupt:1")
    with pytest.raises(IntegrityError) as caught:
        client.fetch_blob(ref, Descriptor(layer.media_type, layer.digest, len(layer.data)))
    assert layer.digest in str(caught.value)
    assert [p for p in client.cache.root.rglob("*") if p.is_file()] == []
    assert client.cache.path_for(layer.digest) is None


def _manifest_server(body: bytes, content_type: str, **headers: str) -> StaticServer:
    return StaticServer(
        {"/v2/bad/img/manifests/1": (200, {"Content-Type": content_type, **headers}, body)}
    )


def test_malformed_manifest_json(make_client: MakeClient) -> None:
    server = _manifest_server(b'{"schemaVersion": 2, "layers": [', mt.OCI_MANIFEST)
    try:
        client, _ = make_client()
        with pytest.raises(ManifestError, match="not valid JSON") as caught:
            client.get_manifest(parse_reference(f"{server.host}/bad/img:1"))
        assert "\n" not in str(caught.value)
    finally:
        server.stop()


def test_schema1_manifest_is_unsupported(make_client: MakeClient) -> None:
    body = json.dumps({"schemaVersion": 1, "name": "bad/img", "tag": "1", "fsLayers": []}).encode()
    server = _manifest_server(body, mt.DOCKER_SCHEMA1_SIGNED)
    try:
        client, _ = make_client()
        with pytest.raises(ManifestError) as caught:
            client.get_manifest(parse_reference(f"{server.host}/bad/img:1"))
        assert "unsupported (Docker schema 1); re-push the image with a current client" in str(
            caught.value
        )
    finally:
        server.stop()


def test_manifest_not_matching_docker_content_digest(make_client: MakeClient) -> None:
    body = b'{"schemaVersion":2,"mediaType":"%s","manifests":[]}' % mt.OCI_INDEX.encode()
    server = _manifest_server(body, mt.OCI_INDEX, **{"Docker-Content-Digest": _sha256(b"other")})
    try:
        client, _ = make_client()
        with pytest.raises(IntegrityError):
            client.get_manifest(parse_reference(f"{server.host}/bad/img:1"))
        # The same body under a digest it does not hash to is refused as well.
        wrong = _sha256(b"not the body")
        server.routes[f"/v2/bad/img/manifests/{wrong}"] = (
            200,
            {"Content-Type": mt.OCI_INDEX},
            body,
        )
        with pytest.raises(IntegrityError):
            client.get_manifest(parse_reference(f"{server.host}/bad/img@{wrong}"))
    finally:
        server.stop()


def test_429_waits_for_retry_after_then_succeeds(
    registry: RegistryServer, make_client: MakeClient
) -> None:
    pushed = registry.push_image("faults/ratelimit", "1")
    proxy = FaultProxy(registry.url, failures=1, status=429, headers={"Retry-After": "1"})
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    try:
        client, _ = make_client(sleep=sleep)
        started = time.monotonic()
        raw = client.get_manifest(parse_reference(f"{proxy.host}/faults/ratelimit:1"))
        elapsed = time.monotonic() - started
        assert raw.data == pushed.manifest.data
        assert waits == [1.0]
        assert elapsed >= 1.0
        assert proxy.failed == 1
        manifest_requests = [p for m, p in proxy.requests if "/manifests/" in p]
        assert len(manifest_requests) == 2
    finally:
        proxy.stop()


def test_429_until_attempts_run_out(registry: RegistryServer, make_client: MakeClient) -> None:
    proxy = FaultProxy(
        registry.url,
        failures=-1,
        status=429,
        headers={"Retry-After": "0", "ratelimit-remaining": "0;w=21600"},
    )
    try:
        client, _ = make_client(retry=RetryPolicy(attempts=3, backoff=0.01))
        with pytest.raises(RateLimitError) as caught:
            client.get_manifest(parse_reference(f"{proxy.host}/faults/ratelimit:1"))
        message = str(caught.value)
        assert "\n" not in message
        assert "429" in message and "Retry-After" in message
        assert len(proxy.requests) == 3
        assert client.ratelimit_remaining == 0
    finally:
        proxy.stop()


def test_retry_after_is_capped(registry: RegistryServer, make_client: MakeClient) -> None:
    proxy = FaultProxy(registry.url, failures=1, status=429, headers={"Retry-After": "86400"})
    waits: list[float] = []
    try:
        client, _ = make_client(retry=RetryPolicy(attempts=2, max_wait=0.2), sleep=waits.append)
        registry.push_image("faults/capped", "1")
        client.get_manifest(parse_reference(f"{proxy.host}/faults/capped:1"))
        assert waits == [0.2]
    finally:
        proxy.stop()


def test_5xx_is_retried_then_reported(registry: RegistryServer, make_client: MakeClient) -> None:
    pushed = registry.push_image("faults/flaky", "1")
    proxy = FaultProxy(registry.url, failures=2, status=503, headers={})
    try:
        client, _ = make_client()
        raw = client.get_manifest(parse_reference(f"{proxy.host}/faults/flaky:1"))
        assert raw.data == pushed.manifest.data
        assert proxy.failed == 2
    finally:
        proxy.stop()
    always = FaultProxy(registry.url, failures=-1, status=502, headers={})
    try:
        client, _ = make_client()
        with pytest.raises(RegistryError, match="HTTP 502 after 3 attempts"):
            client.get_manifest(parse_reference(f"{always.host}/faults/flaky:1"))
    finally:
        always.stop()
