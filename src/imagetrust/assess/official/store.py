"""The local copy of the official-images ``library/`` catalog: download, import, load, look up.

Layout under ``<cache>/official-images/``: each update writes a complete generation directory
(``gen-…/library/*`` + ``meta.json``), then atomically replaces the ``CURRENT`` pointer file. A kill
at any moment leaves either the old or the new catalog, never a mix; old generations are pruned.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import httpx

from imagetrust import jsonutil
from imagetrust.assess.official.archive import (
    MAX_LIBRARY_FILE,
    MAX_LIBRARY_FILES,
    is_valid_library_name,
    read_library_archive,
)
from imagetrust.assess.official.library import LibraryFile, LibraryParseError, parse_library
from imagetrust.atomic import write_atomic
from imagetrust.errors import DatabaseError, FeedError, NetworkError
from imagetrust.reference.parse import ImageReference
from imagetrust.source.registry.endpoints import check_plain_http, plain_http_guard, redact_url

DEFAULT_ARCHIVE_URL = (
    "https://github.com/docker-library/official-images/archive/refs/heads/master.tar.gz"
)
MAX_ARCHIVE_BYTES = 256 * 1024 * 1024
MIN_KEPT_FRACTION = 0.5
"""An update with fewer than this share of the installed library files is refused (unless forced):
the library only grows slowly, so a sudden drop means a damaged or wrong archive."""
STORE_DIR = "official-images"
_POINTER = "CURRENT"
_META = "meta.json"
_HINT_MISSING = "run `imagetrust catalog update` (or `imagetrust catalog import DIR` offline)"

HUB_REGISTRY = "docker.io"
HUB_NAMESPACE = "library/"
ECR_PUBLIC_REGISTRY = "public.ecr.aws"
ECR_PUBLIC_NAMESPACE = "docker/library/"

TagState = Literal["supported", "unsupported", "unknown"]


class LibraryMissingError(DatabaseError):
    """No official-images catalog has been downloaded or imported yet (or it is unreadable)."""


@dataclass(frozen=True, slots=True)
class LibraryMeta:
    """Where a catalog generation came from and when."""

    source: str
    """URL or local directory it was built from."""
    fetched_at: datetime
    checked_at: datetime
    """Last time the source was asked for changes (a 304 updates only this)."""
    files: int
    commit: str | None = None
    etag: str | None = None
    last_modified: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "fetched_at": self.fetched_at.isoformat(),
            "checked_at": self.checked_at.isoformat(),
            "files": self.files,
            "commit": self.commit,
            "etag": self.etag,
            "last_modified": self.last_modified,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LibraryMeta:
        return cls(
            source=str(data["source"]),
            fetched_at=datetime.fromisoformat(str(data["fetched_at"])),
            checked_at=datetime.fromisoformat(str(data["checked_at"])),
            files=int(data["files"]),
            commit=data.get("commit"),
            etag=data.get("etag"),
            last_modified=data.get("last_modified"),
        )


@dataclass(frozen=True, slots=True)
class UpdateResult:
    """What an update or import did."""

    changed: bool
    """False when the server answered 304 Not Modified and the catalog was kept."""
    meta: LibraryMeta
    unsafe_members: tuple[str, ...] = ()
    """Archive members refused (links, absolute paths, ``..``)."""
    invalid_files: tuple[str, ...] = ()
    """Library files stored but failing to parse (one-line reasons); lookups of them will fail."""


@dataclass(frozen=True, slots=True)
class TagStatus:
    """Whether a tag is still built by the official-images library, and why we think so."""

    state: TagState
    reason: str
    image: str | None = None
    tag: str | None = None
    suggestions: tuple[str, ...] = ()
    """Supported tags to move to when ``state`` is unsupported."""
    catalog_commit: str | None = None


class OfficialLibrary:
    """A loaded catalog generation: library texts in memory, each parsed on first lookup."""

    def __init__(self, texts: Mapping[str, str], meta: LibraryMeta, root: Path) -> None:
        self._texts = dict(texts)
        self._parsed: dict[str, LibraryFile] = {}
        self.meta = meta
        self.root = root

    def names(self) -> frozenset[str]:
        return frozenset(self._texts)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and _bare_name(name) in self._texts

    def lookup(self, repository_name: str) -> LibraryFile | None:
        """Library file for ``postgres``, ``library/postgres`` or ``docker.io/library/postgres``."""
        name = _bare_name(repository_name)
        text = self._texts.get(name)
        if text is None:
            return None
        parsed = self._parsed.get(name)
        if parsed is None:
            parsed = parse_library(text, name, source=str(self.root / "library" / name))
            self._parsed[name] = parsed
        return parsed

    def is_official(self, ref: ImageReference) -> bool:
        """True for ``docker.io/library/X`` or its ECR Public mirror when X is in the library."""
        name = official_name(ref)
        return name is not None and name in self._texts

    def tag_status(self, ref: ImageReference) -> TagStatus:
        name = official_name(ref)
        commit = self.meta.commit
        if name is None or name not in self._texts:
            return TagStatus(
                "unknown",
                f"{ref.familiar} is not a Docker Official Image, so the official-images library "
                "says nothing about its tags",
                catalog_commit=commit,
            )
        if ref.tag is None:
            return TagStatus(
                "unknown",
                f"{ref.familiar} is pinned by digest without a tag, so the supported tag cannot be "
                "told; add the tag you track (NAME:TAG@sha256:…)",
                image=name,
                catalog_commit=commit,
            )
        library = self.lookup(name)
        assert library is not None
        at = f" (official-images {commit[:12]})" if commit else ""
        if library.entries_for_tag(ref.tag):
            return TagStatus(
                "supported",
                f"tag {ref.tag!r} is listed in library/{name}{at}: it is rebuilt when the software "
                "or its base image is updated",
                image=name,
                tag=ref.tag,
                catalog_commit=commit,
            )
        suggestions = suggest_tags(library, ref.tag)
        move = f"; move to a supported tag such as {', '.join(suggestions)}" if suggestions else ""
        return TagStatus(
            "unsupported",
            f"tag {ref.tag!r} is no longer in library/{name}{at}: it stays pullable but is never "
            f"rebuilt again, so it gets no security fixes{move}",
            image=name,
            tag=ref.tag,
            suggestions=suggestions,
            catalog_commit=commit,
        )

    def age(self, now: datetime | None = None) -> timedelta:
        """Time since the catalog content was last confirmed current (fetch or 304)."""
        return (now or datetime.now(UTC)) - self.meta.checked_at

    def is_stale(self, max_age: timedelta = timedelta(days=7), now: datetime | None = None) -> bool:
        return self.age(now) > max_age


def official_name(ref: ImageReference) -> str | None:
    """``postgres`` for ``docker.io/library/postgres`` or ``public.ecr.aws/docker/library/…``."""
    for registry, namespace in (
        (HUB_REGISTRY, HUB_NAMESPACE),
        (ECR_PUBLIC_REGISTRY, ECR_PUBLIC_NAMESPACE),
    ):
        if ref.registry == registry and ref.repository.startswith(namespace):
            rest = ref.repository[len(namespace) :]
            if rest and "/" not in rest:
                return rest
    return None


def suggest_tags(library: LibraryFile, tag: str, limit: int = 3) -> tuple[str, ...]:
    """Supported tags with the same variant suffix (``-alpine``, ``-bookworm``), else ``latest``.

    Pre-releases (beta, rc, alpha) come last: they are rarely the right place to move to.
    """
    _, sep, variant = tag.partition("-")
    picks: list[str] = []
    if sep:
        for entry in library.entries:
            match = next((t for t in entry.tags if t.endswith(f"-{variant}")), None)
            if match is not None:
                picks.append(match)
    if not picks:
        picks = [t for t in library.supported_tags() if t == "latest"] or [
            e.tags[0] for e in library.entries[:1]
        ]
    picks.sort(key=lambda t: bool(_PRERELEASE.search(t)))
    return tuple(picks[:limit])


_PRERELEASE = re.compile(r"(alpha|beta|rc)\d*", re.IGNORECASE)


def _bare_name(name: str) -> str:
    for prefix in (f"{HUB_REGISTRY}/", f"{ECR_PUBLIC_REGISTRY}/"):
        name = name.removeprefix(prefix)
    for namespace in (ECR_PUBLIC_NAMESPACE, HUB_NAMESPACE):
        name = name.removeprefix(namespace)
    return name.partition(":")[0].partition("@")[0]


# --- loading -------------------------------------------------------------------------------------


def store_dir(cache_dir: Path) -> Path:
    return cache_dir / STORE_DIR


def load_library(cache_dir: Path) -> OfficialLibrary:
    """Load the current catalog, or raise :class:`LibraryMissingError` saying how to get one."""
    base = store_dir(cache_dir)
    try:
        generation = (base / _POINTER).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise LibraryMissingError(
            f"no Docker Official Images catalog in {base}", hint=_HINT_MISSING
        ) from None
    except OSError as error:
        raise LibraryMissingError(
            f"cannot read {base / _POINTER}: {error}", hint=_HINT_MISSING
        ) from error
    root = base / generation
    if not generation.startswith("gen-") or "/" in generation or not root.is_dir():
        raise LibraryMissingError(
            f"the official-images catalog pointer in {base} is damaged", hint=_HINT_MISSING
        )
    try:
        meta = LibraryMeta.from_json(
            jsonutil.loads((root / _META).read_bytes(), what=_META, error=DatabaseError)
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


def _current_meta(cache_dir: Path) -> LibraryMeta | None:
    try:
        return load_library(cache_dir).meta
    except LibraryMissingError:
        return None


# --- updating ------------------------------------------------------------------------------------


def update_library(
    cache_dir: Path,
    url: str = DEFAULT_ARCHIVE_URL,
    *,
    timeout: float = 60.0,
    verify: bool = True,
    force: bool = False,
    transport: httpx.BaseTransport | None = None,
    insecure: frozenset[str] = frozenset(),
) -> UpdateResult:
    """Download the official-images tarball (conditionally, by ETag); install its ``library/``.

    Plain HTTP is refused (also on redirects) unless the host is loopback or in ``insecure``.
    ``force`` skips the conditional request and accepts a library much smaller than the
    installed one. Credentials in ``url`` are never stored or shown.
    """
    check_plain_http(url, insecure)
    shown = redact_url(url)
    base = store_dir(cache_dir)
    base.mkdir(parents=True, exist_ok=True)
    previous = _current_meta(cache_dir)
    headers = {"User-Agent": "imagetrust"}
    if previous is not None and previous.source == shown and not force:
        if previous.etag:
            headers["If-None-Match"] = previous.etag
        if previous.last_modified:
            headers["If-Modified-Since"] = previous.last_modified

    fd, tmp_name = tempfile.mkstemp(prefix=".download-", suffix=".tar.gz", dir=base)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as sink:
            status, response_headers = _download(
                url, headers, sink, timeout, verify, transport, insecure
            )
        if status == 304 and previous is not None:
            meta = replace(previous, checked_at=datetime.now(UTC))
            root = base / load_library(cache_dir).root.name
            write_atomic(root / _META, json.dumps(meta.to_json(), indent=2).encode(), sync_dir=True)
            return UpdateResult(changed=False, meta=meta)
        archive = read_library_archive(tmp)
    finally:
        tmp.unlink(missing_ok=True)
    if not archive.files:
        raise FeedError(
            f"the archive from {shown} contains no library/ files",
            hint="point --url at a tarball of the docker-library/official-images repository",
        )
    if (
        previous is not None
        and not force
        and len(archive.files) < previous.files * MIN_KEPT_FRACTION
    ):
        raise FeedError(
            f"the archive from {shown} has only {len(archive.files)} library files, the installed "
            f"catalog {previous.files}; keeping the installed one",
            hint="the download is probably damaged: retry; to accept it anyway use "
            "`imagetrust catalog update --force`",
        )
    now = datetime.now(UTC)
    meta = LibraryMeta(
        source=shown,
        fetched_at=now,
        checked_at=now,
        files=len(archive.files),
        commit=archive.commit,
        etag=response_headers.get("etag"),
        last_modified=response_headers.get("last-modified"),
    )
    invalid = _install(base, archive.files, meta)
    return UpdateResult(
        changed=True, meta=meta, unsafe_members=archive.unsafe_members, invalid_files=invalid
    )


def _download(
    url: str,
    headers: dict[str, str],
    sink: Any,
    timeout: float,
    verify: bool,
    transport: httpx.BaseTransport | None,
    insecure: frozenset[str],
) -> tuple[int, httpx.Headers]:
    shown = redact_url(url)
    try:
        with (
            httpx.Client(
                follow_redirects=True,
                timeout=timeout,
                verify=verify,
                transport=transport,
                event_hooks={"request": [plain_http_guard(insecure)]},
            ) as client,
            client.stream("GET", url, headers=headers) as response,
        ):
            if response.status_code == 304:
                return 304, response.headers
            if response.status_code != 200:
                raise FeedError(
                    f"downloading the official-images catalog from {shown} failed: "
                    f"HTTP {response.status_code}",
                    hint="check the URL, or use `imagetrust catalog import DIR` with a checkout",
                )
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_ARCHIVE_BYTES:
                    raise FeedError(
                        f"the official-images archive from {shown} exceeds {MAX_ARCHIVE_BYTES} "
                        "bytes",
                        hint="check the catalog URL",
                    )
                sink.write(chunk)
            sink.flush()
            os.fsync(sink.fileno())
            return 200, response.headers
    except httpx.HTTPError as error:
        reason = " ".join(str(error).replace(url, shown).split()) or type(error).__name__
        raise NetworkError(
            f"cannot download the official-images catalog from {shown}: {reason}",
            hint="check the network, or use `imagetrust catalog import DIR` offline",
        ) from None


def import_library(cache_dir: Path, path: Path) -> UpdateResult:
    """Install the catalog from a local official-images checkout or its ``library/`` directory."""
    library = path / "library" if (path / "library").is_dir() else path
    if not library.is_dir():
        raise FeedError(
            f"{path} is not a directory",
            hint="give an official-images checkout or its library/ directory",
        )
    files: dict[str, bytes] = {}
    skipped: list[str] = []
    for entry in sorted(library.iterdir()):
        if not is_valid_library_name(entry.name):
            continue
        if entry.is_symlink() or not entry.is_file():
            skipped.append(entry.name)
            continue
        if entry.stat().st_size > MAX_LIBRARY_FILE or len(files) >= MAX_LIBRARY_FILES:
            raise FeedError(f"{entry} is too large or {library} has too many files for a library")
        files[entry.name] = entry.read_bytes()
    if not files:
        raise FeedError(
            f"no library files found in {library}",
            hint="give an official-images checkout or its library/ directory",
        )
    now = datetime.now(UTC)
    meta = LibraryMeta(
        source=str(path.resolve()),
        fetched_at=now,
        checked_at=now,
        files=len(files),
        commit=_git_head(library.parent),
    )
    base = store_dir(cache_dir)
    base.mkdir(parents=True, exist_ok=True)
    invalid = _install(base, files, meta)
    return UpdateResult(
        changed=True, meta=meta, unsafe_members=tuple(skipped), invalid_files=invalid
    )


def _git_head(checkout: Path) -> str | None:
    """The checked-out commit of a plain git checkout, read without running git."""
    git = checkout / ".git"
    try:
        head = (git / "HEAD").read_text(encoding="utf-8").strip()
        if not head.startswith("ref: "):
            return head if _is_sha(head) else None
        ref = head[5:].strip()
        loose = git / ref
        if loose.is_file():
            value = loose.read_text(encoding="utf-8").strip()
            return value if _is_sha(value) else None
        packed = git / "packed-refs"
        if packed.is_file():
            for line in packed.read_text(encoding="utf-8").splitlines():
                sha, _, name = line.partition(" ")
                if name == ref and _is_sha(sha):
                    return sha
    except OSError:
        return None
    return None


def _is_sha(text: str) -> bool:
    return len(text) in (40, 64) and all(c in "0123456789abcdef" for c in text)


def _install(base: Path, files: Mapping[str, bytes], meta: LibraryMeta) -> tuple[str, ...]:
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
            _write_synced(staging / "library" / name, data)
        _write_synced(staging / _META, json.dumps(meta.to_json(), indent=2).encode())
        _fsync_dir(staging / "library")
        _fsync_dir(staging)
        os.replace(staging, base / generation)
        _fsync_dir(base)
        write_atomic(base / _POINTER, f"{generation}\n".encode(), sync_dir=True)
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


def _write_synced(path: Path, data: bytes) -> None:
    with path.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
