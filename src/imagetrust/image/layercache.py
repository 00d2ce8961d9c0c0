"""Per-layer cache of the reader's output: images sharing a base re-read only their own layers.

A cache file holds one layer's *delta* for one set of requests: the matched entries (with data),
whiteouts, opaque directories, skips and the other paths that shadow lower layers. It is keyed by
the layer's blob digest (verified by the source on every read, unlike the diff_id, which is only a
claim in the config), the diff_id and a fingerprint of the requests, the reader's version
(:data:`READER_VERSION`), the package version and the versions of the code behind the requests
(the caller's ``versions``). Files are written atomically; an unreadable one is ignored.

Format: ``ITLC1\\n``, an 8-byte big-endian header length, a JSON header, then the file contents.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import imagetrust
from imagetrust.atomic import atomic_writer
from imagetrust.image.files import FileKind, FileRequest

_MAGIC = b"ITLC1\n"
READER_VERSION = 3
"""Version of what the layer reader stores for a layer (entries, hard-link resolution,
whiteouts, skips) and of the cache file format. Bump it when the reader's output for the same
layer and requests changes, so deltas cached by the old reader are never served. It is part of
every layer cache key and of ``imagetrust.catalog.registry.inventory_key()``."""
MAX_STORED = 64 * 1024 * 1024
"""Largest delta written: a layer holding more requested content is re-read next time rather
than copied into the cache (a small hostile layer must not fill the disk)."""


@dataclass(frozen=True, slots=True)
class DeltaEntry:
    """A matched member of one layer, not yet attributed to a layer index."""

    path: str
    kind: FileKind
    size: int
    mode: int
    link_target: str | None = None
    data: bytes | None = None
    truncated: bool = False
    extracted: bool = False


@dataclass(frozen=True, slots=True)
class LayerDelta:
    """What one layer contributes to the merged view of the requested paths."""

    entries: tuple[DeltaEntry, ...]
    whiteouts: tuple[str, ...]
    opaques: tuple[str, ...]
    skips: tuple[tuple[str, str], ...]
    covers: tuple[str, ...] = ()
    """Paths of this layer's other non-directory members (unmatched files, links, devices,
    FIFOs): each hides a lower layer's entry at that path and below it, as in the merged file
    system. Matched non-directory entries cover likewise."""
    dirs: tuple[str, ...] = ()
    """Paths of this layer's other directories: each hides a lower non-directory at that path."""


def _function_key(function: object) -> str | None:
    """A stable name for a ``want``/``extract`` function: only plain module-level functions
    have one."""
    if function is None:
        return ""
    module = getattr(function, "__module__", None)
    qualname = getattr(function, "__qualname__", None)
    if not module or not qualname or "<" in qualname or getattr(function, "__closure__", None):
        return None
    return f"{module}.{qualname}"


def fingerprint(requests: Sequence[FileRequest], versions: str = "") -> str | None:
    """Key part naming the requests, or None when one has an unnameable ``want`` (no caching).

    ``versions`` names the code behind the requests (the catalogers'
    ``inventory_key()``): the reader only knows their functions' names, not when their output
    changed, so a bumped cataloger version must reach the key from the caller.
    """
    parts = []
    for request in requests:
        want, extract = _function_key(request.want), _function_key(request.extract)
        if want is None or extract is None:
            return None
        parts.append([sorted(request.patterns), request.max_size, want, extract])
    parts.sort()
    text = json.dumps([READER_VERSION, imagetrust.__version__, versions, parts],
                      separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _path(cache_dir: Path, digest: str, diff_id: str, print_: str) -> Path:
    key = hashlib.sha256(f"{digest}\0{diff_id}\0{print_}".encode()).hexdigest()
    return cache_dir / "layers" / key[:2] / key


def load(
    cache_dir: Path, digest: str, diff_id: str, print_: str, *, max_bytes: int | None = None
) -> LayerDelta | None:
    """The cached delta, or None (absent, damaged, or larger than ``max_bytes``)."""
    path = _path(cache_dir, digest, diff_id, print_)
    try:
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if max_bytes is not None and size > max_bytes + 1024 * 1024:
                return None  # the caller's memory budget would not hold it
            blob = handle.read()
    except OSError:
        return None
    try:
        return _decode(blob)
    except (ValueError, KeyError, TypeError, IndexError, RecursionError):
        return None  # damaged or foreign: read the layer again and overwrite


def store(cache_dir: Path, digest: str, diff_id: str, print_: str, delta: LayerDelta) -> None:
    """Write the delta atomically, unless its content exceeds :data:`MAX_STORED`."""
    if sum(len(e.data) for e in delta.entries if e.data is not None) > MAX_STORED:
        return
    path = _path(cache_dir, digest, diff_id, print_)
    # a cache that cannot be written is only slower
    with contextlib.suppress(OSError), atomic_writer(path, prefix=".tmp-", suffix="") as out:
        out.write(_encode(delta))


def _encode(delta: LayerDelta) -> bytes:
    chunks: list[bytes] = []
    offset = 0
    entries: list[dict[str, Any]] = []
    for e in delta.entries:
        span = None
        if e.data is not None:
            span = [offset, len(e.data)]
            chunks.append(e.data)
            offset += len(e.data)
        entries.append({"p": e.path, "k": e.kind, "s": e.size, "m": e.mode, "l": e.link_target,
                        "t": e.truncated, "d": span, "e": e.extracted})
    header = json.dumps({"e": entries, "w": list(delta.whiteouts), "o": list(delta.opaques),
                         "x": [list(s) for s in delta.skips], "c": list(delta.covers),
                         "D": list(delta.dirs)}).encode()
    return b"".join([_MAGIC, len(header).to_bytes(8, "big"), header, *chunks])


def _decode(blob: bytes) -> LayerDelta:
    if not blob.startswith(_MAGIC):
        raise ValueError("not a layer cache file")
    start = len(_MAGIC) + 8
    length = int.from_bytes(blob[len(_MAGIC):start], "big")
    header = json.loads(blob[start:start + length])
    body = memoryview(blob)[start + length:]
    entries = []
    for e in header["e"]:
        data = None
        if e["d"] is not None:
            at, size = e["d"]
            if at < 0 or at + size > len(body):
                raise ValueError("data span outside the file")
            data = bytes(body[at:at + size])
        entries.append(DeltaEntry(str(e["p"]), e["k"], int(e["s"]), int(e["m"]), e["l"], data,
                                  bool(e["t"]), bool(e.get("e", False))))
    return LayerDelta(
        entries=tuple(entries),
        whiteouts=tuple(str(w) for w in header["w"]),
        opaques=tuple(str(o) for o in header["o"]),
        skips=tuple((str(p), str(r)) for p, r in header["x"]),
        covers=tuple(str(c) for c in header["c"]),
        dirs=tuple(str(d) for d in header["D"]),
    )
