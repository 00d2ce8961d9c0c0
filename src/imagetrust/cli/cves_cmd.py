"""``imagetrust cves IMAGE``: vulnerabilities of an image or SBOM, filtered, in five formats."""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import click
from rich.console import Console

from imagetrust.catalog.model import Catalog
from imagetrust.cli.main import cli
from imagetrust.cli.options import image_options
from imagetrust.config import Settings, load_settings
from imagetrust.errors import GateFailed
from imagetrust.image.model import Platform
from imagetrust.match.db import resolve_db_path
from imagetrust.match.filters import FindingFilter, apply_filter, parse_list, parse_severities
from imagetrust.match.model import Finding, ScanResult, ScanSubject
from imagetrust.match.scan import feed_base_urls, scan_catalog
from imagetrust.reference import LocalReference, parse_target
from imagetrust.report.cves_json import cves_json
from imagetrust.report.cves_table import render_cves
from imagetrust.report.markdown import cves_markdown
from imagetrust.report.sarif import sarif_report
from imagetrust.report.vex import cyclonedx_vex_json

FORMATS = ("table", "json", "sarif", "markdown", "cyclonedx-vex")


def load_catalog(image: str, settings: Settings) -> tuple[Catalog, ScanSubject]:
    """Catalog any image source, or read an ``sbom:FILE``."""
    target = parse_target(image)
    if isinstance(target, LocalReference) and target.transport == "sbom":
        from imagetrust.catalog.sbom_input import read_sbom

        return read_sbom(target.path), ScanSubject(str(target))
    from imagetrust.api import open_image
    from imagetrust.catalog.run import catalog_image

    with open_image(target, settings=settings) as opened:
        catalog = catalog_image(opened.source, opened.image, cache_dir=settings.cache_dir)
        return catalog, ScanSubject(str(target), opened.image.digest)


def render(result: ScanResult, findings: Sequence[Finding], output_format: str) -> str:
    if output_format == "json":
        return json.dumps(cves_json(result, findings), indent=2) + "\n"
    if output_format == "sarif":
        return json.dumps(sarif_report(result, findings), indent=2) + "\n"
    if output_format == "markdown":
        return cves_markdown(result, findings)
    if output_format == "cyclonedx-vex":
        return cyclonedx_vex_json(result, findings) + "\n"
    console = Console(record=True, width=160, file=io.StringIO())
    render_cves(result, findings, console)
    return console.export_text()


def write_output(text: str, output: Path) -> None:
    """Atomic: a reader never sees half a report, a failed run leaves the old one."""
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, output)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _progress(quiet: bool) -> Callable[..., None] | None:
    if quiet or not sys.stderr.isatty():
        return None
    from imagetrust.cli.db_cmd import ProgressBars

    return ProgressBars()


@cli.command("cves")
@click.argument("image")
@image_options
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
    exit_code: bool,
    offline: bool,
    db: Path | None,
    quiet: bool,
) -> None:
    """List the vulnerabilities of IMAGE's packages.

    IMAGE is a registry reference (postgres:16), docker-archive:PATH, oci-dir:PATH[:TAG],
    oci-archive:PATH[:TAG], dir:PATH or sbom:FILE (CycloneDX or SPDX JSON). The feeds the image
    needs are downloaded or refreshed first unless --offline.
    """
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
    )
    if platform:
        settings = settings.with_overrides(platform=Platform.parse(platform))
    db_path = resolve_db_path(db, settings.cache_dir)
    catalog, subject = load_catalog(image, settings)
    result = scan_catalog(
        catalog,
        db_path,
        subject=subject,
        offline=settings.offline,
        base_urls=feed_base_urls(),
        progress=_progress(quiet),
    )
    findings = apply_filter(result.findings, rule)
    text = render(result, findings, output_format)
    if output is not None:
        write_output(text, output)
    elif output_format == "table":
        render_cves(result, findings, Console(highlight=False))
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


__all__ = ["FORMATS", "cves_command", "load_catalog", "render", "write_output"]
