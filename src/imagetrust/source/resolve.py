"""Local-first resolution: scan the image the user actually has, when a daemon has it.

``postgres:16`` means different bytes on different machines: the copy pulled last week, or the
tag's current image in the registry. Mode ``auto`` (the default) scans the local copy when a
Docker-Engine-API daemon is reachable and holds the tag, and says so; otherwise it falls back to
the registry with a one-line note. ``local`` insists on the daemon, ``registry`` never asks it.
``docker-daemon:NAME`` is always local. The mode comes from the caller, else ``IMAGETRUST_SOURCE``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, cast, get_args

from imagetrust.config import Settings
from imagetrust.errors import NetworkError, NotFoundError, UsageError
from imagetrust.reference import ImageReference, LocalReference, Target
from imagetrust.source._ranges import enable_verification_memo
from imagetrust.source.daemon.discovery import candidate_endpoints, describe_tried
from imagetrust.source.daemon.model import LocalImageInfo
from imagetrust.source.factory import open_source
from imagetrust.source.interface import ImageSource

if TYPE_CHECKING:  # the daemon client needs httpx: imported only when a daemon is asked
    from imagetrust.source.daemon.client import DaemonClient
    from imagetrust.source.daemon.source import DaemonSource

SourceMode = Literal["auto", "local", "registry"]
Origin = Literal["local", "registry"]
EXPORT_DIR = "daemon-exports"
_PING_TIMEOUT = 3.0


@dataclass(frozen=True)
class ResolvedSource:
    """The opened source, where it came from, and what the user should be told about it."""

    source: ImageSource
    origin: Origin
    note: str | None = None
    """One line for the user: why the registry was used, or which local image was scanned."""
    local: LocalImageInfo | None = None
    """The daemon's record of the scanned image (tags, every RepoDigest, created), if local."""

    def close(self) -> None:
        self.source.close()


def source_mode(value: str | None = None, environ: Mapping[str, str] | None = None) -> SourceMode:
    """``value``, else ``IMAGETRUST_SOURCE``, else ``auto``; anything else is a UsageError."""
    env = os.environ if environ is None else environ
    text = (value or env.get("IMAGETRUST_SOURCE") or "auto").strip().lower()
    if text not in get_args(SourceMode):
        raise UsageError(
            f"invalid image source mode {text!r}", hint="use auto, local or registry"
        )
    return cast(SourceMode, text)


def connect_daemon(
    settings: Settings, environ: Mapping[str, str] | None = None
) -> DaemonClient:
    """A client for the first daemon answering ``/_ping``; else NetworkError naming where."""
    from imagetrust.source.daemon.client import DaemonClient

    env = os.environ if environ is None else environ
    for endpoint in candidate_endpoints(env):
        with DaemonClient(endpoint, timeout=_PING_TIMEOUT) as probe:
            try:
                probe.ping()
            except NetworkError:
                continue
        return DaemonClient(endpoint, timeout=settings.timeout)
    raise NetworkError(
        f"no Docker daemon reachable at {describe_tried(env)}",
        hint="start Docker or podman's API service, or set DOCKER_HOST=unix:///path/to/sock",
    )


def open_daemon_image(
    name: str, settings: Settings, environ: Mapping[str, str] | None = None
) -> DaemonSource:
    """``docker-daemon:NAME``: the named local image, or a clear error."""
    from imagetrust.source.daemon.source import DaemonSource

    with connect_daemon(settings, environ) as client:
        return DaemonSource(name, client, settings.cache_dir / EXPORT_DIR)


def _registry(target: ImageReference, settings: Settings, note: str | None) -> ResolvedSource:
    return ResolvedSource(open_source(target, settings), "registry", note)


def resolve_source(
    target: Target,
    settings: Settings,
    mode: SourceMode | str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> ResolvedSource:
    """Open ``target`` from the local daemon or the registry according to ``mode``."""
    enable_verification_memo(settings.cache_dir / "verified")
    env = os.environ if environ is None else environ
    chosen = source_mode(mode, env)
    if isinstance(target, LocalReference):
        if target.transport == "docker-daemon":
            source = open_daemon_image(target.selector or "", settings, env)
            return ResolvedSource(source, "local", None, source.info)
        return ResolvedSource(open_source(target, settings), "local")
    if chosen == "registry":
        return _registry(target, settings, None)

    from imagetrust.source.daemon.lookup import find_local_image
    from imagetrust.source.daemon.source import DaemonSource

    try:
        client = connect_daemon(settings, env)
    except (NetworkError, UsageError) as error:
        if chosen == "local":
            raise
        return _registry(target, settings, f"{error.message}; using the registry")
    with client:
        found = find_local_image(client, target)
        if found is None:
            missing = f"{target.familiar} is not in the local image cache at {client.endpoint}"
            if chosen == "local":
                raise NotFoundError(
                    missing, hint="pull it first, or scan the registry with --source registry"
                )
            return _registry(target, settings, f"{missing}; using the registry")
        info, matched = found
        platform = info.platform
        wanted = settings.platform
        if chosen == "auto" and platform is not None and (
            platform.os, platform.architecture) != (wanted.os, wanted.architecture):
            return _registry(
                target, settings,
                f"the local {matched.familiar} is {platform}, not {wanted}; using the registry",
            )
        source = DaemonSource(str(matched), client, settings.cache_dir / EXPORT_DIR, info=info)
    note = (
        f"scanning the local image {matched.familiar} ({info.image_id[:19]}) from "
        f"{source.endpoint}; --source registry scans the registry's copy"
    )
    return ResolvedSource(source, "local", note, info)
