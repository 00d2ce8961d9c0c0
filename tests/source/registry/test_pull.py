"""Anonymous pulls from a real docker-registry: manifests, indexes, blobs, tags, the cache."""

from __future__ import annotations

import hashlib
import json
import subprocess

import pytest

from imagetrust.errors import NotFoundError
from imagetrust.image.model import Descriptor, Platform
from imagetrust.oci import mediatypes as mt
from imagetrust.reference.parse import parse_reference
from imagetrust.source.interface import ImageSource
from imagetrust.source.registry import RegistrySource
from tests.source.registry.conftest import MakeClient
from tests.support.registry import RegistryServer, StaticServer

pytestmark = pytest.mark.registry


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def test_oci_index_through_registry_source(
    registry: RegistryServer, make_client: MakeClient
) -> None:
    pushed = registry.push_index("pull/multi", "1")
    client, _ = make_client()
    source = RegistrySource(parse_reference(f"{registry.host}/pull/multi:1"), client)
    assert isinstance(source, ImageSource)

    root = source.root()
    assert root.data == pushed.index.data
    assert root.digest == _sha256(pushed.index.data)
    assert root.media_type == mt.OCI_INDEX
    assert source.repo_tags() == ("1",)

    entries = json.loads(root.data)["manifests"]
    arm = next(e for e in entries if e["platform"]["architecture"] == "arm64")
    child = source.manifest(
        Descriptor(arm["mediaType"], arm["digest"], arm["size"], Platform("linux", "arm64"))
    )
    expected = next(i for i in pushed.images if i.architecture == "arm64")
    assert child.data == expected.manifest.data
    assert child.media_type == mt.OCI_MANIFEST

    config = expected.config
    assert (
        source.blob(Descriptor(config.media_type, config.digest, len(config.data))) == config.data
    )
    layer = expected.layers[0]
    with source.open_blob(Descriptor(layer.media_type, layer.digest, len(layer.data))) as handle:
        assert handle.seekable()
        handle.seek(10)
        assert handle.read() == layer.data[10:]
    source.close()


def test_index_bytes_match_skopeo(registry: RegistryServer, make_client: MakeClient) -> None:
    """An independent client (skopeo) sees exactly the bytes and digest we return."""
    registry.push_index("pull/skopeo", "v1")
    client, _ = make_client()
    raw = client.get_manifest(parse_reference(f"{registry.host}/pull/skopeo:v1"))
    skopeo = subprocess.run(
        [
            "skopeo",
            "inspect",
            "--raw",
            "--tls-verify=false",
            f"docker://{registry.host}/pull/skopeo:v1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout
    assert raw.data == skopeo
    assert raw.digest == _sha256(skopeo)


def test_docker_manifest_list_is_not_converted(
    registry: RegistryServer, make_client: MakeClient
) -> None:
    pushed = registry.push_index("pull/dockerlist", "1", docker=True)
    client, _ = make_client()
    raw = client.get_manifest(parse_reference(f"{registry.host}/pull/dockerlist:1"))
    assert raw.media_type == mt.DOCKER_MANIFEST_LIST
    assert raw.data == pushed.index.data
    amd = pushed.images[0]
    child = client.get_manifest(
        parse_reference(f"{registry.host}/pull/dockerlist"), amd.manifest.digest
    )
    assert child.media_type == mt.DOCKER_MANIFEST
    assert child.digest == amd.manifest.digest


def test_head_digest_equals_get_digest(registry: RegistryServer, make_client: MakeClient) -> None:
    pushed = registry.push_index("pull/head", "2")
    client, log = make_client()
    ref = parse_reference(f"{registry.host}/pull/head:2")
    head = client.head_manifest(ref)
    assert [r.method for r in log.requests] == ["HEAD"]
    get = client.get_manifest(ref)
    assert head.digest == get.digest == _sha256(pushed.index.data)
    assert head.size == len(pushed.index.data)
    assert head.media_type == mt.OCI_INDEX


def test_pinned_digest_is_fetched_by_digest(
    registry: RegistryServer, make_client: MakeClient
) -> None:
    pushed = registry.push_image("pull/pinned", "latest")
    client, log = make_client()
    ref = parse_reference(f"{registry.host}/pull/pinned:latest@{pushed.manifest.digest}")
    raw = client.get_manifest(ref)
    assert raw.data == pushed.manifest.data
    assert log.requests[-1].url.path.endswith(f"/manifests/{pushed.manifest.digest}")


def test_missing_tag_is_not_found(registry: RegistryServer, make_client: MakeClient) -> None:
    registry.push_image("pull/missing", "exists")
    client, _ = make_client()
    with pytest.raises(NotFoundError) as caught:
        client.get_manifest(parse_reference(f"{registry.host}/pull/missing:nope"))
    message = str(caught.value)
    assert "pull/missing:nope" in message
    assert "\n" not in message
    with pytest.raises(NotFoundError, match="no/such/repo"):
        client.head_manifest(parse_reference(f"{registry.host}/no/such/repo:1"))


def test_second_fetch_of_a_blob_makes_no_request(
    registry: RegistryServer, make_client: MakeClient
) -> None:
    pushed = registry.push_image("pull/cached", "1", files={"a": b"cache me " * 1000})
    ref = parse_reference(f"{registry.host}/pull/cached:1")
    layer = pushed.layers[0]
    descriptor = Descriptor(layer.media_type, layer.digest, len(layer.data))

    client, log = make_client()
    path = client.fetch_blob(ref, descriptor)
    assert path.read_bytes() == layer.data
    assert any(r.url.path.endswith(f"/blobs/{layer.digest}") for r in log.requests)
    before = len(log.requests)
    assert client.fetch_blob(ref, descriptor) == path
    assert client.blob_bytes(ref, descriptor) == layer.data
    assert len(log.requests) == before

    # A new client (next run) with the same cache directory makes no request either.
    fresh, fresh_log = make_client()
    assert fresh.fetch_blob(ref, descriptor).read_bytes() == layer.data
    assert fresh_log.requests == []


def test_list_tags_from_registry(registry: RegistryServer, make_client: MakeClient) -> None:
    for tag in ("b", "a", "1.0"):
        registry.push_image("pull/tags", tag)
    client, _ = make_client()
    assert sorted(client.list_tags(parse_reference(f"{registry.host}/pull/tags"))) == [
        "1.0",
        "a",
        "b",
    ]


def test_list_tags_follows_link_pagination(make_client: MakeClient) -> None:
    server = StaticServer(
        {
            "/v2/p/tags/list": (
                200,
                {
                    "Content-Type": "application/json",
                    "Link": '</v2/p/page2?n=2&last=b>; rel="next"',
                },
                b'{"name":"p","tags":["a","b"]}',
            ),
            "/v2/p/page2": (
                200,
                {"Content-Type": "application/json"},
                b'{"name":"p","tags":["c"]}',
            ),
        }
    )
    try:
        client, _ = make_client()
        assert client.list_tags(parse_reference(f"{server.host}/p")) == ["a", "b", "c"]
        assert [path for _, path in server.requests] == [
            "/v2/p/tags/list",
            "/v2/p/page2?n=2&last=b",
        ]
    finally:
        server.stop()


def test_ratelimit_remaining_is_kept(make_client: MakeClient) -> None:
    body = b'{"name":"r","tags":[]}'
    server = StaticServer(
        {
            "/v2/r/tags/list": (200, {"ratelimit-remaining": "76;w=21600"}, body),
        }
    )
    try:
        client, _ = make_client()
        assert client.ratelimit_remaining is None
        assert client.list_tags(parse_reference(f"{server.host}/r")) == []
        assert client.ratelimit_remaining == 76
    finally:
        server.stop()
