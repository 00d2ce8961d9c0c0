"""``compare``: what changed from image A to image B, and why a tag was rebuilt.

Both images are opened and inventoried once each (through the layer cache, so a second compare
reads nothing), scanned against the same database, and diffed by the assess stage: packages
ordered by their own version scheme, findings fixed and introduced, config, layers and base.
When A and B are two builds of one tag (or B is what A's tag points to now, ``to_latest``),
the rebuild is explained from the evidence both builds offer.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass

from imagetrust.app.inventory import Inventory, opened_inventory, refuse_sbom
from imagetrust.app.runtime import Runtime, runtime_for
from imagetrust.assess.base_image import BaseImageResult, detect_base
from imagetrust.assess.check import tag_reference
from imagetrust.assess.diff import diff_config, diff_findings, diff_layers, diff_packages
from imagetrust.assess.official import OfficialLibrary, official_name
from imagetrust.assess.official.library import bashbrew_arch
from imagetrust.assess.rebuild import RebuildInputs, explain_rebuild, source_revision
from imagetrust.config import Settings
from imagetrust.errors import UsageError
from imagetrust.image.model import Platform
from imagetrust.image.session import OpenImage
from imagetrust.match.filters import FindingFilter, apply_filter
from imagetrust.match.model import Finding
from imagetrust.reference import ImageReference, Target, parse_target
from imagetrust.report.document import CompareDocument, CompareSide

_BASE_HINT = (
    "--ignore-base needs each image's base found by annotation, provenance or layer chain; "
    "drop it to see every change"
)


@dataclass(frozen=True, slots=True)
class CompareOptions:
    """What to compare and what to show."""

    to_latest: bool = False
    """B is what A's tag points to now (B must not be given)."""
    tag: str | None = None
    """The registry tag local archives/layouts were built as (both sides)."""
    rule: FindingFilter = FindingFilter()
    ignore_base: bool = False
    scan: bool = True
    platform: Platform | None = None


def compare(
    a: str | Target,
    b: str | Target | None = None,
    *,
    settings: Settings | None = None,
    runtime: Runtime | None = None,
    options: CompareOptions | None = None,
) -> CompareDocument:
    """Compare image ``a`` (before) with ``b`` (after), or with its tag now (``to_latest``)."""
    runtime = runtime_for(settings, runtime)
    options = options or CompareOptions()
    with runtime.scope():
        return _compare(a, b, runtime, options)


def _compare(
    a: str | Target, b: str | Target | None, runtime: Runtime, options: CompareOptions
) -> CompareDocument:
    settings = runtime.settings
    target_a = parse_target(a) if isinstance(a, str) else a
    refuse_sbom(target_a, "compare reads layers and configs: give the image itself")
    with ExitStack() as stack:
        opened_a, inventory_a = stack.enter_context(
            opened_inventory(target_a, settings, platform=options.platform)
        )
        ref_a, _ = tag_reference(opened_a.target, opened_a.image, options.tag)
        target_b, settings_b = _after(b, ref_a, settings, options)
        refuse_sbom(target_b, "compare reads layers and configs: give the image itself")
        opened_b, inventory_b = stack.enter_context(
            opened_inventory(target_b, settings_b, platform=opened_a.image.platform)
        )
        ref_b, _ = tag_reference(opened_b.target, opened_b.image, options.tag)
        library = runtime.library(fetch=False)
        bases = _bases(runtime, library, (opened_a, inventory_a, ref_a),
                       (opened_b, inventory_b, ref_b))
        counts = _base_counts(bases, (opened_a, opened_b), options.ignore_base)
        packages = diff_packages(
            inventory_a.catalog, inventory_b.catalog,
            base_layers_before=counts[0], base_layers_after=counts[1],
        )
        findings = None
        coverage: tuple[str | None, str | None] = (None, None)
        if options.scan:
            found_a, cov_a = _scan(inventory_a, runtime, options.rule)
            found_b, cov_b = _scan(inventory_b, runtime, options.rule)
            coverage = (cov_a, cov_b)
            findings = diff_findings(
                found_a, found_b, base_layers_before=counts[0], base_layers_after=counts[1]
            )
        layers = diff_layers(opened_a.image, opened_b.image)
        config = diff_config(opened_a.image, opened_b.image)
        rebuild, rebuild_note = None, None
        same_tag = _same_tag(ref_a, ref_b, options.to_latest)
        if same_tag is None:
            rebuild_note = (
                "A and B are not known as two builds of one tag, so no rebuild is explained "
                "(give --tag for local copies, or use --to-latest)"
            )
        else:
            library_commit, library_note = _library_commit(library, same_tag, opened_b)
            rebuild = explain_rebuild(RebuildInputs(
                same_tag.familiar, opened_a.image.config.digest, opened_b.image.config.digest,
                packages, layers, config, bases[0], bases[1],
                source_revision(opened_a.image), source_revision(opened_b.image),
                library_commit, library_note,
            ))
        if options.ignore_base:
            packages = packages.without_base()
            findings = findings.without_base() if findings is not None else None
        return CompareDocument(
            before=_side(opened_a, inventory_a, ref_a, coverage[0]),
            after=_side(opened_b, inventory_b, ref_b, coverage[1]),
            packages=packages,
            findings=findings,
            config=config,
            layers=layers,
            base_before=bases[0],
            base_after=bases[1],
            rebuild=rebuild,
            rebuild_note=rebuild_note,
            filters={
                "ignore_base": options.ignore_base,
                "only_fixed": options.rule.only_fixed,
                "only_severity": sorted(options.rule.severities or ()),
            },
            to_latest=options.to_latest,
        )


def _after(
    b: str | Target | None,
    ref_a: ImageReference | None,
    settings: Settings,
    options: CompareOptions,
) -> tuple[Target, Settings]:
    if not options.to_latest:
        if b is None:
            raise UsageError("compare needs two images", hint="give IMAGE_B, or --to-latest")
        return (parse_target(b) if isinstance(b, str) else b), settings
    if b is not None:
        raise UsageError(
            "--to-latest compares A with what its tag points to now: give one image",
            hint="drop IMAGE_B or --to-latest",
        )
    if ref_a is None or ref_a.tag is None:
        raise UsageError(
            "--to-latest needs A's registry tag, and none is known",
            hint="give --tag NAME:TAG for a local archive or layout, or a NAME:TAG@sha256:… "
            "reference",
        )
    return ref_a.with_digest(None), settings.with_overrides(source_mode="registry")


Side = tuple[OpenImage, Inventory, ImageReference | None]


def _bases(
    runtime: Runtime, library: OfficialLibrary | None, *sides: Side
) -> tuple[BaseImageResult | None, BaseImageResult | None]:
    """Each image's base; offline, none is looked up (detection asks the registry)."""
    settings = runtime.settings
    if settings.offline:
        return None, None
    from imagetrust.source.registry.client import RegistryClient

    found: list[BaseImageResult | None] = []
    with RegistryClient(settings) as client:
        for opened, inventory, ref in sides:
            found.append(detect_base(
                opened.image, client=client, official_library=library,
                os_info=inventory.catalog.os, cache_dir=settings.cache_dir, ref=ref,
            ))
    return found[0], found[1]


def _base_counts(
    bases: tuple[BaseImageResult | None, BaseImageResult | None],
    opened: tuple[OpenImage, OpenImage],
    required: bool,
) -> tuple[int | None, int | None]:
    counts: list[int | None] = []
    for base, image in zip(bases, opened, strict=True):
        if base is not None and base.state == "detected" and base.layer_count:
            counts.append(base.layer_count)
            continue
        if base is not None and base.state == "none":
            counts.append(len(image.image.layers))  # an OS image: all of it is the base
            continue
        if required:
            why = "offline, so not looked up" if base is None else (
                "; ".join(base.notes) or base.reason
            )
            raise UsageError(f"cannot tell the base image of {image.target}: {why}",
                             hint=_BASE_HINT)
        counts.append(None)
    return counts[0], counts[1]


def _scan(
    inventory: Inventory, runtime: Runtime, rule: FindingFilter
) -> tuple[tuple[Finding, ...], str]:
    from imagetrust.app.scanning import scan_inventory

    result = scan_inventory(inventory.catalog, runtime, inventory.subject)
    for warning in result.warnings:
        runtime.messages.warning(warning)
    return tuple(apply_filter(result.findings, rule)), result.coverage.state


def _same_tag(
    a: ImageReference | None, b: ImageReference | None, to_latest: bool
) -> ImageReference | None:
    """The tag both are builds of (None when they are not known to be)."""
    if a is None or a.tag is None:
        return None
    if to_latest or (b is not None and b.with_digest(None) == a.with_digest(None)):
        return a.with_digest(None)
    return None


def _library_commit(
    library: OfficialLibrary | None, ref: ImageReference, opened: OpenImage
) -> tuple[str | None, str | None]:
    if library is None:
        return None, "no official-images library is cached (imagetrust catalog update)"
    name = official_name(ref)
    parsed = library.lookup(name) if name is not None and library.is_official(ref) else None
    if parsed is None or ref.tag is None:
        return None, f"{ref.familiar} is not a Docker Official Image"
    arch = bashbrew_arch(opened.image.platform)
    commit = parsed.git_commit_for(ref.tag, arch)
    if commit is None:
        return None, f"the library does not build {ref.familiar} for {arch}"
    return commit, None


def _side(
    opened: OpenImage, inventory: Inventory, ref: ImageReference | None, coverage: str | None
) -> CompareSide:
    image = opened.image
    return CompareSide(
        reference=str(opened.target),
        digest=image.digest,
        index_digest=image.index_digest,
        config_digest=image.config.digest,
        platform=str(image.platform),
        created=image.config.created,
        tag=str(ref.with_digest(None)) if ref is not None and ref.tag else None,
        os=inventory.catalog.os.pretty_name if inventory.catalog.os else None,
        packages=len(inventory.catalog.packages),
        copy=opened.copy,
        note=opened.note,
        scan_coverage=coverage,
    )


__all__ = ["CompareOptions", "compare"]
