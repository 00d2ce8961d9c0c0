"""rpm distributions of the Red Hat family, each against its own vendor's data for its release.

The OS release picks the data set (``rhel`` 9 → ``redhat:9``, ``amzn`` 2023 → ``amazon:2023``); a
release the database holds no rows for is a coverage gap, never clean.  Versions compare as
``rpmvercmp`` on ``[epoch:]version-release`` (a missing epoch is 0).

- RHEL and UBI (``rhel``): Red Hat CSAF, by **source** package; modular packages are judged only
  by rows of their module stream (from the ``modularitylabel`` header).
- Oracle Linux (``ol``): ELSA OVAL; Amazon Linux (``amzn``): ALAS ``updateinfo.xml``; both by
  binary package, rows scoped to an arch apply to packages of that arch.
- Fedora (``fedora``): Bodhi stable security updates, by **source** package (Koji builds are
  source NVRs); the release key is the whole ``VERSION_ID`` (``fedora:40``).
- AlmaLinux and Rocky Linux: their OSV ecosystems (``AlmaLinux:9``, ``Rocky Linux:9``), by binary
  package, OSV range semantics with rpm ordering.

CentOS has no matcher: no vendor feed with fix data is wired for it, so its packages are reported
as not matched (see docs/accuracy.md, OS coverage).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from imagetrust import versions
from imagetrust.catalog.model import OSInfo, Package
from imagetrust.match.db.store import Affected
from imagetrust.match.fixstate import rpm_verdict
from imagetrust.match.matchers.base import NOTHING, MatchOutcome
from imagetrust.match.matchers.osvrange import evaluate
from imagetrust.match.model import FIXED, NOT_FIXED, Match
from imagetrust.match.names import normalize_ecosystem

_cmp = versions.comparator("rpm")

# os-release ID → (matcher name, database ecosystem prefix)
VENDOR_ECOSYSTEMS = {"rhel": "redhat", "ol": "oracle", "amzn": "amazon", "fedora": "fedora"}
VENDOR_FEEDS = {"redhat": "redhat-csaf", "oracle": "oracle-elsa", "amazon": "amazon-alas",
                "fedora": "fedora-bodhi"}
OSV_ECOSYSTEMS = {"almalinux": "AlmaLinux", "rocky": "Rocky Linux"}


def rpm_release(os_info: OSInfo | None) -> str | None:
    """The release key of the data set: the major version (``9.4`` → ``9``); Amazon Linux's
    ``2`` or ``2023``."""
    if os_info is None or not os_info.version_id:
        return None
    major = os_info.version_id.split(".")[0]
    return major if major.isdigit() else None


def module_stream(package: Package) -> str | None:
    """``nodejs:18`` from the header's ``nodejs:18:8090020231019152822:a75119d5``."""
    label = package.metadata.get("modularitylabel")
    if not label:
        return None
    parts = label.split(":")
    return ":".join(parts[:2]) if len(parts) >= 2 else None


class RpmVendorMatcher:
    """Red Hat, Oracle Linux, Amazon Linux or Fedora, by the vendor's own fix data."""

    ecosystem_by_type = True

    def __init__(self, os_id: str) -> None:
        self.os_id = os_id
        self.name = VENDOR_ECOSYSTEMS[os_id]
        self._by_source = self.name in ("redhat", "fedora")
        self._modular = self.name == "redhat"  # rows scoped to module streams

    def ecosystem(self, package: Package, os_info: OSInfo | None) -> str | None:
        if package.type != "rpm" or os_info is None or os_info.id != self.os_id:
            return None
        release = rpm_release(os_info)
        return f"{self.name}:{release}" if release else None

    def feed(self, ecosystem: str) -> str:
        return f"{VENDOR_FEEDS[self.name]}/{ecosystem.split(':', 1)[1]}" \
            if self.name != "redhat" else VENDOR_FEEDS[self.name]

    def lookup_name(self, package: Package) -> str:
        return (package.source_name or package.name) if self._by_source else package.name

    def installed(self, package: Package) -> str:
        if self._by_source:
            return package.source_version or package.version
        return package.version

    def _applicable(self, package: Package, rows: Sequence[Affected]) -> list[Affected]:
        """Rows that speak of this build: its module stream (Red Hat) or its arch (others)."""
        if self._modular:
            stream = module_stream(package)
            if stream is None and ".module+" in package.version:
                return list(rows)  # modular build without a label: every stream's verdict
            return [r for r in rows if r.nodsa == stream]
        arches = {r.nodsa for r in rows if r.nodsa}
        if package.architecture in arches:
            return [r for r in rows if r.nodsa in (None, package.architecture)]
        return list(rows)  # noarch or unknown: OVAL scoped by machine arch, take them all

    def match(self, package: Package, ecosystem: str, rows: Sequence[Affected]) -> MatchOutcome:
        if not rows:
            return NOTHING
        by_advisory: dict[str, list[Affected]] = {}
        for row in self._applicable(package, rows):
            by_advisory.setdefault(row.advisory_id, []).append(row)
        return judge_rpm_rows(package, self.installed(package), ecosystem, by_advisory)


class RpmOsvMatcher:
    """AlmaLinux or Rocky Linux against the distribution's OSV records, by binary package."""

    ecosystem_by_type = True

    def __init__(self, os_id: str) -> None:
        self.os_id = os_id
        self.name = os_id
        self._osv = OSV_ECOSYSTEMS[os_id]

    def ecosystem(self, package: Package, os_info: OSInfo | None) -> str | None:
        if package.type != "rpm" or os_info is None or os_info.id != self.os_id:
            return None
        release = rpm_release(os_info)
        return normalize_ecosystem(f"{self._osv}:{release}") if release else None

    def feed(self, ecosystem: str) -> str:
        return f"osv/{self._osv}"

    def lookup_name(self, package: Package) -> str:
        return package.name

    def match(self, package: Package, ecosystem: str, rows: Sequence[Affected]) -> MatchOutcome:
        if not rows:
            return NOTHING
        best: dict[str, tuple[Affected, str | None]] = {}
        problems: list[str] = []
        for row in rows:
            try:
                verdict = evaluate(package.version, row.ranges, row.versions, _cmp, _cmp)
            except versions.InvalidVersion as error:
                problems.append(f"{package.name} {package.version} vs {row.advisory_id}: {error}")
                continue
            if not verdict.affected:
                continue
            seen = best.get(row.advisory_id)
            fix = verdict.fixed_version
            if seen is None or (fix is not None and (seen[1] is None or _cmp(fix, seen[1]) < 0)):
                best[row.advisory_id] = (row, fix)
        if not best and not problems:
            return NOTHING
        found = tuple(
            Match(package, advisory, row.source, ecosystem, FIXED if fix else NOT_FIXED, fix,
                  None)
            for advisory, (row, fix) in best.items()
        )
        return MatchOutcome(found, tuple(problems))


def rpm_matchers() -> list[RpmVendorMatcher | RpmOsvMatcher]:
    return [
        RpmVendorMatcher("rhel"), RpmVendorMatcher("ol"), RpmVendorMatcher("amzn"),
        RpmVendorMatcher("fedora"),
        RpmOsvMatcher("almalinux"), RpmOsvMatcher("rocky"),
    ]


def judge_rpm_rows(
    package: Package,
    installed: str,
    ecosystem: str,
    by_advisory: Mapping[str, Sequence[Affected]],
    *,
    with_detail: bool = True,
) -> MatchOutcome:
    """Each advisory's rows → one match by :func:`rpm_verdict` (every rpm vendor feed's rule);
    ``with_detail`` passes the vendor's remediation words (Red Hat's) to the verdict."""
    found: list[Match] = []
    problems: list[str] = []
    for advisory, items in by_advisory.items():
        rows = [(r.state, r.fixed_version, r.nodsa_reason if with_detail else None)
                for r in items]
        try:
            verdict = rpm_verdict(installed, rows, _cmp)
        except versions.InvalidVersion as error:
            problems.append(f"{package.name} {advisory}: {error}")
            continue
        if verdict.state is None:
            continue
        found.append(Match(package, advisory, items[0].source, ecosystem, verdict.state,
                           verdict.fixed_version, verdict.distro_status))
    if not found and not problems:
        return NOTHING
    return MatchOutcome(tuple(found), tuple(problems))
