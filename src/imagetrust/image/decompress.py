"""Turn a layer blob stream into an uncompressed tar stream.

The compression is taken from the magic bytes, not only the media type: docker-archive layers are
labelled plain tar yet are sometimes gzip, and registries mislabel now and then. gzip goes through
python-isal (several times faster than zlib), zstd through ``zstandard``.
"""

from __future__ import annotations

import io
import zlib
from typing import BinaryIO, Literal, cast

import zstandard
from isal import igzip, isal_zlib

from imagetrust.oci.mediatypes import compression_of

Compression = Literal["gzip", "zstd", "none"]

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"

DECOMPRESSION_ERRORS: tuple[type[BaseException], ...] = (
    EOFError,
    zlib.error,
    cast(type[BaseException], isal_zlib.error),
    zstandard.ZstdError,
    igzip.BadGzipFile,
)


class _Prefixed(io.RawIOBase):
    """A non-seekable stream with bytes already read put back in front."""

    def __init__(self, prefix: bytes, rest: BinaryIO) -> None:
        super().__init__()
        self._prefix = prefix
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        if self._prefix:
            count = min(len(view), len(self._prefix))
            view[:count] = self._prefix[:count]
            self._prefix = self._prefix[count:]
            return count
        data = self._rest.read(len(view))
        view[: len(data)] = data
        return len(data)


def sniff(stream: BinaryIO, media_type: str) -> tuple[Compression, BinaryIO]:
    """Detect the compression by magic bytes (media type as a fallback for empty blobs)."""
    if stream.seekable():
        start = stream.tell()
        head = stream.read(4)
        stream.seek(start)
    else:
        head = stream.read(4)
        stream = cast(BinaryIO, io.BufferedReader(_Prefixed(head, stream), 1 << 16))
    if head.startswith(GZIP_MAGIC):
        return "gzip", stream
    if head.startswith(ZSTD_MAGIC):
        return "zstd", stream
    if not head:
        declared = compression_of(media_type)
        return declared if declared in ("gzip", "zstd") else "none", stream  # type: ignore[return-value]
    return "none", stream


def decompressed(stream: BinaryIO, compression: Compression) -> BinaryIO:
    """A readable tar stream; compressed ones support forward seeks (they decompress and drop)."""
    if compression == "gzip":
        return cast(BinaryIO, igzip.IGzipFile(fileobj=stream, mode="rb"))  # type: ignore[no-untyped-call]
    if compression == "zstd":
        reader = zstandard.ZstdDecompressor().stream_reader(
            stream, read_across_frames=True, closefd=False
        )
        return cast(BinaryIO, reader)
    return stream


def drain(stream: BinaryIO) -> None:
    """Read a compressed stream to its end so truncation and checksum errors surface."""
    while stream.read(1 << 20):
        pass
