"""Read the build information the Go linker embeds in every binary (``go version -m``).

Since Go 1.18 the ``.go.buildinfo`` section starts with a 32-byte header (``\\xff Go buildinf:``,
pointer size, flags) followed by two varint-length-prefixed strings: the toolchain version and
the module info text (``path``/``mod``/``dep``/``=>``/``build`` lines framed by 16-byte
sentinels). Go 1.13–1.17 wrote the same header without the inline flag, followed by two pointers
to Go string headers (data pointer, length) in the data segment; those are resolved through the
ELF program headers while the binary is at hand and rewritten into the inline form, so both
formats leave the same small excerpt and decode the same way. A small ELF reader locates the
section so a stray copy of the magic (the ``go`` tool itself contains one as a constant) is
not mistaken for the real header.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

MAGIC = b"\xff Go buildinf:"
_HEADER_SIZE = 32
_FLAG_BIG_ENDIAN = 0x1
_FLAG_INLINE = 0x2
_PT_LOAD = 1
_MAX_OLD_STRING = 1 << 20
"""Upper bound for a pointer-format string (module lists are a few KB): corrupt lengths stop."""
_ELF_MAGIC = b"\x7fELF"
_SECTION = b".go.buildinfo"
_NOT_FOUND = object()


class BuildInfoError(ValueError):
    """A Go binary whose build information cannot be decoded (reason in the message)."""


@dataclass(frozen=True, slots=True)
class Module:
    """One ``mod``/``dep`` line, with its ``=>`` replacement when there is one."""

    path: str
    version: str
    sum: str | None = None
    replace: Module | None = None


@dataclass(frozen=True, slots=True)
class BuildInfo:
    go_version: str
    """Toolchain that built the binary, as recorded (``go1.19.8``, ``go1.22.0 X:boringcrypto``)."""
    path: str | None
    """Main package path (``github.com/containers/skopeo/cmd/skopeo``)."""
    main: Module | None
    """Main module; None for GOPATH-mode builds such as Debian's packaged Go programs."""
    deps: tuple[Module, ...]
    settings: tuple[tuple[str, str], ...]


def is_elf(data: bytes) -> bool:
    return data[:4] == _ELF_MAGIC


def read_build_info(data: bytes) -> BuildInfo | None:
    """Build info of an ELF binary; None when it is not a Go binary.

    Raises :class:`BuildInfoError` for a Go binary whose build info cannot be decoded.
    """
    if not is_elf(data):
        return None
    section = _elf_section(_bytes_reader(data), len(data), _SECTION)
    if isinstance(section, tuple):
        start, end = section
        pos = _find_header(data, start, end)
        if pos is None:
            raise BuildInfoError(".go.buildinfo section does not start with the Go magic")
    elif section is _NOT_FOUND:
        return None  # sections, but no .go.buildinfo: not Go (the linker always writes it)
    else:  # no section headers (stripped with sstrip, packed): scan for an aligned header
        pos = _find_header(data, 0, len(data))
        if pos is None:
            return None
    if not data[pos + 15] & _FLAG_INLINE:
        return _decode(_inline(data[pos:pos + _HEADER_SIZE], _bytes_reader(data), len(data)), 0)
    return _decode(data, pos)


def extract_build_info(path: str, stream: BinaryIO) -> bytes | None:
    """``FileRequest.extract`` hook: keep only the build info of a Go binary, not the binary.

    Returns the bytes from the build-info header to the end of its strings (an *excerpt*, read
    by :func:`read_build_info_excerpt`), ``b""`` for a ``.go.buildinfo`` section without the
    magic (so the cataloger can say so), or None for anything that is not a Go ELF binary. On a
    seekable stream only the ELF header, section table, section names and that one section
    are read; otherwise the binary passes through memory once and is dropped.
    """
    head = stream.read(64)
    if not is_elf(head):
        return None
    try:
        if stream.seekable():
            size = stream.seek(0, io.SEEK_END)

            def read_at(offset: int, count: int) -> bytes:
                stream.seek(offset)
                return stream.read(count)

            section = _elf_section(read_at, size, _SECTION)
            if isinstance(section, tuple):
                start, end = section
                return _excerpt(read_at(start, end - start), start, read_at, size)
            if section is _NOT_FOUND:
                return None
            stream.seek(0)
            data = stream.read()
        else:
            data = head + stream.read()
            section = _elf_section(_bytes_reader(data), len(data), _SECTION)
            if isinstance(section, tuple):
                start, end = section
                return _excerpt(data[start:end], start, _bytes_reader(data), len(data))
            if section is _NOT_FOUND:
                return None
    except struct.error:
        return None
    pos = _find_header(data, 0, len(data))
    if pos is None:
        return None
    return _excerpt(data[pos:], pos, _bytes_reader(data), len(data))


def _excerpt(region: bytes, base: int, read_at: Callable[[int, int], bytes], size: int) -> bytes:
    """``region`` (found at file offset ``base``) cut to the header and its two strings; a
    pointer-format header is resolved (``read_at`` reads the whole file) into the inline form."""
    pos = _find_header(region, 0, len(region), base)
    if pos is None:
        return b""
    if not region[pos + 15] & _FLAG_INLINE:
        try:
            return _inline(region[pos:pos + _HEADER_SIZE], read_at, size)
        except BuildInfoError:
            return region[pos:pos + _HEADER_SIZE]  # decoding will report what is wrong
    try:
        _, offset = _read_string(region, pos + _HEADER_SIZE)
        _, end = _read_string(region, offset)
    except BuildInfoError:
        end = len(region)  # decoding will report what is wrong
    return region[pos:end]


def read_build_info_excerpt(excerpt: bytes) -> BuildInfo:
    """Decode what :func:`extract_build_info` kept (raises :class:`BuildInfoError`)."""
    if not excerpt.startswith(MAGIC) or len(excerpt) < _HEADER_SIZE:
        raise BuildInfoError(".go.buildinfo section does not start with the Go magic")
    return _decode(excerpt, 0)


def _bytes_reader(data: bytes) -> Callable[[int, int], bytes]:
    return lambda offset, count: data[offset : offset + count]


def _find_header(data: bytes, start: int, end: int, base: int = 0) -> int | None:
    """First 16-byte aligned magic (alignment counted from file offset ``base``)."""
    pos = data.find(MAGIC, start, end)
    while pos != -1:
        if (base + pos) % 16 == 0 and pos + _HEADER_SIZE <= len(data):
            return pos
        pos = data.find(MAGIC, pos + 1, end)
    return None


def _decode(data: bytes, pos: int) -> BuildInfo:
    ptr_size, flags = data[pos + 14], data[pos + 15]
    if not flags & _FLAG_INLINE:
        raise BuildInfoError("pointer-format build info (Go before 1.18) could not be resolved")
    if ptr_size not in (4, 8):
        raise BuildInfoError(f"build info declares an invalid pointer size {ptr_size}")
    version, offset = _read_string(data, pos + _HEADER_SIZE)
    modinfo, _ = _read_string(data, offset)
    if not version:
        raise BuildInfoError("build info has an empty Go version")
    try:
        return _parse_modinfo(version.decode(), _strip_sentinels(modinfo).decode())
    except UnicodeDecodeError as exc:
        raise BuildInfoError(f"build info is not UTF-8: {exc}") from None


def _inline(header: bytes, read_at: Callable[[int, int], bytes], size: int) -> bytes:
    """:func:`_pointer_strings`, its errors naming the format."""
    try:
        return _pointer_strings(header, read_at, size)
    except BuildInfoError as exc:
        raise BuildInfoError(f"pointer-format build info (Go before 1.18): {exc}") from None


def _pointer_strings(header: bytes, read_at: Callable[[int, int], bytes], size: int) -> bytes:
    """The inline-format excerpt for a pointer-format header (Go 1.13–1.17).

    After the 16 header bytes come two pointers, to the toolchain version's and the module
    info's string headers; each string header is (data pointer, length). Virtual addresses are
    mapped to file offsets with the ``PT_LOAD`` program headers.
    """
    ptr_size, flags = header[14], header[15]
    if ptr_size not in (4, 8) or len(header) < 16 + 2 * ptr_size:
        raise BuildInfoError(f"build info declares an invalid pointer size {ptr_size}")
    order = ">" if flags & _FLAG_BIG_ENDIAN else "<"
    word = order + ("Q" if ptr_size == 8 else "I")
    segments = _load_segments(read_at, size)

    def at(address: int, count: int) -> bytes:
        for vaddr, offset, filesz in segments:
            if vaddr <= address and address + count <= vaddr + filesz:
                blob = read_at(offset + address - vaddr, count)
                if len(blob) == count:
                    return blob
        raise BuildInfoError(f"build info pointer {address:#x} is outside the file's segments")

    strings = []
    for index in range(2):
        pointer, = struct.unpack_from(word, header, 16 + index * ptr_size)
        data, length = struct.unpack(order + word[1] * 2, at(pointer, 2 * ptr_size))
        if length > _MAX_OLD_STRING:
            raise BuildInfoError("build info string is implausibly long")
        strings.append(at(data, length) if length else b"")
    out = bytearray(MAGIC + bytes([ptr_size, flags | _FLAG_INLINE]))
    out += b"\0" * (_HEADER_SIZE - len(out))
    for text in strings:
        out += _uvarint(len(text)) + text
    return bytes(out)


def _uvarint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _load_segments(
    read_at: Callable[[int, int], bytes], size: int
) -> list[tuple[int, int, int]]:
    """(virtual address, file offset, file size) of every ``PT_LOAD`` program header."""
    head = read_at(0, 64)
    if len(head) < 52 or head[:4] != _ELF_MAGIC or head[4] not in (1, 2):
        raise BuildInfoError("pointer-format build info outside an ELF file")
    end = "<" if head[5] == 1 else ">"
    try:
        if head[4] == 2:
            phoff, = struct.unpack_from(end + "Q", head, 0x20)
            phentsize, phnum = struct.unpack_from(end + "HH", head, 0x36)
            layout, fields = end + "IIQQQQQQ", (2, 3, 5)
        else:
            phoff, = struct.unpack_from(end + "I", head, 0x1C)
            phentsize, phnum = struct.unpack_from(end + "HH", head, 0x2A)
            layout, fields = end + "IIIIIIII", (1, 2, 4)
        if phentsize < struct.calcsize(layout) or phoff + phnum * phentsize > size:
            raise BuildInfoError("ELF program headers lie outside the file")
        table = read_at(phoff, phnum * phentsize)
        out = []
        for i in range(phnum):
            entry = struct.unpack_from(layout, table, i * phentsize)
            if entry[0] == _PT_LOAD:
                offset, vaddr, filesz = (entry[k] for k in fields)
                out.append((vaddr, offset, filesz))
        return out
    except struct.error:
        raise BuildInfoError("ELF program headers are truncated") from None


def _read_string(data: bytes, offset: int) -> tuple[bytes, int]:
    """A uvarint length then that many bytes; returns (bytes, offset after them)."""
    length = shift = 0
    while True:
        if offset >= len(data) or shift > 63:
            raise BuildInfoError("build info string length is truncated")
        byte = data[offset]
        offset += 1
        length |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    if offset + length > len(data):
        raise BuildInfoError("build info string runs past the end of the file")
    return data[offset : offset + length], offset + length


def _strip_sentinels(modinfo: bytes) -> bytes:
    """cmd/go frames modinfo with 16 random-looking bytes on each side."""
    if len(modinfo) >= 33 and modinfo[-17] == ord("\n"):
        return modinfo[16:-16]
    return modinfo


def _parse_modinfo(version: str, text: str) -> BuildInfo:
    path: str | None = None
    main: Module | None = None
    deps: list[Module] = []
    settings: list[tuple[str, str]] = []
    for line in text.splitlines():
        key, _, rest = line.partition("\t")
        fields = rest.split("\t")
        if key == "path":
            path = rest
        elif key in ("mod", "dep"):
            if len(fields) < 2 or not fields[0]:
                raise BuildInfoError(f"malformed {key} line in build info: {line!r}")
            module = Module(fields[0], fields[1], _checksum(fields))
            if key == "mod":
                main = module
            else:
                deps.append(module)
        elif key == "=>":
            if len(fields) < 2 or (not deps and main is None):
                raise BuildInfoError(f"malformed replacement line in build info: {line!r}")
            repl = Module(fields[0], fields[1], _checksum(fields))
            if deps:
                deps[-1] = Module(deps[-1].path, deps[-1].version, deps[-1].sum, repl)
            elif main is not None:
                main = Module(main.path, main.version, main.sum, repl)
        elif key == "build":
            name, _, value = rest.partition("=")
            settings.append((name, value))
    return BuildInfo(version, path, main, tuple(deps), tuple(settings))


def _checksum(fields: list[str]) -> str | None:
    return fields[2] if len(fields) > 2 and fields[2] else None


def _elf_section(
    read_at: Callable[[int, int], bytes], size: int, wanted: bytes
) -> tuple[int, int] | object | None:
    """File range of the named section; ``_NOT_FOUND`` when the section headers lack it; None
    when there are no usable section headers. ``read_at(offset, count)`` reads the file."""
    head = read_at(0, 64)
    if len(head) < 52:
        return None
    klass, encoding = head[4], head[5]
    if klass not in (1, 2) or encoding not in (1, 2):
        return None
    end = "<" if encoding == 1 else ">"
    try:
        if klass == 2:
            shoff, = struct.unpack_from(end + "Q", head, 0x28)
            shentsize, shnum, shstrndx = struct.unpack_from(end + "HHH", head, 0x3A)
            layout = end + "IIQQQQIIQQ"
        else:
            shoff, = struct.unpack_from(end + "I", head, 0x20)
            shentsize, shnum, shstrndx = struct.unpack_from(end + "HHH", head, 0x2E)
            layout = end + "IIIIIIIIII"
        if shoff == 0 or shentsize < struct.calcsize(layout) or shoff + shentsize > size:
            return None
        first = struct.unpack_from(layout, read_at(shoff, shentsize))
        if shnum == 0:  # extended numbering: the count lives in section 0's sh_size
            shnum = first[5]
        if shstrndx == 0xFFFF:
            shstrndx = first[6]
        if shnum > 65536 or shoff + shnum * shentsize > size or shstrndx >= shnum:
            return None
        table = read_at(shoff, shnum * shentsize)
        headers = []
        for i in range(shnum):
            fields = struct.unpack_from(layout, table, i * shentsize)
            headers.append((fields[0], fields[4], fields[5]))  # name offset, file offset, size
        _, str_off, str_size = headers[shstrndx]
        names = read_at(str_off, min(str_size, max(0, size - str_off)))
        for name_off, offset, length in headers:
            stop = names.find(b"\0", name_off)
            if names[name_off:stop] == wanted and offset + length <= size:
                return offset, offset + length
    except struct.error:
        return None
    return _NOT_FOUND
