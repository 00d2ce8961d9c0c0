"""Options shared by several commands, each with its environment variable."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def image_options(func: F) -> F:
    """--platform, --registry-mirror, --insecure-registry."""
    decorators = [
        click.option(
            "--platform",
            envvar="IMAGETRUST_PLATFORM",
            metavar="OS/ARCH[/VARIANT]",
            help="Platform to pick from a multi-platform image (default linux/amd64).",
        ),
        click.option(
            "--registry-mirror",
            "registry_mirrors",
            multiple=True,
            metavar="REGISTRY=URL",
            help="Fetch REGISTRY's content from URL, keeping the canonical name "
            "(env IMAGETRUST_REGISTRY_MIRRORS, comma-separated).",
        ),
        click.option(
            "--insecure-registry",
            "insecure_registries",
            multiple=True,
            metavar="HOST[:PORT]",
            help="Allow plain HTTP to HOST (loopback is always allowed).",
        ),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def format_option(command: str, default: str = "table") -> Callable[[F], F]:
    """--format with the formats registered for ``command`` (imagetrust.report.formats)."""
    from imagetrust.report.formats import choices

    return click.option(
        "--format",
        "output_format",
        type=click.Choice(choices(command)),
        default=default,
        show_default=True,
        help="Output format.",
    )


def output_option(func: F) -> F:
    """-o/--output FILE: written atomically instead of standard output."""
    return click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Write the report to this file instead of standard output.",
    )(func)


def source_option(func: F) -> F:
    """--source auto|local|registry (env IMAGETRUST_SOURCE)."""
    return click.option(
        "--source",
        "source_mode",
        type=click.Choice(["auto", "local", "registry"]),
        envvar="IMAGETRUST_SOURCE",
        default=None,
        help="Where a plain reference is read from: auto (the local Docker/podman image cache "
        "when it has the image, else the registry; the default), local, or registry.",
    )(func)


def offline_db_options(func: F) -> F:
    """--offline and --db, the same on every command that scans (the environment variables
    are read by the settings and the database path resolver, so each command agrees)."""
    decorators = [
        click.option("--offline", is_flag=True,
                     help="Never touch the network for feeds or tags (env IMAGETRUST_OFFLINE=1)."),
        click.option(
            "--db",
            type=click.Path(dir_okay=False, path_type=Path),
            envvar="IMAGETRUST_DB",
            help="Vulnerability database (env IMAGETRUST_DB).",
        ),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def scan_gate_options(func: F) -> F:
    """--min-level, --offline, --db, --no-scan: shared by the commands that end in a verdict."""
    decorators = [
        click.option(
            "--min-level",
            default="trusted-with-caveats",
            show_default=True,
            help="untrusted, needs-attention, unknown, trusted-with-caveats or trusted.",
        ),
        click.option("--no-scan", is_flag=True, help="Skip the vulnerability scan."),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return offline_db_options(func)
