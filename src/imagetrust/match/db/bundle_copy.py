"""A bundle's database, checked against our own schema and copied row by row into a fresh one.

The SQLite file inside a bundle is whatever its maker wrote: installing it as is would let a view
named ``feeds`` that recurses forever hang every later ``db status`` and ``cves``. So the file is
opened through :mod:`imagetrust.sqlite_untrusted`, its ``sqlite_master`` must equal, object for
object and statement for statement, what :mod:`imagetrust.match.db.schema` creates (no view,
trigger or extra object), every value must have its column's type, and the rows are copied into a
database :func:`imagetrust.match.db.writer.build` creates itself, indexes rebuilt by us.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from imagetrust.errors import FeedError
from imagetrust.match.db import schema
from imagetrust.match.db.writer import build
from imagetrust.match.feeds.common import scrub
from imagetrust.sqlite_untrusted import (
    SchemaObject,
    UntrustedDatabase,
    UntrustedSqliteError,
    open_file,
    quote_name,
)

MAX_VALUE = 16 << 20
"""The largest value one column of a bundle row may hold (16 MiB; real ones are a few KB)."""
BASE_SECONDS = 60.0
SECONDS_PER_GIB = 120.0
"""Time budget of the copy: 60 s plus 2 minutes per GiB of database (it copies ~50 MB/s)."""

_TYPES = {"TEXT": ("text",), "INTEGER": ("integer",), "REAL": ("real", "integer")}


def expected_objects() -> set[SchemaObject]:
    """Every object of a database this imagetrust writes, as ``sqlite_master`` records it."""
    conn = sqlite3.connect(":memory:")
    try:
        schema.create_tables(conn)
        schema.create_indexes(conn)
        rows = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
    finally:
        conn.close()
    return {SchemaObject(*row) for row in rows}


def _columns() -> dict[str, list[tuple[str, tuple[str, ...]]]]:
    """Per table, each column with the SQLite value types it may hold (NULL when nullable)."""
    conn = sqlite3.connect(":memory:")
    try:
        schema.create_tables(conn)
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        result = {}
        for table in tables:
            columns = []
            for _, name, declared, notnull, _, pk in conn.execute(
                    f"PRAGMA table_info({quote_name(table)})"):
                allowed = _TYPES[declared.upper()]
                columns.append((name, allowed if notnull or pk else (*allowed, "null")))
            result[table] = columns
        return result
    finally:
        conn.close()


def copy_bundle_database(staged: Path, db_path: Path, bundle: Path) -> None:
    """Check ``staged`` (the bundle's database, already verified against its manifest) and make
    a copy of its rows the current database at ``db_path``; anything unexpected is refused."""
    seconds = BASE_SECONDS + SECONDS_PER_GIB * staged.stat().st_size / (1 << 30)
    try:
        with open_file(staged, seconds=seconds, max_value=MAX_VALUE) as source:
            _check_schema(source, bundle)
            columns = _columns()
            _check_types(source, columns, bundle)
            with build(db_path, fresh=True) as writer:
                schema.drop_indexes(writer.conn)  # rebuilt once by build() at the end
                for table, cols in columns.items():
                    _copy_table(source, writer.conn, table, [name for name, _ in cols])
    except UntrustedSqliteError as error:
        raise FeedError(f"bundle {bundle}: its database cannot be read safely ({error})",
                        hint="export it again with `imagetrust db export`") from None


def _check_schema(source: UntrustedDatabase, bundle: Path) -> None:
    found = source.objects()
    expected = expected_objects()
    extra = [o for o in found if o not in expected]
    missing = expected - set(found)
    if extra:
        first = extra[0]
        raise FeedError(
            f"bundle {bundle}: its database holds {first.type} {first.name[:60]!r}, which an "
            "imagetrust database does not have (or has with another definition)",
            hint="a bundle's database must be exactly what `imagetrust db export` writes",
        )
    if missing:
        first = sorted(missing, key=lambda o: o.name)[0]
        raise FeedError(
            f"bundle {bundle}: its database lacks {first.type} {first.name!r}",
            hint="export it again with this imagetrust version",
        )


def _order(table: str) -> str:
    """Rowid tables are scanned by rowid, ``WITHOUT ROWID`` ones by primary key: neither sorts."""
    return "" if table in ("advisories", "kev", "epss", "nvd_fetched") else " ORDER BY rowid"


def _check_types(
    source: UntrustedDatabase, columns: dict[str, list[tuple[str, tuple[str, ...]]]],
    bundle: Path,
) -> None:
    for table, cols in columns.items():
        wrong = " OR ".join(
            f"typeof({quote_name(name)}) NOT IN ({', '.join(repr(t) for t in allowed)})"
            for name, allowed in cols
        )
        row = source.query(f"SELECT count(*) FROM {quote_name(table)} WHERE {wrong}")
        if row[0][0]:
            raise FeedError(
                f"bundle {bundle}: {row[0][0]} rows of its {table} table hold values of the "
                "wrong type",
                hint="a bundle's database must be exactly what `imagetrust db export` writes",
            )


def _copy_table(
    source: UntrustedDatabase, target: sqlite3.Connection, table: str, names: list[str]
) -> None:
    listed = ", ".join(quote_name(n) for n in names)
    rows: Any = source.iterate(f"SELECT {listed} FROM {quote_name(table)}{_order(table)}")
    if table == "feeds":  # a crafted bundle may carry credentials in a URL: keep them out
        url = names.index("url")
        rows = [(*r[:url], scrub(r[url]) if isinstance(r[url], str) else r[url], *r[url + 1:])
                for r in rows]
    if table == "meta":  # the version stamped is the one this imagetrust wrote, not the file's
        rows = [r for r in rows if r[0] != "schema_version"]
    marks = ", ".join("?" * len(names))
    verb = "INSERT OR REPLACE" if table == "meta" else "INSERT"
    target.executemany(f"{verb} INTO {quote_name(table)} ({listed}) VALUES ({marks})", rows)
