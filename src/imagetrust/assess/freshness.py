"""Freshness: is the scanned image still what its tag points to, and if not, how far behind?

A tag moves when the publisher rebuilds; an image pulled once and kept keeps its old packages.
The comparison uses ``HEAD`` (Docker Hub does not count it as a pull): the tag's digest now versus
the scanned image's index digest (or manifest digest when there was no index). Local images
(archives, layouts) carry no trustworthy registry digest, so for them the tag's current platform
manifest is resolved and the *config* digests are compared — the config names the content.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from imagetrust.assess.evidence import Evidence, Outcome, Signal
from imagetrust.errors import IntegrityError, ManifestError, SourceError
from imagetrust.image.manifest import Index, Manifest, parse_config, parse_manifest
from imagetrust.image.model import Image, ImageConfig, Platform
from imagetrust.image.open import select_platform
from imagetrust.reference.parse import ImageReference
from imagetrust.source.daemon.model import LocalImageInfo

if TYPE_CHECKING:
    from imagetrust.source.registry.client import RegistryClient

FreshnessState = Literal["current", "behind", "unknown"]
Compared = Literal["index", "manifest", "repo-digest", "config"]

SOURCE_DATE_EPOCH_CUTOFF = datetime(2025, 11, 1, tzinfo=UTC)
"""Official images built before this used SOURCE_DATE_EPOCH: ``created`` is the source's date."""

LOCAL_ONLY_REGISTRY = "localhost"
"""podman's name for images built or tagged locally: there is no registry tag to compare."""


@dataclass(frozen=True, slots=True)
class ScannedCopy:
    """The copy being judged, reduced to what the comparison with the tag needs.

    ``check`` builds it from an opened image, ``audit`` from the daemon's record of a local
    image, so both compare the same way: a registry digest this copy is known by, then the
    platform manifest (registry copies), then the config digest, which names the content.
    """

    config_digest: str
    platform: Platform
    created: datetime | None = None
    registry_digests: tuple[str, ...] = ()
    """Top-level digests this very copy was pulled as (a registry image's index and manifest
    digests; a daemon image's RepoDigests for the tag's repository)."""
    manifest_digest: str | None = None
    """The platform manifest digest of a registry copy (None for local copies, whose manifest
    was rewritten by the export)."""
    from_registry: bool = False

    @classmethod
    def of_image(
        cls, image: Image, ref: ImageReference | None = None, local: LocalImageInfo | None = None
    ) -> ScannedCopy:
        """An opened image; ``local`` adds the RepoDigests a daemon recorded for ``ref``."""
        if image.source_kind == "registry":
            digests = tuple(d for d in (image.index_digest, image.digest) if d)
            return cls(
                image.config.digest, image.platform, image.config.created, digests,
                image.digest, True,
            )
        recorded = local.digests_for(ref) if local is not None and ref is not None else ()
        return cls(image.config.digest, image.platform, image.config.created, recorded)

    @classmethod
    def of_local(
        cls, info: LocalImageInfo, ref: ImageReference, platform: Platform
    ) -> ScannedCopy:
        """A daemon's image record, without exporting the image."""
        return cls(
            info.image_id, info.platform or platform, info.created, info.digests_for(ref)
        )


@dataclass(frozen=True, slots=True)
class CurrentImage:
    """What the tag resolves to now for the scanned platform."""

    ref: ImageReference
    """The tag pinned at its current top-level digest (pull this to scan the current image)."""
    digest: str
    """Top-level digest the tag points at (index or manifest)."""
    manifest_digest: str
    config: ImageConfig


@dataclass(frozen=True, slots=True)
class FreshnessResult:
    state: FreshnessState
    reason: str
    tag_reference: str | None
    scanned_digest: str | None
    """The digest that was compared (see ``compared``)."""
    compared: Compared | None = None
    current: CurrentImage | None = None
    scanned_created: datetime | None = None
    days_behind: int | None = None
    age_days: int | None = None
    caveat: str | None = None
    tag_digest: str | None = None
    """What the tag points at in the registry now (None when it could not be asked)."""

    @property
    def current_digest(self) -> str | None:
        return self.current.digest if self.current else None

    @property
    def current_ref(self) -> ImageReference | None:
        return self.current.ref if self.current else None


def check_freshness(
    copy: ScannedCopy | Image,
    ref: ImageReference | None,
    client: RegistryClient,
    *,
    official: bool = False,
    now: datetime | None = None,
) -> FreshnessResult:
    """Compare the scanned copy with what ``ref``'s tag points to now; errors become
    ``unknown``. The one freshness comparison: ``check`` and ``audit`` both call it."""
    if isinstance(copy, Image):
        copy = ScannedCopy.of_image(copy, ref)
    now = now or datetime.now(UTC)
    created = copy.created
    age = max(0, (now - created).days) if created else None
    caveat = _caveat(created) if official else None
    base = FreshnessResult(
        "unknown", "", str(ref.with_digest(None)) if ref and ref.tag else None, None,
        scanned_created=created, age_days=age, caveat=caveat,
    )

    def unknown(reason: str) -> FreshnessResult:
        return replace(base, state="unknown", reason=reason)

    if ref is None:
        return unknown("no registry tag is known for this image, so there is nothing to compare")
    if ref.tag is None:
        return unknown(
            f"{ref.familiar} is pinned by digest without a tag, so what it should track is unknown"
        )
    if ref.registry == LOCAL_ONLY_REGISTRY:
        return unknown(f"{ref.familiar} was built or tagged locally: no registry tag to compare")
    tag_ref = ref.with_digest(None)
    try:
        head = client.head_manifest(tag_ref)
        base = replace(base, tag_digest=head.digest)
        if head.digest in copy.registry_digests:
            kind: Compared = (
                "repo-digest" if not copy.from_registry
                else "manifest" if head.digest == copy.manifest_digest else "index"
            )
            return replace(
                base, state="current", compared=kind, scanned_digest=head.digest,
                reason=f"{tag_ref.familiar} still points at {_short(head.digest)}",
            )
        current = resolve_current(tag_ref, head.digest, client, copy.platform)
    except (SourceError, ManifestError, IntegrityError) as error:
        return unknown(f"could not resolve {tag_ref.familiar} now: {error}")

    if copy.manifest_digest is not None and current.manifest_digest == copy.manifest_digest:
        return replace(
            base, state="current", compared="manifest", scanned_digest=copy.manifest_digest,
            current=current,
            reason=f"{tag_ref.familiar} was republished, but its {copy.platform} image is the "
            "one scanned",
        )
    if current.config.digest == copy.config_digest:
        return replace(
            base, state="current", compared="config", scanned_digest=copy.config_digest,
            current=current,
            reason=f"{tag_ref.familiar} still points at this image (config "
            f"{_short(copy.config_digest)})",
        )
    compared: Compared = "config"
    scanned = copy.config_digest
    if copy.from_registry and copy.registry_digests:
        compared = "index" if len(copy.registry_digests) > 1 else "manifest"
        scanned = copy.registry_digests[0]
    days = _days_between(created, current.config.created)
    ago = f" ({days} days newer)" if days is not None else ""
    return replace(
        base, state="behind", compared=compared, scanned_digest=scanned, current=current,
        days_behind=days,
        reason=f"{tag_ref.familiar} now points at {_short(current.digest)}{ago}; the scanned "
        "image is an older build",
    )


def resolve_current(
    tag_ref: ImageReference, digest: str, client: RegistryClient, platform: Platform
) -> CurrentImage:
    """The platform manifest and config under top-level ``digest`` (an index or a manifest)."""
    pinned = tag_ref.with_digest(digest)
    document = parse_manifest(client.get_manifest(pinned, digest))
    if isinstance(document, Index):
        entries = [
            d for d in document.manifests
            if d.platform is None or d.platform.os != "unknown"
        ]
        chosen = select_platform(entries, platform, f"{tag_ref.familiar} (index {digest})")
        document = parse_manifest(client.get_manifest(pinned, chosen.digest))
    if not isinstance(document, Manifest):
        raise ManifestError(f"{tag_ref.familiar}: nested index where a manifest was expected")
    config = parse_config(client.blob_bytes(pinned, document.config), document.config.digest)
    return CurrentImage(pinned, digest, document.digest, config)


def freshness_evidence(result: FreshnessResult) -> Evidence:
    details = {
        "state": result.state,
        "tag": result.tag_reference,
        "compared": result.compared,
        "scanned_digest": result.scanned_digest,
        "current_digest": result.current_digest,
        "current_manifest_digest": result.current.manifest_digest if result.current else None,
        "days_behind": result.days_behind,
        "created": _iso(result.scanned_created),
        "age_days": result.age_days,
        "caveat": result.caveat,
        "tag_digest": result.tag_digest,
    }
    outcome = {"current": Outcome.PASS, "behind": Outcome.WARN}.get(result.state, Outcome.UNKNOWN)
    summary = result.reason
    if result.age_days is not None:
        summary += f"; created {result.age_days} days ago"
    if result.caveat:
        summary += f" ({result.caveat})"
    return Evidence(Signal.FRESHNESS, outcome, summary, details)


def assess_freshness(
    image: Image, ref: ImageReference | None, client: RegistryClient, *, official: bool = False
) -> Evidence:
    """The freshness signal for ``image`` against ``ref``'s tag (see :func:`check_freshness`)."""
    return freshness_evidence(check_freshness(image, ref, client, official=official))


def _caveat(created: datetime | None) -> str | None:
    if created is None or created >= SOURCE_DATE_EPOCH_CUTOFF:
        return None
    return (
        "official images built before November 2025 set `created` from SOURCE_DATE_EPOCH, so the "
        "build may be newer than this date"
    )


def _days_between(older: datetime | None, newer: datetime | None) -> int | None:
    if older is None or newer is None:
        return None
    return max(0, (newer - older).days)


def _short(digest: str) -> str:
    return digest.split(":", 1)[-1][:12]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


__all__ = [
    "LOCAL_ONLY_REGISTRY",
    "CurrentImage",
    "ScannedCopy",
    "FreshnessResult",
    "assess_freshness",
    "check_freshness",
    "freshness_evidence",
    "resolve_current",
]
