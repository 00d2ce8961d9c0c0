"""Ubuntu packages against Ubuntu's OSV records (``Ubuntu:22.04:LTS``), by source package.

Only the public archive's ecosystem is consulted: fixes published for Ubuntu Pro
(``ubuntu-pro:*``) are not installable without a subscription, so they do not make a finding
"fixed".
"""

from __future__ import annotations

from collections.abc import Sequence

from imagetrust.catalog.model import OSInfo, Package
from imagetrust.match.db.store import Affected
from imagetrust.match.matchers.base import MatchOutcome
from imagetrust.match.matchers.osvmatch import match_osv_rows


def ubuntu_release(os_info: OSInfo | None) -> str | None:
    if os_info is None or os_info.id != "ubuntu" or not os_info.version_id:
        return None
    return os_info.version_id


class UbuntuMatcher:
    name = "ubuntu"
    ecosystem_by_type = True

    def ecosystem(self, package: Package, os_info: OSInfo | None) -> str | None:
        if package.type != "deb":
            return None
        release = ubuntu_release(os_info)
        return f"ubuntu:{release}" if release else None

    def feed(self, ecosystem: str) -> str:
        return "osv/Ubuntu"

    def lookup_name(self, package: Package) -> str:
        return package.source_name or package.name

    def match(self, package: Package, ecosystem: str, rows: Sequence[Affected]) -> MatchOutcome:
        installed = package.source_version or package.version
        return match_osv_rows(package, ecosystem, installed, rows)
