"""Reading the database: the queries matchers and reports run, batched per ecosystem.

One ``SELECT ... WHERE ecosystem = ? AND package IN (json_each(?))`` per ecosystem serves every
package of an image through the ``affected_lookup`` index, so matching 10,000 packages takes a few
queries instead of 10,000.

Rows are typed NamedTuples, immutable like the frozen dataclasses elsewhere: a scan builds
thousands of them, and a frozen dataclass's ``__init__`` (one ``object.__setattr__`` per field)
measured 3-4 times slower to build.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple

from imagetrust.errors import DatabaseError
from imagetrust.jsonutil import loads
from imagetrust.match.db.status import connect_readonly
from imagetrust.match.feeds.model import EpssRow, KevRow
from imagetrust.match.names import normalize_name


class RangeEvent(NamedTuple):
    kind: str  # introduced | fixed | last_affected | limit
    version: str


class AffectedRange(NamedTuple):
    type: str  # ECOSYSTEM | SEMVER
    events: tuple[RangeEvent, ...]


class Affected(NamedTuple):
    """One advisory's verdict on one package in one ecosystem, as the feed stated it."""

    source: str
    ecosystem: str
    package: str
    advisory_id: str
    state: str
    fixed_version: str | None
    urgency: str | None
    nodsa: str | None
    nodsa_reason: str | None
    ranges: tuple[AffectedRange, ...]
    versions: tuple[str, ...]


class Advisory(NamedTuple):
    source: str
    id: str
    aliases: tuple[str, ...]
    summary: str | None
    published: str | None
    modified: str | None
    withdrawn: str | None


class Severity(NamedTuple):
    source: str
    advisory_id: str
    origin: str
    type: str
    score: float | None
    vector: str | None
    rating: str | None


_CORRUPT_HINT = "run `imagetrust db update` to rebuild it"


def _json(text: str, column: str) -> Any:
    """A JSON column; the database may come from an imported bundle, so a value that does not
    parse (or nests deep enough to exhaust the stack) is a DatabaseError, not a traceback."""
    try:
        return loads(text, what=f"the vulnerability database's {column}", error=DatabaseError)
    except DatabaseError as error:
        raise DatabaseError(error.message, hint=_CORRUPT_HINT) from None


def _malformed(column: str) -> DatabaseError:
    return DatabaseError(
        f"the vulnerability database's {column} holds a value of the wrong shape",
        hint=_CORRUPT_HINT,
    )


@lru_cache(maxsize=16384)
def _ranges(text: str | None) -> tuple[AffectedRange, ...]:
    """Parsed once per distinct text: OSV records repeat the same ranges across packages."""
    if not text:
        return ()
    try:
        return tuple(
            AffectedRange(
                str(r["type"]),
                tuple(
                    RangeEvent(str(k), str(v)) for event in r["events"] for k, v in event.items()
                ),
            )
            for r in _json(text, "affected.ranges")
        )
    except (KeyError, TypeError, AttributeError):
        raise _malformed("affected.ranges") from None


@lru_cache(maxsize=16384)
def _listed(text: str | None, column: str = "affected.versions") -> tuple[str, ...]:
    if not text:
        return ()
    value = _json(text, column)
    if not isinstance(value, list):
        raise _malformed(column)
    return tuple(str(item) for item in value)


class VulnDB:
    """A read-only handle; safe to keep open while ``db update`` swaps in a new file."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path

    @classmethod
    def open(cls, path: Path) -> VulnDB:
        conn = connect_readonly(path)
        conn.execute("PRAGMA cache_size = -65536")  # 64 MiB: lookups touch scattered pages
        return cls(conn, path)

    def __enter__(self) -> VulnDB:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._conn.close()

    def _query(self, sql: str, params: tuple[object, ...]) -> list[tuple[object, ...]]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.DatabaseError as error:
            raise DatabaseError(
                f"reading {self.path} failed ({error})",
                hint="run `imagetrust db update` to rebuild it",
            ) from error

    def ecosystems(self) -> list[str]:
        return [str(r[0]) for r in self._query("SELECT DISTINCT ecosystem FROM affected", ())]

    def has_ecosystem(self, ecosystem: str) -> bool:
        """Whether any advisory row exists for ``ecosystem`` (one indexed probe): a release the
        feeds do not cover must read as "not covered", never as clean."""
        return bool(self._query("SELECT 1 FROM affected WHERE ecosystem = ? LIMIT 1", (ecosystem,)))

    def affected(self, ecosystem: str, names: Iterable[str]) -> dict[str, list[Affected]]:
        """Rows for ``names`` (spelled as catalogued; normalised here) keyed by stored name."""
        wanted = sorted({normalize_name(ecosystem, n) for n in names})
        rows = self._text_query(
            f"SELECT {_AFFECTED_COLUMNS} FROM affected AS a"
            " WHERE a.ecosystem = ? AND a.package IN (SELECT value FROM json_each(?))",
            (ecosystem, json.dumps(wanted)),
        )
        return _by_package(rows)

    def affected_after(
        self, ecosystem: str, installed: Mapping[str, str | None]
    ) -> dict[str, list[Affected]]:
        """Debian-tracker rows that can still make a finding, for ``{package: installed key}``.

        The key is :func:`imagetrust.versions.dpkg.sortable` of the lowest installed version filed
        under that package (None: unknown, keep every row). Dropped in SQL, exactly as the
        matcher would judge them: ``undetermined``, fixed in ``0``, ``resolved`` without a fixed
        version, and fixed versions the installed one already includes. A fixed version dpkg
        cannot order has no key and is kept, so the matcher still reports it.
        """
        rows = self._text_query(AFFECTED_AFTER_SQL, (ecosystem, json.dumps(dict(installed))))
        return _by_package(rows)

    def _text_query(self, sql: str, params: tuple[object, ...]) -> list[tuple[Any, ...]]:
        """Rows whose columns SQL already made ``str`` or None (see ``_AFFECTED_COLUMNS``)."""
        return self._query(sql, params)

    def advisories(self, ids: Iterable[str]) -> dict[str, list[Advisory]]:
        rows = self._query(
            "SELECT source, id, aliases, summary, published, modified, withdrawn FROM advisories"
            " WHERE id IN (SELECT value FROM json_each(?))",
            (json.dumps(sorted(set(ids))),),
        )
        found: dict[str, list[Advisory]] = defaultdict(list)
        for r in rows:
            found[str(r[1])].append(
                Advisory(
                    str(r[0]), str(r[1]), _listed(_opt(r[2]), "advisories.aliases"),
                    _opt(r[3]), _opt(r[4]), _opt(r[5]), _opt(r[6]),
                )
            )
        return dict(found)

    def severities(self, ids: Iterable[str]) -> dict[str, list[Severity]]:
        rows = self._query(
            "SELECT source, advisory_id, origin, type, score, vector, rating FROM severities"
            " WHERE advisory_id IN (SELECT value FROM json_each(?))",
            (json.dumps(sorted(set(ids))),),
        )
        found: dict[str, list[Severity]] = defaultdict(list)
        for r in rows:
            score = r[4]
            found[str(r[1])].append(
                Severity(
                    str(r[0]), str(r[1]), str(r[2]), str(r[3]),
                    float(score) if isinstance(score, int | float) else None,
                    _opt(r[5]), _opt(r[6]),
                )
            )
        return dict(found)

    def kev(self, cve_ids: Iterable[str]) -> dict[str, KevRow]:
        rows = self._query(
            "SELECT * FROM kev WHERE cve_id IN (SELECT value FROM json_each(?))",
            (json.dumps(sorted(set(cve_ids))),),
        )
        return {str(r[0]): KevRow(*(_opt(v) for v in r)) for r in rows}  # type: ignore[arg-type]

    def epss(self, cve_ids: Iterable[str]) -> dict[str, EpssRow]:
        rows = self._query(
            "SELECT cve_id, epss, percentile, date FROM epss"
            " WHERE cve_id IN (SELECT value FROM json_each(?))",
            (json.dumps(sorted(set(cve_ids))),),
        )
        return {
            str(r[0]): EpssRow(str(r[0]), float(r[1]), float(r[2]), _opt(r[3]))  # type: ignore[arg-type]
            for r in rows
        }

    def nvd_fetched(self, cve_ids: Iterable[str]) -> set[str]:
        """The CVEs already asked of NVD (found or not)."""
        rows = self._query(
            "SELECT cve_id FROM nvd_fetched WHERE cve_id IN (SELECT value FROM json_each(?))",
            (json.dumps(sorted(set(cve_ids))),),
        )
        return {str(r[0]) for r in rows}


def _required(column: str) -> str:
    return f"ifnull(CAST(a.{column} AS TEXT), '')"


def _optional(column: str) -> str:
    return f"CAST(a.{column} AS TEXT)"


# Every column as text (or NULL) in SQL itself: the database may come from an imported bundle, and
# converting in SQL costs nothing where a Python str() per column of thousands of rows showed up.
_AFFECTED_COLUMNS = ", ".join(
    [_required(c) for c in ("source", "ecosystem", "package", "advisory_id", "state")]
    + [_optional(c) for c in ("fixed_version", "urgency", "nodsa", "nodsa_reason", "ranges",
                              "versions")]
)  # not ``extra``: no matcher reads it, and it is the widest column of OSV rows


# The first three conditions are those of the ``affected_open`` partial index (schema.py), written
# the same way so SQLite can use it: it then drops rows by ``fixed_key`` without reading the table.
AFFECTED_AFTER_SQL = (
    f"SELECT {_AFFECTED_COLUMNS}"
    " FROM json_each(?2) AS j CROSS JOIN affected AS a"
    " WHERE a.ecosystem = ?1 AND a.package = j.key"
    " AND a.state != 'undetermined' AND a.fixed_version IS NOT '0'"
    " AND NOT (a.state = 'resolved' AND ifnull(a.fixed_version, '') = '')"
    " AND (j.value IS NULL OR a.fixed_key IS NULL OR a.fixed_key > j.value)"
)


def _by_package(rows: list[tuple[Any, ...]]) -> dict[str, list[Affected]]:
    found: dict[str, list[Affected]] = {}
    for r in rows:
        row = Affected(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8],
                       _ranges(r[9]) if r[9] else (), _listed(r[10]) if r[10] else ())
        bucket = found.get(r[2])
        if bucket is None:
            found[r[2]] = [row]
        else:
            bucket.append(row)
    return found


def _opt(value: object) -> str | None:
    return None if value is None else str(value)
