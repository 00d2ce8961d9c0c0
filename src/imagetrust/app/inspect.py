"""``inspect``: an image's manifest, config and layers, without reading layers."""

from __future__ import annotations

from imagetrust.app.runtime import runtime_for
from imagetrust.config import Settings
from imagetrust.image.model import Image, Platform
from imagetrust.image.session import open_image
from imagetrust.reference import Target
from imagetrust.report.document import InspectDocument


def inspect(
    target: str | Target,
    *,
    settings: Settings | None = None,
    platform: Platform | None = None,
    source_mode: str | None = None,
) -> InspectDocument:
    """The image model of ``target``, which copy was read and the registry's pull limits."""
    runtime = runtime_for(settings)
    with runtime.scope(), open_image(
        target, settings=runtime.settings, platform=platform, source_mode=source_mode
    ) as opened:
        return InspectDocument(
            opened.image, opened.copy, opened.origin, opened.local,
            opened.ratelimit_remaining, opened.note,
        )


def inspect_image(
    target: str | Target, *, settings: Settings | None = None, platform: Platform | None = None
) -> Image:
    """Just the image model (manifest, config, layers) of ``target``."""
    return inspect(target, settings=settings, platform=platform).image
