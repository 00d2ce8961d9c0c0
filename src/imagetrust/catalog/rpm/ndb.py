"""rpm's NDB backend (``Packages.db``: SUSE/openSUSE since 2020).

Format (rpm lib/backend/ndb/rpmpkg.c, little-endian): a 32-byte header (``RpmP`` magic, version 0,
generation, slot page count, next package index), then slot pages of 16-byte slots (``Slot`` magic,
package index, block offset, block count; offset 0 = free). Each blob sits at ``blkoff * 16``:
``BlbS`` magic, package index, timestamp, length, the header bytes, padding, then an adler32 of all
that, the length again and ``BlbE``. Every check rpm makes when reading is made here too.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator

from imagetrust.catalog.rpm.records import RawRecord

_DB_MAGIC = int.from_bytes(b"RpmP", "little")
_SLOT_MAGIC = int.from_bytes(b"Slot", "little")
_BLOB_HEAD = int.from_bytes(b"BlbS", "little")
_BLOB_TAIL = int.from_bytes(b"BlbE", "little")
_PAGE = 4096
_SLOT = 16
_BLOCK = 16
_HEADER = 32
_HEAD_SIZE = 16
_TAIL_SIZE = 12


def iter_ndb(data: bytes) -> Iterator[RawRecord]:
    """Every package blob named by a used slot."""
    if len(data) < _HEADER:
        yield RawRecord("database", None, "file too short for an NDB header")
        return
    magic, version, _generation, slot_pages, _next = struct.unpack_from("<5I", data, 0)
    if magic != _DB_MAGIC:
        yield RawRecord("database", None, "not an rpm NDB database (bad magic)")
        return
    if version != 0:
        yield RawRecord("database", None, f"unsupported NDB version {version}")
        return
    if slot_pages == 0 or slot_pages * _PAGE > len(data):
        yield RawRecord("database", None, f"NDB claims {slot_pages} slot pages, file is shorter")
        return
    blocks = len(data) // _BLOCK
    first_data_block = slot_pages * _PAGE // _BLOCK
    for offset in range(_HEADER, slot_pages * _PAGE, _SLOT):
        slot_magic, pkgidx, blkoff, blkcnt = struct.unpack_from("<4I", data, offset)
        if slot_magic != _SLOT_MAGIC:
            yield RawRecord(f"slot {offset // _SLOT}", None, "slot has bad magic")
            continue
        if blkoff == 0:
            continue
        key = str(pkgidx)
        if pkgidx == 0 or blkcnt == 0 or blkoff < first_data_block or blkoff + blkcnt > blocks:
            yield RawRecord(key, None, f"slot points to blocks {blkoff}+{blkcnt} outside the data")
            continue
        yield _blob(data, key, pkgidx, blkoff, blkcnt)


def _blob(data: bytes, key: str, pkgidx: int, blkoff: int, blkcnt: int) -> RawRecord:
    start = blkoff * _BLOCK
    end = start + blkcnt * _BLOCK
    head_magic, head_idx, _stamp, length = struct.unpack_from("<4I", data, start)
    if head_magic != _BLOB_HEAD or head_idx != pkgidx:
        return RawRecord(key, None, "blob header does not match its slot")
    if blkcnt != (_HEAD_SIZE + length + _TAIL_SIZE + _BLOCK - 1) // _BLOCK:
        return RawRecord(key, None, f"blob length {length} does not fit {blkcnt} blocks")
    checksum, tail_length, tail_magic = struct.unpack_from("<3I", data, end - _TAIL_SIZE)
    if tail_magic != _BLOB_TAIL or tail_length != length:
        return RawRecord(key, None, "blob trailer is damaged")
    if zlib.adler32(data[start : end - _TAIL_SIZE]) != checksum:
        return RawRecord(key, None, "blob adler32 checksum mismatch")
    return RawRecord(key, data[start + _HEAD_SIZE : start + _HEAD_SIZE + length], None)
