"""``imagetrust cves IMAGE``: vulnerabilities of an image or SBOM, filtered, in five formats."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from imagetrust.catalog.model import Catalog
from imagetrust.cli.main import cli
from imagetrust.cli.options import image_options, source_option
from imagetrust.config import Settings, load_settings
from imagetrust.errors import GateFailed, UsageError
from imagetrust.match.db import resolve_db_path
from imagetrust.match.filters import FindingFilter, apply_filter, parse_list, parse_severities
from imagetrust.match.model import Finding, ScanResult, ScanSubject
from imagetrust.match.scan import feed_base_urls, scan_catalog
from imagetrust.reference import LocalReference, parse_target
from imagetrust.report.output import write_output

if TYPE_CHECKING:
    from imagetrust.image.session import OpenImage

FORMATS = ("table", "json", "sarif", "markdown", "cyclonedx-vex")


@dataclass(frozen=True)
class LoadedCatalog:
    """An image's inventory, which copy was read, and (when asked) how many layers its base has."""

    catalog: Catalog
    subject: ScanSubject
    note: str | None = None
    base_layers: int | None = None


def load_inventory(image: str, settings: Settings) -> tuple[Catalog, ScanSubject]:
    """Catalog any image source, or read an ``sbom:FILE``."""
    loaded = load_image_catalog(image, settings)
    return loaded.catalog, loaded.subject


def load_image_catalog(image: str, settings: Settings, *, base: bool = False) -> LoadedCatalog:
    """Catalog any image source (local-first) or read an ``sbom:FILE``; ``base`` also finds
    the base image, because --only-base/--ignore-base split findings by its layer count."""
    target = parse_target(image)
    if isinstance(target, LocalReference) and target.transport == "sbom":
        if base:
            raise UsageError(
                f"{target} is an SBOM: it has no layers to tell the base image by",
                hint="scan the image itself, or drop --only-base/--ignore-base",
            )
        from imagetrust.catalog.sbom_input import read_sbom

        return LoadedCatalog(read_sbom(target.path), ScanSubject(str(target)))
    from imagetrust.api import layer_cache_dir, open_image
    from imagetrust.catalog.run import catalog_image

    with open_image(target, settings=settings) as opened:
        catalog = catalog_image(opened.source, opened.image, cache_dir=layer_cache_dir(settings))
        layers = base_layer_count(opened, catalog, settings) if base else None
        return LoadedCatalog(
            catalog, ScanSubject(str(target), opened.image.digest), opened.note, layers
        )


def base_layer_count(opened: OpenImage, catalog: Catalog, settings: Settings) -> int:
    """How many of the image's first layers are its base's, or a UsageError saying why not."""
    from imagetrust.assess.base_image import detect_base
    from imagetrust.assess.check import tag_reference
    from imagetrust.assess.official.store import LibraryMissingError
    from imagetrust.assess.official.store import load_library as load_official
    from imagetrust.source.registry.client import RegistryClient

    try:
        official = load_official(settings.cache_dir)
    except LibraryMissingError:
        official = None
    ref, _ = tag_reference(opened.target, opened.image, None)
    with RegistryClient(settings) as client:
        found = detect_base(
            opened.image,
            client=client,
            catalog=official,
            os_info=catalog.os,
            cache_dir=settings.cache_dir,
            ref=ref,
        )
    if found.state == "detected" and found.layer_count:
        return found.layer_count
    why = found.reason if found.state != "detected" else "; ".join(found.notes) or found.reason
    if found.state == "none":
        why = f"it has no base: {why}"
    raise UsageError(
        f"cannot tell the base image of {opened.target}: {why}",
        hint="--only-base/--ignore-base need a base found by annotation, provenance or layer "
        "chain; drop them to see every finding",
    )


def render(result: ScanResult, findings: Sequence[Finding], output_format: str) -> str:
    # Formatters load on use: the CycloneDX library alone costs ~0.1 s of start-up.
    if output_format == "json":
        from imagetrust.report.cves_json import cves_json

        return json.dumps(cves_json(result, findings), indent=2) + "\n"
    if output_format == "sarif":
        from imagetrust.report.sarif import sarif_report

        return json.dumps(sarif_report(result, findings), indent=2) + "\n"
    if output_format == "markdown":
        from imagetrust.report.markdown import cves_markdown

        return cves_markdown(result, findings)
    if output_format == "cyclonedx-vex":
        from imagetrust.report.vex import cyclonedx_vex_json

        return cyclonedx_vex_json(result, findings) + "\n"
    from rich.console import Console  # rich costs ~50 ms of start-up: only for the table

    from imagetrust.report.cves_table import render_cves

    console = Console(record=True, width=160, file=io.StringIO())
    render_cves(result, findings, console)
    return console.export_text()


def _progress(quiet: bool) -> Callable[..., None] | None:
    if quiet or not sys.stderr.isatty():
        return None
    from imagetrust.cli.db_cmd import ProgressBars

    return ProgressBars()


@cli.command("cves")
@click.argument("image")
@image_options
@source_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="Output format.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to this file instead of standard output.",
)
@click.option(
    "--only-severity",
    multiple=True,
    metavar="LIST",
    help="Keep these severities (comma list: critical,high,medium,low,negligible,unknown).",
)
@click.option("--only-fixed", is_flag=True, help="Keep findings with a fixed version.")
@click.option("--only-unfixed", is_flag=True, help="Keep findings without a fix.")
@click.option(
    "--only-package-type",
    multiple=True,
    metavar="LIST",
    help="Keep these package types (deb, apk, rpm, pypi, npm, golang, maven, ...).",
)
@click.option(
    "--only-cve-id",
    multiple=True,
    metavar="LIST",
    help="Keep these vulnerability ids (CVE, GHSA, ... any alias).",
)
@click.option("--only-kev", is_flag=True, help="Keep findings on CISA's KEV list.")
@click.option(
    "--only-base",
    is_flag=True,
    help="Keep findings in packages the base image brought (by the layer that added them).",
)
@click.option(
    "--ignore-base",
    is_flag=True,
    help="Drop findings in packages the base image brought: only the image's own layers.",
)
@click.option(
    "--exit-code", is_flag=True, help="Exit with 2 when findings remain after the filters."
)
@click.option(
    "--offline",
    is_flag=True,
    envvar="IMAGETRUST_OFFLINE",
    help="Never download feeds; use the database as it is.",
)
@click.option(
    "--db",
    "db",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Vulnerability database file (env IMAGETRUST_DB).",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress output.")
def cves_command(
    image: str,
    platform: str | None,
    source_mode: str | None,
    registry_mirrors: tuple[str, ...],
    insecure_registries: tuple[str, ...],
    output_format: str,
    output: Path | None,
    only_severity: tuple[str, ...],
    only_fixed: bool,
    only_unfixed: bool,
    only_package_type: tuple[str, ...],
    only_cve_id: tuple[str, ...],
    only_kev: bool,
    only_base: bool,
    ignore_base: bool,
    exit_code: bool,
    offline: bool,
    db: Path | None,
    quiet: bool,
) -> None:
    """List the vulnerabilities of IMAGE's packages.

    IMAGE is a registry reference (postgres:16), docker-archive:PATH, oci-dir:PATH[:TAG],
    oci-archive:PATH[:TAG], dir:PATH or sbom:FILE (CycloneDX or SPDX JSON). The feeds the image
    needs are downloaded or refreshed first unless --offline. --only-base / --ignore-base split
    findings by the layer that added each package: the base image's layers or the image's own.
    """
    if only_base and ignore_base:
        raise UsageError("--only-base and --ignore-base exclude each other", hint="choose one")
    rule = FindingFilter(
        severities=parse_severities(only_severity),
        only_fixed=only_fixed,
        only_unfixed=only_unfixed,
        package_types=parse_list(only_package_type),
        ids=parse_list(only_cve_id, upper=True),
        only_kev=only_kev,
    )
    settings = load_settings(
        registry_mirrors=registry_mirrors,
        insecure_registries=insecure_registries,
        platform=platform,
        offline=offline,
        quiet=quiet,
        source_mode=source_mode,
    )
    db_path = resolve_db_path(db, settings.cache_dir)
    loaded = load_image_catalog(image, settings, base=only_base or ignore_base)
    if loaded.note:
        click.echo(f"note: {loaded.note}", err=True)
    if loaded.base_layers is not None:
        base_layers = frozenset(range(loaded.base_layers))
        rule = replace(
            rule,
            layers=base_layers if only_base else None,
            exclude_layers=base_layers if ignore_base else None,
        )
    result = scan_catalog(
        loaded.catalog,
        db_path,
        subject=loaded.subject,
        offline=settings.offline,
        base_urls=feed_base_urls(insecure=settings.insecure_registries),
        progress=_progress(quiet),
        insecure=settings.insecure_registries,
    )
    findings = apply_filter(result.findings, rule)
    if output is None and output_format == "table":
        from rich.console import Console

        from imagetrust.report.cves_table import render_cves

        render_cves(result, findings, Console(highlight=False))
    else:
        text = render(result, findings, output_format)
        if output is not None:
            write_output(text, output)
        else:
            click.echo(text, nl=False)
    if output_format != "table" or output is not None:
        for warning in result.warnings:
            click.echo(f"imagetrust: warning: {warning}", err=True)
    if exit_code and findings:
        raise GateFailed(
            f"{len(findings)} vulnerabilities remain after filters",
            hint="fix them, narrow the --only-* filters, or drop --exit-code",
        )


__all__ = [
    "FORMATS",
    "LoadedCatalog",
    "cves_command",
    "load_inventory",
    "load_image_catalog",
    "render",
]
