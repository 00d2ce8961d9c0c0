"""``--vex``, ``--exceptions`` and ``--show-suppressed``: shared by every command that judges
findings (``cves`` now; ``check`` and ``policy evaluate`` take the same decorator)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def _vex_default(ctx: click.Context, param: click.Parameter,
                 value: tuple[Path, ...]) -> tuple[Path, ...]:
    """Flags win; else ``IMAGETRUST_VEX`` (comma-separated paths)."""
    if value:
        return value
    env = os.environ.get("IMAGETRUST_VEX", "")
    return tuple(Path(p.strip()) for p in env.split(",") if p.strip())


def suppression_options(func: F) -> F:
    """--vex FILE (repeatable), --exceptions FILE, --show-suppressed."""
    decorators = [
        click.option(
            "--vex",
            "vex",
            multiple=True,
            type=click.Path(dir_okay=False, path_type=Path),
            callback=_vex_default,
            metavar="FILE",
            help="OpenVEX, CSAF or CycloneDX VEX document; not_affected and fixed statements "
            "suppress findings (repeatable; env IMAGETRUST_VEX, comma-separated).",
        ),
        click.option(
            "--exceptions",
            "exceptions",
            envvar="IMAGETRUST_EXCEPTIONS",
            type=click.Path(dir_okay=False, path_type=Path),
            metavar="FILE",
            help="Exceptions file (TOML): accepted vulnerabilities with reason, author, scope "
            "and expiry (env IMAGETRUST_EXCEPTIONS).",
        ),
        click.option(
            "--show-suppressed",
            is_flag=True,
            help="List suppressed findings and what suppressed them (table, markdown).",
        ),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


__all__ = ["suppression_options"]
