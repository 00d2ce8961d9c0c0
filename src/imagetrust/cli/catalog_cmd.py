"""``imagetrust catalog update|import|status``: the Docker Official Images library."""

from __future__ import annotations

import json
from pathlib import Path

import click

from imagetrust.assess.official import (
    DEFAULT_ARCHIVE_URL,
    LibraryUpdate,
    import_library,
    load_library,
    update_library,
)
from imagetrust.cli.main import cli
from imagetrust.config import load_settings


@cli.group("catalog")
def catalog_group() -> None:
    """Reference data: the official-images library that confirms Docker Official Images and
    their tags, and the release lifecycles (end of security support per OS release and
    runtime)."""


def _report(result: LibraryUpdate, action: str) -> None:
    meta = result.meta
    if not result.changed:
        click.echo(f"catalog unchanged (not modified since {meta.fetched_at:%Y-%m-%d %H:%M} UTC)")
    else:
        commit = f" at commit {meta.commit[:12]}" if meta.commit else ""
        click.echo(f"catalog {action}: {meta.files} library files from {meta.source}{commit}")
    for member in result.unsafe_members:
        click.echo(f"warning: refused unsafe archive member {member!r}", err=True)
    for problem in result.invalid_files:
        click.echo(f"warning: {problem}", err=True)


@catalog_group.command("update")
@click.option(
    "--url",
    envvar="IMAGETRUST_CATALOG_URL",
    default=DEFAULT_ARCHIVE_URL,
    show_default=True,
    help="Archive (tar.gz) of the official-images repository (env IMAGETRUST_CATALOG_URL). "
    "Plain http:// only to loopback or insecure-registries hosts.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Download even if unchanged, and accept a library much smaller than the installed one.",
)
@click.option(
    "--lifecycle-url",
    envvar="IMAGETRUST_LIFECYCLE_URL",
    default="https://endoflife.date/api",
    show_default=True,
    help="Release-lifecycle API (endoflife.date's format: BASE/PRODUCT.json) refreshing the "
    "shipped support dates (env IMAGETRUST_LIFECYCLE_URL).",
)
def catalog_update(url: str, force: bool, lifecycle_url: str) -> None:
    """Download the official-images library (conditional: unchanged means no download) and
    refresh the release lifecycles (end of security support per OS release and runtime)."""
    from imagetrust.assess.lifecycle_update import update_lifecycles
    from imagetrust.errors import ImagetrustError

    settings = load_settings()
    result = update_library(
        settings.cache_dir, url, force=force, insecure=settings.insecure_registries
    )
    _report(result, "updated")
    try:
        lifecycles = update_lifecycles(
            settings.cache_dir, lifecycle_url, insecure=settings.insecure_registries
        )
        click.echo(f"release lifecycles refreshed: {len(lifecycles.products)} products")
        for kept in lifecycles.kept:
            click.echo(f"warning: kept the shipped dates of {kept}", err=True)
    except ImagetrustError as error:  # the library is updated; the shipped dates stay in use
        click.echo(f"warning: release lifecycles not refreshed: {error}", err=True)


@catalog_group.command("import")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
def catalog_import(path: Path) -> None:
    """Import the library offline from PATH: an official-images checkout or its library/ dir."""
    settings = load_settings()
    _report(import_library(settings.cache_dir, path), "imported")


@catalog_group.command("status")
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table")
def catalog_status(output_format: str) -> None:
    """When the library was fetched, from where, and how many repositories it lists."""
    catalog = load_library(load_settings().cache_dir)
    meta = catalog.meta
    if output_format == "json":
        click.echo(json.dumps({**meta.to_json(), "repositories": len(catalog.names())}, indent=2))
        return
    click.echo(f"source:       {meta.source}")
    click.echo(f"commit:       {meta.commit or 'unknown'}")
    click.echo(f"fetched:      {meta.fetched_at:%Y-%m-%d %H:%M} UTC")
    click.echo(f"repositories: {len(catalog.names())}")
    if catalog.is_stale():
        click.echo("warning: the catalog is older than 7 days; run `imagetrust catalog update`")
