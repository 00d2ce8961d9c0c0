"""Resolve what a source points at into one platform :class:`Image`: index → manifest → config."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from imagetrust.errors import ManifestError
from imagetrust.image.manifest import Index, Manifest, parse_config, parse_manifest
from imagetrust.image.model import DEFAULT_PLATFORM, Descriptor, Image, Layer, Platform
from imagetrust.oci import mediatypes as mt
from imagetrust.source.interface import ImageSource

_MAX_NESTING = 4
_ARM_VARIANTS = {"v5": 5, "v6": 6, "v7": 7, "v8": 8}
_DEFAULT_VARIANT = {"arm64": "v8", "arm": "v7"}
_CONFIG_TYPES = frozenset({mt.OCI_CONFIG, mt.DOCKER_CONFIG})
_EMPTY: Mapping[str, str] = MappingProxyType({})


def _is_attestation(descriptor: Descriptor) -> bool:
    return descriptor.annotations.get(mt.ANN_DOCKER_REFERENCE_TYPE) == mt.ATTESTATION_MANIFEST


def _image_entries(index: Index) -> list[Descriptor]:
    return [
        d
        for d in index.manifests
        if not _is_attestation(d)
        and (d.media_type in mt.INDEX_TYPES | mt.MANIFEST_TYPES)
        and not (d.platform and d.platform.os == "unknown")
    ]


def _variant(platform: Platform) -> str | None:
    return platform.variant or _DEFAULT_VARIANT.get(platform.architecture)


def select_platform(entries: list[Descriptor], wanted: Platform, where: str) -> Descriptor:
    """Exact os/architecture; the same variant, else the best compatible one (arm v7 runs v6)."""
    candidates = [
        d for d in entries
        if d.platform and d.platform.os == wanted.os
        and d.platform.architecture == wanted.architecture
    ]
    if not candidates:
        untagged = [d for d in entries if d.platform is None]
        if len(entries) == 1 and untagged:
            return untagged[0]  # an index without platforms: take its only image
        available = ", ".join(sorted({str(d.platform) for d in entries if d.platform})) or "none"
        raise ManifestError(
            f"{where} has no image for platform {wanted}; available: {available}",
            hint="choose one of those with --platform",
        )
    want_variant = _variant(wanted)
    for entry in candidates:
        assert entry.platform is not None
        if _variant(entry.platform) == want_variant:
            return entry
    want_level = _ARM_VARIANTS.get(want_variant or "")
    if want_level is not None:
        compatible = [
            (level, d) for d in candidates
            if d.platform is not None
            and (level := _ARM_VARIANTS.get(_variant(d.platform) or "")) is not None
            and level <= want_level
        ]
        if compatible:
            return max(compatible, key=lambda pair: pair[0])[1]
    if wanted.variant is None:
        return candidates[0]
    available = ", ".join(sorted(str(d.platform) for d in candidates))
    raise ManifestError(
        f"{where} has no image for platform {wanted}; available: {available}",
        hint="choose one of those with --platform",
    )


def open_image(
    source: ImageSource, *, reference: str, platform: Platform = DEFAULT_PLATFORM
) -> Image:
    """Follow the source's root to the manifest for ``platform`` and parse it with its config."""
    document = parse_manifest(source.root())
    index: Index | None = None
    platforms: tuple[Platform, ...] = ()
    attestations: tuple[Descriptor, ...] = ()
    for _ in range(_MAX_NESTING):
        if isinstance(document, Manifest):
            break
        entries = _image_entries(document)
        if index is None:
            index = document
            platforms = tuple(dict.fromkeys(d.platform for d in entries if d.platform))
        chosen = select_platform(entries, platform, f"{reference} (index {document.digest})")
        attestations = tuple(
            d for d in document.manifests
            if _is_attestation(d) and d.annotations.get(mt.ANN_DOCKER_REFERENCE_DIGEST)
            == chosen.digest
        )
        document = parse_manifest(source.manifest(chosen))
    if not isinstance(document, Manifest):
        raise ManifestError(f"{reference}: indexes nested more than {_MAX_NESTING} deep")
    manifest = document

    if manifest.config.media_type not in _CONFIG_TYPES:
        raise ManifestError(
            f"{reference} is not a container image (config type {manifest.config.media_type})",
            hint="imagetrust scans container images, not other OCI artifacts",
        )
    config = parse_config(source.blob(manifest.config), manifest.config.digest)
    if len(config.diff_ids) != len(manifest.layers):
        raise ManifestError(
            f"{reference}: manifest {manifest.digest} lists {len(manifest.layers)} layers but its "
            f"config has {len(config.diff_ids)} diff_ids",
            hint="the image is malformed; rebuild or re-push it",
        )
    layers = tuple(
        Layer(index=i, digest=d.digest, diff_id=diff_id, size=d.size, media_type=d.media_type)
        for i, (d, diff_id) in enumerate(zip(manifest.layers, config.diff_ids, strict=True))
    )
    return Image(
        reference=reference,
        source_kind=source.kind,
        digest=None if source.kind == "dir" else manifest.digest,
        index_digest=index.digest if index else None,
        media_type=manifest.media_type,
        platform=Platform(config.os, config.architecture, config.variant),
        platforms=platforms,
        config=config,
        layers=layers,
        manifest_annotations=manifest.annotations,
        index_annotations=index.annotations if index else _EMPTY,
        repo_tags=source.repo_tags(),
        repo_digests=tuple(getattr(source, "repo_digests", ()) or ()),
        attestations=attestations,
    )
