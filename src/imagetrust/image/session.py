"""Open one platform image from any target, local-first, with its source kept open.

This is the image stage's entry point: it resolves where the bytes come from (local daemon,
archive, layout, directory or registry) and interprets the manifest. Later stages (catalog,
assess, the API) all open images through here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from imagetrust.config import Settings, load_settings
from imagetrust.image.model import Image, Platform
from imagetrust.reference import ImageReference, Target, parse_target
from imagetrust.source.daemon.model import LocalImageInfo
from imagetrust.source.interface import ImageSource

_ORIGINS = {
    "registry": "registry",
    "docker-daemon": "local-daemon",
    "docker-archive": "archive",
    "oci-archive": "archive",
    "oci-dir": "layout",
    "dir": "rootfs",
}


@dataclass(frozen=True, slots=True)
class CopyRead:
    """Which copy of an image was read: reports say it, because ``postgres:16`` names different
    bytes on different machines."""

    origin: str
    """``local-daemon``, ``registry``, ``archive``, ``layout``, ``rootfs`` or ``sbom``."""
    endpoint: str | None = None
    """The daemon's address or the registry host (for ``local-daemon`` and ``registry``)."""
    path: str | None = None
    """The file or directory read (archives, layouts, root filesystems, SBOMs)."""

    def to_json(self) -> dict[str, str]:
        doc = {"origin": self.origin}
        if self.endpoint is not None:
            doc["endpoint"] = self.endpoint
        if self.path is not None:
            doc["path"] = self.path
        return doc


def copy_read(target: Target, source: ImageSource) -> CopyRead:
    """Describe the copy ``source`` reads for ``target``."""
    origin = _ORIGINS.get(source.kind, source.kind)
    if origin == "local-daemon":
        return CopyRead(origin, endpoint=str(getattr(source, "endpoint", "") or "") or None)
    if isinstance(target, ImageReference):
        return CopyRead(origin, endpoint=target.registry)
    return CopyRead(origin, path=str(target.path))


@dataclass(frozen=True)
class OpenImage:
    """An image together with the open source its layers are read from."""

    target: Target
    image: Image
    source: ImageSource
    origin: str = "registry"
    """``local`` (daemon, archive, layout, directory) or ``registry``."""
    note: str | None = None
    """One line saying which copy was scanned and why (local-first resolution)."""
    local: LocalImageInfo | None = None
    """What the local daemon holds: image ID, RepoTags, RepoDigests, created."""

    @property
    def copy(self) -> CopyRead:
        """Which copy was read (origin plus endpoint or path)."""
        return copy_read(self.target, self.source)

    @property
    def ratelimit_remaining(self) -> int | None:
        """Docker Hub's ``ratelimit-remaining`` seen while fetching, when the registry sent it."""
        client = getattr(self.source, "client", None)
        value = getattr(client, "ratelimit_remaining", None)
        return value if isinstance(value, int) else None


@contextmanager
def open_image(
    target: str | Target,
    *,
    settings: Settings | None = None,
    platform: Platform | None = None,
    source_mode: str | None = None,
) -> Iterator[OpenImage]:
    """Resolve ``target`` to one platform image; the source stays open inside the block.

    A plain registry reference resolves local-first like ``docker scout``: the local daemon's
    image when one is reachable and holds it (``source_mode`` auto), else the registry.
    """
    parsed = parse_target(target) if isinstance(target, str) else target
    settings = settings or load_settings()
    from imagetrust.image.open import open_image as resolve
    from imagetrust.source.resolve import resolve_source  # imports the source factory lazily

    resolved = resolve_source(parsed, settings, source_mode or settings.source_mode)
    source = resolved.source
    try:
        image = resolve(source, reference=str(parsed), platform=platform or settings.platform)
        yield OpenImage(parsed, image, source, resolved.origin, resolved.note, resolved.local)
    finally:
        source.close()
