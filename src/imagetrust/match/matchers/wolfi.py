"""Wolfi and Chainguard apk packages against their secdb, by origin package.

Both are rolling distributions: there is no release, the whole secdb applies to every image
(``wolfi`` or ``chainguard`` ecosystem, from os-release ``ID``).  The secdb is Alpine's format, so
the verdict is Alpine's: affected while older than the version whose secfixes name the CVE,
never affected under version ``0``; versions ordered by apk's rules.
"""

from __future__ import annotations

from collections.abc import Sequence

from imagetrust import versions
from imagetrust.catalog.model import OSInfo, Package
from imagetrust.match.db.store import Affected
from imagetrust.match.fixstate import alpine_verdict
from imagetrust.match.matchers.base import NOTHING, MatchOutcome
from imagetrust.match.model import Match

_FEEDS = {"wolfi": "wolfi-secdb", "chainguard": "chainguard-secdb"}


def _cmp(a: str, b: str) -> int:
    return versions.compare("apk", a, b)


class WolfiMatcher:
    name = "wolfi"
    ecosystem_by_type = True

    def ecosystem(self, package: Package, os_info: OSInfo | None) -> str | None:
        if package.type != "apk" or os_info is None or os_info.id not in _FEEDS:
            return None
        return os_info.id

    def feed(self, ecosystem: str) -> str:
        return _FEEDS[ecosystem]

    def lookup_name(self, package: Package) -> str:
        return package.source_name or package.name

    def match(self, package: Package, ecosystem: str, rows: Sequence[Affected]) -> MatchOutcome:
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
            if verdict.state is not None:
                found.append(Match(package, cve, sources[cve], ecosystem, verdict.state,
                                   verdict.fixed_version, verdict.distro_status))
        return MatchOutcome(tuple(found), tuple(problems))
