"""The layer reader: the merged view of just the requested paths, never extracting anything.

Each layer is streamed once through its decompressor and walked with :mod:`tarfile`; member data
is skipped by seeking (uncompressed local layers seek for real, compressed ones decompress and
drop) and read only for matching regular files up to their request's ``max_size``. Whiteouts
(``.wh.NAME``) and opaque directories (``.wh..wh..opq``) of a layer hide lower-layer content only,
as the OCI spec says. Hostile names and links become :class:`Skip` records, never followed.

Caching: with ``cache_dir`` each layer's contribution is cached (see :mod:`.layercache`). A request
whose ``want`` predicate is not a plain module-level function has no stable name, so calls that
include such a request are not cached at all rather than risk serving another predicate's result.
"""

from __future__ import annotations

import io
import os
import re
import stat
import tarfile
from collections.abc import Sequence
from pathlib import Path
from types import MappingProxyType
from typing import BinaryIO

from imagetrust.errors import ImagetrustError, LayerError
from imagetrust.image import layercache
from imagetrust.image.decompress import DECOMPRESSION_ERRORS, decompressed, drain, sniff
from imagetrust.image.files import FileEntry, FileRequest, FileTree, Skip, _glob_regex
from imagetrust.image.layercache import DeltaEntry, LayerDelta
from imagetrust.image.model import Descriptor, Image, Layer
from imagetrust.image.tarsafe import is_hidden, normalize_member, symlink_target, whiteout
from imagetrust.source.interface import ImageSource
from imagetrust.source.rootfs import RootfsSource, walk_tree

_HEADER_LIMIT = 16 * 1024 * 1024
"""Largest single read tarfile may make for a header (pax / GNU long names); more is hostile."""


class _Matcher:
    """All requests' globs as one regex, so a non-matching name costs a single match call."""

    def __init__(self, requests: Sequence[FileRequest]) -> None:
        self.requests = tuple(requests)
        patterns = [_glob_regex(p).pattern for r in requests for p in r.patterns]
        self._regex = re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None
        self._wants = any(r.want is not None for r in requests)
        self.largest = max((r.max_size for r in requests), default=0)

    def limit(self, path: str, size: int, mode: int) -> int | None:
        """The max_size for a matching path (largest over matching requests), else None."""
        if not self._wants and (self._regex is None or self._regex.match(path) is None):
            return None
        sizes = [r.max_size for r in self.requests if r.matches(path, size, mode)]
        return max(sizes) if sizes else None


class _Guarded(io.RawIOBase):
    """The tar stream as tarfile sees it: bounded single reads, cheap forward skips.

    Single reads larger than ``bound`` are refused, so a forged header cannot allocate gigabytes.
    On a compressed stream a forward seek decompresses into one reused scratch buffer in 1 MiB
    steps (the decompressors' own seek works in 8 KiB reads and allocates each one).
    """

    def __init__(self, inner: BinaryIO, bound: int, *, real_seek: bool) -> None:
        super().__init__()
        self._inner = inner
        self._bound = bound
        self._real_seek = real_seek
        self._pos = inner.tell() if real_seek else 0
        self._scratch = bytearray(0 if real_seek else 1 << 20)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0 or size > self._bound:
            raise _Absurd(f"a member or header claims {size} bytes")
        data = self._inner.read(size)
        self._pos += len(data)
        return data

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        memoryview(buffer).cast("B")[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        target = offset + (self._pos if whence == io.SEEK_CUR else 0)
        if whence == io.SEEK_END:
            raise OSError("cannot seek from the end of a layer stream")
        if self._real_seek:
            self._pos = self._inner.seek(target)
            return self._pos
        if target < self._pos:
            raise OSError("cannot seek backwards in a compressed layer")
        view = memoryview(self._scratch)
        while self._pos < target:
            count = self._inner.readinto(view[: min(len(view), target - self._pos)])  # type: ignore[attr-defined]
            if not count:
                break
            self._pos += count
        return self._pos

    def tell(self) -> int:
        return self._pos


class _Absurd(Exception):
    pass


_LAYER_ERRORS: tuple[type[BaseException], ...] = (*DECOMPRESSION_ERRORS, tarfile.TarError, OSError)


def _descriptor(layer: Layer) -> Descriptor:
    return Descriptor(layer.media_type, layer.digest, layer.size)


class _Walk:
    """The state of one pass over one layer's members."""

    def __init__(self, matcher: _Matcher, capture: frozenset[str]) -> None:
        self.matcher = matcher
        self.capture = capture
        self.entries: dict[str, DeltaEntry] = {}
        self.whiteouts: list[str] = []
        self.opaques: list[str] = []
        self.skips: list[tuple[str, str]] = []
        self.captured: dict[str, tuple[bytes | None, int]] = {}
        self.regular: dict[str, int] = {}  # regular files seen so far in this layer → size
        self.links: list[tuple[str, str, int]] = []  # matched hard links: (path, target, limit)

    def delta(self) -> LayerDelta:
        return LayerDelta(tuple(self.entries.values()), tuple(self.whiteouts),
                          tuple(self.opaques), tuple(self.skips))

    def member(self, tar: tarfile.TarFile, info: tarfile.TarInfo) -> None:
        path, reason = normalize_member(info.name)
        if path is None:
            self.skips.append((info.name, reason or "refused"))
            return
        if not path:
            return
        if ".wh." in path and (marker := whiteout(path)) is not None:
            kind, target = marker
            if kind == "whiteout":
                self.whiteouts.append(target)
            elif kind == "opaque":
                self.opaques.append(target)
            return
        if info.isreg():
            self._regular(tar, info, path)
        elif info.issym():
            self._symlink(info, path)
        elif info.islnk():
            self._hardlink(info, path)
        elif self.matcher.limit(path, 0, info.mode) is not None:
            if info.isdir():
                self.entries[path] = DeltaEntry(path, "dir", 0, info.mode)
            else:
                self.skips.append((path, "device file or fifo: not read"))

    def _regular(self, tar: tarfile.TarFile, info: tarfile.TarInfo, path: str) -> None:
        self.regular[path] = info.size
        limit = self.matcher.limit(path, info.size, info.mode)
        wanted = path in self.capture
        if limit is None and not wanted:
            return  # the common case: tarfile seeks over the data
        read_limit = max(limit or 0, self.matcher.largest if wanted else 0)
        data: bytes | None = None
        if info.size <= read_limit:
            handle = tar.extractfile(info)
            assert handle is not None
            data = handle.read()
            if len(data) != info.size:
                raise tarfile.ReadError(f"{path} is cut short")
        if wanted:
            self.captured[path] = (data, info.size)
        if limit is not None:
            too_big = info.size > limit
            self.entries[path] = DeltaEntry(path, "file", info.size, info.mode, None,
                                            None if too_big else data, too_big)

    def _symlink(self, info: tarfile.TarInfo, path: str) -> None:
        if symlink_target(path, info.linkname) is None:
            self.skips.append(
                (path, f"symlink to {info.linkname!r} points outside the image root"))
        elif self.matcher.limit(path, 0, info.mode) is not None:
            self.entries[path] = DeltaEntry(path, "symlink", 0, info.mode, info.linkname)

    def _hardlink(self, info: tarfile.TarInfo, path: str) -> None:
        target, why = normalize_member(info.linkname)
        if not target:
            self.skips.append((path, f"hard link to {info.linkname!r}: {why or 'the root'}"))
            return
        size = self.regular.get(target)
        if size is None:
            self.skips.append((path, f"hard link to missing member {info.linkname!r}"))
            return
        self.regular[path] = size
        limit = self.matcher.limit(path, size, info.mode)
        if limit is not None:
            self.entries[path] = DeltaEntry(path, "hardlink", size, info.mode, target)
            self.links.append((path, target, limit))


def _walk_layer(
    source: ImageSource, layer: Layer, matcher: _Matcher, capture: frozenset[str]
) -> _Walk:
    """One pass over a layer; ``capture`` names extra paths whose data to keep (link targets)."""
    walk = _Walk(matcher, capture)
    bound = max(matcher.largest, _HEADER_LIMIT) + 1
    what = f"layer {layer.index} ({layer.digest})"
    try:
        with source.open_blob(_descriptor(layer)) as blob:
            compression, raw = sniff(blob, layer.media_type)
            stream = decompressed(raw, compression)
            try:
                guarded = _Guarded(stream, bound, real_seek=compression == "none")
                with tarfile.open(fileobj=guarded, mode="r:") as tar:
                    while (info := tar.next()) is not None:
                        tar.members.clear()  # type: ignore[attr-defined]  # flat memory
                        walk.member(tar, info)
                if compression != "none":
                    drain(stream)
            finally:
                if stream is not raw:
                    stream.close()
    except ImagetrustError:
        raise
    except tarfile.ReadError as error:
        if "empty file" not in str(error):
            raise LayerError(f"{what} is truncated or not a tar ({error})",
                             hint="the image is corrupt; pull or save it again") from None
    except _Absurd as error:
        raise LayerError(f"{what} is hostile: {error}", hint="do not trust this image") from None
    except _LAYER_ERRORS as error:
        raise LayerError(f"{what} is truncated or corrupt ({type(error).__name__}: {error})",
                         hint="the image is corrupt; pull or save it again") from None
    return walk


def _resolve_links(
    source: ImageSource, layer: Layer, matcher: _Matcher, delta: LayerDelta,
    links: list[tuple[str, str, int]],
) -> LayerDelta:
    """Give matched hard links their target's content, with a second pass only if needed."""
    if not links:
        return delta
    entries = {e.path: e for e in delta.entries}
    missing = frozenset(t for _, t, _ in links if entries.get(t) is None
                        or entries[t].kind != "file")
    captured: dict[str, tuple[bytes | None, int]] = {}
    if missing:
        captured = _walk_layer(source, layer, matcher, missing).captured
    for path, target, limit in links:
        if target in entries and entries[target].kind == "file":
            data, size = entries[target].data, entries[target].size
        elif target in captured:
            data, size = captured[target]
            entries[target] = DeltaEntry(target, "file", size, 0o644,
                                         data=data if size <= limit else None,
                                         truncated=size > limit)
        else:
            continue
        link = entries[path]
        entries[path] = DeltaEntry(path, "hardlink", size, link.mode, target,
                                   data if size <= limit else None, size > limit)
    return LayerDelta(tuple(entries.values()), delta.whiteouts, delta.opaques, delta.skips)


def _layer_delta(
    source: ImageSource, layer: Layer, matcher: _Matcher, cache_dir: Path | None,
    print_: str | None,
) -> LayerDelta:
    if cache_dir is not None and print_ is not None:
        cached = layercache.load(cache_dir, layer.digest, layer.diff_id, print_)
        if cached is not None:
            return cached
    walk = _walk_layer(source, layer, matcher, frozenset())
    delta = _resolve_links(source, layer, matcher, walk.delta(), walk.links)
    if cache_dir is not None and print_ is not None:
        layercache.store(cache_dir, layer.digest, layer.diff_id, print_, delta)
    return delta


def read_files(
    source: ImageSource,
    image: Image,
    requests: Sequence[FileRequest],
    *,
    cache_dir: Path | None = None,
) -> FileTree:
    """The requested files as they are in the final image, each attributed to its layer."""
    matcher = _Matcher(requests)
    if not requests:
        return FileTree(MappingProxyType({}))
    if isinstance(source, RootfsSource):
        return _read_rootfs(source, image, matcher)
    print_ = layercache.fingerprint(requests) if cache_dir is not None else None
    merged: dict[str, tuple[DeltaEntry, Layer]] = {}
    skips: list[Skip] = []
    for layer in image.layers:
        delta = _layer_delta(source, layer, matcher, cache_dir, print_)
        if delta.whiteouts or delta.opaques:
            deleted, opaque = set(delta.whiteouts), set(delta.opaques)
            for path in [p for p in merged if is_hidden(p, deleted, opaque)]:
                del merged[path]
        for entry in delta.entries:
            merged[entry.path] = (entry, layer)
        skips.extend(Skip(path, layer.index, reason) for path, reason in delta.skips)
    files = {
        path: FileEntry(path, e.kind, e.size, e.mode, layer.index, layer.diff_id, e.link_target,
                        e.data, e.truncated)
        for path, (e, layer) in sorted(merged.items())
    }
    return FileTree(MappingProxyType(files), tuple(skips))


def _read_rootfs(source: RootfsSource, image: Image, matcher: _Matcher) -> FileTree:
    """Read matching files in place; symlinks are recorded, never followed, never left through."""
    diff_id = image.layers[0].diff_id if image.layers else ""
    files: dict[str, FileEntry] = {}
    skips: list[Skip] = []
    for path, entry in walk_tree(source.root_path):
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError as error:
            skips.append(Skip(path, 0, f"cannot stat: {error.strerror}"))
            continue
        mode = info.st_mode
        if stat.S_ISLNK(mode):
            target_text = os.readlink(entry.path)
            if symlink_target(path, target_text) is None:
                skips.append(Skip(path, 0, f"symlink to {target_text!r} points outside the root"))
                continue
            if matcher.limit(path, 0, mode) is not None:
                files[path] = FileEntry(path, "symlink", 0, stat.S_IMODE(mode), 0, diff_id,
                                        target_text)
            continue
        size = info.st_size if stat.S_ISREG(mode) else 0
        limit = matcher.limit(path, size, stat.S_IMODE(mode))
        if limit is None:
            continue
        if stat.S_ISDIR(mode):
            files[path] = FileEntry(path, "dir", 0, stat.S_IMODE(mode), 0, diff_id)
        elif not stat.S_ISREG(mode):
            skips.append(Skip(path, 0, "device file, socket or fifo: not read"))
        elif size > limit:
            files[path] = FileEntry(path, "file", size, stat.S_IMODE(mode), 0, diff_id,
                                    truncated=True)
        else:
            try:
                data = _read_nofollow(entry.path, size)
            except OSError as error:
                skips.append(Skip(path, 0, f"cannot read: {error.strerror}"))
                continue
            files[path] = FileEntry(path, "file", len(data), stat.S_IMODE(mode), 0, diff_id,
                                    data=data)
    return FileTree(MappingProxyType(dict(sorted(files.items()))), tuple(skips))


def _read_nofollow(path: str, limit: int) -> bytes:
    """Read a regular file without following a symlink swapped in after the listing."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(0, "not a regular file any more")
        chunks = []
        remaining = limit + 1
        while remaining > 0 and (chunk := os.read(fd, min(remaining, 1 << 20))):
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)[:limit]
    finally:
        os.close(fd)
