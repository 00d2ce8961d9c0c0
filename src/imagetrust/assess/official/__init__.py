"""Docker Official Images: the official-images ``library/`` files, parsed and kept in the cache."""

from imagetrust.assess.official.library import (
    LibraryEntry,
    LibraryFile,
    LibraryParseError,
    bashbrew_arch,
    parse_library,
)
from imagetrust.assess.official.store import (
    DEFAULT_ARCHIVE_URL,
    LibraryMeta,
    LibraryMissingError,
    OfficialLibrary,
    TagStatus,
    UpdateResult,
    import_library,
    load_library,
    official_name,
    update_library,
)

__all__ = [
    "DEFAULT_ARCHIVE_URL",
    "LibraryMeta",
    "LibraryMissingError",
    "LibraryEntry",
    "LibraryFile",
    "LibraryParseError",
    "OfficialLibrary",
    "TagStatus",
    "UpdateResult",
    "bashbrew_arch",
    "import_library",
    "load_library",
    "official_name",
    "parse_library",
    "update_library",
]
