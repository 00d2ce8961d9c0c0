"""The layer reader: the merged view of just the requested paths, never extracting anything.

Each layer is streamed once through its decompressor and walked header by header
(:mod:`.tarwalk`); member data is skipped (uncompressed local layers seek for real, compressed
ones decompress and drop) and read only for matching regular files up to their request's
``max_size``, or handed to the request's ``extract`` function so that only what a cataloger
needs stays in memory. Whiteouts (``.wh.NAME``) and opaque directories (``.wh..wh..opq``) of a
layer hide lower-layer content only, as the OCI spec says. Any other member hides what lower
layers had at its path, whether a request matched it or not, as in the merged file system: a
non-directory (file, link, device, FIFO) hides the lower entry and everything below it, a
directory hides a lower non-directory (two directories merge). So a device node over
``var/lib/dpkg/status`` leaves no status file, not the lower layer's. Hostile names and links
become :class:`Skip` records, never followed.

Caching: with ``cache_dir`` each layer's contribution is cached (see :mod:`.layercache`). A request
whose ``want`` or ``extract`` is not a plain module-level function has no stable name, so calls
that include such a request are not cached at all rather than risk serving another one's result.
A cached contribution of a local source's layer is used only after the blob has been verified
against its digest (the digest of a local layer is only a claim of the archive).

Memory: every byte of file content kept counts against one budget per call (``budget``); files
beyond it are listed truncated with a Skip saying why, and such a partial layer is not cached.
"""

from __future__ import annotations

import contextlib
import contextvars
import io
import os
import re
import stat
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import BinaryIO, NamedTuple

from imagetrust.errors import ImagetrustError, LayerError
from imagetrust.image import layercache
from imagetrust.image.decompress import DECOMPRESSION_ERRORS, decompressed, drain, sniff
from imagetrust.image.files import FileEntry, FileRequest, FileTree, Skip, _glob_regex
from imagetrust.image.layercache import DeltaEntry, LayerDelta
from imagetrust.image.model import Descriptor, Image, Layer
from imagetrust.image.tarsafe import is_hidden, normalize_member, symlink_target, whiteout
from imagetrust.source.interface import ImageSource
from imagetrust.source.rootfs import RootfsSource, walk_tree
from imagetrust.tarwalk import (
    DIRECTORY,
    HARDLINK,
    HEADER_LIMIT,
    REGULAR,
    SYMLINK,
    TarFormatError,
    TarHostileError,
    TarMember,
    TarWalker,
)

DEFAULT_BUDGET = 512 * 1024 * 1024
"""Most file content one :func:`read_files` call keeps in memory; beyond it files are listed
truncated (with a Skip), so a small archive of huge matching files cannot exhaust memory."""

_REGISTRY = "registry"
"""The one source kind whose layer digests are verified before a cached delta is used: its blobs
are checked when downloaded. Local sources only *claim* digests (an archive names its layers),
so a cache hit there is trusted only after the blob's bytes are read and verified."""

Extract = Callable[[str, BinaryIO], "bytes | None"]

_VERDICTS: contextvars.ContextVar[contextlib.ExitStack | None] = contextvars.ContextVar(
    "imagetrust_layer_verdicts", default=None)
"""Where :func:`read_files` collects open layer blobs whose verdicts it awaits at the end."""


class _Rule(NamedTuple):
    regex: re.Pattern[str] | None
    want: Callable[[str, int, int], bool] | None
    max_size: int
    extract: Extract | None


def _union(patterns: Sequence[str]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{_glob_regex(p).pattern})" for p in patterns))


def _last_segments(patterns: Sequence[str]) -> re.Pattern[str] | None:
    """A regex for the base names the globs can match, or None if one can match any.

    ``*``, ``?`` and ``[...]`` never cross ``/``, so a glob whose last segment has no ``**``
    matches a path only if that segment matches the path's base name: one short match rules
    out most members of a layer before the (backtracking) union of the ``**/`` globs runs.
    """
    lasts = {p.rpartition("/")[2] for p in patterns}
    if any("**" in last or not last for last in lasts):
        return None
    return _union(sorted(lasts))


def _clean(name: str) -> tuple[str | None, str | None]:
    """normalize_member, skipped for the common name that is already normal."""
    if ("/." in name or "//" in name or name.startswith(("/", ".")) or name.endswith("/")
            or "\x00" in name):
        return normalize_member(name)
    return name, None


class _Plan(NamedTuple):
    """How to read one matching regular file."""

    whole: bool
    extract: Extract | None
    limit: int
    """The largest max_size over the matching requests (for the ``truncated`` flag)."""


class _Matcher:
    """All requests' globs as one regex, so a non-matching name costs a single match call."""

    def __init__(self, requests: Sequence[FileRequest]) -> None:
        self.requests = tuple(requests)
        self._rules = [_Rule(_union(r.patterns), r.want, r.max_size, r.extract)
                       for r in requests]
        patterns = [p for r in requests for p in r.patterns]
        # Globs without ``**`` are anchored: literal prefixes fail fast. Those with ``**`` are
        # tried only when the base name can match one of them.
        self._anchored = _union([p for p in patterns if "**" not in p])
        floating = [p for p in patterns if "**" in p]
        self._floating = _union(floating)
        self._base_names = _last_segments(floating)
        self._wanting = [(rule, rule.want) for rule in self._rules if rule.want is not None]

    def _globbed(self, path: str) -> bool:
        if self._anchored is not None and self._anchored.match(path) is not None:
            return True
        return self._floating is not None and (
            self._base_names is None
            or self._base_names.match(path, path.rfind("/") + 1) is not None
        ) and self._floating.match(path) is not None

    def rules(self, path: str, size: int, mode: int) -> list[_Rule]:
        """The requests matching this path (globs first; ``want`` predicates otherwise)."""
        if self._globbed(path):
            return [r for r in self._rules
                    if (r.regex is not None and r.regex.match(path) is not None)
                    or (r.want is not None and r.want(path, size, mode))]
        return [rule for rule, want in self._wanting if want(path, size, mode)]

    def limit(self, path: str, size: int, mode: int) -> int | None:
        """The max_size for a matching path (largest over matching requests), else None."""
        rules = self.rules(path, size, mode)
        return max(r.max_size for r in rules) if rules else None

    def plan(self, path: str, size: int, mode: int) -> _Plan | None:
        if not self._globbed(path):  # the common case, once per regular file of a layer
            for _, want in self._wanting:
                if want(path, size, mode):
                    break
            else:
                return None
        rules = self.rules(path, size, mode)
        if not rules:
            return None
        whole = max((r.max_size for r in rules if r.extract is None), default=-1)
        extract = next((r for r in rules if r.extract is not None and size <= r.max_size), None)
        limit = max(r.max_size for r in rules)
        if size <= whole:
            return _Plan(True, None, limit)
        if extract is not None:
            return _Plan(False, extract.extract, limit)
        return _Plan(False, None, limit)


_LAYER_ERRORS: tuple[type[BaseException], ...] = (*DECOMPRESSION_ERRORS, OSError)


def _descriptor(layer: Layer) -> Descriptor:
    return Descriptor(layer.media_type, layer.digest, layer.size)


class _Budget:
    """Bytes of file content one read may still keep in memory (shared by all its layers)."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.left = total

    def take(self, size: int) -> bool:
        if size > self.left:
            return False
        self.left -= size
        return True

    @property
    def reason(self) -> str:
        return (f"not read: the {self.total}-byte budget for file contents of one scan is "
                "spent; raise it or scan fewer files")


class _Walk:
    """The state of one pass over one layer's members.

    With ``capture`` (a second pass for hard links whose target was not matched) only those
    targets are read, each as its link's plan says, into ``captured``.
    """

    def __init__(
        self, matcher: _Matcher, budget: _Budget, capture: dict[str, _Plan] | None = None
    ) -> None:
        self.matcher = matcher
        self.budget = budget
        self.capture = capture
        self.entries: dict[str, DeltaEntry] = {}
        self.whiteouts: list[str] = []
        self.opaques: list[str] = []
        self.skips: list[tuple[str, str]] = []
        self.captured: dict[str, DeltaEntry] = {}
        self.regular: dict[str, int] = {}  # regular files seen so far in this layer → size
        self.links: list[tuple[str, str, _Plan]] = []  # matched hard links: (path, target, plan)
        self.covers: set[str] = set()  # unmatched non-directories: hide lower paths and below
        self.dirs: set[str] = set()  # unmatched directories: hide lower non-directories
        self.limited = False
        """Whether the budget refused something (the delta then depends on it: not cached)."""

    def delta(self) -> LayerDelta:
        return LayerDelta(tuple(self.entries.values()), tuple(self.whiteouts),
                          tuple(self.opaques), tuple(self.skips), tuple(self.covers),
                          tuple(self.dirs))

    def member(self, walker: TarWalker, member: TarMember) -> None:
        path, reason = _clean(member.name)
        if self.capture is not None:
            if path and member.is_regular and (plan := self.capture.get(path)) is not None:
                self.captured[path] = self._content(walker, member, path, plan)
            return
        if path is None:
            self.skips.append((member.name, reason or "refused"))
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
        # A later member of the same path replaces an earlier one, as extraction does.
        replaced = self.entries.pop(path, None) if self.entries else None
        flag = member.type
        if flag in REGULAR:
            self._regular(walker, member, path)
        elif flag == SYMLINK:
            self._symlink(member, path)
        elif flag == HARDLINK:
            self._hardlink(member, path)
        elif self.matcher.limit(path, 0, member.mode) is not None:
            if flag == DIRECTORY:
                self.entries[path] = DeltaEntry(path, "dir", 0, member.mode)
            else:
                self.skips.append((path, "device file or fifo: not read"))
        if path not in self.entries:
            # Unmatched (or unreadable) it still exists in the merged file system and hides
            # what lower layers had there: a device node over var/lib/dpkg/status leaves no
            # status file. Only a directory over a directory merges with it.
            if flag == DIRECTORY:
                if replaced is not None and replaced.kind == "dir":
                    self.entries[path] = replaced
                else:
                    self.dirs.add(path)
            else:
                self.covers.add(path)

    def _regular(self, walker: TarWalker, member: TarMember, path: str) -> None:
        self.regular[path] = size = member.size
        plan = self.matcher.plan(path, size, member.mode)
        if plan is None:
            return  # the common case: the walker skips the data
        if member.sparse:
            self.skips.append((path, "sparse file: not read"))
            return
        self.entries[path] = self._content(walker, member, path, plan)

    def _content(self, walker: TarWalker, member: TarMember, path: str,
                 plan: _Plan) -> DeltaEntry:
        """Read one matching file as its plan says, within the budget."""
        size, mode = member.size, member.mode
        if member.sparse:
            return DeltaEntry(path, "file", size, mode, truncated=True)
        if plan.whole:
            if self.budget.take(size):
                return DeltaEntry(path, "file", size, mode, data=walker.read_data())
            return self._refused(path, size, mode)
        if plan.extract is not None:
            data = plan.extract(path, walker.data_stream())
            if data is not None and not self.budget.take(len(data)):
                return self._refused(path, size, mode)
            return DeltaEntry(path, "file", size, mode, None, data, False, data is not None)
        return DeltaEntry(path, "file", size, mode, truncated=True)

    def _refused(self, path: str, size: int, mode: int) -> DeltaEntry:
        self.limited = True
        self.skips.append((path, self.budget.reason))
        return DeltaEntry(path, "file", size, mode, truncated=True)

    def _symlink(self, member: TarMember, path: str) -> None:
        if symlink_target(path, member.linkname) is None:
            self.skips.append(
                (path, f"symlink to {member.linkname!r} points outside the image root"))
        elif self.matcher.limit(path, 0, member.mode) is not None:
            self.entries[path] = DeltaEntry(path, "symlink", 0, member.mode, member.linkname)

    def _hardlink(self, member: TarMember, path: str) -> None:
        target, why = normalize_member(member.linkname)
        if not target:
            self.skips.append((path, f"hard link to {member.linkname!r}: {why or 'the root'}"))
            return
        size = self.regular.get(target)
        if size is None:
            self.skips.append((path, f"hard link to missing member {member.linkname!r}"))
            return
        self.regular[path] = size
        plan = self.matcher.plan(path, size, member.mode)
        if plan is not None:
            self.entries[path] = DeltaEntry(path, "hardlink", size, member.mode, target)
            self.links.append((path, target, plan))


def _walk_layer(
    source: ImageSource, layer: Layer, matcher: _Matcher, budget: _Budget,
    capture: dict[str, _Plan] | None = None,
) -> _Walk:
    """One pass over a layer; ``capture`` names unmatched hard-link targets to read instead.

    Inside :func:`read_files` of a local source (``_VERDICTS`` set), a first pass leaves the
    blob open on that stack: the source's verdict on its bytes is awaited when the stack
    closes, not before the next layer is walked.
    """
    walk = _Walk(matcher, budget, capture)
    what = f"layer {layer.index} ({layer.digest})"
    verdicts = _VERDICTS.get() if capture is None else None
    with _layer_errors(what), contextlib.ExitStack() as here:
        holder = verdicts if verdicts is not None else here
        blob = holder.enter_context(source.open_blob(_descriptor(layer)))
        compression, raw = sniff(blob, layer.media_type)
        stream = decompressed(raw, compression)
        try:
            seekable = compression == "none" and raw.seekable()
            if seekable and isinstance(raw, io.BufferedReader):
                # Read headers straight from the raw range: the buffer would pull 64 KiB
                # of file data per header after every seek.
                position = raw.tell()
                stream = raw.raw
                stream.seek(position)
            # A fixed header limit, whatever the requests' max_size: headers are metadata.
            walker = TarWalker(stream, seekable=seekable, header_limit=HEADER_LIMIT)
            for member in walker:
                walk.member(walker, member)
            if compression != "none":
                drain(stream)
        finally:
            if compression != "none":
                stream.close()
    return walk


@contextlib.contextmanager
def _layer_errors(what: str) -> Iterator[None]:
    """Turn walker, decompressor and I/O failures into one-line LayerErrors."""
    try:
        yield
    except ImagetrustError:
        raise
    except TarFormatError as error:
        raise LayerError(f"{what} is truncated or not a tar ({error})",
                         hint="the image is corrupt; pull or save it again") from None
    except TarHostileError as error:
        raise LayerError(f"{what} is hostile: {error}", hint="do not trust this image") from None
    except _LAYER_ERRORS as error:
        raise LayerError(f"{what} is truncated or corrupt ({type(error).__name__}: {error})",
                         hint="the image is corrupt; pull or save it again") from None


def _verify_layer(source: ImageSource, layer: Layer) -> None:
    """Read a local layer blob through so the source checks it against its digest.

    Sources verify streams by their end (the ImageSource contract), so reading to EOF is enough;
    local ones hash the range at C speed in parallel, so this costs about one hash of the blob,
    far less than walking it. A source may offer ``verify(descriptor)`` to do it cheaper.
    """
    descriptor = _descriptor(layer)
    verify = getattr(source, "verify", None)
    with _layer_errors(f"layer {layer.index} ({layer.digest})"):
        if callable(verify):
            verify(descriptor)
            return
        buffer = bytearray(1 << 20)
        with source.open_blob(descriptor) as blob:
            readinto = getattr(blob, "readinto", None)
            if readinto is None:  # pragma: no cover - every source stream has readinto
                while blob.read(len(buffer)):
                    pass
            else:
                while readinto(buffer):
                    pass


def _resolve_links(
    source: ImageSource, layer: Layer, matcher: _Matcher, walk: _Walk,
) -> LayerDelta:
    """Give matched hard links their target's content, with a second pass only if needed.

    A target that no request matched is read for its links only and is not added to the tree:
    the link carries the content under its own name and metadata.
    """
    delta = walk.delta()
    if not walk.links:
        return delta
    entries = {e.path: e for e in delta.entries}
    skips = list(delta.skips)
    capture: dict[str, _Plan] = {}
    for _, target, plan in walk.links:
        known = entries.get(target)
        if (known is None or known.kind != "file") and (
                target not in capture or plan.whole):
            capture[target] = plan
    captured: dict[str, DeltaEntry] = {}
    if capture:
        second = _walk_layer(source, layer, matcher, walk.budget, capture)
        captured, walk.limited = second.captured, walk.limited or second.limited
        skips.extend(second.skips)
    for path, target, plan in walk.links:
        known = entries.get(target)
        content = known if known is not None and known.kind == "file" else captured.get(target)
        if content is None:
            continue
        link = entries.get(path)
        if link is None or link.kind != "hardlink" or link.link_target != target:
            continue  # replaced by a later member of the same path
        if content.extracted:
            entries[path] = DeltaEntry(path, "hardlink", content.size, link.mode, target,
                                       content.data, extracted=True)
            continue
        data = content.data if content.size <= plan.limit else None
        truncated = data is None and (content.truncated or content.size > plan.limit)
        entries[path] = DeltaEntry(path, "hardlink", content.size, link.mode, target, data,
                                   truncated)
    return LayerDelta(tuple(entries.values()), delta.whiteouts, delta.opaques, tuple(skips),
                      delta.covers, delta.dirs)


def _layer_delta(
    source: ImageSource, layer: Layer, matcher: _Matcher, cache_dir: Path | None,
    print_: str | None, budget: _Budget, to_store: list[tuple[Layer, LayerDelta]],
) -> LayerDelta:
    """One layer's delta, from the cache or a walk; a walked delta is queued in ``to_store``,
    to be cached once the layer's bytes are known to be genuine."""
    if cache_dir is not None and print_ is not None:
        cached = layercache.load(cache_dir, layer.digest, layer.diff_id, print_,
                                 max_bytes=budget.left)
        if cached is not None:
            kept = sum(len(e.data) for e in cached.entries if e.data is not None)
            if budget.take(kept):
                if source.kind != _REGISTRY:
                    _verify_layer(source, layer)
                return cached
    walk = _walk_layer(source, layer, matcher, budget)
    delta = _resolve_links(source, layer, matcher, walk)
    if cache_dir is not None and print_ is not None and not walk.limited:
        to_store.append((layer, delta))
    return delta


def read_files(
    source: ImageSource,
    image: Image,
    requests: Sequence[FileRequest],
    *,
    cache_dir: Path | None = None,
    budget: int = DEFAULT_BUDGET,
    cache_key: str = "",
) -> FileTree:
    """The requested files as they are in the final image, each attributed to its layer.

    At most ``budget`` bytes of file content are kept in memory; files beyond it are listed
    truncated with a Skip. ``cache_key`` versions the code behind ``requests`` (the catalog
    stage passes ``inventory_key()``) so a changed cataloger never reuses a cached layer.
    """
    matcher = _Matcher(requests)
    if not requests:
        return FileTree(MappingProxyType({}))
    allowance = _Budget(budget)
    if isinstance(source, RootfsSource):
        return _read_rootfs(source, image, matcher, allowance)
    print_ = layercache.fingerprint(requests, cache_key) if cache_dir is not None else None
    merged: dict[str, tuple[DeltaEntry, Layer]] = {}
    skips: list[Skip] = []
    # A local source hashes the layers on the other cores while they are walked, and the walk
    # goes on to the next layer without waiting for a verdict. Every verdict is in (a mismatch
    # raised) when ``verdicts`` closes: before any delta is cached or anything is returned.
    prefetch = getattr(source, "prefetch_blobs", None)
    to_store: list[tuple[Layer, LayerDelta]] = []
    with (prefetch([_descriptor(layer) for layer in image.layers]) if callable(prefetch)
          else contextlib.nullcontext()), contextlib.ExitStack() as verdicts:
        token = _VERDICTS.set(verdicts if callable(prefetch) else None)
        try:
            for layer in image.layers:
                delta = _layer_delta(source, layer, matcher, cache_dir, print_, allowance,
                                     to_store)
                _merge_layer(merged, skips, layer, delta)
        finally:
            _VERDICTS.reset(token)
    for layer, delta in to_store:
        assert cache_dir is not None and print_ is not None
        layercache.store(cache_dir, layer.digest, layer.diff_id, print_, delta)
    files = {
        path: FileEntry(path, e.kind, e.size, e.mode, layer.index, layer.diff_id, e.link_target,
                        e.data, e.truncated, e.extracted)
        for path, (e, layer) in sorted(merged.items())
    }
    return FileTree(MappingProxyType(files), tuple(skips))


def _merge_layer(merged: dict[str, tuple[DeltaEntry, Layer]], skips: list[Skip], layer: Layer,
                 delta: LayerDelta) -> None:
    """Lay one layer's delta over the merged view of the layers below it."""
    if merged and (delta.whiteouts or delta.opaques):
        deleted, opaque = set(delta.whiteouts), set(delta.opaques)
        for path in [p for p in merged if is_hidden(p, deleted, opaque)]:
            del merged[path]
    if merged:
        _shadow(merged, delta)
    for entry in delta.entries:
        merged[entry.path] = (entry, layer)
    skips.extend(Skip(path, layer.index, reason) for path, reason in delta.skips)


def _shadow(merged: dict[str, tuple[DeltaEntry, Layer]], delta: LayerDelta) -> None:
    """Drop lower entries that this layer's members replace, as the merged file system does.

    A non-directory member (matched or not) hides the lower entry at its path and everything
    below it; a directory hides only a lower non-directory at its path (two directories merge).
    """
    covers = set(delta.covers)
    covers.update(e.path for e in delta.entries if e.kind != "dir")
    dirs = set(delta.dirs)
    dirs.update(e.path for e in delta.entries if e.kind == "dir")
    if not covers and not dirs:
        return
    doomed = []
    for path, (entry, _) in merged.items():
        if path in covers or (entry.kind != "dir" and path in dirs):
            doomed.append(path)
            continue
        parent = path
        while (cut := parent.rfind("/")) > 0:
            parent = parent[:cut]
            if parent in covers:
                doomed.append(path)
                break
    for path in doomed:
        del merged[path]


def _read_rootfs(
    source: RootfsSource, image: Image, matcher: _Matcher, budget: _Budget
) -> FileTree:
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
            try:
                target_text = os.readlink(entry.path)
            except OSError as error:  # replaced or removed since the listing
                skips.append(Skip(path, 0, f"cannot read the symlink: {error.strerror}"))
                continue
            if symlink_target(path, target_text) is None:
                skips.append(Skip(path, 0, f"symlink to {target_text!r} points outside the root"))
                continue
            if matcher.limit(path, 0, mode) is not None:
                files[path] = FileEntry(path, "symlink", 0, stat.S_IMODE(mode), 0, diff_id,
                                        target_text)
            continue
        size = info.st_size if stat.S_ISREG(mode) else 0
        perms = stat.S_IMODE(mode)
        if not stat.S_ISREG(mode):
            if matcher.limit(path, size, perms) is None:
                continue
            if stat.S_ISDIR(mode):
                files[path] = FileEntry(path, "dir", 0, perms, 0, diff_id)
            else:
                skips.append(Skip(path, 0, "device file, socket or fifo: not read"))
            continue
        plan = matcher.plan(path, size, perms)
        if plan is None:
            continue
        if not plan.whole and plan.extract is None:
            files[path] = FileEntry(path, "file", size, perms, 0, diff_id, truncated=True)
            continue
        try:
            if plan.whole:
                if not budget.take(size):
                    skips.append(Skip(path, 0, budget.reason))
                    files[path] = FileEntry(path, "file", size, perms, 0, diff_id,
                                            truncated=True)
                    continue
                data = _read_nofollow(entry.path, size)
                files[path] = FileEntry(path, "file", len(data), perms, 0, diff_id, data=data)
            else:
                assert plan.extract is not None
                kept = _extract_nofollow(entry.path, path, plan.extract)
                if kept is not None and not budget.take(len(kept)):
                    skips.append(Skip(path, 0, budget.reason))
                    files[path] = FileEntry(path, "file", size, perms, 0, diff_id,
                                            truncated=True)
                    continue
                files[path] = FileEntry(path, "file", size, perms, 0, diff_id, data=kept,
                                        extracted=kept is not None)
        except OSError as error:
            skips.append(Skip(path, 0, f"cannot read: {error.strerror}"))
    return FileTree(MappingProxyType(dict(sorted(files.items()))), tuple(skips))


def _open_nofollow(path: str) -> int:
    """A descriptor of a regular file, refusing a symlink swapped in after the listing."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(0, "not a regular file any more")
    return fd


def _read_nofollow(path: str, limit: int) -> bytes:
    """Read a regular file (at most ``limit`` bytes) without following symlinks."""
    fd = _open_nofollow(path)
    try:
        chunks = []
        remaining = limit + 1
        while remaining > 0 and (chunk := os.read(fd, min(remaining, 1 << 20))):
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)[:limit]
    finally:
        os.close(fd)


def _extract_nofollow(path: str, name: str, extract: Extract) -> bytes | None:
    with os.fdopen(_open_nofollow(path), "rb") as handle:
        return extract(name, handle)
