"""Java archives (jar/war/ear/hpi/…), identified by their Maven coordinates.

``META-INF/maven/<group>/<artifact>/pom.properties`` is what Maven writes into every artifact it
builds, so it gives exact coordinates; shaded jars carry one per bundled artifact and each is a
package (re-packagers also leave ``pom.properties`` elsewhere in the archive: those count too).
Without any, the ``pom.xml`` Maven writes beside it gives the coordinates. Archives built by
other tools fall back to ``META-INF/MANIFEST.MF``: a Jenkins plugin's ``Group-Id``/``Short-Name``/
``Plugin-Version``, then the ``name-1.2.3.jar`` file name with the manifest's version, and for a
versionless file name the manifest's title and vendor id. Instrumentation-only jars (New Relic's
``Weave-Classes`` weavers) describe the library they patch, not themselves: they are named skips.
Archives nested in wars and fat jars (``WEB-INF/lib``, ``BOOT-INF/lib``, ``META-INF/jars``) are
opened too, within depth and size limits so a hostile archive cannot exhaust memory.

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
from xml.etree import ElementTree

from packageurl import PackageURL

from imagetrust.catalog.model import CatalogSkip, Location, OSInfo, Package
from imagetrust.catalog.spool import spool_dir
from imagetrust.image.files import FileEntry, FileRequest, FileTree

ARCHIVE_SUFFIXES = (".jar", ".war", ".ear", ".par", ".hpi", ".jpi", ".sar", ".nar", ".kar",
                    ".rar", ".lpkg")
"""Every zip-based Java archive suffix in use (Java EE resource adapters are ``.rar``, Liferay
``.lpkg``, Karaf ``.kar``, NiFi ``.nar``, JBoss ``.sar``, Jenkins ``.hpi``/``.jpi``)."""
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
_POM_PROPERTIES = re.compile(r"(?:.*/)?pom\.properties")
_CANONICAL_POM = re.compile(r"META-INF/maven/[^/]+/[^/]+/pom\.(?:properties|xml)")
_POM_XML = re.compile(r"META-INF/maven/.+/pom\.xml")
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
            found = _identify(archive, infos, virtual.rsplit("/", 1)[-1].rsplit(":", 1)[-1])
        except _ArchiveError as exc:
            yield virtual, str(exc)
            return
        except _ZIP_ERRORS as exc:
            yield virtual, f"not a readable zip archive: {exc}"
            return
        if isinstance(found, str):
            yield virtual, found
        elif not found:
            yield virtual, ("no Maven coordinates in pom.properties, pom.xml, MANIFEST.MF or the "
                            "file name")
        for coords in found if isinstance(found, list) else ():
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
) -> list[_Coordinates] | str:
    """Every artifact the archive describes, or why it is not reported (an instrumentation jar).

    ``pom.properties`` anywhere in the archive, canonical ones first and duplicates once; without
    any usable one, the canonical ``pom.xml`` files; then the manifest and the file name.
    """
    manifest = _manifest(archive, infos)
    if manifest.get("weave-classes"):
        return ("instrumentation-only jar (Weave-Classes in MANIFEST.MF): it patches another "
                "library and is not one")
    licenses = tuple(v for v in [manifest.get("bundle-license", "")] if v)
    found: dict[tuple[str | None, str, str], _Coordinates] = {}
    poms = [i for i in infos if _POM_PROPERTIES.fullmatch(i.filename) and not i.is_dir()]
    for info in sorted(poms, key=lambda i: (not _CANONICAL_POM.fullmatch(i.filename),
                                            i.filename)):
        props = _properties(_read_limited(archive, info, _MAX_SMALL_ENTRY))
        coords = _usable(props.get("groupId", ""), props.get("artifactId", ""),
                         props.get("version", ""), "pom.properties", licenses)
        if coords is not None:
            found.setdefault((coords.group, coords.artifact, coords.version), coords)
    if not found:
        for info in sorted((i for i in infos if _POM_XML.fullmatch(i.filename)),
                           key=lambda i: i.filename):
            coords = _pom_xml(_read_limited(archive, info, _MAX_SMALL_ENTRY), licenses)
            if coords is not None:
                found.setdefault((coords.group, coords.artifact, coords.version), coords)
    if found:
        return list(found.values())
    coords = _from_manifest(manifest, filename, licenses)
    return [] if coords is None else [coords]


def _usable(
    group: str, artifact: str, version: str, source: str, licenses: tuple[str, ...]
) -> _Coordinates | None:
    """Coordinates when artifact and version are present and no unresolved ``${…}`` remains."""
    group, artifact, version = group.strip(), artifact.strip(), version.strip()
    if not artifact or not version or "${" in f"{group}{artifact}{version}":
        return None
    return _Coordinates(group or None, artifact, version, source, licenses)


def _pom_xml(data: bytes, licenses: tuple[str, ...]) -> _Coordinates | None:
    """Coordinates of a project's ``pom.xml`` (group and version may come from its parent).

    Documents declaring a DTD are refused: a pom needs none, and entity expansion is the classic
    XML bomb.
    """
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        return None
    try:
        root = ElementTree.fromstring(data)
    except (ElementTree.ParseError, ValueError):
        return None

    def child(node: ElementTree.Element | None, name: str) -> str:
        if node is None:
            return ""
        for item in node:
            if item.tag.rsplit("}", 1)[-1] == name:
                return (item.text or "").strip()
        return ""

    parent = next((n for n in root if n.tag.rsplit("}", 1)[-1] == "parent"), None)
    group = child(root, "groupId") or child(parent, "groupId")
    version = child(root, "version") or child(parent, "version")
    return _usable(group, child(root, "artifactId"), version, "pom.xml", licenses)


def _from_manifest(
    manifest: dict[str, str], filename: str, licenses: tuple[str, ...]
) -> _Coordinates | None:
    """Jenkins plugin fields, else the file name's artifact, else the manifest's own names."""
    if manifest.get("short-name") and manifest.get("plugin-version"):
        return _usable(manifest.get("group-id", ""), manifest["short-name"],
                       manifest["plugin-version"], "MANIFEST.MF", licenses)
    stem = filename.rsplit(".", 1)[0]
    by_name = _FILENAME.fullmatch(stem)
    declared = next(
        (manifest[k] for k in ("implementation-version", "bundle-version", "specification-version")
         if manifest.get(k)),
        "",
    )
    symbolic = manifest.get("bundle-symbolicname", "").split(";", 1)[0].strip()
    group = manifest.get("implementation-vendor-id", "")
    if by_name:  # the file name is usually the artifactId
        artifact, version = by_name.group("name"), declared or by_name.group("version")
        source = "MANIFEST.MF" if declared else "filename"
    else:  # a versionless file name names nothing: the manifest's title or bundle name does
        title = manifest.get("implementation-title", "") or manifest.get("specification-title", "")
        prefix, _, last = symbolic.rpartition(".")
        artifact = title or last or stem
        group = group or prefix  # com.fasterxml.jackson.core.jackson-databind → its group
        version, source = declared, "MANIFEST.MF"
    return _usable(group, artifact, version, source, licenses)


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
    """``java.util.Properties`` syntax: ``key=value``, ``key: value`` or ``key value``, ``#``/``!``
    comments, a trailing odd backslash continuing the line, and backslash escapes."""
    out: dict[str, str] = {}
    logical: list[str] = []
    pending = ""
    for raw in data.decode("latin-1").splitlines():
        line = raw.lstrip() if pending else raw.strip()
        if not pending and (not line or line[0] in "#!"):
            continue
        trailing = len(line) - len(line.rstrip("\\"))
        if trailing % 2:
            pending += line[:-1]
            continue
        logical.append(pending + line)
        pending = ""
    if pending:
        logical.append(pending)
    for line in logical:
        key, value = _split_property(line.strip())
        if key:
            out[key] = value
    return out


def _split_property(line: str) -> tuple[str, str]:
    """Key and value of one logical line, escapes resolved (``\\:`` ``\\=`` ``\\uXXXX``…)."""
    at = 0
    while at < len(line) and line[at] not in "=: \t\f":
        at += 2 if line[at] == "\\" else 1
    key = line[:at]
    rest = line[at:].lstrip(" \t\f")
    if rest[:1] in ("=", ":") and (at == len(line) or line[at] in " \t\f=:"):
        rest = rest[1:].lstrip(" \t\f")
    return _unescape(key), _unescape(rest).strip()


def _unescape(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        char = match.group(1)
        if char.startswith("u"):
            return chr(int(char[1:], 16))
        return {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}.get(char, char)

    return re.sub(r"\\(u[0-9a-fA-F]{4}|.)", replace, text)


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
