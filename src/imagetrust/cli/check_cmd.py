"""``imagetrust check IMAGE`` (alias ``quickview``): the calibrated trust verdict."""

from __future__ import annotations

from pathlib import Path

import click

from imagetrust.cli.main import cli
from imagetrust.cli.options import (
    format_option,
    image_options,
    output_option,
    scan_gate_options,
    source_option,
)
from imagetrust.cli.policy_cmd import policy_option
from imagetrust.cli.runtime import cli_runtime, say_note
from imagetrust.cli.suppress_options import suppression_options
from imagetrust.config import load_settings
from imagetrust.errors import GateFailed
from imagetrust.policy.verdict import Level


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
    policy_path: Path | None,
    vex: tuple[Path, ...],
    exceptions: Path | None,
    show_suppressed: bool,
) -> None:
    from imagetrust.app.check import check
    from imagetrust.report.formats import emit

    settings = load_settings(
        registry_mirrors=registry_mirrors,
        insecure_registries=insecure_registries,
        platform=platform,
        offline=offline,
        source_mode=source_mode,
    )
    gate = Level.parse(min_level)
    runtime = cli_runtime(settings, db)
    runtime.policy_path, runtime.vex, runtime.exceptions = policy_path, vex, exceptions
    document = check(image, runtime=runtime, scan=not no_scan, tag=tag,
                     show_suppressed=show_suppressed)
    say_note(document.note)
    emit("check", output_format, document, output)
    level = document.result.verdict.level
    if exit_code and level < gate:
        raise GateFailed(f"trust level {level.label!r} is below --min-level {gate.slug}")


def _decorate(name: str, help_text: str) -> None:
    @cli.command(name, help=help_text)
    @click.argument("image")
    @image_options
    @source_option
    @format_option("check")
    @output_option
    @click.option("--exit-code", is_flag=True, help="Exit 2 when the level is below --min-level.")
    @scan_gate_options
    @click.option(
        "--tag",
        help="The registry tag a local archive/layout tracks, for freshness (e.g. postgres:16).",
    )
    @policy_option
    @suppression_options
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
