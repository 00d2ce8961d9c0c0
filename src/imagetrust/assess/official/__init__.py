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
    CatalogMeta,
    CatalogMissingError,
    OfficialCatalog,
    TagStatus,
    UpdateResult,
    import_catalog,
    load_catalog,
    official_name,
    update_catalog,
)

__all__ = [
    "DEFAULT_ARCHIVE_URL",
    "CatalogMeta",
    "CatalogMissingError",
    "LibraryEntry",
    "LibraryFile",
    "LibraryParseError",
    "OfficialCatalog",
    "TagStatus",
    "UpdateResult",
    "bashbrew_arch",
    "import_catalog",
    "load_catalog",
    "official_name",
    "parse_library",
    "update_catalog",
]
