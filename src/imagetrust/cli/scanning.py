"""Glue from ``check`` to the vulnerability scan: the matcher's findings, reduced for assessment."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import click

from imagetrust.assess.model import FindingLike, ScanFn, VulnFinding
from imagetrust.catalog.model import Catalog
from imagetrust.config import Settings
from imagetrust.image.model import Image
from imagetrust.match.db import resolve_db_path
from imagetrust.match.scan import feed_base_urls, scan_catalog
from imagetrust.source.interface import ImageSource


def scan_function(settings: Settings, db: Path | None) -> ScanFn:
    """A scan over the embedded database (feeds refreshed unless offline); warnings to stderr.

    ``check`` calls it for the scanned image and, for "what pulling would fix", for the image the
    tag points to now; each warning is printed once.
    """
    db_path = resolve_db_path(db, settings.cache_dir)
    said: set[str] = set()

    def scan(source: ImageSource, image: Image, catalog: Catalog) -> Iterable[FindingLike]:
        result = scan_catalog(
            catalog,
            db_path,
            offline=settings.offline,
            base_urls=feed_base_urls(insecure=settings.insecure_registries),
            insecure=settings.insecure_registries,
        )
        for warning in result.warnings:
            if warning not in said:
                said.add(warning)
                click.echo(f"imagetrust: warning: {warning}", err=True)
        return [
            VulnFinding(f.id, f.package.name, f.severity, f.fix_state, f.kev)
            for f in result.findings
        ]

    return scan
