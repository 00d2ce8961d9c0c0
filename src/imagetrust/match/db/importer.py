"""``db import``: feed files copied from elsewhere (or a bundle) into the database, offline.

A directory is imported as one session — every recognised file, one atomic swap — so a directory
of OSV records replaces each ecosystem once instead of once per file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from imagetrust.errors import FeedError
from imagetrust.match.db.bundle import install_bundle, is_bundle
from imagetrust.match.db.update import FeedOutcome
from imagetrust.match.db.writer import build, utc_now
from imagetrust.match.feeds.detect import merge, parse_file
from imagetrust.match.feeds.model import FeedData


@dataclass(frozen=True, slots=True)
class ImportResult:
    db_path: Path
    outcomes: tuple[FeedOutcome, ...]
    skipped: tuple[Path, ...]
    """Files in an imported directory that are no feed we recognise."""
    bundle: bool = False


def import_feed(
    db_path: Path, path: Path, feed: str | None = None, *, now: str | None = None
) -> ImportResult:
    """Import a feed file, a directory of them, or a bundle; ``feed`` forces the feed kind."""
    if not path.exists():
        raise FeedError(f"{path} does not exist", hint="give a feed file, directory or bundle")
    if path.is_file() and feed is None and is_bundle(path):
        manifest = install_bundle(db_path, path)
        installed = tuple(
            FeedOutcome(f["name"], f.get("url"), True, f.get("record_count"))
            for f in manifest.get("feeds", [])
        )
        return ImportResult(db_path, installed, (), bundle=True)

    files = (
        sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
        if path.is_dir()
        else [path]
    )
    parsed: list[FeedData] = []
    origins: dict[str, list[Path]] = {}
    skipped: list[Path] = []
    for file in files:
        result = parse_file(file, feed)
        if result is None:
            if not path.is_dir():
                raise FeedError(
                    f"{file} is not a feed imagetrust recognises",
                    hint="expected Debian tracker JSON, Alpine secdb, OSV, NVD API, KEV or EPSS; "
                    "or name the feed with --feed",
                )
            skipped.append(file)
            continue
        for data in result:
            parsed.append(data)
            origins.setdefault(data.source, []).append(file)
    if not parsed:
        raise FeedError(f"no feed files found in {path}")

    stamp = now or utc_now()
    outcomes: list[FeedOutcome] = []
    with build(db_path) as writer:
        for data in merge(parsed):
            sources = origins[data.source]
            url = sources[0].resolve().as_uri() if len(sources) == 1 else path.resolve().as_uri()
            writer.apply(data, url=url, sha256=_sha256(sources), now=stamp)
            outcomes.append(FeedOutcome(data.source, url, True, data.record_count))
    return ImportResult(db_path, tuple(outcomes), tuple(skipped))


def _sha256(files: list[Path]) -> str:
    """The file's sha256; for several files, the sha256 of their sorted digests."""
    digests = sorted(hashlib.sha256(f.read_bytes()).hexdigest() for f in files)
    if len(digests) == 1:
        return digests[0]
    return hashlib.sha256("\n".join(digests).encode()).hexdigest()
