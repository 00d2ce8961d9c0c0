"""``recommend``: what to do about an image — refresh the same tag, or move to another one.

For a Docker Official Image the recommendation is about the image itself; for anyone's own
image it is about the base the image was detected to be built on (annotation, provenance or
layer chain), and the document says which and how. **Refresh**: the tag now points to another
digest; what pulling or rebuilding on it fixes and adds. **Update**: the other supported tags
of the repository (the official-images library; elsewhere the registry's tag list, newest
versions first), in the same variant family unless ``any_variant``, each really scanned, ranked
by :mod:`imagetrust.policy.ranking`. Every image is read through the per-layer cache and each
digest is scanned once per run, so shared base layers cost one read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from imagetrust.app.inventory import catalog_opened, opened_inventory
from imagetrust.app.runtime import Runtime, runtime_for
from imagetrust.app.scanning import scan_inventory, summarize
from imagetrust.assess.base_image import detect_base, split_by_base
from imagetrust.assess.check import tag_reference
from imagetrust.assess.lifecycle import Release, os_release, runtime_releases
from imagetrust.assess.model import VulnSummary
from imagetrust.assess.official import OfficialLibrary
from imagetrust.assess.variants import TagVariant, change, entry_variant, parse_tag, same_family
from imagetrust.catalog.model import Catalog
from imagetrust.config import Settings
from imagetrust.errors import ImagetrustError, UsageError
from imagetrust.image.model import Image
from imagetrust.match.model import ScanSubject
from imagetrust.policy.ranking import CandidateFacts, rank, recommended, why_first
from imagetrust.reference import ImageReference, parse_reference
from imagetrust.report.document import (
    Candidate,
    RecommendDocument,
    Refresh,
    ScannedTag,
    SeverityDelta,
)
from imagetrust.source.registry.client import RegistryClient
from imagetrust.source.registry.source import RegistrySource

DEFAULT_CANDIDATES = 8


def recommend(
    target: str,
    *,
    settings: Settings | None = None,
    runtime: Runtime | None = None,
    only: str | None = None,
    tag: str | None = None,
    any_variant: bool = False,
    limit: int = DEFAULT_CANDIDATES,
) -> RecommendDocument:
    """Refresh and update advice for ``target`` (``only``: ``refresh`` or ``update``; ``tag``:
    evaluate just that candidate tag of the repository)."""
    runtime = runtime_for(settings, runtime)
    if only not in (None, "refresh", "update"):
        raise UsageError(f"unknown --only {only!r}", hint="use refresh or update")
    with runtime.scope(), RegistryClient(runtime.settings) as client:
        return _Recommender(runtime, client, runtime.library(), any_variant, limit).run(
            target, only, tag
        )


def _delta(before: VulnSummary, after: VulnSummary) -> SeverityDelta:
    now = {f.key for f in after}
    then = {f.key for f in before}
    return SeverityDelta(
        tuple(f for f in before if f.key not in now),
        tuple(f for f in after if f.key not in then),
    )


def _os_text(catalog: Catalog) -> str | None:
    os_info = catalog.os
    if os_info is None:
        return None
    return f"{os_info.id} {os_info.version_id}" if os_info.version_id else os_info.id


def _os_version(scanned: ScannedTag) -> tuple[int, ...]:
    if not scanned.os or " " not in scanned.os:
        return ()
    digits = scanned.os.split(" ", 1)[1].split(".")
    return tuple(int(d) for d in digits if d.isdigit())


def _runtime_versions(scanned: ScannedTag) -> dict[str, tuple[int, ...]]:
    return {
        r.product: tuple(int(p) for p in r.cycle.split(".") if p.isdigit())
        for r in scanned.lifecycle if r.kind == "runtime"
    }


@dataclass
class _Recommender:
    runtime: Runtime
    client: RegistryClient
    library: OfficialLibrary | None
    any_variant: bool
    limit: int
    notes: list[str] = field(default_factory=list)
    _scanned: dict[str, ScannedTag] = field(default_factory=dict)
    _configs: dict[str, str] = field(default_factory=dict)
    """Scanned digest → its image's config digest (the content, whatever the manifest)."""

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    def run(self, target: str, only: str | None, tag: str | None) -> RecommendDocument:
        with opened_inventory(target, self.settings) as (opened, inventory):
            image = opened.image
            ref, _ = tag_reference(opened.target, image, None)
            subject, how, subject_digest, layers = self._subject(image, inventory.catalog, ref)
            own = self._scanned_of(
                subject.tag or "", str(subject), image, inventory.catalog, subject_digest
            ) if how == "the image itself" else None
            built_on = (image, inventory.catalog, layers)
        if subject.tag is None:
            raise UsageError(
                f"{subject.familiar} names no tag, so there is nothing to refresh or move from",
                hint="give the tag the image was pulled as",
            )
        current = own or self._baseline(subject, subject_digest, built_on)
        refresh = None if only == "update" else self._refresh(subject, current)
        candidates: tuple[Candidate, ...] = ()
        if only != "refresh" and current is not None:
            candidates = self._candidates(subject, current, tag)
        return RecommendDocument(
            str(opened.target), str(subject), how, current, refresh, candidates,
            tuple(self.notes),
        )

    # -- which repository and tag the advice is about ----------------------------------------

    def _subject(
        self, image: Image, catalog: Catalog, ref: ImageReference | None
    ) -> tuple[ImageReference, str, str | None, int | None]:
        """(repository:tag advised on, how it was chosen, its digest as used, base layers)."""
        if ref is not None and self.library is not None and self.library.is_official(ref) and (
            self.library.lookup(ref.repository) is not None
        ):
            return ref, "the image itself", image.index_digest or image.digest, None
        found = detect_base(
            image,
            client=self.client,
            official_library=self.library,
            os_info=catalog.os,
            cache_dir=self.settings.cache_dir,
            ref=ref,
        )
        if found.state == "detected" and found.reference:
            base = parse_reference(found.reference)
            how = f"base image ({found.method})"
            return base.with_digest(None), how, found.digest, found.layer_count
        if ref is None:
            raise UsageError(
                f"no base image was found for {image.reference} and it has no registry name "
                f"({found.reason})",
                hint="pass the image by its registry name, or build with a base annotation",
            )
        self.notes.append(f"no base image was detected ({found.reason}); advising on the "
                          "image's own repository")
        return ref, "the image itself", image.index_digest or image.digest, None

    # -- scanning, once per digest --------------------------------------------------------

    def _scanned_of(
        self, tag: str, reference: str, image: Image, catalog: Catalog, digest: str | None
    ) -> ScannedTag:
        key = digest or image.config.digest
        if key in self._scanned:  # another tag of the same image: scanned once, named as asked
            return replace(self._scanned[key], tag=tag, reference=reference)
        self._configs[key] = image.config.digest
        result = scan_inventory(catalog, self.runtime, ScanSubject(reference, image.digest))
        for warning in result.warnings:
            self.runtime.messages.warning(warning)
        created = image.config.created
        today = datetime.now(UTC)
        lifecycle: tuple[Release, ...] = (
            *((found,) if (found := os_release(catalog.os, today.date())) else ()),
            *runtime_releases(image.config.env_map, today.date()),
        )
        scanned = ScannedTag(
            tag=tag,
            reference=reference,
            digest=key,
            created=created,
            age_days=max(0, (today - created).days) if created else None,
            size=sum(layer.size for layer in image.layers),
            packages=len(catalog.packages),
            os=_os_text(catalog),
            lifecycle=lifecycle,
            vulnerabilities=summarize(result),
        )
        self._scanned[key] = scanned
        return scanned

    def _scan_ref(self, repository: ImageReference, tag: str, digest: str | None = None
                  ) -> ScannedTag:
        """Open ``repository:tag`` (at ``digest`` when given) from the registry and scan it."""
        tagged = repository.with_tag(tag).with_digest(None)
        top = digest or self.client.head_manifest(tagged).digest
        if top in self._scanned:
            return replace(self._scanned[top], tag=tag, reference=str(tagged.with_digest(top)))
        from imagetrust.image.open import open_image as resolve

        pinned = tagged.with_digest(top)
        source = RegistrySource(pinned, self.client, close_client=False)
        try:
            image = resolve(source, reference=str(pinned), platform=self.settings.platform)
            catalog = catalog_opened(source, image, self.settings)
        finally:
            source.close()
        return self._scanned_of(tag, str(pinned), image, catalog, top)

    def _baseline(
        self,
        subject: ImageReference,
        digest: str | None,
        built_on: tuple[Image, Catalog, int | None],
    ) -> ScannedTag | None:
        """The base as the image was built on it: the base's own digest from the registry when
        known, else the image's own first layers (they are the base's), else the tag now."""
        try:
            return self._scan_ref(subject, subject.tag or "latest", digest)
        except ImagetrustError as error:
            image, catalog, layers = built_on
            if not layers:
                self.notes.append(f"could not scan the base {subject.familiar}: {error}")
                return None
        base_packages, _ = split_by_base(catalog, layers)
        self.notes.append(
            f"the base {subject.familiar} at {digest or 'its build digest'} is not in the "
            f"registry; its packages were read from the image's own first {layers} layers"
        )
        base_image = replace(image, layers=image.layers[:layers])
        return self._scanned_of(
            subject.tag or "", str(subject.with_digest(digest)) if digest else str(subject),
            base_image, replace(catalog, packages=base_packages), digest or image.config.digest,
        )

    # -- refresh ---------------------------------------------------------------------------

    def _refresh(self, subject: ImageReference, current: ScannedTag | None) -> Refresh:
        tag = subject.familiar
        if current is None:
            return Refresh(tag, "unknown", "the current image could not be scanned", None)
        try:
            head = self.client.head_manifest(subject.with_digest(None))
        except ImagetrustError as error:
            return Refresh(tag, "unknown", f"could not resolve {tag} now: {error}",
                           current.digest)
        if head.digest == current.digest:
            return Refresh(tag, "current", f"{tag} still points at the image scanned",
                           current.digest)
        try:
            now = self._scan_ref(subject, subject.tag or "latest", head.digest)
        except ImagetrustError as error:
            return Refresh(tag, "unknown", f"could not scan what {tag} points to now: {error}",
                           current.digest)
        if self._configs.get(now.digest) == self._configs.get(current.digest):
            return Refresh(tag, "current", f"{tag} was republished, but its {self._platform()} "
                           "image is the one scanned", current.digest)
        delta = _delta(current.vulnerabilities, now.vulnerabilities)
        reason = (f"{tag} now points at {head.digest[:19]}: pulling or rebuilding fixes "
                  f"{len(delta.fixed)} and adds {len(delta.introduced)}")
        return Refresh(tag, "behind", reason, current.digest, now, delta)

    # -- update candidates -------------------------------------------------------------------

    def _tags(self, subject: ImageReference) -> tuple[list[TagVariant], bool]:
        """Candidate tags (one per official-images entry) and whether they come from the
        library."""
        library = self.library.lookup(subject.repository) if self.library else None
        if library is not None and self.library is not None and self.library.is_official(
            subject
        ):
            own = {t for e in library.entries_for_tag(subject.tag or "") for t in e.tags}
            return [entry_variant(e.tags) for e in library.entries
                    if e.tags and not own & set(e.tags) and e.has_architecture(self._arch())
                    ], True
        try:
            tags = self.client.list_tags(subject)
        except ImagetrustError as error:
            self.notes.append(f"could not list the tags of {subject.familiar}: {error}")
            return [], False
        return [parse_tag(t) for t in tags if t != subject.tag], False

    def _platform(self) -> str:
        return str(self.settings.platform)

    def _arch(self) -> str:
        from imagetrust.assess.official import bashbrew_arch

        return bashbrew_arch(self.settings.platform)

    def _choose(self, subject: ImageReference, current: ScannedTag,
                variants: list[TagVariant], official: bool) -> list[str]:
        mine = self._own_variant(subject)
        os_family = current.os.split(" ", 1)[0] if current.os else None
        if not self.any_variant:
            variants = [v for v in variants
                        if same_family(mine, v, default_os=os_family)]
        if not official:  # a registry's tag list: only newer versions, newest first
            variants = [v for v in variants if v.version and v.version > mine.version]
            variants.sort(key=lambda v: v.version, reverse=True)
        else:  # supported tags: nearest versions first, upgrades before downgrades

            def distance(v: TagVariant) -> tuple[int, tuple[int, ...]]:
                older = bool(v.version and mine.version and v.version < mine.version)
                return (int(older), tuple(abs(a - b) for a, b in zip(
                    v.version or (0,), mine.version or (0,), strict=False)))

            variants.sort(key=distance)
        return [v.tag for v in variants[: self.limit]]

    def _candidates(
        self, subject: ImageReference, current: ScannedTag, only_tag: str | None
    ) -> tuple[Candidate, ...]:
        variants, official = self._tags(subject)
        chosen = [only_tag] if only_tag else self._choose(subject, current, variants, official)
        supported_tags = self._supported(subject) if official else None
        facts: list[tuple[CandidateFacts, ScannedTag]] = []
        for tag in chosen:
            try:
                scanned = self._scan_ref(subject, tag)
            except ImagetrustError as error:
                self.notes.append(f"{subject.repository}:{tag} could not be scanned: {error}")
                continue
            facts.append((self._facts(subject, current, scanned, supported_tags), scanned))
        ordered = rank([f for f, _ in facts])
        by_tag = {f.tag: (f, s) for f, s in facts}
        result = []
        for index, item in enumerate(ordered):
            fact, scanned = by_tag[item.tag]
            nxt = ordered[index + 1] if index + 1 < len(ordered) else None
            result.append(Candidate(
                scanned=scanned,
                facts=fact,
                delta=_delta(current.vulnerabilities, scanned.vulnerabilities),
                package_delta=scanned.packages - current.packages,
                runtime_change=self._runtime_change(current, scanned),
                recommended=recommended(fact),
                why=why_first(fact, nxt) if nxt is not None else None,
            ))
        return tuple(result)

    def _own_variant(self, subject: ImageReference) -> TagVariant:
        """The subject tag's variant, from its whole library entry when it has one."""
        library = self.library.lookup(subject.repository) if self.library else None
        entries = library.entries_for_tag(subject.tag or "") if library else ()
        return entry_variant(entries[0].tags) if entries else parse_tag(subject.tag or "")

    def _supported(self, subject: ImageReference) -> set[str]:
        library = self.library.lookup(subject.repository) if self.library else None
        return set(library.supported_tags()) if library else set()

    def _facts(self, subject: ImageReference, current: ScannedTag, scanned: ScannedTag,
               supported: set[str] | None) -> CandidateFacts:
        mine, theirs = self._own_variant(subject), parse_tag(scanned.tag)
        runtimes = [r for r in scanned.lifecycle if r.kind == "runtime"]
        lts = any(r.lts for r in runtimes) if runtimes else any(r.lts for r in scanned.lifecycle)
        same_os = (current.os or "").split(" ")[0] == (scanned.os or "").split(" ")[0]
        fixable = sum(scanned.vulnerabilities.fixable_count(s) for s in ("critical", "high"))
        return CandidateFacts(
            tag=scanned.tag,
            supported=supported is None or scanned.tag in supported,
            end_of_life=any(r.ended for r in scanned.lifecycle),
            same_os_family=same_os,
            lts=lts,
            fixable_critical_high=fixable,
            version_change=change(mine.version, theirs.version),
            os_change=change(_os_version(current), _os_version(scanned)),
            size_delta=scanned.size - current.size,
        )

    @staticmethod
    def _runtime_change(current: ScannedTag, scanned: ScannedTag) -> str:
        old, new = _runtime_versions(current), _runtime_versions(scanned)
        changes = [change(old[name], new[name]) for name in old.keys() & new.keys()]
        order: list[Callable[[str], bool]] = [
            lambda c: c == "downgrade", lambda c: c == "major", lambda c: c == "minor",
            lambda c: c == "patch",
        ]
        for test in order:
            found = next((c for c in changes if test(c)), None)
            if found:
                return found
        return "none" if changes else "unknown"


__all__ = ["DEFAULT_CANDIDATES", "recommend"]

