"""Debian packages against the Debian security tracker, by source package and release codename.

The tracker files everything under the *source* package (``glibc``, not ``libc6``) and its fixed
versions are source versions, so a binNMU binary ``2.36-9+b1`` is judged by its source version
``2.36-9``.  Each binary package still gets its own finding, as Trivy and Grype report them.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from imagetrust import versions
from imagetrust.catalog.model import OSInfo, Package
from imagetrust.match.db.store import Affected, VulnDB
from imagetrust.match.fixstate import FixVerdict, debian_verdict
from imagetrust.match.matchers.base import NOTHING, MatchOutcome
from imagetrust.match.model import Match
from imagetrust.match.names import debian_ecosystem
from imagetrust.match.severity import debian_rating
from imagetrust.versions.dpkg import sortable

# os-release VERSION_ID → codename, for images (distroless) that lack VERSION_CODENAME
CODENAMES = {
    "7": "wheezy", "8": "jessie", "9": "stretch", "10": "buster", "11": "bullseye",
    "12": "bookworm", "13": "trixie", "14": "forky",
}


def _cmp(a: str, b: str) -> int:
    return versions.compare("deb", a, b)


def debian_release(os_info: OSInfo | None) -> str | None:
    if os_info is None or os_info.id != "debian":
        return None
    if os_info.codename:
        return os_info.codename.lower()
    major = (os_info.version_id or "").split(".")[0]
    return CODENAMES.get(major)


class DebianMatcher:
    name = "debian"
    ecosystem_by_type = True

    def ecosystem(self, package: Package, os_info: OSInfo | None) -> str | None:
        if package.type != "deb":
            return None
        release = debian_release(os_info)
        return debian_ecosystem(release) if release else None

    def feed(self, ecosystem: str) -> str:
        return "debian-tracker"

    def lookup_name(self, package: Package) -> str:
        return package.source_name or package.name

    def fetch_rows(
        self, db: VulnDB, ecosystem: str, packages: Sequence[Package]
    ) -> dict[str, list[Affected]]:
        """Only rows that can affect the installed source versions (see ``affected_after``)."""
        lowest: dict[str, str | None] = {}
        for package in packages:
            name = package.source_name or package.name  # lookup_name, inlined: runs per package
            try:
                key: str | None = sortable(package.source_version or package.version)
            except versions.InvalidVersion:
                key = None  # the matcher reports it against every row
            if name not in lowest:
                lowest[name] = key
            elif key is None or (seen := lowest[name]) is None:
                lowest[name] = None
            elif key < seen:
                lowest[name] = key
        return db.affected_after(ecosystem, lowest)

    def match(self, package: Package, ecosystem: str, rows: Sequence[Affected]) -> MatchOutcome:
        if not rows:
            return NOTHING
        installed = package.source_version or package.version
        found: list[Match] = []
        problems: list[str] = []
        for row in rows:
            verdict, error = _judge(
                installed, row.state, row.fixed_version, row.urgency, row.nodsa, row.nodsa_reason
            )
            if error is not None:
                problems.append(f"{package.name} {row.advisory_id}: {error}")
                continue
            if verdict is None or verdict.state is None:
                continue
            found.append(
                Match(package, row.advisory_id, row.source, ecosystem, verdict.state,
                      verdict.fixed_version, verdict.distro_status, debian_rating(row.urgency),
                      f"no-dsa: {row.nodsa}" if row.nodsa else None)
            )
        if not found and not problems:
            return NOTHING
        return MatchOutcome(tuple(found), tuple(problems))


@lru_cache(maxsize=65536)
def _judge(
    installed: str, state: str, fixed_version: str | None, urgency: str | None,
    nodsa: str | None, nodsa_reason: str | None,
) -> tuple[FixVerdict | None, str | None]:
    """``debian_verdict`` or the error it raised, once per distinct input: every binary of a
    source package (libc6, libc-bin, locales…) asks the same questions of the same rows."""
    try:
        return debian_verdict(installed, state, fixed_version, urgency, nodsa, nodsa_reason,
                              _cmp), None
    except versions.InvalidVersion as error:
        return None, str(error)
