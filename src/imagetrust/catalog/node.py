"""npm packages installed in ``node_modules`` trees, from each package's own ``package.json``.

Only the root manifest of an installed package counts: ``node_modules/NAME/package.json`` or
``node_modules/@scope/NAME/package.json``. Packages also ship nested ``package.json`` files
(``helpers/esm/package.json`` with just ``{"type": "module"}``) that are not packages, and an
application's own manifest or lockfile does not prove anything is installed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from packageurl import PackageURL

from imagetrust import jsonutil
from imagetrust.catalog.model import CatalogSkip, Location, OSInfo, Package
from imagetrust.errors import CatalogError
from imagetrust.image.files import FileEntry, FileRequest, FileTree

_PATTERNS = ("**/node_modules/*/package.json", "**/node_modules/@*/*/package.json")
_MAX_MANIFEST = 4 * 1024 * 1024


class NodeCataloger:
    """Finds installed npm packages (``pkg:npm``)."""

    name = "node"

    def request(self) -> FileRequest:
        return FileRequest(patterns=_PATTERNS, max_size=_MAX_MANIFEST)

    def catalog(
        self, files: FileTree, os_info: OSInfo | None
    ) -> tuple[Sequence[Package], Sequence[CatalogSkip]]:
        packages: list[Package] = []
        skips: list[CatalogSkip] = []
        seen: set[str] = set()
        for pattern in _PATTERNS:
            for entry in files.glob(pattern):
                if entry.path in seen or entry.kind not in ("file", "hardlink"):
                    continue
                seen.add(entry.path)
                result = self._parse(files, entry)
                if isinstance(result, Package):
                    packages.append(result)
                else:
                    skips.append(result)
        return packages, skips

    def _parse(self, files: FileTree, entry: FileEntry) -> Package | CatalogSkip:
        if entry.truncated:
            reason = f"package.json larger than {_MAX_MANIFEST} bytes"
            return CatalogSkip(self.name, entry.path, reason)
        data = files.read(entry.path)
        if data is None:
            return CatalogSkip(self.name, entry.path, "package.json content not available")
        try:
            manifest = jsonutil.loads(data, what="package.json", error=CatalogError)
        except CatalogError as exc:
            return CatalogSkip(self.name, entry.path, exc.message)
        if not isinstance(manifest, dict):
            return CatalogSkip(self.name, entry.path, "package.json is not a JSON object")
        name, version = manifest.get("name"), manifest.get("version")
        if not isinstance(name, str) or not isinstance(version, str) or not name or not version:
            return CatalogSkip(self.name, entry.path, "package.json lacks a name or version")
        scope: str | None = None
        bare = name
        if name.startswith("@") and "/" in name:
            scope, bare = name.split("/", 1)
        purl = PackageURL(type="npm", namespace=scope, name=bare, version=version).to_string()
        return Package(
            name=name,
            version=version,
            type="npm",
            purl=purl,
            cataloger=self.name,
            locations=(Location(entry.path, entry.layer_index, entry.diff_id),),
            licenses=_licenses(manifest),
            namespace=scope,
        )


def _licenses(manifest: dict[str, Any]) -> tuple[str, ...]:
    """``license`` as a string (SPDX expression), or the legacy object / ``licenses`` array."""
    value = manifest.get("license")
    if isinstance(value, str) and value.strip():
        return (value.strip(),)
    items = [value] if isinstance(value, dict) else manifest.get("licenses")
    out: list[str] = []
    if isinstance(items, list):
        for item in items:
            text = item.get("type") if isinstance(item, dict) else item
            if isinstance(text, str) and text.strip():
                out.append(text.strip())
    return tuple(out)
