"""``sbom``: the package inventory of one image, as a document every SBOM format renders."""

from __future__ import annotations

from imagetrust.app.inventory import opened_inventory
from imagetrust.app.runtime import runtime_for
from imagetrust.config import Settings
from imagetrust.image.model import Platform
from imagetrust.reference import Target
from imagetrust.report.sbom_document import SbomDocument


def sbom(
    target: str | Target, *, settings: Settings | None = None, platform: Platform | None = None
) -> SbomDocument:
    """OS and language packages of ``target``, each with the layer that introduced it."""
    runtime = runtime_for(settings)
    with runtime.scope(), opened_inventory(
        target, runtime.settings, platform=platform
    ) as (opened, inventory):
        return SbomDocument(
            opened.image.reference, opened.image.digest, inventory.catalog, inventory.copy,
            inventory.note,
        )
