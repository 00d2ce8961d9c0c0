"""What the local daemon says about an image, kept apart from the bytes of the image itself.

Freshness needs this: a tag's registry digest *now* is compared with every digest the daemon
recorded for the image when it was pulled (``RepoDigests``; podman may list several per name).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from imagetrust.errors import ImagetrustError
from imagetrust.oci.content import Platform
from imagetrust.reference.parse import ImageReference, parse_reference


def _parse(text: str) -> ImageReference | None:
    try:
        return parse_reference(text)
    except ImagetrustError:
        return None


@dataclass(frozen=True, slots=True)
class LocalImageInfo:
    """One image in the daemon's local cache."""

    image_id: str
    """``sha256:…`` as the daemon names it (the config digest for the classic image store)."""
    repo_tags: tuple[str, ...] = ()
    """Every name:tag pointing at the image, as the daemon spells them."""
    repo_digests: tuple[str, ...] = ()
    """Every ``name@sha256:…`` the image was pulled as; all kept, none is "the" digest."""
    created: dt.datetime | None = None
    """When the image was built (its config's ``created``), as the daemon reports it."""
    platform: Platform | None = None
    size: int | None = None

    def digests_for(self, reference: ImageReference) -> tuple[str, ...]:
        """Registry digests recorded for ``reference``'s repository (``sha256:…`` only)."""
        found: list[str] = []
        for entry in self.repo_digests:
            parsed = _parse(entry)
            if parsed is not None and parsed.digest and parsed.name == reference.name:
                found.append(parsed.digest)
        return tuple(dict.fromkeys(found))

    def is_current(self, reference: ImageReference, registry_digest: str) -> bool:
        """Whether the tag's digest in the registry now is one this image was pulled as."""
        return registry_digest in self.digests_for(reference)

    def tags_for(self, reference: ImageReference) -> tuple[str, ...]:
        """The daemon's names for this image that normalise to ``reference``."""
        return tuple(t for t in self.repo_tags if (p := _parse(t)) is not None and p == reference)


@dataclass(frozen=True, slots=True)
class ImageSummary:
    """A row of ``GET /images/json``."""

    image_id: str
    repo_tags: tuple[str, ...]
    repo_digests: tuple[str, ...]
    created: int
    """Unix seconds."""
    size: int
