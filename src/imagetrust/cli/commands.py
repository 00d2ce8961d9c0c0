"""Which module defines each subcommand: imported only when that command runs.

Start-up time is part of every scan's wall time, so ``imagetrust cves`` must not pay for the
imports of ``audit`` or ``sbom``. A module registers its command on :data:`imagetrust.cli.main.cli`
when imported.
"""

from __future__ import annotations

import importlib

COMMAND_MODULES: dict[str, str] = {
    "audit": "imagetrust.cli.audit_cmd",
    "catalog": "imagetrust.cli.catalog_cmd",
    "check": "imagetrust.cli.check_cmd",
    "cves": "imagetrust.cli.cves_cmd",
    "db": "imagetrust.cli.db_cmd",
    "inspect": "imagetrust.cli.inspect_cmd",
    "policy": "imagetrust.cli.policy_cmd",
    "quickview": "imagetrust.cli.check_cmd",
    "recommend": "imagetrust.cli.recommend_cmd",
    "recommendations": "imagetrust.cli.recommend_cmd",
    "sbom": "imagetrust.cli.sbom_cmd",
    "compare": "imagetrust.cli.compare_cmd",
    "diff": "imagetrust.cli.compare_cmd",
    "dockerfile": "imagetrust.cli.dockerfile_cmd",
}


def load(name: str) -> None:
    """Import the module that defines command ``name`` (registering it)."""
    module = COMMAND_MODULES.get(name)
    if module is not None:
        importlib.import_module(module)


def load_all() -> None:
    """Register every command (for --help listings and tests)."""
    for name in COMMAND_MODULES:
        load(name)
