"""Scan a package catalog against the vulnerability database: the second half of scanning.

The feeds an image needs are refreshed first unless offline (:func:`scan_inventory`); the
result keeps its coverage, so "nothing found" and "nothing could be judged" never read alike.
:func:`database_scan` adapts the same scan to the assess stage's ``ScanFn``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from imagetrust.app.runtime import Runtime
from imagetrust.assess.model import ScanFn, VulnFinding, VulnSummary
from imagetrust.catalog.model import Catalog
from imagetrust.config import Settings
from imagetrust.image.model import Image, Platform
from imagetrust.match.model import ScanResult, ScanSubject
from imagetrust.match.scan import feed_base_urls, scan_catalog
from imagetrust.source.interface import ImageSource

if TYPE_CHECKING:  # the registry client needs httpx: local scans never import it
    from imagetrust.assess.freshness import CurrentImage
    from imagetrust.source.registry.client import RegistryClient


def scan_inventory(
    catalog: Catalog, runtime: Runtime, subject: ScanSubject | None = None
) -> ScanResult:
    """Findings of ``catalog`` (feeds refreshed unless offline), with coverage and warnings."""
    settings = runtime.settings
    return scan_catalog(
        catalog,
        runtime.db_path,
        subject=subject,
        offline=settings.offline,
        base_urls=feed_base_urls(insecure=settings.insecure_registries),
        progress=runtime.progress,
        insecure=settings.insecure_registries,
    )


def summarize(result: ScanResult) -> VulnSummary:
    """The scan reduced to what assessment reads, its coverage included."""
    coverage = result.coverage
    reduced = (
        VulnFinding(f.id, f.package.name, f.severity, f.fix_state, f.kev, f.epss, f.published)
        for f in result.findings
    )
    return VulnSummary.of(reduced, coverage.state, coverage.reason)


def database_scan(runtime: Runtime) -> ScanFn:
    """The embedded database as the assess stage's scan; its warnings go to the messages."""

    def scan(source: ImageSource, image: Image, catalog: Catalog) -> VulnSummary:
        result = scan_inventory(catalog, runtime)
        for warning in result.warnings:
            runtime.messages.warning(warning)
        return summarize(result)

    return scan


def scan_current(
    current: CurrentImage,
    platform: Platform,
    client: RegistryClient,
    settings: Settings,
    scan: ScanFn,
) -> VulnSummary:
    """Open, inventory and scan what a tag points to now (its layers come from the registry,
    shared ones from the layer cache)."""
    from imagetrust.app.inventory import catalog_opened
    from imagetrust.image.open import open_image as resolve
    from imagetrust.source.registry.source import RegistrySource

    source = RegistrySource(current.ref, client, close_client=False)
    try:
        image = resolve(source, reference=str(current.ref), platform=platform)
        catalog = catalog_opened(source, image, settings)
        return VulnSummary.of(scan(source, image, catalog))
    finally:
        source.close()
