"""``imagetrust inspect IMAGE``."""

from __future__ import annotations

import click

from imagetrust.cli.main import cli
from imagetrust.cli.options import format_option, image_options, source_option
from imagetrust.cli.runtime import say_note
from imagetrust.config import load_settings


@cli.command("inspect")
@click.argument("image")
@image_options
@source_option
@format_option("inspect")
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
    from imagetrust.app.inspect import inspect
    from imagetrust.report.formats import emit

    settings = load_settings(
        registry_mirrors=registry_mirrors,
        insecure_registries=insecure_registries,
        platform=platform,
    )
    document = inspect(image, settings=settings, source_mode=source_mode)
    say_note(document.note)
    emit("inspect", output_format, document)
    if document.ratelimit_remaining is not None:
        click.echo(
            f"note: Docker Hub pull rate limit remaining: {document.ratelimit_remaining}",
            err=True,
        )
