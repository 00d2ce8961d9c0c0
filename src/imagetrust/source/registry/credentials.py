"""Registry credentials from the Docker CLI's ``config.json`` and credential helpers.

Same lookup order as the Docker CLI: ``credHelpers[host]``, then ``credsStore``, then ``auths``.
Secrets never appear in reprs, logs or error messages.
"""

from __future__ import annotations

import base64
import binascii
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imagetrust import jsonutil
from imagetrust.errors import AuthenticationError, ImagetrustError, UsageError

HUB_SERVER_URL = "https://index.docker.io/v1/"
_HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
_HELPER_TIMEOUT = 20.0


@dataclass(frozen=True, slots=True)
class Credentials:
    """A username and secret (password or token) for one registry host."""

    username: str
    secret: str = field(repr=False)


def normalise_host(key: str) -> str:
    """``https://index.docker.io/v1/`` → ``docker.io``; ``http://h:5000/x`` → ``h:5000``."""
    host = key.strip()
    if "://" in host:
        host = host.split("://", 1)[1]
    host = host.split("/", 1)[0].lower()
    return "docker.io" if host in _HUB_HOSTS else host


def helper_server_url(host: str) -> str:
    """What the Docker CLI hands a credential helper for ``host``."""
    return HUB_SERVER_URL if normalise_host(host) == "docker.io" else host


class CredentialStore:
    """Looks up credentials per registry host, reading ``config.json`` once."""

    def __init__(self, config_dir: Path | None) -> None:
        self._dir = config_dir if config_dir is not None else Path.home() / ".docker"
        self._config: dict[str, Any] | None = None
        self._memo: dict[str, Credentials | None] = {}

    def _load(self) -> dict[str, Any]:
        if self._config is None:
            path = self._dir / "config.json"
            try:
                text = path.read_bytes()
            except FileNotFoundError:
                text = b"{}"
            except OSError as error:
                raise UsageError(f"cannot read {path}: {error.strerror}") from None
            try:
                loaded = jsonutil.loads(text, what=str(path), error=UsageError)
            except UsageError as error:
                hint = "fix or remove it (see `docker login`)"
                raise UsageError(error.message, hint=hint) from None
            self._config = loaded if isinstance(loaded, dict) else {}
        return self._config

    def get(self, host: str) -> Credentials | None:
        """Credentials for a registry host (``host[:port]``), or None for anonymous access."""
        wanted = normalise_host(host)
        if wanted not in self._memo:
            self._memo[wanted] = self._lookup(wanted)
        return self._memo[wanted]

    def _lookup(self, host: str) -> Credentials | None:
        config = self._load()
        helpers = config.get("credHelpers")
        if isinstance(helpers, dict):
            for key, helper in helpers.items():
                if normalise_host(key) == host and isinstance(helper, str) and helper:
                    return run_helper(helper, helper_server_url(host))
        store = config.get("credsStore")
        if isinstance(store, str) and store:
            found = run_helper(store, helper_server_url(host))
            if found is not None:
                return found
        auths = config.get("auths")
        if isinstance(auths, dict):
            for key, entry in auths.items():
                if normalise_host(key) == host and isinstance(entry, dict):
                    found = _from_auth_entry(entry, host)
                    if found is not None:
                        return found
        return None


def _from_auth_entry(entry: dict[str, Any], host: str) -> Credentials | None:
    encoded = entry.get("auth")
    if isinstance(encoded, str) and encoded:
        try:
            decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise UsageError(
                f"the 'auth' entry for {host} in the Docker config is not valid base64",
                hint=f"run `docker login {host}` again",
            ) from None
        user, sep, secret = decoded.partition(":")
        if not sep:
            raise UsageError(
                f"the 'auth' entry for {host} in the Docker config is not user:password",
                hint=f"run `docker login {host}` again",
            )
        return Credentials(user, secret)
    username, password = entry.get("username"), entry.get("password")
    if isinstance(username, str) and isinstance(password, str) and username:
        return Credentials(username, password)
    identity = entry.get("identitytoken")
    if isinstance(identity, str) and identity:
        return Credentials("<token>", identity)
    return None


def run_helper(helper: str, server_url: str) -> Credentials | None:
    """``docker-credential-<helper> get``; a missing helper or unknown server means anonymous."""
    if not helper.replace("-", "").replace("_", "").isalnum():
        raise UsageError(f"invalid credential helper name {helper!r} in the Docker config")
    program = shutil.which(f"docker-credential-{helper}")
    if program is None:
        return None
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv, no shell
            [program, "get"],
            input=server_url.encode(),
            capture_output=True,
            timeout=_HELPER_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise AuthenticationError(
            f"credential helper docker-credential-{helper} failed: {type(error).__name__}",
            hint="check the helper, or remove it from the Docker config",
        ) from None
    if done.returncode != 0:
        # Helpers print "credentials not found in native keychain" for unknown servers.
        if b"not found" in done.stdout.lower() + done.stderr.lower():
            return None
        raise AuthenticationError(
            f"credential helper docker-credential-{helper} exited with {done.returncode}",
            hint="run it by hand to see why, or remove it from the Docker config",
        )
    try:
        answer = jsonutil.loads(done.stdout, what="credential helper output")
        username, secret = answer["Username"], answer["Secret"]
    except (ImagetrustError, KeyError, TypeError):
        raise AuthenticationError(
            f"credential helper docker-credential-{helper} returned malformed output",
            hint="expected JSON with Username and Secret",
        ) from None
    if not isinstance(username, str) or not isinstance(secret, str) or not secret:
        return None
    return Credentials(username, secret)
