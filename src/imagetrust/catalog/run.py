"""The catalog stage: read every layer once for all catalogers, then inventory the packages.

Each cataloger declares its files up front; the union of those requests goes to the layer reader
in a single pass, and every cataloger then works on the same merged tree. Packages found twice
(the same purl, e.g. a database reachable under two paths) are merged, and the output order is
deterministic so reports and SBOMs diff cleanly between runs.

A cataloger whose database path turned out to be a symlink names the paths it still needs
through an optional ``follow(files, asked)`` method; only then are the layers read again, for
just those paths (see :mod:`.links`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

from imagetrust.catalog.links import MAX_HOPS, glob_escape
from imagetrust.catalog.model import Catalog, Cataloger, CatalogSkip, Location, Package
from imagetrust.catalog.osrelease import OS_REQUEST, detect_os
from imagetrust.catalog.registry import default_catalogers, inventory_key
from imagetrust.catalog.spool import spooling_in
from imagetrust.errors import ImagetrustError
from imagetrust.image.files import FileRequest, FileTree
from imagetrust.image.model import Image
from imagetrust.source.interface import ImageSource

READER = "reader"
"""``CatalogSkip.cataloger`` for things the layer reader could not read."""


def catalog_image(
    source: ImageSource,
    image: Image,
    *,
    catalogers: Sequence[Cataloger] | None = None,
    cache_dir: Path | None = None,
) -> Catalog:
    """Inventory ``image``: one pass over its layers, then every cataloger on the merged tree."""
    from imagetrust.image.reader import read_files  # the image stage's reader, imported late

    chosen = list(catalogers) if catalogers is not None else default_catalogers()

    def read(requests: Sequence[FileRequest]) -> FileTree:
        if cache_dir is None:
            return read_files(source, image, requests)
        with spooling_in(cache_dir / "spool"):
            return read_files(source, image, requests, cache_dir=cache_dir,
                              cache_key=inventory_key(chosen))

    files = follow_links(read(collect_requests(chosen)), chosen, read)
    return catalog_files(files, chosen)


def follow_links(files: FileTree, catalogers: Sequence[Cataloger],
                 read: Callable[[Sequence[FileRequest]], FileTree]) -> FileTree:
    """Read the paths catalogers' ``follow`` methods still want (symlink targets), one more pass
    over the layers per hop, until nothing new is wanted; ``files`` grows by what is found."""
    asked: set[str] = set()
    for _ in range(MAX_HOPS):
        more: set[str] = set()
        for cataloger in catalogers:
            follow = getattr(cataloger, "follow", None)
            if callable(follow):
                more.update(follow(files, frozenset(asked)))
        more -= asked
        if not more:
            break
        asked |= more
        extra = read([FileRequest(tuple(glob_escape(p) for p in sorted(more)))])
        files = FileTree(MappingProxyType({**files.files, **extra.files}),
                         files.skips + extra.skips)
    return files


def collect_requests(catalogers: Sequence[Cataloger]) -> list[FileRequest]:
    """OS detection's request plus each cataloger's; a cataloger may offer several through an
    optional ``requests()`` method (files it wants with different size limits)."""
    requests = [OS_REQUEST]
    for cataloger in catalogers:
        many = getattr(cataloger, "requests", None)
        requests.extend(many() if callable(many) else (cataloger.request(),))
    return requests


def catalog_files(files: FileTree, catalogers: Sequence[Cataloger]) -> Catalog:
    """Detect the OS and run ``catalogers`` on an already merged tree."""
    os_info = detect_os(files)
    skips = [
        CatalogSkip(READER, skip.path, _reader_reason(skip.reason, skip.layer_index))
        for skip in files.skips
    ]
    found: list[Package] = []
    for cataloger in catalogers:
        try:
            packages, cataloger_skips = cataloger.catalog(files, os_info)
        except ImagetrustError as error:
            skips.append(CatalogSkip(cataloger.name, "", f"cataloger failed: {error}"))
            continue
        found.extend(packages)
        skips.extend(cataloger_skips)
    return Catalog(
        os=os_info,
        packages=tuple(sorted(_merge(found), key=_sort_key)),
        skips=tuple(sorted(set(skips), key=lambda s: (s.cataloger, s.path, s.reason))),
    )


def _reader_reason(reason: str, layer_index: int | None) -> str:
    return f"layer {layer_index}: {reason}" if layer_index is not None else reason


def _merge(packages: Sequence[Package]) -> list[Package]:
    """One package per (cataloger, purl); locations of duplicates are united."""
    merged: dict[tuple[str, str], Package] = {}
    for package in packages:
        key = (package.cataloger, package.purl)
        previous = merged.get(key)
        if previous is None:
            merged[key] = package
            continue
        locations = _unique(previous.locations + package.locations)
        licenses = tuple(sorted(set(previous.licenses) | set(package.licenses)))
        merged[key] = replace(previous, locations=locations, licenses=licenses)
    return list(merged.values())


def _unique(locations: tuple[Location, ...]) -> tuple[Location, ...]:
    return tuple(sorted(set(locations), key=lambda loc: (loc.layer_index, loc.path)))


def _sort_key(package: Package) -> tuple[str, str, str, str, str]:
    return (package.type, package.name, package.version, package.purl, package.cataloger)
