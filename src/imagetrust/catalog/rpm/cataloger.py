"""Installed rpm packages from whichever database backend the image uses.

``Package.version`` is rpm's ``[EPOCH:]VERSION-RELEASE`` (what rpmvercmp-based matching and Red Hat
advisories compare); the purl carries ``VERSION-RELEASE`` with ``epoch=``, ``arch=`` and
``distro=<id>-<version_id>`` qualifiers under a vendor namespace (purl-spec rpm type). The
database is one file, so every package is located at it, in the layer that last wrote it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from types import MappingProxyType

from imagetrust.catalog.model import CatalogSkip, Location, OSInfo, Package
from imagetrust.catalog.purl import make_purl
from imagetrust.catalog.rpm import header as tags
from imagetrust.catalog.rpm.bdb import iter_bdb
from imagetrust.catalog.rpm.header import RpmHeaderError, parse_header
from imagetrust.catalog.rpm.ndb import iter_ndb
from imagetrust.catalog.rpm.records import RawRecord
from imagetrust.catalog.rpm.sqlite import iter_sqlite
from imagetrust.image.files import FileEntry, FileRequest, FileTree

DB_DIRS = ("var/lib/rpm", "usr/lib/sysimage/rpm")
# Preference order when one directory holds several (a migrated image keeps the stale file).
DB_FILES: tuple[tuple[str, Callable[[bytes], Iterator[RawRecord]]], ...] = (
    ("rpmdb.sqlite", iter_sqlite),
    ("Packages.db", iter_ndb),
    ("Packages", iter_bdb),
)
MAX_DB_SIZE = 256 * 1024 * 1024

_NAMESPACES = {
    "rhel": "redhat",
    "ol": "oracle",
    "amzn": "amazon",
    "sles": "suse",
    "sle-micro": "suse",
    "opensuse-leap": "opensuse",
    "opensuse-tumbleweed": "opensuse",
    "cbl-mariner": "mariner",
}
_VENDORS = (
    ("red hat", "redhat"),
    ("fedora", "fedora"),
    ("centos", "centos"),
    ("rocky", "rocky"),
    ("almalinux", "almalinux"),
    ("oracle", "oracle"),
    ("amazon", "amazon"),
    ("suse", "suse"),
)
_SOURCE_RPM = re.compile(r"^(?P<name>.+)-(?P<version>[^-]+-[^-]+)\.(?:no)?src\.rpm$")


class RpmCataloger:
    """Installed rpm packages: sqlite (rpm >= 4.16), NDB (SUSE) and Berkeley DB hash."""

    name = "rpm"

    def request(self) -> FileRequest:
        patterns = [f"{d}/{f}" for d in DB_DIRS for f, _ in DB_FILES]
        patterns += [f"{d}/rpmdb.sqlite-wal" for d in DB_DIRS]
        return FileRequest(patterns=tuple(patterns), max_size=MAX_DB_SIZE)

    def catalog(
        self, files: FileTree, os_info: OSInfo | None
    ) -> tuple[Sequence[Package], Sequence[CatalogSkip]]:
        packages: list[Package] = []
        skips: list[CatalogSkip] = []
        for directory in DB_DIRS:
            chosen: str | None = None
            for filename, reader in DB_FILES:
                entry = files.get(f"{directory}/{filename}")
                if entry is None or entry.kind not in ("file", "hardlink"):
                    continue
                if chosen is not None:
                    skips.append(CatalogSkip(self.name, entry.path, f"ignored: {chosen} is used"))
                    continue
                chosen = filename
                self._read_db(files, entry, reader, os_info, packages, skips)
            wal = files.get(f"{directory}/rpmdb.sqlite-wal")
            if chosen == "rpmdb.sqlite" and wal is not None and wal.size > 0:
                reason = "write-ahead log not checkpointed: packages added since are not seen"
                skips.append(CatalogSkip(self.name, wal.path, reason))
        return packages, skips

    def _read_db(
        self,
        files: FileTree,
        entry: FileEntry,
        reader: Callable[[bytes], Iterator[RawRecord]],
        os_info: OSInfo | None,
        packages: list[Package],
        skips: list[CatalogSkip],
    ) -> None:
        data = files.read(entry.path)
        if data is None:
            reason = "too large to read" if entry.truncated else "content unavailable"
            skips.append(CatalogSkip(self.name, entry.path, f"rpm database {reason}"))
            return
        location = Location(entry.path, entry.layer_index, entry.diff_id)
        for record in reader(data):
            if record.blob is None:
                skips.append(CatalogSkip(self.name, entry.path, f"{record.key}: {record.error}"))
                continue
            try:
                package = _package(parse_header(record.blob), location, os_info)
            except RpmHeaderError as error:
                skips.append(CatalogSkip(self.name, entry.path, f"record {record.key}: {error}"))
                continue
            if package is not None:
                packages.append(package)


def _package(header: tags.RpmHeader, location: Location, os_info: OSInfo | None) -> Package | None:
    name = header.get(tags.TAG_NAME)
    version = header.get(tags.TAG_VERSION)
    release = header.get(tags.TAG_RELEASE)
    if not name or not version or release is None:
        raise RpmHeaderError("header lacks NAME, VERSION or RELEASE")
    if name == "gpg-pubkey":
        return None  # imported signing keys are stored as pseudo-packages, not software
    arch = header.get(tags.TAG_ARCH) or None
    epoch = header.epoch
    evr = f"{version}-{release}" if release else version
    full = f"{epoch}:{evr}" if epoch is not None else evr
    source_name, source_version = name, evr
    sourcerpm = header.get(tags.TAG_SOURCERPM)
    if sourcerpm:
        match = _SOURCE_RPM.match(sourcerpm)
        if match:
            source_name, source_version = match.group("name"), match.group("version")
    if epoch is not None:
        source_version = f"{epoch}:{source_version}"
    vendor = header.get(tags.TAG_VENDOR)
    namespace = _namespace(os_info, vendor)
    licence = header.get(tags.TAG_LICENSE)
    metadata = {
        key: value
        for key, value in (
            ("vendor", vendor),
            ("sourcerpm", sourcerpm),
            ("packager", header.get(tags.TAG_PACKAGER)),
            ("modularitylabel", header.get(tags.TAG_MODULARITYLABEL)),
        )
        if value
    }
    distro = None
    if os_info is not None and os_info.version_id:
        distro = f"{os_info.id}-{os_info.version_id}"
    purl = make_purl(
        "rpm",
        namespace,
        name,
        evr,
        {
            "arch": arch,
            "epoch": str(epoch) if epoch is not None else None,
            "upstream": sourcerpm,
            "distro": distro,
        },
    )
    return Package(
        name=name,
        version=full,
        type="rpm",
        purl=purl,
        cataloger="rpm",
        locations=(location,),
        source_name=source_name,
        source_version=source_version,
        architecture=arch,
        epoch=epoch,
        licenses=(licence,) if licence else (),
        namespace=namespace,
        metadata=MappingProxyType(metadata),
    )


def _namespace(os_info: OSInfo | None, vendor: str | None) -> str | None:
    """purl namespace = the distribution vendor: from os-release ID, else the header's VENDOR."""
    if os_info is not None and os_info.id not in ("", "unknown", "linux"):
        return _NAMESPACES.get(os_info.id, os_info.id)
    lowered = (vendor or "").lower()
    return next((ns for key, ns in _VENDORS if key in lowered), None)
