"""Platforms, descriptors and raw manifests: the OCI content vocabulary."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

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
