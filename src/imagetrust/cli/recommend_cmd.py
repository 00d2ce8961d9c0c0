"""``imagetrust recommend IMAGE`` (alias ``recommendations``): refresh, or move to which tag."""

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
from imagetrust.cli.runtime import cli_runtime
from imagetrust.config import load_settings


def _decorate(name: str, help_text: str) -> None:
    @cli.command(name, help=help_text)
    @click.argument("image")
    @image_options
    @source_option
    @format_option("recommend")
    @output_option
    @click.option("--only-refresh", is_flag=True, help="Only what refreshing the same tag does.")
    @click.option("--only-update", is_flag=True, help="Only the other tags to move to.")
    @click.option("--tag", "only_tag", metavar="TAG",
                  help="Evaluate this one candidate tag of the repository.")
    @click.option("--any-variant", is_flag=True,
                  help="Also candidates of other variant families (slim, alpine, jdk…).")
    @click.option("--candidates", type=click.IntRange(1, 50), default=8, show_default=True,
                  help="How many candidate tags to scan at most.")
    @offline_db_options
    def command(
        image: str,
        platform: str | None,
        source_mode: str | None,
        registry_mirrors: tuple[str, ...],
        insecure_registries: tuple[str, ...],
        output_format: str,
        output: Path | None,
        only_refresh: bool,
        only_update: bool,
        only_tag: str | None,
        any_variant: bool,
        candidates: int,
        offline: bool,
        db: Path | None,
    ) -> None:
        from imagetrust.app.recommend import recommend
        from imagetrust.errors import UsageError
        from imagetrust.report.formats import emit

        if only_refresh and only_update:
            raise UsageError("--only-refresh and --only-update exclude each other",
                             hint="choose one")
        settings = load_settings(
            registry_mirrors=registry_mirrors,
            insecure_registries=insecure_registries,
            platform=platform,
            offline=offline,
            source_mode=source_mode,
        )
        only = "refresh" if only_refresh else "update" if only_update else None
        document = recommend(
            image, runtime=cli_runtime(settings, db), only=only, tag=only_tag,
            any_variant=any_variant, limit=candidates,
        )
        emit("recommend", output_format, document, output)

    _ = command


_HELP = """What to do about IMAGE: refresh the same tag, or move to another one.

For a Docker Official Image the advice is about the image itself; for your own image, about
the base it was built on (found by annotation, provenance or layer chain). Refresh says what
pulling or rebuilding on the same tag fixes and adds; update candidates are the other supported
tags of the repository in the same variant family, each scanned and ranked (supported releases
first, same OS family, LTS, fewest fixable critical/high, smallest change; docs/recommend.md).
"""

_decorate("recommend", _HELP)
_decorate("recommendations", "Alias of `recommend`.\n\n" + _HELP)
