"""Open an image once and inventory its packages: the first half of every scanning use case.

``sbom``, ``cves``, ``check`` and ``audit`` all need the same thing first: one platform image,
its package catalog (read through the per-layer cache) and which copy was read. An ``sbom:FILE``
stands in for an image where only packages matter.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from imagetrust.catalog.model import Catalog
from imagetrust.config import Settings
from imagetrust.errors import UsageError
from imagetrust.image.model import Image, Platform
from imagetrust.image.session import CopyRead, OpenImage, open_image
from imagetrust.match.model import ScanSubject
from imagetrust.reference import LocalReference, Target, parse_target
from imagetrust.source.interface import ImageSource


@dataclass(frozen=True)
class Inventory:
    """An image's packages, what to call it in reports, and which copy was read."""

    target: Target
    catalog: Catalog
    subject: ScanSubject
    copy: CopyRead
    image: Image | None = None
    """None for an SBOM, which has no image model."""
    note: str | None = None
    """One line on which copy was scanned and why (local-first resolution)."""


def catalog_opened(source: ImageSource, image: Image, settings: Settings) -> Catalog:
    """The catalog of an opened image, through the per-layer cache under the cache directory."""
    from imagetrust.catalog.run import catalog_image

    return catalog_image(source, image, cache_dir=settings.cache_dir)


@contextmanager
def opened_inventory(
    target: str | Target, settings: Settings, *, platform: Platform | None = None
) -> Iterator[tuple[OpenImage, Inventory]]:
    """Open ``target`` and inventory it; the source stays open inside the block (base-image
    detection and assessment read more from it)."""
    with open_image(target, settings=settings, platform=platform) as opened:
        catalog = catalog_opened(opened.source, opened.image, settings)
        yield opened, Inventory(
            opened.target,
            catalog,
            ScanSubject(str(opened.target), opened.image.digest),
            opened.copy,
            opened.image,
            opened.note,
        )


def is_sbom(target: Target) -> bool:
    return isinstance(target, LocalReference) and target.transport == "sbom"


def read_inventory(
    target: str | Target, settings: Settings, *, platform: Platform | None = None
) -> Inventory:
    """The inventory of any image source, or of an ``sbom:FILE`` (CycloneDX or SPDX JSON)."""
    parsed = parse_target(target) if isinstance(target, str) else target
    if isinstance(parsed, LocalReference) and parsed.transport == "sbom":
        from imagetrust.catalog.sbom_input import read_sbom

        return Inventory(
            parsed, read_sbom(parsed.path), ScanSubject(str(parsed)),
            CopyRead("sbom", path=str(parsed.path)),
        )
    with opened_inventory(parsed, settings, platform=platform) as (_, inventory):
        return inventory


def refuse_sbom(target: Target, why: str) -> None:
    """A UsageError when ``target`` is an SBOM but the use case needs layers."""
    if is_sbom(target):
        raise UsageError(
            f"{target} is an SBOM: it has no layers to tell the base image by",
            hint=why,
        )
