"""The official-images library a verdict needs: loaded from the cache, fetched on first use.

A failed fetch is a warning, not an error: the verdict then says the publisher could not be
confirmed, which is true.
"""

from __future__ import annotations

import os
from pathlib import Path

from imagetrust.app.runtime import Messages
from imagetrust.assess.official import LibraryMissingError, OfficialLibrary, load_library
from imagetrust.config import Settings
from imagetrust.errors import ImagetrustError

LIBRARY_URL_ENV = "IMAGETRUST_CATALOG_URL"


def cached_library(cache_dir: Path) -> OfficialLibrary | None:
    """The library in the cache, or None when it was never fetched."""
    try:
        return load_library(cache_dir)
    except LibraryMissingError:
        return None


def official_library(
    settings: Settings, messages: Messages, *, fetch: bool = True
) -> OfficialLibrary | None:
    """The cached library; when there is none and ``fetch`` (and not offline), download it."""
    found = cached_library(settings.cache_dir)
    if found is not None or settings.offline or not fetch:
        return found
    from imagetrust.assess.official import DEFAULT_ARCHIVE_URL, update_library  # httpx: lazy

    url = os.environ.get(LIBRARY_URL_ENV) or DEFAULT_ARCHIVE_URL
    messages.note("fetching the official-images library (first use)")
    try:
        update_library(settings.cache_dir, url, insecure=settings.insecure_registries)
        return load_library(settings.cache_dir)
    except ImagetrustError as error:
        messages.warning(f"official-images library unavailable: {error}")
        return None


def library_of(official: OfficialLibrary | Path | None) -> OfficialLibrary | None:
    """A loaded library, or the one cached under a directory (None when absent)."""
    if official is None or isinstance(official, OfficialLibrary):
        return official
    return cached_library(official)
