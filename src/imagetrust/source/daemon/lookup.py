"""Find a registry reference among the daemon's images without trusting its name resolution.

Docker lists names in familiar form (``debian:12``), podman fully qualified
(``docker.io/library/debian:12``), and podman resolves a short name to ``localhost/`` first — so
asking the daemon for ``debian:12`` could return a locally built image. Instead every
``RepoTags`` / ``RepoDigests`` entry is normalised and compared with the normalised reference; a
podman ``localhost/`` name is only used when nothing matches exactly.
"""

from __future__ import annotations

from collections.abc import Iterable

from imagetrust.errors import ImagetrustError
from imagetrust.reference.parse import ImageReference, parse_reference
from imagetrust.source.daemon.client import DaemonClient
from imagetrust.source.daemon.model import ImageSummary, LocalImageInfo

PODMAN_LOCAL_REGISTRY = "localhost"


def _parsed(names: Iterable[str]) -> list[ImageReference]:
    out: list[ImageReference] = []
    for name in names:
        try:
            out.append(parse_reference(name))
        except ImagetrustError:
            continue  # "<none>" placeholders and names this grammar refuses
    return out


def podman_short_name(reference: ImageReference) -> ImageReference | None:
    """``docker.io/library/app:1`` → ``localhost/app:1`` (podman's home for short names)."""
    if not reference.is_docker_hub:
        return None
    repository = reference.repository.removeprefix("library/")
    return ImageReference(PODMAN_LOCAL_REGISTRY, repository, reference.tag, reference.digest)


def _matches(row: ImageSummary, wanted: ImageReference) -> bool:
    if wanted.digest is not None:
        return any(
            r.name == wanted.name and r.digest == wanted.digest
            for r in _parsed(row.repo_digests)
        )
    return any(r == wanted for r in _parsed(row.repo_tags))


def find_summary(
    rows: list[ImageSummary], reference: ImageReference, *, short_names: bool = True
) -> tuple[ImageSummary, ImageReference] | None:
    """The row holding ``reference`` (exact first, then podman's ``localhost/`` form)."""
    wanted = [reference]
    if short_names and (alias := podman_short_name(reference)) is not None:
        wanted.append(alias)
    for candidate in wanted:
        for row in rows:
            if _matches(row, candidate):
                return row, candidate
    return None


def find_local_image(
    client: DaemonClient, reference: ImageReference, *, short_names: bool = True
) -> tuple[LocalImageInfo, ImageReference] | None:
    """The local image for ``reference`` and the name it was found under, or None."""
    found = find_summary(client.list_images(), reference, short_names=short_names)
    if found is None:
        return None
    row, matched = found
    return client.inspect(row.image_id), matched


def resolve_name(client: DaemonClient, name: str) -> LocalImageInfo:
    """A user-given name, tag, digest reference or image ID → the local image (or NotFoundError).

    Names are matched by normalised reference first; anything else (image IDs, short IDs) is
    left to the daemon's own lookup.
    """
    try:
        reference: ImageReference | None = parse_reference(name)
    except ImagetrustError:
        reference = None
    if reference is not None:
        found = find_local_image(client, reference)
        if found is not None:
            return found[0]
    return client.inspect(name)
