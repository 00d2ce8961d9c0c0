"""Python distributions installed in the image, from their core-metadata files.

Installed distributions leave a ``*.dist-info/METADATA`` (wheels, pip) or an ``*.egg-info``
(setuptools, Debian's distutils packages) that is either a directory holding ``PKG-INFO`` or a
single file. All are RFC 822 core metadata, parsed with :mod:`packaging.metadata` so we follow
the same rules as the packaging tools themselves.
"""

from __future__ import annotations

from collections.abc import Sequence

from packageurl import PackageURL

from imagetrust.catalog.model import CatalogSkip, Location, OSInfo, Package
from imagetrust.image.files import FileEntry, FileRequest, FileTree

_PATTERNS = ("**/*.dist-info/METADATA", "**/*.egg-info/PKG-INFO", "**/*.egg-info")
_MAX_METADATA = 4 * 1024 * 1024
_LICENSE_CLASSIFIER = "License :: "
_MAX_LICENSE_FIELD = 100
"""A ``License`` field longer than this (or multi-line) is the full licence text, not a name."""


class PythonCataloger:
    """Finds pip/wheel/setuptools-installed distributions (``pkg:pypi``)."""

    name = "python"

    def request(self) -> FileRequest:
        return FileRequest(patterns=_PATTERNS, max_size=_MAX_METADATA)

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
            return CatalogSkip(self.name, entry.path, f"metadata larger than {_MAX_METADATA} bytes")
        data = files.read(entry.path)
        if data is None:
            return CatalogSkip(self.name, entry.path, "metadata file content not available")
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


def _metadata_files(files: FileTree) -> list[FileEntry]:
    """Regular metadata files; an ``*.egg-info`` directory is reached through its PKG-INFO."""
    found: dict[str, FileEntry] = {}
    for pattern in _PATTERNS:
        for entry in files.glob(pattern):
            if entry.kind in ("file", "hardlink"):
                found[entry.path] = entry
    return [found[path] for path in sorted(found)]


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
