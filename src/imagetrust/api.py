"""The library API: what the CLI calls, and what a user can import.

Each function runs the pipeline up to the stage it needs and returns typed results; nothing here
prints. Example::

    from imagetrust.api import inspect_image
    image = inspect_image("postgres:16")
    print(image.digest, [layer.diff_id for layer in image.layers])
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from imagetrust.catalog.model import Catalog
from imagetrust.config import Settings, load_settings
from imagetrust.image.model import Image, Platform
from imagetrust.reference import Target, parse_target
from imagetrust.source.factory import open_source
from imagetrust.source.interface import ImageSource


@dataclass(frozen=True)
class OpenImage:
    """An image together with the open source its layers are read from."""

    target: Target
    image: Image
    source: ImageSource

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
) -> Iterator[OpenImage]:
    """Resolve ``target`` to one platform image; the source stays open inside the block."""
    parsed = parse_target(target) if isinstance(target, str) else target
    settings = settings or load_settings()
    from imagetrust.image.open import open_image as resolve

    source = open_source(parsed, settings)
    try:
        image = resolve(source, reference=str(parsed), platform=platform or settings.platform)
        yield OpenImage(parsed, image, source)
    finally:
        source.close()


def inspect_image(
    target: str | Target, *, settings: Settings | None = None, platform: Platform | None = None
) -> Image:
    """Manifest, config and layers of one image, from any source, without reading layers."""
    return inspect(target, settings=settings, platform=platform).image


@dataclass(frozen=True)
class Inspection:
    image: Image
    ratelimit_remaining: int | None


def inspect(
    target: str | Target, *, settings: Settings | None = None, platform: Platform | None = None
) -> Inspection:
    """Like :func:`inspect_image`, plus what the registry said about pull limits."""
    with open_image(target, settings=settings, platform=platform) as opened:
        return Inspection(opened.image, opened.ratelimit_remaining)


@dataclass(frozen=True)
class ScannedImage:
    """An image and its package inventory."""

    image: Image
    catalog: Catalog


def layer_cache_dir(settings: Settings) -> Path:
    """Per-layer catalog cache: a second image on the same base re-reads only its own layers."""
    return settings.cache_dir / "layers"


def catalog(
    target: str | Target, *, settings: Settings | None = None, platform: Platform | None = None
) -> ScannedImage:
    """The package inventory of one image (OS and language packages, with their layers)."""
    from imagetrust.catalog.run import catalog_image

    settings = settings or load_settings()
    with open_image(target, settings=settings, platform=platform) as opened:
        inventory = catalog_image(opened.source, opened.image, cache_dir=layer_cache_dir(settings))
        return ScannedImage(opened.image, inventory)


__all__ = [
    "Inspection",
    "OpenImage",
    "ScannedImage",
    "catalog",
    "inspect",
    "inspect_image",
    "open_image",
]
