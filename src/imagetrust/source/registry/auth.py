"""Registry authentication driven by the ``WWW-Authenticate`` challenge.

A registry says how it wants to be authenticated only when it refuses a request: ``Basic realm=…``
(send the credentials on every request) or ``Bearer realm=…,service=…,scope=…`` (trade the
credentials, or nothing, for a short-lived token at ``realm``). Tokens are cached per
(realm, service, scope) until shortly before they expire, so one scan fetches each token once.
"""

from __future__ import annotations

import base64
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from imagetrust import jsonutil
from imagetrust.errors import AuthenticationError, NetworkError
from imagetrust.http.body import read_capped
from imagetrust.source.registry.credentials import Credentials, CredentialStore

_PARAM_RE = re.compile(r'([A-Za-z_][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))')
_DEFAULT_TOKEN_LIFETIME = 60.0
_EXPIRY_MARGIN = 10.0
MAX_TOKEN_RESPONSE = 1024 * 1024
"""A token answer is a few KiB of JSON; anything beyond this is hostile or broken."""

Send = Callable[..., httpx.Response]
"""``send(method, url, *, headers=…, params=…, data=…)`` → a streamed response, with the client's
retries, TLS and plain-HTTP rules (see :class:`imagetrust.http.client.HttpClient`)."""


@dataclass(frozen=True, slots=True)
class Challenge:
    """A parsed ``WWW-Authenticate`` header."""

    scheme: str
    """Lower-case: ``basic`` or ``bearer``."""
    params: Mapping[str, str] = field(default_factory=dict)

    @property
    def realm(self) -> str | None:
        return self.params.get("realm")


def parse_challenge(header: str) -> Challenge:
    """Parse one challenge: ``Bearer realm="…",service="…"`` (quoted or bare values)."""
    scheme, _, rest = header.strip().partition(" ")
    params = {
        key.lower(): (quoted.replace('\\"', '"') if quoted is not None else bare)
        for key, quoted, bare in _PARAM_RE.findall(rest)
    }
    return Challenge(scheme.lower(), params)


def basic_header(credentials: Credentials) -> str:
    raw = f"{credentials.username}:{credentials.secret}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


@dataclass(slots=True)
class _Token:
    value: str = field(repr=False)
    expires: float


class Authenticator:
    """Remembers each endpoint's challenge and produces ``Authorization`` headers for it."""

    def __init__(self, credentials: CredentialStore, send: Send) -> None:
        self._credentials = credentials
        self._send = send
        self._challenges: dict[str, Challenge] = {}
        self._tokens: dict[tuple[str, str, str], _Token] = {}
        self._lock = threading.Lock()

    def credentials_for(self, host: str) -> Credentials | None:
        return self._credentials.get(host)

    def learn(self, base_url: str, header: str | None, scope: str) -> None:
        """Record a 401 challenge; a token that was just refused is dropped."""
        if not header:
            return
        challenge = parse_challenge(header)
        with self._lock:
            self._challenges[base_url] = challenge
            if challenge.scheme == "bearer":
                key = _token_key(challenge, scope)
                self._tokens.pop(key, None)

    def knows(self, base_url: str) -> bool:
        return base_url in self._challenges

    def header(self, base_url: str, host: str, scope: str) -> str | None:
        """The ``Authorization`` value for a request, or None while no challenge is known."""
        with self._lock:
            challenge = self._challenges.get(base_url)
        if challenge is None:
            return None
        credentials = self._credentials.get(host)
        if challenge.scheme == "basic":
            if credentials is None or credentials.username == "<token>":
                return None
            return basic_header(credentials)
        if challenge.scheme == "bearer":
            return "Bearer " + self._token(challenge, scope, host, credentials)
        return None

    def _token(
        self, challenge: Challenge, scope: str, host: str, credentials: Credentials | None
    ) -> str:
        key = _token_key(challenge, scope)
        with self._lock:
            cached = self._tokens.get(key)
            if cached is not None and cached.expires > time.monotonic():
                return cached.value
        realm = challenge.realm
        if not realm:
            raise AuthenticationError(
                f"{host} asked for a bearer token but named no realm",
                hint="the registry's auth configuration is broken; contact its operator",
            )
        params = {"scope": challenge.params.get("scope") or scope}
        service = challenge.params.get("service")
        if service:
            params["service"] = service
        if credentials is not None and credentials.username == "<token>":
            response = self._send(
                "POST",
                realm,
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": credentials.secret,
                    "client_id": "imagetrust",
                    **params,
                },
            )
        else:
            headers = {"Authorization": basic_header(credentials)} if credentials else {}
            response = self._send("GET", realm, headers=headers, params=params)
        try:
            if response.status_code in (401, 403):
                raise auth_failed(host, scope, credentials)
            if response.status_code != 200:
                raise AuthenticationError(
                    f"token server for {host} answered HTTP {response.status_code}",
                    hint="retry later; if it persists, check the registry's status",
                )
            body = _read_token_body(response, host)
        finally:
            response.close()
        token, lifetime = _parse_token(body, host)
        with self._lock:
            self._tokens[key] = _Token(
                token, time.monotonic() + max(lifetime - _EXPIRY_MARGIN, lifetime / 2)
            )
        return token


def _token_key(challenge: Challenge, scope: str) -> tuple[str, str, str]:
    return (
        challenge.realm or "",
        challenge.params.get("service", ""),
        challenge.params.get("scope") or scope,
    )


def _read_token_body(response: httpx.Response, host: str) -> bytes:
    """The token answer, refusing to buffer more than :data:`MAX_TOKEN_RESPONSE` bytes."""
    try:
        return read_capped(
            response,
            MAX_TOKEN_RESPONSE,
            too_large=lambda: AuthenticationError(
                f"token server for {host} sent more than {MAX_TOKEN_RESPONSE} bytes",
                hint="the registry's auth configuration is broken or hostile",
            ),
        )
    except httpx.RequestError as error:
        raise NetworkError(
            f"connection to the token server for {host} broke ({type(error).__name__})",
            hint="check the network and retry",
        ) from None


def _parse_token(data: bytes, host: str) -> tuple[str, float]:
    body: Any = jsonutil.loads(
        data, what=f"the token answer for {host}", error=AuthenticationError
    )
    token = None
    if isinstance(body, dict):
        token = body.get("token") or body.get("access_token")
    if not isinstance(token, str) or not token:
        raise AuthenticationError(
            f"token server for {host} returned no token",
            hint="the registry's auth configuration is broken; contact its operator",
        )
    lifetime = body.get("expires_in") if isinstance(body, dict) else None
    if not isinstance(lifetime, int | float) or lifetime <= 0:
        lifetime = _DEFAULT_TOKEN_LIFETIME
    return token, float(lifetime)


def auth_failed(host: str, scope: str, credentials: Credentials | None) -> AuthenticationError:
    """The one-line error for a refused request (never includes the secret)."""
    repo = scope.split(":")[1] if scope.count(":") >= 2 else scope
    login = "docker login" if host == "registry-1.docker.io" else f"docker login {host}"
    if credentials is None:
        return AuthenticationError(
            f"authentication to {host} failed for {repo}: no credentials found",
            hint=f"add them to DOCKER_CONFIG/config.json or run `{login}`",
        )
    return AuthenticationError(
        f"authentication to {host} failed for {repo}: the registry refused the credentials",
        hint=f"check credentials in DOCKER_CONFIG/config.json or run `{login}`",
    )
