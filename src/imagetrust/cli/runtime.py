"""The CLI's side of a use case run: messages to stderr, progress bars on a terminal."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from imagetrust.app.runtime import Messages, Runtime
from imagetrust.config import Settings


def _echo(kind: str, text: str) -> None:
    click.echo(f"note: {text}" if kind == "note" else f"imagetrust: warning: {text}", err=True)


def cli_runtime(settings: Settings, db: Path | None = None, *, progress: bool = False) -> Runtime:
    """A runtime whose notes and warnings reach stderr as they come; with ``progress``, feed
    downloads draw bars when stderr is a terminal and ``--quiet`` was not given."""
    bars = None
    if progress and not settings.quiet and sys.stderr.isatty():
        from imagetrust.cli.db_cmd import ProgressBars

        bars = ProgressBars()
    return Runtime(settings, db, Messages(_echo), bars)


def say_note(note: str | None) -> None:
    """The one line saying which copy was read (local-first resolution), when there is one."""
    if note:
        _echo("note", note)
