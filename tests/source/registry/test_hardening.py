"""Hostile registries: redirects to plain HTTP, credentials in mirror URLs, oversized bodies, and
JSON nested deep enough to blow the parser's stack. Every server runs on 127.0.0.1; "elsewhere" is
0.0.0.0, which is not a loopback address yet reaches the same machine, so a request that should
never be sent would visibly arrive.
"""

from __future__ import annotations

import hashlib
import json
import time
from http.server import BaseHTTPRequestHandler

import pytest

from imagetrust.cli import inspect_cmd  # noqa: F401  - registers the command on the group
from imagetrust.cli.main import main
from imagetrust.errors import (
    AuthenticationError,
    IntegrityError,
    ManifestError,
    RegistryError,
    UsageError,
)
from imagetrust.image.model import Descriptor
from imagetrust.oci import mediatypes as mt
from imagetrust.reference.parse import parse_reference
from imagetrust.source.registry import client as client_module
from imagetrust.source.registry.auth import MAX_TOKEN_RESPONSE
from tests.source.hostile_http import endless_body, redirect, reply, serve
from tests.source.registry.conftest import MakeClient

MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "config": {"mediaType": mt.OCI_CONFIG, "digest": "sha256:" + "a" * 64, "size": 2},
        "layers": [],
    }
).encode()
MANIFEST_ROUTE = "/v2/hostile/img/manifests/1"
REF = "hostile/img:1"


def _manifest(handler: BaseHTTPRequestHandler) -> None:
    reply(handler, 200, MANIFEST, {"Content-Type": mt.OCI_MANIFEST})


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


# -- A6: every hop, not just the first URL, obeys the plain-HTTP rule ---------------------------


def test_redirect_to_plain_http_elsewhere_is_refused(make_client: MakeClient) -> None:
    with serve({"/m": _manifest}) as elsewhere:
        target = f"http://0.0.0.0:{elsewhere.port}/m"
        with serve({MANIFEST_ROUTE: redirect(target)}) as registry:
            client, _ = make_client()
            with pytest.raises(UsageError, match=r"refusing plain HTTP to 0\.0\.0\.0") as caught:
                client.get_manifest(parse_reference(f"{registry.host}/{REF}"))
            assert registry.paths == [MANIFEST_ROUTE]
        assert elsewhere.requests == []
    assert "\n" not in str(caught.value)


def test_redirect_to_an_insecure_listed_host_is_followed(make_client: MakeClient) -> None:
    with serve({"/m": _manifest}) as elsewhere:
        target = f"http://0.0.0.0:{elsewhere.port}/m"
        with serve({MANIFEST_ROUTE: redirect(target)}) as registry:
            client, _ = make_client(insecure_registries=frozenset({"0.0.0.0"}))
            raw = client.get_manifest(parse_reference(f"{registry.host}/{REF}"))
        assert raw.data == MANIFEST
        assert elsewhere.paths == ["/m"]


def test_token_realm_redirect_to_plain_http_is_refused(make_client: MakeClient) -> None:
    with serve({"/token": lambda h: reply(h, 200, b'{"token": "t"}')}) as elsewhere:
        with serve({}) as registry:
            challenge = f'Bearer realm="{registry.url}/token",service="svc"'
            registry.routes[MANIFEST_ROUTE] = lambda h: reply(
                h, 401, b"{}", {"WWW-Authenticate": challenge}
            )
            registry.routes["/token"] = redirect(f"http://0.0.0.0:{elsewhere.port}/token", 302)
            client, _ = make_client()
            with pytest.raises(UsageError, match=r"refusing plain HTTP to 0\.0\.0\.0"):
                client.get_manifest(parse_reference(f"{registry.host}/{REF}"))
            assert [p.split("?")[0] for p in registry.paths] == [MANIFEST_ROUTE, "/token"]
        assert elsewhere.requests == []


# -- A8: credentials in mirror URLs never reach a message ---------------------------------------


def test_mirror_url_with_credentials_is_refused_without_echoing_them(
    make_client: MakeClient,
) -> None:
    with pytest.raises(UsageError) as caught:
        make_client(registry_mirrors={"docker.io": ("http://alice:s3cret@127.0.0.1:9",)})
    message = str(caught.value)
    assert "s3cret" not in message and "alice" not in message
    assert "127.0.0.1:9" in message and "credentials" in message


def test_cli_never_prints_mirror_credentials(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMAGETRUST_OFFLINE", "1")  # only the mirror is asked: its error surfaces
    code = main(
        ["inspect", "debian:12", "--registry-mirror", "docker.io=http://alice:s3cret@127.0.0.1:9/"]
    )
    captured = capsys.readouterr()
    assert code == 1
    assert "s3cret" not in captured.err + captured.out
    assert "127.0.0.1:9" in captured.err
    assert len(captured.err.strip().splitlines()) == 1


# -- A5: nesting bombs are ordinary errors --------------------------------------------------------


def test_deeply_nested_manifest_is_a_manifest_error(make_client: MakeClient) -> None:
    bomb = b"[" * 200_000 + b"]" * 200_000
    route = {MANIFEST_ROUTE: lambda h: reply(h, 200, bomb, {"Content-Type": mt.OCI_MANIFEST})}
    with serve(route) as registry:
        client, _ = make_client()
        with pytest.raises(ManifestError, match="not valid JSON: nested too deeply"):
            client.get_manifest(parse_reference(f"{registry.host}/{REF}"))


def test_deeply_nested_tag_list_is_a_registry_error(make_client: MakeClient) -> None:
    bomb = b'{"tags": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    with serve({"/v2/hostile/img/tags/list": lambda h: reply(h, 200, bomb)}) as registry:
        client, _ = make_client()
        with pytest.raises(RegistryError, match="tag list .* not valid JSON"):
            client.list_tags(parse_reference(f"{registry.host}/{REF}"))


def test_deeply_nested_token_answer_is_an_authentication_error(make_client: MakeClient) -> None:
    bomb = b"[" * 200_000
    with serve({}) as registry:
        challenge = f'Bearer realm="{registry.url}/token",service="svc"'
        registry.routes[MANIFEST_ROUTE] = lambda h: reply(
            h, 401, b"{}", {"WWW-Authenticate": challenge}
        )
        registry.routes["/token"] = lambda h: reply(h, 200, bomb)
        client, _ = make_client()
        with pytest.raises(AuthenticationError, match="not valid JSON"):
            client.get_manifest(parse_reference(f"{registry.host}/{REF}"))


# -- A10 / A11: bodies read into memory are bounded -------------------------------------------


def test_token_answer_is_read_only_up_to_its_cap(make_client: MakeClient) -> None:
    """A token server claiming a huge body and then hanging is cut off at 1 MiB, not waited for."""
    with serve({}) as registry:
        challenge = f'Bearer realm="{registry.url}/token",service="svc"'
        registry.routes[MANIFEST_ROUTE] = lambda h: reply(
            h, 401, b"{}", {"WWW-Authenticate": challenge}
        )
        registry.routes["/token"] = endless_body(stall_after=2 * MAX_TOKEN_RESPONSE)
        client, _ = make_client(timeout=20.0)
        started = time.monotonic()
        with pytest.raises(AuthenticationError, match=f"more than {MAX_TOKEN_RESPONSE} bytes"):
            client.get_manifest(parse_reference(f"{registry.host}/{REF}"))
        assert time.monotonic() - started < 10  # never waited for the stalled rest


def test_config_declared_larger_than_the_cap_is_never_requested(make_client: MakeClient) -> None:
    data = b"{}"
    digest = _sha256(data)
    route = f"/v2/hostile/img/blobs/{digest}"
    with serve({route: lambda h: reply(h, 200, data)}) as registry:
        client, _ = make_client()
        ref = parse_reference(f"{registry.host}/{REF}")
        with pytest.raises(ManifestError, match="declared as 53687091200 bytes"):
            client.blob_bytes(ref, Descriptor(mt.OCI_CONFIG, digest, 50 * 1024**3))
        assert registry.requests == []
    assert client.cache.path_for(digest) is None


def test_blob_of_unknown_size_stops_at_the_cap(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_module, "MAX_BLOB_BYTES", 4096)
    data = json.dumps({"padding": "x" * 70_000}).encode()  # valid, digest-correct, too big
    digest = _sha256(data)
    route = f"/v2/hostile/img/blobs/{digest}"
    with serve({route: lambda h: reply(h, 200, data)}) as registry:
        client, _ = make_client()
        ref = parse_reference(f"{registry.host}/{REF}")
        with pytest.raises(ManifestError, match="larger than the 4096 bytes allowed"):
            client.blob_bytes(ref, Descriptor(mt.OCI_CONFIG, digest, -1))
    assert client.cache.path_for(digest) is None


def test_cached_blob_must_match_the_declared_size(make_client: MakeClient) -> None:
    client, log = make_client()
    data = b"x" * 5000
    digest = _sha256(data)
    client.cache.put(digest, data)
    ref = parse_reference(f"127.0.0.1:9/{REF}")
    with pytest.raises(IntegrityError, match="has 5000 bytes, its descriptor says 10"):
        client.blob_bytes(ref, Descriptor(mt.OCI_CONFIG, digest, 10))
    assert client.blob_bytes(ref, Descriptor(mt.OCI_CONFIG, digest, 5000)) == data
    assert log.requests == []


def test_layer_download_stops_once_more_than_declared_arrives(make_client: MakeClient) -> None:
    digest = "sha256:" + "b" * 64
    route = f"/v2/hostile/img/blobs/{digest}"
    with serve({route: endless_body()}) as registry:
        client, _ = make_client()
        ref = parse_reference(f"{registry.host}/{REF}")
        with pytest.raises(IntegrityError, match="larger than its declared size 1000"):
            client.fetch_blob(ref, Descriptor(mt.OCI_LAYER_GZIP, digest, 1000))
        sent, deadline = -1, time.monotonic() + 5
        while time.monotonic() < deadline and registry.sent.get(route, 0) != sent:
            sent = registry.sent.get(route, 0)  # wait until the server stops making progress
            time.sleep(0.2)
        assert 0 < sent < 64 * 1024 * 1024  # the client hung up long before the 256 MiB
    assert client.cache.path_for(digest) is None
    assert [p for p in client.cache.root.rglob("*") if p.is_file()] == []
