"""Scan a package catalog against the vulnerability database: the second half of scanning.

The feeds an image needs are refreshed first unless offline (:func:`scan_inventory`); the
result keeps its coverage, so "nothing found" and "nothing could be judged" never read alike.
:func:`database_scan` adapts the same scan to the assess stage's ``ScanFn``.
"""

from __future__ import annotations

from dataclasses import replace
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


def summarize(
    result: ScanResult, suppressed: tuple[tuple[str, str, str], ...] = ()
) -> VulnSummary:
    """The scan reduced to what assessment reads, its coverage included."""
    coverage = result.coverage
    reduced = (
        VulnFinding(f.id, f.package.name, f.severity, f.fix_state, f.kev, f.epss, f.published)
        for f in result.findings
    )
    summary = VulnSummary.of(reduced, coverage.state, coverage.reason)
    return replace(summary, suppressed=suppressed) if suppressed else summary


def apply_suppressions(
    result: ScanResult, runtime: Runtime, image_ref: str, digest: str | None
) -> tuple[ScanResult, tuple[tuple[str, str, str], ...]]:
    """The scan without what the run's VEX statements and exceptions suppress; expired and
    ended exceptions are said as warnings."""
    inputs = runtime.suppression()
    if not inputs:
        return result, ()
    from imagetrust.policy.suppress import ended_sentence, expired_sentence, suppress

    done = suppress(result.findings, image_ref=image_ref, vex=inputs.vex,
                    exceptions=inputs.exceptions, now=runtime.now, image_digest=digest)
    for exception in done.expired:
        runtime.messages.warning(expired_sentence(exception))
    for ended in done.ended:
        runtime.messages.warning(ended_sentence(ended))
    hidden = tuple((s.finding.id, s.finding.package.name, s.by) for s in done.suppressed)
    return replace(result, findings=done.kept), hidden


def database_scan(runtime: Runtime) -> ScanFn:
    """The embedded database as the assess stage's scan, after the run's VEX statements and
    exceptions; its warnings go to the messages."""

    def scan(source: ImageSource, image: Image, catalog: Catalog) -> VulnSummary:
        result = scan_inventory(catalog, runtime)
        for warning in result.warnings:
            runtime.messages.warning(warning)
        result, hidden = apply_suppressions(result, runtime, image.reference, image.digest)
        return summarize(result, hidden)

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
