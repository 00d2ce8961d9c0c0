"""The typed image model handed from the image stage to the catalogers and beyond.

Everything here is a frozen value: it says what the image *is*, not how to read it. Reading layer
bytes goes through the :class:`~imagetrust.source.interface.ImageSource` that produced the image.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from imagetrust.errors import UsageError


@dataclass(frozen=True, slots=True, order=True)
class Platform:
    """``os/architecture[/variant]`` as in an OCI index."""

    os: str
    architecture: str
    variant: str | None = None

    def __str__(self) -> str:
        text = f"{self.os}/{self.architecture}"
        return f"{text}/{self.variant}" if self.variant else text

    @classmethod
    def parse(cls, text: str) -> Platform:
        """Parse ``linux/arm64/v8``; ``arm64`` alone means linux."""
        parts = text.strip().split("/")
        if len(parts) == 1 and parts[0]:
            return cls("linux", parts[0])
        if len(parts) in (2, 3) and all(parts):
            return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else None)
        raise UsageError(
            f"invalid platform {text!r}", hint="use os/arch[/variant], e.g. linux/amd64"
        )

    def to_json(self) -> dict[str, str | None]:
        return {"os": self.os, "architecture": self.architecture, "variant": self.variant}


DEFAULT_PLATFORM = Platform("linux", "amd64")


@dataclass(frozen=True, slots=True)
class Descriptor:
    """An OCI content descriptor: what a manifest or index points at."""

    media_type: str
    digest: str
    size: int
    platform: Platform | None = None
    annotations: Mapping[str, str] = field(default_factory=dict)
    artifact_type: str | None = None


@dataclass(frozen=True, slots=True)
class RawManifest:
    """A manifest or index exactly as fetched, already verified against ``digest``."""

    media_type: str
    digest: str
    data: bytes


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
