"""rpm's legacy Berkeley DB ``Packages`` file (RHEL/CentOS <= 8, Amazon Linux 2, old SUSE).

No PyPI package reads Berkeley DB without compiling against libdb headers (``berkeleydb`` and
``bsddb3`` ship no wheels and need ``db.h``), and rpm itself now only reads this format
(``bdb_ro``). The hash access method is simple enough to read directly: every page of type
``P_HASH`` holds (key, value) item pairs; values too big for a page are ``H_OFFPAGE`` references
to a chain of ``P_OVERFLOW`` pages. Pages are visited in file order, which also covers bucket
overflow chains, so the bucket/spares arithmetic is not needed. Integers are in the byte order of
the machine that wrote the file, told apart by the metadata page's magic number.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from imagetrust.catalog.rpm.records import RawRecord

HASH_MAGIC = 0x061561
_PAGE_HEADER = 26  # lsn(8) pgno prev next (4 each) entries hf_offset (2 each) level type (1 each)
P_HASH_UNSORTED = 2
P_OVERFLOW = 7
P_HASHMETA = 8
P_HASH = 13
H_KEYDATA = 1
H_OFFPAGE = 3
_VALID_PAGE_SIZES = {512 << n for n in range(8)}  # 512 … 65536


def iter_bdb(data: bytes) -> Iterator[RawRecord]:
    """Every (record number, header) pair of a Berkeley DB hash database."""
    if len(data) < 512:
        yield RawRecord("database", None, "file too short for a Berkeley DB metadata page")
        return
    if struct.unpack_from("<I", data, 12)[0] == HASH_MAGIC:
        order = "<"
    elif struct.unpack_from(">I", data, 12)[0] == HASH_MAGIC:
        order = ">"
    else:
        yield RawRecord("database", None, "not a Berkeley DB hash database (bad magic)")
        return
    page_size = struct.unpack_from(order + "I", data, 20)[0]
    encrypted, page_type = data[24], data[25]
    if page_size not in _VALID_PAGE_SIZES or page_type != P_HASHMETA:
        yield RawRecord("database", None, f"unsupported page size {page_size} or meta type")
        return
    if encrypted:
        yield RawRecord("database", None, "encrypted Berkeley DB databases are not supported")
        return
    reader = _Reader(data, order, page_size)
    seen: set[bytes] = set()
    for pgno in range(1, len(data) // page_size):
        page = reader.page(pgno)
        if page[25] not in (P_HASH, P_HASH_UNSORTED):
            continue
        yield from reader.items(pgno, page, seen)


class _Reader:
    def __init__(self, data: bytes, order: str, page_size: int) -> None:
        self.data = data
        self.order = order
        self.page_size = page_size
        self.pages = len(data) // page_size

    def page(self, pgno: int) -> memoryview:
        start = pgno * self.page_size
        return memoryview(self.data)[start : start + self.page_size]

    def items(self, pgno: int, page: memoryview, seen: set[bytes]) -> Iterator[RawRecord]:
        entries = struct.unpack_from(self.order + "H", page, 20)[0]
        if _PAGE_HEADER + 2 * entries > self.page_size:
            yield RawRecord(f"page {pgno}", None, f"page {pgno} claims {entries} entries")
            return
        offsets = struct.unpack_from(f"{self.order}{entries}H", page, _PAGE_HEADER)
        for i in range(0, entries - 1, 2):
            try:
                key = self._item(page, offsets, i)
                if key in seen:
                    continue
                seen.add(key)
                value = self._item(page, offsets, i + 1)
            except ValueError as error:
                yield RawRecord(f"page {pgno} item {i}", None, str(error))
                continue
            number = struct.unpack(self.order + "I", key)[0] if len(key) == 4 else None
            if number == 0:
                continue  # rpm's record 0 stores the next free record number, not a header
            yield RawRecord(str(number) if number is not None else key.hex(), value, None)

    def _item(self, page: memoryview, offsets: tuple[int, ...], index: int) -> bytes:
        start = offsets[index]
        end = offsets[index - 1] if index else self.page_size
        if not _PAGE_HEADER < start < end <= self.page_size:
            raise ValueError(f"item {index} has bad bounds {start}..{end}")
        kind = page[start]
        if kind == H_KEYDATA:
            return bytes(page[start + 1 : end])
        if kind == H_OFFPAGE:
            if end - start < 12:
                raise ValueError(f"item {index}: short off-page reference")
            pgno, total = struct.unpack_from(self.order + "II", page, start + 4)
            return self._overflow(pgno, total)
        raise ValueError(f"item {index} has unsupported type {kind}")

    def _overflow(self, pgno: int, total: int) -> bytes:
        """Concatenate a chain of overflow pages; bounded by the page count (no cycles)."""
        parts: list[bytes] = []
        length = 0
        for _ in range(self.pages):
            if not 0 < pgno < self.pages:
                raise ValueError(f"overflow chain points to page {pgno} outside the file")
            page = self.page(pgno)
            if page[25] != P_OVERFLOW:
                raise ValueError(f"overflow chain reaches page {pgno} of type {page[25]}")
            next_pgno = struct.unpack_from(self.order + "I", page, 16)[0]
            used = struct.unpack_from(self.order + "H", page, 22)[0]
            if _PAGE_HEADER + used > self.page_size:
                raise ValueError(f"overflow page {pgno} claims {used} bytes")
            parts.append(bytes(page[_PAGE_HEADER : _PAGE_HEADER + used]))
            length += used
            if next_pgno == 0 or length >= total:
                break
            pgno = next_pgno
        blob = b"".join(parts)
        if len(blob) < total:
            raise ValueError(f"overflow chain holds {len(blob)} of {total} bytes")
        return blob[:total]
