"""``imagetrust inspect IMAGE``."""

from __future__ import annotations

import json

import click
from rich.console import Console

from imagetrust.api import inspect
from imagetrust.cli.main import cli
from imagetrust.cli.options import format_option, image_options, source_option
from imagetrust.config import load_settings
from imagetrust.report.inspect import inspect_json, render_inspect


@cli.command("inspect")
@click.argument("image")
@image_options
@source_option
@format_option("table", "json")
def inspect_command(
    image: str,
    platform: str | None,
    source_mode: str | None,
    registry_mirrors: tuple[str, ...],
    insecure_registries: tuple[str, ...],
    output_format: str,
) -> None:
    """Show an image's manifest, config and layers without pulling its layers.

    IMAGE is a registry reference (postgres:16, ghcr.io/org/app@sha256:…) or
    docker-archive:PATH[:NAME:TAG], oci-dir:PATH[:TAG], oci-archive:PATH[:TAG], dir:PATH.
    """
    settings = load_settings(
        registry_mirrors=registry_mirrors,
        insecure_registries=insecure_registries,
        platform=platform,
    )
    inspection = inspect(image, settings=settings, source_mode=source_mode)
    result = inspection.image
    if inspection.note:
        click.echo(f"note: {inspection.note}", err=True)
    if output_format == "json":
        click.echo(json.dumps(inspect_json(result, inspection.origin, inspection.local), indent=2))
    else:
        render_inspect(result, Console(), inspection.origin, inspection.local)
    if inspection.ratelimit_remaining is not None:
        click.echo(
            f"note: Docker Hub pull rate limit remaining: {inspection.ratelimit_remaining}",
            err=True,
        )
