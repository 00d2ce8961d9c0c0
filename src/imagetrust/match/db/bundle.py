"""Offline bundles: the whole database in a ``.tar.gz`` with a manifest, for air-gapped machines.

The manifest records the SQLite file's sha256 and size; installing verifies both and opens the
database before it replaces anything, so a damaged bundle cannot cost the user their database.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
import zlib
from pathlib import Path
from typing import Any

from imagetrust.errors import DatabaseError, FeedError
from imagetrust.match.db import schema
from imagetrust.match.db.paths import fsync_dir, write_lock
from imagetrust.match.db.status import connect_readonly
from imagetrust.match.db.writer import utc_now

BUNDLE_FORMAT = "imagetrust-db-bundle"
MANIFEST = "manifest.json"
DB_MEMBER = "imagetrust.sqlite"


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
        tmp_out = Path(work) / "bundle.tar.gz"
        with tarfile.open(tmp_out, "w:gz") as tar:
            data = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
            tar.add(snapshot, arcname=DB_MEMBER, recursive=False)
        with tmp_out.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp_out, out_path)
    fsync_dir(out_path.parent)
    return out_path


def read_manifest(path: Path) -> dict[str, Any] | None:
    """The manifest when ``path`` is a bundle, else None (it may be some other feed file)."""
    try:
        with tarfile.open(path, "r:gz") as tar:
            member = tar.getmember(MANIFEST)
            handle = tar.extractfile(member)
            if handle is None:
                return None
            manifest = json.loads(handle.read())
    except (tarfile.TarError, KeyError, OSError, EOFError, zlib.error, ValueError):
        return None
    if isinstance(manifest, dict) and manifest.get("format") == BUNDLE_FORMAT:
        return manifest
    return None


def is_bundle(path: Path) -> bool:
    with path.open("rb") as handle:
        if handle.read(2) != b"\x1f\x8b":
            return False
    return read_manifest(path) is not None


def install_bundle(db_path: Path, bundle: Path) -> dict[str, Any]:
    """Verify a bundle and make its database the current one (atomic replace)."""
    manifest = read_manifest(bundle)
    if manifest is None:
        raise FeedError(f"{bundle} is not an imagetrust database bundle")
    if manifest.get("schema_version") != schema.SCHEMA_VERSION:
        raise FeedError(
            f"bundle {bundle} has schema version {manifest.get('schema_version')}, this "
            f"imagetrust needs {schema.SCHEMA_VERSION}",
            hint="export it again with a matching imagetrust version",
        )
    expected = manifest.get("database") or {}
    with write_lock(db_path):
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{db_path.name}.", suffix=".tmp", dir=db_path.parent
        )
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out, tarfile.open(bundle, "r:gz") as tar:
                member = tar.getmember(DB_MEMBER)
                handle = tar.extractfile(member) if member.isfile() else None
                if handle is None:
                    raise FeedError(f"bundle {bundle}: {DB_MEMBER} is not a regular file")
                shutil.copyfileobj(handle, out)
                out.flush()
                os.fsync(out.fileno())
            if (
                tmp.stat().st_size != expected.get("size")
                or _sha256_file(tmp) != expected.get("sha256")
            ):
                raise FeedError(
                    f"bundle {bundle}: database does not match the manifest's sha256/size",
                    hint="the bundle is corrupt; copy it again",
                )
            check = connect_readonly(tmp)
            check.close()
            os.replace(tmp, db_path)
            fsync_dir(db_path.parent)
        except (tarfile.TarError, KeyError, EOFError, zlib.error, gzip.BadGzipFile) as error:
            raise FeedError(f"bundle {bundle} is truncated or corrupt ({error})") from error
        except DatabaseError as error:
            raise FeedError(f"bundle {bundle} holds no usable database ({error})") from error
        finally:
            tmp.unlink(missing_ok=True)
    return manifest
