"""Where plain HTTP may go, and URLs made safe to print.

Plain HTTP is allowed only where nobody can sit in between: loopback, or hosts the user explicitly
marked insecure (``insecure-registries``). The check runs on the first URL and, as a request hook
of every client the layer builds, on each redirect hop, so a redirect to ``http://elsewhere`` is
refused before anything is sent there. Credentials in a URL's userinfo or in secret-looking query
parameters never reach a message, a log line or stored metadata: :func:`redact_url` masks them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from imagetrust.errors import UsageError

if TYPE_CHECKING:  # the guard is cheap to import; httpx loads only with a client
    import httpx

SECRET_QUERY_KEYS = frozenset(
    {
        "access_token", "api_key", "apikey", "auth", "key", "password", "refresh_token",
        "secret", "sig", "signature", "token", "x-amz-credential", "x-amz-security-token",
        "x-amz-signature", "x-goog-credential", "x-goog-signature",
    }
)
"""Query parameters (compared lower-case) whose values :func:`redact_url` masks."""


def hostname(host: str) -> str:
    """``[::1]:5000`` → ``::1``; ``example.com:443`` → ``example.com``."""
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    if host.count(":") == 1:
        return host.split(":", 1)[0]
    return host


def is_loopback(host: str) -> bool:
    """Whether ``host[:port]`` names this machine (``localhost``, ``127.0.0.0/8``, ``::1``)."""
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
    """``url`` with userinfo and secret query values replaced by ``***``, for messages and
    stored metadata. A URL without either comes back unchanged, byte for byte."""
    parts = urlsplit(url)
    if "@" in parts.netloc:
        parts = parts._replace(netloc="***@" + url_host(url))
    if parts.query:
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        if any(key.lower() in SECRET_QUERY_KEYS for key, _ in pairs):
            masked = [(k, "***" if k.lower() in SECRET_QUERY_KEYS else v) for k, v in pairs]
            parts = parts._replace(query=urlencode(masked, safe="*"))
    return urlunsplit(parts)


def redact_text(text: str, url: str) -> str:
    """``text`` (an exception message, say) with ``url`` in it replaced by its redacted form."""
    return text.replace(url, redact_url(url)) if url else text


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

    Hooks run for every request a client sends, redirect hops and token realms included.
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
