"""``imagetrust cves IMAGE``: vulnerabilities of an image or SBOM, filtered, in five formats."""

from __future__ import annotations

from pathlib import Path

import click

from imagetrust.cli.main import cli
from imagetrust.cli.options import (
    format_option,
    image_options,
    offline_db_options,
    output_option,
    source_option,
)
from imagetrust.cli.runtime import cli_runtime, say_note
from imagetrust.cli.suppress_options import suppression_options
from imagetrust.config import load_settings
from imagetrust.errors import GateFailed, UsageError
from imagetrust.match.filters import FindingFilter, parse_list, parse_severities


@cli.command("cves")
@click.argument("image")
@image_options
@source_option
@format_option("cves")
@output_option
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
@suppression_options
@click.option(
    "--exit-code",
    is_flag=True,
    help="Exit with 2 when findings remain after VEX, exceptions and the filters.",
)
@offline_db_options
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
    vex: tuple[Path, ...],
    exceptions: Path | None,
    show_suppressed: bool,
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
    --vex and --exceptions suppress findings before the filters; every format says what was
    suppressed and by which statement or exception.
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
    from imagetrust.app.cves import BaseSplit, cves
    from imagetrust.report.formats import emit

    base: BaseSplit = "only" if only_base else "ignore" if ignore_base else "all"
    document = cves(
        image, runtime=cli_runtime(settings, db, progress=True), rule=rule, base=base,
        vex=vex, exceptions=exceptions, show_suppressed=show_suppressed,
    )
    say_note(document.note)
    emit("cves", output_format, document, output)
    if output_format != "table" or output is not None:
        for warning in document.result.warnings:
            click.echo(f"imagetrust: warning: {warning}", err=True)
        if document.expired or document.ended:
            from imagetrust.policy.suppress import ended_sentence, expired_sentence

            for exc in document.expired:
                click.echo(f"imagetrust: warning: {expired_sentence(exc)}", err=True)
            for ended in document.ended:
                click.echo(f"imagetrust: warning: {ended_sentence(ended)}", err=True)
    if exit_code and document.findings:
        raise GateFailed(
            f"{len(document.findings)} vulnerabilities remain after filters",
            hint="fix them, narrow the --only-* filters, or drop --exit-code",
        )


__all__ = ["cves_command"]
