"""Where the local Docker-Engine-API daemon listens: ``DOCKER_HOST``, else the usual sockets.

Docker and podman both serve the Engine API; without ``DOCKER_HOST`` the first socket that exists
among Docker's rootful and rootless paths and podman's is used. Only unix sockets and plain HTTP
to a loopback address are supported: a remote ``tcp://`` daemon needs TLS client certificates
and ``ssh://`` a tunnel, neither of which a scanner should set up behind the user's back.
"""

from __future__ import annotations

import ipaddress
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from imagetrust.errors import UsageError

_LOOPBACK_NAMES = frozenset({"localhost"})


@dataclass(frozen=True, slots=True)
class DaemonEndpoint:
    """One place a daemon may listen: a unix socket, or ``http://`` on loopback."""

    url: str
    """What the user would write in ``DOCKER_HOST`` (shown in messages)."""
    socket_path: Path | None = None
    """The unix socket, or None for a TCP endpoint."""
    base_url: str = "http://docker"
    """HTTP base URL; for a socket the host part is a placeholder."""

    def __str__(self) -> str:
        return self.url

    @classmethod
    def unix(cls, path: Path | str) -> DaemonEndpoint:
        return cls(url=f"unix://{path}", socket_path=Path(path))


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_docker_host(value: str) -> DaemonEndpoint:
    """``unix:///path`` or ``tcp://127.0.0.1:PORT`` → endpoint; anything else is a UsageError."""
    text = value.strip()
    parts = urlsplit(text)
    if parts.scheme == "unix":
        path = (parts.netloc + parts.path) if parts.netloc else parts.path
        if not path.startswith("/"):
            raise UsageError(
                f"DOCKER_HOST={text} names a relative socket path",
                hint="write it as unix:///absolute/path/docker.sock",
            )
        return DaemonEndpoint.unix(path)
    if parts.scheme in ("tcp", "http"):
        host = parts.hostname or ""
        if not _is_loopback(host):
            raise UsageError(
                f"DOCKER_HOST={text}: only a daemon on this machine is supported",
                hint="use a unix socket or tcp://127.0.0.1:PORT, or scan the registry reference",
            )
        try:
            port = parts.port or 2375
        except ValueError:
            raise UsageError(f"DOCKER_HOST={text} has an invalid port") from None
        shown = f"[{host}]" if ":" in host else host
        return DaemonEndpoint(url=text, base_url=f"http://{shown}:{port}")
    raise UsageError(
        f"DOCKER_HOST={text}: the {parts.scheme or 'given'} scheme is not supported",
        hint="use unix:///path/to/docker.sock or tcp://127.0.0.1:PORT",
    )


def default_socket_paths(environ: Mapping[str, str]) -> list[Path]:
    """Docker rootful, Docker rootless, podman rootful, podman rootless — in that order."""
    paths = [Path("/var/run/docker.sock")]
    runtime = environ.get("XDG_RUNTIME_DIR")
    if runtime:
        paths.append(Path(runtime) / "docker.sock")
    paths.append(Path("/run/podman/podman.sock"))
    if runtime:
        paths.append(Path(runtime) / "podman" / "podman.sock")
    return paths


def _is_socket(path: Path) -> bool:
    try:
        return stat.S_ISSOCK(path.stat().st_mode)
    except OSError:
        return False


def candidate_endpoints(environ: Mapping[str, str] | None = None) -> list[DaemonEndpoint]:
    """``DOCKER_HOST`` alone when set; else every default socket that exists right now."""
    env = os.environ if environ is None else environ
    explicit = env.get("DOCKER_HOST", "").strip()
    if explicit:
        return [parse_docker_host(explicit)]
    return [DaemonEndpoint.unix(p) for p in default_socket_paths(env) if _is_socket(p)]


def describe_tried(environ: Mapping[str, str] | None = None) -> str:
    """Where a daemon was looked for, for one-line messages."""
    env = os.environ if environ is None else environ
    explicit = env.get("DOCKER_HOST", "").strip()
    if explicit:
        return explicit
    return ", ".join(str(p) for p in default_socket_paths(env))
