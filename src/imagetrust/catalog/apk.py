"""Alpine (and other apk-based) packages from ``lib/apk/db/installed``.

The database is a list of blank-line separated records of ``X:value`` lines (apk-tools'
"installed database" format): ``P`` name, ``V`` version, ``A`` arch, ``o`` origin (the aport, i.e.
the source package the Alpine secdb is keyed by), ``L`` licence, ``m`` maintainer, ``c`` aports
commit, ``t`` build time. The whole database lives in one file, so every package's location is that
file in the layer that last wrote it. purl: ``pkg:apk/alpine/NAME@VER?arch=..&distro=alpine-3.19.1``
(purl-spec apk type; the distro qualifier as Syft and Trivy write it).

Only ``\n`` ends a line, as apk-tools reads the file; ``str.splitlines()`` would also split on
form feed, ``\x1c``-``\x1e``, U+0085 and U+2028, so a description (``T:``) could inject a
``V:`` line or end a record early. A UTF-8 byte order mark at the start is ignored.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from types import MappingProxyType

from imagetrust.catalog.model import CatalogSkip, Location, OSInfo, Package
from imagetrust.catalog.purl import make_purl
from imagetrust.image.files import FileRequest, FileTree

INSTALLED_PATH = "lib/apk/db/installed"

# apk version: digits and dots, optional letter, suffixes (_rc1, _p2…), -rN revision.
_VERSION = re.compile(r"^[0-9][0-9A-Za-z._+~-]*$")
_METADATA_KEYS = {"m": "maintainer", "c": "commit", "t": "build_time", "U": "url"}


def iter_records(text: str) -> Iterator[tuple[int, dict[str, str], str | None]]:
    """(first line, first value of each key, problem) per record. Only the first value of a key
    is kept: repeated keys (``F``/``R`` file lists) are not needed here."""
    fields: dict[str, str] = {}
    start = 0
    problem: str | None = None
    for number, raw in enumerate(text.removeprefix("\ufeff").split("\n"), start=1):
        line = raw.rstrip("\r")
        if len(line) < 2 and line < "\x80":  # apk-tools: a line under two bytes ends a record
            if fields or problem:
                yield start, fields, problem
                fields, problem = {}, None
            continue
        if not fields and problem is None:
            start = number
        if len(line) < 2 or line[1] != ":":
            problem = problem or f"line {number} is not 'X:value'"
            continue
        fields.setdefault(line[0], line[2:])
    if fields or problem:
        yield start, fields, problem


class ApkCataloger:
    """Installed apk packages (Alpine, Wolfi, Chainguard…)."""

    name = "apk"

    def request(self) -> FileRequest:
        return FileRequest(patterns=(INSTALLED_PATH,))

    def catalog(
        self, files: FileTree, os_info: OSInfo | None
    ) -> tuple[Sequence[Package], Sequence[CatalogSkip]]:
        entry = files.get(INSTALLED_PATH)
        if entry is None or entry.kind not in ("file", "hardlink"):
            return [], []
        data = files.read(entry.path)
        if data is None:
            reason = "too large to read" if entry.truncated else "content unavailable"
            return [], [CatalogSkip(self.name, entry.path, f"apk database {reason}")]
        location = Location(entry.path, entry.layer_index, entry.diff_id)
        namespace = _namespace(os_info)
        distro = _distro(os_info)
        packages: list[Package] = []
        skips: list[CatalogSkip] = []
        for line, fields, problem in iter_records(data.decode("utf-8", errors="replace")):
            where = f"record at line {line}"
            name, version = fields.get("P", ""), fields.get("V", "")
            if problem is not None:
                skips.append(CatalogSkip(self.name, entry.path, f"{where}: {problem}"))
                continue
            if not name:
                skips.append(CatalogSkip(self.name, entry.path, f"{where}: no P: (name)"))
                continue
            if not _VERSION.match(version):
                reason = f"{where} ({name}): invalid V: (version) {version!r}"
                skips.append(CatalogSkip(self.name, entry.path, reason))
                continue
            arch = fields.get("A") or None
            licence = fields.get("L", "").strip()
            metadata = {key: fields[k] for k, key in _METADATA_KEYS.items() if fields.get(k)}
            packages.append(
                Package(
                    name=name,
                    version=version,
                    type="apk",
                    purl=make_purl(
                        "apk", namespace, name, version, {"arch": arch, "distro": distro}
                    ),
                    cataloger=self.name,
                    locations=(location,),
                    source_name=fields.get("o") or name,
                    source_version=version,
                    architecture=arch,
                    licenses=(licence,) if licence else (),
                    namespace=namespace,
                    metadata=MappingProxyType(metadata),
                )
            )
        return packages, skips


def _namespace(os_info: OSInfo | None) -> str:
    if os_info is not None and os_info.id not in ("", "unknown", "linux"):
        return os_info.id
    return "alpine"


def _distro(os_info: OSInfo | None) -> str | None:
    if os_info is None or not os_info.version_id:
        return None
    return f"{os_info.id}-{os_info.point_release or os_info.version_id}"
