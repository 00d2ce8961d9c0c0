"""Which base image an image was built on, and whether that base is official, supported, current.

Three sources, most explicit first: the ``org.opencontainers.image.base.*`` annotations BuildKit
writes, the base-image materials of a SLSA provenance attestation, and — when neither exists —
the layer chain: an image built ``FROM`` a base starts with exactly the base's diff_ids, so the
longest official candidate whose diff_ids prefix the image's is the base. Candidates come from the
image's OS (debian → library/debian …) and the official catalog's supported tags for that release;
their diff_ids are cached on disk by digest, so a second scan only sends ``HEAD`` requests.
A layer-chain match can only find bases that some tag still points at: an image on an old build
of its base matches nothing and is reported as unknown, with that explanation.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote

from imagetrust.assess.attestations import Attestations, Provenance
from imagetrust.assess.evidence import Evidence, Outcome, Signal
from imagetrust.assess.freshness import resolve_current
from imagetrust.assess.model import VulnSummary
from imagetrust.assess.official.store import OfficialLibrary
from imagetrust.atomic import write_atomic
from imagetrust.catalog.model import Catalog, OSInfo, Package
from imagetrust.errors import ImagetrustError
from imagetrust.image.model import Image, Platform
from imagetrust.oci import mediatypes as mt
from imagetrust.reference.parse import ImageReference, parse_reference

if TYPE_CHECKING:
    from imagetrust.source.registry.client import RegistryClient

Method = Literal["annotation", "provenance", "layers"]
BaseFreshness = Literal["current", "behind", "unknown"]
BaseStatus = Literal[
    "official-current", "official-behind", "unsupported", "unofficial", "none", "unknown"
]

OS_BASE_REPOSITORIES: dict[str, tuple[str, ...]] = {
    "debian": ("library/debian",),
    "ubuntu": ("library/ubuntu",),
    "alpine": ("library/alpine",),
    "fedora": ("library/fedora",),
    "centos": ("library/centos",),
    "rocky": ("library/rockylinux",),
    "almalinux": ("library/almalinux",),
    "amzn": ("library/amazonlinux",),
    "ol": ("library/oraclelinux",),
    "photon": ("library/photon",),
}
"""Official repositories whose images are the usual base for each os-release ID."""
MAX_CANDIDATE_TAGS = 16
CACHE_SUBDIR = "base-images"
_SKIP_MATERIALS = ("docker/dockerfile", "docker/buildkit-syft-scanner", "moby/buildkit")


@dataclass(frozen=True, slots=True)
class BaseImageResult:
    """The detected base and its own trust facts (``state`` unknown: no base could be found)."""

    state: Literal["detected", "none", "unknown"]
    """``none``: the image is itself a base image (an OS image built from scratch)."""
    reason: str
    method: Method | None = None
    reference: str | None = None
    """The base as a tag reference (``docker.io/library/debian:12``)."""
    digest: str | None = None
    """The digest the image was built on (from annotation/provenance, or the matching tag)."""
    layer_count: int | None = None
    """How many of the image's first layers are the base's (None: not verified)."""
    tags: tuple[str, ...] = ()
    """Every candidate tag that matched (aliases of one digest)."""
    official: bool | None = None
    tag_state: str = "unknown"
    """supported, unsupported or unknown (official-images library)."""
    freshness: BaseFreshness = "unknown"
    current_digest: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def status(self) -> BaseStatus:
        """The base's state as the verdict rules name it."""
        if self.state == "none":
            return "none"
        if self.state != "detected":
            return "unknown"
        if self.official is False:
            return "unofficial"
        if self.official is None:
            return "unknown"
        if self.tag_state == "unsupported":
            return "unsupported"
        if self.freshness == "behind":
            return "official-behind"
        if self.freshness == "current":
            return "official-current"
        return "unknown"


@dataclass(frozen=True, slots=True)
class _Resolved:
    digest: str
    manifest_digest: str
    diff_ids: tuple[str, ...]


@dataclass
class BaseFinder:
    """Resolves candidate bases through a registry client, with an on-disk diff_id cache."""

    client: RegistryClient
    cache_dir: Path | None = None
    notes: list[str] = field(default_factory=list)

    def resolve(self, ref: ImageReference, platform: Platform) -> _Resolved:
        """The diff_ids of ``ref`` (tag or digest) for ``platform``; cached by top digest."""
        if ref.digest is None:
            head = self.client.head_manifest(ref)
            digest = head.digest
        else:
            digest = ref.digest
        cached = self._load(digest, platform)
        if cached is not None:
            return cached
        current = resolve_current(ref.with_digest(None), digest, self.client, platform)
        resolved = _Resolved(digest, current.manifest_digest, current.config.diff_ids)
        self._store(resolved, platform)
        return resolved

    def _path(self, digest: str, platform: Platform) -> Path | None:
        if self.cache_dir is None:
            return None
        algorithm, _, hexdigest = digest.partition(":")
        name = f"{algorithm}-{hexdigest}-{str(platform).replace('/', '_')}.json"
        return self.cache_dir / CACHE_SUBDIR / name

    def _load(self, digest: str, platform: Platform) -> _Resolved | None:
        path = self._path(digest, platform)
        if path is None:
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data["digest"] != digest:
                return None
            return _Resolved(digest, str(data["manifest"]), tuple(str(d) for d in data["diff_ids"]))
        except (OSError, ValueError, KeyError, TypeError, RecursionError):
            return None  # absent or damaged: resolve again and rewrite

    def _store(self, resolved: _Resolved, platform: Platform) -> None:
        path = self._path(resolved.digest, platform)
        if path is None:
            return
        data = json.dumps(
            {"digest": resolved.digest, "manifest": resolved.manifest_digest,
             "diff_ids": list(resolved.diff_ids)}
        ).encode()
        with contextlib.suppress(OSError):  # a cache that cannot be written only costs time
            write_atomic(path, data)


def detect_base(
    image: Image,
    *,
    client: RegistryClient,
    official_library: OfficialLibrary | None,
    os_info: OSInfo | Callable[[], OSInfo | None] | None = None,
    attestations: Attestations | None = None,
    cache_dir: Path | None = None,
    ref: ImageReference | None = None,
) -> BaseImageResult:
    """Find ``image``'s base: annotations, then provenance, then the layer chain.

    ``os_info`` may be a callable so the (layer-reading) OS probe only runs when the layer chain
    is needed. ``ref`` is the image's own name: an official OS image has no base to find.
    """
    finder = BaseFinder(client, cache_dir)
    annotations = image.annotations
    name = annotations.get(mt.ANN_BASE_NAME)
    if name:
        result = _from_claim(
            image, finder, official_library, name, annotations.get(mt.ANN_BASE_DIGEST),
            "annotation",
        )
        if result is not None:
            return result
    for provenance in attestations.provenance if attestations else ():
        for text, digest in base_materials(provenance):
            result = _from_claim(image, finder, official_library, text, digest, "provenance")
            if result is not None and result.layer_count is not None:
                return result
    if ref is not None and ref.is_official_namespace and any(
        ref.repository in repos for repos in OS_BASE_REPOSITORIES.values()
    ):
        return BaseImageResult(
            "none", f"{ref.familiar.split(':')[0]} is itself an OS base image, built from scratch"
        )
    info = os_info() if callable(os_info) else os_info
    return _from_layers(image, finder, official_library, info)


def base_materials(provenance: Provenance) -> list[tuple[str, str | None]]:
    """(reference text, digest) of the image materials of a provenance, frontends skipped."""
    found: list[tuple[str, str | None]] = []
    for material in provenance.materials:
        text = _material_reference(material.uri)
        if text is None or text.split(":")[0].split("@")[0].endswith(_SKIP_MATERIALS):
            continue
        sha = material.digest.get("sha256")
        found.append((text, f"sha256:{sha}" if sha else None))
    return found


def _material_reference(uri: str) -> str | None:
    """``pkg:docker/debian@12?platform=…`` or ``docker-image://debian:12`` → ``debian:12``."""
    if uri.startswith("docker-image://"):
        return uri.removeprefix("docker-image://").split("?", 1)[0] or None
    if not uri.startswith("pkg:docker/"):
        return None
    body = uri.removeprefix("pkg:docker/").split("?", 1)[0].split("#", 1)[0]
    name, sep, version = body.partition("@")
    name, version = unquote(name), unquote(version)
    if not name:
        return None
    if sep and version.startswith("sha256:"):
        return f"{name}@{version}"
    return f"{name}:{version}" if sep and version else name


def _from_claim(
    image: Image,
    finder: BaseFinder,
    official_library: OfficialLibrary | None,
    name: str,
    digest: str | None,
    method: Method,
) -> BaseImageResult | None:
    """A base named by the image itself; its diff_ids are checked against the image's layers."""
    try:
        parsed = parse_reference(name)
    except ImagetrustError:
        return None
    if "@" in name and parsed.digest and digest is None:
        digest = parsed.digest
    ref = parsed.with_digest(None)
    where = "annotation" if method == "annotation" else "provenance attestation"
    notes: list[str] = []
    layer_count: int | None = None
    if digest is not None:
        try:
            built_on = finder.resolve(ref.with_digest(digest), image.platform)
            if _is_prefix(built_on.diff_ids, image.diff_ids):
                layer_count = len(built_on.diff_ids)
            else:
                notes.append(f"the {where} names {digest[:19]}…, but its layers are not this "
                             "image's first layers")
        except ImagetrustError as error:
            notes.append(f"could not read the base named by the {where}: {error}")
    result = BaseImageResult(
        "detected", f"{ref.familiar} (from the {where})", method, str(ref) if ref.tag else None,
        digest, layer_count, tags=(ref.tag,) if ref.tag else (), notes=tuple(notes),
    )
    return _status(result, ref, image, finder, official_library, built_digest=digest)


def _status(
    result: BaseImageResult,
    ref: ImageReference,
    image: Image,
    finder: BaseFinder,
    official_library: OfficialLibrary | None,
    *,
    built_digest: str | None,
) -> BaseImageResult:
    """Fill in official / supported tag / current-or-behind for a detected base."""
    official = official_library.is_official(ref) if official_library is not None else None
    tag_state = (
        official_library.tag_status(ref).state
        if official_library is not None and official
        else "unknown"
    )
    notes = list(result.notes)
    freshness: BaseFreshness = "unknown"
    current_digest: str | None = None
    if ref.tag is None:
        notes.append("the base is named without a tag, so its freshness cannot be told")
    else:
        try:
            current = finder.resolve(ref, image.platform)
            current_digest = current.digest
            if built_digest in (current.digest, current.manifest_digest) or _is_prefix(
                current.diff_ids, image.diff_ids
            ):
                freshness = "current"
            else:
                freshness = "behind"
        except ImagetrustError as error:
            notes.append(f"could not resolve {ref.familiar} now: {error}")
    return replace(
        result, official=official, tag_state=tag_state, freshness=freshness,
        current_digest=current_digest, notes=tuple(notes),
    )


def candidate_tags(library_tags: Sequence[str], os_info: OSInfo) -> list[str]:
    """Supported tags of the OS release: codename (``bookworm*``) or version (``12``, ``12.*``)."""
    keys = {k for k in (os_info.codename, os_info.version_id) if k}
    if os_info.version_id and os_info.id in ("alpine",):
        keys.add(".".join(os_info.version_id.split(".")[:2]))
    if os_info.version_id and "." in os_info.version_id and os_info.id == "debian":
        keys.add(os_info.version_id.split(".")[0])
    picked = [
        tag for tag in library_tags
        if any(tag == k or tag.startswith((f"{k}-", f"{k}.")) for k in keys)
    ]
    # exact names first: they are the tags people put in FROM
    picked.sort(key=lambda tag: tag not in keys)
    return picked[:MAX_CANDIDATE_TAGS]


def _from_layers(
    image: Image,
    finder: BaseFinder,
    official_library: OfficialLibrary | None,
    os_info: OSInfo | None,
) -> BaseImageResult:
    if os_info is None or os_info.id == "unknown":
        return BaseImageResult(
            "unknown", "no base-image annotation or provenance, and no OS to suggest candidates"
        )
    repositories = OS_BASE_REPOSITORIES.get(os_info.id, ())
    if not repositories or official_library is None:
        why = "no official-images catalog is loaded" if official_library is None else (
            f"no official repository is known for {os_info.id}"
        )
        return BaseImageResult(
            "unknown", f"no base-image annotation or provenance, and {why}"
        )
    best: tuple[ImageReference, _Resolved] | None = None
    aliases: dict[str, list[str]] = {}
    errors: list[str] = []
    for repository in repositories:
        library = official_library.lookup(repository)
        if library is None:
            continue
        for tag in candidate_tags(library.supported_tags(), os_info):
            ref = ImageReference("docker.io", repository, tag)
            try:
                resolved = finder.resolve(ref, image.platform)
            except ImagetrustError as error:
                errors.append(f"{ref.familiar}: {error}")
                continue
            diff_ids = resolved.diff_ids
            if tuple(diff_ids) == tuple(image.diff_ids):
                return BaseImageResult(
                    "none", f"this image is {ref.familiar} itself, an OS base image built from "
                    "scratch", tags=(tag,), digest=resolved.digest,
                )
            if len(diff_ids) < len(image.diff_ids) and _is_prefix(diff_ids, image.diff_ids):
                aliases.setdefault(resolved.digest, []).append(tag)
                if best is None or len(diff_ids) > len(best[1].diff_ids):
                    best = (ref, resolved)
    release = os_info.codename or os_info.version_id or ""
    if best is None:
        tried = ", ".join(f"{r.removeprefix('library/')}:{release}" for r in repositories)
        reason = (
            f"no current {tried} tag starts with this image's layers: the base is an older "
            "build (rebuild to pick up fixes) or not an official image"
        )
        if errors:
            reason += f" ({len(errors)} candidate tags could not be resolved)"
        return BaseImageResult("unknown", reason, notes=tuple(errors[:3]))
    ref, resolved = best
    tags = tuple(aliases[resolved.digest])
    result = BaseImageResult(
        "detected", f"{ref.familiar} (its layers are this image's first "
        f"{len(resolved.diff_ids)} of {len(image.diff_ids)})", "layers", str(ref),
        resolved.digest, len(resolved.diff_ids), tags=tags,
    )
    return _status(result, ref, image, finder, official_library, built_digest=resolved.digest)


def _is_prefix(prefix: Sequence[str], full: Sequence[str]) -> bool:
    return 0 < len(prefix) <= len(full) and tuple(full[: len(prefix)]) == tuple(prefix)


def split_by_base(
    catalog: Catalog, base_layer_count: int
) -> tuple[tuple[Package, ...], tuple[Package, ...]]:
    """(packages the base brought, packages the image's own layers added), by introducing layer.

    A package without a location counts as the image's own: it cannot be blamed on the base.
    """
    base: list[Package] = []
    own: list[Package] = []
    for package in catalog.packages:
        where = package.introduced_by
        (base if where is not None and where.layer_index < base_layer_count else own).append(
            package
        )
    return tuple(base), tuple(own)


def findings_share(
    summary: VulnSummary, catalog: Catalog, base_layer_count: int
) -> dict[str, Any]:
    """How many findings sit in packages the base brought versus the image's own layers."""
    base, _ = split_by_base(catalog, base_layer_count)
    base_names = {p.name for p in base}
    in_base = [f for f in summary if f.package_name in base_names]
    return {
        "findings_in_base": len(in_base),
        "findings_in_own_layers": len(summary) - len(in_base),
        "base_packages": len(base),
        "own_packages": len(catalog.packages) - len(base),
    }


def base_evidence(result: BaseImageResult, share: dict[str, Any] | None = None) -> Evidence:
    status = result.status
    outcome = {
        "official-current": Outcome.PASS,
        "none": Outcome.PASS,
        "official-behind": Outcome.WARN,
        "unsupported": Outcome.WARN,
        "unofficial": Outcome.WARN,
    }.get(status, Outcome.UNKNOWN)
    summary = result.reason
    if result.state == "detected":
        bits = []
        if result.official is not None:
            bits.append("official" if result.official else "not an official image")
        if result.official:
            bits.append(f"tag {result.tag_state}")
        if result.freshness != "unknown":
            bits.append("up to date" if result.freshness == "current" else "behind its tag")
        if bits:
            summary += ": " + ", ".join(bits)
    details: dict[str, Any] = {
        "state": result.state,
        "status": status,
        "method": result.method,
        "reference": result.reference,
        "digest": result.digest,
        "layer_count": result.layer_count,
        "tags": list(result.tags),
        "official": result.official,
        "tag_state": result.tag_state,
        "freshness": result.freshness,
        "current_digest": result.current_digest,
        "notes": list(result.notes),
    }
    if share:
        details.update(share)
    return Evidence(Signal.BASE_IMAGE, outcome, summary, details)
