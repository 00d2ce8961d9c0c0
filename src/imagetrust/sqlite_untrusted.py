"""SQLite files someone else wrote, opened so that reading them can neither hang nor exhaust memory.

rpm's ``rpmdb.sqlite`` inside an image and the database inside a ``db import`` bundle are crafted
by whoever made them, and SQLite runs whatever their schema says when a query touches it: a
``WITH RECURSIVE`` view never ends, a view over ``zeroblob(2e9)`` allocates gigabytes, a trigger
or a generated column computes on read. Every connection made here therefore:

* opens a file with ``mode=ro&immutable=1`` (no lock, journal or WAL file is read or created next
  to it), or bytes as a private in-memory copy (``deserialize``), and sets ``query_only``;
* sets ``trusted_schema=OFF``, so the schema cannot call functions with side effects or use
  virtual tables;
* caps every string or blob any statement may produce (``SQLITE_LIMIT_LENGTH``): a bigger value
  is an error, never an allocation, and callers ask ``length()`` before fetching one;
* aborts any statement once a time budget has passed (a progress handler);
* keeps temporary b-trees in memory (``temp_store=MEMORY``). The only statements run here are
  fixed scans in rowid or primary-key order, which need no temporary storage, so nothing is ever
  written — neither to ``$TMPDIR`` nor anywhere else. Pointing ``SQLITE_TMPDIR`` at the cache
  would instead change the environment of the whole process, which a library must not do.

Callers first look at :meth:`UntrustedDatabase.objects` (read without running any of it) and
query only the tables they expect, so a view or trigger is refused before it could run.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from imagetrust.errors import ImagetrustError

DEFAULT_MAX_VALUE = 16 << 20
"""The largest string or blob read by default (16 MiB)."""
DEFAULT_SECONDS = 10.0
"""The default time budget of one opened database, over all its statements."""
_CHECK_EVERY = 10_000
"""Virtual machine steps between two looks at the clock (about a millisecond)."""


class UntrustedSqliteError(ImagetrustError):
    """An untrusted SQLite file cannot be read within its bounds; callers say which file."""


@dataclass(frozen=True, slots=True)
class SchemaObject:
    """One row of ``sqlite_master``: what the file declares, none of it run."""

    type: str
    name: str
    tbl_name: str
    sql: str | None


class UntrustedDatabase:
    """A read-only connection to an untrusted SQLite database, bounded in time and value size."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        *,
        seconds: float = DEFAULT_SECONDS,
        max_value: int = DEFAULT_MAX_VALUE,
    ) -> None:
        self._conn = conn
        self.seconds = seconds
        self.max_value = max_value
        self._deadline = time.monotonic() + seconds
        conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, max_value)
        conn.set_progress_handler(self._over_budget, _CHECK_EVERY)
        for pragma in (
            "PRAGMA trusted_schema = OFF",
            "PRAGMA temp_store = MEMORY",
            "PRAGMA cell_size_check = ON",
            "PRAGMA mmap_size = 0",
            "PRAGMA query_only = ON",
        ):
            self._run(pragma)

    def _over_budget(self) -> int:
        return 1 if time.monotonic() > self._deadline else 0

    def _run(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        try:
            return self._conn.execute(sql, params)
        except sqlite3.Error as error:
            raise self._explain(error) from None

    def _explain(self, error: sqlite3.Error) -> UntrustedSqliteError:
        text = str(error)
        if text == "interrupted":
            text = f"reading it took longer than {self.seconds:g} s"
        elif "too big" in text:
            text = f"it holds a value larger than {self.max_value} bytes"
        return UntrustedSqliteError(text)

    def objects(self) -> list[SchemaObject]:
        """Every object the schema declares, as declared (nothing in it is run to list it)."""
        rows = self.query("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY rowid")
        return [
            SchemaObject(str(kind), str(name), str(table), sql if isinstance(sql, str) else None)
            for kind, name, table, sql in rows
        ]

    def columns(self, table: str) -> list[tuple[str, str, bool]]:
        """``(name, declared type, hidden)`` of a table; hidden covers generated columns."""
        rows = self.query(f"PRAGMA table_xinfo({quote_name(table)})")
        return [(str(row[1]), str(row[2]), bool(row[6])) for row in rows]

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """All rows of a statement; only for statements whose rows are known to be small."""
        cursor = self._run(sql, params)
        try:
            return cursor.fetchall()
        except sqlite3.Error as error:
            raise self._explain(error) from None

    def iterate(self, sql: str, params: tuple[Any, ...] = ()) -> _Rows:
        """Rows one at a time (memory: one row), for scans of whole tables."""
        return _Rows(self, self._run(sql, params))

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> UntrustedDatabase:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class _Rows:
    """An iterator over a cursor that turns SQLite errors into :class:`UntrustedSqliteError`."""

    def __init__(self, db: UntrustedDatabase, cursor: sqlite3.Cursor) -> None:
        self._db = db
        self._cursor = cursor

    def __iter__(self) -> _Rows:
        return self

    def __next__(self) -> tuple[Any, ...]:
        try:
            row = self._cursor.fetchone()
        except sqlite3.Error as error:
            raise self._db._explain(error) from None
        if row is None:
            raise StopIteration
        return tuple(row)


def quote_name(name: str) -> str:
    """An SQL identifier, quoted (names come from our own schema, never from the file)."""
    return '"' + name.replace('"', '""') + '"'


def open_file(
    path: Path, *, seconds: float = DEFAULT_SECONDS, max_value: int = DEFAULT_MAX_VALUE
) -> UntrustedDatabase:
    """Open ``path`` read-only and immutable; a file SQLite cannot open is an error."""
    uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None)
    except sqlite3.Error as error:
        raise UntrustedSqliteError(str(error)) from None
    return _wrap(conn, seconds, max_value)


def open_bytes(
    data: bytes, *, seconds: float = DEFAULT_SECONDS, max_value: int = DEFAULT_MAX_VALUE
) -> UntrustedDatabase:
    """Open a database held in memory as a private copy; a WAL-mode header is read as rollback
    mode (an in-memory database has no WAL; committed data is in the main file)."""
    image = bytearray(data)
    if len(image) >= 100 and (image[18] == 2 or image[19] == 2):
        image[18] = image[19] = 1
    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        conn.deserialize(bytes(image))
    except sqlite3.Error as error:
        conn.close()
        raise UntrustedSqliteError(str(error)) from None
    return _wrap(conn, seconds, max_value)


def _wrap(conn: sqlite3.Connection, seconds: float, max_value: int) -> UntrustedDatabase:
    try:
        return UntrustedDatabase(conn, seconds=seconds, max_value=max_value)
    except BaseException:
        conn.close()
        raise
