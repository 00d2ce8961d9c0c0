"""Read the build information the Go linker embeds in every binary (``go version -m``).

Since Go 1.18 the ``.go.buildinfo`` section starts with a 32-byte header (``\\xff Go buildinf:``,
pointer size, flags) followed by two varint-length-prefixed strings: the toolchain version and
the module info text (``path``/``mod``/``dep``/``=>``/``build`` lines framed by 16-byte
sentinels). Older binaries store pointers into the data segment instead; we recognise them and
say so rather than guess. A small ELF reader locates the section so a stray copy of the magic
(the ``go`` tool itself contains one as a constant) is not mistaken for the real header.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

MAGIC = b"\xff Go buildinf:"
_HEADER_SIZE = 32
_FLAG_INLINE = 0x2
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
    section = _elf_section(data, _SECTION)
    if isinstance(section, tuple):
        start, end = section
        pos = _find_header(data, start, end)
        if pos is None:
            raise BuildInfoError(".go.buildinfo section does not start with the Go magic")
        return _decode(data, pos)
    if section is _NOT_FOUND:
        return None  # sections, but no .go.buildinfo: not Go (the linker always writes it)
    # No section headers (stripped with sstrip, packed): scan for an aligned header instead.
    pos = _find_header(data, 0, len(data))
    return None if pos is None else _decode(data, pos)


def _find_header(data: bytes, start: int, end: int) -> int | None:
    pos = data.find(MAGIC, start, end)
    while pos != -1:
        if pos % 16 == 0 and pos + _HEADER_SIZE <= len(data):
            return pos
        pos = data.find(MAGIC, pos + 1, end)
    return None


def _decode(data: bytes, pos: int) -> BuildInfo:
    ptr_size, flags = data[pos + 14], data[pos + 15]
    if not flags & _FLAG_INLINE:
        raise BuildInfoError(
            "build info uses the pointer format of Go before 1.18, which is not supported"
        )
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


def _elf_section(data: bytes, wanted: bytes) -> tuple[int, int] | object | None:
    """File range of the named section; ``_NOT_FOUND`` when the section headers lack it; None
    when there are no usable section headers."""
    if len(data) < 52:
        return None
    klass, encoding = data[4], data[5]
    if klass not in (1, 2) or encoding not in (1, 2):
        return None
    end = "<" if encoding == 1 else ">"
    try:
        if klass == 2:
            shoff, = struct.unpack_from(end + "Q", data, 0x28)
            shentsize, shnum, shstrndx = struct.unpack_from(end + "HHH", data, 0x3A)
            layout = end + "IIQQQQIIQQ"
        else:
            shoff, = struct.unpack_from(end + "I", data, 0x20)
            shentsize, shnum, shstrndx = struct.unpack_from(end + "HHH", data, 0x2E)
            layout = end + "IIIIIIIIII"
        if shoff == 0 or shentsize < struct.calcsize(layout):
            return None
        headers = []
        first = struct.unpack_from(layout, data, shoff)
        if shnum == 0:  # extended numbering: the count lives in section 0's sh_size
            shnum = first[5]
        if shstrndx == 0xFFFF:
            shstrndx = first[6]
        if shnum > 65536 or shoff + shnum * shentsize > len(data) or shstrndx >= shnum:
            return None
        for i in range(shnum):
            fields = struct.unpack_from(layout, data, shoff + i * shentsize)
            headers.append((fields[0], fields[4], fields[5]))  # name offset, file offset, size
        _, str_off, str_size = headers[shstrndx]
        names = data[str_off : str_off + str_size]
        for name_off, offset, size in headers:
            stop = names.find(b"\0", name_off)
            if names[name_off:stop] == wanted and offset + size <= len(data):
                return offset, offset + size
    except struct.error:
        return None
    return _NOT_FOUND
