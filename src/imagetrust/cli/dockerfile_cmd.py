"""``imagetrust dockerfile check|pin PATH``: a Dockerfile's base images, judged and pinned."""

from __future__ import annotations

from pathlib import Path

import click

from imagetrust.cli.main import cli
from imagetrust.cli.options import format_option, image_options, offline_db_options, output_option
from imagetrust.cli.policy_cmd import policy_option
from imagetrust.cli.runtime import cli_runtime
from imagetrust.config import load_settings
from imagetrust.errors import GateFailed, UsageError

_PATH = click.argument("path", type=click.Path(dir_okay=False, path_type=Path))


@cli.group("dockerfile")
def dockerfile_group() -> None:
    """A Dockerfile's base images: judge them (check) or pin them by digest (pin).

    FROM lines are read as BuildKit reads them: ARG defaults before the first FROM, --platform,
    AS names, references to earlier stages, scratch, line continuations and comments.
    """


@dockerfile_group.command("check")
@click.argument("paths", nargs=-1, required=True,
                type=click.Path(dir_okay=False, path_type=Path))
@image_options
@format_option("dockerfile")
@output_option
@click.option("--exit-code", is_flag=True,
              help="Exit 2 when a base is unpinned, on an unsupported tag, end-of-life, "
              "untrusted, or could not be checked.")
@offline_db_options
@click.option("--no-scan", is_flag=True,
              help="Skip the vulnerability scan (and the layer read that finds the OS release).")
@policy_option
def check_command(
    paths: tuple[Path, ...],
    platform: str | None,
    registry_mirrors: tuple[str, ...],
    insecure_registries: tuple[str, ...],
    output_format: str,
    output: Path | None,
    exit_code: bool,
    offline: bool,
    db: Path | None,
    no_scan: bool,
    policy_path: Path | None,
) -> None:
    """Judge every external base image of the Dockerfile(s) at PATHS.

    For each base: publisher, supported tag, end-of-life, freshness, pinned or not, the trust
    level `check` gives it, and what to do. Bases are read from the registry, as a build pulls
    them; a --platform in FROM is honoured.
    """
    from imagetrust.app.dockerfile import check_dockerfile
    from imagetrust.report.formats import emit

    settings = load_settings(
        registry_mirrors=registry_mirrors, insecure_registries=insecure_registries,
        platform=platform, offline=offline,
    )
    runtime = cli_runtime(settings, db)
    runtime.policy_path = policy_path
    if len(paths) > 1 and (output is not None or output_format != "table"):
        raise UsageError(
            f"--format {output_format} and -o write one document: give one Dockerfile",
            hint="run once per Dockerfile, or use the table format for several",
        )
    failing: list[str] = []
    for path in paths:  # several when pre-commit passes every changed Dockerfile
        document = check_dockerfile(path, runtime=runtime, scan=not no_scan)
        emit("dockerfile", output_format, document, output)
        failing += [f"{path} line {b.line.line} {b.line.image}: {', '.join(b.failed)}"
                    for b in document.bases if b.failed]
    if exit_code and failing:
        raise GateFailed(f"{len(failing)} base images fail: {'; '.join(failing)}")


@dockerfile_group.command("pin")
@_PATH
@image_options
@format_option("dockerfile")
@output_option
@click.option("--update", is_flag=True, help="Refresh references that are already pinned.")
@click.option("--dry-run", is_flag=True, help="Print the unified diff; write nothing.")
def pin_command(
    path: Path,
    platform: str | None,
    registry_mirrors: tuple[str, ...],
    insecure_registries: tuple[str, ...],
    output_format: str,
    output: Path | None,
    update: bool,
    dry_run: bool,
) -> None:
    """Pin every external base of the Dockerfile at PATH by digest.

    `FROM postgres:16` becomes `FROM postgres:16@sha256:<index digest>`: the tag stays for
    people, the index digest keeps every platform buildable. A base written as ${ARG} is pinned
    in that ARG's default. Only the references change; the file is replaced atomically, and a
    Dockerfile that cannot be parsed is left untouched.
    """
    from imagetrust.app.dockerfile import pin_dockerfile
    from imagetrust.report.formats import emit

    settings = load_settings(
        registry_mirrors=registry_mirrors, insecure_registries=insecure_registries,
        platform=platform,
    )
    document = pin_dockerfile(path, runtime=cli_runtime(settings), update=update,
                              dry_run=dry_run)
    if dry_run and output_format == "table":  # the diff byte for byte, for `patch`
        if output is not None:
            from imagetrust.report.output import write_output

            write_output(document.diff, output)
        else:
            click.echo(document.diff, nl=False)
        return
    emit("dockerfile", output_format, document, output)


__all__ = ["check_command", "dockerfile_group", "pin_command"]
