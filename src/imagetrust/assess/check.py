"""The assess stage's entry point: every trust signal of one opened image, as evidence.

The application layer opens the image, inventories and scans it, then hands the results here;
this module only establishes signals (publisher, supported tag, freshness, base image,
vulnerabilities, attestations) and stops at evidence. Turning evidence into a level is the
policy stage's job. A signal that cannot be established says why and stays ``unknown``: a
registry that cannot be reached never turns into a pass or a crash.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from imagetrust.assess.attestations import (
    AttestationResult,
    assess_attestations,
    attestation_evidence,
)
from imagetrust.assess.base_image import (
    BaseImageResult,
    base_evidence,
    detect_base,
    findings_share,
)
from imagetrust.assess.evidence import Evidence, Outcome, Signal
from imagetrust.assess.freshness import (
    CurrentImage,
    FreshnessResult,
    ScannedCopy,
    check_freshness,
    freshness_evidence,
)
from imagetrust.assess.lifecycle import (
    Release,
    lifecycle_evidence,
    os_release,
    runtime_releases,
)
from imagetrust.assess.model import ImageInfo, PullDiff, TrustSignals, VulnSummary, pull_diff
from imagetrust.assess.official import OfficialLibrary, official_name
from imagetrust.assess.pinned import image_digests, tags_at_digest
from imagetrust.assess.publishers import PublisherInfo, classify_publisher
from imagetrust.catalog.model import Catalog, OSInfo
from imagetrust.config import Settings
from imagetrust.errors import ImagetrustError
from imagetrust.image.model import Image, Platform
from imagetrust.reference.parse import ImageReference, LocalReference, Target, parse_reference
from imagetrust.source.daemon.model import LocalImageInfo
from imagetrust.source.interface import ImageSource

if TYPE_CHECKING:
    from imagetrust.assess.hub import HubClient
    from imagetrust.source.registry.client import RegistryClient

ESTABLISHED_TIERS = frozenset({"official", "verified-publisher", "sponsored-oss", "trusted-vendor"})


@dataclass(frozen=True)
class Assessment:
    """Everything ``check`` established about one image, evidence in :class:`Signal` order."""

    image: ImageInfo
    evidence: tuple[Evidence, ...]
    publisher_tier: str
    tag_status: str
    """supported, unsupported, unknown, not-applicable."""
    freshness: FreshnessResult
    base: BaseImageResult
    attestations: AttestationResult
    vulnerabilities: VulnSummary | None
    """None: not scanned."""
    pull: PullDiff | None
    """What pulling the tag's current image would change (None: not computed)."""
    lifecycle: tuple[Release, ...] = ()
    """The OS release and runtimes found, with their support dates."""
    licenses: tuple[str, ...] | None = None
    """Every package licence (None: packages not inventoried)."""

    def evidence_for(self, signal: Signal) -> Evidence:
        return next(e for e in self.evidence if e.signal == signal)

    @property
    def signals(self) -> TrustSignals:
        """What the verdict reads from this assessment."""
        return TrustSignals(
            reference=self.image.tag_reference or self.image.reference,
            publisher_tier=self.publisher_tier,
            tag_status=self.tag_status,
            freshness=self.freshness.state,
            days_behind=self.freshness.days_behind,
            pull=self.pull,
            vulnerabilities=self.vulnerabilities,
            base_status=self.base.status,
            attestations=self.attestations.state,
            registry_reference=self.image.tag_reference,
            end_of_life=tuple(r.sentence() for r in self.lifecycle if r.ended),
            lifecycle_known=bool(self.lifecycle),
            age_days=self.image.age_days,
            user=self.image.user,
            base_reference=self.base.reference,
            licenses=self.licenses,
        )


@dataclass(frozen=True)
class ScanOutcome:
    """What the application layer's scan found for the assessed image, or why it could not."""

    summary: VulnSummary | None
    catalog: Catalog | None = None
    error: str | None = None
    """Why there is no summary (the inventory or the scan failed)."""


RescanFn = Callable[[CurrentImage, Platform], VulnSummary]
"""Scan the image a tag points to now (for "what pulling would fix")."""


def assess_image(
    image: Image,
    source: ImageSource,
    *,
    ref: ImageReference | None,
    ref_origin: str | None,
    client: RegistryClient,
    settings: Settings,
    library: OfficialLibrary | None = None,
    hub_client: HubClient | None = None,
    scan: ScanOutcome | None = None,
    rescan: RescanFn | None = None,
    local: LocalImageInfo | None = None,
    now: datetime | None = None,
) -> Assessment:
    """Every trust signal of an opened image judged as ``ref`` (see :func:`tag_reference`).

    ``scan`` is None when vulnerabilities were not asked for; ``rescan`` scans the tag's
    current image when this one is behind; ``local`` adds the RepoDigests a daemon recorded.
    """
    return _Assessor(settings, library, hub_client, scan, rescan, now, client, local).run(
        image, source, ref, ref_origin
    )


def tag_reference(
    target: Target, image: Image, tag: str | ImageReference | None
) -> tuple[ImageReference | None, str | None]:
    """The registry reference the image is judged as, and where that name came from."""
    if tag is not None:
        return (parse_reference(tag) if isinstance(tag, str) else tag), "given"
    if isinstance(target, ImageReference):
        return target, "reference"
    assert isinstance(target, LocalReference)
    for name in image.repo_tags:
        if ":" not in name.rsplit("/", 1)[-1]:
            continue  # a bare layout ref name ("app") is a label, not an image name
        try:
            return parse_reference(name), f"{image.source_kind} tag"
        except ImagetrustError:
            continue
    return None, None


@dataclass
class _Assessor:
    settings: Settings
    library: OfficialLibrary | None
    hub_client: HubClient | None
    scan: ScanOutcome | None
    rescan: RescanFn | None
    now: datetime | None
    client: RegistryClient
    local: LocalImageInfo | None

    def run(
        self, image: Image, source: ImageSource, ref: ImageReference | None, origin: str | None
    ) -> Assessment:
        publisher_info, publisher = self._publisher(ref, origin)
        tag_state, supported = self._supported_tag(ref)
        supported = self._pinned(ref, image, tag_state, supported)
        is_official = publisher_info is not None and publisher_info.tier == "official"
        copy = ScannedCopy.of_image(image, ref, self.local)
        fresh = check_freshness(copy, ref, self.client, official=is_official, now=self.now)
        packages = self.scan.catalog if self.scan is not None else None
        vulns, vuln_evidence = self._vulnerabilities()
        pull, pull_note = self._pull(fresh, vulns, image)
        attest = assess_attestations(
            source, image, ref, self.library, image_behind=fresh.state == "behind"
        )
        probed: list[OSInfo | None] = []

        def os_info() -> OSInfo | None:
            if packages is not None:
                return packages.os
            if not probed:  # reads layers: only when base detection needs the layer chain
                probed.append(_probe_os(source, image, self.settings.cache_dir))
            return probed[0]

        base = detect_base(
            image,
            client=self.client,
            official_library=self.library,
            os_info=os_info,
            attestations=attest.attestations,
            cache_dir=self.settings.cache_dir,
            ref=ref,
        )
        share = (
            findings_share(vulns, packages, base.layer_count)
            if vulns is not None and packages is not None and base.layer_count
            else None
        )
        freshness = freshness_evidence(fresh)
        if pull is not None or pull_note:
            details = dict(freshness.details)
            details["pulling_fixes"] = pull.to_json() if pull else None
            summary = freshness.summary
            if pull is not None:
                summary += f"; pulling would fix {len(pull.fixed)} and add {len(pull.introduced)}"
            else:
                details["pulling_fixes_error"] = pull_note
            freshness = Evidence(freshness.signal, freshness.outcome, summary, details)
        known_os = packages.os if packages is not None else (probed[0] if probed else None)
        today = (self.now or datetime.now(UTC)).date()
        found_os = os_release(known_os, today)
        lifecycle = (
            *((found_os,) if found_os is not None else ()),
            *runtime_releases(image.config.env_map, today),
        )
        evidence = (
            publisher,
            supported,
            freshness,
            base_evidence(base, share),
            vuln_evidence,
            attestation_evidence(attest),
            lifecycle_evidence(lifecycle, known_os),
        )
        info = ImageInfo(
            reference=image.reference,
            digest=image.digest,
            index_digest=image.index_digest,
            config_digest=image.config.digest,
            platform=str(image.platform),
            source_kind=image.source_kind,
            tag_reference=str(ref) if ref else None,
            user=image.config.user,
            age_days=fresh.age_days,
        )
        licenses = (
            tuple(sorted({name for pkg in packages.packages for name in pkg.licenses}))
            if packages is not None
            else None
        )
        return Assessment(
            image=info,
            evidence=evidence,
            publisher_tier=publisher_info.tier if publisher_info else "unknown",
            tag_status=tag_state,
            freshness=fresh,
            base=base,
            attestations=attest,
            vulnerabilities=vulns,
            pull=pull,
            lifecycle=lifecycle,
            licenses=licenses,
        )

    def _publisher(
        self, ref: ImageReference | None, origin: str | None
    ) -> tuple[PublisherInfo | None, Evidence]:
        if ref is None:
            return None, Evidence(
                Signal.PUBLISHER,
                Outcome.UNKNOWN,
                "no registry name is known for this image, so its publisher cannot be told; "
                "pass the tag it was pulled as",
                {"tier": "unknown"},
            )
        info = classify_publisher(ref, self.library, self.hub_client)
        if info.tier in ESTABLISHED_TIERS:
            outcome = Outcome.PASS if info.confirmed else Outcome.WARN
        elif info.tier == "community":
            outcome = Outcome.WARN
        else:
            outcome = Outcome.UNKNOWN
        summary = info.reason
        if origin and origin.endswith(" tag"):
            summary += f" (name taken from the {origin}, not from where it was pulled)"
        details: dict[str, Any] = {
            "tier": info.tier,
            "evidence": info.evidence,
            "confirmed": info.confirmed,
            "publisher": info.publisher_name,
            "reference": str(ref),
            "reference_from": origin,
            "how_to_verify": list(info.how_to_verify),
        }
        return info, Evidence(Signal.PUBLISHER, outcome, summary, details)

    def _supported_tag(self, ref: ImageReference | None) -> tuple[str, Evidence]:
        if ref is None or official_name(ref) is None:
            return "not-applicable", Evidence(
                Signal.SUPPORTED_TAG,
                Outcome.UNKNOWN,
                "only Docker Official Images publish which tags are still rebuilt",
                {"state": "not-applicable"},
            )
        if self.library is None:
            return "unknown", Evidence(
                Signal.SUPPORTED_TAG,
                Outcome.UNKNOWN,
                "no official-images catalog is loaded; run `imagetrust catalog update`",
                {"state": "unknown"},
            )
        status = self.library.tag_status(ref)
        outcome = {"supported": Outcome.PASS, "unsupported": Outcome.FAIL}.get(
            status.state, Outcome.UNKNOWN
        )
        details = {
            "state": status.state,
            "image": status.image,
            "tag": status.tag,
            "suggestions": list(status.suggestions),
            "catalog_commit": status.catalog_commit,
        }
        return status.state, Evidence(Signal.SUPPORTED_TAG, outcome, status.reason, details)

    def _pinned(
        self, ref: ImageReference | None, image: Image, state: str, evidence: Evidence
    ) -> Evidence:
        """For a digest-pinned official image, name the supported tags at that digest today."""
        if ref is None or ref.tag is not None or self.library is None or state != "unknown":
            return evidence
        if official_name(ref) is None:
            return evidence
        tags = tags_at_digest(ref, image_digests(image), self.library, self.client)
        details = {**evidence.details, "tags_at_digest": list(tags) if tags is not None else None}
        if tags is None:
            return Evidence(evidence.signal, evidence.outcome, evidence.summary, details)
        if tags:
            summary = f"pinned by digest; supported tags pointing to it today: {', '.join(tags)}"
            return Evidence(evidence.signal, Outcome.PASS, summary, details)
        summary = (
            "pinned by digest, and no supported tag points to this digest any more: "
            "the pinned image is no longer what any maintained tag serves"
        )
        return Evidence(evidence.signal, Outcome.WARN, summary, details)

    def _vulnerabilities(self) -> tuple[VulnSummary | None, Evidence]:
        if self.scan is None:
            return None, Evidence(
                Signal.VULNERABILITIES, Outcome.UNKNOWN, "not scanned", {"scanned": False}
            )
        if self.scan.summary is None:
            error = self.scan.error or "unknown error"
            return None, Evidence(
                Signal.VULNERABILITIES,
                Outcome.UNKNOWN,
                f"not scanned: {error}",
                {"scanned": False, "error": error},
            )
        return self.scan.summary, vulnerability_evidence(self.scan.summary)

    def _pull(
        self, fresh: FreshnessResult, scanned: VulnSummary | None, image: Image
    ) -> tuple[PullDiff | None, str | None]:
        """Scan what the tag points to now and diff: the findings a pull would fix."""
        if self.rescan is None or scanned is None or fresh.state != "behind":
            return None, None
        current = fresh.current
        if current is None:
            return None, None
        try:
            now_summary = self.rescan(current, image.platform)
        except ImagetrustError as error:
            return None, f"could not scan {current.ref.familiar}: {error}"
        return pull_diff(scanned, now_summary, current.digest), None


def vulnerability_evidence(summary: VulnSummary) -> Evidence:
    """Findings judged by severity, fix and KEV; zero findings pass only with full coverage."""
    critical = summary.fixable_count("critical")
    high = summary.fixable_count("high")
    kev = summary.kev_count
    if kev or critical:
        outcome = Outcome.FAIL
    elif high:
        outcome = Outcome.WARN
    else:
        outcome = Outcome.PASS
    parts = [f"{len(summary)} vulnerabilities"]
    if len(summary):
        parts.append(
            ", ".join(f"{count} {severity}" for severity, count in summary.by_severity.items())
        )
    parts.append(f"fixable: {critical} critical, {high} high")
    if kev:
        parts.append(f"{kev} known exploited (CISA KEV)")
    if summary.suppressed:
        parts.append(f"{len(summary.suppressed)} suppressed by VEX or exceptions")
    if summary.coverage == "none":
        outcome = Outcome.UNKNOWN if outcome is Outcome.PASS else outcome
        parts.insert(0, f"not covered: {summary.coverage_reason}")
    elif summary.coverage == "partial":
        outcome = Outcome.UNKNOWN if outcome is Outcome.PASS else outcome
        parts.insert(0, f"partially scanned: {summary.coverage_reason}")
    details = {
        "scanned": True,
        "total": len(summary),
        "by_severity": summary.by_severity,
        "fixable_critical": critical,
        "fixable_high": high,
        "kev": kev,
        "kev_ids": sorted({f.id for f in summary if f.kev}),
        "coverage": summary.coverage,
        "coverage_reason": summary.coverage_reason,
        "suppressed": [
            {"id": i, "package": package, "by": by} for i, package, by in summary.suppressed
        ],
    }
    return Evidence(Signal.VULNERABILITIES, outcome, "; ".join(parts), details)


def _probe_os(source: ImageSource, image: Image, cache_dir: Path) -> OSInfo | None:
    """Read only the release files (for layer-chain base detection without a full inventory)."""
    from imagetrust.catalog.osrelease import OS_REQUEST, detect_os
    from imagetrust.catalog.registry import inventory_key
    from imagetrust.image.reader import read_files

    try:
        found = read_files(
            source, image, [OS_REQUEST], cache_dir=cache_dir, cache_key=inventory_key([])
        )
        return detect_os(found)
    except ImagetrustError:
        return None
