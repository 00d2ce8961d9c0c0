"""Java archives (jar/war/ear), identified by their Maven coordinates.

``META-INF/maven/<group>/<artifact>/pom.properties`` is what Maven writes into every artifact it
builds, so it gives exact coordinates; shaded jars carry one per bundled artifact and each is a
package. Archives built by other tools fall back to ``META-INF/MANIFEST.MF`` and then to the
``name-1.2.3.jar`` file name. Archives nested in wars and fat jars (``WEB-INF/lib``,
``BOOT-INF/lib``) are opened too, within depth and size limits so a hostile archive cannot
exhaust memory.

Archives are streamed through the reader's ``extract`` hook: only the findings (coordinates and
skip reasons, a few hundred bytes) are kept, never the archive. ``zipfile`` needs to seek (the
central directory is at the end), so an archive in a compressed layer is spooled to an unnamed
temporary file (in memory up to :data:`SPOOL_IN_MEMORY`, then in the scan's cache directory: see
:mod:`imagetrust.catalog.spool`), and a stream that does not start like a zip (``PK``, or a launch
script's ``#!``) is refused at once, before anything is copied.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from packageurl import PackageURL

from imagetrust.catalog.model import CatalogSkip, Location, OSInfo, Package
from imagetrust.catalog.spool import spool_dir
from imagetrust.image.files import FileEntry, FileRequest, FileTree

ARCHIVE_SUFFIXES = (".jar", ".war", ".ear", ".jpi", ".hpi")
MAX_ARCHIVE_SIZE = 256 * 1024 * 1024
MAX_NESTED_SIZE = 64 * 1024 * 1024
MAX_NESTED_TOTAL = 256 * 1024 * 1024
MAX_DEPTH = 2
"""war → jar → jar: deeper nesting does not occur in real deployments."""
_MAX_SMALL_ENTRY = 1024 * 1024
SPOOL_IN_MEMORY = 8 * 1024 * 1024
"""Spooled archives up to this size stay in memory; larger ones go to an unnamed file."""
_ZIP_STARTS = (b"PK", b"#!")
_NOT_A_ZIP = "not a readable zip archive: no zip signature at the start"
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, RuntimeError,
               NotImplementedError, ValueError)
_POM_PROPERTIES = re.compile(r"META-INF/maven/[^/]+/[^/]+/pom\.properties")
_FILENAME = re.compile(r"(?P<name>.+)-(?P<version>\d[\w.+~\-]*)")


@dataclass(frozen=True, slots=True)
class _Coordinates:
    group: str | None
    artifact: str
    version: str
    source: str
    licenses: tuple[str, ...] = ()


class _ArchiveError(Exception):
    """Internal: one archive could not be read (message becomes the skip reason)."""


class JavaCataloger:
    """Finds Maven artifacts in Java archives (``pkg:maven``)."""

    name = "java"

    def request(self) -> FileRequest:
        return FileRequest(
            patterns=tuple(f"**/*{suffix}" for suffix in ARCHIVE_SUFFIXES),
            max_size=MAX_ARCHIVE_SIZE,
            extract=extract_findings,
        )

    def catalog(
        self, files: FileTree, os_info: OSInfo | None
    ) -> tuple[Sequence[Package], Sequence[CatalogSkip]]:
        packages: list[Package] = []
        skips: list[CatalogSkip] = []
        for path in sorted(files.files):
            entry = files.files[path]
            if entry.kind not in ("file", "hardlink") or not path.lower().endswith(
                ARCHIVE_SUFFIXES
            ):
                continue
            if entry.truncated:
                reason = f"archive larger than {MAX_ARCHIVE_SIZE} bytes"
                skips.append(CatalogSkip(self.name, path, reason))
                continue
            data = files.read(path)
            if data is None:
                continue
            if _extracted(files, entry):
                findings = _decode(data)
            else:  # read whole because another request wanted it
                findings = _findings(io.BytesIO(data), path)
            if findings is None:
                skips.append(CatalogSkip(self.name, path, "archive findings unreadable"))
                continue
            for suffix, result in findings:
                virtual = path + suffix
                if isinstance(result, str):
                    skips.append(CatalogSkip(self.name, virtual, result))
                else:
                    packages.append(_package(result, entry, virtual))
        return packages, skips


def extract_findings(path: str, stream: BinaryIO) -> bytes:
    """The reader's extract hook: what one archive yields, as compact JSON (never the archive)."""
    rows: list[list[Any]] = []
    for suffix, result in _findings(stream, path):
        if isinstance(result, str):
            rows.append([suffix, result])
        else:
            rows.append([suffix, [result.group, result.artifact, result.version, result.source,
                                  list(result.licenses)]])
    return json.dumps(rows, separators=(",", ":")).encode()


def _decode(data: bytes) -> list[tuple[str, _Coordinates | str]] | None:
    """Findings written by :func:`extract_findings`; None when they are not (a foreign cache)."""
    try:
        rows = json.loads(data)
        out: list[tuple[str, _Coordinates | str]] = []
        for suffix, result in rows:
            if isinstance(result, str):
                out.append((str(suffix), result))
            else:
                group, artifact, version, source, licenses = result
                out.append((str(suffix), _Coordinates(
                    None if group is None else str(group), str(artifact), str(version),
                    str(source), tuple(str(x) for x in licenses))))
        return out
    except (ValueError, TypeError, RecursionError):
        return None


def _extracted(files: FileTree, entry: FileEntry) -> bool:
    """Whether the content :meth:`FileTree.read` returns for ``entry`` is an extract."""
    if entry.data is not None or entry.kind != "hardlink" or not entry.link_target:
        return entry.extracted
    target = files.get(entry.link_target)
    return target is not None and target.extracted


def _findings(stream: BinaryIO, path: str) -> list[tuple[str, _Coordinates | str]]:
    """(suffix after ``path``, coordinates or skip reason) for one archive and its nested ones."""
    head = stream.read(2)
    if not head.startswith(_ZIP_STARTS):
        return [("", _NOT_A_ZIP)]
    try:
        if stream.seekable():
            stream.seek(0)
            return _collect(stream, path)
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY, dir=spool_dir()) as spool:
            spool.write(head)
            shutil.copyfileobj(stream, spool, 1 << 20)
            if spool.tell() > MAX_ARCHIVE_SIZE:
                return [("", f"archive larger than {MAX_ARCHIVE_SIZE} bytes")]
            spool.seek(0)
            return _collect(spool, path)  # type: ignore[arg-type]
    except OSError as exc:
        return [("", f"archive unreadable: {exc}")]


def _collect(stream: BinaryIO, path: str) -> list[tuple[str, _Coordinates | str]]:
    return [(virtual[len(path):], result)
            for virtual, result in _scan(stream, path, 0, [MAX_NESTED_TOTAL])]


def _scan(
    data: bytes | BinaryIO, virtual: str, depth: int, budget: list[int]
) -> Iterator[tuple[str, _Coordinates | str]]:
    """Coordinates found in one archive and the archives nested in it (or a skip reason).

    Nested archives are read and scanned one at a time, so at most one is in memory per depth.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else data)
    except _ZIP_ERRORS as exc:
        yield virtual, f"not a readable zip archive: {exc}"
        return
    with archive:
        try:
            infos = archive.infolist()
            found = list(_identify(archive, infos, virtual.rsplit("/", 1)[-1]))
        except _ArchiveError as exc:
            yield virtual, str(exc)
            return
        except _ZIP_ERRORS as exc:
            yield virtual, f"not a readable zip archive: {exc}"
            return
        if not found:
            yield virtual, "no Maven coordinates in pom.properties, MANIFEST.MF or the file name"
        for coords in found:
            yield virtual, coords
        for info in infos:
            if not info.filename.lower().endswith(ARCHIVE_SUFFIXES) or info.is_dir():
                continue
            inner = f"{virtual}:{info.filename}"
            blob = _nested(archive, info, depth, budget)
            if isinstance(blob, str):
                yield inner, blob
            else:
                yield from _scan(blob, inner, depth + 1, budget)


def _nested(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, depth: int, budget: list[int]
) -> bytes | str:
    """Bytes of a nested archive, or why it is not opened (one bad member spoils nothing else)."""
    if depth + 1 > MAX_DEPTH:
        return f"nested deeper than {MAX_DEPTH} archives"
    if info.file_size > MAX_NESTED_SIZE or info.file_size > budget[0]:
        return "nested archive exceeds the size limit"
    try:
        blob = _read_limited(archive, info, min(MAX_NESTED_SIZE, budget[0]))
    except _ArchiveError as exc:
        return str(exc)
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError,
            ValueError) as exc:
        return f"nested archive unreadable: {exc}"
    budget[0] -= len(blob)
    return blob


def _read_limited(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """Read a member without trusting its declared size (zip bombs lie about it)."""
    with archive.open(info) as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise _ArchiveError(f"member {info.filename} inflates beyond {limit} bytes")
    return data


def _identify(
    archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], filename: str
) -> Iterator[_Coordinates]:
    poms = [i for i in infos if _POM_PROPERTIES.fullmatch(i.filename)]
    manifest = _manifest(archive, infos)
    licenses = tuple(v for v in [manifest.get("bundle-license", "")] if v)
    any_pom = False
    for info in sorted(poms, key=lambda i: i.filename):
        props = _properties(_read_limited(archive, info, _MAX_SMALL_ENTRY))
        group, artifact, version = (props.get(k, "") for k in ("groupId", "artifactId", "version"))
        if artifact and version and "${" not in version:
            any_pom = True
            yield _Coordinates(group or None, artifact, version, "pom.properties", licenses)
    if any_pom:
        return
    coords = _from_manifest(manifest, filename, licenses)
    if coords is not None:
        yield coords


def _from_manifest(
    manifest: dict[str, str], filename: str, licenses: tuple[str, ...]
) -> _Coordinates | None:
    stem = filename.rsplit(".", 1)[0]
    by_name = _FILENAME.fullmatch(stem)
    # The file name is usually the artifactId; OSGi and title fields name something else.
    symbolic = manifest.get("bundle-symbolicname", "").split(";", 1)[0].strip()
    artifact = (by_name.group("name") if by_name else stem) or symbolic or manifest.get(
        "implementation-title", ""
    )
    version = next(
        (manifest[k] for k in ("implementation-version", "bundle-version", "specification-version")
         if manifest.get(k)),
        by_name.group("version") if by_name else "",
    )
    if not artifact or not version:
        return None
    source = "MANIFEST.MF" if manifest.get("implementation-version") or manifest.get(
        "bundle-version") or manifest.get("specification-version") else "filename"
    group = manifest.get("implementation-vendor-id") or None
    return _Coordinates(group, artifact, version, source, licenses)


def _manifest(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> dict[str, str]:
    """Main section of META-INF/MANIFEST.MF, keys lower-cased, continuation lines joined."""
    info = next((i for i in infos if i.filename.upper() == "META-INF/MANIFEST.MF"), None)
    if info is None:
        return {}
    text = _read_limited(archive, info, _MAX_SMALL_ENTRY).decode("utf-8", "replace")
    fields: dict[str, str] = {}
    key: str | None = None
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if not line.strip():
            if fields:
                break  # end of the main section
            continue
        if line.startswith(" ") and key is not None:
            fields[key] += line[1:]
        elif ":" in line:
            name, value = line.split(":", 1)
            key = name.strip().lower()
            fields[key] = value.strip()
    return {k: v.strip() for k, v in fields.items()}


def _properties(data: bytes) -> dict[str, str]:
    """The subset of java.util.Properties syntax Maven writes: ``key=value``, ``#`` comments."""
    out: dict[str, str] = {}
    for raw in data.decode("latin-1").splitlines():
        line = raw.strip()
        if not line or line[0] in "#!":
            continue
        match = re.match(r"([^=:\s]+)\s*[=:\s]\s*(.*)", line)
        if match:
            out[match.group(1)] = match.group(2).replace("\\:", ":").replace("\\=", "=").strip()
    return out


def _package(coords: _Coordinates, entry: FileEntry, virtual: str) -> Package:
    purl = PackageURL(
        type="maven", namespace=coords.group, name=coords.artifact, version=coords.version
    ).to_string()
    metadata = {"java.source": coords.source}
    if virtual != entry.path:
        metadata["java.virtual_path"] = virtual
    return Package(
        name=coords.artifact,
        version=coords.version,
        type="maven",
        purl=purl,
        cataloger="java",
        locations=(Location(entry.path, entry.layer_index, entry.diff_id),),
        licenses=coords.licenses,
        namespace=coords.group,
        metadata=metadata,
    )
