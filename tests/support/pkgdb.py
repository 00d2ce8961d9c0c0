"""Builders of real package databases for the OS cataloger tests.

- rpm: real ``.rpm`` files from ``rpmbuild``, installed with ``rpm --justdb`` into an sqlite
  rpmdb; the header blobs rpm wrote are then stored in a Berkeley DB hash file by libdb itself
  (Perl's DB_File, part of Debian's perl) and in an NDB file written from the format description
  in rpm's ``lib/backend/ndb/rpmpkg.c``. ``rpm -qa`` is the oracle wherever rpm can read the file.
- apk / dpkg: databases assembled from docker-library/repo-info package listings of real images.
"""

from __future__ import annotations

import re
import sqlite3
import struct
import subprocess
import textwrap
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from imagetrust.image.files import FileEntry, FileTree, Skip

QUERY_FORMAT = "%{NAME}\t%{EPOCH}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\t%{SOURCERPM}\t%{LICENSE}\n"


@dataclass(frozen=True)
class RpmSpec:
    name: str
    version: str
    release: str
    license: str = "MIT"
    epoch: int | None = None
    build_arch: str = "noarch"
    subpackages: tuple[str, ...] = ()
    """Extra binary packages (``%package -n NAME``) built from the same source rpm."""
    description_bytes: int = 0
    """Pad the description to make a header larger than a database page."""

    def text(self) -> str:
        description = "A test package." + " padding" * (self.description_bytes // 8)
        lines = [
            f"Name: {self.name}",
            f"Version: {self.version}",
            f"Release: {self.release}",
            f"Summary: test package {self.name}",
            f"License: {self.license}",
            f"BuildArch: {self.build_arch}",
        ]
        if self.epoch is not None:
            lines.append(f"Epoch: {self.epoch}")
        body = ["", "%description", description, "", "%files", ""]
        for sub in self.subpackages:
            body += [
                f"%package -n {sub}",
                f"Summary: subpackage {sub}",
                "",
                f"%description -n {sub}",
                f"Subpackage {sub}.",
                "",
                f"%files -n {sub}",
                "",
            ]
        return "\n".join(lines + body) + "\n"


def build_rpms(workdir: Path, specs: list[RpmSpec]) -> list[Path]:
    """Build every spec with rpmbuild (no sources, no files: only headers matter)."""
    top = workdir / "rpmbuild"
    for spec in specs:
        spec_path = workdir / f"{spec.name}.spec"
        spec_path.write_text(spec.text())
        subprocess.run(
            ["rpmbuild", "--quiet", "-bb", "--define", f"_topdir {top}",
             "--define", "_build_id_links none", str(spec_path)],
            check=True, capture_output=True,
        )
    return sorted((top / "RPMS").rglob("*.rpm"))


def install_justdb(dbpath: Path, rpms: list[Path], backend: str = "sqlite") -> None:
    """Record ``rpms`` in a fresh rpm database without unpacking anything."""
    dbpath.mkdir(parents=True, exist_ok=True)
    define = ["--define", f"_db_backend {backend}"]
    subprocess.run(["rpm", "--dbpath", str(dbpath), *define, "--initdb"], check=True)
    subprocess.run(
        ["rpm", "--dbpath", str(dbpath), *define, "-i", "--justdb", "--nodeps", "--noscripts",
         "--notriggers", "--ignorearch", "--ignoreos", "--nosignature", "--nodigest",
         *map(str, rpms)],
        check=True, capture_output=True,
    )


def rpm_query_all(dbpath: Path, backend: str = "sqlite") -> list[dict[str, str]]:
    """The oracle: rpm's own reading of the database."""
    out = subprocess.run(
        ["rpm", "--dbpath", str(dbpath), "--define", f"_db_backend {backend}", "-qa",
         "--qf", QUERY_FORMAT],
        check=True, capture_output=True, text=True,
    ).stdout
    keys = ("name", "epoch", "version", "release", "arch", "sourcerpm", "license")
    return [dict(zip(keys, line.split("\t"), strict=True)) for line in out.splitlines() if line]


def sqlite_headers(dbpath: Path) -> list[bytes]:
    """The header blobs rpm stored, in installation order."""
    connection = sqlite3.connect(f"file:{dbpath / 'rpmdb.sqlite'}?mode=ro", uri=True)
    try:
        return [row[0] for row in connection.execute("SELECT blob FROM Packages ORDER BY hnum")]
    finally:
        connection.close()


_PERL_WRITE_BDB = textwrap.dedent(
    r"""
    use strict; use DB_File; use Fcntl;
    my ($path, $pagesize, $lorder, @files) = @ARGV;
    my $info = DB_File::HASHINFO->new();
    $info->{bsize} = $pagesize;
    $info->{lorder} = $lorder;
    my $key = $lorder == 4321 ? 'N' : 'V';
    my %db;
    tie %db, 'DB_File', $path, O_RDWR|O_CREAT, 0644, $info or die "tie: $!";
    my $n = 0;
    foreach my $file (@files) {
        open(my $fh, '<:raw', $file) or die "open: $!";
        local $/; my $blob = <$fh>; close($fh);
        $n++;
        $db{pack($key, $n)} = $blob;
    }
    $db{pack($key, 0)} = pack($key, $n + 1);
    untie %db;
    """
)


def write_bdb(
    path: Path, headers: list[bytes], page_size: int = 4096, big_endian: bool = False
) -> None:
    """A Berkeley DB hash ``Packages`` written by libdb 5.3, keyed like rpm's (record numbers
    from 1 in the writing machine's byte order, record 0 holding the next free number);
    ``big_endian`` makes the file a big-endian machine would have written."""
    blobs: list[str] = []
    for i, blob in enumerate(headers, start=1):
        blob_file = path.parent / f".header-{i}"
        blob_file.write_bytes(blob)
        blobs.append(str(blob_file))
    subprocess.run(
        ["perl", "-e", _PERL_WRITE_BDB, str(path), str(page_size),
         "4321" if big_endian else "1234", *blobs],
        check=True, capture_output=True,
    )
    for blob_path in blobs:
        Path(blob_path).unlink()


def write_ndb(path: Path, headers: list[bytes], timestamp: int = 1_700_000_000) -> None:
    """An NDB ``Packages.db`` laid out as rpm's rpmpkg.c writes it (one slot page)."""
    page, block = 4096, 16
    out = bytearray(page)
    struct.pack_into("<5I", out, 0, int.from_bytes(b"RpmP", "little"), 0, 1, 1, len(headers) + 1)
    for slot in range(2, page // 16):
        struct.pack_into("<I", out, slot * 16, int.from_bytes(b"Slot", "little"))
    for index, blob in enumerate(headers, start=1):
        blkoff = len(out) // block
        blkcnt = (16 + len(blob) + 12 + block - 1) // block
        head = struct.pack("<4I", int.from_bytes(b"BlbS", "little"), index, timestamp, len(blob))
        padding = b"\0" * (blkcnt * block - 16 - len(blob) - 12)
        body = head + blob + padding
        tail = struct.pack("<3I", zlib.adler32(body), len(blob), int.from_bytes(b"BlbE", "little"))
        out += body + tail
        struct.pack_into("<4I", out, (index + 1) * 16, int.from_bytes(b"Slot", "little"), index,
                         blkoff, blkcnt)
    path.write_bytes(bytes(out))


@dataclass
class ApkListing:
    name: str
    version: str
    license: str


def parse_repo_info_apk(markdown: str) -> list[ApkListing]:
    """``### `apk` package: `NAME``` sections with their ``NAME-VERSION license:`` blocks."""
    listings = []
    for section in re.split(r"^### `apk` package: ", markdown, flags=re.M)[1:]:
        name = section.split("`")[1]
        match = re.search(rf"^{re.escape(name)}-(\S+) description:", section, re.M)
        licence = re.search(r" license:\n(.+)\n", section)
        assert match and licence, f"unexpected repo-info layout for {name}"
        listings.append(ApkListing(name, match.group(1), licence.group(1).strip()))
    return listings


def build_apk_installed(listings: list[ApkListing], arch: str = "x86_64") -> bytes:
    """An apk ``installed`` database in apk-tools' record format (with file entries, as real
    databases have, to exercise keys the cataloger ignores)."""
    records = [
        f"C:Q1{'A' * 27}=\nP:{item.name}\nV:{item.version}\nA:{arch}\nS:1000\nI:4096\n"
        f"T:{item.name} package\nU:https://alpinelinux.org\nL:{item.license}\n"
        f"o:{item.name}\nm:Test <test@example.org>\nt:1700000000\nc:0123abcd\n"
        f"F:usr/share/{item.name}\nR:README\na:0:0:644\n"
        for item in listings
    ]
    return ("\n".join(records) + "\n").encode()


@dataclass
class DpkgListing:
    name: str
    arch: str | None
    version: str
    source: str
    source_version: str
    licenses: list[str] = field(default_factory=list)


def parse_repo_info_dpkg(markdown: str) -> list[DpkgListing]:
    """Binary packages of each ``### `dpkg` source package: `SRC=VER``` section."""
    listings = []
    for section in re.split(r"^### `dpkg` source package: ", markdown, flags=re.M)[1:]:
        source, source_version = section.split("`")[1].split("=", 1)
        binaries = re.search(r"Binary Packages:\n\n((?:- `.+`\n)+)", section)
        assert binaries, f"unexpected repo-info layout for {source}"
        licences = re.search(r"Licenses: .*\n\n((?:- `.+`\n)+)", section)
        names = re.findall(r"^- `(.+)`$", licences.group(1), re.M) if licences else []
        for spec in re.findall(r"^- `(.+)`$", binaries.group(1), re.M):
            package, version = spec.split("=", 1)
            name, _, arch = package.partition(":")
            listings.append(
                DpkgListing(name, arch or None, version, source, source_version, list(names))
            )
    return listings


def build_dpkg_status(listings: list[DpkgListing]) -> bytes:
    """A dpkg status file in dpkg's field order, writing ``Source:`` the way dpkg does (only
    when the source name or version differs from the binary's)."""
    stanzas = []
    for item in listings:
        lines = [
            f"Package: {item.name}",
            "Status: install ok installed",
            "Priority: optional",
            "Section: libs",
            "Installed-Size: 100",
            "Maintainer: Test Maintainer <test@example.org>",
            f"Architecture: {item.arch or 'all'}",
            "Multi-Arch: same",
        ]
        if item.source != item.name or item.source_version != item.version:
            source = item.source
            if item.source_version != item.version:
                source += f" ({item.source_version})"
            lines.append(f"Source: {source}")
        lines += [
            f"Version: {item.version}",
            "Depends: libc6 (>= 2.34)",
            f"Description: {item.name}",
            " Long description line.",
            " .",
            " Another paragraph.",
        ]
        stanzas.append("\n".join(lines) + "\n")
    return "\n".join(stanzas).encode()


def fake_diff_id(layer: int) -> str:
    return "sha256:" + f"{layer:02d}" * 32


def make_tree(
    files: dict[str, bytes | tuple[bytes, int] | tuple[str, str, int]],
    skips: tuple[Skip, ...] = (),
    *,
    max_size: int | None = None,
) -> FileTree:
    """A merged tree as the layer reader builds it. Values: ``data`` (layer 0), ``(data,
    layer)``, or ``("symlink", target, layer)``. Files over ``max_size`` are listed truncated."""
    entries: dict[str, FileEntry] = {}
    for path, value in files.items():
        if isinstance(value, bytes):
            value = (value, 0)
        if len(value) == 3:
            _, target, layer = value
            entries[path] = FileEntry(path, "symlink", len(str(target)), 0o777, int(layer),
                                      fake_diff_id(int(layer)), link_target=str(target))
            continue
        data, layer = value
        assert isinstance(data, bytes) and isinstance(layer, int)
        too_big = max_size is not None and len(data) > max_size
        entries[path] = FileEntry(path, "file", len(data), 0o644, layer, fake_diff_id(layer),
                                  data=None if too_big else data, truncated=too_big)
    return FileTree(entries, skips)
