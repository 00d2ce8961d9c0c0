"""Which base URLs serve a registry's content, and which of them may be plain HTTP.

An image keeps its canonical name (``docker.io/library/debian:12``) while its bytes may come from
a configured mirror; everything fetched is verified by digest, so a mirror needs no trust beyond
availability. Plain HTTP is allowed only where nobody can sit in between: loopback, or hosts the
user explicitly marked insecure (:mod:`imagetrust.http.guard` decides).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from imagetrust.http.guard import check_plain_http, is_insecure_allowed, refuse_userinfo

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
