"""Finding the daemon: DOCKER_HOST forms and the default socket search."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagetrust.errors import UsageError
from imagetrust.source.daemon.discovery import (
    DaemonEndpoint,
    candidate_endpoints,
    default_socket_paths,
    parse_docker_host,
)


def test_unix_docker_host() -> None:
    endpoint = parse_docker_host("unix:///run/user/1000/podman/podman.sock")
    assert endpoint.socket_path == Path("/run/user/1000/podman/podman.sock")
    assert str(endpoint) == "unix:///run/user/1000/podman/podman.sock"


@pytest.mark.parametrize(
    ("value", "base_url"),
    [("tcp://127.0.0.1:2375", "http://127.0.0.1:2375"),
     ("tcp://localhost", "http://localhost:2375"),
     ("tcp://[::1]:8080", "http://[::1]:8080")],
)
def test_tcp_loopback_is_plain_http(value: str, base_url: str) -> None:
    endpoint = parse_docker_host(value)
    assert endpoint.socket_path is None
    assert endpoint.base_url == base_url


@pytest.mark.parametrize(
    ("value", "fragment"),
    [("tcp://10.1.2.3:2376", "only a daemon on this machine"),
     ("ssh://user@host", "ssh scheme is not supported"),
     ("npipe:////./pipe/docker_engine", "npipe scheme is not supported"),
     ("unix://relative.sock", "relative socket path")],
)
def test_unsupported_docker_host_is_a_usage_error(value: str, fragment: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_docker_host(value)
    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value)


def test_defaults_follow_docker_then_podman_order() -> None:
    paths = default_socket_paths({"XDG_RUNTIME_DIR": "/run/user/7"})
    assert paths == [
        Path("/var/run/docker.sock"),
        Path("/run/user/7/docker.sock"),
        Path("/run/podman/podman.sock"),
        Path("/run/user/7/podman/podman.sock"),
    ]


def test_docker_host_wins_over_defaults() -> None:
    found = candidate_endpoints({"DOCKER_HOST": "unix:///x.sock", "XDG_RUNTIME_DIR": "/run"})
    assert found == [DaemonEndpoint.unix("/x.sock")]


def test_only_existing_sockets_are_candidates(tmp_path: Path) -> None:
    import socket

    (tmp_path / "docker.sock").write_text("not a socket")
    (tmp_path / "podman").mkdir()
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(tmp_path / "podman" / "podman.sock"))
    try:
        found = candidate_endpoints({"XDG_RUNTIME_DIR": str(tmp_path)})
    finally:
        listener.close()
    assert DaemonEndpoint.unix(tmp_path / "podman" / "podman.sock") in found
    assert DaemonEndpoint.unix(tmp_path / "docker.sock") not in found
