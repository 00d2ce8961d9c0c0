"""Catalog generations on disk: each install is complete before it becomes current.

Layout under ``<cache>/official-images/``: each update writes a complete generation directory
(``gen-…/library/*`` + ``meta.json``), then atomically replaces the ``CURRENT`` pointer file. A kill
at any moment leaves either the old or the new catalog, never a mix; old generations are pruned.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from imagetrust import jsonutil
from imagetrust.assess.official.archive import is_valid_library_name
from imagetrust.assess.official.library import LibraryParseError, parse_library
from imagetrust.assess.official.model import LibraryMeta, OfficialLibrary
from imagetrust.atomic import fsync_dir, write_atomic
from imagetrust.errors import DatabaseError

STORE_DIR = "official-images"
POINTER = "CURRENT"
META = "meta.json"
_HINT_MISSING = "run `imagetrust catalog update` (or `imagetrust catalog import DIR` offline)"


class LibraryMissingError(DatabaseError):
    """No official-images catalog has been downloaded or imported yet (or it is unreadable)."""


@dataclass(frozen=True, slots=True)
class LibraryUpdate:
    """What an update or import did."""

    changed: bool
    """False when the server answered 304 Not Modified and the catalog was kept."""
    meta: LibraryMeta
    unsafe_members: tuple[str, ...] = ()
    """Archive members refused (links, absolute paths, ``..``)."""
    invalid_files: tuple[str, ...] = ()
    """Library files stored but failing to parse (one-line reasons); lookups of them will fail."""


def store_dir(cache_dir: Path) -> Path:
    return cache_dir / STORE_DIR


def load_library(cache_dir: Path) -> OfficialLibrary:
    """Load the current catalog, or raise :class:`LibraryMissingError` saying how to get one."""
    base = store_dir(cache_dir)
    try:
        generation = (base / POINTER).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise LibraryMissingError(
            f"no Docker Official Images catalog in {base}", hint=_HINT_MISSING
        ) from None
    except OSError as error:
        raise LibraryMissingError(
            f"cannot read {base / POINTER}: {error}", hint=_HINT_MISSING
        ) from error
    root = base / generation
    if not generation.startswith("gen-") or "/" in generation or not root.is_dir():
        raise LibraryMissingError(
            f"the official-images catalog pointer in {base} is damaged", hint=_HINT_MISSING
        )
    try:
        meta = LibraryMeta.from_json(
            jsonutil.loads((root / META).read_bytes(), what=META, error=DatabaseError)
        )
        texts = {
            p.name: p.read_text(encoding="utf-8")
            for p in (root / "library").iterdir()
            if p.is_file() and is_valid_library_name(p.name)
        }
    except (OSError, ValueError, KeyError, TypeError, DatabaseError) as error:
        raise LibraryMissingError(
            f"the official-images catalog in {root} is unreadable: {error}", hint=_HINT_MISSING
        ) from None
    return OfficialLibrary(texts, meta, root)


def current_meta(cache_dir: Path) -> LibraryMeta | None:
    try:
        return load_library(cache_dir).meta
    except LibraryMissingError:
        return None


def write_meta(cache_dir: Path, meta: LibraryMeta) -> None:
    """Replace the current generation's ``meta.json`` (a 304 confirms the content is current)."""
    root = store_dir(cache_dir) / load_library(cache_dir).root.name
    write_atomic(root / META, json.dumps(meta.to_json(), indent=2).encode(), sync_dir=True)


def install(base: Path, files: Mapping[str, bytes], meta: LibraryMeta) -> tuple[str, ...]:
    """Write a new generation, switch ``CURRENT`` to it atomically, prune the old ones."""
    invalid: list[str] = []
    for name, data in files.items():
        try:
            parse_library(data.decode("utf-8"), name)
        except UnicodeDecodeError:
            invalid.append(f"library/{name}: not UTF-8 text")
        except LibraryParseError as error:
            invalid.append(str(error))
    generation = f"gen-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(4)}"
    staging = base / f".staging-{generation}"
    (staging / "library").mkdir(parents=True)
    try:
        for name, data in files.items():
            write_atomic(staging / "library" / name, data)
        write_atomic(staging / META, json.dumps(meta.to_json(), indent=2).encode())
        fsync_dir(staging / "library")
        fsync_dir(staging)
        os.replace(staging, base / generation)
        fsync_dir(base)
        write_atomic(base / POINTER, f"{generation}\n".encode(), sync_dir=True)
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise DatabaseError(
            f"cannot write the official-images catalog under {base}: {error}",
            hint="check free space and permissions of the cache directory",
        ) from error
    _prune(base, keep=generation)
    return tuple(invalid)


_PRUNE_AFTER = timedelta(minutes=10)


def _prune(base: Path, keep: str) -> None:
    """Remove superseded generations, sparing recent ones another process may be installing."""
    cutoff = datetime.now(UTC).timestamp() - _PRUNE_AFTER.total_seconds()
    for child in base.iterdir():
        if child.name == keep or not child.name.startswith(("gen-", ".staging-", ".download-")):
            continue
        with contextlib.suppress(OSError):
            if child.stat().st_mtime > cutoff:
                continue
            if child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink()
