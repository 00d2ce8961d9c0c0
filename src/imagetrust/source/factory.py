"""Pick the source for a target: a registry client or one of the local readers.

A ``docker-daemon:`` target needs a daemon connection, which :mod:`imagetrust.source.resolve`
opens; resolve calls this factory for everything else, so the factory never calls back into it.
"""

from __future__ import annotations

from imagetrust.config import Settings
from imagetrust.errors import UsageError
from imagetrust.reference import ImageReference, LocalReference, Target
from imagetrust.source.interface import ImageSource


def open_source(target: Target, settings: Settings) -> ImageSource:
    """Return the :class:`ImageSource` that reads ``target`` (the caller closes it)."""
    if isinstance(target, ImageReference):
        from imagetrust.source.registry import RegistryClient, RegistrySource

        return RegistrySource(target, RegistryClient(settings))
    return _open_local(target)


def _open_local(target: LocalReference) -> ImageSource:
    """The file-based transports (``docker-daemon:`` is opened by ``resolve_source``)."""
    if target.transport == "docker-archive":
        from imagetrust.source.archive import DockerArchiveSource

        return DockerArchiveSource(target.path, target.selector)
    if target.transport == "oci-dir":
        from imagetrust.source.oci_layout import OciLayoutSource

        return OciLayoutSource(target.path, target.selector)
    if target.transport == "oci-archive":
        from imagetrust.source.oci_layout import OciArchiveSource

        return OciArchiveSource(target.path, target.selector)
    if target.transport == "dir":
        from imagetrust.source.rootfs import RootfsSource

        return RootfsSource(target.path)
    raise UsageError(
        f"{target.transport}: images cannot be opened from this transport here",
        hint="use a registry reference, docker-archive:, oci-dir:, oci-archive: or dir:",
    )
