"""The hand-written tar header walker: same members as Python's tarfile and GNU tar, hostile
headers refused, both on seekable (uncompressed) and forward-only (decompressing) streams."""

from __future__ import annotations

import gzip
import io
import subprocess
import tarfile
from pathlib import Path

import pytest

from imagetrust.tarwalk import TarFormatError, TarHostileError, TarMember, TarWalker

LONG = "usr/share/" + "d" * 120 + "/" + "f" * 110 + ".txt"


def _archive(fmt: int) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=fmt) as tar:
        for name, data in [("etc/os-release", b"ID=debian\n"), (LONG, b"long name"),
                           ("big.bin", b"x" * 70_000), ("empty", b"")]:
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
        for name, kind, target in [("bin", tarfile.SYMTYPE, "usr/bin"),
                                   ("etc/alias", tarfile.LNKTYPE, "etc/os-release"),
                                   ("var", tarfile.DIRTYPE, ""),
                                   ("lnk-" + "l" * 120, tarfile.SYMTYPE, "t" * 150)]:
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, target
            tar.addfile(info)
    return out.getvalue()


def _walk(data: bytes, seekable: bool) -> list[tuple[TarMember, bytes]]:
    """Walk a forward-only stream, or a seekable one both ways (read, and sliced from a
    mapping), which must give the same members or the same error."""
    if not seekable:
        return _walk_stream(_ForwardOnly(data), seekable=False)
    outcomes: list[list[tuple[TarMember, bytes]] | Exception] = []
    for stream in (io.BytesIO(data), _Mapped(data)):
        try:
            outcomes.append(_walk_stream(stream, seekable=True))
        except (TarFormatError, TarHostileError) as error:
            outcomes.append(error)
    read, mapped = outcomes
    if isinstance(read, Exception):
        assert type(mapped) is type(read) and str(mapped) == str(read)
        raise read
    assert mapped == read
    return read


def _walk_stream(stream: io.RawIOBase | io.BufferedIOBase, seekable: bool
                 ) -> list[tuple[TarMember, bytes]]:
    walker = TarWalker(stream, seekable=seekable, header_limit=1 << 20)  # type: ignore[arg-type]
    return [(m, walker.read_data() if m.is_regular else b"") for m in walker]


class _Mapped(io.BytesIO):
    """A stream that also exposes its bytes as a buffer, as a mapped layer does; the buffer
    starts with junk before the stream's first byte, which the walker must never read."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.mapping = (b"\xff" * 100 + data, 100)


class _ForwardOnly(io.RawIOBase):
    """A decompressor-like stream: read and readinto only."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        self._inner = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        return self._inner.readinto(buffer)


def _oracle(data: bytes) -> list[tuple[str, int, int, str, bytes]]:
    rows = []
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for info in tar:
            content = tar.extractfile(info).read() if info.isreg() else b""  # type: ignore[union-attr]
            rows.append((info.name, ord(info.type), info.size if info.isreg() else 0,
                         info.linkname, content))
    return rows


@pytest.mark.parametrize("fmt", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
@pytest.mark.parametrize("seekable", [True, False])
def test_members_match_tarfile(fmt: int, seekable: bool) -> None:
    data = _archive(fmt)
    got = [(m.name, m.type, m.size, m.linkname, content) for m, content in _walk(data, seekable)]
    assert got == _oracle(data)


def test_gnu_tar_archive(tmp_path: Path) -> None:
    """An archive written by GNU tar itself (long names as ././@LongLink, dirs, a symlink)."""
    root = tmp_path / "root"
    (root / "a" / ("n" * 150)).mkdir(parents=True)
    (root / "a" / ("n" * 150) / "file").write_bytes(b"content")
    (root / "link").symlink_to("a")
    archive = tmp_path / "t.tar"
    subprocess.run(["tar", "-C", str(root), "--format=gnu", "-cf", str(archive), "."], check=True)
    data = archive.read_bytes()
    for seekable in (True, False):
        got = [(m.name, m.type, m.size, m.linkname, c) for m, c in _walk(data, seekable)]
        assert got == _oracle(data)


def test_sizes_of_fifos_and_devices_are_ignored_as_tar_does() -> None:
    """A FIFO or device header claiming data must not make the walker skip the next member:
    tarfile (and Go's archive/tar) read the member after it, so a skip would hide a file."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, kind in [("run/fifo", tarfile.FIFOTYPE), ("dev/null", tarfile.CHRTYPE),
                           ("dev/sda", tarfile.BLKTYPE)]:
            info = tarfile.TarInfo(name)
            info.type, info.size = kind, 1024  # a size in the header, no data after it
            tar.addfile(info)
        status = tarfile.TarInfo("var/lib/dpkg/status")
        status.size = 9
        tar.addfile(status, io.BytesIO(b"Package: "))
    data = out.getvalue()
    for seekable in (True, False):
        got = [(m.name, m.type, m.size, m.linkname, c) for m, c in _walk(data, seekable)]
        assert got == _oracle(data)
        assert got[-1][0] == "var/lib/dpkg/status" and got[-1][4] == b"Package: "


def test_global_pax_headers_do_not_rename_later_members() -> None:
    """Go's archive/tar (docker, containerd) returns a global header as an entry and applies it to
    nothing; a global ``path`` must not make the scan see files the runtime does not."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT,
                      pax_headers={"path": "manifest.json", "comment": "x"}) as tar:
        for name in ("a.txt", "b.txt"):
            info = tarfile.TarInfo(name)
            info.size = 1
            tar.addfile(info, io.BytesIO(b"1"))
    data = out.getvalue()
    assert data[156] == ord("g")  # the archive does start with a global header
    for seekable in (True, False):
        assert [m.name for m, _ in _walk(data, seekable)] == ["a.txt", "b.txt"]


def test_absurd_pax_header_is_hostile() -> None:
    info = tarfile.TarInfo("x")
    header = bytearray(info.tobuf(format=tarfile.USTAR_FORMAT))
    header[156] = ord("x")
    header[124:136] = b"%011o\0" % (1 << 30)
    header[148:156] = b"        "
    header[148:156] = b"%06o\0 " % sum(header)
    with pytest.raises(TarHostileError):
        _walk(bytes(header) + b"\0" * 1024, True)


def test_negative_base256_size_is_hostile() -> None:
    header = bytearray(tarfile.TarInfo("x").tobuf(format=tarfile.GNU_FORMAT))
    header[124:136] = b"\xff" * 12
    header[148:156] = b"        "
    header[148:156] = b"%06o\0 " % sum(header)
    with pytest.raises(TarHostileError):
        _walk(bytes(header) + b"\0" * 1024, True)


def test_bad_checksum_and_truncation_are_format_errors() -> None:
    data = bytearray(_archive(tarfile.PAX_FORMAT))
    damaged = bytearray(data)
    damaged[10] ^= 0xFF
    with pytest.raises(TarFormatError, match="checksum"):
        _walk(bytes(damaged), True)
    for seekable in (True, False):
        with pytest.raises(TarFormatError):
            _walk(bytes(data[:1200]), seekable)  # inside the first member's data or header
        with pytest.raises(TarFormatError):
            _walk(bytes(data[:700]), seekable)  # half a header


def test_data_past_the_end_is_caught_on_both_stream_kinds() -> None:
    info = tarfile.TarInfo("huge")
    info.size = 10**12
    data = info.tobuf(format=tarfile.GNU_FORMAT) + b"x" * 512
    for seekable in (True, False):
        with pytest.raises(TarFormatError):
            _walk(data, seekable)


def test_empty_stream_and_missing_end_blocks_are_accepted() -> None:
    assert _walk(b"", True) == []
    data = _archive(tarfile.GNU_FORMAT)
    trimmed = data.rstrip(b"\0")
    trimmed += b"\0" * (-len(trimmed) % 512)
    assert [m.name for m, _ in _walk(trimmed, False)] == [row[0] for row in _oracle(data)]


def test_member_stream_reads_and_seeks_within_the_member() -> None:
    data = _archive(tarfile.GNU_FORMAT)
    walker = TarWalker(io.BytesIO(data), seekable=True, header_limit=1 << 20)  # type: ignore[arg-type]
    for member in walker:
        if member.name == "big.bin":
            stream = walker.data_stream()
            assert stream.read(3) == b"xxx"
            assert stream.seek(0, io.SEEK_END) == 70_000
            stream.seek(69_998)
            assert stream.read(10) == b"xx"
    gz = gzip.compress(data)
    forward = TarWalker(gzip.GzipFile(fileobj=io.BytesIO(gz)), seekable=False,  # type: ignore[arg-type]
                        header_limit=1 << 20)
    names = []
    for member in forward:
        names.append(member.name)
        if member.name == "big.bin":
            stream = forward.data_stream()
            assert not stream.seekable() and len(stream.read()) == 70_000
    assert names == [row[0] for row in _oracle(data)]


# -- global pax headers exposed, end of archive required ------------------------------------------


def test_global_pax_comment_is_exposed_but_not_applied() -> None:
    """``git archive`` (GitHub's tarballs) puts the commit in a global ``comment``: readable, while
    a global ``path`` still renames nothing (the oracle: tarfile's own pax_headers)."""
    out = io.BytesIO()
    commit = "c" * 40
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT,
                      pax_headers={"comment": commit, "path": "evil", "mtime": "1"}) as tar:
        info = tarfile.TarInfo("a.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"1"))
    data = out.getvalue()
    with tarfile.open(fileobj=io.BytesIO(data)) as oracle:
        expected = {k: v for k, v in oracle.pax_headers.items() if k in ("comment", "path")}
    for seekable in (True, False):
        stream = io.BytesIO(data) if seekable else _ForwardOnly(data)
        walker = TarWalker(stream, seekable=seekable)  # type: ignore[arg-type]
        assert [m.name for m in walker] == ["a.txt"]
        assert dict(walker.global_pax) == expected == {"comment": commit, "path": "evil"}


def _walk_strict(data: bytes) -> list[str]:
    walker = TarWalker(_ForwardOnly(data), seekable=False, require_end=True)  # type: ignore[arg-type]
    return [m.name for m in walker]


def test_require_end_wants_two_zero_blocks_then_only_zeros() -> None:
    data = _archive(tarfile.GNU_FORMAT)
    names = [row[0] for row in _oracle(data)]
    assert _walk_strict(data) == names
    assert _walk_strict(data + b"\0" * 10_240) == names  # padding to a record is fine
    body = data.rstrip(b"\0")
    body += b"\0" * (-len(body) % 512)
    with pytest.raises(TarFormatError, match="lacks the end-of-archive marker"):
        _walk_strict(body)
    with pytest.raises(TarFormatError, match="lacks the end-of-archive marker"):
        _walk_strict(body + b"\0" * 512)  # one zero block is not the end marker
    garbage_at = len(body) + 1024
    with pytest.raises(TarFormatError, match=f"unreadable tar header at byte {garbage_at}"):
        _walk_strict(body + b"\0" * 1024 + b"\1" + b"\0" * 1023)
    assert _walk(body, False) == _walk(data, False)[: len(names)]  # the default stays lenient


def test_damaged_header_names_its_position() -> None:
    data = bytearray(_archive(tarfile.GNU_FORMAT))
    with tarfile.open(fileobj=io.BytesIO(bytes(data))) as tar:
        offset = tar.getmember("big.bin").offset
    data[offset + 148 : offset + 156] = b"9999999\0"
    with pytest.raises(TarFormatError, match=f"unreadable tar header at byte {offset} "):
        _walk(bytes(data), True)
