"""opkg packages (OpenWrt, Yocto/OpenEmbedded images) from the opkg status database.

opkg keeps dpkg's control format (blank-line separated stanzas, ``Package``/``Version``/``Status``
fields), so the stanzas are read by :func:`.dpkg.iter_stanzas`, with its ``\\n``-only line rule
and BOM handling. OpenWrt writes ``usr/lib/opkg/status``, Yocto ``var/lib/opkg/status``; both are
read. The purl type is ``opkg`` with the os-release ID as namespace
(``pkg:opkg/openwrt/busybox@1.36.1-1?arch=x86_64``): purl-spec has no registered opkg type, and
``opkg`` is what SBOM tools for these systems emit (``deb`` would claim a Debian package).
"""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType

from imagetrust.catalog.dpkg import iter_stanzas
from imagetrust.catalog.model import CatalogSkip, Location, OSInfo, Package
from imagetrust.catalog.purl import make_purl
from imagetrust.image.files import FileRequest, FileTree

STATUS_PATHS = ("var/lib/opkg/status", "usr/lib/opkg/status")


class OpkgCataloger:
    """Installed opkg packages."""

    name = "opkg"

    def request(self) -> FileRequest:
        return FileRequest(patterns=STATUS_PATHS)

    def catalog(
        self, files: FileTree, os_info: OSInfo | None
    ) -> tuple[Sequence[Package], Sequence[CatalogSkip]]:
        packages: list[Package] = []
        skips: list[CatalogSkip] = []
        namespace = os_info.id if os_info and os_info.id not in ("", "unknown", "linux") else None
        distro = f"{os_info.id}-{os_info.version_id}" if os_info and os_info.version_id else None
        for path in STATUS_PATHS:
            entry = files.get(path)
            if entry is None or entry.kind not in ("file", "hardlink"):
                continue
            data = files.read(path)
            if data is None:
                reason = "too large to read" if entry.truncated else "content unavailable"
                skips.append(CatalogSkip(self.name, path, f"opkg database {reason}"))
                continue
            location = Location(entry.path, entry.layer_index, entry.diff_id)
            for stanza in iter_stanzas(data.decode("utf-8", errors="replace")):
                where = f"stanza at line {stanza.line}"
                fields = stanza.fields
                name, version = fields.get("Package", ""), fields.get("Version", "")
                if stanza.invalid or not name or not version:
                    problem = stanza.invalid or "no Package or Version field"
                    skips.append(CatalogSkip(self.name, path, f"{where}: {problem}"))
                    continue
                words = fields.get("Status", "").split()
                if len(words) != 3 or words[2] != "installed":
                    continue
                arch = fields.get("Architecture") or None
                licence = fields.get("License", "")
                source = fields.get("Source") or None
                metadata = {k: fields[f] for k, f in (("maintainer", "Maintainer"),
                                                      ("source", "Source")) if fields.get(f)}
                packages.append(Package(
                    name=name, version=version, type="opkg",
                    purl=make_purl("opkg", namespace, name, version,
                                   {"arch": arch, "distro": distro}),
                    cataloger=self.name, locations=(location,),
                    source_name=name if source is None or "/" in source else source,
                    source_version=version, architecture=arch,
                    licenses=(licence,) if licence else (), namespace=namespace,
                    metadata=MappingProxyType(metadata),
                ))
        return packages, skips
