"""``imagetrust db update|status|import|export``: the vulnerability database."""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path

import click
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn

from imagetrust.cli.main import cli
from imagetrust.config import load_settings
from imagetrust.match.db import (
    DEFAULT_MAX_AGE,
    ProgressEvent,
    db_status,
    export_bundle,
    import_feed,
    resolve_db_path,
    update_feeds,
)
from imagetrust.match.feeds import default_feeds
from imagetrust.match.scan import feed_base_urls


class ProgressBars:
    """rich progress bars fed by update_feeds' events (only used on a terminal)."""

    def __init__(self) -> None:
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            transient=True,
            console=None,
        )
        self._tasks: dict[str, TaskID] = {}
        self._started = False

    def __call__(self, event: ProgressEvent) -> None:
        if not self._started:
            self._progress.start()
            self._started = True
        task = self._tasks.get(event.source)
        if task is None:
            task = self._progress.add_task(event.source, total=event.total)
            self._tasks[event.source] = task
        if event.phase == "download":
            self._progress.update(task, completed=event.done, total=event.total)
        elif event.phase in ("unchanged", "store"):
            self._progress.update(task, completed=1, total=1)
            if all(self._progress.tasks[i].finished for i in self._tasks.values()):
                self._progress.stop()
                self._started = False


def _db(db: Path | None) -> Path:
    return resolve_db_path(db, load_settings().cache_dir)


def _age(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.1f}h" if hours < 48 else f"{hours / 24:.1f}d"


db_option = click.option(
    "--db",
    "db",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Database file (env IMAGETRUST_DB; default in the cache directory).",
)


@cli.group("db")
def db_group() -> None:
    """The vulnerability database: feeds, freshness, offline import and export."""


@db_group.command("update")
@click.option(
    "--feed",
    "feeds",
    multiple=True,
    metavar="NAME",
    help="Feed to update (repeatable): debian-tracker, alpine-secdb[/v3.19], "
    "osv[/PyPI], kev, epss. Default: all of them.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
@db_option
def db_update(feeds: tuple[str, ...], quiet: bool, db: Path | None) -> None:
    """Download feeds (conditionally: unchanged feeds cost one request) and swap in atomically.

    Feed servers: IMAGETRUST_FEED_BASE_URL (a mirror with one directory per feed) or
    IMAGETRUST_FEED_URLS=feed=URL,... .
    """
    path = _db(db)
    progress = None if quiet or not sys.stderr.isatty() else ProgressBars()
    urls = feed_base_urls()
    result = update_feeds(
        path, list(feeds) or default_feeds(urls), base_urls=urls, progress=progress
    )
    for outcome in result.outcomes:
        state = f"{outcome.record_count} records" if outcome.changed else "unchanged"
        click.echo(f"{outcome.name}: {state}")
    click.echo(f"database: {path}")


@db_group.command("status")
@click.option(
    "--max-age",
    type=click.FloatRange(min=0),
    default=DEFAULT_MAX_AGE.days,
    show_default=True,
    help="Warn about feeds older than this many days.",
)
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table")
@db_option
def db_status_cmd(max_age: float, output_format: str, db: Path | None) -> None:
    """Per feed: when it was updated, how many records it holds, and whether it is stale."""
    path = _db(db)
    statuses = db_status(path, max_age=timedelta(days=max_age))
    if output_format == "json":
        click.echo(
            json.dumps(
                {
                    "database": str(path),
                    "feeds": [
                        {
                            "name": s.name,
                            "url": s.url,
                            "updated_at": s.updated_at.isoformat(),
                            "records": s.record_count,
                            "age_hours": round(s.age.total_seconds() / 3600, 2),
                            "stale": s.stale,
                        }
                        for s in statuses
                    ],
                },
                indent=2,
            )
        )
    else:
        click.echo(f"database: {path}")
        width = max((len(s.name) for s in statuses), default=4)
        click.echo(f"{'feed':<{width}}  {'updated (UTC)':<16}  {'records':>8}  age")
        for s in statuses:
            click.echo(
                f"{s.name:<{width}}  {s.updated_at:%Y-%m-%d %H:%M}  "
                f"{s.record_count:>8}  {_age(s.age)}"
            )
    for s in statuses:
        if s.stale:
            click.echo(
                f"warning: {s.name} is older than {max_age:g} days; run `imagetrust db update`",
                err=True,
            )


@db_group.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--feed",
    default=None,
    metavar="NAME",
    help="Treat PATH as this feed (when it cannot be recognised).",
)
@db_option
def db_import(path: Path, feed: str | None, db: Path | None) -> None:
    """Import a feed file, a directory of feed files, or a bundle from `db export` (offline)."""
    target = _db(db)
    result = import_feed(target, path, feed)
    for outcome in result.outcomes:
        click.echo(f"{outcome.name}: {outcome.record_count} records")
    for skipped in result.skipped:
        click.echo(f"warning: skipped {skipped} (not a recognised feed)", err=True)
    click.echo(f"database: {target}")


@db_group.command("export")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@db_option
def db_export(path: Path, db: Path | None) -> None:
    """Write the whole database as a bundle (tar.gz) for `db import` on an offline machine."""
    out = export_bundle(_db(db), path)
    click.echo(f"bundle written: {out}")
