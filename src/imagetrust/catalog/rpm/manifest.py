"""The rpm manifest of CBL-Mariner / Azure Linux distroless images (no rpm database inside).

``var/lib/rpmmanifest/container-manifest-2`` holds one package per line, the output of
``rpm -qa --qf '%{NAME}\\t%{VERSION}-%{RELEASE}\\t%{INSTALLTIME}\\t%{BUILDTIME}\\t%{VENDOR}\\t
%{EPOCH}\\t%{SIZE}\\t%{ARCH}\\t%{EPOCHNUM}\\t%{SOURCERPM}'`` at image build time (the format Syft's
Mariner fixture and CBL-Mariner's toolkit docs show). Packages are built like the rpm database
cataloger's, so purls and versions agree whichever evidence an image carries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from imagetrust.catalog.model import CatalogSkip, Location, OSInfo, Package
from imagetrust.catalog.rpm import header as tags
from imagetrust.catalog.rpm.cataloger import _package
from imagetrust.image.files import FileRequest, FileTree

MANIFEST_PATH = "var/lib/rpmmanifest/container-manifest-2"
_FIELDS = 10
_NONE = "(none)"


class RpmManifestCataloger:
    """Packages listed in a Mariner/Azure Linux distroless rpm manifest."""

    name = "rpm-manifest"

    def request(self) -> FileRequest:
        return FileRequest(patterns=(MANIFEST_PATH,))

    def catalog(
        self, files: FileTree, os_info: OSInfo | None
    ) -> tuple[Sequence[Package], Sequence[CatalogSkip]]:
        entry = files.get(MANIFEST_PATH)
        if entry is None or entry.kind not in ("file", "hardlink"):
            return [], []
        data = files.read(MANIFEST_PATH)
        if data is None:
            reason = "too large to read" if entry.truncated else "content unavailable"
            return [], [CatalogSkip(self.name, MANIFEST_PATH, f"rpm manifest {reason}")]
        location = Location(entry.path, entry.layer_index, entry.diff_id)
        packages: list[Package] = []
        skips: list[CatalogSkip] = []
        text = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
        for number, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            result = _line_package(line, location, os_info)
            if isinstance(result, str):
                skips.append(CatalogSkip(self.name, MANIFEST_PATH, f"line {number}: {result}"))
            elif result is not None:
                packages.append(replace(result, cataloger=self.name))
        return packages, skips


def _line_package(line: str, location: Location, os_info: OSInfo | None) -> Package | str | None:
    fields = line.rstrip("\r").split("\t")
    if len(fields) < _FIELDS:
        return f"{len(fields)} tab-separated fields, expected {_FIELDS}"
    name, evr, vendor, epoch_text, arch, sourcerpm = (
        fields[0], fields[1], fields[4], fields[5], fields[7], fields[9])
    version, _, release = evr.rpartition("-")
    if not name or not version or not release or "-" in version:
        return f"{name or '?'}: version-release {evr!r} is not VERSION-RELEASE"
    if epoch_text != _NONE and not epoch_text.isdigit():
        return f"{name}: epoch {epoch_text!r} is not a number"
    optional = ((tags.TAG_ARCH, arch), (tags.TAG_VENDOR, vendor), (tags.TAG_SOURCERPM, sourcerpm))
    strings = {tags.TAG_NAME: name, tags.TAG_VERSION: version, tags.TAG_RELEASE: release,
               **{tag: value for tag, value in optional if value and value != _NONE}}
    epoch = int(epoch_text) if epoch_text != _NONE else None
    return _package(tags.RpmHeader(strings, epoch), location, os_info)
