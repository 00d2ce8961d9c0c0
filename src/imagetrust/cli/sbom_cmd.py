"""``imagetrust sbom IMAGE``."""

from __future__ import annotations

from pathlib import Path

import click

from imagetrust.cli.main import cli
from imagetrust.cli.options import format_option, image_options, source_option
from imagetrust.config import load_settings

# The pipeline and the writers (rich, spdx-tools) are imported inside the
# command, and only the writer asked for: they cost more start-up time than a scan of a small
# image (docs/performance.md).


@cli.command("sbom")
@click.argument("image")
@image_options
@source_option
@format_option("table", "json", "cyclonedx-json", "spdx-json")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE."
)
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
    from imagetrust.api import catalog
    from imagetrust.report.output import write_output

    settings = load_settings(
        registry_mirrors=registry_mirrors,
        insecure_registries=insecure_registries,
        platform=platform,
        source_mode=source_mode,
    )
    scanned = catalog(image, settings=settings)
    if scanned.note:
        click.echo(f"note: {scanned.note}", err=True)
    name, digest = scanned.image.reference, scanned.image.digest
    if output_format == "table" and output is None:
        from rich.console import Console

        from imagetrust.report.sbom_table import render_sbom_table

        render_sbom_table(scanned.catalog, name, Console())
        return
    if output_format == "cyclonedx-json":
        from imagetrust.report.cyclonedx import cyclonedx_json

        document = cyclonedx_json(scanned.catalog, name, digest)
    elif output_format == "spdx-json":
        from imagetrust.report.spdx import spdx_json

        document = spdx_json(scanned.catalog, name, digest)
    else:  # json, or table written to a file
        from imagetrust.report.sbom_json import catalog_json

        document = catalog_json(scanned.catalog, name, digest)
    write_output(document, output)
