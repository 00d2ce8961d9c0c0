"""The rpm header blob as rpm stores it in its databases.

Layout (rpm's header.c, big-endian throughout): ``il`` index entry count, ``dl`` data length, ``il``
entries of (tag, type, offset, count), then ``dl`` bytes of data. Only the tags a package inventory
needs are decoded, each one bounds-checked: a corrupt header is an error, never a wrong value.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from imagetrust.errors import CatalogError

TAG_NAME = 1000
TAG_VERSION = 1001
TAG_RELEASE = 1002
TAG_EPOCH = 1003
TAG_VENDOR = 1011
TAG_LICENSE = 1014
TAG_PACKAGER = 1015
TAG_ARCH = 1022
TAG_SOURCERPM = 1044
TAG_MODULARITYLABEL = 5096

TYPE_INT32 = 4
TYPE_STRING = 6
TYPE_STRING_ARRAY = 8
TYPE_I18NSTRING = 9

_MAX_INDEX = 0x10000  # rpm's own limit on index entries
_MAX_DATA = 256 * 1024 * 1024  # rpm's own limit on the data store
_WANTED = {
    TAG_NAME, TAG_VERSION, TAG_RELEASE, TAG_EPOCH, TAG_VENDOR, TAG_LICENSE, TAG_PACKAGER,
    TAG_ARCH, TAG_SOURCERPM, TAG_MODULARITYLABEL,
}


class RpmHeaderError(CatalogError):
    """One header blob is malformed (the caller turns it into a skip)."""


@dataclass(frozen=True, slots=True)
class RpmHeader:
    """Decoded values of the tags in ``_WANTED`` (strings, or an int for EPOCH)."""

    strings: dict[int, str]
    epoch: int | None

    def get(self, tag: int) -> str | None:
        return self.strings.get(tag)


def parse_header(blob: bytes) -> RpmHeader:
    """Decode ``blob``; raises :class:`RpmHeaderError` saying what is wrong."""
    if len(blob) < 8:
        raise RpmHeaderError(f"header of {len(blob)} bytes is shorter than its 8-byte preamble")
    il, dl = struct.unpack_from(">II", blob, 0)
    if il == 0 or il > _MAX_INDEX or dl > _MAX_DATA:
        raise RpmHeaderError(f"implausible header sizes (index {il}, data {dl})")
    data_start = 8 + 16 * il
    if data_start + dl > len(blob):
        raise RpmHeaderError(
            f"header truncated: needs {data_start + dl} bytes, has {len(blob)}"
        )
    data = blob[data_start : data_start + dl]
    strings: dict[int, str] = {}
    epoch: int | None = None
    for i in range(il):
        tag, kind, offset, count = struct.unpack_from(">IIII", blob, 8 + 16 * i)
        if tag not in _WANTED:
            continue
        if offset >= dl:
            raise RpmHeaderError(f"tag {tag} points outside the data store ({offset} >= {dl})")
        if kind == TYPE_INT32:
            if count < 1 or offset % 4 or offset + 4 > dl:
                raise RpmHeaderError(f"tag {tag}: bad INT32 entry")
            if tag == TAG_EPOCH:
                epoch = struct.unpack_from(">I", data, offset)[0]
        elif kind in (TYPE_STRING, TYPE_STRING_ARRAY, TYPE_I18NSTRING):
            end = data.find(b"\0", offset)
            if end == -1:
                raise RpmHeaderError(f"tag {tag}: string is not NUL-terminated")
            # I18N strings and arrays: the first element is the default (C locale) value.
            strings[tag] = data[offset:end].decode("utf-8", errors="replace")
        else:
            raise RpmHeaderError(f"tag {tag} has unexpected type {kind}")
    return RpmHeader(strings, epoch)
