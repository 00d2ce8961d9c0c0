"""The library API: what the CLI calls, and what a user can import.

Each function runs the pipeline up to the stage it needs and returns typed results; nothing here
prints. Example::

    from imagetrust.api import inspect_image
    image = inspect_image("postgres:16")
    print(image.digest, [layer.diff_id for layer in image.layers])
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from imagetrust.catalog.model import Catalog
from imagetrust.config import Settings, load_settings
from imagetrust.image.model import Image, Platform
from imagetrust.image.session import OpenImage, open_image
from imagetrust.reference import Target
from imagetrust.source.daemon.model import LocalImageInfo


def inspect_image(
    target: str | Target, *, settings: Settings | None = None, platform: Platform | None = None
) -> Image:
    """Manifest, config and layers of one image, from any source, without reading layers."""
    return inspect(target, settings=settings, platform=platform).image


@dataclass(frozen=True)
class Inspection:
    image: Image
    ratelimit_remaining: int | None
    origin: str
    note: str | None
    local: LocalImageInfo | None


def inspect(
    target: str | Target,
    *,
    settings: Settings | None = None,
    platform: Platform | None = None,
    source_mode: str | None = None,
) -> Inspection:
    """Like :func:`inspect_image`, plus which copy was read and the registry's pull limits."""
    with open_image(
        target, settings=settings, platform=platform, source_mode=source_mode
    ) as opened:
        return Inspection(
            opened.image, opened.ratelimit_remaining, opened.origin, opened.note, opened.local
        )


@dataclass(frozen=True)
class ScannedImage:
    """An image and its package inventory."""

    image: Image
    catalog: Catalog
    origin: str = "registry"
    note: str | None = None


def layer_cache_dir(settings: Settings) -> Path:
    """Root the catalog's per-layer cache lives under (the reader keeps it in ``<root>/layers``),
    so a second image on the same base re-reads only its own layers."""
    return settings.cache_dir


def catalog(
    target: str | Target,
    *,
    settings: Settings | None = None,
    platform: Platform | None = None,
    source_mode: str | None = None,
) -> ScannedImage:
    """The package inventory of one image (OS and language packages, with their layers)."""
    from imagetrust.catalog.run import catalog_image

    settings = settings or load_settings()
    with open_image(
        target, settings=settings, platform=platform, source_mode=source_mode
    ) as opened:
        inventory = catalog_image(opened.source, opened.image, cache_dir=layer_cache_dir(settings))
        return ScannedImage(opened.image, inventory, opened.origin, opened.note)


__all__ = [
    "Inspection",
    "OpenImage",
    "ScannedImage",
    "catalog",
    "inspect",
    "inspect_image",
    "open_image",
]
