"""Entry point: builds the click group and maps errors to exit codes in one place."""

from __future__ import annotations

import sys

import click

from imagetrust import __version__
from imagetrust.errors import ImagetrustError


class LazyGroup(click.Group):
    """A click group whose subcommands are imported only when named (or listed by --help)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        from imagetrust.cli.commands import COMMAND_MODULES

        return sorted(set(COMMAND_MODULES) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            from imagetrust.cli.commands import load

            load(cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, "--version", prog_name="imagetrust")
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """How far should I trust this container image, and what should I do about it?

    Exit codes: 0 success, 1 error (bad input, network, usage), 2 a gate failed
    (--exit-code or policy).
    """
    ctx.ensure_object(dict)
    ctx.obj["verbose"] = verbose


def main(args: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (callable in-process by tests)."""
    verbose = "-v" in (args if args is not None else sys.argv[1:]) or "--verbose" in (
        args if args is not None else sys.argv[1:]
    )
    try:
        cli.main(args=args, prog_name="imagetrust", standalone_mode=False)
    except ImagetrustError as error:
        if verbose:
            raise
        click.echo(f"imagetrust: error: {error}", err=True)
        return error.exit_code
    except click.exceptions.Abort:
        click.echo("imagetrust: aborted", err=True)
        return 130
    except click.ClickException as error:
        error.show()
        return 1 if error.exit_code == 2 else error.exit_code
    except click.exceptions.Exit as exit_:
        return exit_.exit_code
    return 0
