"""``check``: open, inventory, scan, assess and decide one image: the calibrated verdict.

The one place the ``check`` use case runs end to end. :func:`check_image` is the seam with every
part injectable (the library, Docker Hub, the scan, the clock); :func:`check` is what the CLI
calls: it loads the official-images library (fetched on first use), asks Docker Hub for
publisher badges and scans against the embedded database.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from imagetrust.app.inventory import catalog_opened
from imagetrust.app.library import library_of
from imagetrust.app.runtime import Runtime, runtime_for
from imagetrust.app.scanning import database_scan, scan_current
from imagetrust.assess.check import ScanOutcome, assess_image, tag_reference
from imagetrust.assess.freshness import CurrentImage
from imagetrust.assess.hub import HubClient
from imagetrust.assess.model import ScanFn, VulnSummary
from imagetrust.assess.official import OfficialLibrary
from imagetrust.config import Settings
from imagetrust.errors import ImagetrustError
from imagetrust.image.model import Image, Platform
from imagetrust.image.session import open_image
from imagetrust.policy.check import CheckResult, decide_assessment
from imagetrust.reference import ImageReference, Target
from imagetrust.report.document import CheckDocument
from imagetrust.source.interface import ImageSource
from imagetrust.source.registry.client import RegistryClient
from imagetrust.source.registry.source import RegistrySource


def check(
    target: str | Target,
    *,
    settings: Settings | None = None,
    runtime: Runtime | None = None,
    scan: bool = True,
    tag: str | ImageReference | None = None,
    platform: Platform | None = None,
    show_suppressed: bool = False,
) -> CheckDocument:
    """The verdict on ``target`` with every signal's evidence (``scan`` False: no CVE scan)."""
    runtime = runtime_for(settings, runtime)
    runtime.suppression()  # bad VEX or exceptions files fail before any download
    with runtime.scope():
        library = runtime.library()
    document = check_document(
        target,
        runtime=runtime,
        official=library,
        hub_client=HubClient.from_settings(runtime.settings),
        scan=database_scan(runtime) if scan else None,
        tag=tag,
        platform=platform,
        now=runtime.now,  # the clock exceptions expire by also dates lifecycles and age
    )
    return replace(document, show_suppressed=show_suppressed)


def check_image(
    target: str | Target,
    *,
    settings: Settings,
    official: OfficialLibrary | Path | None = None,
    hub_client: HubClient | None = None,
    scan: ScanFn | None = None,
    tag: str | ImageReference | None = None,
    platform: Platform | None = None,
    now: datetime | None = None,
) -> CheckResult:
    """Assess and decide ``target`` with injected parts; see :func:`check_document`."""
    return check_document(
        target, runtime=Runtime(settings), official=official, hub_client=hub_client,
        scan=scan, tag=tag, platform=platform, now=now,
    ).result


def check_document(
    target: str | Target,
    *,
    runtime: Runtime,
    official: OfficialLibrary | Path | None = None,
    hub_client: HubClient | None = None,
    scan: ScanFn | None = None,
    tag: str | ImageReference | None = None,
    platform: Platform | None = None,
    now: datetime | None = None,
) -> CheckDocument:
    """Open ``target`` once, inventory and scan it (when ``scan`` is given), assess every
    signal and decide.

    ``official`` is the loaded library or the cache directory holding it; ``tag`` names the
    registry tag a local image tracks when its archive does not record one; when the image is
    behind its tag, the tag's current image is scanned too (what pulling would fix).
    """
    settings = runtime.settings
    library = library_of(official)
    with runtime.scope(), open_image(
        target, settings=settings, platform=platform
    ) as opened, ExitStack() as stack:
        image, source = opened.image, opened.source
        ref, ref_origin = tag_reference(opened.target, image, tag)
        if isinstance(source, RegistrySource):
            client = source.client
        else:
            client = stack.enter_context(RegistryClient(settings))
        outcome = _scan(source, image, settings, scan) if scan is not None else None

        def rescan(current: CurrentImage, wanted: Platform) -> VulnSummary:
            assert scan is not None
            return scan_current(current, wanted, client, settings, scan)

        assessment = assess_image(
            image,
            source,
            ref=ref,
            ref_origin=ref_origin,
            client=client,
            settings=settings,
            library=library,
            hub_client=hub_client,
            scan=outcome,
            rescan=rescan if scan is not None else None,
            local=opened.local,
            now=now,
        )
        decided = decide_assessment(assessment, runtime.policy())
        return CheckDocument(decided, opened.copy, opened.note)


def _scan(source: ImageSource, image: Image, settings: Settings, scan: ScanFn) -> ScanOutcome:
    """Inventory then scan; a failure of either is the vulnerability signal's reason."""
    try:
        catalog = catalog_opened(source, image, settings)
    except ImagetrustError as error:
        return ScanOutcome(None, None, f"the package inventory failed ({error})")
    try:
        return ScanOutcome(VulnSummary.of(scan(source, image, catalog)), catalog)
    except ImagetrustError as error:
        return ScanOutcome(None, catalog, str(error))
