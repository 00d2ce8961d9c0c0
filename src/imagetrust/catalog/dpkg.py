"""Debian packages from the dpkg database (``status`` and distroless ``status.d``).

Conventions (chosen so the match stage can compare versions natively and SBOM consumers get the
identifiers they expect):

- ``Package.version`` is the full dpkg version including any epoch (``1:2.38.1-5``), as
  ``dpkg-query`` prints it and as the Debian security tracker writes fixed versions.
- The purl follows Trivy for the epoch (version without epoch, ``epoch=`` qualifier) and Syft for
  the source package: ``upstream=SRC`` when only the name differs, ``upstream=SRC@SRCVER`` when
  the source version differs too (binNMUs), plus ``arch`` and ``distro=<id>-<version_id>``.
- Introducing layer: a merged tree cannot show in which layer a stanza first appeared, because
  the status file is rewritten by every layer that installs anything. ``info/<pkg>.list`` is
  written when that package (version) is unpacked and left alone otherwise, so its layer is the
  layer that installed the package version present in the image. That is the layer to blame for
  the package's vulnerabilities, which is what base-image attribution needs. It is recorded as a
  second location; ``Package.introduced_by`` picks the earliest.
- Only ``\n`` ends a line, as in dpkg's own parser: ``str.splitlines()`` would also break on form
  feed, ``\x1c``-``\x1e``, U+0085 and U+2028, letting a package description inject fields or
  split a stanza in two. A UTF-8 byte order mark at the start is ignored (dpkg refuses the file;
  an editor's BOM should not hide every package). A ``status`` that is a symlink is followed
  inside the image root (:mod:`.links`); the package locations then name the target.
- Licences come from DEP-5 ``License:`` lines and ``/usr/share/common-licenses/NAME`` references
  in ``usr/share/doc/<pkg>/copyright`` (the same evidence docker-library/repo-info lists), only
  for files under :data:`COPYRIGHT_MAX_SIZE`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from imagetrust.catalog import links
from imagetrust.catalog.model import CatalogSkip, Location, OSInfo, Package
from imagetrust.catalog.purl import make_purl
from imagetrust.image.files import FileEntry, FileRequest, FileTree

STATUS_PATH = "var/lib/dpkg/status"
STATUS_D_GLOB = "var/lib/dpkg/status.d/*"
LIST_GLOB = "var/lib/dpkg/info/*.list"
COPYRIGHT_GLOB = "usr/share/doc/*/copyright"
COPYRIGHT_MAX_SIZE = 4 * 1024 * 1024
# Measured on Debian 12: libboost*1.74.0's copyright files are 2.0 MB (256 KB, the old cap, lost
# their licences). Each file is read once per image and counts against the reader's budget.

_VERSION = re.compile(r"^(?:(?P<epoch>\d+):)?(?P<rest>[A-Za-z0-9][A-Za-z0-9.+~:-]*)$")
_SOURCE = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9.+-]*)(?:\s*\((?P<version>[^)]+)\))?$")
_LICENSE_KEY = b"License:"
_LICENSE_VALUE = re.compile(rb"[ \t]*(\S[^\r\n]*)")
_COMMON_LICENSE = re.compile(rb"/usr/share/common-licenses/([A-Za-z0-9][A-Za-z0-9.+_-]*)")
_CONJUNCTION = re.compile(r"\s+(?:or|and)\s+")
_SIDE_FILES = (".md5sums", ".list", ".conffiles", ".preinst", ".postinst", ".prerm", ".postrm")


@dataclass(frozen=True, slots=True)
class Stanza:
    """One control paragraph: first-line values of its fields and where it starts."""

    fields: dict[str, str]
    line: int
    invalid: str | None = None


def control_lines(text: str) -> list[str]:
    """Lines of a control-format database: split on ``\n`` only, a leading BOM dropped."""
    return text.removeprefix("\ufeff").split("\n")


def iter_stanzas(text: str) -> Iterator[Stanza]:
    """Paragraphs separated by blank lines. Continuation lines are dropped (no field read here
    spans lines); field names are case-insensitive (Debian policy 5.1), stored canonically.

    Hand-written rather than python-debian's Deb822: only first lines of a few fields are
    needed, which this does without a dependency (measured: 80 ms for a 0.7 MB, 752-package
    status file)."""
    fields: dict[str, str] = {}
    start = 0
    invalid: str | None = None
    for number, raw in enumerate(control_lines(text), start=1):
        if raw[:1] in (" ", "\t"):
            continue  # a continuation line (or a blank one inside a value): never read here
        line = raw.rstrip("\r")
        if not line:
            if fields or invalid:
                yield Stanza(fields, start, invalid)
                fields, invalid = {}, None
            continue
        if not line.strip(" \t\v\f"):
            continue  # dpkg: blank inside a value (a warning), or skipped between stanzas
        if line[0] in " \t" or line.startswith("#"):
            continue
        if not fields and invalid is None:
            start = number
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            invalid = invalid or f"line {number} is not 'Field: value'"
            continue
        fields.setdefault(_canonical(name.strip()), value.strip())
    if fields or invalid:
        yield Stanza(fields, start, invalid)


def _canonical(name: str) -> str:
    return "-".join(part[:1].upper() + part[1:].lower() for part in name.split("-"))


def split_epoch(version: str) -> tuple[int | None, str]:
    """``1:2.38-5`` → (1, ``2.38-5``); no epoch → (None, version)."""
    head, sep, rest = version.partition(":")
    if sep and head.isdigit():
        return int(head), rest
    return None, version


def parse_copyright_licenses(data: bytes) -> tuple[str, ...]:
    """Licence names a Debian copyright file declares, sorted and unique. ``A or B`` / ``A and
    B`` expressions are split into names (``GPL-2+ with X exception`` stays one name)."""
    names: set[str] = set()
    # ``License:`` at a line start, found with bytes.find: a multi-line ``^`` regex tried every
    # position of every copyright file (the bulk of this cataloger's time on Debian images).
    at = data.find(_LICENSE_KEY)
    while at >= 0:
        if (at == 0 or data[at - 1] == 0x0A) and (
                match := _LICENSE_VALUE.match(data, at + len(_LICENSE_KEY))):
            expression = match.group(1).strip().decode("utf-8", "replace")
            names.update(part.strip() for part in _CONJUNCTION.split(expression))
        at = data.find(_LICENSE_KEY, at + len(_LICENSE_KEY))
    for match in _COMMON_LICENSE.finditer(data):
        names.add(match.group(1).decode("ascii", "replace").rstrip("."))
    return tuple(sorted(name for name in names if name))


class DpkgCataloger:
    """Installed Debian packages (Debian, Ubuntu, distroless and other dpkg-based images)."""

    name = "dpkg"

    def request(self) -> FileRequest:
        return FileRequest(patterns=(STATUS_PATH, STATUS_D_GLOB))

    def requests(self) -> tuple[FileRequest, ...]:
        """The main request plus cheap evidence: ``.list`` files are wanted for their layer only
        (``max_size=0``: listed, not read), copyright files only when small."""
        return (
            self.request(),
            FileRequest(patterns=(LIST_GLOB,), max_size=0),
            FileRequest(patterns=(COPYRIGHT_GLOB,), max_size=COPYRIGHT_MAX_SIZE),
        )

    def follow(self, files: FileTree, asked: frozenset[str]) -> tuple[str, ...]:
        """What a symlinked ``status`` still needs read (see :func:`.run.follow_links`)."""
        status = files.get(STATUS_PATH)
        if status is None or status.kind != "symlink":
            return ()
        return links.wanted(files, STATUS_PATH, asked)

    def catalog(
        self, files: FileTree, os_info: OSInfo | None
    ) -> tuple[Sequence[Package], Sequence[CatalogSkip]]:
        packages: list[Package] = []
        skips: list[CatalogSkip] = []
        licence_cache: dict[str, tuple[str, ...]] = {}
        sources: list[tuple[FileEntry, bool]] = []
        status = files.get(STATUS_PATH)
        if status is not None and status.kind == "symlink":
            resolved = links.resolve(files, STATUS_PATH)
            if resolved.problem is not None:
                skips.append(CatalogSkip(self.name, STATUS_PATH, resolved.problem))
            status = resolved.entry
        if status is not None:
            sources.append((status, False))
        sources.extend(
            (entry, True)
            for entry in files.glob(STATUS_D_GLOB)
            if not entry.path.endswith(_SIDE_FILES)
        )
        for entry, per_package in sources:
            if entry.kind not in ("file", "hardlink"):
                continue
            data = files.read(entry.path)
            if data is None:
                reason = "too large to read" if entry.truncated else "content unavailable"
                skips.append(CatalogSkip(self.name, entry.path, f"dpkg database {reason}"))
                continue
            text = data.decode("utf-8", errors="replace")
            for stanza in iter_stanzas(text):
                result = self._package(stanza, entry, per_package, files, os_info, licence_cache)
                if isinstance(result, str):
                    skips.append(CatalogSkip(self.name, entry.path, result))
                elif result is not None:
                    packages.append(result)
        return packages, skips

    def _package(
        self,
        stanza: Stanza,
        entry: FileEntry,
        per_package: bool,
        files: FileTree,
        os_info: OSInfo | None,
        licence_cache: dict[str, tuple[str, ...]],
    ) -> Package | str | None:
        """A package, None for a stanza that is not installed, or the reason it is unusable."""
        where = f"stanza at line {stanza.line}"
        if stanza.invalid:
            return f"{where}: {stanza.invalid}"
        fields = stanza.fields
        name = fields.get("Package", "")
        if not name:
            return f"{where}: no Package field"
        status = fields.get("Status")
        if status is not None or not per_package:
            words = (status or "").split()
            if len(words) != 3:
                return f"{where} ({name}): malformed or missing Status {status!r}"
            if words[2] != "installed":
                return None
        version = fields.get("Version", "")
        match = _VERSION.match(version)
        if match is None or not _valid_version(match):
            return f"{where} ({name}): invalid Version {version!r}"
        epoch = int(match.group("epoch")) if match.group("epoch") is not None else None
        arch = fields.get("Architecture") or None
        source_name, source_version = name, version
        if fields.get("Source"):
            source = _SOURCE.match(fields["Source"])
            if source is None:
                return f"{where} ({name}): invalid Source {fields['Source']!r}"
            source_name = source.group("name")
            source_version = (source.group("version") or version).strip()

        locations = [Location(entry.path, entry.layer_index, entry.diff_id)]
        if not per_package:
            listed = _list_file(files, name, arch)
            if listed is not None:
                locations.append(Location(listed.path, listed.layer_index, listed.diff_id))
        namespace = _namespace(os_info)
        upstream = None
        if source_name != name or source_version != version:
            upstream = source_name
            if source_version != version:
                upstream = f"{source_name}@{source_version}"
        purl = make_purl(
            "deb",
            namespace,
            name,
            split_epoch(version)[1],
            {
                "arch": arch,
                "epoch": str(epoch) if epoch is not None else None,
                "upstream": upstream,
                "distro": _distro(os_info),
            },
        )
        metadata = {
            key: fields[field]
            for key, field in (("maintainer", "Maintainer"), ("source", "Source"))
            if fields.get(field)
        }
        return Package(
            name=name,
            version=version,
            type="deb",
            purl=purl,
            cataloger=self.name,
            locations=tuple(locations),
            source_name=source_name,
            source_version=source_version,
            architecture=arch,
            epoch=epoch,
            licenses=_licenses(files, name, licence_cache),
            namespace=namespace,
            metadata=MappingProxyType(metadata),
        )


def _valid_version(match: re.Match[str]) -> bool:
    """deb-version(7): a colon only after an epoch, no empty revision."""
    rest = match.group("rest")
    return (match.group("epoch") is not None or ":" not in rest) and not rest.endswith("-")


def _list_file(files: FileTree, name: str, arch: str | None) -> FileEntry | None:
    """dpkg names ``.list`` files ``pkg:arch.list`` for Multi-Arch: same packages."""
    if arch:
        entry = files.get(f"var/lib/dpkg/info/{name}:{arch}.list")
        if entry is not None:
            return entry
    return files.get(f"var/lib/dpkg/info/{name}.list")


def _licenses(files: FileTree, name: str, cache: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    path = f"usr/share/doc/{name}/copyright"
    if path not in cache:
        data = files.read(path)
        cache[path] = parse_copyright_licenses(data) if data else ()
    return cache[path]


def _namespace(os_info: OSInfo | None) -> str:
    if os_info is not None and os_info.id not in ("", "unknown", "linux"):
        return os_info.id
    return "debian"


def _distro(os_info: OSInfo | None) -> str | None:
    if os_info is None:
        return None
    version = os_info.version_id or os_info.codename
    return f"{os_info.id}-{version}" if version else None
