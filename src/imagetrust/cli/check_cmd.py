"""``imagetrust check IMAGE`` (alias ``quickview``): the calibrated trust verdict."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
from rich.console import Console

from imagetrust.assess.official import (
    DEFAULT_ARCHIVE_URL,
    LibraryMissingError,
    OfficialLibrary,
    load_library,
    update_library,
)
from imagetrust.cli.main import cli
from imagetrust.cli.options import (
    format_option,
    image_options,
    scan_gate_options,
    source_option,
)
from imagetrust.config import Settings, load_settings
from imagetrust.errors import GateFailed, ImagetrustError
from imagetrust.policy.check import check_image
from imagetrust.policy.verdict import Level
from imagetrust.report.check import check_json, check_markdown, render_check
from imagetrust.report.output import write_output


def official_catalog(settings: Settings) -> OfficialLibrary | None:
    """The official-images catalog, fetched on first use unless offline.

    A failed fetch is a warning, not an error: the verdict then says the publisher could not be
    confirmed, which is true.
    """
    try:
        return load_library(settings.cache_dir)
    except LibraryMissingError:
        if settings.offline:
            return None
    url = os.environ.get("IMAGETRUST_CATALOG_URL") or DEFAULT_ARCHIVE_URL
    click.echo("note: fetching the official-images library (first use)", err=True)
    try:
        update_library(settings.cache_dir, url, insecure=settings.insecure_registries)
        return load_library(settings.cache_dir)
    except ImagetrustError as error:
        click.echo(f"imagetrust: warning: official-images library unavailable: {error}", err=True)
        return None


def _check(
    image: str,
    platform: str | None,
    source_mode: str | None,
    registry_mirrors: tuple[str, ...],
    insecure_registries: tuple[str, ...],
    output_format: str,
    output: Path | None,
    exit_code: bool,
    min_level: str,
    offline: bool,
    db: Path | None,
    no_scan: bool,
    tag: str | None,
) -> None:
    settings = load_settings(
        registry_mirrors=registry_mirrors,
        insecure_registries=insecure_registries,
        platform=platform,
        offline=offline,
        source_mode=source_mode,
    )
    gate = Level.parse(min_level)
    scan = None
    if not no_scan:
        from imagetrust.cli.scanning import scan_function

        scan = scan_function(settings, db)
    official = official_catalog(settings)
    from imagetrust.assess.hub import HubClient

    result = check_image(
        image,
        settings=settings,
        hub_client=HubClient.from_settings(settings),
        official=official if official is not None else settings.cache_dir,
        scan=scan,
        tag=tag,
    )
    if output_format == "json":
        write_output(json.dumps(check_json(result), indent=2), output)
    elif output_format == "markdown":
        write_output(check_markdown(result), output)
    elif output is not None:
        console = Console(record=True, width=120)
        with console.capture():
            render_check(result, console)
        write_output(console.export_text(), output)
    else:
        render_check(result, Console())
    if exit_code and result.verdict.level < gate:
        raise GateFailed(
            f"trust level {result.verdict.level.label!r} is below --min-level {gate.slug}"
        )


def _decorate(name: str, help_text: str) -> None:
    @cli.command(name, help=help_text)
    @click.argument("image")
    @image_options
    @source_option
    @format_option("table", "json", "markdown")
    @click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--exit-code", is_flag=True, help="Exit 2 when the level is below --min-level.")
    @scan_gate_options
    @click.option(
        "--tag",
        help="The registry tag a local archive/layout tracks, for freshness (e.g. postgres:16).",
    )
    def command(**kwargs: object) -> None:
        _check(**kwargs)  # type: ignore[arg-type]

    _ = command


_HELP = """How far to trust IMAGE, and what to do about it.

Checks the publisher (Docker Official Image confirmed against the official-images library,
other trusted publishers, or unknown), whether the tag is still supported, freshness (is this
the image the tag points to today, and what would pulling fix), the base image, known
vulnerabilities and build attestations, then ends in one trust level with the reasons that set
it: trusted, trusted with caveats, unknown, needs attention or untrusted.
"""

_decorate("check", _HELP)
_decorate("quickview", "Alias of `check`.\n\n" + _HELP)
