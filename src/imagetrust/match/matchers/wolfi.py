"""Wolfi and Chainguard apk packages against their secdb, by origin package.

Both are rolling distributions: there is no release, the whole secdb applies to every image
(``wolfi`` or ``chainguard`` ecosystem, from os-release ``ID``).  The secdb is Alpine's format, so
the verdict is Alpine's: affected while older than the version whose secfixes name the CVE,
never affected under version ``0``; versions ordered by apk's rules.
"""

from __future__ import annotations

from collections.abc import Sequence

from imagetrust.catalog.model import OSInfo, Package
from imagetrust.match.db.store import Affected
from imagetrust.match.matchers.alpine import match_secdb
from imagetrust.match.matchers.base import MatchOutcome

_FEEDS = {"wolfi": "wolfi-secdb", "chainguard": "chainguard-secdb"}


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
        return match_secdb(package, ecosystem, rows)
