"""Stage 1: turn what the user typed into a typed, normalised image reference."""

from __future__ import annotations

from imagetrust.reference.parse import (
    DEFAULT_REGISTRY,
    ImageReference,
    LocalReference,
    Target,
    parse_reference,
    parse_target,
)

__all__ = [
    "DEFAULT_REGISTRY",
    "ImageReference",
    "LocalReference",
    "Target",
    "parse_reference",
    "parse_target",
]
