"""The typed image model handed from the image stage to the catalogers and beyond.

Everything here is a frozen value: it says what the image *is*, not how to read it. Reading layer
bytes goes through the :class:`~imagetrust.source.interface.ImageSource` that produced the image.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from imagetrust.oci.content import DEFAULT_PLATFORM, Descriptor, Platform, RawManifest

__all__ = [
    "DEFAULT_PLATFORM",
    "Descriptor",
    "HistoryEntry",
    "Image",
    "ImageConfig",
    "Layer",
    "Platform",
    "RawManifest",
]


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    created: datetime | None
    created_by: str | None
    comment: str | None
    empty_layer: bool


@dataclass(frozen=True, slots=True)
class ImageConfig:
    """The parts of the image config that later stages use (the raw bytes are kept too)."""

    digest: str
    os: str
    architecture: str
    variant: str | None
    created: datetime | None
    user: str | None
    env: tuple[str, ...]
    entrypoint: tuple[str, ...] | None
    cmd: tuple[str, ...] | None
    labels: Mapping[str, str]
    diff_ids: tuple[str, ...]
    history: tuple[HistoryEntry, ...]
    raw: Mapping[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @property
    def env_map(self) -> dict[str, str]:
        """``Env`` as a mapping (``NAME=value`` entries; the last one of a name wins)."""
        return dict(item.split("=", 1) for item in self.env if "=" in item)


@dataclass(frozen=True, slots=True)
class Layer:
    """One layer: ``digest`` names the bytes as stored, ``diff_id`` the uncompressed tar."""

    index: int
    digest: str
    diff_id: str
    size: int
    media_type: str


@dataclass(frozen=True, slots=True)
class Image:
    """One platform image as resolved from a reference."""

    reference: str
    """What was asked for, normalised (``docker.io/library/postgres:16``, ``oci-dir:/l:app``)."""
    source_kind: str
    """registry, docker-archive, oci-dir, oci-archive, dir, docker-daemon."""
    digest: str | None
    """Platform manifest digest (None for ``dir:``; synthetic for classic docker-archive)."""
    index_digest: str | None
    media_type: str
    platform: Platform
    platforms: tuple[Platform, ...]
    """Every platform of the index the image came from (empty when there was no index)."""
    config: ImageConfig
    layers: tuple[Layer, ...]
    manifest_annotations: Mapping[str, str] = field(default_factory=dict)
    index_annotations: Mapping[str, str] = field(default_factory=dict)
    repo_tags: tuple[str, ...] = ()
    """Tags recorded with the image by an archive/layout/daemon (``debian:12``)."""
    repo_digests: tuple[str, ...] = ()
    """``name@sha256:…`` recorded by a daemon or known from the registry."""
    attestations: tuple[Descriptor, ...] = ()
    """Attestation manifests in the index that refer to this image's manifest."""

    @property
    def diff_ids(self) -> tuple[str, ...]:
        return self.config.diff_ids

    @property
    def annotations(self) -> Mapping[str, str]:
        """Index annotations overlaid by manifest annotations."""
        merged = dict(self.index_annotations)
        merged.update(self.manifest_annotations)
        return merged
