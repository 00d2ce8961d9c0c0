"""Writing the database without ever exposing a half-written one.

Every write session copies the current database (SQLite backup API: a consistent snapshot even
while scans read it) to a temporary file in the same directory, applies the feeds there with
journalling off (the file is disposable until it is complete), then commit → fsync → ``os.replace``
→ fsync of the directory (:func:`imagetrust.atomic.atomic_path`).  A kill at any moment leaves the
previous file in place; the orphaned temporary file is removed by the next writer, which holds the
same lock.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from imagetrust.atomic import atomic_path
from imagetrust.errors import DatabaseError
from imagetrust.match.db import schema
from imagetrust.match.db.paths import write_lock
from imagetrust.match.feeds.model import FeedData

_BULK_ROWS = 20_000  # above this many rows, drop indexes and rebuild them once at the end


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _temp_glob(db_path: Path) -> str:
    return f".{db_path.name}.*.tmp"


class DbWriter:
    """Applies parsed feeds to the temporary copy; only :func:`build` creates one."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._indexes_dropped = False

    def apply(
        self,
        data: FeedData,
        *,
        url: str | None,
        etag: str | None = None,
        last_modified: str | None = None,
        sha256: str | None = None,
        now: str | None = None,
    ) -> None:
        conn, src = self.conn, data.source
        bulk = len(data.affected) + len(data.epss) + len(data.severities) > _BULK_ROWS
        if bulk and not self._indexes_dropped:
            schema.drop_indexes(conn)
            self._indexes_dropped = True
        if data.mode == "replace":
            for table in ("advisories", "affected", "severities"):
                conn.execute(f"DELETE FROM {table} WHERE source = ?", (src,))
            if data.feed == "kev":
                conn.execute("DELETE FROM kev")
            if data.feed == "epss":
                conn.execute("DELETE FROM epss")
        else:
            ids = [row.id for row in data.advisories]
            for chunk in _chunks(ids, 500):
                marks = ",".join("?" * len(chunk))
                conn.execute(
                    f"DELETE FROM severities WHERE source = ? AND advisory_id IN ({marks})",
                    (src, *chunk),
                )
        conn.executemany(
            "INSERT OR REPLACE INTO advisories VALUES (?,?,?,?,?,?,?,?)",
            [(src, *row) for row in data.advisories],
        )
        conn.executemany(
            "INSERT INTO affected VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [(src, *row) for row in data.affected],
        )
        conn.executemany(
            "INSERT INTO severities VALUES (?,?,?,?,?,?,?)",
            [(src, *row) for row in data.severities],
        )
        conn.executemany("INSERT OR REPLACE INTO kev VALUES (?,?,?,?,?,?,?,?,?)", data.kev)
        conn.executemany("INSERT OR REPLACE INTO epss VALUES (?,?,?,?)", data.epss)
        stamp = now or utc_now()
        record_count = data.record_count
        if data.mode == "upsert":
            conn.executemany(
                "INSERT OR REPLACE INTO nvd_fetched VALUES (?, ?, 1)",
                [(row.id, stamp) for row in data.advisories],
            )
            record_count = conn.execute(
                "SELECT count(*) FROM advisories WHERE source = ?", (src,)
            ).fetchone()[0]
        conn.execute(
            "INSERT OR REPLACE INTO feeds VALUES (?,?,?,?,?,?,?,?)",
            (src, data.feed, url, etag, last_modified, stamp, record_count, sha256),
        )

    def mark_missing_nvd(self, cve_ids: Sequence[str], now: str | None = None) -> None:
        """Remember CVEs NVD does not know, so the next scan does not ask again."""
        stamp = now or utc_now()
        self.conn.executemany(
            "INSERT OR REPLACE INTO nvd_fetched VALUES (?, ?, 0)", [(c, stamp) for c in cve_ids]
        )

    def touch(self, source: str, now: str | None = None) -> None:
        """A 304: the stored rows are current as of now."""
        self.touch_many([source], now)

    def touch_many(self, sources: Sequence[str], now: str | None = None) -> None:
        stamp = now or utc_now()
        self.conn.executemany(
            "UPDATE feeds SET updated_at = ? WHERE name = ?", [(stamp, s) for s in sources]
        )


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def incompatibility(db_path: Path) -> str | None:
    """Why the database at ``db_path`` cannot be the starting point of a write session, or None
    when it can (absent, empty, or of this schema)."""
    if not db_path.is_file():
        return None
    try:
        src = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            if src.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0:
                return None
            version = schema.schema_version(src)
        finally:
            src.close()
    except sqlite3.DatabaseError:
        return "is not a readable imagetrust database"
    if version is None:
        return "is not an imagetrust database"
    if version != schema.SCHEMA_VERSION:
        return f"has schema version {version}, this imagetrust writes {schema.SCHEMA_VERSION}"
    return None


def require_compatible(db_path: Path, *, rebuild: bool) -> None:
    """Refuse a partial write over a database this version cannot extend.

    Its rows cannot be carried over (no migration), so starting from empty would silently drop
    every feed the session does not write.  Only a session that rewrites all feeds (``rebuild``:
    a full ``db update``) may start afresh; anything else gets a message saying how to get there.
    """
    problem = incompatibility(db_path)
    if problem is not None and not rebuild:
        raise DatabaseError(
            f"the vulnerability database {db_path} {problem}; updating only some feeds would "
            "drop all the others",
            hint="run `imagetrust db update` without --feed to rebuild every feed, or "
            "`imagetrust db import` a bundle exported by this version",
        )


def _copy_previous(db_path: Path, conn: sqlite3.Connection) -> None:
    """Start from the current database when it is one of this schema; else (a rebuild, which
    :func:`require_compatible` allowed) from empty."""
    if not db_path.is_file() or incompatibility(db_path) is not None:
        return
    try:
        src = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            src.backup(conn)
        finally:
            src.close()
    except sqlite3.DatabaseError as error:
        raise DatabaseError(
            f"cannot copy {db_path} to update it ({error})",
            hint="run `imagetrust db update` without --feed to rebuild it",
        ) from error


@contextlib.contextmanager
def build(db_path: Path, *, rebuild: bool = False, fresh: bool = False) -> Iterator[DbWriter]:
    """Yield a writer on a copy of ``db_path``; on clean exit the copy atomically replaces it.

    ``rebuild``: the session writes every feed, so a database of another schema may be replaced
    by an empty start (see :func:`require_compatible`). ``fresh``: start from an empty database
    whatever is there now (a bundle's rows replace everything).
    """
    with write_lock(db_path):
        require_compatible(db_path, rebuild=rebuild or fresh)
        for stale in db_path.parent.glob(_temp_glob(db_path)):
            stale.unlink(missing_ok=True)
        try:
            with atomic_path(db_path, sync_dir=True) as tmp:
                conn = sqlite3.connect(tmp, isolation_level=None)
                try:
                    keep_temp_files_beside(conn, db_path.parent)
                    if not fresh:
                        _copy_previous(db_path, conn)
                    conn.execute("PRAGMA journal_mode = OFF")
                    conn.execute("PRAGMA synchronous = OFF")
                    schema.create_tables(conn)
                    conn.execute("BEGIN")
                    yield DbWriter(conn)
                    schema.create_indexes(conn)
                    conn.execute(
                        "INSERT OR REPLACE INTO meta VALUES ('built_at', ?)", (utc_now(),)
                    )
                    conn.execute("COMMIT")
                finally:
                    conn.close()  # before atomic_path fsyncs and renames (or removes) the file
        except sqlite3.Error as error:
            raise DatabaseError(
                f"writing the vulnerability database failed ({error})",
                hint=f"the previous {db_path} is unchanged; check free disk space",
            ) from error


def keep_temp_files_beside(conn: sqlite3.Connection, directory: Path) -> None:
    """SQLite's sort and index-build spill files go next to the database (inside the cache
    directory), never to ``$TMPDIR``: imagetrust writes nowhere but its cache and outputs.

    ``temp_store_directory`` is SQLite's deprecated pragma, yet the only per-connection way:
    ``SQLITE_TMPDIR`` is read once per process and would change it for every library user.
    """
    try:
        conn.execute(f"PRAGMA temp_store_directory = '{_sql_text(str(directory))}'")
    except sqlite3.Error:  # a build without the pragma: keep memory for temporaries instead
        conn.execute("PRAGMA temp_store = MEMORY")


def _sql_text(text: str) -> str:
    return text.replace("'", "''")


def touch_in_place(db_path: Path, sources: Sequence[str], now: str | None = None) -> None:
    """Record a check where nothing changed: one small journalled transaction, no copy."""
    if not sources or not db_path.is_file():
        return
    with write_lock(db_path):
        try:
            conn = sqlite3.connect(db_path)
            try:
                with conn:
                    DbWriter(conn).touch_many(sources, now)
            finally:
                conn.close()
        except sqlite3.Error as error:
            raise DatabaseError(
                f"cannot update {db_path} ({error})",
                hint="remove it and run `imagetrust db update` again",
            ) from error
