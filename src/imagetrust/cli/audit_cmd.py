"""``imagetrust audit``: judge every image in the local Docker/podman image cache at once."""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from types import TracebackType

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from imagetrust.cli.main import cli
from imagetrust.cli.options import format_option, image_options, output_option, scan_gate_options
from imagetrust.cli.runtime import cli_runtime
from imagetrust.config import load_settings
from imagetrust.errors import GateFailed, UsageError
from imagetrust.policy.verdict import Level
from imagetrust.report.formats import emit

_PHASES = {
    "registry": "Comparing tags with the registry",
    "scan": "Scanning images",
    "pull": "Scanning what the tags point to now",
}


class _Bars:
    """A rich progress bar per audit phase (only on a terminal, and not with --quiet)."""

    def __init__(self) -> None:
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            transient=True,
            console=Console(stderr=True),
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> _Bars:
        self._progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def __call__(self, phase: str, done: int, total: int) -> None:
        task = self._tasks.get(phase)
        if task is None:
            task = self._progress.add_task(_PHASES.get(phase, phase), total=total)
            self._tasks[phase] = task
        self._progress.update(task, completed=done, total=total)


@cli.command("audit")
@image_options
@format_option("audit")
@output_option
@click.option(
    "--filter",
    "pattern",
    metavar="PATTERN",
    help="Only tags matching this glob, on the full name (docker.io/library/*) or the short one "
    "(postgres:*).",
)
@click.option(
    "--what-pulling-fixes",
    is_flag=True,
    help="Scan what each outdated tag points to now and list the findings pulling would remove.",
)
@click.option("--exit-code", is_flag=True, help="Exit 2 when any image is below --min-level.")
@scan_gate_options
@click.option(
    "--parallel",
    type=click.IntRange(1, 32),
    default=4,
    show_default=True,
    help="Registry lookups at once.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress output.")
def audit_command(
    platform: str | None,
    registry_mirrors: tuple[str, ...],
    insecure_registries: tuple[str, ...],
    output_format: str,
    output: Path | None,
    pattern: str | None,
    what_pulling_fixes: bool,
    exit_code: bool,
    min_level: str,
    offline: bool,
    db: Path | None,
    no_scan: bool,
    parallel: int,
    quiet: bool,
) -> None:
    """Audit every image in the local Docker/podman image cache, riskiest first.

    For each tag: the publisher, whether the tag is still supported, whether the local copy is
    what the tag points to today, fixable critical/high and known-exploited findings, and the
    trust level `check` would give. Untagged images are listed with level unknown. Needs a
    Docker-Engine-API daemon (DOCKER_HOST, Docker or podman's API service).
    """
    from imagetrust.app.audit import audit

    if what_pulling_fixes and no_scan:
        raise UsageError("--what-pulling-fixes needs the scan", hint="drop --no-scan")
    gate = Level.parse(min_level)
    settings = load_settings(
        registry_mirrors=registry_mirrors,
        insecure_registries=insecure_registries,
        platform=platform,
        offline=offline,
        quiet=quiet,
    )
    bars: AbstractContextManager[_Bars | None] = (
        nullcontext() if quiet or not sys.stderr.isatty() else _Bars()
    )
    with bars as progress:
        document = audit(
            runtime=cli_runtime(settings, db),
            filter=pattern,
            what_pulling_fixes=what_pulling_fixes,
            scan=not no_scan,
            parallel=parallel,
            progress=progress,
        )
    emit("audit", output_format, document, output)
    below = [e for e in document.entries if e.verdict.level < gate]
    if exit_code and below:
        raise GateFailed(
            f"{len(below)} of {len(document.entries)} local images are below --min-level "
            f"{gate.slug} (first: {below[0].reference or below[0].image_id})"
        )
