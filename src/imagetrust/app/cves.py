"""``cves``: the vulnerabilities of an image's (or an SBOM's) packages, filtered for display.

The scan never drops a finding; ``rule`` only narrows what the document lists, and ``base``
splits findings by the layer that added each package (the base image's layers or the image's
own), which needs the base image found by annotation, provenance or layer chain. VEX statements
and exceptions are applied after the scan and before the filters; what they hide stays in the
document's ``suppressed``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Literal

from imagetrust.app.inventory import Inventory, opened_inventory, read_inventory, refuse_sbom
from imagetrust.app.runtime import Runtime, runtime_for
from imagetrust.config import Settings
from imagetrust.errors import UsageError
from imagetrust.image.session import OpenImage
from imagetrust.match.filters import FindingFilter, apply_filter
from imagetrust.policy.model import SuppressionInputs
from imagetrust.reference import Target, parse_target
from imagetrust.report.document import CvesDocument

BaseSplit = Literal["all", "only", "ignore"]
_SPLIT_HINT = "scan the image itself, or drop --only-base/--ignore-base"


def cves(
    target: str | Target,
    *,
    settings: Settings | None = None,
    runtime: Runtime | None = None,
    rule: FindingFilter | None = None,
    base: BaseSplit = "all",
    vex: Sequence[str | Path] = (),
    exceptions: str | Path | None = None,
    now: datetime | None = None,
    show_suppressed: bool = False,
) -> CvesDocument:
    """Scan ``target``, apply ``vex`` files and the ``exceptions`` file (expiry judged at
    ``now``, default the current time), and keep the findings ``rule`` and ``base`` select."""
    runtime = runtime_for(settings, runtime)
    if vex or exceptions is not None or now is not None:  # this call's own, on a copy
        runtime = replace(
            runtime,
            vex=(*runtime.vex, *(Path(v) for v in vex)),
            exceptions=Path(exceptions) if exceptions is not None else runtime.exceptions,
            now=now or runtime.now,
            _suppression=None,
        )
    # the given files plus the policy file's; bad files fail before any download or scan
    inputs = runtime.suppression()
    with runtime.scope():
        return _cves(target, runtime, rule or FindingFilter(), base, inputs, now,
                     show_suppressed)


def _cves(
    target: str | Target,
    runtime: Runtime,
    rule: FindingFilter,
    base: BaseSplit,
    inputs: SuppressionInputs,
    now: datetime | None,
    show_suppressed: bool,
) -> CvesDocument:
    parsed = parse_target(target) if isinstance(target, str) else target
    if base == "all":
        inventory = read_inventory(parsed, runtime.settings)
    else:
        refuse_sbom(parsed, _SPLIT_HINT)
        with opened_inventory(parsed, runtime.settings) as (opened, inventory):
            layers = frozenset(range(base_layer_count(opened, inventory, runtime)))
        rule = replace(
            rule,
            layers=layers if base == "only" else None,
            exclude_layers=layers if base == "ignore" else None,
        )
    return scan_document(
        inventory, runtime, rule, inputs, now=now, show_suppressed=show_suppressed
    )


def scan_document(
    inventory: Inventory,
    runtime: Runtime,
    rule: FindingFilter,
    inputs: SuppressionInputs | None = None,
    *,
    now: datetime | None = None,
    show_suppressed: bool = False,
) -> CvesDocument:
    """Scan an inventory, apply VEX and exceptions, then the filters: the ``cves`` document."""
    from imagetrust.app.scanning import scan_inventory

    result = scan_inventory(inventory.catalog, runtime, inventory.subject)
    if not inputs:  # nothing to suppress: the suppression machinery stays unloaded
        return CvesDocument(
            result, tuple(apply_filter(result.findings, rule)), inventory.copy,
            inventory.note, show_suppressed=show_suppressed,
        )
    from imagetrust.policy.suppress import suppress

    split = suppress(
        result.findings,
        image_ref=result.subject.reference,
        image_digest=result.subject.digest,
        vex=inputs.vex,
        exceptions=inputs.exceptions,
        now=now,
    )
    findings = tuple(apply_filter(split.kept, rule))
    suppressed = tuple(s for s in split.suppressed if rule.keep(s.finding))
    return CvesDocument(
        result, findings, inventory.copy, inventory.note,
        suppressed=suppressed, expired=split.expired, ended=split.ended,
        show_suppressed=show_suppressed,
    )


def base_layer_count(opened: OpenImage, inventory: Inventory, runtime: Runtime) -> int:
    """How many of the image's first layers are its base's, or a UsageError saying why not."""
    from imagetrust.app.library import cached_library
    from imagetrust.assess.base_image import detect_base
    from imagetrust.assess.check import tag_reference
    from imagetrust.source.registry.client import RegistryClient

    settings = runtime.settings
    ref, _ = tag_reference(opened.target, opened.image, None)
    with RegistryClient(settings) as client:
        found = detect_base(
            opened.image,
            client=client,
            official_library=cached_library(settings.cache_dir),
            os_info=inventory.catalog.os,
            cache_dir=settings.cache_dir,
            ref=ref,
        )
    if found.state == "detected" and found.layer_count:
        return found.layer_count
    why = found.reason if found.state != "detected" else "; ".join(found.notes) or found.reason
    if found.state == "none":
        why = f"it has no base: {why}"
    raise UsageError(
        f"cannot tell the base image of {opened.target}: {why}",
        hint="--only-base/--ignore-base need a base found by annotation, provenance or layer "
        "chain; drop them to see every finding",
    )
