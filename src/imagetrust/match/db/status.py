"""``db status``: what each feed holds and whether it is too old to trust."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from imagetrust.errors import DatabaseError
from imagetrust.match.db import schema
from imagetrust.match.feeds.common import scrub

DEFAULT_MAX_AGE = timedelta(days=3)


@dataclass(frozen=True, slots=True)
class FeedStatus:
    name: str
    feed: str
    url: str | None
    updated_at: datetime
    record_count: int
    age: timedelta
    stale: bool


def connect_readonly(db_path: Path) -> sqlite3.Connection:
    """Open an existing database read-only, with a one-line error for every way that fails."""
    if not db_path.is_file():
        raise DatabaseError(
            f"no vulnerability database at {db_path}",
            hint="run `imagetrust db update` (or `imagetrust db import FILE` offline)",
        )
    try:
        conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)
        version = schema.schema_version(conn)
    except sqlite3.DatabaseError as error:
        raise DatabaseError(
            f"{db_path} is not a readable vulnerability database ({error})",
            hint="delete it and run `imagetrust db update`",
        ) from error
    if version is None:
        conn.close()
        raise DatabaseError(
            f"{db_path} is not a readable vulnerability database",
            hint="delete it and run `imagetrust db update`",
        )
    if version != schema.SCHEMA_VERSION:
        conn.close()
        raise DatabaseError(
            f"{db_path} has schema version {version}, this imagetrust needs "
            f"{schema.SCHEMA_VERSION}",
            hint="run `imagetrust db update` to rebuild it",
        )
    return conn


def parse_stamp(text: str) -> datetime:
    stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def db_status(
    db_path: Path, *, max_age: timedelta = DEFAULT_MAX_AGE, now: datetime | None = None
) -> list[FeedStatus]:
    """One entry per stored feed unit, sorted by name; ``stale`` when older than ``max_age``."""
    current = now or datetime.now(UTC)
    conn = connect_readonly(db_path)
    try:
        rows = conn.execute(
            "SELECT name, feed, url, updated_at, record_count FROM feeds ORDER BY name"
        ).fetchall()
    except sqlite3.DatabaseError as error:
        raise DatabaseError(f"cannot read feed status from {db_path} ({error})") from error
    finally:
        conn.close()
    result = []
    for name, feed, url, updated, count in rows:
        stamp = parse_stamp(updated)
        age = current - stamp
        shown = scrub(url) if isinstance(url, str) else url  # older rows may hold credentials
        result.append(FeedStatus(name, feed, shown, stamp, count, age, age > max_age))
    return result
