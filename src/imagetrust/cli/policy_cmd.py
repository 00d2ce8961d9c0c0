"""``imagetrust policy show|evaluate``: the organisation's policy, and images judged by it."""

from __future__ import annotations

from pathlib import Path

import click

from imagetrust.cli.main import cli
from imagetrust.cli.options import format_option, image_options, offline_db_options, output_option
from imagetrust.cli.runtime import cli_runtime
from imagetrust.cli.suppress_options import suppression_options
from imagetrust.config import load_settings
from imagetrust.errors import GateFailed, ImagetrustError, UsageError
from imagetrust.policy.model import Level


def policy_option(func: click.decorators.FC) -> click.decorators.FC:
    return click.option(
        "--policy",
        "policy_path",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Policy file (env IMAGETRUST_POLICY; default ./imagetrust.toml, else the shipped "
        "default policy).",
    )(func)


@cli.group("policy")
def policy_group() -> None:
    """The trust policy: which rules apply, at which level, and images judged by it."""


@policy_group.command("show")
@policy_option
@click.option("--format", "output_format", type=click.Choice(["text", "json"]),
              default="text", show_default=True, help="Output format.")
def show_command(policy_path: Path | None, output_format: str) -> None:
    """Print the effective policy (the default merged with the policy file) and where each
    value came from. A malformed file is one error naming its line and key."""
    from imagetrust.app.policy import show_policy
    from imagetrust.report.policy import policy_show_json, policy_show_text

    runtime = cli_runtime(load_settings())
    runtime.policy_path = policy_path
    policy = show_policy(runtime)
    text = policy_show_json(policy) if output_format == "json" else policy_show_text(policy)
    click.echo(text.rstrip("\n"))


@policy_group.command("evaluate")
@click.argument("images", nargs=-1, required=True)
@image_options
@policy_option
@format_option("policy")
@output_option
@click.option("--exit-code", is_flag=True,
              help="Exit 2 when a rule at or below --fail-on fails (1 when an image cannot be "
              "evaluated).")
@click.option("--fail-on", default="needs-attention", show_default=True,
              help="The level at or below which a failed rule fails the gate.")
@offline_db_options
@click.option("--no-scan", is_flag=True, help="Skip the vulnerability scan.")
@click.option("--from-files", is_flag=True,
              help="Each IMAGES argument is a file listing references, one per line (# starts "
              "a comment): what the pre-commit hook passes.")
@suppression_options
def evaluate_command(
    images: tuple[str, ...],
    platform: str | None,
    registry_mirrors: tuple[str, ...],
    insecure_registries: tuple[str, ...],
    policy_path: Path | None,
    output_format: str,
    output: Path | None,
    exit_code: bool,
    fail_on: str,
    offline: bool,
    db: Path | None,
    no_scan: bool,
    from_files: bool,
    vex: tuple[Path, ...],
    exceptions: Path | None,
    show_suppressed: bool,
) -> None:
    """Judge each IMAGE by every enabled rule: one row per image and rule (pass, fail or
    unknown, with the evidence), in table, JSON, SARIF, JUnit XML, GitHub Actions annotations
    or Markdown."""
    from imagetrust.app.policy import evaluate_images
    from imagetrust.report.formats import emit

    gate = Level.parse(fail_on)
    settings = load_settings(
        registry_mirrors=registry_mirrors,
        insecure_registries=insecure_registries,
        platform=platform,
        offline=offline,
    )
    runtime = cli_runtime(settings, db)
    runtime.policy_path, runtime.vex, runtime.exceptions = policy_path, vex, exceptions
    targets = references_in(images) if from_files else images
    document = evaluate_images(targets, runtime=runtime, scan=not no_scan, fail_on=gate,
                               show_suppressed=show_suppressed)
    emit("policy", output_format, document, output)
    errors = [e for e in document.entries if e.error]
    if errors:
        raise ImagetrustError(
            f"{len(errors)} of {len(document.entries)} image(s) could not be evaluated "
            f"(first: {errors[0].reference}: {errors[0].error})",
            hint="fix the reference or the access to it; the report lists each error",
        )
    failing = document.failing()
    if exit_code and failing:
        entry, result = failing[0]
        raise GateFailed(
            f"{len(failing)} rule(s) at or below {gate.slug} failed "
            f"(first: {entry.reference}: {result.name})"
        )


def references_in(files: tuple[str, ...]) -> tuple[str, ...]:
    """Image references listed in files, one per line; ``#`` starts a comment."""
    found: list[str] = []
    for name in files:
        try:
            text = Path(name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            why = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
            raise UsageError(f"cannot read image list {name}: {why or error}",
                             hint="list one image reference per line") from None
        for line in text.splitlines():
            reference = line.split("#", 1)[0].strip()
            if reference:
                found.append(reference)
    if not found:
        raise UsageError("no image references in " + ", ".join(files),
                         hint="list one image reference per line")
    return tuple(found)
