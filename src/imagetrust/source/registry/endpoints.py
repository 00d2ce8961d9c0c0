"""Which base URLs serve a registry's content, and which of them may be plain HTTP.

An image keeps its canonical name (``docker.io/library/debian:12``) while its bytes may come from
a configured mirror; everything fetched is verified by digest, so a mirror needs no trust beyond
availability. Plain HTTP is allowed only where nobody can sit in between: loopback, or hosts the
user explicitly marked insecure.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx

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


def url_host(url: str) -> str:
    """``host[:port]`` of ``url`` without any ``user:password@`` part (safe to print)."""
    return urlsplit(url).netloc.rsplit("@", 1)[-1]


def redact_url(url: str) -> str:
    """``url`` with any userinfo replaced by ``***``, for messages and stored metadata."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc="***@" + url_host(url)))


def check_plain_http(url: str, insecure: frozenset[str]) -> None:
    """Refuse ``http://`` URLs to hosts that are neither loopback nor marked insecure."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return
    host = url_host(url)
    if parts.scheme == "http" and is_insecure_allowed(host, insecure):
        return
    if parts.scheme not in ("http", "https"):
        raise UsageError(
            f"refusing {redact_url(url)[:200]}: only https (or http to loopback) is supported"
        )
    raise UsageError(
        f"refusing plain HTTP to {host or redact_url(url)}: it is not a loopback host",
        hint="use https, or add it to insecure-registries (--insecure-registry) if you trust "
        "the network",
    )


def plain_http_guard(insecure: frozenset[str]) -> Callable[[httpx.Request], None]:
    """An httpx ``request`` event hook applying :func:`check_plain_http` to every request.

    httpx runs request hooks for each redirect hop too, so a server (or token realm) answering
    with a redirect to ``http://elsewhere`` is refused before anything is sent there.
    """

    def guard(request: httpx.Request) -> None:
        check_plain_http(str(request.url), insecure)

    return guard


def refuse_userinfo(url: str, what: str) -> None:
    """Credentials inside a URL end up in logs and messages; they belong in the Docker config."""
    if "@" in urlsplit(url).netloc:
        raise UsageError(
            f"{what} {redact_url(url)} has credentials in its URL, which is not supported",
            hint=f"remove them and add credentials for {url_host(url)} to DOCKER_CONFIG/"
            "config.json (`docker login`)",
        )


HUB_URL_ENV = "IMAGETRUST_DOCKER_HUB_URL"
"""Overrides Docker Hub's API base URL (a pull-through proxy; the tests' closed loopback port)."""


def registry_endpoint(registry: str, insecure: frozenset[str]) -> Endpoint:
    """The registry's own API endpoint (Docker Hub's lives at registry-1.docker.io)."""
    override = os.environ.get(HUB_URL_ENV) if registry == HUB else None
    if override:
        check_plain_http(override, insecure)
        refuse_userinfo(override, HUB_URL_ENV)
        parts = urlsplit(override.rstrip("/"))
        return Endpoint(f"{parts.scheme}://{parts.netloc}{parts.path}", parts.netloc, mirror=False)
    host = HUB_API_HOST if registry == HUB else registry
    scheme = "http" if is_insecure_allowed(registry, insecure) else "https"
    return Endpoint(f"{scheme}://{host}", host, mirror=False)


def mirror_endpoint(url: str, insecure: frozenset[str]) -> Endpoint:
    """A mirror's endpoint; ``user:pass@`` in its URL is refused (see :func:`refuse_userinfo`)."""
    check_plain_http(url, insecure)
    refuse_userinfo(url, "registry mirror")
    parts = urlsplit(url.rstrip("/"))
    base = f"{parts.scheme}://{parts.netloc}{parts.path}"
    return Endpoint(base, parts.netloc, mirror=True)
