"""Photon OS rpm packages against Photon's CVE metadata for the image's release, by source rpm.

Photon files each CVE under the package spec (the source rpm name) with the first fixed
``version-release`` (``2.7.6-2.ph3``); versions are compared with rpm's ordering
(:func:`imagetrust.match.fixstate.photon_verdict`).
"""

from __future__ import annotations

from collections.abc import Sequence

from imagetrust import versions
from imagetrust.catalog.model import OSInfo, Package
from imagetrust.match.db.store import Affected
from imagetrust.match.fixstate import photon_verdict
from imagetrust.match.matchers.base import NOTHING, MatchOutcome
from imagetrust.match.model import Match

_CMP = versions.comparator("rpm")


def photon_release(os_info: OSInfo | None) -> str | None:
    """``3.0``/``5.0`` from VERSION_ID (``5`` → ``5.0``); None when not Photon or unknown."""
    if os_info is None or os_info.id != "photon" or not os_info.version_id:
        return None
    major, _, minor = os_info.version_id.partition(".")
    return f"{major}.{minor.split('.')[0] or '0'}"


class PhotonMatcher:
    name = "photon"
    ecosystem_by_type = True

    def ecosystem(self, package: Package, os_info: OSInfo | None) -> str | None:
        if package.type != "rpm":
            return None
        release = photon_release(os_info)
        return f"photon:{release}" if release else None

    def feed(self, ecosystem: str) -> str:
        return f"photon-cve/{ecosystem.split(':', 1)[1]}"

    def lookup_name(self, package: Package) -> str:
        return package.source_name or package.name

    def match(self, package: Package, ecosystem: str, rows: Sequence[Affected]) -> MatchOutcome:
        if not rows:
            return NOTHING
        installed = package.source_version or package.version
        best: dict[str, Match] = {}
        problems: list[str] = []
        for row in rows:
            try:
                verdict = photon_verdict(installed, row.state, row.fixed_version, _CMP)
            except versions.InvalidVersion as error:
                problems.append(f"{package.name} {row.advisory_id}: {error}")
                continue
            if verdict.state is None:
                continue
            seen = best.get(row.advisory_id)
            if seen is None or _lower_fix(verdict.fixed_version, seen.fixed_version):
                best[row.advisory_id] = Match(
                    package, row.advisory_id, row.source, ecosystem, verdict.state,
                    verdict.fixed_version, verdict.distro_status,
                )
        return MatchOutcome(tuple(best.values()), tuple(problems))


def _lower_fix(new: str | None, old: str | None) -> bool:
    """Of two rows for one CVE, a published fix beats none and the lower fix is the first to
    install."""
    if new is None:
        return False
    return old is None or _CMP(new, old) < 0
