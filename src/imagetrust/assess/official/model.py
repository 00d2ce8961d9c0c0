"""The official-images catalog as a query model: which images are official, which tags supported.

A loaded generation keeps the ``library/`` texts in memory and parses each on first lookup; names
are accepted in every spelling a user or a registry gives them (``postgres``, ``library/postgres``,
``docker.io/library/postgres``, ECR Public's ``docker/library/postgres``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from imagetrust.assess.official.library import LibraryFile, parse_library
from imagetrust.reference.parse import ImageReference

HUB_REGISTRY = "docker.io"
HUB_NAMESPACE = "library/"
ECR_PUBLIC_REGISTRY = "public.ecr.aws"
ECR_PUBLIC_NAMESPACE = "docker/library/"

TagState = Literal["supported", "unsupported", "unknown"]


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
