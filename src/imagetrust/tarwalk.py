"""A minimal tar header walker for layers and archives: headers parsed by hand, data skipped.

Why not :mod:`tarfile`: building a ``TarInfo`` per member dominated scans of large layers, and
the reader only needs name, type, size, mode and link name. This walker parses ustar, GNU
(``L``/``K`` long names) and pax (``x``: path, linkpath, size; ``g`` global headers are checked
and readable as :attr:`TarWalker.global_pax` but, as in Go's archive/tar which container runtimes
use, not applied) headers, verifies each
header checksum, and never trusts a size: metadata members larger than ``header_limit`` are
refused, data running past the end of the stream is an error, and member data is never read
unless the caller asks (seekable streams seek over it, others decompress and drop it).

Shared below the stages: the layer reader walks layers with it, archive sources index
``docker save`` / OCI archives with it, and the official-images tarball and database bundles are
read with it, so no untrusted tar reaches :mod:`tarfile` (whose pax
header parsing had a quadratic-time regex, CVE-2024-6232, in the Python 3.11 patch releases
before 3.11.10).

Metadata is bounded so that a small hostile layer cannot make it grow: of pax records only the
keys used here are kept (so headers with ever new keys keep nothing), names and link
names are capped at :data:`MAX_NAME`, and a header with more than :data:`MAX_PAX_RECORDS`
records is refused (parsing is a Python loop per record).

Cost per header is what a walk of a large layer is made of (48,000 headers in a 1 GB image), so
the common header is parsed with one precompiled :class:`struct.Struct`, its checksum summed by
``zlib.adler32`` (exact on half-blocks: 256 bytes cannot sum past the Adler modulus), link names
and ustar prefixes decoded only when present. A stream may expose ``mapping`` = ``(buffer,
start)``, its bytes as a sliceable buffer (a read-only ``mmap``): the walker then slices headers
out of it and never issues a read, and skipping member data is an assignment. Such a stream may
also offer ``forget(position)``, which the walker calls as it passes each 8 MiB, so that the
pages behind it can be dropped.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import BinaryIO, NamedTuple, Protocol, cast

BLOCK = 512

REGULAR = frozenset(b"07\0")
"""Type flags of regular files (``7`` contiguous is a regular file, as tar treats it)."""
HARDLINK, SYMLINK, DIRECTORY = ord("1"), ord("2"), ord("5")
_SPECIAL = frozenset(b"123456")  # links, devices, dirs, fifos: their size field is ignored
_GNU_LONGNAME, _GNU_LONGLINK, _GNU_SPARSE = ord("L"), ord("K"), ord("S")
_PAX_LOCAL, _PAX_GLOBAL = ord("x"), ord("g")
_META = frozenset((_GNU_LONGNAME, _GNU_LONGLINK, _PAX_LOCAL, _PAX_GLOBAL))
_POSIX_MAGIC = b"ustar\x00"
_MAX_READ = 16 * 1024 * 1024
HEADER_LIMIT = 1024 * 1024
"""Largest long-name / pax header accepted (honest ones are a few hundred bytes)."""
MAX_NAME = 64 * 1024
"""Longest path or link name kept (PATH_MAX is 4096; more is hostile)."""
MAX_PAX_RECORDS = 4096
"""Most records in one pax header (honest ones hold a handful, xattrs a few dozen)."""
_PAX_KEPT = frozenset({"path", "linkpath", "size"})
_GLOBAL_KEPT = _PAX_KEPT | {"comment"}  # ``comment``: GitHub's tarballs name their commit there
_SPARSE_KEY = "GNU.sparse"
_ZEROS = bytes(BLOCK)
_HEADER = struct.Struct("100s8s16x12s12x8sB100s6s82x155s12x")
"""name, mode, size, checksum, type flag, link name, magic, prefix (uid, gid, mtime, uname,
gname and device numbers are skipped unread)."""
_SPACES = 8 * 32  # the checksum field counts as eight spaces
_FORGET = 8 << 20  # how often a walk over a mapping says which bytes it is done with


class _Buffer(Protocol):
    """What the walker slices: bytes, or a read-only mmap."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: slice, /) -> bytes: ...


class TarFormatError(ValueError):
    """The stream is not a tar, or is cut short (message says which)."""


class TarHostileError(ValueError):
    """A header claims a size no honest archive has (message says which)."""


class TarMember(NamedTuple):
    """One member's header, with long names and pax records applied."""

    name: str
    type: int
    """The type flag byte (``ord("0")`` …); unknown types are passed through."""
    size: int
    """Bytes of data stored in the archive for this member (0 for links, dirs, devices)."""
    mode: int
    linkname: str
    sparse: bool = False

    @property
    def is_regular(self) -> bool:
        return self.type in REGULAR

    @property
    def is_dir(self) -> bool:
        return self.type == DIRECTORY


def _number(field: bytes) -> int:
    """A numeric header field: NUL/space-terminated octal, or GNU base-256."""
    if field and field[0] & 0x80:
        if field[0] == 0xFF:
            raise TarHostileError("a header holds a negative number")
        value = field[0] & 0x7F
        for byte in field[1:]:
            value = (value << 8) | byte
        return value
    end = field.find(0)
    text = field if end < 0 else field[:end]
    try:
        return int(text, 8)  # int() itself skips the surrounding spaces
    except ValueError:
        text = text.strip()
        if not text:
            return 0
        raise TarFormatError(f"invalid number {text[:20]!r} in a tar header") from None


def _text(field: bytes) -> str:
    end = field.find(0)
    return (field if end < 0 else field[:end]).decode("utf-8", "surrogateescape")


def _byte_sum(block: bytes) -> int:
    """Sum of a 512-byte block's bytes at C speed: Adler-32's low half is 1 + the byte sum
    modulo 65521, exact for 256 bytes (at most 65,280)."""
    return (zlib.adler32(block[:256]) & 0xFFFF) + (zlib.adler32(block[256:]) & 0xFFFF) - 2


def _checksum_ok(block: bytes, stored: bytes) -> bool:
    try:
        expected = _number(stored)
    except (TarFormatError, TarHostileError):
        return False
    unsigned = _byte_sum(block) - sum(stored) + _SPACES
    if unsigned == expected:
        return True
    signed = unsigned - 2 * sum(b for b in block if b > 127) + 2 * sum(b for b in stored if b > 127)
    return signed == expected


def _pax_records(data: bytes, kept: frozenset[str] = _PAX_KEPT) -> dict[str, str]:
    """The used ``LEN key=value\\n`` records (``kept`` keys, and the sparse marker).

    Malformed records make the whole header invalid; all other keys are dropped unread.
    """
    out: dict[str, str] = {}
    pos = 0
    count = 0
    while pos < len(data) and data[pos] != 0:
        count += 1
        if count > MAX_PAX_RECORDS:
            raise TarHostileError(f"a pax header holds more than {MAX_PAX_RECORDS} records")
        space = data.find(b" ", pos, pos + 20)
        if space == -1:
            raise TarFormatError("malformed pax header record")
        try:
            length = int(data[pos:space])
        except ValueError:
            raise TarFormatError("malformed pax header record length") from None
        end = pos + length
        if length <= space - pos or end > len(data) or data[end - 1] != 0x0A:
            raise TarFormatError("pax header record runs past its header")
        equals = data.find(b"=", space + 1, end - 1)
        if equals == -1:
            raise TarFormatError("pax header record without '='")
        key = data[space + 1 : equals].decode("utf-8", "surrogateescape")
        if key in kept:
            if end - 1 - equals > MAX_NAME:
                raise TarHostileError(f"a pax {key!r} record is longer than {MAX_NAME} bytes")
            out[key] = data[equals + 1 : end - 1].decode("utf-8", "surrogateescape")
        elif key.startswith(_SPARSE_KEY):
            out[_SPARSE_KEY] = ""
        pos = end
    return out


class TarWalker:
    """Iterate members of a tar stream; the current member's data may be read before moving on.

    ``seekable`` streams must also report their length (``seek(0, SEEK_END)``) so that a member
    claiming data past the end is caught, as a truncated archive.

    ``require_end``: a download that must be whole (not a layer, which tar and the runtimes
    accept without its end marker) must end with the two zero blocks of POSIX, followed by
    nothing but zero padding; the stream is read to its end, so a decompressor also checks its
    CRC trailer. Without it the walk stops at the first zero block or at the end of the stream.
    """

    def __init__(
        self, stream: BinaryIO, *, seekable: bool, header_limit: int = HEADER_LIMIT,
        what: str = "layer", require_end: bool = False,
    ) -> None:
        self._what = what  # names the stream in messages: "the layer ends inside …"
        self._require_end = require_end
        self._global: dict[str, str] = {}
        self._stream = stream
        self._seekable = seekable
        self._limit = min(header_limit, HEADER_LIMIT)
        self._buf: _Buffer = b""
        self._off = 0  # position in _buf
        self._base = stream.tell() if seekable else 0  # stream position of _buf[0]
        self._end: int | None = None
        mapping: tuple[_Buffer, int] | None = getattr(stream, "mapping", None)
        self._whole = seekable and mapping is not None
        if self._whole and mapping is not None:
            # The whole stream is one buffer: stream position p is _buf[start + p].
            self._buf, start = mapping
            self._off = start + self._base
            self._base = -start
            self._end = len(self._buf) - start
            self._stream = cast(BinaryIO, io.BytesIO())  # nothing lies beyond the buffer
            self._owner = stream  # keeps the mapping open while the walk uses it
            self._forget = getattr(stream, "forget", None)
            self._forgotten = 0
        elif seekable:
            self._end = stream.seek(0, io.SEEK_END)
            stream.seek(self._base)
        self._chunk = 8 * 1024 if seekable else 1 << 20
        self._scratch = bytearray(0 if seekable else 1 << 20)
        self._data_at = 0  # absolute position of the current member's data
        self._data_size = 0
        self._next_header = self._base + self._off

    # -- low-level stream access -----------------------------------------------------------
    def _pos(self) -> int:
        return self._base + self._off

    def _fill(self, count: int) -> bytes:
        """Exactly ``count`` bytes from the current position (fewer only at end of stream)."""
        available = len(self._buf) - self._off
        if available < count:
            pieces = [self._buf[self._off :]]
            missing = count - available
            want = max(missing, self._chunk)
            while missing > 0:
                # bounded single reads: a forged size never becomes one huge allocation
                more = self._stream.read(min(want, _MAX_READ)) or b""
                if not more:
                    break
                pieces.append(more)
                missing -= len(more)
                want -= len(more)
            self._base += self._off
            self._buf, self._off = b"".join(pieces), 0
        out = self._buf[self._off : self._off + count]
        self._off += len(out)
        return out

    def _skip_to(self, target: int) -> None:
        if self._end is not None and target > self._end:
            raise TarFormatError(f"a member runs past the end of the {self._what}")
        if self._base <= target <= self._base + len(self._buf):
            self._off = target - self._base
            return
        if self._seekable:
            self._stream.seek(target)
            self._buf, self._off, self._base = b"", 0, target
            return
        end = self._base + len(self._buf)
        if target < end:
            raise OSError("cannot seek backwards in a compressed layer")
        missing = target - end
        self._base, self._buf, self._off = end, b"", 0
        view = memoryview(self._scratch)
        while missing > 0:
            count = self._stream.readinto(view[: min(len(view), missing)])  # type: ignore[attr-defined]
            if not count:
                raise TarFormatError(f"the {self._what} ends inside a member's data")
            missing -= count
            self._base += count

    def _check_end(self) -> None:
        """After the first zero block: one more, then only zeros up to the end of the stream."""
        start = self._pos()
        zeros = BLOCK
        while chunk := self._fill(1 << 20):
            if chunk.count(0) != len(chunk):
                at = start + zeros - BLOCK + next(i for i, b in enumerate(chunk) if b)
                raise TarFormatError(
                    f"unreadable tar header at byte {at - at % BLOCK} (data after a zero block)"
                )
            zeros += len(chunk)
        if zeros < 2 * BLOCK:
            raise TarFormatError(f"the {self._what} lacks the end-of-archive marker")

    # -- members ----------------------------------------------------------------------------
    @property
    def global_pax(self) -> Mapping[str, str]:
        """``path``, ``linkpath``, ``size`` and ``comment`` of the pax global headers read so far.

        Exposed to read (a GitHub tarball's commit is its ``comment``), never applied to members.
        """
        return MappingProxyType(self._global)

    @property
    def data_offset(self) -> int:
        """Stream position of the current member's data (an archive index serves it from there)."""
        return self._data_at

    def read_data(self, limit: int | None = None) -> bytes:
        """The current member's data (at most ``limit`` bytes); call before advancing."""
        size = self._data_size if limit is None else min(limit, self._data_size)
        if self._end is not None and self._data_at + size > self._end:
            raise TarFormatError(f"the {self._what} ends inside a member's data")
        self._skip_to(self._data_at)
        data = self._fill(size)
        if len(data) != size:
            raise TarFormatError(f"the {self._what} ends inside a member's data")
        return data

    def data_stream(self) -> BinaryIO:
        """A reader of the current member's data, valid until the walk moves on."""
        return cast(BinaryIO, _MemberData(self, self._data_at, self._data_size))

    def _metadata(self, size: int, what: str) -> bytes:
        if size > self._limit:
            raise TarHostileError(f"a {what} header claims {size} bytes")
        data = self._fill(size)
        if len(data) != size:
            raise TarFormatError(f"the {self._what} ends inside a {what} header")
        self._skip_to(self._pos() + (-size % BLOCK))
        return data

    def __iter__(self) -> Iterator[TarMember]:
        long_name: str | None = None
        long_link: str | None = None
        local_pax: dict[str, str] = {}
        first = True
        whole = self._whole  # the stream is one buffer: headers are sliced straight out of it
        while True:
            if whole and self._next_header <= cast(int, self._end):
                if self._forget is not None and self._next_header - self._forgotten > _FORGET:
                    self._forget(self._next_header)  # the mapping may drop the pages behind
                    self._forgotten = self._next_header
                at = self._next_header - self._base
                block = self._buf[at : at + BLOCK]
                self._off = at + len(block)
            else:
                self._skip_to(self._next_header)
                block = self._fill(BLOCK)
            if not block:
                if self._require_end:
                    raise TarFormatError(f"the {self._what} lacks the end-of-archive marker")
                return  # end without the two zero blocks: accepted, as tar does
            if len(block) < BLOCK:
                raise TarFormatError(f"the {self._what} ends inside a tar header")
            if block == _ZEROS:
                if self._require_end:
                    self._check_end()
                return
            raw_name, raw_mode, raw_size, stored, kind, raw_link, magic, raw_prefix = (
                _HEADER.unpack(block))
            if not _checksum_ok(block, stored):
                if first:
                    raise TarFormatError("no tar header at the start: checksum mismatch")
                at = self._pos() - BLOCK
                raise TarFormatError(f"unreadable tar header at byte {at} (checksum mismatch)")
            first = False
            size = _number(raw_size)
            if kind in _META:
                data = self._metadata(size, chr(kind))
                self._next_header = self._pos()
                if kind in (_GNU_LONGNAME, _GNU_LONGLINK):
                    text = _text(data)
                    if len(text) > MAX_NAME:
                        raise TarHostileError(f"a long name is longer than {MAX_NAME} bytes")
                    if kind == _GNU_LONGNAME:
                        long_name = text
                    else:
                        long_link = text
                elif kind == _PAX_LOCAL:
                    local_pax.update(_pax_records(data))
                else:
                    # Checked (bounded) but not applied: Go's archive/tar, which docker and
                    # containerd read layers with, ignores global headers, and a scan must see
                    # the files the runtime sees, not ones a global ``path`` renamed.
                    records = _pax_records(data, _GLOBAL_KEPT)
                    self._global.update((k, v) for k, v in records.items() if k in _GLOBAL_KEPT)
                continue
            name = _text(raw_name)
            if raw_prefix[0] and magic == _POSIX_MAGIC and (prefix := _text(raw_prefix)):
                name = f"{prefix}/{name}"
            linkname = _text(raw_link) if raw_link[0] else ""
            sparse = kind == _GNU_SPARSE
            if local_pax:  # pax records are parsed only after an ``x`` header, applied here
                pax, local_pax = local_pax, {}
                name = pax.get("path", name)
                linkname = pax.get("linkpath", linkname)
                if "size" in pax:
                    try:
                        size = int(pax["size"])
                    except ValueError:
                        raise TarFormatError("pax size is not a number") from None
                sparse = sparse or _SPARSE_KEY in pax
            if long_name is not None:
                name, long_name = long_name, None
            if long_link is not None:
                linkname, long_link = long_link, None
            if kind == 0 and name.endswith("/"):
                kind = DIRECTORY  # old tars mark directories by a trailing slash only
            if kind == DIRECTORY:
                name = name.rstrip("/") or name
            if size < 0:
                raise TarHostileError("a member claims a negative size")
            stored = 0 if kind in _SPECIAL else size
            self._data_at = self._base + self._off
            self._data_size = stored
            self._next_header = self._data_at + stored + (-stored % BLOCK)
            if self._end is not None and self._next_header > self._end:
                raise TarFormatError(f"member {name!r} runs past the end of the {self._what}")
            mode = _number(raw_mode)
            yield TarMember(name, 0x30 if kind == _GNU_SPARSE else kind, stored, mode, linkname,
                            sparse)


class _MemberData(io.RawIOBase):
    """Read-only view of one member's data; seekable when the walker's stream is."""

    def __init__(self, walker: TarWalker, start: int, size: int) -> None:
        super().__init__()
        self._walker = walker
        self._start = start
        self._size = size
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._walker._seekable

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        target = base + offset
        if target < 0:
            raise ValueError("negative seek position")
        if not self.seekable() and target < self._pos:
            raise OSError("cannot seek backwards in a compressed layer")
        self._pos = target
        return target

    def read(self, size: int | None = -1) -> bytes:
        remaining = max(0, self._size - self._pos)
        count = remaining if size is None or size < 0 else min(size, remaining)
        if count == 0:
            return b""
        walker = self._walker
        walker._skip_to(self._start + self._pos)
        data = walker._fill(count)
        if len(data) != count:
            raise TarFormatError(f"the {walker._what} ends inside a member's data")
        self._pos += count
        return data

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        memoryview(buffer).cast("B")[: len(data)] = data
        return len(data)
