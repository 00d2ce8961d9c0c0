"""SUSE Linux Enterprise, SLE Micro and openSUSE Leap against SUSE's OVAL, by binary package.

Apart from :mod:`~imagetrust.match.matchers.rpm` because the release key differs: SUSE keys a
release by its service pack (``VERSION_ID`` ``15.5`` → ``sles:15.5``, one data set per SP, as
SUSE ships different builds to each), where the Red Hat family keys by major version; and one
feed unit (an upstream file, ``suse-oval/sles-15``) holds many releases.  The fix semantics are
the Red Hat family's (:func:`~imagetrust.match.fixstate.rpm_verdict`): the lowest fixed EVR of
a CVE in the release decides, compared as ``rpmvercmp`` with the epoch; a not-affected row is
no finding.  A release the database holds no rows for is a coverage gap, never clean.
"""

from __future__ import annotations

from collections.abc import Sequence

from imagetrust.catalog.model import OSInfo, Package
from imagetrust.match.db.store import Affected
from imagetrust.match.matchers.base import NOTHING, MatchOutcome
from imagetrust.match.matchers.rpm import judge_rpm_rows

# os-release ID → the family the feed keys releases by
SUSE_FAMILIES = {
    "sles": "sles", "sles_sap": "sles", "sled": "sles",  # one codestream, the same packages
    "sle-micro": "sle-micro",
    "opensuse-leap": "opensuse-leap",
}
FEED = "suse-oval"


def suse_release(os_info: OSInfo | None) -> str | None:
    """``sles`` ``15.5`` → ``sles:15.5``; ``15`` stays ``15`` (SLES 15 GA); None: not SUSE."""
    if os_info is None or not os_info.version_id or os_info.id not in SUSE_FAMILIES:
        return None
    version = os_info.version_id.strip()
    if not all(part.isdigit() for part in version.split(".")):
        return None
    return f"{SUSE_FAMILIES[os_info.id]}:{version}"


class SuseMatcher:
    """One SUSE family (``sles``, ``sle-micro``, ``opensuse-leap``) against its OVAL rows."""

    ecosystem_by_type = True

    def __init__(self, family: str) -> None:
        self.name = family

    def ecosystem(self, package: Package, os_info: OSInfo | None) -> str | None:
        if package.type != "rpm":
            return None
        release = suse_release(os_info)
        return release if release and release.split(":")[0] == self.name else None

    def feed(self, ecosystem: str) -> str:
        from imagetrust.match.feeds.suse_oval import unit_of

        return f"{FEED}/{unit_of(ecosystem)}"

    def lookup_name(self, package: Package) -> str:
        return package.name

    def match(self, package: Package, ecosystem: str, rows: Sequence[Affected]) -> MatchOutcome:
        if not rows:
            return NOTHING
        by_cve: dict[str, list[Affected]] = {}
        for row in rows:
            by_cve.setdefault(row.advisory_id, []).append(row)
        return judge_rpm_rows(package, package.version, ecosystem, by_cve, with_detail=False)


def suse_matchers() -> list[SuseMatcher]:
    return [SuseMatcher("sles"), SuseMatcher("sle-micro"), SuseMatcher("opensuse-leap")]
