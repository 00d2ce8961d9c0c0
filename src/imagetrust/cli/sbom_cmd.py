"""``imagetrust sbom IMAGE``."""

from __future__ import annotations

from pathlib import Path

import click

from imagetrust.cli.main import cli
from imagetrust.cli.options import format_option, image_options, output_option, source_option
from imagetrust.cli.runtime import say_note
from imagetrust.config import load_settings

# The pipeline and the writers are imported inside the command, and only the writer asked for
# (the format registry loads it): they cost more start-up time than a scan of a small image
# (docs/performance.md).


@cli.command("sbom")
@click.argument("image")
@image_options
@source_option
@format_option("sbom")
@output_option
def sbom_command(
    image: str,
    platform: str | None,
    source_mode: str | None,
    registry_mirrors: tuple[str, ...],
    insecure_registries: tuple[str, ...],
    output_format: str,
    output: Path | None,
) -> None:
    """List the OS and language packages in IMAGE (an SBOM).

    Formats: a table for people, imagetrust JSON, CycloneDX 1.6 JSON, SPDX 2.3 JSON. Each package
    carries the layer that introduced it and the cataloger that found it.
    """
    from imagetrust.app.sbom import sbom
    from imagetrust.report.formats import emit

    settings = load_settings(
        registry_mirrors=registry_mirrors,
        insecure_registries=insecure_registries,
        platform=platform,
        source_mode=source_mode,
    )
    document = sbom(image, settings=settings)
    say_note(document.note)
    if output_format == "table" and output is not None:
        output_format = "json"  # a table is for a terminal: a file gets the machine's form
    emit("sbom", output_format, document, output)
