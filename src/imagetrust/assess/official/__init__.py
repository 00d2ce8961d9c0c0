"""Docker Official Images: the official-images ``library/`` files, parsed and kept in the cache.

Names load on first use (PEP 562): reading the cached library needs only ``model`` and
``generations``, while ``download`` pulls in httpx, which costs every offline command start-up
time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from imagetrust.lazy import lazy_exports

if TYPE_CHECKING:
    from imagetrust.assess.official.download import DEFAULT_ARCHIVE_URL, update_library
    from imagetrust.assess.official.generations import (
        LibraryMissingError,
        LibraryUpdate,
        load_library,
    )
    from imagetrust.assess.official.importer import import_library
    from imagetrust.assess.official.library import (
        LibraryEntry,
        LibraryFile,
        LibraryParseError,
        bashbrew_arch,
        parse_library,
    )
    from imagetrust.assess.official.model import (
        LibraryMeta,
        OfficialLibrary,
        TagStatus,
        official_name,
    )

_HOMES = {
    "DEFAULT_ARCHIVE_URL": "download",
    "update_library": "download",
    "LibraryMissingError": "generations",
    "LibraryUpdate": "generations",
    "load_library": "generations",
    "import_library": "importer",
    "LibraryEntry": "library",
    "LibraryFile": "library",
    "LibraryParseError": "library",
    "bashbrew_arch": "library",
    "parse_library": "library",
    "LibraryMeta": "model",
    "OfficialLibrary": "model",
    "TagStatus": "model",
    "official_name": "model",
}


__getattr__ = lazy_exports(__name__, _HOMES)


__all__ = [
    "DEFAULT_ARCHIVE_URL",
    "LibraryMeta",
    "LibraryMissingError",
    "LibraryEntry",
    "LibraryFile",
    "LibraryParseError",
    "OfficialLibrary",
    "TagStatus",
    "LibraryUpdate",
    "bashbrew_arch",
    "import_library",
    "load_library",
    "official_name",
    "parse_library",
    "update_library",
]
