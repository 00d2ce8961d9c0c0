"""Following symlinks inside the merged tree, never out of the image root.

Catalogers declare their paths before any layer is read, so when a database path turns out to
be a symlink (``var/lib/dpkg/status -> /usr/share/dpkg/status``) its target was not read. The
catalog stage then asks :func:`wanted` which further paths a cataloger needs and reads just those
in another pass over the layers (rare: only images with such links pay for it). Each hop is
resolved as a container would see it, absolute targets from the image root, and a hop that would
leave the root ends the walk, as the layer reader already refuses such links.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from imagetrust.image.files import FileEntry, FileTree
from imagetrust.image.tarsafe import symlink_target

MAX_HOPS = 8
"""Symlinks followed for one path before giving up (a loop, or a chain nobody needs)."""


@dataclass(frozen=True, slots=True)
class Resolved:
    """Where a path leads: the entry reached, paths still to read, or why it leads nowhere."""

    entry: FileEntry | None = None
    missing: tuple[str, ...] = ()
    """Paths (the target and its parent directories) not yet read from the layers."""
    problem: str | None = None


def _ancestors(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def resolve(files: FileTree, path: str, asked: frozenset[str] | None = None) -> Resolved:
    """Follow ``path`` through the symlinks ``files`` holds (of the path and of its parents).

    ``asked`` are the paths already requested from the layers: an unasked one might exist, or
    be a symlinked parent directory, that the tree cannot show yet, so it is ``missing``. None
    means everything has been read: what the tree lacks does not exist.
    """
    current, hops = path, 0
    while True:
        link = files.get(current)
        if link is not None and link.kind != "symlink":
            return Resolved(entry=link)
        if link is None:
            # Not in the tree: perhaps under a symlinked directory. An entry's own presence
            # proves its parents were directories, so they are only looked at here.
            link = next((e for p in _ancestors(current)[:-1]
                         if (e := files.get(p)) is not None and e.kind == "symlink"), None)
            if link is None:
                unasked = [p for p in _ancestors(current) if asked is not None and p not in asked]
                if unasked:
                    return Resolved(missing=tuple(_ancestors(current)))
                return Resolved(problem=f"{path} leads to {current}, which does not exist")
        hops += 1
        if hops > MAX_HOPS:
            return Resolved(problem=f"{path}: more than {MAX_HOPS} symlinks (a loop?)")
        target = symlink_target(link.path, link.link_target or "")
        if not target:
            return Resolved(
                problem=f"{link.path}: symlink to {link.link_target!r} leaves the image root")
        current = posixpath.join(target, current[len(link.path) + 1:]).rstrip("/")


def wanted(files: FileTree, path: str, asked: frozenset[str]) -> tuple[str, ...]:
    """Paths to read so that ``path`` can be resolved; empty when nothing more can help."""
    return tuple(p for p in resolve(files, path, asked).missing if p not in asked)


def glob_escape(path: str) -> str:
    """``path`` as a :class:`~imagetrust.image.files.FileRequest` pattern matching only itself."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in path)
