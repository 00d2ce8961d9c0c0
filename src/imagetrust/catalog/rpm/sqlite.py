"""rpm's sqlite backend (``rpmdb.sqlite``, rpm >= 4.16: Fedora 33+, RHEL 9, …).

Headers are the ``blob`` column of the ``Packages`` table. The file comes from the image, so it is
opened through :mod:`imagetrust.sqlite_untrusted` as a private in-memory copy (nothing is written
to disk): ``Packages`` must be a plain table with plain ``hnum``/``blob`` columns (a view, a
generated column or a virtual table is refused before anything runs), each blob's ``length()`` is
asked before it is fetched by rowid, and the whole read has a time budget. A database left in WAL
mode is read in rollback mode in that copy; a non-empty ``-wal`` is reported by the cataloger.
"""

from __future__ import annotations

from collections.abc import Iterator

from imagetrust.catalog.rpm.records import RawRecord
from imagetrust.sqlite_untrusted import UntrustedDatabase, UntrustedSqliteError, open_bytes

_HEADER_MAGIC = b"SQLite format 3\0"
MAX_HEADER = 32 << 20
"""The largest header blob read (32 MiB; the biggest real ones, kernel packages, are a few MB)."""
SECONDS = 10.0
"""Time budget of one database (a real one with 2,000 packages reads in well under a second)."""


def iter_sqlite(data: bytes) -> Iterator[RawRecord]:
    """Every row of ``Packages``; a database that cannot be read is one error record."""
    if not data.startswith(_HEADER_MAGIC) or len(data) < 100:
        yield RawRecord("database", None, "not an SQLite 3 database")
        return
    records: list[RawRecord] = []
    try:
        with open_bytes(data, seconds=SECONDS, max_value=MAX_HEADER) as db:
            problem = _shape_problem(db)
            if problem is not None:
                yield RawRecord("database", None, problem)
                return
            rows = db.query("SELECT rowid, hnum, typeof(blob), length(blob) FROM Packages"
                            " ORDER BY rowid")
            for rowid, hnum, kind, size in rows:
                key = str(hnum)
                if kind != "blob":
                    records.append(RawRecord(key, None, "blob column is not a BLOB"))
                elif size > MAX_HEADER:
                    records.append(RawRecord(
                        key, None, f"header of {size} bytes is larger than {MAX_HEADER}"))
                else:
                    (blob,) = db.query("SELECT blob FROM Packages WHERE rowid = ?", (rowid,))[0]
                    records.append(RawRecord(key, blob, None))
    except UntrustedSqliteError as error:
        yield RawRecord("database", None, f"cannot read Packages table: {error}")
        return
    yield from records


def _shape_problem(db: UntrustedDatabase) -> str | None:
    """Why ``Packages`` is not the plain table rpm writes, or None."""
    kinds = [o.type for o in db.objects() if o.name.lower() == "packages"]
    if not kinds:
        return "cannot read Packages table: no such table"
    if kinds != ["table"]:
        return f"Packages is a {kinds[0]}, not a table: refused"
    if _is_virtual(db):
        return "Packages is a virtual table: refused"
    columns = {name.lower(): hidden for name, _, hidden in db.columns("Packages")}
    if "hnum" not in columns or "blob" not in columns:
        return "cannot read Packages table: it lacks the hnum or blob column"
    if columns["hnum"] or columns["blob"]:
        return "Packages has a generated hnum or blob column: refused"
    return None


def _is_virtual(db: UntrustedDatabase) -> bool:
    sql = next((o.sql for o in db.objects() if o.name.lower() == "packages"), None) or ""
    return sql.lstrip().upper().startswith("CREATE VIRTUAL")
