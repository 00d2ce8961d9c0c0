"""Registers every subcommand module on the group (imported for its side effects)."""

from __future__ import annotations

from imagetrust.cli import (
    audit_cmd,  # noqa: F401
    catalog_cmd,  # noqa: F401
    check_cmd,  # noqa: F401
    cves_cmd,  # noqa: F401
    db_cmd,  # noqa: F401
    inspect_cmd,  # noqa: F401
    sbom_cmd,  # noqa: F401
)
