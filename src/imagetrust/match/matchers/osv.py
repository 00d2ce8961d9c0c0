"""Language packages (PyPI, npm, Go, Maven, crates.io, RubyGems) against OSV, by purl type."""

from __future__ import annotations

from collections.abc import Sequence

from imagetrust.catalog.model import OSInfo, Package
from imagetrust.match.db.store import Affected
from imagetrust.match.matchers.base import NOTHING, MatchOutcome
from imagetrust.match.matchers.osvmatch import match_osv_rows

# purl type → (database ecosystem, OSV bucket directory)
LANGUAGE_ECOSYSTEMS: dict[str, tuple[str, str]] = {
    "pypi": ("pypi", "PyPI"),
    "npm": ("npm", "npm"),
    "golang": ("go", "Go"),
    "maven": ("maven", "Maven"),
    "cargo": ("crates.io", "crates.io"),
    "gem": ("rubygems", "RubyGems"),
}
_BUCKETS = dict(LANGUAGE_ECOSYSTEMS.values())


class OsvLanguageMatcher:
    name = "osv"
    ecosystem_by_type = True

    def ecosystem(self, package: Package, os_info: OSInfo | None) -> str | None:
        pair = LANGUAGE_ECOSYSTEMS.get(package.type)
        return pair[0] if pair else None

    def feed(self, ecosystem: str) -> str:
        return f"osv/{_BUCKETS[ecosystem]}"

    def lookup_name(self, package: Package) -> str:
        if package.type == "maven" and package.namespace:
            return f"{package.namespace}:{package.name}"
        return package.name

    def match(self, package: Package, ecosystem: str, rows: Sequence[Affected]) -> MatchOutcome:
        if package.type == "golang" and package.version in ("(devel)", ""):
            return NOTHING  # a main module built from a checkout has no version to compare
        return match_osv_rows(package, ecosystem, package.version, rows)
