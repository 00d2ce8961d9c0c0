"""The library API: every use case the CLI runs, as one call each, and the pieces they share.

Each function returns a typed document (:mod:`imagetrust.report.document`) or result; nothing
here prints. The CLI parses flags, calls one of these and renders the document with
:func:`imagetrust.report.formats.render`. Examples (README "Library" has a runnable one each)::

    from imagetrust.api import check, cves
    verdict = check("postgres:16").result.verdict
    print(verdict.level.slug, verdict.reasons)
    print(len(cves("postgres:16").findings))
"""

from __future__ import annotations

from dataclasses import dataclass

from imagetrust.app.audit import audit, audit_local_images
from imagetrust.app.check import check, check_document, check_image
from imagetrust.app.cves import cves, scan_document
from imagetrust.app.inspect import inspect, inspect_image
from imagetrust.app.inventory import Inventory, opened_inventory, read_inventory
from imagetrust.app.runtime import Messages, Runtime
from imagetrust.app.sbom import sbom
from imagetrust.app.scanning import scan_inventory, summarize
from imagetrust.assess.check import assess_image
from imagetrust.catalog.model import Catalog
from imagetrust.config import Settings, load_settings
from imagetrust.image.model import Image, Platform
from imagetrust.image.session import CopyRead, OpenImage, open_image
from imagetrust.policy.check import CheckResult, decide_assessment
from imagetrust.reference import Target
from imagetrust.report.formats import render


@dataclass(frozen=True)
class ScannedImage:
    """An image and its package inventory (what :func:`catalog` returns)."""

    image: Image
    catalog: Catalog
    origin: str = "registry"
    note: str | None = None


def catalog(
    target: str | Target,
    *,
    settings: Settings | None = None,
    platform: Platform | None = None,
    source_mode: str | None = None,
) -> ScannedImage:
    """The package inventory of one image with its image model (see also :func:`sbom`)."""
    from imagetrust.app.inventory import catalog_opened

    settings = settings or load_settings()
    with open_image(
        target, settings=settings, platform=platform, source_mode=source_mode
    ) as opened:
        inventory = catalog_opened(opened.source, opened.image, settings)
        return ScannedImage(opened.image, inventory, opened.origin, opened.note)


__all__ = [
    "CheckResult",
    "CopyRead",
    "Inventory",
    "Messages",
    "OpenImage",
    "Runtime",
    "ScannedImage",
    "assess_image",
    "audit",
    "audit_local_images",
    "catalog",
    "check",
    "check_document",
    "check_image",
    "cves",
    "decide_assessment",
    "inspect",
    "inspect_image",
    "open_image",
    "opened_inventory",
    "read_inventory",
    "render",
    "sbom",
    "scan_document",
    "scan_inventory",
    "summarize",
]
