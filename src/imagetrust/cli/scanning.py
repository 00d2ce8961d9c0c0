"""Glue from the CLI to the vulnerability scan used by ``check`` (filled in with the matcher)."""

from __future__ import annotations

from pathlib import Path

from imagetrust.assess.model import ScanFn
from imagetrust.config import Settings


def scan_function(settings: Settings, db: Path | None) -> ScanFn | None:
    """The scan ``check`` runs; None (vulnerabilities "not scanned") until a matcher exists."""
    return None
