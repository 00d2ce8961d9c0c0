"""npm packages installed in ``node_modules`` trees, from each package's own ``package.json``.

Only the root manifest of an installed package counts: ``node_modules/NAME/package.json`` or
``node_modules/@scope/NAME/package.json``. Packages also ship nested ``package.json`` files
(``helpers/esm/package.json`` with just ``{"type": "module"}``) that are not packages, and an
application's own manifest or lockfile does not prove anything is installed.

Names are checked as npm checks them before publishing (validate-npm-package-name, the rules an
already published name must still meet): a manifest whose name npm could never have served is
not a registry package, so it is a named skip, never rewritten into something that is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from packageurl import PackageURL

from imagetrust import jsonutil
from imagetrust.catalog.model import CatalogSkip, Location, OSInfo, Package
from imagetrust.errors import CatalogError
from imagetrust.image.files import FileEntry, FileRequest, FileTree

_PATTERNS = ("**/node_modules/*/package.json", "**/node_modules/@*/*/package.json")
_MAX_MANIFEST = 32 * 1024 * 1024
"""Real manifests reach 6 MB (packages that inline build metadata); a cap still bounds a
hostile one."""
_URL_SAFE = re.compile(r"[A-Za-z0-9\-_.!~*'()]+")
"""What JavaScript's encodeURIComponent leaves unchanged: npm requires it of every name part."""
_SCOPED = re.compile(r"@([^/]+)/([^/]+)")
_RESERVED = frozenset({"node_modules", "favicon.ico"})


def npm_name_problem(name: str) -> str | None:
    """Why npm would refuse ``name`` (as a name published packages may have), else None."""
    if not name:
        return "the name is empty"
    if name != name.strip():
        return "the name has leading or trailing spaces"
    if name.startswith((".", "_")):
        return "the name starts with a period or an underscore"
    if name.lower() in _RESERVED:
        return f"{name!r} is a reserved name"
    scoped = _SCOPED.fullmatch(name)
    parts = scoped.groups() if scoped else (name,)
    if any(not _URL_SAFE.fullmatch(part) for part in parts):
        return "the name can only contain URL-friendly characters"
    return None


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
        problem = npm_name_problem(name)
        if problem is not None:
            return CatalogSkip(self.name, entry.path, f"invalid npm name {name!r}: {problem}")
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
