"""Safe interpretation of layer tar member names and links.

Layer tars come from strangers: a name may be absolute, climb out with ``..``, or a link may point
outside the image root. These helpers turn names into normalised root-relative paths, or say why
they refuse, so the reader can record a Skip instead of following anything.
"""

from __future__ import annotations

import posixpath
from typing import Literal

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"

WhiteoutKind = Literal["whiteout", "opaque", "meta"]


def normalize_member(name: str) -> tuple[str | None, str | None]:
    """(path, None) for a safe member name, (None, reason) for a hostile one.

    The root itself (``.``, ``./``, ``/``) normalises to ``""``: callers ignore it.
    """
    if "\x00" in name:
        return None, "member name contains a NUL byte"
    stripped = name
    while stripped.startswith("./"):
        stripped = stripped[2:]
    if stripped in ("", ".", "/"):
        return "", None
    if stripped.startswith("/"):
        return None, "absolute path in layer"
    path = posixpath.normpath(stripped)
    if path == ".." or path.startswith("../"):
        return None, "path escapes the image root"
    return ("" if path == "." else path), None


def symlink_target(path: str, target: str) -> str | None:
    """Where a symlink at ``path`` points, as a root-relative path; None if it leaves the root.

    Absolute targets are relative to the image root (that is how a container sees them).
    """
    if not target or "\x00" in target:
        return None
    if target.startswith("/"):
        resolved = posixpath.normpath(target).lstrip("/")
    else:
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
    if resolved == ".." or resolved.startswith("../"):
        return None
    return "" if resolved == "." else resolved


def whiteout(path: str) -> tuple[WhiteoutKind, str] | None:
    """Classify ``.wh.`` entries: (``whiteout``, deleted path), (``opaque``, dir) or ``meta``."""
    directory, base = posixpath.split(path)
    if not base.startswith(WHITEOUT_PREFIX):
        return None
    if base == OPAQUE_MARKER:
        return "opaque", directory
    if base.startswith(WHITEOUT_PREFIX + WHITEOUT_PREFIX):
        return "meta", path  # aufs bookkeeping (.wh..wh.plnk, .wh..wh.aufs): not content
    name = base[len(WHITEOUT_PREFIX):]
    return "whiteout", posixpath.join(directory, name) if directory else name


def is_hidden(path: str, deleted: set[str], opaque: set[str]) -> bool:
    """Whether a lower-layer ``path`` is removed by these whiteouts / opaque directories."""
    if path in deleted:
        return True
    if "" in opaque:
        return True
    parent = path
    while True:
        cut = parent.rfind("/")
        if cut < 0:
            return False
        parent = parent[:cut]
        if parent in deleted or parent in opaque:
            return True
