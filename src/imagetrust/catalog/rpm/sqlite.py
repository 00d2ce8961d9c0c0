"""rpm's sqlite backend (``rpmdb.sqlite``, rpm >= 4.16: Fedora 33+, RHEL 9, …).

Headers are the ``blob`` column of the ``Packages`` table. The file bytes are opened in memory via
``deserialize`` (nothing is written to disk); a database left in WAL mode is switched to rollback
mode in that private copy because an in-memory database cannot use a WAL, and committed data is in
the main file once rpm has checkpointed (it does on close). A non-empty ``-wal`` is reported.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from imagetrust.catalog.rpm.records import RawRecord

_HEADER_MAGIC = b"SQLite format 3\0"


def iter_sqlite(data: bytes) -> Iterator[RawRecord]:
    """Every row of ``Packages``; a database that cannot be opened is one error record."""
    if not data.startswith(_HEADER_MAGIC) or len(data) < 100:
        yield RawRecord("database", None, "not an SQLite 3 database")
        return
    image = bytearray(data)
    if image[18] == 2 or image[19] == 2:  # WAL mode: read it as a rollback-journal database
        image[18] = image[19] = 1
    connection = sqlite3.connect(":memory:")
    try:
        connection.deserialize(bytes(image))
        rows = connection.execute("SELECT hnum, blob FROM Packages ORDER BY hnum").fetchall()
    except sqlite3.Error as error:
        yield RawRecord("database", None, f"cannot read Packages table: {error}")
        return
    finally:
        connection.close()
    for hnum, blob in rows:
        if isinstance(blob, bytes):
            yield RawRecord(str(hnum), blob, None)
        else:
            yield RawRecord(str(hnum), None, "blob column is not a BLOB")
