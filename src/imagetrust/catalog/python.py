"""Python distributions installed in the image, from their core-metadata files.

Installed distributions leave a ``*.dist-info/METADATA`` (wheels, pip) or an ``*.egg-info``
(setuptools, Debian's distutils packages) that is either a directory holding ``PKG-INFO`` or a
single file, and zipped ``.egg`` files carry theirs in ``EGG-INFO/PKG-INFO``. Directory names are
matched case-insensitively (``Foo.DIST-INFO``, an unzipped egg's ``EGG-INFO``). All are RFC 822
core metadata, parsed with :mod:`packaging.metadata` so we follow the same rules as the packaging
tools themselves. The interpreter's own ``Python-2.7.egg-info`` (distutils wrote one for the
standard library) names no installable distribution and is a named skip.

Every match goes through :func:`extract_metadata`, which keeps only the metadata (for an egg, the
one member) so an egg is never held whole; a file another request reads whole is handled the same.
"""

from __future__ import annotations

import io
import re
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from typing import BinaryIO

from packageurl import PackageURL

from imagetrust.catalog.model import CatalogSkip, Location, OSInfo, Package
from imagetrust.catalog.spool import spool_dir
from imagetrust.image.files import FileEntry, FileRequest, FileTree

_METADATA = re.compile(
    r"(?i)(?:.*/)?(?:[^/]*dist-info/METADATA|[^/]*egg-info/PKG-INFO|[^/]*\.egg-info|[^/]*\.egg)"
)
_MAX_METADATA = 4 * 1024 * 1024
MAX_EGG = 64 * 1024 * 1024
_SPOOL_IN_MEMORY = 8 * 1024 * 1024
_EGG_PKG_INFO = "EGG-INFO/PKG-INFO"
_FOUND, _SKIPPED = b"M", b"S"
"""First byte of an extract: metadata follows, or the reason it could not be had."""
_INTERPRETER = "python"
_LICENSE_CLASSIFIER = "License :: "
_MAX_LICENSE_FIELD = 100
"""A ``License`` field longer than this (or multi-line) is the full licence text, not a name."""


class PythonCataloger:
    """Finds pip/wheel/setuptools-installed distributions (``pkg:pypi``)."""

    name = "python"

    def request(self) -> FileRequest:
        return FileRequest(patterns=(), max_size=MAX_EGG, want=wants_metadata,
                           extract=extract_metadata)

    def catalog(
        self, files: FileTree, os_info: OSInfo | None
    ) -> tuple[Sequence[Package], Sequence[CatalogSkip]]:
        packages: list[Package] = []
        skips: list[CatalogSkip] = []
        for entry in _metadata_files(files):
            result = self._parse(files, entry)
            if isinstance(result, Package):
                packages.append(result)
            else:
                skips.append(result)
        return packages, skips

    def _parse(self, files: FileTree, entry: FileEntry) -> Package | CatalogSkip:
        if entry.truncated:
            return CatalogSkip(self.name, entry.path, f"metadata larger than {MAX_EGG} bytes")
        content = files.read(entry.path)
        if content is None:
            return CatalogSkip(self.name, entry.path, "metadata file content not available")
        if not _extracted(files, entry):
            content = extract_metadata(entry.path, io.BytesIO(content))
        if content[:1] != _FOUND:
            reason = content[1:].decode("utf-8", "replace") or "metadata unreadable"
            return CatalogSkip(self.name, entry.path, reason)
        data = content[1:]
        # Imported on first use: packaging compiles many regexes (~85 ms), which images without
        # Python packages should not pay at start-up.
        from packaging.metadata import parse_email
        from packaging.utils import canonicalize_name

        try:
            raw, _unparsed = parse_email(data)
        except (ValueError, UnicodeDecodeError) as exc:
            return CatalogSkip(self.name, entry.path, f"unreadable core metadata: {exc}")
        name = raw.get("name", "").strip()
        version = raw.get("version", "").strip()
        if not name or not version:
            return CatalogSkip(self.name, entry.path, "core metadata lacks Name or Version")
        if canonicalize_name(name) == _INTERPRETER:
            return CatalogSkip(self.name, entry.path,
                               "the Python interpreter's own metadata, not an installed package")
        purl = PackageURL(type="pypi", name=canonicalize_name(name), version=version).to_string()
        return Package(
            name=name,
            version=version,
            type="pypi",
            purl=purl,
            cataloger=self.name,
            locations=(Location(entry.path, entry.layer_index, entry.diff_id),),
            licenses=_licenses(
                raw.get("license_expression"), raw.get("license"), raw.get("classifiers", [])
            ),
        )


def wants_metadata(path: str, size: int, mode: int) -> bool:
    """Core-metadata files and zipped eggs, directory names in any case."""
    low = path.lower()  # every pattern holds "egg" or ends in "metadata": most paths stop here
    if "egg" not in low and not low.endswith("metadata"):
        return False
    return _METADATA.fullmatch(path) is not None


def extract_metadata(path: str, stream: BinaryIO) -> bytes:
    """The reader's extract hook: ``M`` + the core metadata, or ``S`` + why there is none."""
    if not path.lower().endswith(".egg"):
        data = stream.read(_MAX_METADATA + 1)
        if len(data) > _MAX_METADATA:
            return _SKIPPED + f"metadata larger than {_MAX_METADATA} bytes".encode()
        return _FOUND + data
    head = stream.read(2)
    if head != b"PK":
        return _SKIPPED + b"not a zipped egg: no zip signature at the start"
    try:
        if stream.seekable():
            stream.seek(0)
            return _egg_metadata(stream)
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY, dir=spool_dir()) as spool:
            spool.write(head)
            shutil.copyfileobj(stream, spool, 1 << 20)
            spool.seek(0)
            return _egg_metadata(spool)  # type: ignore[arg-type]
    except OSError as exc:
        return _SKIPPED + f"egg unreadable: {exc}".encode()


def _egg_metadata(stream: BinaryIO) -> bytes:
    try:
        with zipfile.ZipFile(stream) as egg:
            info = next((i for i in egg.infolist() if i.filename == _EGG_PKG_INFO), None)
            if info is None:
                return _SKIPPED + f"egg without {_EGG_PKG_INFO}".encode()
            with egg.open(info) as member:
                data = member.read(_MAX_METADATA + 1)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, RuntimeError, ValueError,
            NotImplementedError) as exc:
        return _SKIPPED + f"not a readable zipped egg: {exc}".encode()
    if len(data) > _MAX_METADATA:
        return _SKIPPED + f"{_EGG_PKG_INFO} larger than {_MAX_METADATA} bytes".encode()
    return _FOUND + data


def _extracted(files: FileTree, entry: FileEntry) -> bool:
    """Whether the content :meth:`FileTree.read` returns for ``entry`` is an extract."""
    if entry.data is not None or entry.kind != "hardlink" or not entry.link_target:
        return entry.extracted
    target = files.get(entry.link_target)
    return target is not None and target.extracted


def _metadata_files(files: FileTree) -> list[FileEntry]:
    """Regular metadata files; an ``*.egg-info`` directory is reached through its PKG-INFO."""
    return [files.files[path] for path in sorted(files.files)
            if files.files[path].kind in ("file", "hardlink") and wants_metadata(path, 0, 0)]


def _licenses(expression: str | None, field: str | None, classifiers: list[str]) -> tuple[str, ...]:
    """PEP 639 expression first, then a short ``License`` field, then trove classifiers."""
    if expression and expression.strip():
        return (expression.strip(),)
    if field:
        text = field.strip()
        if text and "\n" not in text and len(text) <= _MAX_LICENSE_FIELD and text != "UNKNOWN":
            return (text,)
    out = [
        c.split(" :: ")[-1].strip()
        for c in classifiers
        if c.startswith(_LICENSE_CLASSIFIER) and not c.endswith(":: OSI Approved")
    ]
    return tuple(dict.fromkeys(out))
