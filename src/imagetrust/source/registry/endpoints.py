"""Which base URLs serve a registry's content, and which of them may be plain HTTP.

An image keeps its canonical name (``docker.io/library/debian:12``) while its bytes may come from
a configured mirror; everything fetched is verified by digest, so a mirror needs no trust beyond
availability. Plain HTTP is allowed only where nobody can sit in between: loopback, or hosts the
user explicitly marked insecure.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from imagetrust.errors import UsageError

HUB = "docker.io"
HUB_API_HOST = "registry-1.docker.io"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One place to fetch a repository's content from."""

    base_url: str
    """``https://registry-1.docker.io`` or a mirror such as ``http://127.0.0.1:5000``."""
    host: str
    """``host[:port]`` of ``base_url``: the key for credentials and error messages."""
    mirror: bool


def hostname(host: str) -> str:
    """``[::1]:5000`` → ``::1``; ``example.com:443`` → ``example.com``."""
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    if host.count(":") == 1:
        return host.split(":", 1)[0]
    return host


def is_loopback(host: str) -> bool:
    name = hostname(host).lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def is_insecure_allowed(host: str, insecure: frozenset[str]) -> bool:
    """Whether plain HTTP to ``host`` is acceptable."""
    return is_loopback(host) or host in insecure or hostname(host) in insecure


def check_plain_http(url: str, insecure: frozenset[str]) -> None:
    """Refuse ``http://`` URLs to hosts that are neither loopback nor marked insecure."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return
    host = parts.netloc.rsplit("@", 1)[-1]
    if parts.scheme == "http" and is_insecure_allowed(host, insecure):
        return
    raise UsageError(
        f"refusing plain HTTP to {host or url}: it is not a loopback host",
        hint="use https, or add it to insecure-registries (--insecure-registry) if you trust "
        "the network",
    )


HUB_URL_ENV = "IMAGETRUST_DOCKER_HUB_URL"
"""Overrides Docker Hub's API base URL (a pull-through proxy; the tests' closed loopback port)."""


def registry_endpoint(registry: str, insecure: frozenset[str]) -> Endpoint:
    """The registry's own API endpoint (Docker Hub's lives at registry-1.docker.io)."""
    override = os.environ.get(HUB_URL_ENV) if registry == HUB else None
    if override:
        check_plain_http(override, insecure)
        parts = urlsplit(override.rstrip("/"))
        return Endpoint(f"{parts.scheme}://{parts.netloc}{parts.path}", parts.netloc, mirror=False)
    host = HUB_API_HOST if registry == HUB else registry
    scheme = "http" if is_insecure_allowed(registry, insecure) else "https"
    return Endpoint(f"{scheme}://{host}", host, mirror=False)


def mirror_endpoint(url: str, insecure: frozenset[str]) -> Endpoint:
    check_plain_http(url, insecure)
    parts = urlsplit(url.rstrip("/"))
    base = f"{parts.scheme}://{parts.netloc}{parts.path}"
    return Endpoint(base, parts.netloc, mirror=True)
