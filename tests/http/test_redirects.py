"""Secrets travel only to their own origin, across two real loopback origins."""

from __future__ import annotations

import httpx
import pytest

from imagetrust.errors import UsageError
from imagetrust.http.client import HttpClient, split_credentials
from tests.source.hostile_http import redirect, reply, serve


def ok(handler: object) -> None:
    reply(handler, 200, b"ok")  # type: ignore[arg-type]


def test_api_key_and_basic_auth_stay_with_their_origin() -> None:
    with (
        serve({"/land": ok}) as other,
        serve({"/start": redirect(f"{other.url}/land"), "/home": ok}) as home,
        HttpClient() as client,
    ):
        other.routes["/back"] = redirect(f"{home.url}/home")
        url, auth = split_credentials(f"http://u:s3cret@{home.host}/start")
        response = client.send("GET", url, secrets={"apiKey": "k3y"}, auth=auth)
        assert response.status_code == 200 and str(response.url).endswith("/land")
        response.close()
        # a request of the other origin redirected here: its key stays over there
        client.send("GET", f"{other.url}/back", secrets={"apiKey": "k3y"}).close()
    first = home.requests[0][2]
    assert first["apikey"] == "k3y" and first["authorization"].startswith("Basic ")
    landed = other.requests[0][2]
    assert "apikey" not in landed and "authorization" not in landed
    assert other.requests[1][2]["apikey"] == "k3y"  # /back is that request's own origin
    assert "apikey" not in home.requests[1][2]  # /home is not


def test_same_host_other_port_is_another_origin() -> None:
    with serve({"/land": ok}) as other, serve({"/go": redirect(f"{other.url}/land")}) as home:
        assert other.host.split(":")[0] == home.host.split(":")[0]
        with HttpClient() as client:
            client.send("GET", f"{home.url}/go", secrets={"Authorization": "Bearer t0ken"}).close()
    assert home.requests[0][2]["authorization"] == "Bearer t0ken"
    assert "authorization" not in other.requests[0][2]


def test_redirect_loops_end() -> None:
    with (
        serve({"/loop": redirect("/loop")}) as looping,
        HttpClient() as client,
        pytest.raises(httpx.TooManyRedirects),
    ):
        client.send("GET", f"{looping.url}/loop")
    assert len(looping.requests) == 6  # the request and five hops


def test_every_hop_passes_the_plain_http_guard() -> None:
    with serve({"/x": ok}) as elsewhere:
        target = f"http://0.0.0.0:{elsewhere.port}/x"  # plain HTTP, not loopback
        with serve({"/go": redirect(target)}) as home:
            with HttpClient() as client, pytest.raises(UsageError, match="refusing plain HTTP"):
                client.send("GET", f"{home.url}/go")
            assert elsewhere.requests == []
            with HttpClient(insecure=frozenset({"0.0.0.0"})) as trusting:
                assert trusting.send("GET", f"{home.url}/go").status_code == 200
        assert elsewhere.paths == ["/x"]
