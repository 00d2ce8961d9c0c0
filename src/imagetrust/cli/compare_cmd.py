"""``imagetrust compare IMAGE_A [IMAGE_B]`` (alias ``diff``): what changed, and why rebuilt."""

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
from imagetrust.config import load_settings
from imagetrust.match.filters import FindingFilter, parse_severities


def _compare(
    image_a: str,
    image_b: str | None,
    platform: str | None,
    source_mode: str | None,
    registry_mirrors: tuple[str, ...],
    insecure_registries: tuple[str, ...],
    output_format: str,
    output: Path | None,
    to_latest: bool,
    tag: str | None,
    ignore_base: bool,
    only_fixed: bool,
    only_severity: tuple[str, ...],
    offline: bool,
    db: Path | None,
    no_scan: bool,
    quiet: bool,
) -> None:
    from imagetrust.app.compare import CompareOptions, compare
    from imagetrust.report.formats import emit

    settings = load_settings(
        registry_mirrors=registry_mirrors,
        insecure_registries=insecure_registries,
        platform=platform,
        offline=offline,
        quiet=quiet,
        source_mode=source_mode,
    )
    options = CompareOptions(
        to_latest=to_latest,
        tag=tag,
        rule=FindingFilter(severities=parse_severities(only_severity), only_fixed=only_fixed),
        ignore_base=ignore_base,
        scan=not no_scan,
    )
    document = compare(
        image_a, image_b, runtime=cli_runtime(settings, db, progress=True), options=options
    )
    say_note(document.before.note)
    say_note(document.after.note)
    emit("compare", output_format, document, output)


def _decorate(name: str, help_text: str) -> None:
    @cli.command(name, help=help_text)
    @click.argument("image_a")
    @click.argument("image_b", required=False)
    @image_options
    @source_option
    @format_option("compare")
    @output_option
    @click.option("--to-latest", is_flag=True,
                  help="Compare IMAGE_A with what its tag points to now (no IMAGE_B).")
    @click.option("--tag", help="The registry tag local archives/layouts are builds of "
                  "(e.g. debian:12), for --to-latest and the rebuild explanation.")
    @click.option("--ignore-base", is_flag=True,
                  help="Only changes in the images' own layers, not their base images'.")
    @click.option("--only-fixed", is_flag=True,
                  help="Keep findings with a fixed version (on both sides, before diffing).")
    @click.option("--only-severity", multiple=True, metavar="LIST",
                  help="Keep these severities (comma list: critical,high,medium,low,"
                  "negligible,unknown).")
    @offline_db_options
    @click.option("--no-scan", is_flag=True, help="Skip the vulnerability scans.")
    @click.option("-q", "--quiet", is_flag=True, help="No progress output.")
    def command(**kwargs: object) -> None:
        _compare(**kwargs)  # type: ignore[arg-type]

    _ = command


_HELP = """What changed from IMAGE_A to IMAGE_B, and why the tag was rebuilt.

Packages added, removed, upgraded and downgraded (ordered by each package's own version
scheme), vulnerabilities fixed and introduced by severity, config (user, entrypoint, cmd, env,
exposed ports, labels), base image, size and layer reuse. When A and B are two builds of one
tag (or with --to-latest), the rebuild is explained from evidence: the base image moved, the
official-images library's GitCommit changed, packages changed, or only metadata differs.
"""

_decorate("compare", _HELP)
_decorate("diff", "Alias of `compare`.\n\n" + _HELP)
