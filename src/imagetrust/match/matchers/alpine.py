"""Alpine packages against the Alpine secdb of the image's branch (``v3.19``), by origin package.

secdb lists only fixes: a package is affected by a CVE when it is older than the version whose
secfixes name that CVE; a CVE under version ``0`` was never affected on Alpine.
"""

from __future__ import annotations

from collections.abc import Sequence

from imagetrust import versions
from imagetrust.catalog.model import OSInfo, Package
from imagetrust.match.db.store import Affected
from imagetrust.match.fixstate import alpine_verdict
from imagetrust.match.matchers.base import NOTHING, MatchOutcome
from imagetrust.match.model import Match
from imagetrust.match.names import alpine_ecosystem


def _cmp(a: str, b: str) -> int:
    return versions.compare("apk", a, b)


def alpine_release(os_info: OSInfo | None) -> str | None:
    if os_info is None or os_info.id != "alpine" or not os_info.version_id:
        return None
    if "_alpha" in os_info.version_id or "edge" in (os_info.pretty_name or "").lower():
        return "edge"
    return os_info.release


class AlpineMatcher:
    name = "alpine"
    ecosystem_by_type = True

    def ecosystem(self, package: Package, os_info: OSInfo | None) -> str | None:
        if package.type != "apk":
            return None
        release = alpine_release(os_info)
        return alpine_ecosystem(release) if release else None

    def feed(self, ecosystem: str) -> str:
        return f"alpine-secdb/{ecosystem.split(':', 1)[1]}"

    def lookup_name(self, package: Package) -> str:
        return package.source_name or package.name

    def match(self, package: Package, ecosystem: str, rows: Sequence[Affected]) -> MatchOutcome:
        return match_secdb(package, ecosystem, rows)


def match_secdb(package: Package, ecosystem: str, rows: Sequence[Affected]) -> MatchOutcome:
    """One package's secdb rows → matches, by Alpine's rule (a CVE listed under version ``0``
    never affected it; else affected while older than the highest version that lists it).
    Alpine, Wolfi and Chainguard publish the same format."""
    if not rows:
        return NOTHING
    by_cve: dict[str, list[str]] = {}
    sources: dict[str, str] = {}
    for row in rows:
        by_cve.setdefault(row.advisory_id, []).append(
            "0" if row.state == "not-affected" else (row.fixed_version or "0")
        )
        sources.setdefault(row.advisory_id, row.source)
    installed = package.source_version or package.version
    found: list[Match] = []
    problems: list[str] = []
    for cve, fixes in by_cve.items():
        try:
            verdict = alpine_verdict(installed, fixes, _cmp)
        except versions.InvalidVersion as error:
            problems.append(f"{package.name} {cve}: {error}")
            continue
        if verdict.state is None:
            continue
        found.append(
            Match(package, cve, sources[cve], ecosystem, verdict.state,
                  verdict.fixed_version, verdict.distro_status)
        )
    return MatchOutcome(tuple(found), tuple(problems))
