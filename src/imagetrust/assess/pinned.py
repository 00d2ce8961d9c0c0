"""Which supported tags point to an image's digest today (digest-pinned and local images).

A digest pin says nothing about support: ``postgres@sha256:…`` may be what ``postgres:16`` was a
year ago. HEAD requests (which Docker Hub does not count as pulls) over the repository's supported
tags tell whether any tag still points to the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from imagetrust.assess.official.store import OfficialLibrary, official_name
from imagetrust.errors import ImagetrustError
from imagetrust.image.model import Image
from imagetrust.reference import ImageReference

if TYPE_CHECKING:
    from imagetrust.source.registry import RegistryClient

MAX_TAGS = 200
"""Upper bound on HEAD requests for one repository (the largest libraries list ~150 tags)."""


def image_digests(image: Image) -> frozenset[str]:
    """Registry digests the image is known by: its index, its manifest, and daemon RepoDigests."""
    digests = {d for d in (image.index_digest, image.digest) if d}
    digests.update(rd.rsplit("@", 1)[1] for rd in image.repo_digests if "@" in rd)
    return frozenset(digests)


def tags_at_digest(
    ref: ImageReference,
    digests: Iterable[str],
    official_library: OfficialLibrary,
    client: RegistryClient,
    *,
    workers: int = 8,
) -> tuple[str, ...] | None:
    """Supported tags of ``ref``'s official repository whose digest is one of ``digests``.

    None when it cannot be told (not an official repository, or every lookup failed).
    """
    name = official_name(ref)
    library = official_library.lookup(name) if name else None
    wanted = frozenset(digests)
    if library is None or not wanted:
        return None
    tags = library.supported_tags()[:MAX_TAGS]

    def head(tag: str) -> tuple[str, str | None]:
        try:
            return tag, client.head_manifest(ref.with_digest(None).with_tag(tag)).digest
        except ImagetrustError:
            return tag, None

    with ThreadPoolExecutor(max_workers=workers) as pool:
        answers = list(pool.map(head, tags))
    if all(digest is None for _, digest in answers):
        return None
    return tuple(tag for tag, digest in answers if digest in wanted)
