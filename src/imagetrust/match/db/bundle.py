"""Offline bundles: the whole database in a ``.tar.gz`` with a manifest, for air-gapped machines.

The manifest records the SQLite file's sha256 and size; installing verifies both, then checks the
database's schema exactly and copies its rows into a database imagetrust creates itself (never the
file as is), so neither a damaged nor a crafted bundle can cost the user their database.
A bundle is untrusted input: it is read with :class:`imagetrust.tarwalk.TarWalker` (bounded
headers, never :mod:`tarfile`, never extracted), the manifest with a cap and its types checked,
and the database member is copied only when its size is the declared one, never past it. Export
writes our own data, so it uses :mod:`tarfile`, into :func:`imagetrust.atomic.atomic_writer`.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import shutil
import sqlite3
import tarfile
import tempfile
import zlib
from pathlib import Path
from typing import IO, Any, BinaryIO, cast

from imagetrust.atomic import atomic_writer
from imagetrust.errors import DatabaseError, FeedError
from imagetrust.jsonutil import loads
from imagetrust.match.db import schema
from imagetrust.match.db.bundle_copy import copy_bundle_database
from imagetrust.match.db.status import connect_readonly
from imagetrust.match.db.writer import utc_now
from imagetrust.match.feeds.common import scrub
from imagetrust.tarwalk import TarFormatError, TarHostileError, TarWalker

BUNDLE_FORMAT = "imagetrust-db-bundle"
MANIFEST = "manifest.json"
DB_MEMBER = "imagetrust.sqlite"
MAX_MANIFEST = 1 << 20
"""A manifest lists a few dozen feeds: a few KB; 1 MiB is the most ever read."""
MAX_DATABASE = 64 << 30
"""The largest database a bundle may install (64 GiB; a full one is a few GB)."""
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def export_bundle(db_path: Path, out_path: Path) -> Path:
    """Write ``out_path`` (tar.gz: manifest.json + imagetrust.sqlite) from a consistent snapshot."""
    src = connect_readonly(db_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_path.parent, prefix=".bundle-") as work:
        snapshot = Path(work) / DB_MEMBER
        try:
            dst = sqlite3.connect(snapshot)
            try:
                src.backup(dst)
                _redact_feed_urls(dst)
                feeds = [
                    dict(zip(("name", "feed", "url", "updated_at", "record_count", "sha256"), row,
                             strict=True))
                    for row in dst.execute(
                        "SELECT name, feed, url, updated_at, record_count, sha256 FROM feeds"
                        " ORDER BY name"
                    )
                ]
            finally:
                dst.close()
        except sqlite3.Error as error:
            raise DatabaseError(f"cannot snapshot {db_path} ({error})") from error
        finally:
            src.close()
        manifest = {
            "format": BUNDLE_FORMAT,
            "schema_version": schema.SCHEMA_VERSION,
            "created_at": utc_now(),
            "database": {
                "name": DB_MEMBER,
                "sha256": _sha256_file(snapshot),
                "size": snapshot.stat().st_size,
            },
            "feeds": feeds,
        }
        with (
            atomic_writer(out_path, sync_dir=True) as out,
            gzip.GzipFile(filename="", mode="wb", fileobj=out) as packed,  # no temp name inside
            tarfile.open(fileobj=packed, mode="w") as tar,
        ):
            data = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
            tar.add(snapshot, arcname=DB_MEMBER, recursive=False)
    return out_path


def _redact_feed_urls(conn: sqlite3.Connection) -> None:
    """Databases written before URLs were redacted may hold ``user:token@``: keep it home."""
    rows = conn.execute("SELECT name, url FROM feeds WHERE url LIKE '%@%'").fetchall()
    with conn:
        conn.executemany(
            "UPDATE feeds SET url = ? WHERE name = ?", [(scrub(url), name) for name, url in rows]
        )


def read_manifest(path: Path) -> dict[str, Any] | None:
    """The manifest when ``path`` is a bundle, else None (it may be some other feed file).

    A bundle starts with its manifest (:func:`export_bundle` writes it first), so only the first
    member is looked at, and only up to :data:`MAX_MANIFEST` bytes (the walker inflates at most a
    read-ahead chunk past it). A tar header the walker refuses as hostile is an error, not "some
    other file".
    A manifest that claims the bundle format but is malformed is an error, not "some other file".
    """
    try:
        with _open_tar_stream(path) as stream:
            walker = TarWalker(stream, seekable=False, what="bundle")
            member = next(iter(walker), None)
            if (member is None or member.name != MANIFEST or not member.is_regular
                    or member.sparse):
                return None
            if member.size > MAX_MANIFEST:
                raise FeedError(f"bundle {path}: {MANIFEST} is larger than {MAX_MANIFEST} bytes")
            raw = walker.read_data()
    except TarHostileError as error:
        raise FeedError(f"bundle {path} is refused: {error}",
                        hint="this is not a bundle `imagetrust db export` wrote") from None
    except (TarFormatError, OSError, EOFError, zlib.error):
        return None
    manifest = loads(raw, what=f"bundle {path}: {MANIFEST}", error=DatabaseError)
    if not isinstance(manifest, dict) or manifest.get("format") != BUNDLE_FORMAT:
        return None
    _check_manifest(path, manifest)
    return manifest


def _check_manifest(path: Path, manifest: dict[str, Any]) -> None:
    """Every field install and import rely on, with its type; one line naming what is wrong."""
    database = manifest.get("database")
    problem = None
    if not isinstance(database, dict):
        problem = "'database' is not an object"
    elif database.get("name", DB_MEMBER) != DB_MEMBER:
        problem = f"'database.name' is not {DB_MEMBER!r}"
    elif not _is_size(database.get("size")):
        problem = "'database.size' is not a byte count"
    elif not (isinstance(database.get("sha256"), str) and _SHA256.fullmatch(database["sha256"])):
        problem = "'database.sha256' is not a sha256 hex digest"
    elif not isinstance(manifest.get("feeds", []), list):
        problem = "'feeds' is not a list"
    else:
        for feed in manifest.get("feeds", []):
            if not (
                isinstance(feed, dict)
                and isinstance(feed.get("name"), str)
                and isinstance(feed.get("url"), str | None)
                and (feed.get("record_count") is None or _is_size(feed["record_count"]))
            ):
                problem = "a 'feeds' entry lacks a name, url or record_count of the right type"
                break
    if problem is not None:
        raise FeedError(
            f"bundle {path}: {MANIFEST} is malformed ({problem})",
            hint="export it again with `imagetrust db export`",
        )


def _is_size(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def is_bundle(path: Path) -> bool:
    with path.open("rb") as handle:
        if handle.read(2) != b"\x1f\x8b":
            return False
    return read_manifest(path) is not None


def install_bundle(db_path: Path, bundle: Path) -> dict[str, Any]:
    """Verify a bundle and make a copy of its database's rows the current one (atomic replace).

    The database member's size is compared with the manifest's *before* anything is written,
    and the copy stops at that size: a bundle cannot write more than it declares, nor more than
    :data:`MAX_DATABASE` or the free space of the target's file system allows. The member is
    staged in a private directory beside the database (inside the cache, never ``$TMPDIR``) and
    never installed as is: :func:`~imagetrust.match.db.bundle_copy.copy_bundle_database` checks
    its schema exactly and copies its rows into a database imagetrust creates itself.
    """
    manifest = read_manifest(bundle)
    if manifest is None:
        raise FeedError(f"{bundle} is not an imagetrust database bundle")
    if manifest.get("schema_version") != schema.SCHEMA_VERSION:
        raise FeedError(
            f"bundle {bundle} has schema version {str(manifest.get('schema_version'))[:20]}, "
            f"this imagetrust needs {schema.SCHEMA_VERSION}",
            hint="export it again with a matching imagetrust version",
        )
    expected: dict[str, Any] = manifest["database"]
    size: int = expected["size"]
    if size > MAX_DATABASE:
        raise FeedError(f"bundle {bundle}: its database claims {size} bytes, more than the "
                        f"{MAX_DATABASE >> 30} GiB this imagetrust accepts")
    try:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        work = tempfile.TemporaryDirectory(dir=db_path.parent, prefix=".import-")
    except OSError as error:
        raise DatabaseError(
            f"cannot write in the database directory {db_path.parent} ({error.strerror})",
            hint="choose a writable place with --db or IMAGETRUST_DB",
        ) from None
    with work:
        staged = Path(work.name) / DB_MEMBER
        _stage(bundle, staged, expected, db_path)
        copy_bundle_database(staged, db_path, bundle)
    return manifest


def _stage(bundle: Path, staged: Path, expected: dict[str, Any], db_path: Path) -> None:
    """Copy the database member to ``staged``, exactly its declared size and sha256."""
    size: int = expected["size"]
    try:
        with staged.open("wb") as out, _open_tar_stream(bundle) as stream:
            walker = TarWalker(stream, seekable=False, what="bundle")
            members = iter(walker)
            next(members, None)  # the manifest, read already
            member = next(members, None)
            if member is None or member.name != DB_MEMBER:
                raise FeedError(
                    f"bundle {bundle}: {DB_MEMBER} does not follow {MANIFEST}",
                    hint="export it again with `imagetrust db export`",
                )
            if not member.is_regular or member.sparse:
                raise FeedError(f"bundle {bundle}: {DB_MEMBER} is not a regular file")
            if member.size != size:
                raise _mismatch(bundle)
            free = shutil.disk_usage(db_path.parent).free
            if 2 * size > free:  # the staged file, then the copy of its rows
                raise FeedError(
                    f"bundle {bundle}: its database needs {2 * size} bytes while it is "
                    f"installed, {db_path.parent} has {free} free",
                    hint="free some space or import into another --db",
                )
            digest = _copy_exactly(walker.data_stream(), out, size)
    except (TarFormatError, TarHostileError, EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise FeedError(f"bundle {bundle} is truncated or corrupt ({error})") from error
    except OSError as error:
        raise FeedError(f"bundle {bundle} cannot be staged in {staged.parent} "
                        f"({error.strerror or error})") from None
    if staged.stat().st_size != size or digest != expected["sha256"].lower():
        raise _mismatch(bundle)


class _Inflated(io.RawIOBase):
    """A gzip member read one inflate step at a time (``read1``): the walker's read-ahead then
    stops near what it needs, so a manifest is read even when the stream is cut further on."""

    def __init__(self, packed: gzip.GzipFile) -> None:
        super().__init__()
        self._packed = packed

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._packed.readinto1(buffer)

    def close(self) -> None:
        self._packed.close()
        super().close()


def _open_tar_stream(path: Path) -> BinaryIO:
    return cast(BinaryIO, _Inflated(gzip.GzipFile(path, "rb")))


def _mismatch(bundle: Path) -> FeedError:
    return FeedError(
        f"bundle {bundle}: database does not match the manifest's sha256/size",
        hint="the bundle is corrupt; copy it again",
    )


def _copy_exactly(source: IO[bytes], out: IO[bytes], size: int) -> str:
    """Copy ``size`` bytes, hashing them on the way; fewer is a truncated bundle."""
    digest = hashlib.sha256()
    left = size
    while left:
        block = source.read(min(left, 1 << 20))
        if not block:
            raise EOFError(f"{DB_MEMBER} ends {left} bytes early")
        digest.update(block)
        out.write(block)
        left -= len(block)
    return digest.hexdigest()
