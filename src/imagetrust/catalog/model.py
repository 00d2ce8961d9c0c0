"""Typed output of the catalog stage: packages, the OS, and what could not be read."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from imagetrust.image.files import FileRequest, FileTree


@dataclass(frozen=True, slots=True)
class OSInfo:
    """The distribution the image is built on, from os-release and friends."""

    id: str
    """``debian``, ``alpine``, ``ubuntu``, ``rhel``… (os-release ID); ``unknown`` when absent."""
    version_id: str | None
    """``12``, ``3.19.1``, ``22.04``."""
    codename: str | None
    """``bookworm``, ``jammy``; None for distros without codenames."""
    pretty_name: str | None
    point_release: str | None = None
    """Debian ``12.7`` from /etc/debian_version, Alpine ``3.19.1`` from /etc/alpine-release."""
    id_like: tuple[str, ...] = ()
    distroless: bool = False
    """No os-release but a dpkg ``status.d`` (Google distroless)."""

    @property
    def release(self) -> str | None:
        """The key vulnerability feeds use: Debian codename, Alpine ``v3.19`` branch, Ubuntu
        version."""
        if self.id == "alpine" and self.version_id:
            major_minor = ".".join(self.version_id.split(".")[:2])
            return f"v{major_minor}"
        if self.id == "debian":
            return self.codename or self.version_id
        return self.version_id


@dataclass(frozen=True, slots=True)
class Location:
    """Where a package's evidence lives: a path and the layer that introduced it."""

    path: str
    layer_index: int
    diff_id: str


@dataclass(frozen=True, slots=True)
class Package:
    """One installed package.

    ``type`` is the purl type (``deb``, ``apk``, ``rpm``, ``pypi``, ``npm``, ``golang``,
    ``maven``, ``cargo``, ``gem``). For OS packages ``source_name``/``source_version`` name the
    source package that security trackers refer to (a binNMU ``+b1`` binary version differs).
    """

    name: str
    version: str
    type: str
    purl: str
    cataloger: str
    """Which cataloger found it (``dpkg``, ``apk``, ``rpm``, ``python``, ``node``, ``go``,
    ``java``)."""
    locations: tuple[Location, ...]
    source_name: str | None = None
    source_version: str | None = None
    architecture: str | None = None
    epoch: int | None = None
    licenses: tuple[str, ...] = ()
    namespace: str | None = None
    """purl namespace: ``debian``, ``alpine``, maven groupId, npm scope, Go module path prefix."""
    metadata: Mapping[str, str] = field(default_factory=dict)

    @property
    def introduced_by(self) -> Location | None:
        """The location in the earliest layer (used for base-image attribution)."""
        return min(self.locations, key=lambda loc: loc.layer_index, default=None)


@dataclass(frozen=True, slots=True)
class CatalogSkip:
    """A thing a cataloger found but could not parse, with the reason (never a silent drop)."""

    cataloger: str
    path: str
    reason: str


@dataclass(frozen=True)
class Catalog:
    """The package inventory of one image."""

    os: OSInfo | None
    packages: tuple[Package, ...]
    skips: tuple[CatalogSkip, ...] = ()


class Cataloger(Protocol):
    """A cataloger declares the files it needs up front, so every layer is read only once."""

    name: str

    def request(self) -> FileRequest:
        """Globs (and optional predicate) for the files this cataloger reads."""
        ...

    def catalog(
        self, files: FileTree, os_info: OSInfo | None
    ) -> tuple[Sequence[Package], Sequence[CatalogSkip]]:
        """Packages found in ``files``, and skips for what could not be parsed."""
        ...
